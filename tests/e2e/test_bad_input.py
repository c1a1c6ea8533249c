"""e2e_bad_input: request validation, body limits, routing errors, garbage
bytes, and the daemon's flag errors."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import harness
from harness import error_code, free_port, try_http

LIMIT = 65536


def raw_exchange(addr, data, timeout=5.0, shut=True):
    """Sends bytes, then reads until the server closes (or timeout). Sending
    may fail if the server answers and closes early: the answer is still read."""
    host, port = addr.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=timeout)
    try:
        try:
            s.sendall(data)
            if shut:
                s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        out = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        s.close()


def parse_raw_response(data):
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and lines[0].startswith("HTTP/") else None
    headers = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        headers[k.strip().lower()] = v.strip()
    try:
        j = json.loads(body.decode())
    except ValueError:
        j = None
    return status, headers, j


def post_raw_body(addr, path, body, content_type="application/json"):
    req = ("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
           "Connection: close\r\n\r\n" % (path, addr, content_type, len(body))).encode() + body
    return parse_raw_response(raw_exchange(addr, req))


def padded_session_body(size):
    """A JSON object of exactly `size` bytes: a valid session request plus an
    ignored padding field."""
    base = {"ttl_ms": harness.LONG_TTL_MS, "name": "padded", "pad": ""}
    empty = len(json.dumps(base, separators=(",", ":")).encode())
    base["pad"] = "x" * (size - empty)
    data = json.dumps(base, separators=(",", ":")).encode()
    assert len(data) == size, (len(data), size)
    return data


class BadInput(harness.ClusterTestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = harness.Cluster(1, name="badinput")
        cls.cluster.start()
        cls.node = cls.cluster.nodes[1]

    @classmethod
    def tearDownClass(cls):
        rc, _ = cls.node.stop()
        cls.cluster.cleanup(keep=rc != 0)

    def tearDown(self):
        if self._failed():
            sys.stderr.write(self.cluster.dump_logs() + "\n")

    def assert_error(self, resp, status, code, field=None, what=""):
        st, hs, b = resp
        self.assertEqual(st, status, "%s: got %s %s" % (what, st, b))
        self.assertIsInstance(b, dict, what)
        self.assertIsInstance(b.get("error"), dict, "%s: error body %s" % (what, b))
        self.assertIsInstance(b["error"].get("message"), str, what)
        if code is not None:
            self.assertEqual(b["error"].get("code"), code, "%s: %s" % (what, b))
        if field is not None:
            self.assertIn(field, b["error"]["message"], "%s: the message must name '%s': %s" % (what, field, b))
        for h in ("x-raft-term", "x-raft-leader", "x-raftlock-index"):
            self.assertIn(h, hs, "%s: error response without %s" % (what, h))

    def post(self, raw):
        return harness.http(self.node.http, "POST", "/v1/sessions", raw=raw)

    def test_json_errors(self):
        for raw in [b"{", b'{"ttl_ms": ', b"not json", b"{'ttl_ms': 5000}", b'{"a":1}}', b"\xff\xfe"]:
            self.assert_error(self.post(raw), 400, "invalid_json", what="body %r" % raw)
        for raw in [b"[1,2]", b'"a string"', b"5000", b"null", b"true", b"[]"]:
            self.assert_error(self.post(raw), 400, "invalid_argument", what="body %r" % raw)

    def test_field_errors(self):
        cases = [
            ({"ttl_ms": 5000.0}, "ttl_ms"), ({"ttl_ms": 999}, "ttl_ms"),
            ({"ttl_ms": 86400001}, "ttl_ms"), ({"ttl_ms": -1}, "ttl_ms"),
            ({"ttl_ms": "5000"}, "ttl_ms"), ({"ttl_ms": True}, "ttl_ms"),
            ({"ttl_ms": 1e20}, "ttl_ms"), ({"ttl_ms": 2 ** 64}, "ttl_ms"),
            ({"ttl_ms": 2 ** 63}, "ttl_ms"), ({"ttl_ms": [5000]}, "ttl_ms"),
            ({"lock_delay_ms": 60001}, "lock_delay_ms"), ({"lock_delay_ms": -5}, "lock_delay_ms"),
            ({"lock_delay_ms": 1.5}, "lock_delay_ms"),
            ({"name": "n" * 201}, "name"), ({"name": "é" * 101}, "name"), ({"name": 7}, "name"),
        ]
        for body, field in cases:
            raw = json.dumps(body).encode()
            self.assert_error(self.post(raw), 400, "invalid_argument", field, what="body %s" % raw[:80])
        # The boundaries are accepted; unknown fields are ignored; any Content-Type; empty body = {}.
        for body in [{"ttl_ms": 1000}, {"ttl_ms": 86400000, "lock_delay_ms": 60000},
                     {"name": "n" * 200}, {"name": "é" * 100}, {"ttl_ms": 5000, "unknown": {"x": [1]}}]:
            st, _, b = self.post(json.dumps(body).encode())
            self.assertEqual(st, 201, "body %s: %s %s" % (str(body)[:80], st, b))
        st, _, b = harness.http(self.node.http, "POST", "/v1/sessions", raw=b"",
                                headers={"Content-Type": "text/plain"})
        self.assertEqual((st, b and b.get("ttl_ms")), (201, 10000), b)
        st, _, b = harness.http(self.node.http, "POST", "/v1/sessions", raw=b'{"ttl_ms": 2000}',
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual((st, b and b.get("ttl_ms")), (201, 2000), b)

    def test_body_limit(self):
        st, hs, b = post_raw_body(self.node.http, "/v1/sessions", padded_session_body(LIMIT + 1))
        self.assert_error((st, {"x-raft-term": 0, "x-raft-leader": 0, "x-raftlock-index": 0}, b),
                          413, "payload_too_large", what="body of 65537 bytes")
        st, _, b = post_raw_body(self.node.http, "/v1/sessions", padded_session_body(LIMIT))
        self.assertEqual(st, 201, "body of exactly 65536 bytes: %s %s" % (st, b))
        sid = b["session"]
        st, _, b = self.node.get("/v1/sessions/" + sid)
        self.assertEqual((st, b.get("name")), (200, "padded"), b)
        # Through http.client too (the server may close before reading the body).
        st, _, b = try_http(self.node.http, "POST", "/v1/sessions", raw=padded_session_body(LIMIT + 1))
        if st is not None:
            self.assert_error((st, {"x-raft-term": 0, "x-raft-leader": 0, "x-raftlock-index": 0}, b),
                              413, "payload_too_large", what="65537 bytes via http.client")
        # A huge declared length is refused without waiting for the body.
        req = ("POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n{").encode()
        st, _, b = parse_raw_response(raw_exchange(self.node.http, req, shut=False, timeout=3))
        self.assertEqual((st, error_code(b)), (413, "payload_too_large"), b)
        self.assert_alive()

    def test_body_limit_headers(self):
        # CONTRACT (API.md, Conventions: "Every response carries X-Raft-Term,
        # X-Raft-Leader and X-Raftlock-Index"; the only exception named is a
        # reply to bytes that were not HTTP at all). The 413 is answered by the
        # HTTP server before routing; today it lacks the three headers.
        st, hs, b = post_raw_body(self.node.http, "/v1/sessions", padded_session_body(LIMIT + 1))
        self.assertEqual(st, 413, b)
        missing = [h for h in ("x-raft-term", "x-raft-leader", "x-raftlock-index") if h not in hs]
        self.assertFalse(missing, "413 payload_too_large lacks %s; headers %s" % (missing, hs))

    def test_routes(self):
        for path in ["/nope", "/v1", "/v1/sessions/abc/def/ghi", "/v2/sessions", "/v1/cluster"]:
            self.assert_error(harness.http(self.node.http, "GET", path), 404, None, what="GET " + path)
        for method, path in [("PUT", "/v1/sessions"), ("DELETE", "/v1/sessions"), ("POST", "/healthz"),
                             ("PATCH", "/v1/cluster/members"), ("GET", "/v1/cluster/transfer-leadership"),
                             ("POST", "/v1/cluster/leader"), ("PUT", "/v1/cluster/members/3")]:
            self.assert_error(harness.http(self.node.http, method, path), 405, None, what=method + " " + path)

    def assert_alive(self):
        self.assertTrue(self.node.alive(), "raftlockd exited with %s" % self.node.proc.poll())
        st, _, b = self.node.get("/healthz")
        self.assertEqual(st, 200, b)
        st, _, b = self.node.post("/v1/sessions", {"ttl_ms": 5000})
        self.assertEqual(st, 201, b)

    def test_garbage_http(self):
        rnd = os.urandom(100000)
        payloads = [
            b"\x00\x01\x02\x03\xff\xfe\r\n\r\n",
            rnd,
            b"GET / HTTP/9.9\r\n\r\n",
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"POST /v1/sessions HTTP/1.1\r\nContent-Length: 50\r\n\r\n{\"ttl",  # then close
            b"GET /" + b"a" * 200000 + b" HTTP/1.1\r\n\r\n",
            b"GET /healthz HTTP/1.1\r\n" + b"X-Big: " + b"b" * 100000 + b"\r\n\r\n",
            b"\r\n" * 1000,
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" + rnd[:5000],
        ]
        for p in payloads:
            raw_exchange(self.node.http, p, timeout=2)
            self.assertTrue(self.node.alive(), "raftlockd died after %r..." % p[:40])
        # Connections opened and dropped without a byte, many at once.
        socks = [socket.create_connection(("127.0.0.1", self.node.http_port)) for _ in range(50)]
        for s in socks:
            s.close()
        self.assert_alive()

    def test_garbage_peer_port(self):
        for p in [os.urandom(70000), b"\x00" * 64, b"\xff" * 64, b"GET / HTTP/1.1\r\n\r\n"]:
            raw_exchange(self.node.peer, p, timeout=2)
            self.assertTrue(self.node.alive(), "raftlockd died after %r... on its peer port" % p[:40])
        self.assert_alive()


class FlagErrors(harness.ClusterTestCase):
    def run_daemon(self, *args, timeout=2.5):
        binary = harness.raftlockd_path()
        d = tempfile.mkdtemp(prefix="raftlock-flags-")
        argv = [binary, "--data-dir", os.path.join(d, "data"),
                "--listen-http", "127.0.0.1:%d" % free_port(),
                "--listen-peer", "127.0.0.1:%d" % free_port()] + list(args)
        try:
            try:
                p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout,
                                   preexec_fn=harness._die_with_parent)
            except subprocess.TimeoutExpired as e:  # run() SIGKILLed it (by pid) and reaped it
                return ("still running after %.0f s (started instead of refusing the flags)" % timeout,
                        (e.stdout or b"").decode(errors="replace"), (e.stderr or b"").decode(errors="replace"))
            return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_id_zero(self):
        rc, out, err = self.run_daemon("--id", "0")
        self.assertEqual(rc, 2, "raftlockd --id 0: exit %s, stderr %r" % (rc, err))
        self.assertIn("--id must be a positive integer", err)

    def test_flag_errors(self):
        cases = [
            (["--id", "-3"], "id"),
            (["--id", "abc"], "id"),
            (["--id", "2", "--initial-cluster", "1=127.0.0.1:7001"], "initial-cluster"),
            (["--initial-cluster", "1=127.0.0.1"], "initial-cluster"),
            (["--initial-cluster", "1=127.0.0.1:7001,1=127.0.0.1:7002"], "initial-cluster"),
            (["--join", "--initial-cluster", "1=127.0.0.1:7001"], "join"),
            (["--listen-http", "127.0.0.1:99999"], "listen-http"),
            (["--listen-peer", "nohostport"], "listen-peer"),
            (["--election-timeout-ms", "50", "--heartbeat-ms", "50"], "election-timeout-ms"),
            (["--log-level", "loud"], "log-level"),
            (["--cluster-name", ""], "cluster-name"),
            (["--no-such-flag"], "no-such-flag"),
        ]
        failures = []
        for args, word in cases:
            t0 = time.monotonic()
            rc, out, err = self.run_daemon(*args)
            took = time.monotonic() - t0
            if rc != 2 or word not in err:
                failures.append("raftlockd %s: expected exit 2 with a message naming %r; got exit %s "
                                "after %.1f s, stderr %r" % (" ".join(args), word, rc, took, err[-300:]))
        # KNOWN FAILURE (daemon bug): boost::program_options parses "--id -3" into an
        # unsigned 64-bit value (wrapping to 18446744073709551613) and the daemon starts.
        self.assertFalse(failures, "\n".join(failures))
        rc, out, err = self.run_daemon("--help")
        self.assertEqual(rc, 0, err)
        self.assertIn("--initial-cluster", out)


if __name__ == "__main__":
    harness.main()
