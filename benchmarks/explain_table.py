"""Print the README's table of attribution completeness and class-map stability from a run's
``results/summary/explanation.tsv``. Run: ``python benchmarks/explain_table.py results/summary/explanation.tsv``."""

from __future__ import annotations

import sys

import pandas as pd


def main(path: str) -> None:
    t = pd.read_csv(path, sep="\t")
    print("| cell | IG complete within 1% | 99th pct gap | ON split-half r | ON single-start r | OFF split-half r "
          "| OFF single-start r |")
    print("|---|---|---|---|---|---|---|")
    for _, r in t.iterrows():
        print(f"| {r['cell']} | {100 * r['completeness_share_under_tolerance']:.1f}% | "
              f"{100 * r['completeness_p99_gap']:.2f}% | {r['on_split_half_r']:.2f} | {r['on_single_start_r']:.2f} | "
              f"{r['off_split_half_r']:.2f} | {r['off_single_start_r']:.2f} |")


if __name__ == "__main__":
    main(sys.argv[1])
