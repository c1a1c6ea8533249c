"""End-to-end harness: real raftlockd processes on loopback.

Standard library only. A Cluster starts N nodes on free ports with
--initial-cluster, their data and stderr logs in a temporary directory, and
stops exactly the processes it started, by pid. The binary is named by the
RAFTLOCKD environment variable (ctest passes $<TARGET_FILE:raftlockd>) or by
--raftlockd PATH on the command line.

Every HTTP helper returns (status, headers, body): status an int, headers a
dict with lower-case names, body the decoded JSON (None when the body is not
JSON). Connection failures raise OSError from `http`; `try_http` turns them
into status None.

This module holds Node, Cluster, ClusterTestCase and the test helpers built on
them; ports and HTTP are in harness_net.py, binaries and process bookkeeping in
harness_procs.py. Every name tests use is importable from here.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

# Re-exported: tests import these from harness.
from harness_net import error_code, free_port, http, try_http
from harness_procs import (_all_procs, _die_with_parent, raftlockctl_path, raftlockd_path,
                           start_ctl)

LONG_TTL_MS = 86400000  # sessions must not expire while a test runs


def wait_until(pred, timeout, interval=0.05, what="condition"):
    """Polls pred() until it returns a truthy value, which is returned."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = pred()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(interval)


# ---------------------------------------------------------------------------
# Nodes and clusters


class Node:
    def __init__(self, cluster, node_id, http_port, peer_port, data_dir, log_path, args):
        self.cluster = cluster
        self.id = node_id
        self.http_port = http_port
        self.peer_port = peer_port
        self.data_dir = data_dir
        self.log_path = log_path
        self.args = list(args)  # flags besides --id/--data-dir/--listen-*
        self.proc = None
        self.starts = 0

    @property
    def http(self):
        return "127.0.0.1:%d" % self.http_port

    @property
    def peer(self):
        return "127.0.0.1:%d" % self.peer_port

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def argv(self):
        return [self.cluster.binary, "--id", str(self.id), "--data-dir", self.data_dir,
                "--listen-http", self.http, "--listen-peer", self.peer] + self.args

    def start(self):
        assert not self.alive(), "node %d already running" % self.id
        self.starts += 1
        log = open(self.log_path, "ab")
        log.write(("\n=== start #%d: %s\n" % (self.starts, " ".join(self.argv()))).encode())
        log.flush()
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        log.close()
        _all_procs.append(self.proc)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_serving(self, timeout=10.0):
        """Waits until /healthz answers; raises if the process exits first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise NodeExited(self)
            st, _, _ = try_http(self.http, "GET", "/healthz", timeout=0.5)
            if st == 200:
                return
            time.sleep(0.02)
        raise AssertionError("node %d not serving after %.1f s" % (self.id, timeout))

    def send_signal(self, sig):
        if self.alive():
            os.kill(self.proc.pid, sig)

    def kill9(self):
        """SIGKILL by pid and reap."""
        if self.alive():
            os.kill(self.proc.pid, signal.SIGKILL)
        if self.proc:
            self.proc.wait(10)

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """Signal and wait; SIGKILL if it does not exit in time. Returns
        (exit code, seconds)."""
        if not self.proc:
            return None, 0.0
        t0 = time.monotonic()
        if self.alive():
            os.kill(self.proc.pid, sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
            rc = "hung (SIGKILLed after %.1f s)" % timeout
        return rc, time.monotonic() - t0

    def restart(self):
        if self.alive():
            self.kill9()
        return self.start()

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    # HTTP shortcuts on this node
    def get(self, path, **kw):
        return http(self.http, "GET", path, **kw)

    def post(self, path, body=None, **kw):
        return http(self.http, "POST", path, body=body, **kw)

    def delete(self, path, **kw):
        return http(self.http, "DELETE", path, **kw)

    def status(self):
        st, _, b = try_http(self.http, "GET", "/v1/cluster/status")
        return b if st == 200 else None

    def __repr__(self):
        return "node%d(pid=%s http=%s peer=%s)" % (self.id, self.pid, self.http, self.peer)


class NodeExited(Exception):
    def __init__(self, node):
        super().__init__("node %d exited with %s; log tail:\n%s"
                         % (node.id, node.proc.returncode, node.log_text()[-2000:]))
        self.node = node


class Cluster:
    """N raftlockd nodes founded with --initial-cluster (ids 1..N)."""

    def __init__(self, n, extra_args=(), per_node_args=None, name="e2e",
                 election_timeout_ms=300, heartbeat_ms=50):
        self.binary = raftlockd_path()
        self.dir = tempfile.mkdtemp(prefix="raftlock-%s-" % name)
        self.n = n
        self.nodes = {}
        self.common = ["--election-timeout-ms", str(election_timeout_ms),
                       "--heartbeat-ms", str(heartbeat_ms)] + list(extra_args)
        self.per_node_args = per_node_args or {}
        self.failed = False

    # -- lifecycle --------------------------------------------------------

    def _make_nodes(self, ids):
        ports = {i: (free_port(), free_port()) for i in ids}
        initial = ",".join("%d=127.0.0.1:%d" % (i, ports[i][1]) for i in ids)
        self.initial_cluster = initial
        for i in ids:
            d = os.path.join(self.dir, "node%d" % i)
            if os.path.exists(d):
                shutil.rmtree(d)
            args = ["--initial-cluster", initial] + self.common + list(self.per_node_args.get(i, []))
            self.nodes[i] = Node(self, i, ports[i][0], ports[i][1], d,
                                 os.path.join(self.dir, "node%d.log" % i), args)

    def start(self, ids=None, wait_leader=True, timeout=15.0):
        """Starts the founding nodes (all ids 1..n unless given a subset to
        start now; the others keep their ports for a later start)."""
        all_ids = list(range(1, self.n + 1))
        for attempt in range(3):
            self._make_nodes(all_ids)
            try:
                for i in (ids or all_ids):
                    self.nodes[i].start()
                for i in (ids or all_ids):
                    self.nodes[i].wait_serving()
                break
            except NodeExited as e:
                # Most likely a port taken between free_port() and bind.
                sys.stderr.write("start attempt %d failed: %s\n" % (attempt + 1, e))
                for node in self.nodes.values():
                    node.kill9()
                if attempt == 2:
                    raise
        if wait_leader:
            self.wait_leader(timeout=timeout)
        return self

    def add_joiner(self, node_id, extra=()):
        """Starts a new node with --join (not yet a member)."""
        d = os.path.join(self.dir, "node%d" % node_id)
        node = Node(self, node_id, free_port(), free_port(), d,
                    os.path.join(self.dir, "node%d.log" % node_id),
                    ["--join"] + self.common + list(extra))
        self.nodes[node_id] = node
        node.start()
        node.wait_serving()
        return node

    def endpoints(self, nodes=None):
        """The nodes' HTTP addresses as raftlockctl's --endpoints value."""
        return ",".join("http://" + n.http for n in (nodes or self.nodes.values()))

    def alive_nodes(self):
        return [n for n in self.nodes.values() if n.alive()]

    def shutdown(self):
        for node in self.nodes.values():
            if node.alive():
                node.stop(signal.SIGTERM, timeout=5)

    def cleanup(self, keep=False):
        self.shutdown()
        if keep:
            sys.stderr.write("e2e: keeping %s (node logs node*.log)\n" % self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def dump_logs(self, tail=6000):
        out = []
        for node in self.nodes.values():
            out.append("----- %r log (%s), last %d chars -----\n%s"
                       % (node, node.log_path, tail, node.log_text()[-tail:]))
        return "\n".join(out)

    # -- leadership --------------------------------------------------------

    def leader_views(self, nodes=None):
        """{node id: leader id or None} from /v1/cluster/leader."""
        views = {}
        for node in nodes or self.alive_nodes():
            st, _, b = try_http(node.http, "GET", "/v1/cluster/leader", timeout=1.0)
            views[node.id] = b.get("id") if st == 200 and isinstance(b, dict) else None
        return views

    def wait_leader(self, timeout=15.0, exclude=(), nodes=None):
        """Waits until every alive node (but `exclude`) names the same alive
        leader; returns that Node."""
        def agreed():
            members = [n for n in (nodes or self.alive_nodes()) if n.id not in exclude]
            views = self.leader_views(members)
            ids = set(views.values())
            if len(ids) == 1:
                lid = ids.pop()
                if lid is not None and lid in self.nodes and self.nodes[lid].alive() \
                        and lid not in exclude:
                    st = self.nodes[lid].status()
                    if st and st.get("role") == "leader":
                        return self.nodes[lid]
            return None
        return wait_until(agreed, timeout, what="an agreed leader")

    def leader(self):
        return self.wait_leader()

    def followers(self):
        lid = self.leader().id
        return [n for n in self.alive_nodes() if n.id != lid]

    # -- data --------------------------------------------------------------

    def create_session(self, node=None, name="", timeout=10.0, ttl_ms=LONG_TTL_MS):
        """POST /v1/sessions, retried on 503/504/connection errors until
        acknowledged (201). Returns the session id."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            target = node or self._any_alive()
            st, _, b = try_http(target.http, "POST", "/v1/sessions",
                                {"ttl_ms": ttl_ms, "name": name}, timeout=5.0)
            if st == 201:
                return b["session"]
            last = (st, b)
            if st not in (None, 503, 504):
                raise AssertionError("POST /v1/sessions on %r: %s %s" % (target, st, b))
            time.sleep(0.05)
        raise AssertionError("no acknowledged session write within %.1f s; last %r" % (timeout, last))

    def _any_alive(self):
        nodes = self.alive_nodes()
        assert nodes, "no node alive"
        return nodes[int(time.monotonic() * 1000) % len(nodes)]

    def wait_caught_up(self, node, timeout=15.0):
        """Waits until `node` applied at least the leader's commit index (read
        now). Returns that index."""
        target = self.leader().status()["commit_index"]

        def applied():
            st = node.status()
            return st is not None and st.get("applied_index", -1) >= target
        wait_until(applied, timeout, what="node %d applied_index >= %d" % (node.id, target))
        return target

    def stale_session_ids(self, node):
        st, _, b = node.get("/v1/sessions?consistency=stale")
        assert st == 200, (st, b)
        return {s["session"] for s in b["sessions"]}


class ClusterTestCase(unittest.TestCase):
    """Keeps the data dir and prints node logs when a test fails."""

    clusters = None

    def setUp(self):
        self.clusters = []
        self.t0 = time.monotonic()

    def new_cluster(self, *a, **kw):
        c = Cluster(*a, **kw)
        self.clusters.append(c)
        return c

    def _failed(self):
        outcome = getattr(self, "_outcome", None)
        if outcome is None:
            return False
        if not outcome.success:
            return True
        result = getattr(outcome, "result", None)  # Python >= 3.11 records failures there at once
        for lst in (getattr(result, "failures", []), getattr(result, "errors", [])):
            if any(t is self for t, _ in lst):
                return True
        return False

    def assert_has_sessions(self, cluster, node, acked, what=""):
        """Every acknowledged session id is in node's stale session list."""
        report = missing_report(acked, cluster.stale_session_ids(node), "%r%s" % (node, what))
        if report:
            self.fail(report)

    def tearDown(self):
        failed = self._failed()
        for c in self.clusters:
            if failed:
                sys.stderr.write(c.dump_logs() + "\n")
            c.cleanup(keep=failed)
        log("%s took %.1f s" % (self.id(), time.monotonic() - self.t0))


def log(msg):
    sys.stderr.write("[e2e %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def main():
    if "--raftlockd" in sys.argv:
        i = sys.argv.index("--raftlockd")
        os.environ["RAFTLOCKD"] = sys.argv[i + 1]
        del sys.argv[i:i + 2]
    if "--raftlockctl" in sys.argv:
        i = sys.argv.index("--raftlockctl")
        os.environ["RAFTLOCKCTL"] = sys.argv[i + 1]
        del sys.argv[i:i + 2]
    unittest.main(verbosity=2)


def watch_new_leader(nodes, old_id, t0, timeout=15.0):
    """Polls /v1/cluster/leader on `nodes` in a thread; the returned function
    waits for and returns the seconds from t0 until every one of them named
    the same leader other than old_id (None if that never happened)."""
    result = {}

    def run():
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            views = set()
            for n in nodes:
                st, _, b = try_http(n.http, "GET", "/v1/cluster/leader", timeout=0.5)
                views.add(b.get("id") if st == 200 else None)
            if len(views) == 1 and None not in views and old_id not in views:
                result["t"] = time.monotonic() - t0
                return
            time.sleep(0.01)

    th = threading.Thread(target=run, daemon=True)
    th.start()

    def get():
        th.join(timeout + 1)
        return result.get("t")
    return get


def missing_report(acked, have, where):
    missing = [s for s in acked if s not in have]
    if not missing:
        return None
    return "%d of %d acknowledged sessions missing on %s (it has %d), e.g. %s" % (
        len(missing), len(acked), where, len(have), missing[:5])
