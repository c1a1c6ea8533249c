"""e2e_elections_api: elections over HTTP on a 3-node cluster (API.md
"Elections"): campaign, term, proclaim, resign, promotion of the next
candidate, and observing an election with a blocking GET."""

import time

import harness
from harness import wait_until
from lockapi import ApiTestCase, HangUp


class ElectionsApi(ApiTestCase):
    def campaign(self, node, election, sid, value="v", **fields):
        return self.call(node, "POST", "/v1/elections/%s/campaign" % election,
                         dict(session=sid, value=value, **fields))

    def campaign_pending(self, node, election, sid, value, wait_ms=30000):
        return self.pending(node, "POST", "/v1/elections/%s/campaign" % election,
                            {"session": sid, "value": value, "wait_ms": wait_ms})

    def get(self, node, election, query=""):
        return self.ok(self.call(node, "GET", "/v1/elections/" + election + query, timeout=40))

    def test_campaign_resign_and_promotion(self):
        e = self.name()
        a, b, c = (self.new_session(name=n) for n in "abc")
        for node in self.all_nodes():
            self.assertEqual(self.get(node, e), {"election": e, "leader": None, "candidates": 0, "modify_index": 0})
        g = self.ok(self.campaign(self.follower(), e, a, "10.0.0.5:5432"))
        self.assertEqual((g["election"], g["leader"], g["value"]), (e, True, "10.0.0.5:5432"), g)
        term = g["term"]
        again = self.ok(self.campaign(self.leader(), e, a, "10.0.0.5:5432", wait_ms=1000))
        self.assertEqual(again["term"], term, "a campaign by the leader returns the same term")
        for node in self.all_nodes():
            got = self.get(node, e)
            self.assertEqual((got["leader"], got["candidates"]),
                             ({"session": a, "value": "10.0.0.5:5432", "term": term}, 0), got)
        # A second candidate is refused at once (409 names the leader) or waits.
        err = self.assert_error(self.campaign(self.leader(), e, b, "b"), 409, "lock_held")
        self.assertEqual(err["leader"], {"session": a, "value": "10.0.0.5:5432", "term": term}, err)
        self.assertIn("leader", err)
        pb = self.campaign_pending(self.follower(), e, b, "b")
        self.wait_candidates(self.leader(), e, 1)
        pc = self.campaign_pending(self.follower(1), e, c, "c")
        self.wait_candidates(self.leader(), e, 2)
        self.assertEqual(self.ok(self.call(self.leader(), "POST", "/v1/elections/%s/resign" % e, {"session": a})),
                         {"resigned": True})
        gb = self.ok(self.finished(pb), what="b promoted on resign")
        self.assertEqual((gb["leader"], gb["value"]), (True, "b"))
        self.assertGreater(gb["term"], term)
        self.assertFalse(pc.done())
        # The leader's session closes: the next candidate is promoted.
        closed = self.ok(self.call(self.follower(), "DELETE", "/v1/sessions/" + b))
        self.assertEqual(closed["resigned"], [e], closed)
        gc = self.ok(self.finished(pc), what="c promoted on the leader's session close")
        self.assertGreater(gc["term"], gb["term"])
        self.assertEqual(self.get(self.follower(), e)["leader"], {"session": c, "value": "c", "term": gc["term"]})
        # Resign by the last leader: nobody leads.
        self.ok(self.call(self.follower(), "POST", "/v1/elections/%s/resign" % e, {"session": c}))
        self.assertEqual(self.get(self.leader(), e)["leader"], None)
        listed = self.ok(self.call(self.leader(), "GET", "/v1/elections"))["elections"]
        self.assertNotIn(e, [x["election"] for x in listed])

    def test_promotion_on_expiry(self):
        e = self.name()
        short = self.new_session(ttl_ms=1000)
        nxt = self.new_session()
        self.ok(self.campaign(self.leader(), e, short, "short"))
        alone = self.name("alone")
        self.ok(self.campaign(self.follower(), alone, short, "short"))
        p = self.campaign_pending(self.follower(), e, nxt, "next", wait_ms=20000)
        self.wait_candidates(self.leader(), e, 1)
        t0 = time.monotonic()
        g = self.ok(self.finished(p, 8), what="promoted once the leader's session expired")
        harness.log("candidate promoted %.0f ms after the wait began (leader's ttl 1000 ms)"
                    % ((time.monotonic() - t0) * 1000))
        self.assertEqual(g["value"], "next")
        self.assertEqual(self.get(self.follower(), e)["leader"]["session"], nxt)
        self.assertEqual(self.get(self.follower(), alone)["leader"], None, "the leader's session ended")
        listed = self.ok(self.call(self.follower(), "GET", "/v1/elections"))["elections"]
        self.assertIn(e, [x["election"] for x in listed])

    def test_proclaim_and_resign_by_non_leader(self):
        e = self.name()
        lead, cand, outsider = self.new_session(), self.new_session(), self.new_session()
        term = self.ok(self.campaign(self.leader(), e, lead, "old"))["term"]
        for node in self.all_nodes():
            g = self.ok(self.call(node, "POST", "/v1/elections/%s/proclaim" % e,
                                  {"session": lead, "value": "new-%d" % node.id}))
            self.assertEqual((g["term"], g["value"], g["leader"]), (term, "new-%d" % node.id, True), g)
            self.assertEqual(self.get(node, e)["leader"]["value"], "new-%d" % node.id)
            self.assert_error(self.call(node, "POST", "/v1/elections/%s/proclaim" % e,
                                        {"session": outsider, "value": "x"}), 409, "not_leader")
        self.assert_error(self.call(self.leader(), "POST", "/v1/elections/%s/proclaim" % self.name("none"),
                                    {"session": lead, "value": "x"}), 409, "not_leader")
        # Resign by a queued candidate withdraws it; by an outsider changes nothing.
        p = self.campaign_pending(self.follower(), e, cand, "cand")
        self.wait_candidates(self.leader(), e, 1)
        self.assertEqual(self.ok(self.call(self.follower(), "POST", "/v1/elections/%s/resign" % e,
                                           {"session": cand})), {"resigned": False})
        err = self.assert_error(self.finished(p), 409, "lock_held", what="withdrawn campaign")
        self.assertEqual(err["leader"]["session"], lead)
        self.assertEqual(self.get(self.leader(), e)["candidates"], 0)
        self.assertEqual(self.ok(self.call(self.leader(), "POST", "/v1/elections/%s/resign" % e,
                                           {"session": outsider})), {"resigned": False})
        self.assertEqual(self.get(self.leader(), e)["leader"]["session"], lead)

    def test_client_disconnect_withdraws_candidacy(self):
        e = self.name()
        lead, cand = self.new_session(), self.new_session()
        self.ok(self.campaign(self.leader(), e, lead, "L"))
        gone = HangUp(self.follower().http, "POST", "/v1/elections/%s/campaign" % e,
                      {"session": cand, "value": "C", "wait_ms": 30000})
        self.wait_candidates(self.leader(), e, 1)
        gone.close()
        self.wait_candidates(self.follower(), e, 0, timeout=5)
        self.ok(self.call(self.leader(), "POST", "/v1/elections/%s/resign" % e, {"session": lead}))
        self.assertIsNone(self.get(self.leader(), e)["leader"], "a gone candidate must not be promoted")

    def test_campaign_wait_timeout(self):
        e = self.name()
        lead, other = self.new_session(), self.new_session()
        term = self.ok(self.campaign(self.follower(), e, lead, "L"))["term"]
        t0 = time.monotonic()
        err = self.assert_error(self.campaign(self.follower(), e, other, "O", wait_ms=1000), 409, "lock_held")
        self.assertTrue(0.9 <= time.monotonic() - t0 <= 3.0, time.monotonic() - t0)
        self.assertEqual(err["leader"], {"session": lead, "value": "L", "term": term})
        self.assertEqual(self.get(self.leader(), e)["candidates"], 0)

    def test_observe_with_blocking_get(self):
        e = self.name()
        lead = self.new_session()
        for node in (self.leader(), self.follower()):
            self.ok(self.campaign(node, e, lead, "v0"))
            m = self.get(node, e)["modify_index"]
            self.assertGreater(m, 0)
            # No change: answers after about wait_ms with the same state.
            t0 = time.monotonic()
            same = self.get(node, e, "?index=%d&wait_ms=1000" % m)
            took = time.monotonic() - t0
            self.assertTrue(0.9 <= took <= 3.0, "answered after %.2f s" % took)
            self.assertEqual(same["modify_index"], m)
            # An index already passed answers at once.
            t0 = time.monotonic()
            self.get(node, e, "?index=%d&wait_ms=10000" % (m - 1))
            self.assertLess(time.monotonic() - t0, 1.0)
            # A change answers promptly.
            p = self.pending(node, "GET", "/v1/elections/%s?index=%d&wait_ms=20000" % (e, m))
            time.sleep(0.5)
            self.assertFalse(p.done(), "the blocking GET returned without a change")
            self.ok(self.call(self.follower(1), "POST", "/v1/elections/%s/proclaim" % e,
                              {"session": lead, "value": "v1-%d" % node.id}))
            t_change = time.monotonic()
            got = self.ok(self.finished(p, 5))
            self.assertLess(time.monotonic() - t_change, 1.5)
            self.assertGreater(got["modify_index"], m)
            self.assertEqual(got["leader"]["value"], "v1-%d" % node.id)
            self.ok(self.call(node, "POST", "/v1/elections/%s/resign" % e, {"session": lead}))
            wait_until(lambda: self.get(node, e)["leader"] is None, 5, what="nobody leads")


if __name__ == "__main__":
    harness.main()
