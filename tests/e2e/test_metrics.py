"""e2e_metrics: /metrics is valid Prometheus text, every documented family is
there, and each moves with traffic (docs/operations.md, "Metrics"). Also: a
node's log is one line per event with time, level, node id and term."""

import http.client
import re
import signal
import threading
import time

import harness
import metrics_text
from harness import wait_until

FAMILIES = {
    "raftlock_raft_term": "gauge",
    "raftlock_raft_role": "gauge",
    "raftlock_raft_is_leader": "gauge",
    "raftlock_raft_commit_index": "gauge",
    "raftlock_raft_applied_index": "gauge",
    "raftlock_state_written_index": "gauge",
    "raftlock_raft_leader_changes_total": "counter",
    "raftlock_raft_proposal_seconds": "histogram",
    "raftlock_storage_write_seconds": "histogram",
    "raftlock_raft_snapshots_total": "counter",
    "raftlock_sessions": "gauge",
    "raftlock_locks_active": "gauge",
    "raftlock_lock_waiters": "gauge",
    "raftlock_lock_grants_total": "counter",
    "raftlock_lock_releases_total": "counter",
    "raftlock_session_expiries_total": "counter",
    "raftlock_http_requests_total": "counter",
    "raftlock_http_request_seconds": "histogram",
}

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=(debug|info|warn|error) "
                      r"node=\d+ term=\d+ \S")


def scrape(node):
    host, port = node.http.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    conn.request("GET", "/metrics")
    resp = conn.getresponse()
    assert resp.status == 200, resp.status
    text = resp.read().decode()
    ctype = resp.getheader("Content-Type")
    conn.close()
    assert ctype.startswith("text/plain; version=0.0.4"), ctype
    return metrics_text.parse(text)


class Metrics(harness.ClusterTestCase):
    def test_families_move_with_traffic(self):
        c = self.new_cluster(3, name="metrics", extra_args=["--snapshot-entries", "40"]).start()
        leader = c.wait_leader()
        follower = [n for n in c.alive_nodes() if n is not leader][0]
        before = {n.id: scrape(n) for n in (leader, follower)}
        for node, fams in before.items():
            for name, typ in FAMILIES.items():
                self.assertIn(name, fams, "node %d lacks %s" % (node, name))
                self.assertEqual(fams[name]["type"], typ, name)
                self.assertTrue(fams[name]["help"], "%s has no HELP" % name)

        # Traffic through the follower (forwarded proposals) and the leader.
        s1 = c.create_session(node=follower, name="metrics-1")
        s2 = c.create_session(node=leader, name="metrics-2")
        for i in range(30):
            st, _, b = follower.post("/v1/locks/m%d/acquire" % i, {"session": s1})
            self.assertEqual(st, 200, b)
            st, _, b = leader.post("/v1/locks/m%d/release" % i, {"session": s1})
            self.assertEqual(st, 200, b)
        st, _, b = leader.post("/v1/locks/held/acquire", {"session": s1})
        self.assertEqual(st, 200, b)
        # A waiter while we scrape.
        waiter = threading.Thread(target=lambda: harness.try_http(
            leader.http, "POST", "/v1/locks/held/acquire", {"session": s2, "wait_ms": 3000},
            timeout=10))
        waiter.start()
        wait_until(lambda: metrics_text.value(scrape(leader), "raftlock_lock_waiters") >= 1, 5,
                   what="raftlock_lock_waiters >= 1")
        st, _, b = leader.post("/v1/locks/held/release", {"session": s1})
        self.assertEqual(st, 200, b)
        waiter.join()
        # A session that expires.
        st, _, b = leader.post("/v1/sessions", {"ttl_ms": 1000, "name": "short"})
        self.assertEqual(st, 201, b)
        short = b["session"]
        wait_until(lambda: harness.try_http(leader.http, "GET", "/v1/sessions/" + short)[0] == 404,
                   10, what="the short session to expire")
        # Election grants count as grants too.
        st, _, b = follower.post("/v1/elections/e/campaign", {"session": s1, "value": "x"})
        self.assertEqual(st, 200, b)
        c.wait_caught_up(follower)

        after = {n.id: scrape(n) for n in (leader, follower)}
        v = metrics_text.value
        for nid in after:
            b, a = before[nid], after[nid]
            what = "node %d: " % nid
            self.assertGreater(v(a, "raftlock_raft_commit_index"), v(b, "raftlock_raft_commit_index"))
            self.assertGreater(v(a, "raftlock_raft_applied_index"),
                               v(b, "raftlock_raft_applied_index"))
            self.assertGreater(v(a, "raftlock_state_written_index"),
                               v(b, "raftlock_state_written_index"), what)
            self.assertLessEqual(v(a, "raftlock_state_written_index"),
                                 v(a, "raftlock_raft_applied_index"), what)
            self.assertGreater(v(a, "raftlock_storage_write_seconds_count"),
                               v(b, "raftlock_storage_write_seconds_count"), what)
            self.assertGreater(v(a, "raftlock_storage_write_seconds_sum"), 0, what)
            self.assertGreaterEqual(v(a, "raftlock_lock_grants_total"), 33, what)
            self.assertGreaterEqual(v(a, "raftlock_lock_releases_total"), 31, what)
            self.assertGreaterEqual(v(a, "raftlock_session_expiries_total"), 1, what)
            self.assertGreaterEqual(v(a, "raftlock_raft_snapshots_total", source="local"), 1, what)
            self.assertGreaterEqual(v(a, "raftlock_sessions"), 2, what)
            self.assertGreaterEqual(v(a, "raftlock_locks_active"), 1, what)
            self.assertGreaterEqual(v(a, "raftlock_raft_leader_changes_total"), 1, what)
            self.assertGreater(v(a, "raftlock_http_requests_total"),
                               v(b, "raftlock_http_requests_total") or 0, what)
        # Proposal latency: counted where the request was proposed.
        for nid in after:
            self.assertGreaterEqual(
                v(after[nid], "raftlock_raft_proposal_seconds_count")
                - (v(before[nid], "raftlock_raft_proposal_seconds_count") or 0), 30,
                "node %d proposals" % nid)
        a = after[follower.id]
        self.assertGreaterEqual(
            v(a, "raftlock_http_requests_total", route="locks_acquire", status=200), 30)
        self.assertGreaterEqual(
            v(a, "raftlock_http_request_seconds_count", route="locks_acquire"), 30)
        self.assertEqual(v(after[leader.id], "raftlock_raft_is_leader"), 1)
        self.assertEqual(v(after[leader.id], "raftlock_raft_role"), 3)

        # A follower that was down past a snapshot installs the leader's.
        lagging = [n for n in c.alive_nodes() if n is not leader and n is not follower][0]
        lagging.stop()
        for i in range(60):
            st, _, b = leader.post("/v1/locks/late%d/acquire" % i, {"session": s2})
            self.assertEqual(st, 200, b)
        lagging.start().wait_serving()
        c.wait_caught_up(lagging)
        wait_until(lambda: v(scrape(lagging), "raftlock_raft_snapshots_total", source="leader") >= 1,
                   10, what="a snapshot installed from the leader")

        # Logs: one line per event, with level, node id and term.
        for n in c.alive_nodes():
            rc, _ = n.stop(signal.SIGTERM)
            self.assertEqual(rc, 0)
        for n in c.nodes.values():
            lines = [l for l in n.log_text().splitlines() if l and not l.startswith("=== start")]
            self.assertTrue(lines)
            bad = [l for l in lines if not LOG_LINE.match(l)]
            self.assertEqual(bad, [], "node %d: log lines not in the one-line format" % n.id)
            self.assertTrue(any("stopping" in l for l in lines), "node %d logs its stop" % n.id)


if __name__ == "__main__":
    harness.main()
