"""e2e_locks_api: mutexes, semaphores and read-write locks over HTTP on a
3-node cluster (API.md "Locks" and its precise readings), through the leader
and through followers (which forward writes and answer from their own applied
state)."""

import http.client
import json
import threading
import time

import harness
from lockapi import ApiTestCase, HangUp


class LocksApi(ApiTestCase):
    def holders(self, node, lock):
        return [h["session"] for h in self.get_lock(node, lock)["holders"]]

    def test_acquire_release_and_tokens(self):
        lock = self.name()
        tokens = []
        for node in (self.leader(), self.follower(0), self.follower(1)):
            a, b = self.new_session(node, name="a"), self.new_session(node, name="b")
            st, hs, g = self.acquire(node, lock, a)
            g = self.ok((st, hs, g), what="acquire via %r" % node)
            self.assertEqual((g["lock"], g["session"], g["holders"]), (lock, a, 1), g)
            tokens.append(g["fencing_token"])
            # The answering node has applied the granting entry: its own GET shows it.
            self.assertGreaterEqual(int(hs["x-raftlock-index"]), g["fencing_token"], hs)
            got = self.get_lock(node, lock)
            self.assertEqual(got["holders"], [{"session": a, "name": "a", "fencing_token": g["fencing_token"],
                                               "mode": "exclusive"}], got)
            self.assertEqual((got["lock"], got["limit"], got["waiters"]), (lock, 1, []), got)
            # Retry: the same grant.
            self.assertEqual(self.ok(self.acquire(node, lock, a))["fencing_token"], g["fencing_token"])
            err = self.assert_error(self.acquire(node, lock, b), 409, "lock_held", what="try-lock")
            self.assertEqual([h["session"] for h in err["holders"]], [a], err)
            self.assertEqual(err["holders"][0]["fencing_token"], g["fencing_token"])
            # not_holder: another session, a wrong token; the grant stays.
            self.assert_error(self.release(node, lock, b), 409, "not_holder")
            self.assert_error(self.release(node, lock, a, fencing_token=g["fencing_token"] + 1), 409, "not_holder")
            self.assertEqual(self.holders(node, lock), [a])
            self.assert_error(self.release(node, lock, "00000000deadbeef"), 404, "session_not_found")
            self.assert_error(self.acquire(node, lock, "00000000deadbeef"), 404, "session_not_found")
            # Release with the token, then without one.
            self.assertEqual(self.ok(self.release(node, lock, a, fencing_token=g["fencing_token"])),
                             {"released": True})
            tokens.append(self.ok(self.acquire(node, lock, b))["fencing_token"])
            self.assertEqual(self.ok(self.release(node, lock, b)), {"released": True})
            self.assert_error(self.release(node, lock, b), 409, "not_holder", what="second release")
            self.assertEqual(self.get_lock(node, lock)["holders"], [])
        self.assertEqual(tokens, sorted(set(tokens)), "fencing tokens must strictly increase: %s" % tokens)

    def test_headers_name_the_leader(self):
        leader = self.leader()
        term = str(leader.status()["term"])
        sid = self.new_session()
        for node in self.all_nodes():
            for method, path, body in [("POST", "/v1/locks/%s/acquire" % self.name(), {"session": sid}),
                                       ("POST", "/v1/locks/%s/acquire" % self.name(), {"session": "00000000deadbeef"}),
                                       ("POST", "/v1/locks/%s/check" % self.name(), {}),
                                       ("GET", "/v1/locks/" + self.name(), None), ("GET", "/v1/locks", None),
                                       ("GET", "/v1/locks/%25", None), ("DELETE", "/v1/locks/x", None),
                                       ("POST", "/v1/locks/%s/release" % self.name(), {"session": sid})]:
                st, hs, b = self.call(node, method, path, body)
                self.assertEqual((hs["x-raft-leader"], hs["x-raft-term"]), (str(leader.id), term),
                                 "%s %s on %r: %s" % (method, path, node, hs))

    def test_check_and_never_used(self):
        lock = self.name()
        for node in self.all_nodes():
            self.assertEqual(self.get_lock(node, self.name("never-used")),
                             {"lock": self.name("never-used"), "limit": 1, "holders": [], "waiters": [],
                              "modify_index": 0})
            self.assertEqual(self.ok(self.call(node, "POST", "/v1/locks/%s/check" % self.name("never-used"),
                                               {"fencing_token": 1})), {"valid": False, "current_token": None})
        sid = self.new_session()
        t1 = self.ok(self.acquire(self.follower(), lock, sid))["fencing_token"]
        for node in self.all_nodes():
            check = lambda t: self.ok(self.call(node, "POST", "/v1/locks/%s/check" % lock, {"fencing_token": t}))
            self.assertEqual(check(t1), {"valid": True, "current_token": t1})
            self.assertEqual(check(t1 - 1), {"valid": False, "current_token": t1})
        self.ok(self.release(self.leader(), lock, sid))
        t2 = self.ok(self.acquire(self.leader(), lock, sid))["fencing_token"]
        self.assertGreater(t2, t1)
        check = self.call(self.follower(), "POST", "/v1/locks/%s/check" % lock, {"fencing_token": t1})
        self.assertEqual(self.ok(check), {"valid": False, "current_token": t2})
        self.ok(self.release(self.follower(), lock, sid))
        check = self.call(self.follower(), "POST", "/v1/locks/%s/check" % lock, {"fencing_token": t2})
        self.assertEqual(self.ok(check), {"valid": False, "current_token": None})

    def test_list_prefix(self):
        p = self.name()
        sid = self.new_session()
        for suffix in ("a", "b", "c"):
            self.ok(self.acquire(self.follower(), p + "-" + suffix, sid))
        self.ok(self.release(self.leader(), p + "-c", sid))
        for node in self.all_nodes():
            listed = self.ok(self.call(node, "GET", "/v1/locks?prefix=" + p))
            self.assertEqual([l["lock"] for l in listed["locks"]], [p + "-a", p + "-b"], listed)
            self.assertEqual(listed["locks"][0]["holders"][0]["session"], sid)
            everything = self.ok(self.call(node, "GET", "/v1/locks"))["locks"]
            self.assertTrue({p + "-a", p + "-b"} <= {l["lock"] for l in everything})
            self.assertEqual(self.ok(self.call(node, "GET", "/v1/locks?prefix=" + p + "-zz"))["locks"], [])

    def test_semaphore_and_limit_mismatch(self):
        lock = self.name()
        s = [self.new_session() for _ in range(5)]
        for k in range(3):
            g = self.ok(self.acquire(self.all_nodes()[k], lock, s[k], limit=3), what="holder %d" % k)
            self.assertEqual(g["holders"], k + 1, g)
        err = self.assert_error(self.acquire(self.follower(), lock, s[3], limit=3), 409, "lock_held")
        self.assertEqual(len(err["holders"]), 3, err)
        self.assert_error(self.acquire(self.leader(), lock, s[3], limit=2), 409, "limit_mismatch")
        self.assert_error(self.acquire(self.leader(), lock, s[0], limit=4), 409, "limit_mismatch",
                          what="the holder naming another limit")
        self.assert_error(self.acquire(self.leader(), lock, s[0], limit=3, mode="shared"), 400,
                          "invalid_argument", "mode")
        p = self.pending(self.follower(), "POST", "/v1/locks/%s/acquire" % lock,
                         {"session": s[3], "wait_ms": 20000, "limit": 3})
        self.wait_waiters(self.leader(), lock, 1)
        self.assert_error(self.acquire(self.leader(), lock, s[3], limit=3, mode="shared", wait_ms=100), 400,
                          "invalid_argument")
        self.assertFalse(p.done())
        self.ok(self.release(self.leader(), lock, s[1]))
        self.assertEqual(self.ok(self.finished(p))["session"], s[3])
        self.assertEqual(sorted(self.holders(self.follower(), lock)), sorted([s[0], s[2], s[3]]))
        self.assertEqual(self.get_lock(self.follower(), lock)["limit"], 3)
        for k in (0, 2, 3):
            self.ok(self.release(self.leader(), lock, s[k]))
        # Free again: the next acquirer sets the limit.
        self.assertEqual(self.ok(self.acquire(self.leader(), lock, s[4]))["holders"], 1)
        self.assertEqual(self.get_lock(self.leader(), lock)["limit"], 1)
        self.assert_error(self.acquire(self.leader(), lock, s[4], mode="shared"), 409, "limit_mismatch",
                          what="the holder naming another mode")

    def test_read_write(self):
        lock = self.name()
        r1, r2, w, r3, r4 = (self.new_session(name=n) for n in ("r1", "r2", "w", "r3", "r4"))
        t1 = self.ok(self.acquire(self.leader(), lock, r1, mode="shared"))["fencing_token"]
        g2 = self.ok(self.acquire(self.follower(), lock, r2, mode="shared"))
        self.assertEqual((g2["holders"], g2["mode"]), (2, "shared"), g2)
        self.assert_error(self.acquire(self.leader(), lock, w), 409, "lock_held", what="writer try-lock")
        pw = self.pending(self.follower(), "POST", "/v1/locks/%s/acquire" % lock, {"session": w, "wait_ms": 20000})
        self.wait_waiters(self.leader(), lock, 1)
        # A later reader queues behind the writer instead of overtaking it.
        self.assert_error(self.acquire(self.leader(), lock, r3, mode="shared"), 409, "lock_held")
        pr3 = self.pending(self.leader(), "POST", "/v1/locks/%s/acquire" % lock,
                           {"session": r3, "wait_ms": 20000, "mode": "shared"})
        self.wait_waiters(self.leader(), lock, 2)
        pr4 = self.pending(self.follower(1), "POST", "/v1/locks/%s/acquire" % lock,
                           {"session": r4, "wait_ms": 20000, "mode": "shared"})
        got = self.wait_waiters(self.leader(), lock, 3)
        # The waiting writer asking for a shared grant: limit_mismatch, its wait stays.
        self.assert_error(self.acquire(self.follower(), lock, w, mode="shared", wait_ms=1000), 409, "limit_mismatch")
        self.assertFalse(pw.done())
        self.assertEqual([(x["session"], x["mode"]) for x in got["waiters"]],
                         [(w, "exclusive"), (r3, "shared"), (r4, "shared")])
        self.ok(self.release(self.leader(), lock, r1, fencing_token=t1))
        time.sleep(0.3)
        self.assertFalse(pw.done() or pr3.done() or pr4.done(), "granted while a reader holds")
        self.ok(self.release(self.leader(), lock, r2))
        gw = self.ok(self.finished(pw), what="writer")
        self.assertEqual(gw["session"], w)
        self.assertFalse(pr3.done() or pr4.done(), "readers admitted beside a writer")
        self.ok(self.release(self.follower(), lock, w))
        g3, g4 = self.ok(self.finished(pr3)), self.ok(self.finished(pr4))
        # Admitted together by one entry: the same token, above the writer's.
        self.assertEqual(g3["fencing_token"], g4["fencing_token"])
        self.assertGreater(g3["fencing_token"], gw["fencing_token"])
        self.assertEqual(sorted(self.holders(self.leader(), lock)), sorted([r3, r4]))

    def test_fifo(self):
        lock = self.name()
        holder = self.new_session()
        queue = [self.new_session(name="q%d" % k) for k in range(4)]
        self.ok(self.acquire(self.leader(), lock, holder))
        pend = []
        for k, sid in enumerate(queue):
            pend.append(self.pending(self.all_nodes()[k % 3], "POST", "/v1/locks/%s/acquire" % lock,
                                     {"session": sid, "wait_ms": 30000}))
            self.wait_waiters(self.leader(), lock, k + 1)
        self.assertEqual([x["session"] for x in self.get_lock(self.follower(), lock)["waiters"]], queue)
        current, last_token = holder, 0
        for k, sid in enumerate(queue):
            self.ok(self.release(self.follower(k % 2), lock, current))
            g = self.ok(self.finished(pend[k]), what="waiter %d" % k)
            self.assertEqual(g["session"], sid, "waiters must be served in FIFO order")
            self.assertGreater(g["fencing_token"], last_token)
            self.assertFalse(any(p.done() for p in pend[k + 1:]), "a later waiter was answered early")
            current, last_token = sid, g["fencing_token"]

    def test_acquire_again_while_waiting_attaches(self):
        lock = self.name()
        a, b, c = self.new_session(), self.new_session(), self.new_session()
        self.ok(self.acquire(self.leader(), lock, a))
        first = self.pending(self.follower(), "POST", "/v1/locks/%s/acquire" % lock, {"session": b, "wait_ms": 30000})
        self.wait_waiters(self.leader(), lock, 1)
        pc = self.pending(self.leader(), "POST", "/v1/locks/%s/acquire" % lock, {"session": c, "wait_ms": 30000})
        self.wait_waiters(self.leader(), lock, 2)
        again = self.pending(self.follower(1), "POST", "/v1/locks/%s/acquire" % lock, {"session": b, "wait_ms": 30000})
        time.sleep(0.5)
        self.assertFalse(again.done(), "the retry was answered while the lock is held: %s" % (again.resp,))
        waiters = self.get_lock(self.leader(), lock)["waiters"]
        self.assertEqual([w["session"] for w in waiters], [b, c], "the retry must keep its queue place")
        self.ok(self.release(self.leader(), lock, a))
        g1, g2 = self.ok(self.finished(first)), self.ok(self.finished(again))
        self.assertEqual((g1["session"], g2["session"]), (b, b))
        self.assertEqual(g1["fencing_token"], g2["fencing_token"], "both requests answer the one grant")
        self.assertFalse(pc.done())
        self.ok(self.release(self.leader(), lock, b))
        self.assertEqual(self.ok(self.finished(pc))["session"], c)

    def test_blocking_requests_on_a_keep_alive_connection(self):
        # Clients reuse connections: a wait, then a blocking GET, then a plain GET on one connection.
        lock = self.name()
        a, b = self.new_session(), self.new_session()
        node = self.follower()
        conn = http.client.HTTPConnection("127.0.0.1", node.http_port, timeout=20)

        def request(method, path, body=None):
            conn.request(method, path, body=json.dumps(body) if body is not None else None)
            r = conn.getresponse()
            return r.status, json.loads(r.read())

        def later(fn):
            th = threading.Timer(0.5, fn)
            th.start()
            return th
        try:
            self.ok(self.acquire(self.leader(), lock, a))
            th = later(lambda: self.release(self.leader(), lock, a))
            st, g = request("POST", "/v1/locks/%s/acquire" % lock, {"session": b, "wait_ms": 10000})
            th.join()
            self.assertEqual((st, g.get("session")), (200, b), g)
            th = later(lambda: self.release(self.leader(), lock, b))
            st, got = request("GET", "/v1/locks/%s?index=%d&wait_ms=10000" % (lock, g["fencing_token"]))
            th.join()
            self.assertEqual((st, got["holders"]), (200, []), got)
            st, got = request("GET", "/v1/locks/" + lock)
            self.assertEqual((st, got["holders"]), (200, []), got)
        finally:
            conn.close()

    def test_wait_timeout(self):
        lock = self.name()
        a, b = self.new_session(), self.new_session()
        self.ok(self.acquire(self.leader(), lock, a))
        for node in (self.leader(), self.follower()):
            t0 = time.monotonic()
            err = self.assert_error(self.acquire(node, lock, b, wait_ms=1500), 409, "lock_held")
            took = time.monotonic() - t0
            harness.log("wait_ms 1500 via %r answered after %.0f ms" % (node, took * 1000))
            self.assertTrue(1.4 <= took <= 3.5, "answered after %.2f s" % took)
            self.assertEqual([h["session"] for h in err["holders"]], [a], err)
            self.assertEqual(self.get_session(node, b)["waiting"], [])
            self.assertEqual(self.get_lock(node, lock)["waiters"], [])

    def test_client_disconnect_ends_wait(self):
        lock = self.name()
        a, b, c = self.new_session(), self.new_session(), self.new_session()
        self.ok(self.acquire(self.leader(), lock, a))
        gone = HangUp(self.follower().http, "POST", "/v1/locks/%s/acquire" % lock,
                      {"session": b, "wait_ms": 30000})
        self.wait_waiters(self.leader(), lock, 1)
        pc = self.pending(self.leader(), "POST", "/v1/locks/%s/acquire" % lock, {"session": c, "wait_ms": 30000})
        self.wait_waiters(self.leader(), lock, 2)
        self.assertEqual(self.get_session(self.leader(), b)["waiting"], [lock])
        gone.close()
        harness.wait_until(lambda: self.get_session(self.leader(), b)["waiting"] == [], 5,
                           what="the session's waiting list to empty after the client went away")
        self.assertEqual([w["session"] for w in self.get_lock(self.follower(), lock)["waiters"]], [c])
        self.ok(self.release(self.leader(), lock, a))
        self.assertEqual(self.ok(self.finished(pc))["session"], c)
        self.assertEqual(self.holders(self.leader(), lock), [c])


if __name__ == "__main__":
    harness.main()
