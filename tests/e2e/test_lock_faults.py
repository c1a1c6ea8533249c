"""e2e_lock_faults: contended locks with fencing while the leader is killed.

A Jepsen-style check of the lock contract (DESIGN.md 1, 2, 3 and 5) on a
3-node cluster. 16 client threads, each with its own session (ttl 3000 ms,
kept alive by a thread of its own through any reachable node), repeatedly
take one of 3 contended locks (acquire with wait_ms, on any node, retried on
503 / 504 / connection errors with the same session: acquire is idempotent),
write to a shared resource and release. Meanwhile the current leader is
killed with SIGKILL every few seconds and restarted.

Each lock guards an in-process Resource that checks fencing tokens before a
write: a token lower than the highest it has seen is rejected, and two
clients inside it at once (by the clients' own account: from the acquire's
200 to just before the release is sent) is an overlap.

A grant is *confirmed* when its session was proven alive (a 200 to a
keepalive, acquire, release or GET of the session) by a request sent after
the client stopped using the grant: a session's grants end only by release
or by the session's end, so a confirmed grant was held throughout. A grant
whose session ended (404 session_not_found) without such a proof is *lost*:
the session expired during a stall, which is legitimate; the resource must
then reject its stale token. To make sure that path runs, every 15 s one
client pauses for 8.5 s inside a grant with its keepalives stopped; its
session must expire. Asserted:

- no overlap of two confirmed grants (mutual exclusion), no accepted write
  with a token below the highest seen, no rejected write by a confirmed grant,
  and no token handed to two different sessions of one lock;
- no acknowledged release lost: after a 200 release of (session, token), no
  later GET or acquire shows that session holding that token;
- no session ends before the lease a keepalive promised (remaining_ms), and
  every paused session ends;
- no 500, and the cluster still serves at the end.

Run longer by hand: python3 tests/e2e/test_lock_faults.py --seconds 300
"""

import random
import sys
import threading
import time

import harness
from harness import log, try_http, error_code
from lock_faults_checks import LOCKS, PAUSE_S, Hold, Run, now

SECONDS = 60.0
N_CLIENTS = 16
TTL_MS = 3000
KEEPALIVE_EVERY = 0.5
KILL_EVERY = (3.0, 5.0)  # seconds between kills, uniform
WAITS_MS = [0, 300, 1000, 2000, 2000, 3000]
# LOCKS and the client pauses (PAUSE_EVERY, PAUSE_S) are defined beside Run,
# in lock_faults_checks.py.


class Client:
    def __init__(self, run, idx):
        self.run = run
        self.idx = idx
        self.session = None
        self.last_ok = None
        self.ops = 0
        self.paused = False

    def new_session(self):
        run = self.run
        while not run.stop.is_set():
            st, b, t_sent, _ = run.request("POST", "/v1/sessions",
                                           {"ttl_ms": TTL_MS, "name": "client-%d" % self.idx})
            if st == 201:
                self.session = b["session"]
                run.proved_alive(self.session, t_sent)
                return True
            if st in (None, 503, 504):
                run.note_retry(st)
                time.sleep(0.05 if st != 503 else 0.15)
                continue
            with run.mu:
                run.unexpected.append(("create session", st, b))
            time.sleep(0.2)
        return False

    def succeeded(self, what):
        t = now()
        if self.last_ok is not None and not self.paused:
            gap = t - self.last_ok
            with self.run.mu:
                self.run.gaps.append((gap, self.last_ok, t, "client %d before %s" % (self.idx, what)))
                if gap > self.run.max_stall:
                    self.run.max_stall = gap
                    self.run.max_stall_where = "client %d before %s" % (self.idx, what)
        self.last_ok = t
        self.ops += 1

    def acquire(self, lock, wait_ms):
        """Retries until an answer that settles it. Returns ("ok", token),
        ("held", None), ("ended", None) or ("stopped", None)."""
        run = self.run
        path = "/v1/locks/%s/acquire" % lock
        while True:
            st, b, t_sent, t_ans = run.request(
                "POST", path, {"session": self.session, "wait_ms": wait_ms},
                timeout=wait_ms / 1000.0 + 6.0)
            if st == 200:
                run.proved_alive(self.session, t_sent)
                run.check_not_released(lock, [{"session": b["session"],
                                               "fencing_token": b["fencing_token"]}],
                                       t_sent, "acquire answer")
                return "ok", b["fencing_token"]
            if st == 409 and error_code(b) == "lock_held":
                return "held", None
            if st == 404 and error_code(b) == "session_not_found":
                run.saw_ended(self.session, t_ans)
                return "ended", None
            if st in (None, 503, 504):
                run.note_retry(st)
                if run.stop.is_set() and st != 504:
                    # Stopping: a wait that may still exist ends by its deadline.
                    return "stopped", None
                time.sleep(0.15 if st == 503 else 0.03)
                continue
            with run.mu:
                run.unexpected.append(("acquire " + lock, st, b))
            return "held", None

    def release(self, hold):
        run = self.run
        path = "/v1/locks/%s/release" % hold.lock
        ambiguous = False
        deadline = now() + 30
        while now() < deadline:
            st, b, t_sent, t_ans = run.request(
                "POST", path, {"session": hold.session, "fencing_token": hold.token})
            if st == 200:
                run.proved_alive(hold.session, t_sent)
                hold.release = 200
                with run.mu:
                    run.released[(hold.lock, hold.session, hold.token)] = t_ans
                    run.releases += 1
                return 200
            if st == 404 and error_code(b) == "session_not_found":
                run.saw_ended(hold.session, t_ans)
                hold.release = 404
                return 404
            if st == 409 and error_code(b) == "not_holder":
                # After an unknown outcome this may be our own earlier release.
                hold.release = "unknown" if ambiguous else 409
                return hold.release
            if st in (None, 503, 504):
                run.note_retry(st)
                ambiguous = ambiguous or st != 503
                time.sleep(0.15 if st == 503 else 0.03)
                continue
            with run.mu:
                run.unexpected.append(("release " + hold.lock, st, b))
            hold.release = "unknown"
            return hold.release
        hold.release = "unknown"
        return hold.release

    def loop(self):
        run = self.run
        rnd = random.Random(self.idx * 7919 + int(time.time()))
        if not self.new_session():
            return
        self.last_ok = now()
        while not run.stop.is_set():
            lock = rnd.choice(LOCKS)
            wait_ms = rnd.choice(WAITS_MS)
            outcome, token = self.acquire(lock, wait_ms)
            if outcome == "stopped":
                break
            if outcome == "ended":
                with run.mu:
                    run.expiries += 1
                if not self.new_session():
                    break
                continue
            if outcome == "held":
                time.sleep(rnd.uniform(0.0, 0.05) if wait_ms == 0 else 0)
                continue
            self.succeeded("a grant")
            hold = Hold(lock, self.idx, self.session, token, now())
            with run.mu:
                run.grants += 1
                run.holds.append(hold)
            res = run.resources[lock]
            res.enter(hold)
            # Two writes a little apart: a stall between them is where a
            # session can expire under the client's feet.
            paused = False
            if res.write(hold):
                if run.take_pause():
                    paused = self.paused = True
                    with run.mu:
                        run.paused_holds.append(hold)
                        run.pauses.append((now(), now() + PAUSE_S))
                    log("client %d pauses %.1f s holding %s token %d" % (
                        self.idx, PAUSE_S, lock, token))
                    time.sleep(PAUSE_S)
                else:
                    time.sleep(rnd.uniform(0.0, 0.03))
                res.write(hold)
            hold.t_end = now()
            res.exit(hold)
            st = self.release(hold)
            if paused:
                self.paused = False
                self.last_ok = None  # the pause is the client's, not a stall of the service
            if st == 200:
                self.succeeded("a release")
                if rnd.random() < 0.25:
                    run.get_lock(lock)
            elif st == 404:
                with run.mu:
                    run.expiries += 1
                if not self.new_session():
                    break


def keepalive_loop(run, client):
    while not run.stop.is_set():
        sid = client.session
        if sid is None or client.paused:
            time.sleep(0.05)
            continue
        st, b, t_sent, t_ans = run.request("POST", "/v1/sessions/%s/keepalive" % sid, timeout=3.0)
        if st == 200:
            run.proved_alive(sid, t_sent)
            run.promised(sid, t_sent + b["remaining_ms"] / 1000.0)
            run.stop.wait(KEEPALIVE_EVERY)
        elif st == 404:
            run.saw_ended(sid, t_ans)
            run.stop.wait(0.05)
        else:
            if st not in (None, 503, 504):
                with run.mu:
                    run.unexpected.append(("keepalive", st, b))
            run.stop.wait(0.05)


class LockFaults(harness.ClusterTestCase):
    def test_lock_faults(self):
        c = self.new_cluster(3, name="lockfaults")
        c.start()
        run = Run(c, SECONDS)
        clients = [Client(run, i) for i in range(N_CLIENTS)]
        threads = [threading.Thread(target=cl.loop, daemon=True) for cl in clients]
        threads += [threading.Thread(target=keepalive_loop, args=(run, cl), daemon=True)
                    for cl in clients]
        for th in threads:
            th.start()

        t0 = now()
        rnd = random.Random()
        stalls_after_kill = []
        try:
            while now() - t0 < SECONDS:
                run.stop.wait(rnd.uniform(*KILL_EVERY))
                if now() - t0 >= SECONDS:
                    break
                leader = c.wait_leader(timeout=20)
                leader.kill9()
                run.kills += 1
                tk = now()
                time.sleep(rnd.uniform(0.2, 1.0))
                leader.start()
                leader.wait_serving(timeout=15)
                new = c.wait_leader(timeout=20)
                stalls_after_kill.append(now() - tk)
                log("kill %d: node %d killed and restarted; node %d leads (%.2f s); "
                    "%d grants so far" % (run.kills, leader.id, new.id, now() - tk, run.grants))
        finally:
            run.stop.set()
            for th in threads:
                th.join(20)
        stuck = [th for th in threads if th.is_alive()]
        self.assertEqual(stuck, [], "client threads did not stop")
        log("workload done after %.1f s" % (now() - t0))
        # Final state: every session's liveness, every lock on every node.
        c.wait_leader(timeout=20)
        sessions = {h.session for h in run.holds} | {cl.session for cl in clients if cl.session}
        for sid in sessions:
            for _ in range(100):
                st, b, t_sent, t_ans = run.request("GET", "/v1/sessions/" + sid)
                if st == 200:
                    run.proved_alive(sid, t_sent)
                    break
                if st == 404:
                    run.saw_ended(sid, t_ans)
                    break
                time.sleep(0.05)
            else:
                self.fail("GET /v1/sessions/%s never answered" % sid)
        for node in c.nodes.values():
            for lock in LOCKS:
                t_sent = now()
                st, _, b = try_http(node.http, "GET", "/v1/locks/" + lock, timeout=5)
                self.assertEqual(st, 200, (node, lock, b))
                run.check_not_released(lock, b.get("holders"), t_sent, "final GET on %r" % node)

        # Classify every grant.
        def confirmed(h):
            return run.proof.get(h.session, -1.0) >= h.t_end

        lost = [h for h in run.holds if not confirmed(h)]
        unexplained = [h for h in lost if h.session not in run.ended]
        violations = []
        expired_overlaps = 0
        for res in run.resources.values():
            for a, b in res.overlaps:
                if confirmed(a) and confirmed(b):
                    violations.append((res.name, a, b))
                else:
                    expired_overlaps += 1
        live_rejections = [h for res in run.resources.values() for h in res.rejected if confirmed(h)]
        stale_rejections = sum(len(res.rejected) for res in run.resources.values()) - len(live_rejections)
        accepted_stale = [h for res in run.resources.values() for h in res.accepted_stale]
        shared_tokens = [t for res in run.resources.values() for t in res.shared_tokens]
        writes = sum(res.accepted for res in run.resources.values())

        # Stalls that overlap no pause: the service's own, across leader kills.
        free = [g for g in run.gaps if not any(g[1] < b and a < g[2] for a, b in run.pauses)]
        own = max(free) if free else (0.0, 0, 0, "-")
        print("FIGURE e2e_lock_faults: %.0f s, %d clients on %d locks: longest stall %.2f s (%s) "
              "outside client pauses, %.2f s (%s) overall, "
              "%d grants, %d releases, %d accepted writes, %d kills of the leader, "
              "%d session expiries (%d in %d client pauses of %.1f s; %d grants lost, %d stale "
              "writes rejected, %d overlaps with a lost grant), retries %s, %d client-side "
              "timeouts; recovery after kill max %.2f s"
              % (SECONDS, N_CLIENTS, len(LOCKS), own[0], own[3], run.max_stall,
                 run.max_stall_where, run.grants,
                 run.releases, writes, run.kills, run.expiries,
                 sum(1 for h in run.paused_holds if h.session in run.ended),
                 len(run.paused_holds), PAUSE_S, len(lost), stale_rejections,
                 expired_overlaps, run.retries, run.client_timeouts,
                 max(stalls_after_kill) if stalls_after_kill else 0.0))
        sys.stdout.flush()

        self.assertEqual(violations, [], "mutual exclusion violated (both grants confirmed): %s"
                         % violations[:5])
        self.assertEqual(accepted_stale, [], "stale tokens accepted")
        self.assertEqual(live_rejections, [], "a confirmed grant's token was superseded while held")
        self.assertEqual(shared_tokens, [], "one token handed to two sessions")
        self.assertEqual(run.lost_releases, [], "acknowledged releases lost: %s"
                         % run.lost_releases[:5])
        self.assertEqual(run.lease_violations, [], "sessions ended before their promised lease "
                         "(session, answer time, promised until): %s" % run.lease_violations[:5])
        self.assertEqual(unexplained, [], "grants neither confirmed nor of an ended session: %s"
                         % unexplained[:5])
        self.assertEqual(run.server_errors, [], "5xx other than 503/504: %s" % run.server_errors[:5])
        self.assertEqual(run.unexpected, [], "unexpected answers: %s" % run.unexpected[:5])
        survived = [h for h in run.paused_holds if h.release == 200]
        self.assertEqual(survived, [], "sessions outlived a %.1f s pause of their keepalives "
                         "(ttl %d ms)" % (PAUSE_S, TTL_MS))
        self.assertGreater(run.kills, 0)
        self.assertGreater(run.grants, 100, "too little progress")
        # The cluster still takes writes.
        c.create_session()


def _take_seconds_arg():
    global SECONDS
    if "--seconds" in sys.argv:
        i = sys.argv.index("--seconds")
        SECONDS = float(sys.argv[i + 1])
        del sys.argv[i:i + 2]


if __name__ == "__main__":
    _take_seconds_arg()
    harness.main()
