"""e2e_ctl_lock: `raftlockctl lock` runs a command under a lock.

- two concurrent runs of a script that appends start/end markers never
  overlap, and their fencing tokens only grow;
- killing the cluster leader mid-run breaks neither the run nor the mutual
  exclusion;
- a lost session (closed from outside, or keepalives that cannot get through)
  stops the command and raftlockctl exits 76;
- --wait-ms gives up with 75; the command's exit status is passed through.
"""

import os
import signal
import subprocess
import threading
import time

import harness
from harness import log, try_http, wait_until

EXIT_NOT_ACQUIRED = 75
EXIT_LOST = 76

# Appends "start ID TOKEN", sleeps, appends "end ID" (no overlap means the
# file alternates start/end of the same ID).
MARKER_SCRIPT = ('echo "start $1 $RAFTLOCK_FENCING_TOKEN $RAFTLOCK_LOCK" >> "$2"; '
                 'sleep "$3"; echo "end $1" >> "$2"')


def marker_cmd(ident, path, seconds):
    return ["sh", "-c", MARKER_SCRIPT, "sh", str(ident), path, str(seconds)]


def read_text(path):
    if not os.path.exists(path):
        return ""
    with open(path) as f:
        return f.read()


def check_no_overlap(test, path, expected_runs):
    with open(path) as f:
        lines = [l.split() for l in f.read().splitlines()]
    test.assertEqual(len(lines), 2 * expected_runs, lines)
    last_token = 0
    for i in range(0, len(lines), 2):
        start, end = lines[i], lines[i + 1]
        test.assertEqual(start[0], "start", lines)
        test.assertEqual(end, ["end", start[1]], "overlap at line %d: %s" % (i, lines))
        token = int(start[2])
        test.assertGreater(token, last_token, "fencing tokens must grow: %s" % lines)
        last_token = token
    return lines


class CtlLock(harness.ClusterTestCase):
    def run_workers(self, c, path, workers, runs_each, seconds, ttl_ms, during=None):
        """`workers` threads, each running `raftlockctl lock` `runs_each`
        times in a row; returns the exit codes. `during()` runs meanwhile."""
        codes = []
        lock = threading.Lock()

        def worker(w):
            for r in range(runs_each):
                p = harness.start_ctl(
                    ["lock", "work", "--ttl-ms", str(ttl_ms), "--",
                     *marker_cmd("%d.%d" % (w, r), path, seconds)], c.endpoints())
                rc = p.wait(60)
                with lock:
                    codes.append(rc)

        threads = [threading.Thread(target=worker, args=(w,)) for w in range(workers)]
        for t in threads:
            t.start()
        if during:
            during()
        for t in threads:
            t.join(90)
        return codes

    def test_two_runs_never_overlap(self):
        c = self.new_cluster(3, name="ctllock").start()
        path = os.path.join(c.dir, "markers.txt")
        codes = self.run_workers(c, path, workers=2, runs_each=3, seconds=0.2, ttl_ms=5000)
        self.assertEqual(codes, [0] * 6)
        check_no_overlap(self, path, 6)

    def test_leader_killed_mid_run(self):
        c = self.new_cluster(3, name="ctllockkill").start()
        path = os.path.join(c.dir, "markers.txt")

        def kill_leader():
            wait_until(lambda: os.path.exists(path) and os.path.getsize(path) > 0, 20,
                       what="the first run to start")
            leader = c.wait_leader()
            log("killing leader node %d mid-run" % leader.id)
            leader.kill9()

        codes = self.run_workers(c, path, workers=2, runs_each=1, seconds=2.5, ttl_ms=5000,
                                 during=kill_leader)
        self.assertEqual(codes, [0, 0])
        check_no_overlap(self, path, 2)

    def test_session_closed_from_outside(self):
        c = self.new_cluster(3, name="ctllost").start()
        path = os.path.join(c.dir, "child.txt")
        script = ('trap \'echo term >> "$1"; exit 143\' TERM; echo started >> "$1"; '
                  'sleep 60 & wait')
        p = harness.start_ctl(["lock", "doomed", "--ttl-ms", "3000", "--kill-grace-ms", "1000",
                               "--", "sh", "-c", script, "sh", path], c.endpoints())
        wait_until(lambda: "started" in read_text(path), 15,
                   what="the command to start")
        node = c.alive_nodes()[0]
        st, _, b = node.get("/v1/locks/doomed")
        self.assertEqual(st, 200, b)
        session = b["holders"][0]["session"]
        st, _, b = node.delete("/v1/sessions/" + session)
        self.assertEqual(st, 200, b)
        t0 = time.monotonic()
        rc = p.wait(15)
        log("raftlockctl exited %s %.2f s after the session was closed" % (rc, time.monotonic() - t0))
        self.assertEqual(rc, EXIT_LOST)
        self.assertIn("term", read_text(path))

    def test_keepalives_blocked(self):
        c = self.new_cluster(3, name="ctlblocked").start()
        path = os.path.join(c.dir, "child.txt")
        p = harness.start_ctl(["lock", "cutoff", "--ttl-ms", "2000", "--kill-grace-ms", "500",
                               "--", "sh", "-c", 'echo started >> "$1"; exec sleep 60', "sh",
                               path], c.endpoints())
        wait_until(lambda: "started" in read_text(path), 15,
                   what="the command to start")
        # Freeze every node: no keepalive can succeed, so the lease runs out.
        nodes = c.alive_nodes()
        for n in nodes:
            n.send_signal(signal.SIGSTOP)
        t0 = time.monotonic()
        try:
            rc = p.wait(15)
            elapsed = time.monotonic() - t0
        finally:
            for n in nodes:
                n.send_signal(signal.SIGCONT)
        log("raftlockctl exited %s %.2f s after the cluster froze" % (rc, elapsed))
        self.assertEqual(rc, EXIT_LOST)
        self.assertLess(elapsed, 2.0 + 0.5 + 2.0)

    def test_wait_ms_and_exit_status(self):
        c = self.new_cluster(3, name="ctlwait").start()
        eps = c.endpoints()
        # The command's status and environment come through.
        out = subprocess.run([harness.raftlockctl_path(), "--endpoints", eps, "lock", "env",
                              "--", "sh", "-c",
                              'echo "$RAFTLOCK_LOCK $RAFTLOCK_FENCING_TOKEN $RAFTLOCK_SESSION"; '
                              'exit 3'], capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 3, out.stderr)
        name, token, session = out.stdout.split()
        self.assertEqual(name, "env")
        self.assertGreater(int(token), 0)
        self.assertEqual(len(session), 16)
        # The session was closed afterwards.
        st, _, b = c.alive_nodes()[0].get("/v1/sessions")
        self.assertNotIn(session, [s["session"] for s in b["sessions"]])

        # Held by someone else: --wait-ms gives up with 75.
        holder = c.create_session()
        st, _, b = c.alive_nodes()[0].post("/v1/locks/busy/acquire", {"session": holder})
        self.assertEqual(st, 200, b)
        t0 = time.monotonic()
        rc = subprocess.run([harness.raftlockctl_path(), "--endpoints", eps, "lock", "busy",
                             "--wait-ms", "700", "--", "true"], timeout=30).returncode
        self.assertEqual(rc, EXIT_NOT_ACQUIRED)
        self.assertGreaterEqual(time.monotonic() - t0, 0.7)
        # Freed while a second raftlockctl waits: it gets the lock.
        p = harness.start_ctl(["lock", "busy", "--", "true"], eps)
        time.sleep(0.5)
        self.assertIsNone(p.poll())
        c.alive_nodes()[0].post("/v1/locks/busy/release", {"session": holder})
        self.assertEqual(p.wait(15), 0)
        # A command that does not exist: 127.
        rc = subprocess.run([harness.raftlockctl_path(), "--endpoints", eps, "lock", "x", "--",
                             "/nonexistent/cmd"], timeout=30).returncode
        self.assertEqual(rc, 127)


if __name__ == "__main__":
    harness.main()
