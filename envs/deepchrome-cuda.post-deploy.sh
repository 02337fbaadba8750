#!/usr/bin/env bash
# Snakemake runs this once in the freshly created conda env (from the working directory, with the
# environment of the Snakemake process): install the deepchrome package of this workflow, editable, so
# that the env runs the workflow's current code and `script:` rules can import it (Snakemake blocks
# PYTHONPATH in conda jobs). The workflow is found through DEEPCHROME_SOURCE (set by the workflow to its
# own folder), else the working directory when that is the workflow's folder.
set -euo pipefail
src=${DEEPCHROME_SOURCE:-$PWD}
if [ ! -f "$src/pyproject.toml" ] || [ ! -f "$src/deepchrome/__init__.py" ]; then
  echo "error: cannot find the deepchrome workflow folder (tried '$src'). Fix: set DEEPCHROME_SOURCE=/path/to/the/workflow, or run Snakemake from the workflow's folder." >&2
  exit 1
fi
python -m pip install --no-deps --no-build-isolation --no-index --quiet -e "$src"
