"""e2e_backup_restore: docs/operations.md, "Backup" and "Restore".

A backup is taken from a running follower while writes go on. It is then
restored two ways: as a new member seeded from it (it rejoins and catches
up), and, after the whole cluster is lost, as a new one-node cluster that
answers the sessions, locks and elections that existed at backup time,
grants fencing tokens above every earlier one, and grows back to three."""

import os
import re
import signal
import subprocess
import threading
import time

import harness
from harness import wait_until

GAP = 1000000  # --restore-index-gap's default


def raftlockd(*args):
    out = subprocess.run([harness.raftlockd_path()] + list(args), capture_output=True, text=True,
                         timeout=60)
    return out.returncode, out.stdout, out.stderr


class Writer(threading.Thread):
    """Creates sessions w-0, w-1, ... one after the other (each acknowledged
    before the next starts), each taking lock w.<i>."""

    def __init__(self, cluster):
        super().__init__(daemon=True)
        self.c = cluster
        self.stop = threading.Event()
        self.acked = []  # (name, session id, token), in order

    def run(self):
        i = 0
        while not self.stop.is_set():
            name = "w-%d" % i
            sid = self.c.create_session(name=name)
            node = self.c.alive_nodes()[i % len(self.c.alive_nodes())]
            st, _, b = harness.try_http(node.http, "POST", "/v1/locks/w.%d/acquire" % i,
                                        {"session": sid}, timeout=5)
            assert st == 200, (st, b)
            self.acked.append((name, sid, b["fencing_token"]))
            i += 1


class BackupRestore(harness.ClusterTestCase):
    def test_backup_while_writing_then_restore(self):
        c = self.new_cluster(3, name="backup", extra_args=["--snapshot-entries", "200"]).start()
        leader = c.wait_leader()
        # State that exists before the backup.
        s1 = c.create_session(name="holder")
        s2 = c.create_session(name="waiter")
        st, _, g = leader.post("/v1/locks/db.main/acquire", {"session": s1})
        self.assertEqual(st, 200, g)
        st, _, sem = leader.post("/v1/locks/pool/acquire", {"session": s2, "limit": 3})
        self.assertEqual(st, 200, sem)
        st, _, e = leader.post("/v1/elections/primary/campaign", {"session": s2, "value": "10.0.0.7"})
        self.assertEqual(st, 200, e)
        source = [n for n in c.alive_nodes() if n is not leader][0]
        c.wait_caught_up(source)

        writer = Writer(c)
        writer.start()
        wait_until(lambda: len(writer.acked) >= 20, 20, what="writes before the backup")
        # The tables are written at most 50 ms behind the applies
        # (docs/service.md): a backup holds what was applied before that.
        time.sleep(0.3)
        backup = os.path.join(c.dir, "backup.db")
        t0 = time.monotonic()
        rc, backup_out, err = raftlockd("--data-dir", source.data_dir, "--backup-to", backup)
        harness.log("backup took %.2f s: %s" % (time.monotonic() - t0, backup_out.strip()))
        self.assertEqual(rc, 0, err)
        self.assertIn("written to " + backup, backup_out)
        n_at_backup = len(writer.acked)
        wait_until(lambda: len(writer.acked) >= n_at_backup + 20, 20, what="writes after the backup")
        writer.stop.set()
        writer.join(30)
        self.assertFalse(writer.is_alive())
        self.assertTrue(os.path.isfile(backup))
        self.assertFalse(os.path.exists(backup + "-wal"), "the backup is one self-contained file")
        # Refusals: an existing file is not overwritten.
        rc, _, err = raftlockd("--data-dir", source.data_dir, "--backup-to", backup)
        self.assertEqual(rc, 1)
        self.assertIn("exists", err)

        # --- Restore 1: a new member seeded from the backup ------------------
        seeded_dir = os.path.join(c.dir, "node4")
        rc, out, err = raftlockd("--restore-from", backup, "--data-dir", seeded_dir, "--id",
                                 str(source.id), "--join")
        self.assertEqual(rc, 1, "an id that is a member in the backup is refused: %s" % out)
        self.assertIn("new --id", err)
        rc, out, err = raftlockd("--restore-from", backup, "--data-dir", seeded_dir, "--id", "4",
                                 "--join")
        self.assertEqual(rc, 0, err)
        harness.log(out.strip())
        rc, _, err = raftlockd("--restore-from", backup, "--data-dir", seeded_dir, "--id", "4",
                               "--join")
        self.assertEqual(rc, 1, "a data dir with a database is never overwritten")
        n4 = c.add_joiner(4)
        st, _, b = leader.post("/v1/cluster/members", {"id": 4, "peer": n4.peer, "http": n4.http})
        self.assertEqual(st, 201, b)
        c.wait_caught_up(n4)
        self.assert_has_sessions(c, n4, [sid for _, sid, _ in writer.acked] + [s1, s2],
                                 " (seeded from a backup)")
        wait_until(lambda: 4 in [m["id"] for m in leader.get("/v1/cluster/members")[2]["members"]
                                 if m["voter"]], 10, what="node 4 a voter")
        last_token = max(t for _, _, t in writer.acked)
        last_index = max(int(n.status()["commit_index"]) for n in c.alive_nodes())

        # --- Disaster: every node is lost --------------------------------------
        for n in c.alive_nodes():
            n.kill9()

        # --- Restore 2: a one-node cluster from the backup, then grow ----------
        r = self.new_cluster(3, name="restored")
        n1 = harness.Node(r, 1, harness.free_port(), harness.free_port(),
                          os.path.join(r.dir, "node1"), os.path.join(r.dir, "node1.log"), r.common)
        r.nodes[1] = n1
        rc, out, err = raftlockd("--restore-from", backup, "--id", "1", "--data-dir", n1.data_dir,
                                 "--listen-http", n1.http, "--listen-peer", n1.peer)
        self.assertEqual(rc, 0, err)
        harness.log(out.strip())
        n1.start().wait_serving()
        self.assertEqual(r.wait_leader(timeout=10).id, 1)

        # The state at backup time: fixed objects exactly, writer sessions a prefix.
        st, _, b = n1.get("/v1/locks/db.main")
        self.assertEqual([(h["session"], h["fencing_token"]) for h in b["holders"]],
                         [(s1, g["fencing_token"])])
        st, _, b = n1.get("/v1/locks/pool")
        self.assertEqual((b["limit"], [h["session"] for h in b["holders"]]), (3, [s2]))
        st, _, b = n1.get("/v1/elections/primary")
        self.assertEqual((b["leader"]["session"], b["leader"]["value"], b["leader"]["term"]),
                         (s2, "10.0.0.7", e["term"]))
        # Writer i's grant is entry token_i: in the backup exactly when
        # token_i <= the backup's applied index; its sessions form a prefix.
        applied = int(re.search(r"applied index (\d+)", backup_out).group(1))
        have = r.stale_session_ids(n1)
        present = [sid in have for _, sid, _ in writer.acked]
        k = present.index(False) if False in present else len(present)
        self.assertEqual(present, [True] * k + [False] * (len(present) - k),
                         "restored writer sessions are a prefix of the acknowledged ones")
        self.assertLess(k, len(writer.acked), "writes after the backup are not in it")
        for name, sid, token in writer.acked:
            st, _, b = n1.get("/v1/locks/w.%s" % name[2:])
            holders = [(h["session"], h["fencing_token"]) for h in b["holders"]]
            self.assertEqual(holders, [(sid, token)] if token <= applied else [], name)
            if token <= applied:
                self.assertIn(sid, have, name)
        in_backup = sum(1 for _, _, t in writer.acked if t <= applied)
        self.assertGreaterEqual(in_backup, 15)
        harness.log("restored %d of %d writer sessions, %d of their locks (backup at index %d)"
                    % (k, len(writer.acked), in_backup, applied))
        # Restored sessions live on (a full TTL of grace, then keepalives).
        st, _, b = n1.post("/v1/sessions/%s/keepalive" % s1)
        self.assertEqual(st, 200, b)
        # New grants are fenced above everything the lost cluster granted.
        st, _, b = n1.post("/v1/locks/w.%d/acquire" % (len(writer.acked) - 1), {"session": s1})
        self.assertEqual(st, 200, b)
        self.assertGreater(b["fencing_token"], last_token)
        self.assertGreater(b["fencing_token"], last_index)
        st, _, b = n1.get("/v1/cluster/members")
        self.assertEqual([(m["id"], m["peer"], m["voter"]) for m in b["members"]],
                         [(1, n1.peer, True)])

        # Grow back to three; the restored state is replicated.
        for i in (2, 3):
            n = r.add_joiner(i)
            st, _, b = n1.post("/v1/cluster/members", {"id": i, "peer": n.peer, "http": n.http})
            self.assertEqual(st, 201, b)
            wait_until(lambda: i in [m["id"] for m in n1.get("/v1/cluster/members")[2]["members"]
                                     if m["voter"]], 10, what="node %d a voter" % i)
        n1.kill9()
        new_leader = r.wait_leader(timeout=10)
        st, _, b = new_leader.get("/v1/locks/db.main")
        self.assertEqual([h["session"] for h in b["holders"]], [s1])
        self.assertEqual(sorted(new_leader.status()["voters"]), [1, 2, 3])

    def test_restore_refusals(self):
        d = harness.tempfile.mkdtemp(prefix="raftlock-restore-")
        try:
            rc, _, err = raftlockd("--restore-from", os.path.join(d, "none.db"), "--data-dir",
                                   os.path.join(d, "x"))
            self.assertEqual(rc, 1)
            self.assertIn("no file", err)
            junk = os.path.join(d, "junk.db")
            with open(junk, "wb") as f:
                f.write(b"not a database at all" * 100)
            rc, _, err = raftlockd("--restore-from", junk, "--data-dir", os.path.join(d, "x"))
            self.assertEqual(rc, 1, err)
            rc, _, err = raftlockd("--data-dir", os.path.join(d, "empty"), "--backup-to",
                                   os.path.join(d, "b.db"))
            self.assertEqual(rc, 1)
            self.assertIn("no database", err)
            rc, _, err = raftlockd("--backup-to", "a", "--restore-from", "b")
            self.assertEqual(rc, 2)
        finally:
            harness.shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    harness.main()
