#!/usr/bin/env bash
# Set up and run deepchrome on a fresh machine (bash run.sh --help lists the commands).
# Set-up: bedtools from the system's packages (apt-get), and a virtual environment .venv/ with the
# pinned versions of requirements.txt plus the deepchrome package itself. Re-running is quick.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
TORCH=${DEEPCHROME_TORCH:-pypi}  # pypi: PyPI's torch (CUDA build with NVIDIA libraries); cpu: PyTorch's CPU wheel
CPU_INDEX=https://download.pytorch.org/whl/cpu
# The installer: uv unpacks and compiles the pinned packages in parallel, where pip works one file at a time; pip
# remains the fallback.
UV=uv==0.13.8

need_python() {
  # requirements.txt pins releases (numpy, scipy, snakemake) that exist for Python >= 3.11 only
  if ! "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "error: deepchrome needs Python >= 3.11, and $1 is $("$1" --version 2>&1). Fix: PYTHON=python3.11 bash run.sh ... (and remove .venv if it was made with the old one)." >&2
    exit 1
  fi
}

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

test_packages() {
  # the Debian packages of the tests' heavy parts not yet here (each opt-out), on one line, which the set-up installs
  # as root beside .venv rather than the tests while they run; the commands are those tests/browser.py and
  # tests/test_slurm.py look for
  command -v apt-get >/dev/null 2>&1 || { echo; return 0; }
  local name have="" want=()
  if [ "${DEEPCHROME_TEST_NO_BROWSER:-}" != 1 ]; then
    for name in chromium chromium-browser google-chrome chromium-headless-shell; do
      command -v "$name" >/dev/null 2>&1 && have=1
    done
    [ -n "$have" ] || want+=(chromium)
  fi
  if [ "${DEEPCHROME_TEST_NO_SLURM:-}" != 1 ]; then
    for name in munged slurmctld slurmd sbatch squeue; do
      command -v "$name" >/dev/null 2>&1 || { want+=(slurm-wlm munge); break; }
    done
  fi
  echo "${want[*]}"
}

need_system() {
  # bedtools, then (as root) the packages named in $@; those are the tests' own: where apt-get cannot install them,
  # the set-up goes on and the tests that need them say why
  need_bedtools
  [ $# -gt 0 ] || return 0
  echo "== installing $* for the tests (apt-get)"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"; } \
      >/dev/null; then
    echo "== apt-get could not install $*; the tests that need them try again and say why" >&2
  fi
}

installed_stamp() {
  # the file that says .venv holds the pins of $1 (and of requirements.txt, pyproject.toml, the torch build)
  echo ".venv/.installed-$( (cat "$1" requirements.txt pyproject.toml; [ "$TORCH" = pypi ] || echo "$TORCH") | sha1sum | cut -c1-12)"
}

uv_args() {
  # pip's own configuration (`pip config list` on stdin: pip.conf and PIP_* variables), which uv does not read, as
  # uv's options, NUL-separated: its indexes, wheel folders and constraints, and its cert as SSL_CERT_FILE=FILE
  local line key val v
  while IFS= read -r line; do
    key=${line%%=*}; key=${key##*.}
    val=${line#*=}; val=${val#\'}; val=${val%\'}
    case "$key" in
      index-url) printf '%s\0' --index-url "$val" ;;
      extra-index-url|find-links|constraint) for v in $val; do printf '%s\0' "--$key" "$v"; done ;;
      cert) printf '%s\0' "SSL_CERT_FILE=$val" ;;
    esac
  done
}

install_into() {
  # pip install "${@:2}" into the environment of python $1: with uv where the set-up put it into .venv, else pip.
  # Packages are compiled to bytecode, unless pip's --no-compile is among the arguments (an environment whose
  # programs run a few times: compiling all of it costs more than they would compile on import)
  local py=$1 a args=() certs=() rest=() compile=(--compile-bytecode)
  shift
  for a in "$@"; do
    if [ "$a" = --no-compile ]; then compile=(); else rest+=("$a"); fi
  done
  if [ -x .venv/bin/uv ]; then
    while IFS= read -r -d '' a; do
      case "$a" in SSL_CERT_FILE=*) certs+=("$a") ;; *) args+=("$a") ;; esac
    done < <(.venv/bin/python -m pip config list 2>/dev/null | uv_args)
    [ -z "${SSL_CERT_FILE:-}" ] || certs=("SSL_CERT_FILE=$SSL_CERT_FILE")  # the caller's own wins
    # unsafe-best-match: the best version over all indexes, as pip picks it
    if env "${certs[@]}" .venv/bin/uv pip install -q --python "$py" --index-strategy unsafe-best-match \
        "${compile[@]}" "${args[@]}" "${rest[@]}"; then
      return
    fi
    echo "== uv could not install $*; trying pip" >&2
  fi
  "$py" -m pip install -q "$@"
}

setup() {
  local reqs=$1 apt="" extra=()  # $2=test: the set-up of run.sh test
  if [ "$(id -u)" -eq 0 ]; then
    [ "${2:-}" != test ] || read -r -a extra < <(test_packages)
    need_system "${extra[@]}" &  # apt-get while the packages install (sudo, which may ask for a password, stays in the foreground)
    apt=$!
  else
    need_bedtools
  fi
  if [ ! -x .venv/bin/python ]; then
    need_python "$PY"
    echo "== creating .venv with $($PY --version)"
    $PY -m venv .venv
  fi
  need_python .venv/bin/python
  case "$TORCH" in
    pypi|cpu) ;;
    *) echo "error: DEEPCHROME_TORCH=$TORCH; use pypi (the default) or cpu" >&2; exit 2 ;;
  esac
  local stamp
  stamp=$(installed_stamp "$reqs")
  # requirements-test.txt includes requirements.txt: a test set-up serves the demo as it is
  if [ ! -e "$stamp" ] && [ ! -e "$(installed_stamp requirements-test.txt)" ]; then
    # a current pip too: the fallback, and what the tests resolve requirements.txt with (twice as fast as venv's own)
    if ! .venv/bin/python -m pip install -q --upgrade pip "$UV"; then
      echo "== no $UV for this machine: installing with pip"
      .venv/bin/python -m pip install -q --upgrade pip
    fi
    if [ "$TORCH" = cpu ]; then
      echo "== installing PyTorch's CPU-only wheel from $CPU_INDEX"
      .venv/bin/python -m pip install -q --index-url "$CPU_INDEX" "$(grep -E '^torch==' requirements.txt)"
    else
      echo "== installing torch from PyPI: the CUDA build with its NVIDIA libraries, over 2 GB (DEEPCHROME_TORCH=cpu: the CPU-only wheel)"
    fi
    echo "== installing pinned packages from $reqs"
    install_into .venv/bin/python -r "$reqs"
    install_into .venv/bin/python --no-deps -e .
    touch "$stamp"
  fi
  [ -z "$apt" ] || wait "$apt" || exit 1
}

usage() {
  cat <<'EOF'
usage: bash run.sh [COMMAND] [ARGS...]

commands:
  demo [snakemake args...]   set up, then run the workflow on the built-in demo data set (the default);
                             e.g. bash run.sh demo --cores 8, or bash run.sh demo -n for a dry run;
                             --config takes dotted names too: --config cnn.preset=paper cnn.seeds=1
  test [pytest args...]      set up (with the test tools), then run the test suite (see below)
  setup                      only set up (bedtools, .venv with requirements-test.txt)
  install PYTHON ARGS...     install packages into another environment as the set-up does (uv, else pip;
                             pip's --no-compile leaves them uncompiled)
  -h, --help                 show this help

Set-up: needs Python >= 3.11 (PYTHON=python3.11 picks one) and Debian/Ubuntu's apt-get for bedtools (with
sudo when not root). It creates .venv/ with the pinned packages of requirements.txt, installed by uv (its cache:
~/.cache/uv; pip where uv cannot, e.g. behind an index that pip's configuration does not name). torch==2.13.0 from PyPI
is the CUDA build with its NVIDIA libraries (over 2 GB); on a machine without a GPU,
DEEPCHROME_TORCH=cpu bash run.sh ... installs PyTorch's CPU-only wheel from https://download.pytorch.org/whl/cpu.

What 'run.sh test' does besides pytest, when run as root (each part opt-out):
  - installs Chromium with apt-get (with bedtools, during the set-up), to screenshot the report
                                                                DEEPCHROME_TEST_NO_BROWSER=1 skips that test
  - installs slurm-wlm and munge with apt-get (likewise) and starts a one-node SLURM cluster on 127.0.0.1,
    stopped again after the test                                DEEPCHROME_TEST_NO_SLURM=1 skips that test
  - creates a deepTools virtualenv (hundreds of MB) under ~/.cache/deepchrome, reused by later runs
                                                                DEEPCHROME_TEST_NO_DEEPTOOLS=1 skips that test
  Without root, the apt-get parts skip with the reason. docs/development.md says more.

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
    setup requirements-test.txt test
    .venv/bin/python -m pytest "$@"
    ;;
  install)
    # the tests' own environments (deepTools, a plain Snakemake driver): installed as the set-up installs .venv
    [ $# -ge 2 ] || { echo "usage: bash run.sh install PYTHON PIP-ARGS..." >&2; exit 2; }
    install_into "$@"
    ;;
  -h|--help|help) usage ;;
  *) echo "run.sh: unknown command '$cmd'" >&2; usage >&2; exit 2 ;;
esac
