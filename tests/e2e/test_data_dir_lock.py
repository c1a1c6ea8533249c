"""e2e_data_dir_lock: one raftlockd per data dir. A second process on a data
dir in use is refused before it opens the database, naming the holder's pid;
the running node is undisturbed; after kill -9 of the holder the data dir is
free again at once (the kernel drops the lock with the process)."""

import subprocess

import harness
from harness import log


class DataDirLock(harness.ClusterTestCase):
    def test_second_process_refused(self):
        c = self.new_cluster(1, name="ddlock").start()
        n1 = c.nodes[1]
        sid = c.create_session(node=n1, name="before")
        out = subprocess.run(
            [harness.raftlockd_path(), "--id", "1", "--data-dir", n1.data_dir,
             "--listen-http", "127.0.0.1:%d" % harness.free_port(),
             "--listen-peer", "127.0.0.1:%d" % harness.free_port()],
            capture_output=True, text=True, timeout=20)
        log("second process: rc %d, %s" % (out.returncode, out.stderr.strip()))
        self.assertEqual(out.returncode, 1)
        self.assertIn("in use by another raftlockd (pid %d)" % n1.proc.pid, out.stderr)

        # The node that holds the data dir goes on serving, its state intact.
        st, _, b = n1.get("/v1/sessions/" + sid)
        self.assertEqual(st, 200, b)
        c.create_session(node=n1, name="after")

        # kill -9 leaves no stale lock: the restart takes the data dir.
        n1.kill9()
        n1.start().wait_serving()
        c.wait_leader()
        st, _, b = n1.get("/v1/sessions/" + sid)
        self.assertEqual(st, 200, b)


if __name__ == "__main__":
    harness.main()
