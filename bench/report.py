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

# Resources only the operator writes (the pod runner and controller-manager write Pods, Nodes, Leases, ...).
OPERATOR_WRITTEN = ("connectors", "connectors/status", "kafkaconnects", "kafkaconnects/status", "events")


def row(figures: dict[str, Any]) -> dict[str, Any]:
    applies = figures["applies"]
    steady = figures["steady"]
    operator = statistics.median(a["operator"] for a in applies)
    raw = statistics.median(a["raw"] for a in applies) if all("raw" in a for a in applies) else None
    ratios = [a["operator"] / a["raw"] for a in applies if "raw" in a]
    syncs = steady["syncs"] or 1.0
    written = sum(v for k, v in steady["apiserver_writes"].items() if k in OPERATOR_WRITTEN)
    return {
        "n": figures["n"],
        "runs": len(applies),
        "operator": operator,
        "raw": raw,
        "ratio": statistics.median(ratios) if ratios else None,
        "rest_per_sync": steady["rest_per_sync"],
        "kube_writes_per_sync": steady["kube_writes_operator_client"] / syncs,
        "apiserver_writes_per_sync": written / syncs,
        "rss": steady["rss_mb"],
        "hwm": steady["hwm_mb"],
        "cpu": steady["cpu_percent"],
        "workers": figures.get("workers", 2),
    }


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| N | runs | operator apply → all Ready (median) | raw PUTs → all RUNNING (median) | operator/raw "
        "| REST calls per sync | Kubernetes writes per sync (operator's client / apiserver) | RSS (high water) "
        "| CPU, steady |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        raw = f"{r['raw']:.1f} s" if r["raw"] is not None else "—"
        ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else "—"
        rest = f"{r['rest_per_sync']:.2f}" if r["rest_per_sync"] is not None else "—"
        lines.append(
            f"| {r['n']} | {r['runs']} | {r['operator']:.1f} s | {raw} | {ratio} | {rest} "
            f"| {r['kube_writes_per_sync']:.2f} / {r['apiserver_writes_per_sync']:.2f} "
            f"| {r['rss']:.0f} MB ({r['hwm']:.0f} MB) | {r['cpu']:.1f} % |"
        )
    return "\n".join(lines)


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    ns = [r["n"] for r in rows]
    figure, apply_axis = plt.subplots(figsize=(7, 4.2))
    apply_axis.plot(ns, [r["operator"] for r in rows], "o-", label="operator: apply → all Ready")
    if all(r["raw"] is not None for r in rows):
        apply_axis.plot(ns, [r["raw"] for r in rows], "s--", label="raw parallel PUTs → all RUNNING")
    apply_axis.set_xlabel("N connectors")
    apply_axis.set_ylabel("seconds")
    apply_axis.set_xscale("log")
    apply_axis.set_yscale("log")
    rss_axis = apply_axis.twinx()
    rss_axis.plot(ns, [r["rss"] for r in rows], "^:", color="tab:red", label="operator RSS, steady (MB)")
    rss_axis.set_ylabel("MB")
    handles = apply_axis.get_legend_handles_labels()[0] + rss_axis.get_legend_handles_labels()[0]
    labels = apply_axis.get_legend_handles_labels()[1] + rss_axis.get_legend_handles_labels()[1]
    apply_axis.legend(handles, labels, loc="upper left", fontsize=8)
    apply_axis.set_title("Apply time and operator memory against N (local stack)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    print(f"plot: {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--plot", type=Path)
    args = parser.parse_args()
    loaded = [json.loads(f.read_text()) for f in args.files]
    rows = sorted((row(f) for f in loaded), key=lambda r: r["n"])
    for figures in loaded:
        when = f"{figures['date']}; {figures['machine']}"
        print(f"N = {figures['n']}: {when}; {figures['load_start']} → {figures['load_end']}")
    print(table(rows))
    if args.plot:
        plot(rows, args.plot)


if __name__ == "__main__":
    main()
