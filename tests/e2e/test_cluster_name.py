"""e2e_cluster_name: a node of another --cluster-name is refused."""

import re
import time

import harness
from harness import log, try_http


class ClusterName(harness.ClusterTestCase):
    def test_stray_node_refused(self):
        # Node 3 is named in the same --initial-cluster but runs with another
        # --cluster-name: nodes 1 and 2 form the cluster (2 of 3 voters), node 3
        # must never join it.
        c = self.new_cluster(3, name="cname", per_node_args={3: ["--cluster-name", "other-cluster"]})
        c.start(ids=[1, 2], wait_leader=True)
        n1, n2, stray = c.nodes[1], c.nodes[2], c.nodes[3]
        leader = c.wait_leader(nodes=[n1, n2])
        term = leader.status()["term"]
        acked = [c.create_session(node=n1)]
        stray.start()
        stray.wait_serving()

        t_end = time.monotonic() + 4.0  # > 6 election timeouts of the stray
        samples = 0
        while time.monotonic() < t_end:
            st, _, b = try_http(stray.http, "GET", "/readyz")
            self.assertEqual(st, 503, "stray /readyz: %s %s" % (st, b))
            st, hs, b = try_http(stray.http, "GET", "/v1/cluster/leader")
            self.assertEqual(st, 503, "stray /v1/cluster/leader: %s %s" % (st, b))
            self.assertEqual(hs.get("x-raft-leader"), "", hs)
            views = c.leader_views([n1, n2])
            self.assertEqual(set(views.values()), {leader.id}, "established cluster lost its leader: %s" % views)
            samples += 1
            time.sleep(0.1)
        st = leader.status()
        self.assertEqual(st["term"], term, "the stray disturbed the term: %s" % st)
        self.assertEqual(st["role"], "leader")
        self.assertEqual(sorted(st["voters"]), [1, 2, 3])
        ss = stray.status()
        self.assertIsNone(ss["leader"], ss)
        self.assertNotEqual(ss["role"], "leader", ss)
        # Index 1 is the founding configuration every node writes itself.
        self.assertLessEqual(ss["last_log_index"], 1, "the stray received entries: %s" % ss)
        # The stray's session list is empty; the cluster still takes writes.
        acked.append(c.create_session(node=n2))
        st, _, b = stray.get("/v1/sessions?consistency=stale")
        self.assertEqual(st, 200, b)
        self.assertEqual(b["sessions"], [])

        # The refusal and its reason are logged.
        pat = re.compile(r'refused.*cluster name "?(other-cluster|raftlock)"?.*differs', re.I)
        logs = {n.id: n.log_text() for n in (n1, n2, stray)}
        hits = {i: [l for l in t.splitlines() if pat.search(l)] for i, t in logs.items()}
        log("refusal lines: %s" % {i: (len(h), h[0] if h else None) for i, h in hits.items()})
        self.assertTrue(hits[1] or hits[2], "no refusal logged by nodes 1/2")
        self.assertTrue(hits[3], "the stray did not log why it was refused")
        log("%d samples, term stayed %d" % (samples, term))


if __name__ == "__main__":
    harness.main()
