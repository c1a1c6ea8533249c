"""e2e_ctl_elect: `raftlockctl elect` runs a command on exactly one of its
instances; when the leading raftlockctl is killed with SIGKILL (so its
keepalives stop), another instance takes over within the session TTL plus
the fail-over time. Prints a FIGURE line with that take-over time.
`raftlockctl observe` sees both leaders."""

import json
import os
import signal
import time

import harness
from harness import log, wait_until

TTL_MS = 2000


def leader_lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [l.split() for l in f.read().splitlines() if l.startswith("leader ")]


class CtlElect(harness.ClusterTestCase):
    def test_one_runs_then_takeover(self):
        c = self.new_cluster(3, name="ctlelect").start()
        eps = c.endpoints()
        path = os.path.join(c.dir, "leaders.txt")
        observe_out = open(os.path.join(c.dir, "observe.txt"), "w+")
        self.addCleanup(observe_out.close)
        observer = harness.start_ctl(["observe", "primary"], eps, stdout=observe_out)
        script = 'echo "leader $RAFTLOCK_ELECTION_VALUE $RAFTLOCK_ELECTION_TERM" >> "$1"; ' \
                 'exec sleep 600'
        procs = {}
        for i in range(3):
            procs[str(i)] = harness.start_ctl(
                ["elect", "primary", "--value", str(i), "--ttl-ms", str(TTL_MS), "--",
                 "sh", "-c", script, "sh", path], eps)
        wait_until(lambda: leader_lines(path), 20, what="a first leader")
        time.sleep(1.0)  # nobody else may start meanwhile
        lines = leader_lines(path)
        self.assertEqual(len(lines), 1, lines)
        first, first_term = lines[0][1], int(lines[0][2])
        log("instance %s leads (term %d)" % (first, first_term))
        for name, p in procs.items():
            self.assertIsNone(p.poll(), "instance %s exited early" % name)

        # The election as the API sees it.
        st, _, b = c.alive_nodes()[0].get("/v1/elections/primary")
        self.assertEqual(st, 200, b)
        self.assertEqual(b["leader"]["value"], first)
        self.assertEqual(b["candidates"], 2)

        t0 = time.monotonic()
        os.kill(procs[first].pid, signal.SIGKILL)
        procs[first].wait(5)
        wait_until(lambda: len(leader_lines(path)) >= 2, TTL_MS / 1000 + 10,
                   interval=0.01, what="a second leader")
        takeover = time.monotonic() - t0
        lines = leader_lines(path)
        second, second_term = lines[1][1], int(lines[1][2])
        print("FIGURE ctl_elect take-over after kill -9 of the leading raftlockctl: %.2f s "
              "(session ttl %d ms)" % (takeover, TTL_MS), flush=True)
        self.assertNotEqual(second, first)
        self.assertGreater(second_term, first_term)
        self.assertLess(takeover, TTL_MS / 1000 + 2.0)

        time.sleep(1.0)
        self.assertEqual(len(leader_lines(path)), 2, leader_lines(path))

        # The observer saw the first leader, then the second one (possibly
        # with a leaderless moment between).
        def observed():
            observe_out.seek(0)
            values = [json.loads(l)["leader"] for l in observe_out.read().splitlines()]
            return [v["value"] for v in values if v] if len(values) >= 2 else None
        seen = wait_until(lambda: (observed() or [])[-1:] == [second] and observed(), 10,
                          what="observe to report the new leader")
        self.assertEqual(seen[0], first, seen)
        self.assertEqual(seen[-1], second, seen)

        # SIGTERM reaches the commands: the leader's command dies of it
        # (143), a waiting candidate ends with 128 + SIGTERM as well.
        for name, p in procs.items():
            if name != first:
                p.send_signal(signal.SIGTERM)
        for name, p in procs.items():
            if name != first:
                self.assertEqual(p.wait(10), 128 + signal.SIGTERM, "instance %s" % name)
        observer.send_signal(signal.SIGINT)
        self.assertEqual(observer.wait(10), 0)
        st, _, b = c.alive_nodes()[0].get("/v1/elections/primary")
        self.assertIsNone(b["leader"], b)


if __name__ == "__main__":
    harness.main()
