"""Parsing of serial logs: the line format of docs/benchmarking.md.

A log becomes {info, metrics: {name: {unit, samples, summary}}, counts: {bench:
{ops, ipis, ...}}, done, errors, warnings, tail}. Guests print raw samples only
(BSAMPLES); a `BENCH` summary line (printed by guests before the runner computed
every statistic itself) is still read, and used only for a metric without samples.
"""
import math
import re

from config import TAIL_LINES

_KEYWORD = re.compile(r"(?<![A-Za-z0-9_])(BENCHINFO|BENCHDONE|BSAMPLES|BCOUNTS|BENCH)(?=\s|$)")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\x1b[=>c]")


def num(s):
    """int if integral, else float; ValueError if not a finite number."""
    try:
        return int(s)
    except ValueError:
        v = float(s)
        if not math.isfinite(v):
            raise
        return v


def _kv(tokens):
    out = {}
    for t in tokens:
        if "=" in t:
            k, v = t.split("=", 1)
            out[k] = v
    return out


def _metric(metrics, name):
    return metrics.setdefault(name, {"unit": None, "summary": None, "samples": []})


def parse_log(text):
    """Parses one serial log (see the module docs for what it returns)."""
    info, metrics, counts, warnings, done, errors = {}, {}, {}, [], False, []
    lines = [_ANSI.sub("", l).replace("\r", "") for l in text.split("\n")]
    for lineno, line in enumerate(lines, 1):
        if "BENCHERR" in line:  # benches/linux: a program failed (not part of the contract)
            errors.append(line[line.index("BENCHERR"):].strip())
            continue
        m = _KEYWORD.search(line)
        if not m:
            continue
        kw, rest = m.group(1), line[m.end():].split()
        if kw == "BENCHDONE":
            done = True
        elif kw == "BENCHINFO":
            info.update(_kv(rest))
        elif kw == "BSAMPLES":
            kv = _kv(rest)
            name = kv.get("name")
            if not name:
                warnings.append("line %d: BSAMPLES without name=" % lineno)
                continue
            met = _metric(metrics, name)
            unit = kv.get("unit")
            if met["unit"] and unit and unit != met["unit"]:
                warnings.append("line %d: %s: unit %s after %s" % (lineno, name, unit, met["unit"]))
            met["unit"] = met["unit"] or unit
            bad = 0
            for t in rest:
                if "=" in t:
                    continue
                try:
                    met["samples"].append(num(t))
                except ValueError:
                    bad += 1
            if bad:
                warnings.append("line %d: %s: %d garbled sample(s) skipped" % (lineno, name, bad))
        elif kw == "BCOUNTS":
            kv = _kv(rest)
            name = kv.pop("name", None)
            try:
                c = {k: num(v) for k, v in kv.items()}
            except ValueError:
                c = None
            if not name or c is None or "ops" not in c:
                warnings.append("line %d: malformed BCOUNTS line: %s" % (lineno, line.strip()))
                continue
            counts[name] = c
        else:  # BENCH: a legacy summary line
            kv = _kv(rest)
            name = kv.get("name")
            try:
                summary = {k: num(kv[k]) for k in ("min", "p50", "p99", "max", "n")}
            except (KeyError, ValueError):
                warnings.append("line %d: malformed BENCH line: %s" % (lineno, line.strip()))
                continue
            if not name:
                warnings.append("line %d: BENCH without name=" % lineno)
                continue
            met = _metric(metrics, name)
            met["summary"] = summary
            met["unit"] = met["unit"] or kv.get("unit")
    tail = [l for l in lines if l.strip()][-TAIL_LINES:]
    return {"info": info, "metrics": metrics, "counts": counts, "done": done,
            "warnings": warnings, "tail": tail, "errors": errors}
