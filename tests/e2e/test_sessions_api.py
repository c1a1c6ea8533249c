"""e2e_sessions_api: sessions over HTTP on a 3-node cluster (API.md
"Sessions"): create, keepalive (on the leader and forwarded by a follower),
GET, list, DELETE, expiry and lock delay."""

import re
import time

import harness
from harness import wait_until
from lockapi import ApiTestCase


class SessionsApi(ApiTestCase):
    def test_create(self):
        for node in (self.leader(), self.follower()):
            b = self.ok(self.call(node, "POST", "/v1/sessions", {}), 201, "defaults")
            self.assertRegex(b["session"], r"^[0-9a-f]{16}$")
            self.assertEqual(b["ttl_ms"], 10000, b)
            s = self.get_session(node, b["session"])
            self.assertEqual((s["name"], s["ttl_ms"], s["held"], s["waiting"]), ("", 10000, [], []), s)
            self.assertIsInstance(s["modify_index"], int)
        for body in [{"ttl_ms": 1000}, {"ttl_ms": 86400000, "lock_delay_ms": 60000},
                     {"name": "n" * 200}, {"name": "\u00e9" * 100}, {"lock_delay_ms": 0}]:
            b = self.ok(self.call(self.follower(), "POST", "/v1/sessions", body), 201, str(body)[:60])
            self.assertEqual(b["ttl_ms"], body.get("ttl_ms", 10000))
            if "name" in body:
                self.assertEqual(self.get_session(self.leader(), b["session"])["name"], body["name"])
        for body, field in [({"ttl_ms": 999}, "ttl_ms"), ({"ttl_ms": 86400001}, "ttl_ms"),
                            ({"ttl_ms": "5000"}, "ttl_ms"), ({"ttl_ms": 5000.0}, "ttl_ms"),
                            ({"ttl_ms": True}, "ttl_ms"), ({"lock_delay_ms": 60001}, "lock_delay_ms"),
                            ({"lock_delay_ms": -1}, "lock_delay_ms"), ({"lock_delay_ms": "0"}, "lock_delay_ms"),
                            ({"name": 7}, "name"), ({"name": ["a"]}, "name"), ({"name": "n" * 201}, "name"),
                            ({"name": "\u00e9" * 101}, "name")]:
            for node in (self.leader(), self.follower()):
                self.assert_error(self.call(node, "POST", "/v1/sessions", body), 400, "invalid_argument",
                                  field, what=str(body)[:60])

    def test_keepalive(self):
        sid = self.new_session(ttl_ms=5000)
        for node in (self.leader(), self.follower(0), self.follower(1)):
            b = self.ok(self.call(node, "POST", "/v1/sessions/%s/keepalive" % sid), what="keepalive via %r" % node)
            self.assertEqual((b["session"], b["ttl_ms"]), (sid, 5000), b)
            self.assertTrue(0 < b["remaining_ms"] <= 5000, b)
        # Keepalives do not change the session's modify_index: a blocking GET ignores them.
        m = self.get_session(self.follower(), sid)["modify_index"]
        watch = self.pending(self.follower(), "GET", "/v1/sessions/%s?index=%d&wait_ms=1000" % (sid, m))
        for node in (self.leader(), self.follower(1)):
            self.ok(self.call(node, "POST", "/v1/sessions/%s/keepalive" % sid))
        st, _, b = self.finished(watch, 5)
        self.assertGreaterEqual(watch.elapsed, 0.9, "the blocking GET returned on a keepalive: %s" % b)
        self.assertEqual((st, b["modify_index"]), (200, m), b)
        for node in (self.leader(), self.follower()):
            for bad in ["00000000deadbeef", "xyz", "DEADBEEF00000000", "0" * 17]:
                self.assert_error(self.call(node, "POST", "/v1/sessions/%s/keepalive" % bad), 404,
                                  "session_not_found", what="keepalive %s via %r" % (bad, node))
                self.assert_error(self.call(node, "GET", "/v1/sessions/" + bad), 404, "session_not_found")
                self.assert_error(self.call(node, "DELETE", "/v1/sessions/" + bad), 404, "session_not_found")

    def test_get_list_delete(self):
        lock, election = self.name("lock"), self.name("election")
        sid = self.new_session(node=self.follower(), name="worker-7")
        other = self.new_session(name="other")
        self.ok(self.acquire(self.follower(), lock, sid), what="acquire")
        self.ok(self.call(self.follower(), "POST", "/v1/elections/%s/campaign" % election,
                          {"session": sid, "value": "v"}), what="campaign")
        for node in self.all_nodes():
            s = self.get_session(node, sid)
            self.assertEqual((s["session"], s["name"], s["held"], s["waiting"]), (sid, "worker-7", [lock], []), s)
            listed = self.ok(self.call(node, "GET", "/v1/sessions"))["sessions"]
            ids = {x["session"]: x for x in listed}
            self.assertIn(sid, ids)
            self.assertIn(other, ids)
            self.assertEqual(ids[sid]["name"], "worker-7")
        b = self.ok(self.call(self.follower(), "DELETE", "/v1/sessions/" + sid), what="DELETE")
        self.assertEqual(b, {"closed": True, "released": [lock], "resigned": [election]})
        for node in self.all_nodes():
            self.assert_error(self.call(node, "GET", "/v1/sessions/" + sid), 404, "session_not_found")
            self.assertEqual(self.get_lock(node, lock)["holders"], [])
            self.assertIsNone(self.ok(self.call(node, "GET", "/v1/elections/" + election))["leader"])
            self.assertNotIn(sid, {x["session"] for x in self.ok(self.call(node, "GET", "/v1/sessions"))["sessions"]})
        self.assert_error(self.call(self.leader(), "DELETE", "/v1/sessions/" + sid), 404, "session_not_found")
        b = self.ok(self.call(self.leader(), "DELETE", "/v1/sessions/" + other))
        self.assertEqual(b, {"closed": True, "released": [], "resigned": []})

    def test_session_end_answers_waits(self):
        lock = self.name()
        holder, sid = self.new_session(), self.new_session()
        self.ok(self.acquire(self.leader(), lock, holder))
        wait = self.pending(self.follower(), "POST", "/v1/locks/%s/acquire" % lock, {"session": sid, "wait_ms": 20000})
        self.wait_waiters(self.leader(), lock, 1)
        m = self.get_session(self.follower(), sid)["modify_index"]
        self.assertEqual(self.get_session(self.follower(), sid)["waiting"], [lock])
        watch = self.pending(self.follower(1), "GET", "/v1/sessions/%s?index=%d&wait_ms=20000" % (sid, m))
        time.sleep(0.3)
        self.assertFalse(watch.done(), "the blocking GET returned without a change")
        self.assertEqual(self.ok(self.call(self.leader(), "DELETE", "/v1/sessions/" + sid))["released"], [])
        self.assert_error(self.finished(wait, 5), 404, "session_not_found", what="a wait whose session ended")
        self.assert_error(self.finished(watch, 5), 404, "session_not_found", what="blocking GET of an ended session")
        self.assertEqual(self.get_lock(self.leader(), lock)["waiters"], [])

    def test_expiry_and_keepalive_through_follower(self):
        lock = self.name()
        ttl = 1500
        idle = self.new_session(node=self.follower(), ttl_ms=ttl, name="idle")
        t_created = time.monotonic()
        kept = self.new_session(node=self.follower(), ttl_ms=ttl, name="kept")
        stop = self.keep_alive(self.follower(), kept, every=ttl / 4000.0)
        try:
            self.ok(self.acquire(self.leader(), lock, idle), what="acquire by the idle session")
            gone = wait_until(lambda: self.call(self.leader(), "GET", "/v1/sessions/" + idle)[0] == 404 and
                              time.monotonic(), ttl / 1000.0 + 2.5, interval=0.05, what="idle session expired")
            took = gone - t_created
            harness.log("idle session (ttl %d ms) gone after %.0f ms" % (ttl, took * 1000))
            self.assertGreater(took, ttl / 1000.0 * 0.9, "expired before its ttl")
            for node in self.all_nodes():
                self.assert_error(self.call(node, "POST", "/v1/sessions/%s/keepalive" % idle), 404,
                                  "session_not_found")
                self.assertEqual(self.get_lock(node, lock)["holders"], [])
            self.ok(self.acquire(self.follower(), lock, kept), what="the expired session's lock is free")
            time.sleep(max(0.0, t_created + 3 * ttl / 1000.0 - time.monotonic()))
            self.assertEqual(self.get_session(self.follower(), kept)["held"], [lock])
        finally:
            answers = stop()
        self.assertTrue(answers and all(st == 200 for st, _ in answers), answers[-3:])

    def test_remaining_ms_is_a_safe_bound(self):
        sid = self.new_session(ttl_ms=1000)
        t_sent = time.monotonic()
        b = self.ok(self.call(self.follower(), "POST", "/v1/sessions/%s/keepalive" % sid))
        gone = wait_until(lambda: self.call(self.leader(), "GET", "/v1/sessions/" + sid)[0] == 404 and
                          time.monotonic(), 4, interval=0.02, what="the session expired")
        harness.log("remaining_ms %d; gone %.0f ms after the keepalive was sent" % (b["remaining_ms"], (gone - t_sent) * 1000))
        self.assertGreaterEqual(gone - t_sent, b["remaining_ms"] / 1000.0,
                                "the session expired before the remaining_ms its keepalive promised")

    def test_lock_delay_after_expiry(self):
        lock = self.name()
        holder = self.new_session(ttl_ms=1000, lock_delay_ms=3000)
        waiter, other = self.new_session(), self.new_session()
        self.ok(self.acquire(self.follower(), lock, holder))
        p = self.pending(self.follower(), "POST", "/v1/locks/%s/acquire" % lock,
                         {"session": waiter, "wait_ms": 20000})
        self.wait_waiters(self.leader(), lock, 1)
        wait_until(lambda: self.call(self.leader(), "GET", "/v1/sessions/" + holder)[0] == 404, 5,
                   what="the holder expired")
        t_expired = time.monotonic()
        err = self.assert_error(self.acquire(self.follower(), lock, other), 409, "lock_held",
                                what="try-lock during the delay")
        self.assertEqual(err["holders"], [], err)
        self.assertTrue(0 < err["lock_delay_remaining_ms"] <= 3000, err)
        got = self.get_lock(self.leader(), lock)
        self.assertEqual(got["holders"], [], got)
        self.assertTrue(0 < got["lock_delay_remaining_ms"] <= 3000, got)
        listed = self.ok(self.call(self.follower(), "GET", "/v1/locks?prefix=" + lock))["locks"]
        self.assertEqual([l["lock"] for l in listed], [lock], "a lock in its delay is listed")
        self.assertFalse(p.done(), "the waiter was granted during the lock delay")
        b = self.ok(self.finished(p, 8), what="queued waiter after the delay")
        waited = time.monotonic() - t_expired
        harness.log("queued waiter granted %.0f ms after the holder expired (delay 3000 ms)" % (waited * 1000))
        self.assertEqual(b["session"], waiter)
        self.assertGreater(waited, 1.5, "granted long before the lock delay ended")
        self.assertEqual([h["session"] for h in self.get_lock(self.follower(), lock)["holders"]], [waiter])

    def test_no_lock_delay_on_clean_close(self):
        lock = self.name()
        holder = self.new_session(ttl_ms=5000, lock_delay_ms=5000)
        waiter = self.new_session()
        self.ok(self.acquire(self.leader(), lock, holder))
        p = self.pending(self.follower(), "POST", "/v1/locks/%s/acquire" % lock,
                         {"session": waiter, "wait_ms": 20000})
        self.wait_waiters(self.follower(), lock, 1)
        t0 = time.monotonic()
        self.ok(self.call(self.follower(), "DELETE", "/v1/sessions/" + holder))
        b = self.ok(self.finished(p, 5), what="waiter after a clean close")
        self.assertLess(time.monotonic() - t0, 2.0, "a clean close must not start a lock delay")
        self.assertEqual(b["session"], waiter)
        self.assertNotIn("lock_delay_remaining_ms", self.get_lock(self.leader(), lock))
        self.ok(self.release(self.leader(), lock, waiter))
        self.ok(self.acquire(self.leader(), lock, self.new_session()), what="try-lock after a clean close")


if __name__ == "__main__":
    harness.main()
