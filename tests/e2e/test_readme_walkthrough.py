"""e2e_readme_walkthrough: the README's "Locks and elections with curl"
block, run command by command in one bash against a live 3-node cluster
(localhost:808N -> node N), each answer checked against the `# {...}`
comment below its command, so the docs cannot drift from the daemon.

Ids, tokens, terms and indexes in the README are examples: the first time
one appears in an answer, its real value is learned and substituted into the
commands that follow (e.g. `S1=<id>` and `?index=<n>`); later answers must
show the same real value."""

import json
import os
import queue
import re
import shutil
import subprocess
import tempfile
import threading

import harness
from lockapi import ApiTestCase

README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "README.md")
HEADING = "## Locks and elections with curl"
VOLATILE = {"session", "fencing_token", "term", "modify_index", "remaining_ms", "message"}
END = "__walkthrough_end__"


def extract_commands(text):
    """[(command, expected answer or None)] from the first ```sh block after HEADING."""
    at = text.index(HEADING)
    m = re.search(r"```sh\n(.*?)```", text[at:], re.S)
    lines = m.group(1).split("\n")
    steps, cmd = [], ""
    for line in lines:
        if cmd.endswith("\\"):
            cmd = cmd[:-1] + "\n" + line
            continue
        if line.startswith("# {") or line.startswith("# ["):
            assert steps and steps[-1][1] is None, "an answer without its command: %s" % line
            steps[-1] = (steps[-1][0], json.loads(line[2:]))
        elif line.strip() and not line.startswith("#"):
            steps.append((line, None))
    return steps


class Shell:
    """One bash fed command by command; output read up to an end marker."""

    def __init__(self, cwd):
        self.p = subprocess.Popen(["bash", "--norc", "--noprofile"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=cwd,
                                  preexec_fn=harness._die_with_parent)
        self.q = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in iter(self.p.stdout.readline, b""):
            self.q.put(line.decode("utf-8", "replace"))
        self.q.put(None)

    def run(self, cmd, timeout=40.0):
        self.p.stdin.write(("%s\nprintf '\\n%s %%s\\n' \"$?\"\n" % (cmd, END)).encode())
        self.p.stdin.flush()
        out = ""
        while True:
            line = self.q.get(timeout=timeout)
            if line is None:
                raise AssertionError("bash exited during %r; output %r" % (cmd, out))
            if line.startswith(END):
                return int(line.split()[1]), out.strip()
            out += line

    def close(self):
        self.p.stdin.close()
        self.p.wait(10)
        self.p.stdout.close()


class ReadmeWalkthrough(ApiTestCase):
    def test_walkthrough(self):
        with open(README) as f:
            steps = extract_commands(f.read())
        self.assertGreater(len(steps), 10)
        ports = {"localhost:%d" % (8080 + i): n.http for i, n in self.cluster.nodes.items()}
        learned = {}  # README example value (as text) -> the real one
        cwd = tempfile.mkdtemp(prefix="raftlock-readme-")
        shell = Shell(cwd)
        try:
            for cmd, expected in steps:
                real = cmd
                for doc, value in ports.items():
                    real = real.replace(doc, value)
                for doc, value in sorted(learned.items(), key=lambda kv: -len(kv[0])):
                    real = re.sub(r"(?<![0-9a-z])%s(?![0-9a-z])" % re.escape(doc), value, real)
                rc, out = shell.run(real)
                harness.log("$ %s\n%s" % (real, out))
                self.assertEqual(rc, 0, "README command failed (%d): %s\n%s" % (rc, real, out))
                if expected is None:
                    self.assertEqual(out, "", "README command printed an answer the README does not show: %s" % cmd)
                    continue
                try:
                    got = json.loads(out)
                except ValueError:
                    self.fail("README command %s answered non-JSON %r" % (cmd, out))
                self.match(expected, got, learned, cmd)
        finally:
            shell.close()
            shutil.rmtree(cwd, ignore_errors=True)
        self.assert_alive()

    def match(self, doc, got, learned, cmd, key=None, path="$"):
        what = "README answer of `%s` at %s: README shows %s, the daemon answered %s" % (cmd, path, doc, got)
        if isinstance(doc, dict):
            self.assertIsInstance(got, dict, what)
            self.assertEqual(sorted(doc), sorted(got), what)
            for k in doc:
                self.match(doc[k], got[k], learned, cmd, k, path + "." + k)
        elif isinstance(doc, list):
            self.assertIsInstance(got, list, what)
            self.assertEqual(len(doc), len(got), what)
            for i, (d, g) in enumerate(zip(doc, got)):
                self.match(d, g, learned, cmd, key, "%s[%d]" % (path, i))
        elif key in VOLATILE:
            self.assertIs(type(got), type(doc), what)
            if key in ("message", "remaining_ms"):
                if key == "remaining_ms":
                    self.assertTrue(0 < got <= 30000, what)
                return
            text, real = str(doc), str(got)
            if text in learned:
                self.assertEqual(learned[text], real, what + " (the README uses this value before)")
            else:
                self.assertNotIn(real, learned.values(), what + " (two README values for one real one)")
                learned[text] = real
        else:
            self.assertEqual(doc, got, what)


if __name__ == "__main__":
    harness.main()
