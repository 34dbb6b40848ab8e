"""How cost grows with N (goal 5): a markdown table and a plot from `bench/scale.py --json` files.

Run: `.venv/bin/python bench/report.py results/scale-50.json results/scale-200.json results/scale-1000.json
--plot bench/scale.png` (each file one `scale.py` run at one N). Prints the table `bench/README.md` shows.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any

# Resources only the operator writes (the pod runner and controller-manager write Pods, Nodes, Leases, and
# Events too: the controller-manager's PDB "NoPods" for clusters scaled to zero, so Events are left out).
OPERATOR_WRITTEN = ("connectors", "connectors/status", "kafkaconnects", "kafkaconnects/status")


def row(figures: dict[str, Any], resources: int | None = None) -> dict[str, Any]:
    applies = figures["applies"]
    steady = figures["steady"]
    operator = statistics.median(a["operator"] for a in applies)
    raw = statistics.median(a["raw"] for a in applies) if all("raw" in a for a in applies) else None
    ratios = [a["operator"] / a["raw"] for a in applies if "raw" in a]
    syncs = steady["syncs"] or 1.0
    written = sum(v for k, v in steady["apiserver_writes"].items() if k in OPERATOR_WRITTEN)
    return {
        "n": resources or figures["n"],
        "running": figures["n"],
        "runs": len(applies),
        "operator": operator,
        "raw": raw,
        "ratio": statistics.median(ratios) if ratios else None,
        "rest_per_sync": steady["rest_per_sync"],
        "kube_writes_per_sync": steady["kube_writes_operator_client"] / syncs,
        "apiserver_writes_per_sync": written / syncs,
        "rss": steady["rss_mb"],
        "rss_max": steady.get("rss_max_mb"),
        "hwm": steady["hwm_mb"],
        "cpu": steady["cpu_percent"],
        "workers": figures.get("workers", 2),
    }


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| Connectors (running in Connect) | runs | operator apply → all Ready (median) "
        "| raw PUTs → all RUNNING (median) | operator/raw "
        "| REST calls per sync | Kubernetes writes per sync (operator's client / apiserver) "
        "| RSS at the window's end, its most (high water) "
        "| CPU, steady |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        raw = f"{r['raw']:.1f} s" if r["raw"] is not None else "—"
        ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else "—"
        rest = f"{r['rest_per_sync']:.2f}" if r["rest_per_sync"] is not None else "—"
        most = f"{r['rss_max']:.1f} MB" if r["rss_max"] is not None else "not sampled"
        lines.append(
            f"| {r['n']} ({r['running']}) | {r['runs']} | {r['operator']:.1f} s | {raw} | {ratio} | {rest} "
            f"| {r['kube_writes_per_sync']:.2f} / {r['apiserver_writes_per_sync']:.2f} "
            f"| {r['rss']:.1f} MB, {most} ({r['hwm']:.0f} MB) | {r['cpu']:.1f} % |"
        )
    return "\n".join(lines)


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    applied = sorted((r for r in rows if r["running"] == r["n"]), key=lambda r: r["n"])
    figure, (apply_axis, rss_axis) = plt.subplots(1, 2, figsize=(10, 4))
    ns = [r["n"] for r in applied]
    apply_axis.plot(ns, [r["operator"] for r in applied], "o-", label="operator: apply → all Ready")
    with_raw = [r for r in applied if r["raw"] is not None]
    apply_axis.plot([r["n"] for r in with_raw], [r["raw"] for r in with_raw], "s--", label="raw PUTs → all RUNNING")
    apply_axis.set_xlabel("N connectors applied (all running)")
    apply_axis.set_ylabel("seconds (median of the runs)")
    apply_axis.legend(fontsize=8)
    apply_axis.set_title("Apply time")
    everyone = sorted(rows, key=lambda r: r["n"])
    rss_axis.plot([r["n"] for r in everyone], [r["rss"] for r in everyone], "^-", color="tab:red", label="VmRSS")
    rss_axis.plot([r["n"] for r in everyone], [r["hwm"] for r in everyone], "v:", color="tab:gray", label="VmHWM")
    for r in everyone:
        rss_axis.annotate(
            f"{r['running']} running", (r["n"], r["rss"]), fontsize=7, xytext=(4, -10), textcoords="offset points"
        )
    rss_axis.set_xlabel("Connector resources")
    rss_axis.set_ylabel("MB, steady state")
    rss_axis.set_ylim(bottom=0)
    rss_axis.legend(fontsize=8)
    rss_axis.set_title("Operator memory")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    print(f"plot: {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--plot", type=Path)
    parser.add_argument("--platform", type=Path, help="the platform run (idle clusters, unrelated objects)")
    parser.add_argument("--platform-resources", type=int, default=1000, help="its Connector resources in all")
    args = parser.parse_args()
    loaded = [json.loads(f.read_text()) for f in args.files]
    rows = [row(f) for f in loaded]
    if args.platform:
        platform = json.loads(args.platform.read_text())
        loaded.append(platform)
        rows.append(row(platform, args.platform_resources))
        if "unrelated" in platform:
            u = platform["unrelated"]
            print(
                f"platform with 10,000 unrelated Secrets and 2,000 unrelated Pods: RSS {u['rss_mb']:.0f} MB "
                f"(high water {u['hwm_mb']:.0f} MB), CPU {u['cpu_percent']:.1f} %, "
                f"apiserver writes {u['apiserver_writes']}"
            )
    rows.sort(key=lambda r: r["n"])
    for figures in loaded:
        when = f"{figures['date']}; {figures['machine']}"
        print(f"N = {figures['n']}: {when}; {figures['load_start']} → {figures['load_end']}")
    print(table(rows))
    if args.plot:
        plot(rows, args.plot)


if __name__ == "__main__":
    main()
