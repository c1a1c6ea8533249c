"""e2e_full_restart: acknowledged sessions and lock grants survive kill -9 of
every node (the state machine writes its rows behind the applies: the
restarted nodes apply the rest again from their logs)."""

import time

import harness
from harness import log

N_SESSIONS = 40


class FullRestart(harness.ClusterTestCase):
    def test_full_restart(self):
        self.full_restart(self.new_cluster(3, name="restart"))

    def test_full_restart_with_local_snapshots(self):
        # Each node compacts its own log every 20 entries: recovery reads a
        # snapshot plus a log suffix.
        self.full_restart(self.new_cluster(3, name="restart-snap", extra_args=["--snapshot-entries", "20"]))

    def full_restart(self, c):
        c.start()
        nodes = list(c.nodes.values())
        acked = []
        for k in range(N_SESSIONS):
            acked.append(c.create_session(node=nodes[k % 3], name="s%d" % k))
        log("%d sessions acknowledged" % len(acked))
        # Each session takes its lock, releases it and takes it again (the
        # row changes three times, well within one write-behind interval),
        # and takes and releases a second one.
        tokens = {}
        for k, sid in enumerate(acked):
            node = nodes[k % 3]
            for name in ("own-%d" % k, "own-%d" % k, "gone-%d" % k):
                st, _, g = node.post("/v1/locks/%s/acquire" % name, {"session": sid})
                self.assertEqual(st, 200, g)
                if name.startswith("gone") or name not in tokens:
                    st, _, r = node.post("/v1/locks/%s/release" % name,
                                         {"session": sid, "fencing_token": g["fencing_token"]})
                    self.assertEqual(st, 200, r)
                tokens[name] = g["fencing_token"]

        # No wait, no flush: kill -9 every node right after the last answer.
        for n in nodes:
            n.kill9()
        t0 = time.monotonic()
        for n in nodes:
            n.start()
        for n in nodes:
            n.wait_serving()
        leader = c.wait_leader()
        log("leader node %d after %.2f s" % (leader.id, time.monotonic() - t0))

        for n in nodes:
            for sid in acked:
                st, _, b = n.get("/v1/sessions/" + sid)
                self.assertEqual(st, 200, "GET /v1/sessions/%s on %r after full restart: %s %s"
                                 % (sid, n, st, b))
                self.assertEqual(b["session"], sid)
            for k, sid in enumerate(acked):
                st, _, b = n.get("/v1/locks/own-%d?consistency=stale" % k)
                self.assertEqual(st, 200, b)
                self.assertEqual([(h["session"], h["fencing_token"]) for h in b["holders"]],
                                 [(sid, tokens["own-%d" % k])], "own-%d on %r" % (k, n))
                st, _, b = n.get("/v1/locks/gone-%d?consistency=stale" % k)
                self.assertEqual(b.get("holders", []), [], "gone-%d on %r: %s" % (k, n, b))
        # The names survived too, and the cluster takes writes again.
        st, _, b = leader.get("/v1/sessions")
        self.assertEqual(st, 200, b)
        names = {s["session"]: s["name"] for s in b["sessions"]}
        for k, sid in enumerate(acked):
            self.assertEqual(names.get(sid), "s%d" % k)
        c.create_session(node=nodes[0])


if __name__ == "__main__":
    harness.main()
