"""Print the README's accuracy tables (markdown) from a run's results/summary/{auc,models}.tsv.

Usage: python scripts/readme_tables.py [RESULTS_DIR]   (default: results)
"""
import sys
from pathlib import Path

import pandas as pd

from deepchrome.summary import markdown_tables

summary = Path(sys.argv[1] if len(sys.argv) > 1 else "results") / "summary"
print(markdown_tables(pd.read_csv(summary / "auc.tsv", sep="\t"), pd.read_csv(summary / "models.tsv", sep="\t")), end="")
