"""Print the README's accuracy tables (markdown) from a run's results/summary/{auc,models}.tsv, and for a
target: level run its expression-level tables from levels.tsv and level_models.tsv.

Usage: python scripts/readme_tables.py [RESULTS_DIR] [CELL ...]   (default: results; naming cells prints only
their rows, without the across-cells table)
"""
import sys
from pathlib import Path

import pandas as pd

from deepchrome.summary import markdown_levels, markdown_tables

summary = Path(sys.argv[1] if len(sys.argv) > 1 else "results") / "summary"
auc, cells = pd.read_csv(summary / "auc.tsv", sep="\t"), sys.argv[2:]
models = None if cells else pd.read_csv(summary / "models.tsv", sep="\t")
print(markdown_tables(auc[auc["cell"].isin(cells)] if cells else auc, models), end="")
if (summary / "levels.tsv").exists() and not cells:
    print("\n" + markdown_levels(pd.read_csv(summary / "levels.tsv", sep="\t"),
                                 pd.read_csv(summary / "level_models.tsv", sep="\t")), end="")
