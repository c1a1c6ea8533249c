"""Loopback ports and HTTP requests for the end-to-end harness (harness.py).

Standard library only. free_port hands out ports nothing listens on, never
the same twice in this process. Every HTTP helper returns (status, headers,
body): status an int, headers a dict with lower-case names, body the decoded
JSON (None when the body is not JSON). Connection failures raise OSError
from `http`; `try_http` turns them into status None.
"""

import http.client as httpclient
import json
import random
import socket
import threading

# ---------------------------------------------------------------------------
# Ports

_handed_out = set()
_port_lock = threading.Lock()


def _ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
            return lo, hi
    except (OSError, ValueError):
        return 32768, 60999


def free_port():
    """A port nothing listens on right now, never the same twice in this
    process. Taken from below the kernel's ephemeral range when there is room
    (so an outgoing connection cannot grab a stopped node's port before it is
    restarted), else from bind(0). A race with another process remains
    possible: Cluster retries a start whose node could not bind."""
    lo, _ = _ephemeral_range()
    with _port_lock:
        for _ in range(200):
            if lo - 1 > 15000:
                port = random.randint(15000, lo - 1)
            else:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                try:
                    s.bind(("127.0.0.1", 0))
                    port = s.getsockname()[1]
                finally:
                    s.close()
            if port in _handed_out:
                continue
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            finally:
                s.close()
            _handed_out.add(port)
            return port
    raise RuntimeError("no free port")


# ---------------------------------------------------------------------------
# HTTP


def _decode(data):
    try:
        return json.loads(data.decode("utf-8")) if data else None
    except (ValueError, UnicodeDecodeError):
        return None


def http(addr, method, path, body=None, raw=None, timeout=5.0, headers=None):
    """One request on a fresh connection. body: a JSON value to send; raw:
    bytes to send as they are. Returns (status, headers, json)."""
    host, port = addr.rsplit(":", 1)
    conn = httpclient.HTTPConnection(host, int(port), timeout=timeout)
    try:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        hdrs = {"Content-Type": "application/json"} if data is not None else {}
        hdrs.update(headers or {})
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        payload = resp.read()
        hs = {k.lower(): v for k, v in resp.getheaders()}
        return resp.status, hs, _decode(payload)
    finally:
        conn.close()


def try_http(addr, method, path, body=None, timeout=2.0, **kw):
    try:
        return http(addr, method, path, body=body, timeout=timeout, **kw)
    except (OSError, httpclient.HTTPException) as e:
        return None, {}, {"exception": repr(e)}


def error_code(body):
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"].get("code")
    return None
