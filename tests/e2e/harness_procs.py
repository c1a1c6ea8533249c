"""Processes for the end-to-end harness (harness.py): the raftlockd and
raftlockctl binaries, starting raftlockctl, and the bookkeeping that stops
every started process at exit, by pid, and has the kernel kill it when the
test runner dies.

The raftlockd binary is named by the RAFTLOCKD environment variable (ctest
passes $<TARGET_FILE:raftlockd>) or by --raftlockd PATH on the command line
(harness.main); raftlockctl likewise by RAFTLOCKCTL or --raftlockctl PATH.
"""

import atexit
import ctypes
import os
import signal
import subprocess

# ---------------------------------------------------------------------------
# Binaries


def _binary(name, env):
    """The binary `name`: $env, or the default build tree's service/NAME."""
    path = os.environ.get(env)
    if not path:
        here = os.path.dirname(os.path.abspath(__file__))
        path = os.path.join(here, "..", "..", "build", "service", name)
    path = os.path.abspath(path)
    if not os.access(path, os.X_OK):
        raise RuntimeError("%s not found at %s (set %s)" % (name, path, env))
    return path


def raftlockd_path():
    return _binary("raftlockd", "RAFTLOCKD")


def raftlockctl_path():
    """The raftlockctl binary: RAFTLOCKCTL, --raftlockctl PATH, or beside
    raftlockd in the default build tree."""
    return _binary("raftlockctl", "RAFTLOCKCTL")


def start_ctl(args, endpoints, **popen_kw):
    """Starts raftlockctl with --endpoints; the process is stopped at exit by
    pid like the nodes. Returns the Popen."""
    argv = [raftlockctl_path(), "--endpoints", endpoints] + list(args)
    popen_kw.setdefault("stdin", subprocess.DEVNULL)
    proc = subprocess.Popen(argv, preexec_fn=_die_with_parent, **popen_kw)
    _all_procs.append(proc)
    return proc


# ---------------------------------------------------------------------------
# Processes

_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    # A node must not outlive the test runner (ctest's timeout kills the
    # runner with SIGKILL, leaving no chance to clean up).
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except Exception:
        pass


_all_procs = []  # every Popen this process started, stopped at exit by pid


def _stop_all_at_exit():
    for p in _all_procs:
        if p.poll() is None:
            try:
                os.kill(p.pid, signal.SIGKILL)
                p.wait(5)
            except Exception:
                pass



atexit.register(_stop_all_at_exit)
