#!/usr/bin/env python3
"""tools/bench/seed_table.py: medians of run-seed.sh's JSON lines as markdown tables.

usage: seed_table.py RESULTS.jsonl   (lines starting with '#' are comments)
"""
import json
import statistics
import sys
from collections import defaultdict

ORDER = ["sqlite-wal", "sqlite-delete", "edgemes", "edgemes-nodelay", "edgemes-max", "pg", "pg-syncoff"]


def same_run_ratio(rs, pg, key):
    """Median over repetitions of system/pg, each ratio from the same repetition."""
    if not pg:
        return "-"
    base = {r.get("rep"): r[key] for r in pg}
    ratios = [r[key] / base[r.get("rep")] for r in rs if base.get(r.get("rep"))]
    return f"{statistics.median(ratios):.2f}" if ratios else "-"


def main(path):
    runs, serve = defaultdict(list), defaultdict(list)
    for line in open(path):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            d = json.loads(line)
        except json.JSONDecodeError:
            continue  # a run killed half-way
        if "first_serve_ms" in d:
            serve[d["system"]].append(d["first_serve_ms"])
        elif "avg_ms" in d:
            p = d["params"]
            runs[(p["reads"], p["readers"], d["system"])].append(d)
    med = lambda rs, k: statistics.median(r[k] for r in rs)
    cols = ["avg_ms", "p50_ms", "p95_ms", "p99_ms", "max_ms", "reads_per_s", "writes_per_s",
            "write_samples_per_s"]
    print("| reads | readers | system | n | avg ms | p50 | p95 | p99 | max | reads/s | write txn/s "
          "| write samples/s | reads done | reader BUSY | writer BUSY | max txn ms | reads/s vs pg | samples/s vs pg |")
    print("|" + "---|" * 18)
    for key in sorted(runs, key=lambda k: (k[0], k[1], ORDER.index(k[2]) if k[2] in ORDER else 99)):
        rs = runs[key]
        pg = runs.get((key[0], key[1], "pg"))
        m = {c: med(rs, c) for c in cols}
        rr = same_run_ratio(rs, pg, "reads_per_s")
        wr = same_run_ratio(rs, pg, "write_samples_per_s")
        print(f"| {key[0]} | {key[1]} | {key[2]} | {len(rs)} | {m['avg_ms']:.2f} | {m['p50_ms']:.2f} "
              f"| {m['p95_ms']:.2f} | {m['p99_ms']:.1f} | {m['max_ms']:.0f} | {m['reads_per_s']:.0f} "
              f"| {m['writes_per_s']:.0f} | {m['write_samples_per_s']:.0f} "
              f"| {statistics.median(r['reads_ok'] for r in rs):.0f} "
              f"| {statistics.median(r['reader_busy'] for r in rs):.0f} "
              f"| {statistics.median(r['writer_busy'] for r in rs):.0f} "
              f"| {med(rs, 'max_txn_ms'):.0f} | {rr} | {wr} |")
    print()
    for s, v in serve.items():
        print(f"time to serving, {s}: median {statistics.median(v):.1f} ms of {len(v)} ({', '.join(f'{x:.1f}' for x in v)})")


if __name__ == "__main__":
    main(sys.argv[1])
