"""e2e_five_node: two of five down (the leader among them) and writes go on."""

import time

import harness
from harness import LONG_TTL_MS, try_http, wait_until


class FiveNode(harness.ClusterTestCase):
    def test_five_node(self):
        c = self.new_cluster(5, name="five")
        c.start()
        leader = c.wait_leader()
        acked = [c.create_session(node=n, name="before") for n in c.nodes.values()]

        follower = next(n for n in c.nodes.values() if n is not leader)
        down = [leader, follower]
        survivors = [n for n in c.nodes.values() if n not in down]
        for n in down:
            n.kill9()
        t_kill = time.monotonic()
        seen = harness.watch_new_leader(survivors, leader.id, t_kill)
        sid = None
        k = 0
        while time.monotonic() - t_kill < 15 and sid is None:
            n = survivors[k % len(survivors)]
            k += 1
            st, _, b = try_http(n.http, "POST", "/v1/sessions", {"ttl_ms": LONG_TTL_MS}, timeout=3)
            if st == 201:
                sid = b["session"]
            else:
                self.assertIn(st, (None, 503, 504), b)
                time.sleep(0.01)
        self.assertIsNotNone(sid, "3 of 5 nodes up and no write acknowledged within 15 s")
        acked.append(sid)
        t_write = time.monotonic() - t_kill
        new = c.wait_leader()
        self.assertNotIn(new, down)
        print("FIGURE e2e_five_node: after kill -9 of leader node %d and follower node %d: new leader "
              "(node %d) named by every survivor after %.0f ms; first acknowledged write after %.0f ms"
              % (leader.id, follower.id, new.id, (seen() or float("nan")) * 1000, t_write * 1000),
              flush=True)
        for i in range(20):
            acked.append(c.create_session(node=survivors[i % 3], name="degraded%d" % i))

        for n in down:
            n.start()
        for n in down:
            n.wait_serving()
            c.wait_caught_up(n, timeout=15)
            self.assert_has_sessions(c, n, acked, " after restart")
            wait_until(lambda: try_http(n.http, "GET", "/readyz")[0] == 200, 5, what="readyz")
        c.wait_leader()
        # All five take part again: the leader sees every peer matching.
        lead = c.leader()
        c.create_session(node=down[0])

        def all_match():
            st = lead.status()
            commit = st["commit_index"]
            return len(st.get("peers", [])) == 4 and all(p["match_index"] >= commit for p in st["peers"])
        wait_until(all_match, 10, what="every peer matching the leader's commit index")


if __name__ == "__main__":
    harness.main()
