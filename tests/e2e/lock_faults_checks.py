"""The record e2e_lock_faults (test_lock_faults.py) keeps and checks as it runs.

Hold is one grant as a client used it. Resource is what a lock protects: it
takes writes with a fencing token, rejects a token below the highest it has
seen, and records two clients inside it at once. Run is the state shared by
the client, keepalive and killer threads: proofs that a session was alive,
sessions seen ended, promised leases, acknowledged releases (a released grant
must not reappear), unexpected answers and the counters the test reports.
"""

import random
import threading
import time

from harness import try_http

LOCKS = ["fault-a", "fault-b", "fault-c"]
# Every PAUSE_EVERY seconds one client stalls inside a grant for PAUSE_S
# seconds with its keepalives stopped (a process pause): its session must
# expire (ttl, or a new leader's full ttl of grace, whichever ends later), the
# lock goes to the next client, and the paused client's late write must be
# rejected by the resource as stale if a newer token has written meanwhile.
PAUSE_EVERY = 15.0
PAUSE_S = 8.5


def now():
    return time.monotonic()


class Hold:
    __slots__ = ("lock", "client", "session", "token", "t_start", "t_end", "release", "writes")

    def __init__(self, lock, client, session, token, t_start):
        self.lock = lock
        self.client = client
        self.session = session
        self.token = token
        self.t_start = t_start
        self.t_end = None
        self.release = None  # 200, 404, 409 or "unknown"
        self.writes = 0

    def __repr__(self):
        return "Hold(%s c%d s=%s tok=%d %.3f..%s rel=%s)" % (
            self.lock, self.client, self.session, self.token, self.t_start,
            "%.3f" % self.t_end if self.t_end is not None else "-", self.release)


class Resource:
    """The thing a lock protects: takes writes with a fencing token."""

    def __init__(self, name):
        self.name = name
        self.mu = threading.Lock()
        self.highest = 0
        self.inside = {}  # client -> Hold
        self.overlaps = []  # (hold already inside, hold entering)
        self.accepted = 0
        self.accepted_stale = []  # must stay empty: token below the highest seen
        self.rejected = []  # holds whose write was rejected as stale
        self.owner_of_token = {}  # token -> session
        self.shared_tokens = []  # (token, session a, session b)

    def enter(self, hold):
        with self.mu:
            for other in self.inside.values():
                self.overlaps.append((other, hold))
            self.inside[hold.client] = hold
            owner = self.owner_of_token.setdefault(hold.token, hold.session)
            if owner != hold.session:
                self.shared_tokens.append((hold.token, owner, hold.session))

    def write(self, hold):
        with self.mu:
            if hold.token < self.highest:
                self.rejected.append(hold)
                return False
            if hold.token == self.highest and self.owner_of_token.get(hold.token) != hold.session:
                # Accepted only because another session's grant carried the same token.
                self.accepted_stale.append(hold)
            self.highest = hold.token
            self.accepted += 1
            hold.writes += 1
            return True

    def exit(self, hold):
        with self.mu:
            if self.inside.get(hold.client) is hold:
                del self.inside[hold.client]


class Run:
    """State shared by the clients, keepalive threads and the killer."""

    def __init__(self, cluster, seconds):
        self.c = cluster
        self.nodes = list(cluster.nodes.values())
        self.seconds = seconds
        self.t_end = now() + seconds
        self.stop = threading.Event()
        self.mu = threading.Lock()
        self.resources = {name: Resource(name) for name in LOCKS}
        self.holds = []
        self.proof = {}  # session -> latest send time of a request that proved it alive
        self.ended = {}  # session -> earliest answer time of a 404 session_not_found
        self.lease = {}  # session -> latest promised "alive until" (client clock, conservative)
        self.released = {}  # (lock, session, token) -> time the 200 release answered
        self.lost_releases = []
        self.lease_violations = []
        self.server_errors = []
        self.unexpected = []
        self.client_timeouts = 0
        self.grants = 0
        self.releases = 0
        self.expiries = 0
        self.lost_grants = 0
        self.kills = 0
        self.max_stall = 0.0
        self.max_stall_where = ""
        self.retries = {"503": 0, "504": 0, "conn": 0}
        self.next_pause = now() + 8.0
        self.paused_holds = []
        self.pauses = []  # (start, end) of each client pause
        self.gaps = []  # (seconds, from, to, where) between a client's successes

    def take_pause(self):
        with self.mu:
            t = now()
            if t < self.next_pause or t + PAUSE_S + 3 > self.t_end:
                return False
            self.next_pause = t + PAUSE_EVERY
            return True

    # -- bookkeeping -------------------------------------------------------

    def proved_alive(self, session, t_sent):
        with self.mu:
            if t_sent > self.proof.get(session, -1.0):
                self.proof[session] = t_sent

    def saw_ended(self, session, t_answer):
        with self.mu:
            first = session not in self.ended
            if first or t_answer < self.ended[session]:
                self.ended[session] = t_answer
            promised = self.lease.get(session)
            if promised is not None and t_answer < promised - 0.05:
                self.lease_violations.append((session, t_answer, promised))
            return first

    def promised(self, session, until):
        with self.mu:
            if until > self.lease.get(session, -1.0):
                self.lease[session] = until

    def record_status(self, what, st, body):
        if st is not None and st >= 500 and st not in (503, 504):
            with self.mu:
                self.server_errors.append((what, st, body))

    def note_retry(self, st):
        with self.mu:
            self.retries["conn" if st is None else str(st)] = \
                self.retries.get("conn" if st is None else str(st), 0) + 1

    def any_node(self):
        return random.choice(self.nodes)

    def request(self, method, path, body=None, timeout=5.0):
        """One attempt on a random node; returns (status, body, t_sent, t_answer)."""
        node = self.any_node()
        t_sent = now()
        st, _, b = try_http(node.http, method, path, body, timeout=timeout)
        if st is None and "timed out" in repr(b):
            with self.mu:
                self.client_timeouts += 1
        self.record_status("%s %s" % (method, path), st, b)
        return st, b, t_sent, now()

    def check_not_released(self, lock, holders, t_sent, where):
        """holders: as in GET, from an answer to a request sent at t_sent. A
        release acknowledged before t_sent must not show."""
        for h in holders or []:
            key = (lock, h.get("session"), h.get("fencing_token"))
            with self.mu:
                t_released = self.released.get(key)
                if t_released is not None and t_released < t_sent:
                    self.lost_releases.append((key, where, t_sent - t_released))

    def get_lock(self, lock):
        """A linearizable GET, retried; checks no released grant reappears."""
        deadline = now() + 15
        while now() < deadline:
            st, b, t_sent, _ = self.request("GET", "/v1/locks/" + lock)
            if st == 200:
                self.check_not_released(lock, b.get("holders"), t_sent, "GET after release")
                return b
            time.sleep(0.05)
        return None
