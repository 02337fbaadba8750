#!/usr/bin/env bash
# Start a one-node SLURM cluster on 127.0.0.1 for the tests (Debian's slurm-wlm 22.05 and munge).
#   bash tests/slurm/start_cluster.sh STATE_DIR
# Every daemon keeps its state, logs, socket and PID file under STATE_DIR; the configuration goes to
# /etc/slurm/slurm.conf and /etc/slurm/gres.conf (the job steps of the Snakemake plugin drop SLURM_CONF,
# so the default path is the only one they all read). Files there that this script did not write are
# never touched: it stops with exit status 3 instead. Stop everything with stop_cluster.sh STATE_DIR.
# The node has the machine's CPUs and memory and one stand-in GPU (gres gpu:1 on /dev/null), so a
# --gpus=1 job is accepted and runs with CUDA_VISIBLE_DEVICES=0 even where no GPU exists.
set -euo pipefail
STATE=${1:?usage: start_cluster.sh STATE_DIR}
STATE=$(realpath -m "$STATE")
CONF_DIR=${SLURM_TEST_CONF_DIR:-/etc/slurm}
MARKER="# deepchrome test cluster: written by tests/slurm/start_cluster.sh, removed by stop_cluster.sh"

for f in "$CONF_DIR/slurm.conf" "$CONF_DIR/gres.conf"; do
  if [ -e "$f" ] && ! grep -qxF "$MARKER" "$f"; then
    echo "error: $f exists and was not written by this script; not touching it" >&2
    exit 3
  fi
done
for cmd in munged slurmctld slurmd sinfo sbatch; do
  command -v "$cmd" >/dev/null || { echo "error: $cmd is missing (apt-get install slurm-wlm munge)" >&2; exit 4; }
done

mkdir -p "$STATE"/{munge,ctld,spool,log}
chmod 700 "$STATE" "$STATE/munge"
# munge: an own key and socket, so that a munged of the machine (if any) stays as it is
if [ ! -s "$STATE/munge/munge.key" ]; then
  dd if=/dev/urandom of="$STATE/munge/munge.key" bs=1024 count=1 status=none
  chmod 400 "$STATE/munge/munge.key"
fi
munged --force --key-file="$STATE/munge/munge.key" --socket="$STATE/munge/munge.socket" \
  --pid-file="$STATE/munged.pid" --log-file="$STATE/log/munged.log" --seed-file="$STATE/munge/munged.seed"

CPUS=$(nproc)
# memory is not a consumable here (CR_Core) nor enforced (no cgroups): at least 64 GB, so that the
# profile's requests (train_cnn: 8 GB, more on retries) fit on small CI machines too
MEM_MB=$(awk '/MemTotal/ {m = int($2 / 1024 * 0.9); print (m > 65536 ? m : 65536)}' /proc/meminfo)
mkdir -p "$CONF_DIR"
cat > "$CONF_DIR/slurm.conf" <<CONF
$MARKER
# state: $STATE
ClusterName=deepchrome
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$STATE/munge/munge.socket
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
# no systemd, no cgroups, no accounting daemon
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
MpiDefault=none
ReturnToService=2
# squeue must still list finished jobs when Snakemake asks (>= 3 x its initial status delay)
MinJobAge=300
SchedulerParameters=sched_interval=1,bf_interval=1
GresTypes=gpu
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB Gres=gpu:1 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
cat > "$CONF_DIR/gres.conf" <<CONF
$MARKER
# one stand-in GPU: File= is required (without it the node is invalid); /dev/null holds no device
NodeName=localhost Name=gpu File=/dev/null
CONF

export SLURM_CONF="$CONF_DIR/slurm.conf"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF" -N localhost
# ready when the node is idle
for _ in $(seq 600); do
  if [ "$(sinfo -h -N -o %t 2>/dev/null)" = "idle" ]; then
    exit 0
  fi
  sleep 0.05
done
echo "error: the test cluster did not come up within 30 s; logs in $STATE/log" >&2
sinfo -N -l >&2 || true
exit 5
