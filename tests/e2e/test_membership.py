"""e2e_membership: add (learner, then voter), transfer leadership, remove
(a follower, then the leader itself)."""

import signal
import time

import harness
from harness import error_code, log, try_http, wait_until


def members(node):
    st, _, b = node.get("/v1/cluster/members")
    assert st == 200, (st, b)
    return {m["id"]: m for m in b["members"]}


class Membership(harness.ClusterTestCase):
    def wait_all_name_leader(self, c, lid, nodes, timeout=5):
        def agreed():
            return all(v == lid for v in c.leader_views(nodes).values())
        wait_until(agreed, timeout, what="every node naming node %d leader" % lid)

    def test_membership(self):
        c = self.new_cluster(3, name="members")
        c.start()
        leader = c.wait_leader()
        acked = [c.create_session(node=n, name="m%d" % n.id) for n in c.nodes.values()]

        # --- add node 4 -------------------------------------------------------
        n4 = c.add_joiner(4)
        st, _, b = try_http(n4.http, "GET", "/readyz")
        self.assertEqual(st, 503, "a --join node that is no member yet is not ready: %s %s" % (st, b))
        follower = next(n for n in c.nodes.values() if n is not leader and n is not n4)
        t0 = time.monotonic()
        st, _, b = follower.post("/v1/cluster/members", {"id": 4, "peer": n4.peer, "http": n4.http})
        self.assertEqual(st, 201, "POST /v1/cluster/members via follower %r: %s %s" % (follower, st, b))
        self.assertEqual(b, {"id": 4, "peer": n4.peer, "http": n4.http, "voter": False})

        def promoted():
            m = members(leader).get(4)
            return m is not None and m["voter"] is True
        wait_until(promoted, 5, what="node 4 promoted to voter")
        log("node 4 a voter %.2f s after the POST" % (time.monotonic() - t0))
        m4 = members(leader)[4]
        self.assertEqual((m4["peer"], m4["http"]), (n4.peer, n4.http))
        c.wait_caught_up(n4)
        self.assert_has_sessions(c, n4, acked, " (added with --join)")
        wait_until(lambda: try_http(n4.http, "GET", "/readyz")[0] == 200, 5, what="node 4 ready")
        acked.append(c.create_session(node=n4, name="via4"))
        # Adding an existing member again is refused (not documented: 409 conflict today).
        st, _, b = leader.post("/v1/cluster/members", {"id": 4, "peer": n4.peer, "http": n4.http})
        self.assertGreaterEqual(st, 400, b)
        # Bad bodies.
        st, _, b = leader.post("/v1/cluster/members", {"id": 0, "peer": "127.0.0.1:1"})
        self.assertEqual((st, error_code(b)), (400, "invalid_argument"), b)
        self.assertIn("id", b["error"]["message"])
        st, _, b = leader.post("/v1/cluster/members", {"id": 9})
        self.assertEqual((st, error_code(b)), (400, "invalid_argument"), b)
        self.assertIn("peer", b["error"]["message"])

        # --- transfer leadership ----------------------------------------------
        st, _, b = leader.post("/v1/cluster/transfer-leadership", {"to": 4})
        self.assertEqual(st, 200, "transfer to 4 via the leader: %s %s" % (st, b))
        self.assertEqual(b, {"leader": 4})
        self.wait_all_name_leader(c, 4, c.alive_nodes())
        leader = c.wait_leader()
        self.assertEqual(leader.id, 4)

        st, _, b = leader.post("/v1/cluster/transfer-leadership", {"to": 99})
        self.assertEqual((st, error_code(b)), (404, "member_not_found"), b)
        st, _, b = follower.post("/v1/cluster/transfer-leadership", {"to": 99})
        self.assertEqual((st, error_code(b)), (404, "member_not_found"), "via follower: %s" % b)

        # Via a follower: forwarded to the leader.
        target = next(n for n in c.alive_nodes() if n is not leader and n is not follower)
        st, _, b = follower.post("/v1/cluster/transfer-leadership", {"to": target.id})
        self.assertEqual(st, 200, "transfer via follower %r to %d: %s %s" % (follower, target.id, st, b))
        self.assertEqual(b, {"leader": target.id})
        self.wait_all_name_leader(c, target.id, c.alive_nodes())
        leader = c.wait_leader()
        self.assertEqual(leader.id, target.id)
        acked.append(c.create_session(name="after-transfer"))

        # --- remove a follower (via another follower) --------------------------
        st, _, b = follower.delete("/v1/cluster/members/99")
        self.assertEqual((st, error_code(b)), (404, "member_not_found"), b)
        st, _, b = leader.delete("/v1/cluster/members/99")
        self.assertEqual((st, error_code(b)), (404, "member_not_found"), b)
        victim = next(n for n in c.alive_nodes() if n is not leader and n is not follower)
        st, _, b = follower.delete("/v1/cluster/members/%d" % victim.id)
        self.assertEqual(st, 200, "DELETE member %d via %r: %s %s" % (victim.id, follower, st, b))
        self.assertEqual(b, {"removed": victim.id})
        self.assertNotIn(victim.id, members(leader))
        wait_until(lambda: victim.id not in members(follower), 5, what="removal seen by the follower")
        rc, secs = victim.stop(signal.SIGTERM)
        self.assertEqual(rc, 0)
        acked.append(c.create_session(name="after-remove"))
        st, _, b = leader.delete("/v1/cluster/members/%d" % victim.id)
        self.assertEqual((st, error_code(b)), (404, "member_not_found"), "removed twice: %s" % b)

        # --- remove the leader itself ------------------------------------------
        old = leader
        rest = [n for n in c.alive_nodes() if n is not old]
        self.assertEqual(len(rest), 2)
        st, _, b = old.delete("/v1/cluster/members/%d" % old.id)
        self.assertEqual(st, 200, "DELETE the leader %d itself: %s %s" % (old.id, st, b))
        self.assertEqual(b, {"removed": old.id})
        new = c.wait_leader(nodes=rest, timeout=10)
        self.assertIn(new, rest)
        self.assertNotIn(old.id, members(new))
        self.assertEqual(sorted(members(new)), sorted(n.id for n in rest))
        st = new.status()
        self.assertEqual(sorted(st["voters"]), sorted(n.id for n in rest), st)
        log("leader %d removed itself; new leader %d" % (old.id, new.id))
        rc, _ = old.stop(signal.SIGTERM)
        self.assertEqual(rc, 0)
        for n in rest:
            acked.append(c.create_session(node=n, name="two-left"))
        for n in rest:
            c.wait_caught_up(n)
            self.assert_has_sessions(c, n, acked)


if __name__ == "__main__":
    harness.main()
