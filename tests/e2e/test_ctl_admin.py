"""e2e_ctl_admin: raftlockctl's read and administration commands, as tables
and with --json, plus endpoint failover and the connection-error exit code."""

import json
import subprocess
import threading

import harness
from harness import wait_until

EXIT_USAGE = 77


def ctl(endpoints, *args, timeout=30):
    out = subprocess.run([harness.raftlockctl_path(), "--endpoints", endpoints] + list(args),
                         capture_output=True, text=True, timeout=timeout)
    return out.returncode, out.stdout, out.stderr


def table(text):
    """Rows of an aligned table as lists of cells (header first)."""
    return [line.split() for line in text.splitlines() if line.strip()]


class CtlAdmin(harness.ClusterTestCase):
    def ok(self, eps, *args):
        rc, out, err = ctl(eps, *args)
        self.assertEqual(rc, 0, "raftlockctl %s: %s" % (" ".join(args), err))
        return out

    def test_admin_commands(self):
        c = self.new_cluster(3, name="ctladmin").start()
        eps = c.endpoints()
        leader = c.wait_leader()

        rows = table(self.ok(eps, "leader"))
        self.assertEqual(rows[0], ["ID", "HTTP", "TERM"])
        self.assertEqual(rows[1][:2], [str(leader.id), leader.http])
        b = json.loads(self.ok(eps, "leader", "--json"))
        self.assertEqual(b["id"], leader.id)
        self.assertEqual(b["http"], leader.http)

        rows = table(self.ok("http://" + leader.http, "status"))
        self.assertEqual(rows[0][:3], ["ID", "ROLE", "TERM"])
        self.assertEqual(rows[1][:2], [str(leader.id), "leader"])
        self.assertIn(["PEER", "MATCH", "NEXT", "LAG", "VOTER", "STATE", "ACTIVE"], rows)
        b = json.loads(self.ok("http://" + leader.http, "--json", "status"))
        self.assertEqual(b["role"], "leader")
        self.assertEqual(len(b["peers"]), 2)
        # Every member's status, one row each, asked at its own address.
        rows = table(self.ok(eps, "status", "--cluster"))
        self.assertEqual(rows[0][:4], ["ID", "HTTP", "VOTER", "ROLE"])
        self.assertEqual(sorted(r[0] for r in rows[1:]), ["1", "2", "3"])
        self.assertEqual([r[3] for r in rows[1:]].count("leader"), 1, rows)
        self.assertEqual({r[1] for r in rows[1:]}, {n.http for n in c.alive_nodes()})

        rows = table(self.ok(eps, "members"))
        self.assertEqual(rows[0], ["ID", "PEER", "HTTP", "VOTER"])
        self.assertEqual(sorted(int(r[0]) for r in rows[1:]), [1, 2, 3])
        self.assertTrue(all(r[3] == "yes" for r in rows[1:]), rows)
        b = json.loads(self.ok(eps, "members", "list", "--json"))
        self.assertEqual(sorted(m["id"] for m in b["members"]), [1, 2, 3])

        # Locks, elections and sessions, first empty, then with content.
        self.assertEqual(table(self.ok(eps, "locks")),
                         [["LOCK", "LIMIT", "HOLDERS", "TOKENS", "MODES", "WAITERS"]])
        s1 = c.create_session(name="admin-one")
        s2 = c.create_session(name="admin-two")
        node = c.alive_nodes()[0]
        st, _, g = node.post("/v1/locks/db.main/acquire", {"session": s1})
        self.assertEqual(st, 200, g)
        st, _, _ = node.post("/v1/locks/other/acquire", {"session": s2})
        self.assertEqual(st, 200)
        st, _, e = node.post("/v1/elections/primary/campaign", {"session": s2, "value": "10.0.0.7"})
        self.assertEqual(st, 200, e)

        rows = table(self.ok(eps, "locks", "--prefix", "db."))
        self.assertEqual(rows[1:], [["db.main", "1", s1, str(g["fencing_token"]), "exclusive",
                                     "0"]])
        b = json.loads(self.ok(eps, "--json", "locks"))
        self.assertEqual(sorted(l["lock"] for l in b["locks"]), ["db.main", "other"])

        rows = table(self.ok(eps, "elections"))
        self.assertEqual(rows[0], ["ELECTION", "LEADER", "VALUE", "TERM", "CANDIDATES"])
        self.assertEqual(rows[1], ["primary", s2, "10.0.0.7", str(e["term"]), "0"])
        b = json.loads(self.ok(eps, "elections", "--json"))
        self.assertEqual(b["elections"][0]["leader"]["value"], "10.0.0.7")

        rows = table(self.ok(eps, "sessions"))
        self.assertEqual(rows[0], ["SESSION", "NAME", "TTL_MS", "HELD", "WAITING", "LEADING"])
        by_id = {r[0]: r for r in rows[1:]}
        self.assertEqual(by_id[s1][1:4], ["admin-one", str(harness.LONG_TTL_MS), "db.main"])
        self.assertEqual(by_id[s2][5], "primary")
        b = json.loads(self.ok(eps, "sessions", "--json"))
        self.assertEqual({s["session"] for s in b["sessions"]}, {s1, s2})

        # Leadership transfer to a named follower.
        target = [n for n in c.alive_nodes() if n.id != leader.id][0]
        out = self.ok(eps, "transfer-leadership", str(target.id))
        self.assertEqual(out.strip(), "leader: %d" % target.id)
        self.assertEqual(c.wait_leader().id, target.id)

        # Membership: add a joining node, then remove it.
        joiner = c.add_joiner(4)
        out = self.ok(eps, "members", "add", "4", joiner.peer, joiner.http)
        self.assertIn("added member 4", out)

        def voter4():
            rows = table(ctl(eps, "members")[1])
            return any(r[0] == "4" and r[3] == "yes" for r in rows[1:])
        wait_until(voter4, 15, what="node 4 to become a voter")
        self.assertEqual(self.ok(eps, "members", "remove", "4").strip(), "removed member 4")

        # Usage errors and refusals.
        rc, _, err = ctl(eps, "members", "remove", "99")
        self.assertEqual(rc, 1, err)
        self.assertIn("member_not_found", err)
        self.assertEqual(ctl(eps, "no-such-command")[0], EXIT_USAGE)
        self.assertEqual(ctl(eps, "lock", "x")[0], EXIT_USAGE)  # no command

    def test_members_added_back_to_back(self):
        c = self.new_cluster(3, name="ctlbusy").start()
        eps = c.endpoints()
        leader = c.wait_leader()
        # Two changes at once over HTTP: the one refused while the other is
        # uncommitted is a 409 that says when to come back (Retry-After).
        j4, j5 = c.add_joiner(4), c.add_joiner(5)
        answers = []

        def add(node):
            answers.append((node.id, harness.http(
                leader.http, "POST", "/v1/cluster/members",
                {"id": node.id, "peer": node.peer, "http": node.http})))
        threads = [threading.Thread(target=add, args=(n,)) for n in (j4, j5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        added = []
        for node_id, (st, hs, b) in answers:
            self.assertIn(st, (200, 201, 409), b)
            if st == 409:
                self.assertEqual(harness.error_code(b), "conflict", b)
                self.assertIn("retry-after", hs, b)
            else:
                added.append(node_id)
        self.assertTrue(added, answers)
        for m in added:
            self.ok(eps, "members", "remove", str(m))
        # raftlockctl waits such a refusal out: adding both in a row succeeds
        # even while the first one's promotion to voter is not committed.
        for n in (j4, j5):
            n.stop()
        j6, j7 = c.add_joiner(6), c.add_joiner(7)
        self.assertIn("added member 6", self.ok(eps, "members", "add", "6", j6.peer, j6.http))
        self.assertIn("added member 7", self.ok(eps, "members", "add", "7", j7.peer, j7.http))

        def voters():
            rows = table(ctl(eps, "members")[1])
            return sorted(r[0] for r in rows[1:] if r[3] == "yes")
        wait_until(lambda: voters() == ["1", "2", "3", "6", "7"], 20, what="6 and 7 voters")

    def test_failover_and_unreachable(self):
        c = self.new_cluster(3, name="ctlfailover").start()
        dead = "http://127.0.0.1:%d" % harness.free_port()
        # A dead endpoint first: the next one answers.
        rows = table(self.ok(dead + "," + c.endpoints(), "members"))
        self.assertEqual(len(rows), 4)
        # RAFTLOCK_ENDPOINTS is used without --endpoints.
        out = subprocess.run([harness.raftlockctl_path(), "leader", "--json"],
                             capture_output=True, text=True, timeout=30,
                             env=dict(__import__("os").environ, RAFTLOCK_ENDPOINTS=c.endpoints()))
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("id", json.loads(out.stdout))
        # A member down: listed as unreachable, the others as usual, exit 77.
        down = c.followers()[0]
        down.stop()
        rc, out, err = ctl(c.endpoints(), "status", "--cluster")
        self.assertEqual(rc, EXIT_USAGE, err)
        rows = {r[0]: r for r in table(out)[1:]}
        self.assertEqual(rows[str(down.id)][3], "unreachable")
        self.assertEqual(sorted(r[3] for k, r in rows.items() if k != str(down.id)),
                         ["follower", "leader"])
        self.assertIn("member %d" % down.id, err)
        rc, out, _ = ctl(c.endpoints(), "--json", "status", "--cluster")
        self.assertEqual(rc, EXIT_USAGE)
        by_id = {m["id"]: m for m in json.loads(out)["members"]}
        self.assertIn("error", by_id[down.id])
        self.assertIn("status", by_id[c.wait_leader().id])
        # Nothing reachable: 77 once --timeout-ms passed.
        rc, _, err = ctl(dead, "--timeout-ms", "500", "leader")
        self.assertEqual(rc, EXIT_USAGE, err)
        self.assertIn("no endpoint answered", err)


if __name__ == "__main__":
    harness.main()
