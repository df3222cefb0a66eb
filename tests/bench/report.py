#!/usr/bin/env python3
"""Reads the wrk outputs that tests/bench/run saved, prints the table, checks the targets.

usage: report.py <work folder> <yes|skip: whether the API was measured>
Exit status 1 when a target is missed, 2 when a run had errors.
"""

import re
import sys
from pathlib import Path

ROWS = [
    ("a", "static file /static/atrium.css (ceiling)"),
    ("b", "My Apps page 1, last updated"),
    ("c", "My Apps search, common word"),
    ("c2", "My Apps search, one match (info)"),
    ("d", "API GET /v2/users/{org}/apps"),
    ("e", "My Apps page 1, Team Contributor"),
    ("m", "Members page 1 (1,000 members)"),
    ("m2", "Members page searched by name"),
    ("f", "API members, per_page=1000 (one response)"),
]
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def millis(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if m is None:
        raise ValueError(f"unexpected latency {text!r}")
    return float(m.group(1)) * UNITS[m.group(2)]


def parse(path: Path) -> dict:
    out = path.read_text()
    run = {}
    run["rps"] = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    for pct in ("50", "99"):
        run["p" + pct] = millis(re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M).group(1))
    run["requests"] = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    run["non2xx"] = int(bad.group(1)) if bad else 0
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    run["socket_errors"] = sum(int(x) for x in sock.groups()) if sock else 0
    sql = re.search(r"sql_statements (\d+) requests (\d+)", out)
    run["sql_per_req"] = int(sql.group(1)) / max(int(sql.group(2)), 1) if sql else None
    return run


def main() -> int:
    work, api = Path(sys.argv[1]), sys.argv[2]
    runs = {}
    for key, _ in ROWS:
        path = work / f"wrk-{key}.txt"
        if path.exists():
            runs[key] = parse(path)
    ceiling = runs["a"]["rps"]
    print(f"{'':4} {'what':42} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'SQL/req':>8} {'vs (a)':>7}")
    for key, label in ROWS:
        if key not in runs:
            print(f"({key}){'':{3 - len(key)}} {label:42} skipped")
            continue
        r = runs[key]
        sql = f"{r['sql_per_req']:.2f}" if r["sql_per_req"] is not None else "-"
        print(
            f"({key}){'':{3 - len(key)}} {label:42} {r['rps']:9.0f} {r['p50']:8.2f} "
            f"{r['p99']:8.2f} {sql:>8} {100 * r['rps'] / ceiling:6.1f}%"
        )
    errors = [
        f"({k}) had {r['non2xx']} non-2xx responses and {r['socket_errors']} socket errors"
        for k, r in runs.items()
        if r["non2xx"] or r["socket_errors"]
    ]
    checks = [
        ("(b) >= 15 % of (a)", runs["b"]["rps"] >= 0.15 * ceiling,
         f"{100 * runs['b']['rps'] / ceiling:.1f} %"),
        ("(c) >= 10 % of (a)", runs["c"]["rps"] >= 0.10 * ceiling,
         f"{100 * runs['c']['rps'] / ceiling:.1f} %"),
        ("p99 of (b) < 20 ms", runs["b"]["p99"] < 20.0, f"{runs['b']['p99']:.2f} ms"),
    ]
    if "e" in runs:
        checks.append((
            "(e) within 1.5x the time of (b)",
            runs["e"]["rps"] * 1.5 >= runs["b"]["rps"],
            f"{runs['b']['rps'] / runs['e']['rps']:.2f}x",
        ))
    for key, name in (("m", "(m) >= 50 % of (b)"), ("m2", "(m2) >= 50 % of (b)")):
        if key in runs:
            got = runs[key]["rps"] / runs["b"]["rps"]
            checks.append((name, got >= 0.5, f"{100 * got:.1f} %"))
    if "f" in runs:
        checks.append(("(f) >= 400 req/s", runs["f"]["rps"] >= 400, f"{runs['f']['rps']:.0f} req/s"))
    print()
    for name, ok, got in checks:
        print(f"{'ok  ' if ok else 'MISS'} {name}: {got}")
    if api != "yes":
        print("     (d) skipped: API not present")
    for e in errors:
        print(f"ERROR {e}")
    if errors:
        return 2
    if not all(ok for _, ok, _ in checks):
        print("bench: a target was missed (see MISS above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
