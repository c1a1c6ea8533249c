"""e2e_runbook_replace: docs/operations.md, "Replace a failed node", done as
the runbook says: once with raftlockctl, once with curl. A lock and an
election held before the failure survive with their fencing tokens, and the
replacement counts toward the quorum afterwards."""

import json
import os
import shutil
import subprocess

import harness
from harness import wait_until


def ctl(endpoints, *args):
    out = subprocess.run([harness.raftlockctl_path(), "--endpoints", endpoints] + list(args),
                         capture_output=True, text=True, timeout=30)
    return out.returncode, out.stdout, out.stderr


def curl(*args):
    out = subprocess.run(["curl", "-sS", "--max-time", "10", "-w", "\n%{http_code}"] + list(args),
                         capture_output=True, text=True, timeout=30)
    body, _, code = out.stdout.rpartition("\n")
    return int(code or 0), (json.loads(body) if body.strip() else None)


class RunbookReplace(harness.ClusterTestCase):
    def hold_things(self, c):
        s = c.create_session(name="before-failure")
        node = c.alive_nodes()[0]
        st, _, g = node.post("/v1/locks/db.main/acquire", {"session": s})
        self.assertEqual(st, 200, g)
        st, _, e = node.post("/v1/elections/primary/campaign", {"session": s, "value": "10.0.0.9"})
        self.assertEqual(st, 200, e)
        return s, g["fencing_token"], e["term"]

    def check_things(self, node, s, token, term):
        st, _, b = node.get("/v1/locks/db.main")
        self.assertEqual(st, 200, b)
        self.assertEqual([(h["session"], h["fencing_token"]) for h in b["holders"]], [(s, token)])
        st, _, b = node.get("/v1/elections/primary")
        self.assertEqual(st, 200, b)
        self.assertEqual((b["leader"]["session"], b["leader"]["term"]), (s, term))
        st, _, b = node.post("/v1/sessions/%s/keepalive" % s)
        self.assertEqual(st, 200, b)

    def fail_and_wipe(self, c, victim):
        victim.kill9()
        shutil.rmtree(victim.data_dir)  # the disk is gone with the host

    def test_replace_with_raftlockctl(self):
        c = self.new_cluster(3, name="replace-ctl").start()
        s, token, term = self.hold_things(c)
        leader = c.wait_leader()
        victim = [n for n in c.alive_nodes() if n is not leader][0]
        self.fail_and_wipe(c, victim)
        eps = c.endpoints(c.alive_nodes())

        # 1. Remove the dead member.
        rc, out, err = ctl(eps, "members", "remove", str(victim.id))
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.strip(), "removed member %d" % victim.id)
        # 2. Start the replacement: empty data dir, a new id, --join.
        new = c.add_joiner(4)
        # 3. Add it: a learner, promoted to voter once caught up.
        rc, out, err = ctl(eps, "members", "add", "4", new.peer, new.http)
        self.assertEqual(rc, 0, err)

        def voter4():
            rc, out, _ = ctl(eps, "--json", "members")
            ms = {m["id"]: m for m in json.loads(out)["members"]} if rc == 0 else {}
            return 4 in ms and ms[4]["voter"] and victim.id not in ms
        wait_until(voter4, 15, what="node 4 a voter")
        rc, out, err = ctl("http://" + new.http, "--json", "status")
        self.assertEqual(rc, 0, err)
        st = json.loads(out)
        self.assertEqual(sorted(st["voters"]), sorted([n.id for n in c.alive_nodes()]))
        c.wait_caught_up(new)
        wait_until(lambda: harness.try_http(new.http, "GET", "/readyz")[0] == 200, 5,
                   what="node 4 ready")
        self.check_things(new, s, token, term)

        # The replacement is part of the quorum: lose another original node.
        other = [n for n in c.alive_nodes() if n is not new][0]
        other.kill9()
        c.wait_leader(timeout=10)
        c.create_session(name="after-replacement")
        self.check_things(new, s, token, term)

    def test_replace_leader_with_curl(self):
        c = self.new_cluster(3, name="replace-curl").start()
        s, token, term = self.hold_things(c)
        victim = c.wait_leader()
        self.fail_and_wipe(c, victim)
        rest = c.alive_nodes()
        c.wait_leader(timeout=10)
        any_node = rest[0].http

        code, b = curl("-X", "DELETE", "http://%s/v1/cluster/members/%d" % (any_node, victim.id))
        self.assertEqual((code, b), (200, {"removed": victim.id}))
        new = c.add_joiner(5)
        code, b = curl("-X", "POST", "http://%s/v1/cluster/members" % any_node,
                       "-d", json.dumps({"id": 5, "peer": new.peer, "http": new.http}))
        self.assertEqual(code, 201, b)
        self.assertEqual(b["voter"], False)

        def voter5():
            code, b = curl("http://%s/v1/cluster/members" % any_node)
            ms = {m["id"]: m for m in b["members"]} if code == 200 else {}
            return 5 in ms and ms[5]["voter"] and victim.id not in ms
        wait_until(voter5, 15, what="node 5 a voter")
        c.wait_caught_up(new)
        wait_until(lambda: curl("http://%s/readyz" % new.http)[0] == 200, 5, what="node 5 ready")
        self.check_things(new, s, token, term)

        rest[0].kill9()
        c.wait_leader(timeout=10)
        c.create_session(name="after-replacement")
        self.check_things(new, s, token, term)


if __name__ == "__main__":
    harness.main()
