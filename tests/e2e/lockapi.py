"""Helpers for the e2e tests of sessions, locks and elections (API.md): one
3-node cluster per test file, requests that assert the X-Raft-* headers and
never a 500, requests that block in a thread, and a client that hangs up."""

import json
import socket
import sys
import threading
import time

import harness
from harness import LONG_TTL_MS, error_code, try_http, wait_until

HEADERS = ("x-raft-term", "x-raft-leader", "x-raftlock-index")


class Pending:
    """One request running in a thread (a blocking acquire, campaign or GET)."""

    def __init__(self, addr, method, path, body=None, timeout=40.0):
        self.t0 = time.monotonic()
        self.resp = None
        self.exc = None
        self.elapsed = None
        self.th = threading.Thread(target=self._run, args=(addr, method, path, body, timeout),
                                   daemon=True)
        self.th.start()

    def _run(self, addr, method, path, body, timeout):
        try:
            self.resp = harness.http(addr, method, path, body=body, timeout=timeout)
        except Exception as e:  # reported by result()
            self.exc = e
        self.elapsed = time.monotonic() - self.t0

    def done(self):
        return not self.th.is_alive()

    def result(self, timeout=30.0):
        self.th.join(timeout)
        if self.th.is_alive():
            raise AssertionError("request still blocked after %.1f s" % (time.monotonic() - self.t0))
        if self.exc is not None:
            raise self.exc
        return self.resp


class HangUp:
    """A request sent on a raw socket whose client then goes away (close())."""

    def __init__(self, addr, method, path, body):
        host, port = addr.rsplit(":", 1)
        data = json.dumps(body).encode()
        self.sock = socket.create_connection((host, int(port)), timeout=5)
        self.sock.sendall(("%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                           "Content-Length: %d\r\n\r\n" % (method, path, addr, len(data))).encode() + data)

    def close(self):
        self.sock.close()


class ApiTestCase(harness.ClusterTestCase):
    """One 3-node cluster for every test of the class."""

    cluster = None

    @classmethod
    def setUpClass(cls):
        cls.cluster = harness.Cluster(3, name=cls.__name__.lower())
        cls.cluster.start()
        cls.cluster_failed = False

    @classmethod
    def tearDownClass(cls):
        dead = [n for n in cls.cluster.nodes.values() if not n.alive()]
        cls.cluster.cleanup(keep=cls.cluster_failed or bool(dead))
        if dead:
            raise AssertionError("node(s) exited during the tests: %s" % dead)

    def tearDown(self):
        if self._failed():
            type(self).cluster_failed = True
            sys.stderr.write(self.cluster.dump_logs() + "\n")
        super().tearDown()

    # -- nodes ------------------------------------------------------------

    def leader(self):
        return self.cluster.wait_leader()

    def follower(self, k=0):
        return self.cluster.followers()[k]

    def all_nodes(self):
        return list(self.cluster.nodes.values())

    def assert_alive(self):
        for n in self.all_nodes():
            self.assertTrue(n.alive(), "%r exited with %s" % (n, n.proc.poll()))
            st, _, b = try_http(n.http, "GET", "/healthz")
            self.assertEqual(st, 200, "%r /healthz: %s %s" % (n, st, b))

    # -- requests -----------------------------------------------------------

    def call(self, node, method, path, body=None, raw=None, timeout=15.0):
        """One request; asserts the three headers and that it is no 5xx but a
        503/504 (which the caller may see during an election)."""
        st, hs, b = harness.http(node.http, method, path, body=body, raw=raw, timeout=timeout)
        self.check_response(node, method, path, st, hs, b)
        return st, hs, b

    def check_response(self, node, method, path, st, hs, b):
        what = "%s %s on %r" % (method, path, node)
        self.assertNotEqual(st, 500, "%s: %s" % (what, b))
        for h in HEADERS:
            self.assertIn(h, hs, "%s (%s) lacks the %s header: %s" % (what, st, h, hs))
        self.assertTrue(hs["x-raft-term"].isdigit() and hs["x-raftlock-index"].isdigit(), (what, hs))

    def ok(self, resp, status=200, what=""):
        st, _, b = resp
        self.assertEqual(st, status, "%s: expected %d, got %s %s" % (what, status, st, b))
        return b

    def assert_error(self, resp, status, code, field=None, what=""):
        st, _, b = resp
        self.assertEqual((st, error_code(b)), (status, code), "%s: got %s %s" % (what, st, b))
        self.assertIsInstance(b["error"].get("message"), str, what)
        if field is not None:
            self.assertIn(field, b["error"]["message"], "%s: the message must name %r: %s"
                          % (what, field, b))
        return b["error"]

    def pending(self, node, method, path, body=None, timeout=40.0):
        return Pending(node.http, method, path, body=body, timeout=timeout)

    def finished(self, p, timeout=10.0, what="blocked request"):
        st, hs, b = p.result(timeout)
        self.check_response(None, "(pending)", what, st, hs, b)
        return st, hs, b

    # -- objects ------------------------------------------------------------

    def name(self, suffix=""):
        """A lock or election name unique to the running test."""
        return (self._testMethodName + ("-" + suffix if suffix else ""))[:200]

    def new_session(self, node=None, ttl_ms=LONG_TTL_MS, **fields):
        body = dict(ttl_ms=ttl_ms, **fields)
        b = self.ok(self.call(node or self.leader(), "POST", "/v1/sessions", body), 201, "create session")
        return b["session"]

    def acquire(self, node, lock, sid, **fields):
        return self.call(node, "POST", "/v1/locks/%s/acquire" % lock, dict(session=sid, **fields),
                         timeout=fields.get("wait_ms", 0) / 1000.0 + 15)

    def release(self, node, lock, sid, **fields):
        return self.call(node, "POST", "/v1/locks/%s/release" % lock, dict(session=sid, **fields))

    def get_lock(self, node, lock):
        return self.ok(self.call(node, "GET", "/v1/locks/" + lock), what="GET lock " + lock)

    def get_session(self, node, sid):
        return self.ok(self.call(node, "GET", "/v1/sessions/" + sid), what="GET session " + sid)

    def wait_waiters(self, node, lock, n, timeout=10.0):
        """Waits until GET shows n waiters on the lock; returns the lock."""
        return wait_until(lambda: (lambda l: l if len(l["waiters"]) == n else None)(self.get_lock(node, lock)),
                          timeout, what="%d waiter(s) on %s" % (n, lock))

    def wait_candidates(self, node, election, n, timeout=10.0):
        def check():
            b = self.ok(self.call(node, "GET", "/v1/elections/" + election))
            return b if b["candidates"] == n else None
        return wait_until(check, timeout, what="%d candidate(s) in %s" % (n, election))

    def keep_alive(self, node, sid, every=0.3):
        """Keepalives for sid through node in a thread until the returned
        stop() is called; stop() returns the answers' statuses."""
        stop = threading.Event()
        seen = []

        def run():
            while not stop.is_set():
                st, _, b = try_http(node.http, "POST", "/v1/sessions/%s/keepalive" % sid, timeout=2.0)
                seen.append((st, b))
                stop.wait(every)
        th = threading.Thread(target=run, daemon=True)
        th.start()

        def done():
            stop.set()
            th.join(5)
            return seen
        return done
