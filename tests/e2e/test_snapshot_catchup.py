"""e2e_snapshot_catchup: a follower behind a compacted log catches up by
InstallSnapshot (--snapshot-entries 50) and serves every session."""

import threading
import time

import harness
from harness import log, try_http, wait_until

N_SESSIONS = 300


class SnapshotCatchup(harness.ClusterTestCase):
    def test_snapshot_catchup(self):
        c = self.new_cluster(3, name="snap", extra_args=["--snapshot-entries", "50"])
        c.start()
        leader = c.wait_leader()
        early = [c.create_session(node=n, name="early") for n in c.nodes.values()]
        lagger = next(n for n in c.nodes.values() if n is not leader)
        c.wait_caught_up(lagger)
        before = lagger.status()
        lagger.kill9()
        log("follower node %d killed at last_log_index %d" % (lagger.id, before["last_log_index"]))

        # 300 sessions through the two live nodes, 4 writers at a time.
        live = [n for n in c.nodes.values() if n is not lagger]
        acked, lock, errors = list(early), threading.Lock(), []

        def writer(w):
            try:
                for k in range(w, N_SESSIONS, 4):
                    sid = c.create_session(node=live[k % 2], name="bulk%d" % k)
                    with lock:
                        acked.append(sid)
            except Exception as e:  # reported below
                errors.append(repr(e))
        t0 = time.monotonic()
        threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertFalse(errors, errors)
        self.assertEqual(len(acked), N_SESSIONS + len(early))
        log("%d sessions written in %.2f s" % (N_SESSIONS, time.monotonic() - t0))

        lead = c.wait_leader(nodes=live)
        ls = lead.status()
        self.assertGreater(ls["snapshot_index"], before["last_log_index"] + 1,
                           "the leader did not compact past the follower's log: %s" % ls)

        t0 = time.monotonic()
        lagger.start()
        lagger.wait_serving()
        target = c.wait_caught_up(lagger, timeout=20)
        took = time.monotonic() - t0
        after = lagger.status()
        log("node %d caught up to %d in %.2f s; its snapshot_index %d (leader's %d at restart)"
            % (lagger.id, target, took, after["snapshot_index"], ls["snapshot_index"]))
        # Its log could not have been filled by AppendEntries alone: it holds a snapshot
        # at least as new as the leader's compaction point when it came back.
        self.assertGreaterEqual(after["snapshot_index"], ls["snapshot_index"], after)
        # KNOWN FAILURE (daemon bug, found by this test): SqliteStateMachine::restore
        # (service/state_machine.cc) binds temporaries (s["id"].get<std::string>())
        # with SQLITE_STATIC (storage/database.cc Statement::bind_text), so the
        # sessions restored from an InstallSnapshot get garbage ids such as
        # "\x18\x00\x00..." and the follower serves the wrong set of sessions.
        ids = c.stale_session_ids(lagger)
        bad = sorted(repr(i) for i in ids if not (len(i) == 16 and all(ch in "0123456789abcdef" for ch in i)))
        report = harness.missing_report(acked, ids, "node %d after InstallSnapshot" % lagger.id)
        # The member list came with the snapshot too (same restore code): its peer
        # addresses must be the leader's, not corrupted ones such as "\x0027.0.0.1:44307".
        want = {m["id"]: m["peer"] for m in lead.get("/v1/cluster/members")[2]["members"]}
        got = {m["id"]: m["peer"] for m in lagger.get("/v1/cluster/members")[2]["members"]}
        problems = []
        if report or bad:
            problems.append("%s; %d malformed session ids there, e.g. %s" % (report, len(bad), bad[:3]))
        if got != want:
            problems.append("GET /v1/cluster/members peers on node %d after InstallSnapshot: %r, "
                            "on the leader: %r" % (lagger.id, got, want))
        if problems:
            self.fail("\n".join(problems))
        # Linearizable reads through it, and every session's name came along.
        st, _, b = lagger.get("/v1/sessions")
        self.assertEqual(st, 200, b)
        names = {s["session"]: s["name"] for s in b["sessions"]}
        self.assertEqual(sum(1 for sid in acked if names.get(sid, "").startswith("bulk")), N_SESSIONS)
        for sid in acked[::25]:
            st, _, b = lagger.get("/v1/sessions/" + sid)
            self.assertEqual(st, 200, b)
        wait_until(lambda: try_http(lagger.http, "GET", "/readyz")[0] == 200, 5, what="readyz")
        # And it keeps up afterwards (writes after the snapshot replicate normally).
        sid = c.create_session(node=lagger)
        c.wait_caught_up(lagger)
        self.assertIn(sid, c.stale_session_ids(lagger))


if __name__ == "__main__":
    harness.main()
