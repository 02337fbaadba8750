#!/usr/bin/env bash
# Set up and run deepchrome on a fresh machine (bash run.sh --help lists the commands).
# Set-up: bedtools from the system's packages (apt-get), and a virtual environment .venv/ with the
# pinned versions of requirements.txt plus the deepchrome package itself. Re-running is quick.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}

need_bedtools() {
  command -v bedtools >/dev/null 2>&1 && return
  echo "== installing bedtools (Debian/Ubuntu package)"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: bedtools is missing and apt-get is not available. Fix: install bedtools >= 2.30 (https://bedtools.readthedocs.io) and put it on PATH." >&2
    exit 1
  fi
  $sudo apt-get update -qq && $sudo apt-get install -y -qq bedtools >/dev/null
}

setup() {
  local reqs=$1
  need_bedtools
  if [ ! -x .venv/bin/python ]; then
    echo "== creating .venv with $($PY --version)"
    $PY -m venv .venv
  fi
  local stamp=.venv/.installed-$(cat "$reqs" requirements.txt pyproject.toml | sha1sum | cut -c1-12)
  if [ ! -e "$stamp" ]; then
    echo "== installing pinned packages from $reqs (torch CPU build)"
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -r "$reqs"
    .venv/bin/python -m pip install -q --no-deps -e .
    touch "$stamp"
  fi
}

usage() {
  cat <<'EOF'
usage: bash run.sh [COMMAND] [ARGS...]

commands:
  demo [snakemake args...]   set up, then run the workflow on the built-in demo data set (the default);
                             e.g. bash run.sh demo --cores 8, or bash run.sh demo -n for a dry run;
                             --config takes dotted names too: --config cnn.preset=paper cnn.seeds=1
  test [pytest args...]      set up (with the test tools), then run the test suite
  setup                      only set up (bedtools, .venv with requirements-test.txt)
  -h, --help                 show this help

After the set-up the workflow is plain Snakemake: .venv/bin/snakemake --cores 8, then
.venv/bin/snakemake --report report.html for the HTML report.
EOF
}

is_dry_run() {
  local arg
  for arg in "$@"; do
    case "$arg" in
      --dry-run|--dryrun|-n) return 0 ;;
      --*) ;;
      -*n*) return 0 ;;  # bundled short options such as -pn
    esac
  done
  return 1
}

cmd=${1:-demo}
[ $# -gt 0 ] && shift
case "$cmd" in
  setup) setup requirements-test.txt ;;
  demo)
    setup requirements.txt
    start=$(date +%s)
    # Snakemake's own parser refuses dotted --config names (cnn.preset=paper): nest them first.
    mapfile -d '' -t args < <(.venv/bin/python -m deepchrome.settings "$@")
    .venv/bin/snakemake "${args[@]}"
    if is_dry_run "$@"; then
      echo "== dry run: nothing was run; the list above is what 'bash run.sh demo' would do"
    else
      echo "== demo finished in $(( $(date +%s) - start )) s; results in results/ (summary: results/summary/auc.tsv; report: .venv/bin/snakemake --report report.html)"
    fi
    ;;
  test)
    setup requirements-test.txt
    .venv/bin/python -m pytest "$@"
    ;;
  -h|--help|help) usage ;;
  *) echo "run.sh: unknown command '$cmd'" >&2; usage >&2; exit 2 ;;
esac
