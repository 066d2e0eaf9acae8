#!/usr/bin/env python3
"""The Markdown table of scripts/bench_lab.sh's JSON files: per workload and JDK, each layout's
throughput relative to compact (geometric mean of paired rounds, 95% interval), the spread of
its phases, and the hot set's distinct 4 KiB pages and 2 MiB regions."""
import json, re, sys

rows = []
for path in sys.argv[1:]:
    m = re.search(r"jdk(\d+)-(small|large)-(\d+)\.json$", path)
    d = json.load(open(path))
    s = d["summary"]
    ratio = {r["layout"]: r for r in s["ratios"]}
    lay = {l["layout"]: l for l in s["layouts"]}
    figs = {}
    for p in d["phases"]:
        figs.setdefault(p["layout"], p["figures"])
    def r(name):
        x = ratio.get(name)
        if not x:
            return "1"
        iv = x.get("interval")
        return f"{x['estimate']:.2f}" + (f" [{iv[0]:.2f}, {iv[1]:.2f}]" if iv else "")
    sp = ratio.get("sparse", {}).get("estimate")
    rows.append((m.group(2), int(m.group(3)), int(m.group(1)), d["hot_methods"],
                 f"{lay['compact']['median']:.0f}", r("natural"), r("sparse"),
                 f"+{(1 / sp - 1) * 100:.0f}%" if sp else "-",
                 " / ".join(str(figs[k]["pages"]) for k in ("natural", "compact", "sparse")),
                 " / ".join(str(figs[k]["regions"]) for k in ("natural", "compact", "sparse")),
                 " / ".join(f"{lay[k]['spread'] * 100:.0f}%" for k in ("natural", "compact", "sparse"))))
rows.sort(key=lambda t: (t[0] == "large", t[1], t[2]))
print("| methods | JDK | hot set | compact Mcalls/s | natural / compact | sparse / compact [95% CI] | compact wins back on sparse | 4K pages N/C/S | 2M regions N/C/S | spread of phase medians N/C/S |")
print("|---|---|---|---|---|---|---|---|---|---|")
for t in rows:
    print(f"| {t[1]} {t[0]} | {t[2]} | {t[3]} | {t[4]} | {t[5]} | {t[6]} | {t[7]} | {t[8]} | {t[9]} | {t[10]} |")
