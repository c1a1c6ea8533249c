"""A strict reader of the Prometheus text exposition format (version 0.0.4),
for the e2e tests of /metrics. Standard library only."""

import math
import re

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_SAMPLE = re.compile(r"^(%s)(\{(.*)\})? (\S+)$" % _NAME)
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')
_TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def _labels(text):
    out = {}
    pos = 0
    while pos < len(text):
        m = _LABEL.match(text, pos)
        if not m:
            raise ValueError("bad labels: {%s}" % text)
        out[m.group(1)] = m.group(2)
        pos = m.end()
    return out


def _value(text):
    if text in ("+Inf", "-Inf", "NaN"):
        return float(text.replace("Inf", "inf").replace("NaN", "nan"))
    return float(text)


def parse(text):
    """{family: {"type", "help", "samples": [(name, labels dict, value)]}}.
    Raises ValueError on anything the format does not allow: a sample before
    its TYPE, a TYPE twice, a histogram whose buckets are not cumulative or
    whose +Inf bucket differs from _count."""
    families = {}
    current = None
    for n, line in enumerate(text.split("\n"), 1):
        if not line:
            continue
        if line.startswith("# HELP "):
            name = line.split(" ", 3)[2]
            families.setdefault(name, {"type": None, "help": None, "samples": []})
            families[name]["help"] = line.split(" ", 3)[3] if line.count(" ") >= 3 else ""
            continue
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ")
            if typ not in _TYPES:
                raise ValueError("line %d: unknown type %s" % (n, typ))
            fam = families.setdefault(name, {"type": None, "help": None, "samples": []})
            if fam["type"] is not None:
                raise ValueError("line %d: TYPE of %s twice" % (n, name))
            if fam["samples"]:
                raise ValueError("line %d: TYPE of %s after its samples" % (n, name))
            fam["type"] = typ
            current = name
            continue
        if line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise ValueError("line %d: not a sample: %r" % (n, line))
        name, labels, value = m.group(1), _labels(m.group(3) or ""), _value(m.group(4))
        fam = name
        if current is not None and families[current]["type"] == "histogram":
            for suffix in ("_bucket", "_sum", "_count"):
                if name == current + suffix:
                    fam = current
        if fam not in families or families[fam]["type"] is None:
            raise ValueError("line %d: sample %s without a TYPE line" % (n, name))
        if fam != current:
            raise ValueError("line %d: samples of %s are not together" % (n, fam))
        families[fam]["samples"].append((name, labels, value))
    for name, fam in families.items():
        if fam["type"] == "histogram":
            _check_histogram(name, fam["samples"])
    return families


def _check_histogram(name, samples):
    series = {}
    for sname, labels, value in samples:
        key = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
        s = series.setdefault(key, {"buckets": [], "sum": None, "count": None})
        if sname == name + "_bucket":
            s["buckets"].append((_value(labels["le"]), value))
        elif sname == name + "_sum":
            s["sum"] = value
        elif sname == name + "_count":
            s["count"] = value
    for key, s in series.items():
        les = [le for le, _ in s["buckets"]]
        if les != sorted(les) or not les or les[-1] != math.inf:
            raise ValueError("%s%s: buckets not ascending up to +Inf: %s" % (name, key, les))
        counts = [c for _, c in s["buckets"]]
        if counts != sorted(counts):
            raise ValueError("%s%s: buckets not cumulative: %s" % (name, key, counts))
        if s["count"] is None or s["sum"] is None or s["count"] != counts[-1]:
            raise ValueError("%s%s: _count %s, _sum %s, +Inf bucket %s"
                             % (name, key, s["count"], s["sum"], counts[-1]))


def value(families, name, **labels):
    """The value of the one sample `name` with these labels (a sum over the
    samples that match, for a family with more labels); None if absent."""
    total = None
    for fam in families.values():
        for sname, ls, v in fam["samples"]:
            if sname == name and all(ls.get(k) == str(x) for k, x in labels.items()):
                total = (total or 0) + v
    return total
