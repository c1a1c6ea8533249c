"""e2e_example_configs: the example cluster's config files and systemd unit
(scripts/example-cluster/, scripts/raftlockd.service) are what raftlockd
reads: `raftlockd --config FILE --check-config` accepts each and prints the
settings it would run with. Starts no node."""

import os
import subprocess
import tempfile

import harness

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
EXAMPLES = os.path.join(ROOT, "scripts", "example-cluster")


def check(*args):
    out = subprocess.run([harness.raftlockd_path(), "--check-config"] + list(args),
                         capture_output=True, text=True, timeout=30)
    settings = {}
    for line in out.stdout.splitlines():
        k, _, v = line.partition(" = ")
        settings[k] = v
    return out.returncode, settings, out.stderr


class ExampleConfigs(harness.unittest.TestCase):
    def test_three_host_files(self):
        initial = set()
        for i in (1, 2, 3):
            path = os.path.join(EXAMPLES, "node%d.conf" % i)
            rc, s, err = check("--config", path)
            self.assertEqual(rc, 0, "%s: %s" % (path, err))
            self.assertEqual(s["id"], str(i))
            self.assertEqual(s["listen-http"], "10.0.0.%d:8080" % i)
            self.assertEqual(s["listen-peer"], "10.0.0.%d:7080" % i)
            self.assertEqual(s["data-dir"], "/var/lib/raftlock")
            self.assertEqual(s["cluster-name"], "prod-locks")
            initial.add(s["initial-cluster"])
        self.assertEqual(initial, {"1=10.0.0.1:7080,2=10.0.0.2:7080,3=10.0.0.3:7080"},
                         "every founder names the same --initial-cluster")

    def test_flags_override_and_errors(self):
        path = os.path.join(EXAMPLES, "node2.conf")
        rc, s, err = check("--config", path, "--log-level", "debug", "--data-dir", "/tmp/x")
        self.assertEqual(rc, 0, err)
        self.assertEqual((s["log-level"], s["data-dir"]), ("debug", "/tmp/x"))
        self.assertEqual(s["sync-threads"], "2")
        rc, s, err = check("--config", path, "--sync-threads", "0")
        self.assertEqual((rc, s.get("sync-threads")), (0, "0"), err)
        rc, _, err = check("--config", path, "--sync-threads", "9")
        self.assertEqual(rc, 2)
        self.assertIn("--sync-threads must be between 0 and 8", err)
        with tempfile.TemporaryDirectory() as d:
            bad = os.path.join(d, "bad.conf")
            with open(bad, "w") as f:
                f.write("id = 4\nlisten-htp = 10.0.0.4:8080\n")
            rc, _, err = check("--config", bad)
            self.assertEqual(rc, 2)
            self.assertIn("listen-htp", err)
            joiner = os.path.join(d, "join.conf")
            with open(joiner, "w") as f:
                f.write("# a replacement node\nid = 4\njoin = true\n"
                        "listen-http = 10.0.0.4:8080\nlisten-peer = 10.0.0.4:7080\n")
            rc, s, err = check("--config", joiner)
            self.assertEqual(rc, 0, err)
            self.assertEqual((s["id"], s.get("join")), ("4", "true"))
            self.assertNotIn("initial-cluster", s)
            rc, _, err = check("--config", os.path.join(d, "missing.conf"))
            self.assertEqual(rc, 2)

    def test_systemd_unit(self):
        with open(os.path.join(ROOT, "scripts", "raftlockd.service")) as f:
            keys = {}
            for line in f:
                line = line.strip()
                if line and not line.startswith(("#", "[")):
                    k, _, v = line.partition("=")
                    keys.setdefault(k, []).append(v)
        self.assertEqual(keys["Type"], ["simple"])
        self.assertEqual(keys["User"], ["raftlock"])
        self.assertEqual(keys["Restart"], ["on-failure"])
        self.assertIn("--config /etc/raftlock/raftlockd.conf", keys["ExecStart"][0])
        self.assertTrue(int(keys["LimitNOFILE"][0]) >= 4096)
        self.assertIn("/var/lib/raftlock", keys["ReadWritePaths"][0])
        self.assertEqual(keys["ProtectSystem"], ["strict"])


if __name__ == "__main__":
    harness.main()
