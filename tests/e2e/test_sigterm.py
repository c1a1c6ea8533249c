"""e2e_sigterm: SIGTERM and SIGINT stop a node cleanly (exit 0), quickly,
even with open connections and a blocking query in flight."""

import signal
import socket
import threading
import time

import harness
from harness import LONG_TTL_MS, log, try_http

QUICK_S = 3.0


class SigTerm(harness.ClusterTestCase):
    def test_sigterm_sigint(self):
        c = self.new_cluster(3, name="sigterm")
        c.start()
        leader = c.wait_leader()
        f1, f2 = [n for n in c.nodes.values() if n is not leader]
        sid = c.create_session(node=f1)

        # Follower: SIGTERM with an idle keep-alive connection and a blocking query open.
        idle = socket.create_connection(("127.0.0.1", f1.http_port))
        idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        idle.recv(4096)
        st, _, b = f1.get("/v1/sessions/" + sid)
        self.assertEqual(st, 200, b)
        blocking = {}

        def block():
            blocking["r"] = try_http(f1.http, "GET", "/v1/sessions/%s?index=%d&wait_ms=60000"
                                     % (sid, b["modify_index"]), timeout=70)
        th = threading.Thread(target=block, daemon=True)
        th.start()
        time.sleep(0.3)
        rc, secs = f1.stop(signal.SIGTERM, timeout=10)
        log("SIGTERM follower node %d: exit %s in %.3f s" % (f1.id, rc, secs))
        self.assertEqual(rc, 0, "SIGTERM: exit %s" % rc)
        self.assertLess(secs, QUICK_S, "SIGTERM took %.2f s" % secs)
        th.join(5)
        self.assertFalse(th.is_alive(), "the blocking query was not closed by the shutdown")
        idle.close()

        # Leader: SIGINT while writes are in flight; every acknowledged one survives.
        acked, stop_writers = [], threading.Event()

        def writer():
            while not stop_writers.is_set():
                st, _, b = try_http(f2.http, "POST", "/v1/sessions", {"ttl_ms": LONG_TTL_MS}, timeout=5)
                if st == 201:
                    acked.append(b["session"])
        ws = [threading.Thread(target=writer, daemon=True) for _ in range(3)]
        for w in ws:
            w.start()
        time.sleep(0.3)
        rc, secs = leader.stop(signal.SIGINT, timeout=10)
        log("SIGINT leader node %d: exit %s in %.3f s (%d writes acknowledged so far)"
            % (leader.id, rc, secs, len(acked)))
        stop_writers.set()
        for w in ws:
            w.join(10)
        self.assertEqual(rc, 0, "SIGINT: exit %s" % rc)
        self.assertLess(secs, QUICK_S, "SIGINT took %.2f s" % secs)

        # The stopped nodes come back; nothing acknowledged was lost.
        f1.start()
        leader.start()
        lead = c.wait_leader()
        for n in c.nodes.values():
            n.wait_serving()
            c.wait_caught_up(n)
            self.assert_has_sessions(c, n, acked + [sid], " after SIGTERM/SIGINT and restart")

        # A single node (its own leader) also stops at once.
        rc_all = []
        for n, sig in [(lead, signal.SIGTERM)] + [(n, signal.SIGINT) for n in c.nodes.values() if n is not lead]:
            rc, secs = n.stop(sig, timeout=10)
            rc_all.append((n.id, sig.name, rc, round(secs, 3)))
            self.assertEqual(rc, 0, rc_all)
            self.assertLess(secs, QUICK_S, rc_all)
        log("stopping all: %s" % rc_all)

    def test_sigterm_single_node_with_clients(self):
        c = self.new_cluster(1, name="sigterm1")
        c.start()
        n = c.nodes[1]
        socks = []
        for _ in range(20):
            s = socket.create_connection(("127.0.0.1", n.http_port))
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            socks.append(s)
        # A half-sent request too.
        half = socket.create_connection(("127.0.0.1", n.http_port))
        half.sendall(b"POST /v1/sessions HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")
        socks.append(half)
        time.sleep(0.2)
        rc, secs = n.stop(signal.SIGTERM, timeout=10)
        log("SIGTERM single node with 21 open connections: exit %s in %.3f s" % (rc, secs))
        self.assertEqual(rc, 0)
        self.assertLess(secs, QUICK_S)
        for s in socks:
            s.close()


if __name__ == "__main__":
    harness.main()
