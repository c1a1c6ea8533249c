"""e2e_ui: the status page at GET /ui, rendered by headless Chromium.

A 3-node cluster with two sessions, a lock (one holder, one waiter) and an
election; the page loaded from a follower must show 3 members, the leader,
the lock with its holder, token and waiter, and the election. Then the leader
is killed with SIGKILL and the page, loaded from a survivor, must show the new
leader and the dead member as down; with the new leader killed too, the last
node's page must say it has no leader and still list the lock.
Screenshots are written to the working directory (ctest: build/tests/e2e/):
ui-before-failover.png and ui-after-failover.png. Skipped when no `chromium`.
"""

import html.parser
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import unittest

import harness
from harness import log, wait_until

CHROMIUM = shutil.which("chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--virtual-time-budget=4000"]


def chromium(url, *extra, timeout=60):
    """Runs headless Chromium on `url` with a fresh profile; returns stdout.
    Chromium and its helpers are in their own process group, killed on timeout."""
    with tempfile.TemporaryDirectory(prefix="raftlock-ui-") as profile:
        argv = [CHROMIUM] + FLAGS + ["--user-data-dir=" + profile] + list(extra) + [url]
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise AssertionError("chromium on %s did not finish in %d s" % (url, timeout))
        if proc.returncode != 0:
            raise AssertionError("chromium exited %s: %s" % (proc.returncode, err[-2000:]))
        return out.decode("utf-8", "replace")


class Page(html.parser.HTMLParser):
    """What the rendered DOM shows: member rows, banner, locks, elections."""

    def __init__(self, dom):
        super().__init__()
        self.members, self.locks, self.elections = {}, {}, {}
        self.banner, self.sessions, self.polls = None, None, 0
        self._row, self._text, self._id = None, [], None
        self.feed(dom)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        if tag == "body":
            self.polls = int(a.get("data-polls", 0))
        if tag == "tr" and ("member" in cls or "lock" in cls or "election" in cls):
            self._row, self._text = (cls[0], a), []
        if a.get("id") in ("banner", "sessions-count"):
            self._id, self._idtext = a["id"], []
            if a["id"] == "banner":
                self.banner = {"leader": a.get("data-leader"), "class": a.get("class")}

    def handle_data(self, data):
        if self._row:
            self._text.append(data)
        if self._id:
            self._idtext.append(data)

    def handle_endtag(self, tag):
        if tag == "tr" and self._row:
            kind, a = self._row
            text = " ".join(self._text)
            if kind == "member":
                self.members[int(a["data-id"])] = {"up": a["data-up"], "role": a["data-role"],
                                                   "text": text}
            else:
                (self.locks if kind == "lock" else self.elections)[a["data-name"]] = text
            self._row = None
        if self._id and tag in ("div", "span"):
            text = "".join(self._idtext)
            if self._id == "banner":
                self.banner["text"] = text
            else:
                self.sessions = text
            self._id = None


class UiTest(harness.ClusterTestCase):
    def load(self, node, screenshot=None):
        url = "http://%s/ui" % node.http
        page = Page(chromium(url, "--dump-dom"))
        log("page from node %d: banner %r, members %r" % (node.id, page.banner, page.members))
        self.assertGreater(page.polls, 0, "the page never finished a poll")
        if screenshot:
            chromium(url, "--screenshot=" + screenshot, "--window-size=1280,800")
            self.assertTrue(os.path.getsize(screenshot) > 0, screenshot)
            print("UI screenshot: %s" % screenshot, flush=True)
        return page

    @unittest.skipIf(CHROMIUM is None, "chromium is not installed (apt-get install -y chromium); "
                                       "the status page cannot be rendered")
    def test_ui(self):
        c = self.new_cluster(3, name="ui")
        c.start()
        leader = c.wait_leader()

        # The page itself: HTML, not cached, with the usual headers.
        st, hs, _ = leader.get("/ui")
        self.assertEqual(st, 200)
        self.assertEqual(hs["content-type"], "text/html; charset=utf-8")
        self.assertEqual(hs["cache-control"], "no-store")
        for h in ("x-raft-term", "x-raft-leader", "x-raftlock-index"):
            self.assertIn(h, hs)

        sid = c.create_session(name="ui-worker")
        st, _, b = leader.post("/v1/locks/db-migration/acquire", {"session": sid})
        self.assertEqual(st, 200, b)
        token = b["fencing_token"]
        st, _, b = leader.post("/v1/elections/primary/campaign",
                               {"session": sid, "value": "10.0.0.5:5432"})
        self.assertEqual(st, 200, b)

        # A second session queues on the lock, through the follower the page is loaded from
        # (the request stays open while the page is rendered).
        follower = [n for n in c.nodes.values() if n is not leader][0]
        sid2 = c.create_session(name="ui-waiter")
        threading.Thread(target=harness.try_http, daemon=True,
                         args=(follower.http, "POST", "/v1/locks/db-migration/acquire",
                               {"session": sid2, "wait_ms": 60000}), kwargs={"timeout": 70}).start()
        wait_until(lambda: follower.get("/v1/locks/db-migration")[2]["waiters"], 10,
                   what="the waiter queued")
        c.wait_caught_up(follower)
        st, _, ov = follower.get("/v1/cluster/overview")
        self.assertEqual(st, 200, ov)
        self.assertEqual(ov["leader"], leader.id)
        self.assertEqual(sorted(m["id"] for m in ov["members"]), sorted(c.nodes))
        self.assertTrue(all(m["up"] for m in ov["members"]), ov)

        page = self.load(follower, os.path.abspath("ui-before-failover.png"))
        self.assertEqual(sorted(page.members), sorted(c.nodes), page.members)
        self.assertTrue(all(m["up"] == "true" for m in page.members.values()), page.members)
        self.assertEqual(page.members[leader.id]["role"], "leader", page.members)
        self.assertIn("LEADER", page.members[leader.id]["text"])
        self.assertEqual(page.banner["leader"], str(leader.id), page.banner)
        self.assertIn("db-migration", page.locks, page.locks)
        self.assertIn("ui-worker", page.locks["db-migration"])
        self.assertIn("#%d" % token, page.locks["db-migration"])
        self.assertIn("ui-waiter", page.locks["db-migration"])
        self.assertIn("primary", page.elections, page.elections)
        self.assertIn("10.0.0.5:5432", page.elections["primary"])
        self.assertEqual(page.sessions, "2")

        # kill -9 the leader; a survivor's page shows the new leader and the dead member down.
        old = leader
        old.kill9()
        new = c.wait_leader(timeout=15.0)
        self.assertNotEqual(new.id, old.id)
        survivor = [n for n in c.alive_nodes() if n is not new][0]
        wait_until(lambda: (survivor.get("/v1/cluster/overview")[2] or {}).get("leader") == new.id,
                   10, what="node %d naming leader %d" % (survivor.id, new.id))
        page = self.load(survivor, os.path.abspath("ui-after-failover.png"))
        self.assertEqual(page.banner["leader"], str(new.id), page.banner)
        self.assertEqual(page.members[old.id]["up"], "false", page.members)
        self.assertEqual(page.members[new.id]["role"], "leader", page.members)
        self.assertEqual(page.members[survivor.id]["up"], "true", page.members)
        self.assertIn("db-migration", page.locks, page.locks)
        self.assertIn("primary", page.elections, page.elections)
        log("new leader node %d shown; node %d shown down" % (new.id, old.id))

        # Kill the new leader too: the last node has no leader, and its page says so.
        new.kill9()
        wait_until(lambda: harness.try_http(survivor.http, "GET", "/v1/cluster/leader")[0] == 503,
                   10, what="node %d without a leader" % survivor.id)
        page = self.load(survivor)
        self.assertEqual(page.banner["class"], "banner noleader", page.banner)
        self.assertIn("NO LEADER", page.banner["text"])
        self.assertEqual([m["up"] for _, m in sorted(page.members.items())].count("true"), 1)
        self.assertIn("db-migration", page.locks, page.locks)


if __name__ == "__main__":
    harness.main()
