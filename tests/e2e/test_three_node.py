"""e2e_three_node: election, headers, forwarding, fail-over and catch-up."""

import time

import harness
from harness import LONG_TTL_MS, log, try_http, wait_until

HEADERS = ("x-raft-term", "x-raft-leader", "x-raftlock-index")


class ThreeNode(harness.ClusterTestCase):
    def assert_raft_headers(self, node, method, path, body=None, leader_id=None):
        st, hs, b = harness.http(node.http, method, path, body=body)
        for h in HEADERS:
            self.assertIn(h, hs, "%s %s on %r (%s) lacks %s: %s" % (method, path, node, st, h, hs))
        self.assertTrue(hs["x-raft-term"].isdigit(), hs)
        self.assertTrue(hs["x-raftlock-index"].isdigit(), hs)
        if leader_id is not None:
            self.assertEqual(hs["x-raft-leader"], str(leader_id), (method, path, node, hs))
        return st, hs, b

    def test_three_node(self):
        c = self.new_cluster(3, name="three")
        t0 = time.monotonic()
        c.start()
        leader = c.wait_leader()
        log("leader elected: node %d after %.2f s" % (leader.id, time.monotonic() - t0))

        # /readyz 200 on every node (a follower is ready once it applied its commit index).
        for n in c.nodes.values():
            wait_until(lambda: try_http(n.http, "GET", "/readyz")[0] == 200, 5,
                       what="/readyz 200 on node %d" % n.id)

        # /v1/cluster/leader agrees on every node, and names the leader's HTTP address.
        views = []
        for n in c.nodes.values():
            st, _, b = n.get("/v1/cluster/leader")
            self.assertEqual(st, 200, b)
            views.append((b["id"], b["http"], b["term"]))
        self.assertEqual(len(set(views)), 1, views)
        self.assertEqual(views[0][0], leader.id)
        self.assertEqual(views[0][1], leader.http)

        # Every response carries the three headers, errors included.
        for n in c.nodes.values():
            for method, path, body in [("GET", "/healthz", None), ("GET", "/readyz", None),
                                       ("GET", "/metrics", None),
                                       ("GET", "/v1/cluster/leader", None),
                                       ("GET", "/v1/cluster/status", None),
                                       ("GET", "/v1/cluster/members", None),
                                       ("GET", "/v1/sessions", None),
                                       ("GET", "/v1/sessions/00000000deadbeef", None),
                                       ("GET", "/no/such/route", None),
                                       ("PUT", "/v1/sessions", None),
                                       ("POST", "/v1/sessions", {"ttl_ms": 1})]:
                self.assert_raft_headers(n, method, path, body, leader_id=leader.id)

        # Writes through every node (followers forward to the leader).
        acked = []
        for n in c.nodes.values():
            for k in range(3):
                st, hs, b = self.assert_raft_headers(
                    n, "POST", "/v1/sessions", {"ttl_ms": LONG_TTL_MS, "name": "w%d-%d" % (n.id, k)},
                    leader_id=leader.id)
                self.assertEqual(st, 201, "POST /v1/sessions via %r: %s %s" % (n, st, b))
                self.assertEqual(b["ttl_ms"], LONG_TTL_MS)
                acked.append(b["session"])
                # The answer's applied index covers the write on the answering node's view
                # of a linearizable read: the session is visible through any node.
        for n in c.nodes.values():
            for sid in acked:
                st, _, b = n.get("/v1/sessions/" + sid)
                self.assertEqual(st, 200, "GET session %s on %r: %s" % (sid, n, b))

        # kill -9 the leader; time until a write is acknowledged by the survivors.
        old = leader
        survivors = [n for n in c.nodes.values() if n is not old]
        old.kill9()
        t_kill = time.monotonic()
        new_leader_seen = harness.watch_new_leader(survivors, old.id, t_kill)
        attempts = 0
        sid = None
        trace = []
        while time.monotonic() - t_kill < 15:
            n = survivors[attempts % 2]
            attempts += 1
            t_req = time.monotonic()
            st, _, b = try_http(n.http, "POST", "/v1/sessions", {"ttl_ms": LONG_TTL_MS, "name": "after-kill"},
                                timeout=3)
            trace.append("%.0f ms: node %d -> %s %s (%.0f ms)" % ((t_req - t_kill) * 1000, n.id, st,
                                                                harness.error_code(b) or "",
                                                                (time.monotonic() - t_req) * 1000))
            if st == 201:
                sid = b["session"]
                break
            self.assertIn(st, (None, 503, 504), "unexpected answer during fail-over: %s %s" % (st, b))
            time.sleep(0.01)
        failover = time.monotonic() - t_kill
        self.assertIsNotNone(sid, "no write acknowledged within 15 s of killing the leader")
        acked.append(sid)
        new = c.wait_leader()
        self.assertNotEqual(new.id, old.id)
        print("FIGURE e2e_three_node: after kill -9 of leader node %d: new leader (node %d) named by "
              "every survivor after %.0f ms; first acknowledged write after %.0f ms (%d attempts)"
              % (old.id, new.id, new_leader_seen() * 1000, failover * 1000, attempts), flush=True)
        log("fail-over attempts: " + "; ".join(trace))

        for n in survivors:
            for k in range(2):
                acked.append(c.create_session(node=n, name="new-leader-%d" % n.id))

        # Restart the killed node: it catches up with everything acknowledged.
        old.start()
        old.wait_serving()
        target = c.wait_caught_up(old, timeout=15)
        self.assert_has_sessions(c, old, acked, " after restart")
        st = old.status()
        log("restarted node %d applied %d (leader commit was %d), role %s, leader %s"
            % (old.id, st["applied_index"], target, st["role"], st["leader"]))
        c.wait_leader()
        wait_until(lambda: try_http(old.http, "GET", "/readyz")[0] == 200, 5, what="readyz on restarted node")
        # And it serves a forwarded write.
        st, _, b = old.post("/v1/sessions", {"ttl_ms": LONG_TTL_MS})
        self.assertEqual(st, 201, b)


if __name__ == "__main__":
    harness.main()
