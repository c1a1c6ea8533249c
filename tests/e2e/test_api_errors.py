"""e2e_api_errors: bad input on every session, lock and election route
(API.md "Conventions" and "Requests"): 400 invalid_json / invalid_argument /
invalid_name, 413, 404 / 405, blocking-query parameters, consistency=stale.
Never a 500, and every node still serves at the end."""

import json

import harness
from lockapi import ApiTestCase
from test_bad_input import parse_raw_response, post_raw_body, raw_exchange

NAMED_POSTS = ["/v1/locks/%s/acquire", "/v1/locks/%s/release", "/v1/locks/%s/check",
               "/v1/elections/%s/campaign", "/v1/elections/%s/proclaim", "/v1/elections/%s/resign"]
NAMED_GETS = ["/v1/locks/%s", "/v1/elections/%s"]


class ApiErrors(ApiTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sid = cls.cluster.create_session()

    def valid_body(self, path):
        return {"session": self.sid, "value": "v", "fencing_token": 1}

    def test_bodies(self):
        for tmpl in NAMED_POSTS:
            path = tmpl % self.name()
            for node in (self.leader(), self.follower()):
                for raw in [b"{", b'{"session": ', b"not json", b"{'session': 1}", b'{"a":1}}', b"\xff\xfe"]:
                    self.assert_error(self.call(node, "POST", path, raw=raw), 400, "invalid_json",
                                      what="%s %r" % (path, raw))
                for raw in [b"[1]", b'"s"', b"5", b"null", b"true"]:
                    self.assert_error(self.call(node, "POST", path, raw=raw), 400, "invalid_argument",
                                      what="%s %r" % (path, raw))
        s = self.sid
        cases = {
            "/v1/locks/%s/acquire": [
                ({}, "session"), ({"session": 5}, "session"), ({"session": s, "wait_ms": "1"}, "wait_ms"),
                ({"session": s, "wait_ms": 5000.0}, "wait_ms"), ({"session": s, "wait_ms": -1}, "wait_ms"),
                ({"session": s, "wait_ms": 300001}, "wait_ms"), ({"session": s, "limit": 0}, "limit"),
                ({"session": s, "limit": 1.5}, "limit"), ({"session": s, "limit": 2 ** 64}, "limit"),
                ({"session": s, "limit": "2"}, "limit"), ({"session": s, "mode": "write"}, "mode"),
                ({"session": s, "mode": 1}, "mode"), ({"session": s, "mode": "shared", "limit": 2}, "mode"),
                ({"session": s, "wait_ms": True}, "wait_ms")],
            "/v1/locks/%s/release": [
                ({}, "session"), ({"session": [s]}, "session"), ({"session": s, "fencing_token": "1"}, "fencing_token"),
                ({"session": s, "fencing_token": 1.0}, "fencing_token"),
                ({"session": s, "fencing_token": -1}, "fencing_token")],
            "/v1/locks/%s/check": [
                ({}, "fencing_token"), ({"fencing_token": "4711"}, "fencing_token"),
                ({"fencing_token": 4711.0}, "fencing_token"), ({"fencing_token": 2 ** 64}, "fencing_token")],
            "/v1/elections/%s/campaign": [
                ({}, "session"), ({"session": s, "value": 5}, "value"), ({"session": s, "wait_ms": 5000.0}, "wait_ms"),
                ({"session": s, "wait_ms": 300001}, "wait_ms"), ({"session": s, "value": "x" * 70000}, None)],
            "/v1/elections/%s/proclaim": [({"session": s}, "value"), ({"session": s, "value": {}}, "value"),
                                          ({"value": "x"}, "session")],
            "/v1/elections/%s/resign": [({}, "session"), ({"session": None}, "session"), ({"session": 1.5}, "session")],
        }
        for tmpl, bodies in cases.items():
            for body, field in bodies:
                st, hs, b = resp = self.call(self.follower(), "POST", tmpl % self.name(), body)
                if field is None:  # a body over 64 KiB
                    self.assertEqual((st, harness.error_code(b)), (413, "payload_too_large"), b)
                    continue
                self.assert_error(resp, 400, "invalid_argument", field, what="%s %s" % (tmpl, str(body)[:80]))
        # Sessions: the body limit, and unknown fields ignored.
        st, hs, b = post_raw_body(self.leader().http, "/v1/locks/%s/acquire" % self.name(),
                                  json.dumps({"session": s, "pad": "x" * 70000}).encode())
        self.assertEqual((st, harness.error_code(b)), (413, "payload_too_large"), b)
        g = self.ok(self.call(self.leader(), "POST", "/v1/locks/%s/acquire" % self.name("ok"),
                              {"session": s, "unknown": [1, {"x": None}]}))
        self.assertEqual(g["session"], s)

    def test_names(self):
        bad = ["a%41", "a%2Fb", "%2e", ".", "..", "n" * 201, "a+b", "a'b", "a,b", "a*b", "a@b"]
        for node in (self.leader(), self.follower()):
            for name in bad:
                for tmpl in NAMED_POSTS:
                    self.assert_error(self.call(node, "POST", tmpl % name, self.valid_body(tmpl)), 400,
                                      "invalid_name", what=tmpl % name[:40])
                for tmpl in NAMED_GETS:
                    self.assert_error(self.call(node, "GET", tmpl % name), 400, "invalid_name", what=tmpl % name[:40])
            # Empty: "/v1/locks//acquire" and "/v1/locks/".
            for tmpl in NAMED_POSTS + NAMED_GETS:
                st, _, b = self.call(node, "POST" if tmpl in NAMED_POSTS else "GET", tmpl % "", self.valid_body(tmpl)
                                     if tmpl in NAMED_POSTS else None)
                self.assertEqual((st, harness.error_code(b)), (400, "invalid_name"), (tmpl, b))
            # Raw UTF-8 in the path (not percent-encoded).
            for tmpl in NAMED_GETS:
                req = ("GET " + tmpl % "caf\u00e9" + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").encode()
                st, hs, b = parse_raw_response(raw_exchange(node.http, req))
                self.assertEqual((st, harness.error_code(b)), (400, "invalid_name"), b)
                self.assertIn("x-raft-term", hs)
        ok = "A-z_0.9:~" + "n" * 191
        self.assertEqual(len(ok), 200)
        self.ok(self.call(self.follower(), "POST", "/v1/locks/%s/acquire" % ok, {"session": self.sid}))
        self.assertEqual(self.ok(self.call(self.leader(), "GET", "/v1/locks/" + ok))["lock"], ok)
        self.ok(self.call(self.follower(), "POST", "/v1/elections/%s/campaign" % ok, {"session": self.sid}))
        self.assertEqual(self.ok(self.call(self.leader(), "GET", "/v1/elections/" + ok))["election"], ok)

    def test_routes(self):
        for node in (self.leader(), self.follower()):
            for method, path in [("GET", "/v1/locks/a/b/c"), ("POST", "/v1/locks/a/unlock"),
                                 ("POST", "/v1/elections/a/acquire"), ("GET", "/v1/lock/a"),
                                 ("POST", "/v1/sessions/%s/keepalive/x" % self.sid), ("GET", "/v1/elections/a/b")]:
                self.assert_error(self.call(node, method, path), 404, "not_found", what=method + " " + path)
            for method, path in [("GET", "/v1/locks/a/acquire"), ("DELETE", "/v1/locks/a"), ("POST", "/v1/locks"),
                                 ("PUT", "/v1/locks/a/release"), ("GET", "/v1/locks/a/check"),
                                 ("PUT", "/v1/elections/a"), ("POST", "/v1/elections"),
                                 ("GET", "/v1/elections/a/campaign"), ("DELETE", "/v1/elections/a/resign"),
                                 ("GET", "/v1/sessions/%s/keepalive" % self.sid), ("PUT", "/v1/sessions/%s" % self.sid),
                                 ("POST", "/v1/sessions/%s" % self.sid)]:
                self.assert_error(self.call(node, method, path), 405, "method_not_allowed", what=method + " " + path)

    def test_blocking_query_params(self):
        gets = ["/v1/locks/" + self.name(), "/v1/elections/" + self.name(), "/v1/sessions/" + self.sid]
        # Used once, so modify_index > 0 and "index=0" answers at once.
        for path in NAMED_POSTS[0], NAMED_POSTS[3]:
            self.ok(self.call(self.leader(), "POST", path % self.name(), {"session": self.sid}))
        for node in (self.leader(), self.follower()):
            for path in gets:
                for q in ["index=abc", "index=-1", "index=1.5", "index=", "index=1&wait_ms=300001",
                          "index=1&wait_ms=-5", "index=1&wait_ms=x", "index=99999999999999999999",
                          "consistency=bogus"]:
                    self.assert_error(self.call(node, "GET", path + "?" + q), 400, "invalid_argument",
                                      what=path + "?" + q)
                b = self.ok(self.call(node, "GET", path + "?index=0&wait_ms=300000"))
                self.assertNotIn("stale", b)

    def test_stale_reads(self):
        lock = self.name()
        self.ok(self.call(self.leader(), "POST", "/v1/locks/%s/acquire" % lock, {"session": self.sid}))
        for node in self.all_nodes():
            for path in ["/v1/locks/" + lock, "/v1/locks", "/v1/locks?prefix=" + lock, "/v1/elections/" + lock,
                         "/v1/elections", "/v1/sessions", "/v1/sessions/" + self.sid]:
                sep = "&" if "?" in path else "?"
                b = self.ok(self.call(node, "GET", path + sep + "consistency=stale"), what=path)
                self.assertIs(b.get("stale"), True, "%s on %r: %s" % (path, node, b))
                self.assertNotIn("stale", self.ok(self.call(node, "GET", path)), path)
            b = self.ok(self.call(node, "POST", "/v1/locks/%s/check?consistency=stale" % lock, {"fencing_token": 1}))
            self.assertIs(b.get("stale"), True, b)

    def test_zz_nodes_alive(self):
        # Runs last (alphabetical order): every node survived everything above.
        self.assert_alive()
        for node in self.all_nodes():
            self.ok(self.call(node, "POST", "/v1/sessions", {"ttl_ms": 5000}), 201)


if __name__ == "__main__":
    harness.main()
