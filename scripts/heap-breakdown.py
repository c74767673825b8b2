#!/usr/bin/env python3
"""Sum a dhat heap profile (`waggle-bench heap`, built with --features heap-profile) by part of
Waggle: the bytes live at the heap's peak during the start (dhat's t-gmax), then those live
when the profile was written, the running server's steady state (t-end), each grouped by the
first frame of each allocation's call stack that names a part.
Usage: scripts/heap-breakdown.py [dhat-heap.json]"""
import json
import re
import sys
from collections import Counter

PARTS = [
    ("statistics index: value index", r"waggle::core::stats::values::ValueIndex"),
    ("statistics index: alert keys", r"waggle::core::stats::values::AlertKeys"),
    ("statistics index: snapshot read", r"waggle::core::stats::snapshot"),
    ("statistics index", r"waggle::core::stats::"),
    ("statistics index: snapshot file read", r"std::fs::read"),
    ("engine: memtable", r"surrealkv::memtable"),
    ("engine: block cache", r"surrealkv::(cache|sstable::block|sstable::table::read_table_block)|quick_cache"),
    ("engine: other", r"surrealkv::"),
    ("SurrealDB (queries, catalog)", r"surrealdb"),
    ("Waggle: caches and services", r"waggle::(core::cache|domain)"),
    ("Waggle: other", r"waggle::"),
]


def breakdown(d, field, title):
    frames = d["ftbl"]
    sums, sites = Counter(), Counter()
    for pp in d["pps"]:
        b = pp.get(field, 0)
        if not b:
            continue
        names = [frames[i] for i in pp["fs"]]
        part = "other (runtime, allocator, libraries)"
        site = names[0] if names else "?"
        for n in names:
            hit = next((label for label, pat in PARTS if re.search(pat, n)), None)
            if hit:
                part, site = hit, n
                break
        sums[part] += b
        sites[(part, re.sub(r"\s*\(.*$", "", site)[:110])] += b
    total = sum(sums.values())
    print(f"{title}: {total / 2**20:.0f} MiB")
    for part, b in sums.most_common():
        print(f"  {b / 2**20:8.1f} MiB  {100 * b / max(total, 1):5.1f} %  {part}")
    print("  largest allocation sites:")
    for (part, site), b in sites.most_common(12):
        print(f"  {b / 2**20:8.1f} MiB  {part}: {site}")


def main(path):
    d = json.load(open(path))
    breakdown(d, "gb", "heap at its peak during the start (dhat t-gmax)")
    print()
    breakdown(d, "eb", "heap of the running server when the profile was written (dhat t-end)")


main(sys.argv[1] if len(sys.argv) > 1 else "dhat-heap.json")
