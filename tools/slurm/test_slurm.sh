#!/usr/bin/env bash
# The demo study through profiles/slurm on a real one-node SLURM, compared byte for byte with a
# local run (`make test-slurm`, docs/cluster.md).
#
# 1. Installs Debian's SLURM if missing (munge, slurmctld, slurmd, slurm-client; needs root).
# 2. Writes a one-node slurm.conf into a temporary folder: munged, slurmctld and slurmd listen on
#    127.0.0.1 only, on free ports, with no accounting database (the case of issue 16: `sacct`
#    fails there). No cgroup plugin (proctrack/linuxproc, task/none): CI containers seldom
#    delegate cgroups, and the test needs no limits enforced. Daemons and clients read it through
#    SLURM_CONF, but the srun that runs each job's step cannot: snakemake-executor-plugin-slurm-
#    jobstep 0.6.1 removes SLURM_CONF from its environment. So a copy also goes to
#    /etc/slurm/slurm.conf, SLURM's default path; a file already there is set aside and put back.
# 3. Copies the working tree (tracked and untracked, not ignored files) twice: one copy runs the
#    DAG locally (profiles/default, as `make study`), the other through
#    `snakemake --workflow-profile profiles/slurm`, the command docs/cluster.md gives.
# 4. Checks that every non-local job ran as one SLURM job with as many CPUs as its rule's threads,
#    ended with exit 0 and left its log in .snakemake/slurm_logs/ (tools/slurm/check_run.py), that
#    the SLURM run matches docs/checksums.sha256, and that every file under results/ is
#    byte-identical to the local run's (but provenance.json and report.html, which hold times,
#    and pickled models, which hold object ids: as tests/test_workflow.py).
# 5. Always stops the daemons and removes the temporary folder, on success, failure or Ctrl-C.
#
# Settings (environment): PERIVIGIL_VENV (default: <repository>/.venv), SLURM_TEST_TIMEOUT
# (seconds for the SLURM run, default 1800), SLURM_TEST_ARGS (more options for the SLURM run's
# Snakemake, split on spaces), SLURM_TEST_KEEP=1 (keep the temporary folder).
set -Eeuo pipefail

say() { echo "test-slurm: $*"; }
die() {
  echo "test-slurm: FAILED: $*" >&2
  exit 1
}

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VENV=${PERIVIGIL_VENV:-$REPO/.venv}
TIMEOUT=${SLURM_TEST_TIMEOUT:-1800}
[[ -x $VENV/bin/snakemake ]] || die "no Snakemake in $VENV: run \`make venv\` first (or set PERIVIGIL_VENV)"

# --- 1. Debian's SLURM -------------------------------------------------------------------------
PACKAGES=(munge slurmctld slurmd slurm-client)
missing=()
for tool in munged munge slurmctld slurmd sbatch squeue scontrol sinfo scancel; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
  [[ $(id -u) == 0 ]] ||
    die "SLURM is missing (${missing[*]}) and installing it needs root: apt-get install ${PACKAGES[*]}"
  command -v apt-get >/dev/null || die "SLURM is missing (${missing[*]}) and this is not Debian/Ubuntu (no apt-get)"
  say "installing ${PACKAGES[*]} (apt-get)"
  apt_log=$(mktemp /tmp/perivigil-slurm-apt.XXXXXX.log)
  apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Use-Pty=0 install --no-install-recommends \
      "${PACKAGES[@]}" >>"$apt_log" 2>&1
  }
  apt_install || { apt-get -q update >>"$apt_log" 2>&1 && apt_install; } ||
    die "apt-get could not install ${PACKAGES[*]} (its output: $apt_log)"
  rm -f "$apt_log"
fi
[[ $(id -u) == 0 ]] || die "slurmd runs its jobs as their user, so it must run as root: run this as root"
say "$(slurmctld -V), $(munged -V 2>&1 | head -1)"

# --- 2. The cluster, in a temporary folder -----------------------------------------------------
WORK=$(mktemp -d /tmp/perivigil-slurm.XXXXXX)
chmod 755 "$WORK" # munged wants every folder above its socket searchable by all
LOCAL_PID=
SLURM_PID=
ETC_CONF=/etc/slurm/slurm.conf
ETC_BACKUP=/etc/slurm/slurm.conf.perivigil-test-backup
ETC_WRITTEN=
MARK="written by perivigil's tools/slurm/test_slurm.sh"
started=$SECONDS

running() { # process $1 exists and is not a zombie (a container's init may not reap them)
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) && [[ $state != Z* ]]
}

stop_pid_file() { # stop the daemon whose pid file is $1
  local file=$1 pid
  [[ -s $file ]] || return 0
  pid=$(<"$file")
  running "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    running "$pid" || return 0
    sleep 0.2
  done
  kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  set +e
  for pid in $LOCAL_PID $SLURM_PID; do # each in its own process group (setsid): Snakemake and its jobs
    if running "$pid"; then
      kill -TERM -- "-$pid" 2>/dev/null
      wait "$pid" 2>/dev/null
    fi
  done
  if [[ -s $WORK/slurmctld.pid ]] && running "$(<"$WORK/slurmctld.pid")"; then
    # Jobs left by a failed or interrupted run: cancel them, give slurmd time to end their steps.
    squeue --noheader --format=%i 2>/dev/null | xargs -r scancel --quiet 2>/dev/null
    for _ in $(seq 30); do
      [[ -z $(squeue --noheader --format=%i 2>/dev/null) ]] && break
      sleep 1
    done
  fi
  if ((status != 0)); then
    for log in "$WORK"/log/slurmctld.log "$WORK"/log/slurmd.log "$WORK"/munge/munged.log; do
      [[ -s $log ]] && { echo "--- last lines of $log" >&2; tail -n 15 "$log" >&2; }
    done
  fi
  stop_pid_file "$WORK/slurmd.pid"
  stop_pid_file "$WORK/slurmctld.pid"
  stop_pid_file "$WORK/munge/munged.pid"
  if [[ -n $ETC_WRITTEN ]]; then
    rm -f "$ETC_CONF"
    [[ -e $ETC_BACKUP ]] && mv -f "$ETC_BACKUP" "$ETC_CONF"
  fi
  if [[ ${SLURM_TEST_KEEP:-0} == 1 ]]; then
    say "kept $WORK (SLURM_TEST_KEEP=1); the daemons are stopped"
  else
    rm -rf "$WORK"
  fi
  say "daemons stopped, $((SECONDS - started)) s in all"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Two free TCP ports on 127.0.0.1 (bound together, so that they differ).
read -r CTLD_PORT SLURMD_PORT < <(
  "$VENV/bin/python" - <<'EOF'
import socket
sockets = [socket.socket() for _ in range(2)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in sockets))
EOF
)
# One node with at least 4 CPUs (the transformer's threads; SlurmdParameters=config_overrides lets
# the node say more than the machine has) and the machine's memory.
CPUS=$(($(nproc) > 4 ? $(nproc) : 4))
MEMORY=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)

mkdir -p "$WORK"/{munge,munge-run,state,spool,log}
chmod 700 "$WORK/munge"
chmod 755 "$WORK/munge-run"
dd if=/dev/urandom of="$WORK/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$WORK/munge/munge.key"
cat >"$WORK/slurm.conf" <<EOF
# $MARK: a one-node test cluster (temporary).
ClusterName=perivigil-test
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$WORK/munge-run/munge.socket
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/log/slurmctld.log
SlurmdLogFile=$WORK/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
MinJobAge=3600
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
ReturnToService=2
MpiDefault=none
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEMORY State=UNKNOWN
PartitionName=normal Nodes=localhost Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=localhost MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$WORK/slurm.conf
# The copy for the job steps' srun (see the top). A copy left by a killed run (its first line says
# so) is replaced and the file it had set aside put back first.
if [[ -f $ETC_CONF ]] && head -1 "$ETC_CONF" | grep -q "$MARK"; then
  if [[ -f $ETC_BACKUP ]]; then mv -f "$ETC_BACKUP" "$ETC_CONF"; else rm -f "$ETC_CONF"; fi
fi
[[ -e $ETC_BACKUP ]] && die "$ETC_BACKUP exists: put it back as $ETC_CONF or remove it, then run again"
[[ -e $ETC_CONF ]] && mv "$ETC_CONF" "$ETC_BACKUP"
mkdir -p "$(dirname "$ETC_CONF")"
ETC_WRITTEN=1
cp "$SLURM_CONF" "$ETC_CONF"

# --- 3. Two copies of the working tree; the local run starts at once, beside the cluster ------
copy_tree() {
  mkdir -p "$1"
  (cd "$REPO" && git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' file; do if [[ -e $file ]]; then printf '%s\0' "$file"; fi; done |
    tar --null -T - -cf -) | tar -C "$1" -xf -
}
copy_tree "$WORK/local"
copy_tree "$WORK/slurm"
export PATH="$VENV/bin:$PATH"

say "local run (profiles/default) in $WORK/local"
# In its own process group (setsid), so that a failure or Ctrl-C stops it and its jobs together.
(cd "$WORK/local" && PYTHONPATH="$WORK/local/src" exec setsid -w snakemake --cores all >"$WORK/local.log" 2>&1) &
LOCAL_PID=$!

say "starting munged, slurmctld, slurmd on 127.0.0.1 (ports $CTLD_PORT, $SLURMD_PORT)"
munged --key-file="$WORK/munge/munge.key" --socket="$WORK/munge-run/munge.socket" \
  --pid-file="$WORK/munge/munged.pid" --log-file="$WORK/munge/munged.log" \
  --seed-file="$WORK/munge/munged.seed" || die "munged did not start"
slurmctld -f "$SLURM_CONF" || die "slurmctld did not start"
slurmd -f "$SLURM_CONF" -N localhost || die "slurmd did not start"
for _ in $(seq 60); do
  state=$(sinfo --noheader --nodes=localhost --format=%T 2>/dev/null | head -1 || true)
  [[ $state == idle ]] && break
  sleep 1
done
[[ ${state:-} == idle ]] || die "the node is not idle after 60 s (state: '${state:-none}')"
settings=$(scontrol show config | grep -E '^(AccountingStorageType|MinJobAge) ' | tr -s ' ' | paste -sd ';')
say "node localhost idle: $CPUS CPUs, $MEMORY MB; $settings"

# --- 4. The SLURM run --------------------------------------------------------------------------
# The documented command; for the test only: a first status check after 2 s (not 40), SLURM's logs
# kept to be checked.
SLURM_COMMAND=(snakemake --workflow-profile profiles/slurm --slurm-init-seconds-before-status-checks 2
  --slurm-keep-successful-logs)
read -r -a extra_args <<<"${SLURM_TEST_ARGS:-}"
SLURM_COMMAND+=("${extra_args[@]}")
say "SLURM run in $WORK/slurm: ${SLURM_COMMAND[*]}"
slurm_start=$SECONDS
(cd "$WORK/slurm" && PYTHONPATH="$WORK/slurm/src" exec setsid -w timeout --foreground -k 30 "$TIMEOUT" \
  "${SLURM_COMMAND[@]}" >"$WORK/slurm.log" 2>&1) &
SLURM_PID=$!
slurm_status=0
wait "$SLURM_PID" || slurm_status=$?
SLURM_PID=
slurm_seconds=$((SECONDS - slurm_start))
if ((slurm_status != 0)); then
  tail -n 40 "$WORK/slurm.log" >&2
  ((slurm_seconds >= TIMEOUT)) &&
    die "the SLURM run did not end in $TIMEOUT s (a status check that never sees the jobs end?)"
  die "the SLURM run failed (exit $slurm_status; its log above)"
fi
steps=$(grep -E '[0-9]+ of [0-9]+ steps' "$WORK/slurm.log" | tail -1 | sed 's/^ *//')
say "SLURM run done in $slurm_seconds s: $steps"

wait "$LOCAL_PID" || {
  tail -n 40 "$WORK/local.log" >&2
  die "the local run failed (its log above)"
}
LOCAL_PID=

# Every job but the local rules ran as one SLURM job, with as many CPUs as its rule's threads, ended
# with exit 0 and left its log.
# (CPUs from scontrol: finished jobs stay known for MinJobAge, an hour here.)
scontrol -o show job >"$WORK/jobs.txt" || die "scontrol show job failed"
"$VENV/bin/python" "$REPO/tools/slurm/check_run.py" "$WORK/slurm.log" "$WORK/log/slurmctld.log" \
  "$WORK/jobs.txt" "$WORK/slurm/.snakemake/slurm_logs" >"$WORK/check.txt" 2>&1 || die "$(tail -n 1 "$WORK/check.txt")"
say "SLURM jobs: $(<"$WORK/check.txt")"

# --- 5. Byte for byte ---------------------------------------------------------------------------
(cd "$WORK/slurm" && LC_ALL=C sha256sum --check --quiet docs/checksums.sha256) ||
  die "the SLURM run's files differ from docs/checksums.sha256 (above)"
digests() {
  (cd "$1" && find results -type f ! -name '*.joblib' ! -path results/provenance.json ! -path results/report.html |
    LC_ALL=C sort | xargs -d '\n' sha256sum)
}
digests "$WORK/local" >"$WORK/local.sha256"
digests "$WORK/slurm" >"$WORK/slurm.sha256"
diff -u "$WORK/local.sha256" "$WORK/slurm.sha256" >&2 ||
  die "the SLURM run's results differ from the local run's (above)"
say "OK: $(wc -l <"$WORK/local.sha256") files under results/ byte-identical to the local run," \
  "$(wc -l <"$REPO/docs/checksums.sha256") of them as in docs/checksums.sha256"
