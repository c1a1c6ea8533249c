"""The raftlockd cluster the cluster benchmarks (bench_cluster.py) run on, and
the readings they take (Python 3 standard library only).

Cluster starts N nodes on free loopback ports with --initial-cluster, kills
and stops them by pid, reads their status and metrics, waits for a stable
view (one leader, every node caught up), and parses the node log lines
appended since given offsets. Beside it: HTTP GET/POST to one node, CPU time
of a process and of the machine from /proc, CPU pressure, and percentiles.
"""

import calendar
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)Z level=\w+ node=(\d+) term=(\d+) (.*)$")


def log(msg):
    print(msg, flush=True)


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def proc_cpu_s(pid):
    """utime + stime of a process in seconds (None if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(rest[11]) + int(rest[12])) / CLK_TCK


def machine_cpu():
    """(busy, total) jiffies over all CPUs from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return sum(v[:8]) - idle, sum(v[:8])


def cpu_pressure_us():
    """Total µs some runnable task waited for a CPU (/proc/pressure/cpu), None if absent."""
    try:
        with open("/proc/pressure/cpu") as f:
            return int(f.readline().split("total=")[1])
    except (OSError, IndexError, ValueError):
        return None


def pct(vals, p):
    s = sorted(vals)
    if not s:
        return None
    k = max(0, min(len(s) - 1, -(-len(s) * p // 100) - 1))
    return s[int(k)]


def _request(method, port, path, body, timeout):
    """-> (status, headers dict lower-case, body bytes); None on a transport error."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    except (OSError, http.client.HTTPException):
        return None
    finally:
        c.close()


def http_get(port, path, timeout=1.0):
    return _request("GET", port, path, None, timeout)


def http_post(port, path, body=b"{}", timeout=2.0):
    return _request("POST", port, path, body, timeout)


class Cluster:
    def __init__(self, binary, base_dir, n, extra_args, name):
        self.binary = binary
        self.dir = os.path.join(base_dir, name)
        self.n = n
        self.extra = list(extra_args)
        ports = free_ports(2 * n)
        self.http = {i: ports[i - 1] for i in range(1, n + 1)}
        self.peer = {i: ports[n + i - 1] for i in range(1, n + 1)}
        self.procs = {}
        self.initial = ",".join(f"{i}=127.0.0.1:{self.peer[i]}" for i in range(1, n + 1))

    def node_dir(self, i):
        return os.path.join(self.dir, f"node{i}")

    def log_path(self, i):
        return os.path.join(self.node_dir(i), "raftlockd.log")

    def start_node(self, i):
        d = self.node_dir(i)
        os.makedirs(d, exist_ok=True)
        args = [self.binary, "--id", str(i), "--data-dir", d,
                "--listen-http", f"127.0.0.1:{self.http[i]}",
                "--listen-peer", f"127.0.0.1:{self.peer[i]}",
                "--initial-cluster", self.initial] + self.extra
        with open(self.log_path(i), "ab") as out:
            self.procs[i] = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL)
        return self.procs[i].pid

    def start(self):
        if os.path.exists(self.dir):
            shutil.rmtree(self.dir)
        for i in range(1, self.n + 1):
            self.start_node(i)

    def pid(self, i):
        p = self.procs.get(i)
        return p.pid if p is not None and p.poll() is None else None

    def pids(self):
        return [p.pid for p in self.procs.values() if p.poll() is None]

    def kill9(self, i):
        p = self.procs[i]
        os.kill(p.pid, signal.SIGKILL)
        p.wait()

    def stop(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for p in self.procs.values():
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs = {}

    def status(self, i, timeout=1.0):
        r = http_get(self.http[i], "/v1/cluster/status", timeout)
        if r is None or r[0] != 200:
            return None
        try:
            return json.loads(r[2])
        except ValueError:
            return None

    def metric(self, i, name):
        r = http_get(self.http[i], "/metrics", 2.0)
        if r is None or r[0] != 200:
            return None
        for line in r[2].decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        return None

    def stable_view(self):
        """(leader id, term, last index) if every node agrees and is caught up, else None."""
        sts = {i: self.status(i) for i in range(1, self.n + 1)}
        if any(s is None for s in sts.values()):
            return None
        terms = {s["term"] for s in sts.values()}
        leaders = {s["leader"] for s in sts.values()}
        if len(terms) != 1 or len(leaders) != 1:
            return None
        leader = leaders.pop()
        if not leader or sts.get(leader, {}).get("role") != "leader":
            return None
        ls = sts[leader]
        last = ls["last_log_index"]
        if ls["commit_index"] != last:
            return None
        for s in sts.values():
            if s["applied_index"] != last or s["commit_index"] != last:
                return None
        for p in ls.get("peers", []):
            if p.get("match_index") != last or p.get("state") != "replicate":
                return None
        return leader, terms.pop(), last

    def wait_stable(self, settle_s=0.5, timeout_s=60.0):
        """Wait until stable_view() holds, with the same leader and term, for settle_s."""
        deadline = time.monotonic() + timeout_s
        since, view = None, None
        while time.monotonic() < deadline:
            v = self.stable_view()
            now = time.monotonic()
            if v is None or view is None or v[:2] != view[:2]:
                since, view = (now if v else None), v
            elif now - since >= settle_s:
                return v
            time.sleep(0.02)
        raise SystemExit(f"cluster in {self.dir} not stable after {timeout_s} s; see node logs")

    def log_offsets(self):
        return {i: (os.path.getsize(self.log_path(i)) if os.path.exists(self.log_path(i)) else 0)
                for i in range(1, self.n + 1)}

    def log_lines_since(self, offsets):
        """[(wall time s, node, term, message)] appended to the logs since offsets."""
        out = []
        for i, off in offsets.items():
            try:
                with open(self.log_path(i), "rb") as f:
                    f.seek(off)
                    data = f.read().decode(errors="replace")
            except OSError:
                continue
            for line in data.splitlines():
                m = LOG_LINE.match(line)
                if not m:
                    continue
                ts = calendar.timegm(time.strptime(m.group(1)[:19], "%Y-%m-%dT%H:%M:%S"))
                ts += float("0" + m.group(1)[19:])
                out.append((ts, int(m.group(2)), int(m.group(3)), m.group(4)))
        out.sort()
        return out
