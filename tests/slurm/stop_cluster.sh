#!/usr/bin/env bash
# Stop the test cluster of start_cluster.sh: each daemon by the PID in its PID file (slurmd,
# slurmctld, munged), then remove the slurm.conf and gres.conf that start_cluster.sh wrote.
#   bash tests/slurm/stop_cluster.sh STATE_DIR
set -uo pipefail
STATE=$(realpath -m "${1:?usage: stop_cluster.sh STATE_DIR}")
CONF_DIR=${SLURM_TEST_CONF_DIR:-/etc/slurm}
MARKER="# deepchrome test cluster: written by tests/slurm/start_cluster.sh, removed by stop_cluster.sh"

for name in slurmd slurmctld munged; do
  pidfile="$STATE/$name.pid"
  [ -s "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  kill -TERM "$pid" 2>/dev/null || continue
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
done
for f in "$CONF_DIR/slurm.conf" "$CONF_DIR/gres.conf"; do
  [ -e "$f" ] && grep -qxF "$MARKER" "$f" && rm -f "$f"
done
exit 0
