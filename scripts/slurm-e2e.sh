#!/usr/bin/env bash
# A real single-node Slurm, end to end: a sharded capsim sweep as a job array gives results
# byte-identical to the unsharded sweep, and a cancelled array task is found by
# `capsim status` and rerun on its own (issue 16 §3). Run as root on Debian:
#
#   scripts/slurm-e2e.sh
#
# What it does, in order:
#   1. installs slurm-wlm and munge with apt-get if their commands are absent (says which);
#   2. builds capsim (cargo build --release --locked);
#   3. writes a munge key and a single-node slurm.conf for this machine into its own
#      temporary state directory (nothing under /etc is touched) and starts munged,
#      slurmctld and slurmd in the foreground as its own children, remembering their PIDs;
#   4. runs the unsharded sweep of scenarios/density-sweep.toml as the reference;
#   5. submits deploy/slurm/sweep-array.sbatch (docs/scale-out.md's job array) with
#      `-c 1 --array=0-3` (4 shards, one CPU each on this 2-core machine), and
#      deploy/slurm/merge.sbatch as a job depending on it (afterok); checks every task
#      COMPLETED and the merged summary.json and results.csv byte-identical (cmp) to the
#      reference;
#   6. submits the array again, held, cancels task 2 (`scancel JOBID_2`) and releases the
#      rest; checks `capsim merge` refuses the incomplete set (exit 2), `capsim status`
#      names shard 2 and prints the resubmission, resubmits only that index, merges and
#      checks byte-identity again;
#   7. on any exit: cancels its jobs, stops the daemons it started (by PID) and removes
#      its state and configuration. Installed packages stay (it says so).
#
# Environment:
#   CAPSIM_E2E_TIMEOUT=600     seconds to wait for each daemon, array or job
#   CAPSIM_E2E_PORT=16817      slurmctld port (slurmd uses the next one); not the default
#                              6817, so a site's own Slurm on this host is left alone
#   CAPSIM_E2E_LEGACY_SHARD=1  LEGACY SWITCH, remove once `--shard auto/N` and `capsim status`
#                              exist (issue 16 phase 2): the job scripts' `--shard auto/N`
#                              is rewritten to today's 1-based `--shard $((SLURM_ARRAY_TASK_ID+1))/N`
#                              by a wrapper, and the `capsim status` checks are skipped.
set -euo pipefail

say() { printf '\n== %s\n' "$*"; }
ok() { printf 'ok: %s\n' "$*"; }
fail() {
  printf 'FAIL: %s\n' "$*" >&2
  exit 1
}

top=$(cd "$(dirname "$0")/.." && pwd)
shards=4
cancelled=2 # the array task of the second submission that is cancelled and resubmitted
timeout_s=${CAPSIM_E2E_TIMEOUT:-600}
ctld_port=${CAPSIM_E2E_PORT:-16817}
slurmd_port=$((ctld_port + 1))
legacy=${CAPSIM_E2E_LEGACY_SHARD:-0}
scenario=$top/scenarios/density-sweep.toml
started=$(date +%s)

[ "$(id -u)" = 0 ] || fail "run as root: it installs packages and starts munged, slurmctld and slurmd"
[ -r /etc/debian_version ] || fail "needs Debian (apt-get, slurm-wlm, munge)"
# A run inside a Slurm job must not talk to the outer cluster.
while read -r v; do unset "$v"; done < <(compgen -e | grep -E '^(SLURM_|SBATCH_|SRUN_|SALLOC_)' || true)

# --- state and cleanup -------------------------------------------------------------------
state=
munged_pid=
ctld_pid=
slurmd_pid=
jobs=()
installed_now=()

stop() { # name pid: TERM, up to 10 s, then KILL; only our own children
  local name=$1 pid=$2 i
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
      echo "cleanup: $name (pid $pid) ignored SIGTERM for 10 s: killed"
    fi
  fi
  wait "$pid" 2>/dev/null || true
  echo "cleanup: stopped $name (pid $pid)"
}

cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  say "cleanup"
  if [ ${#jobs[@]} -gt 0 ] && [ -n "$ctld_pid" ] && kill -0 "$ctld_pid" 2>/dev/null; then
    scancel "${jobs[@]}" 2>/dev/null
    local ids
    ids=$(IFS=, && echo "${jobs[*]}")
    for _ in $(seq 30); do
      [ -z "$(squeue -h -j "$ids" 2>/dev/null)" ] && break
      sleep 1
    done
  fi
  if [ "$rc" != 0 ] && [ -n "$state" ] && [ -d "$state/log" ]; then
    echo "--- logs (the run failed; they are removed with the state directory)"
    for f in "$state"/log/* "$state"/jobs/*; do
      [ -f "$f" ] || continue
      echo "--- $f (last 30 lines)"
      tail -n 30 "$f"
    done
  fi
  stop slurmd "$slurmd_pid"
  stop slurmctld "$ctld_pid"
  stop munged "$munged_pid"
  if [ -n "$state" ]; then
    rm -rf "$state"
    echo "cleanup: removed $state (configuration, munge key, Slurm state, outputs)"
  fi
  if [ ${#installed_now[@]} -gt 0 ]; then
    echo "cleanup: packages installed by this run stay installed: ${installed_now[*]} (apt-get remove them if unwanted)"
  else
    echo "cleanup: no packages were installed by this run"
  fi
  if [ "$rc" = 0 ]; then
    echo "PASS: slurm-e2e in $(($(date +%s) - started)) s"
  else
    echo "FAIL: slurm-e2e (exit $rc)"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_until() { # description timeout-s command...: polls once a second
  local what=$1 t=$2 i
  shift 2
  for ((i = 0; i < t; i++)); do
    if "$@" >/dev/null 2>&1; then
      return 0
    fi
    sleep 1
  done
  fail "timed out after ${t} s waiting for: $what"
}

# --- 1. packages -------------------------------------------------------------------------
say "packages"
missing=()
for c in slurmctld slurmd sbatch srun squeue scontrol; do
  command -v "$c" >/dev/null || { missing+=(slurm-wlm) && break; }
done
for c in munged munge unmunge; do
  command -v "$c" >/dev/null || { missing+=(munge) && break; }
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} with apt-get (their commands are absent)"
  # Wait for another apt/dpkg run to release its lock rather than fail at once.
  apt-get -o DPkg::Lock::Timeout=300 update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q "${missing[@]}" >/dev/null
  installed_now=("${missing[@]}")
  ok "installed ${missing[*]}"
else
  ok "slurm-wlm and munge already installed; nothing installed"
fi
echo "slurm: $(slurmd -V)   munge: $(munged -V 2>&1 | head -n 1)"

# --- 2. build ----------------------------------------------------------------------------
say "building capsim (cargo build --release --locked)"
(cd "$top" && cargo build --release --locked)
target=${CARGO_TARGET_DIR:-$top/target}
case $target in /*) ;; *) target=$top/$target ;; esac
bin=$target/release/capsim
[ -x "$bin" ] || fail "no binary at $bin after the build"
ok "$("$bin" --version) at $bin"
if [ "$legacy" != 1 ] && ! "$bin" status --help >/dev/null 2>&1; then
  fail "this capsim has no \`status\` command and no \`--shard auto/N\` yet (issue 16 phase 2): run with CAPSIM_E2E_LEGACY_SHARD=1"
fi

# --- 3. a single-node Slurm of our own ----------------------------------------------------
say "starting munged, slurmctld and slurmd"
for p in "$ctld_port" "$slurmd_port"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    fail "port $p is in use (another Slurm?): set CAPSIM_E2E_PORT to a free pair"
  fi
done
state=$(mktemp -d /tmp/capsim-slurm-e2e.XXXXXX)
# munged refuses a socket directory that others cannot traverse and a key others can read.
chmod 755 "$state"
mkdir -p "$state"/{munge-key,munge-run,ctld,spool,log,jobs}
chmod 700 "$state/munge-key"
chmod 755 "$state/munge-run"
key=$state/munge-key/munge.key
sock=$state/munge-run/munge.socket
if command -v mungekey >/dev/null; then
  mungekey --create --keyfile="$key" --bits=1024
else
  dd if=/dev/urandom of="$key" bs=128 count=1 status=none
fi
chmod 400 "$key"
munged -F --key-file="$key" --socket="$sock" --pid-file="$state/munge-run/munged.pid" \
  --seed-file="$state/munge-key/munged.seed" --log-file="$state/log/munged.log" \
  >"$state/log/munged.out" 2>&1 &
munged_pid=$!
munge_ok() { munge -S "$sock" -n | unmunge -S "$sock"; }
wait_until "munged to answer on $sock" 20 munge_ok
ok "munged pid $munged_pid, socket $sock"

host=$(hostname -s)
# This machine's real topology as slurmd reports it (CPUs, sockets, cores, threads);
# RealMemory is left out: CR_CPU schedules CPUs only.
node=$(slurmd -C | head -n 1 | sed -e 's/ RealMemory=[0-9]*//' -e 's/^NodeName=[^ ]*//')
conf=$state/slurm.conf
cat >"$conf" <<EOF
# capsim slurm-e2e: single node, no cgroups, no accounting database
ClusterName=capsim-e2e
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
# No systemd and no delegated cgroups here: track processes through /proc, bind nothing.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
# Cores are the consumable resource, so two one-CPU array tasks run at once on 2 CPUs.
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
ReturnToService=2
# Finished tasks stay visible to scontrol for an hour (there is no accounting database).
MinJobAge=3600
KillWait=5
NodeName=$host NodeAddr=127.0.0.1$node State=UNKNOWN
PartitionName=e2e Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$conf
slurmctld -D -c -f "$conf" >"$state/log/slurmctld.out" 2>&1 &
ctld_pid=$!
ctld_up() { scontrol ping | grep -q 'is UP'; }
wait_until "slurmctld to answer scontrol ping" 30 ctld_up
ok "slurmctld pid $ctld_pid, port $ctld_port"
slurmd -D -f "$conf" >"$state/log/slurmd.out" 2>&1 &
slurmd_pid=$!
node_idle() { [ "$(sinfo -h -n "$host" -o %t)" = idle ]; }
wait_until "node $host to be idle in sinfo" 60 node_idle
ok "slurmd pid $slurmd_pid, port $slurmd_port"
sinfo -o '%P %a %D %t %c %N'
echo "srun: $(timeout 60 srun -c 1 hostname)"

# --- capsim as the jobs see it -------------------------------------------------------------
capsim_jobs=$bin
if [ "$legacy" = 1 ]; then
  # LEGACY SWITCH (CAPSIM_E2E_LEGACY_SHARD=1): today's binary knows only the 1-based
  # `--shard K/N`. This wrapper rewrites the job scripts' `--shard auto/N` into it so the
  # Slurm mechanics run now; delete it when `--shard auto/N` lands.
  capsim_jobs=$state/capsim-legacy-shard
  cat >"$capsim_jobs" <<EOF
#!/bin/bash
set -euo pipefail
args=()
prev=
for a in "\$@"; do
  if [ "\$prev" = --shard ] && [[ \$a == auto/* ]]; then
    a="\$((SLURM_ARRAY_TASK_ID + 1))/\${a#auto/}"
  fi
  args+=("\$a")
  prev=\$a
done
echo "legacy shard: capsim \${args[*]}" >&2
exec "$bin" "\${args[@]}"
EOF
  chmod 755 "$capsim_jobs"
  echo "LEGACY: CAPSIM_E2E_LEGACY_SHARD=1: --shard auto/N runs as --shard \$((SLURM_ARRAY_TASK_ID+1))/N; capsim status is skipped"
fi

job= # the id of the last submission
submit() { # sbatch arguments...: sets $job and remembers it for the cleanup
  job=$(sbatch --parsable "$@")
  job=${job%%;*}
  [[ $job =~ ^[0-9]+$ ]] || fail "sbatch printed no job id: $job"
  jobs+=("$job")
}

sweep_job() { # out-dir sbatch-options...: submits deploy/slurm/sweep-array.sbatch
  local out=$1
  shift
  # The job script's settings travel as environment variables (paths hold no commas).
  submit --export="ALL,CAPSIM=$capsim_jobs,CAPSIM_SHARDS=$shards,CAPSIM_SCENARIO=$scenario,CAPSIM_OUT=$out" \
    -D "$top" -o "$state/jobs/%x-%A_%a.out" "$@" "$top/deploy/slurm/sweep-array.sbatch"
}

gone() { [ -z "$(squeue -h -j "$1" 2>/dev/null)" ]; }

tasks() { # job id: "task state exit start end" per array task (or the job), sorted
  scontrol -o show job "$1" | awk '{
    t = "-"; s = ""; x = ""; b = ""; e = ""
    for (i = 1; i <= NF; i++) {
      split($i, kv, "=")
      if (kv[1] == "ArrayTaskId") t = kv[2]
      if (kv[1] == "JobState") s = kv[2]
      if (kv[1] == "ExitCode") x = kv[2]
      if (kv[1] == "StartTime") b = kv[2]
      if (kv[1] == "EndTime") e = kv[2]
    }
    print t, s, x, b, e
  }' | sort -n
}

show_tasks() { # job id label
  echo "$2 (job $1):"
  tasks "$1" | while read -r t s x b e; do
    printf '  task %-2s %-10s exit %-5s %s .. %s\n' "$t" "$s" "$x" "$b" "$e"
  done
}

expect_completed() { # job id task...
  local j=$1 t line
  shift
  for t in "$@"; do
    line=$(tasks "$j" | awk -v t="$t" '$1 == t')
    [ -n "$line" ] || fail "job $j: no task $t"
    if [[ $line != "$t COMPLETED 0:0 "* ]]; then
      cat "$state"/jobs/*-"${j}_$t".out "$state"/jobs/*-"$j".out 2>/dev/null | sed 's/^/  job output: /'
      fail "job $j task $t did not complete: $line"
    fi
  done
}

identical() { # dir-a dir-b
  local f
  for f in summary.json results.csv; do
    cmp "$1/$f" "$2/$f" || fail "$f differs between $1 and $2"
    ok "$f byte-identical to the unsharded sweep ($(wc -c <"$1/$f") bytes, sha256 $(sha256sum "$1/$f" | cut -c1-16))"
  done
}

# --- 4. the reference ---------------------------------------------------------------------
say "unsharded reference: capsim sweep scenarios/density-sweep.toml"
ref=$state/ref/density-sweep/sweep
"$bin" sweep "$scenario" --threads 2 --quiet --out "$ref"
ok "$(($(wc -l <"$ref/results.csv") - 1)) rows in results.csv"

# --- 5. the job array and a dependent merge -----------------------------------------------
say "submission 1: sbatch -c 1 --array=0-$((shards - 1)) deploy/slurm/sweep-array.sbatch, then merge.sbatch (afterok)"
out1=$state/r1/density-sweep/sweep
merged1=$state/r1/density-sweep/merge
sweep_job "$out1" -c 1 --array=0-$((shards - 1))
j1=$job
submit --export="ALL,CAPSIM=$bin,CAPSIM_OUT=$out1,CAPSIM_MERGED=$merged1" \
  -D "$top" -o "$state/jobs/%x-%j.out" --dependency="afterok:$j1" --kill-on-invalid-dep=yes \
  "$top/deploy/slurm/merge.sbatch"
m1=$job
echo "array job $j1, merge job $m1"
squeue -o '%.10i %.9P %.14j %.2t %.10M %R'
wait_until "array job $j1 to finish" "$timeout_s" gone "$j1"
wait_until "merge job $m1 to finish" "$timeout_s" gone "$m1"
show_tasks "$j1" "sweep array"
show_tasks "$m1" "merge"
expect_completed "$j1" $(seq 0 $((shards - 1)))
expect_completed "$m1" -
for f in "$state"/jobs/capsim-sweep-"$j1"_*.out; do
  sed "s|^|  $(basename "$f"): |" "$f"
done
ls "$out1"
identical "$merged1" "$ref"

# --- 6. a cancelled task, status, resubmission --------------------------------------------
say "submission 2: the same array, held; scancel JOBID_$cancelled; release the rest"
out2=$state/r2/density-sweep/sweep
merged2=$state/r2/density-sweep/merge
# Held, so the cancel lands before the task could start (these shards take well under a
# second each): the run is the same every time.
sweep_job "$out2" -c 1 --array=0-$((shards - 1)) --hold
j2=$job
scancel "${j2}_${cancelled}"
echo "scancel ${j2}_${cancelled}"
scontrol release "$j2"
wait_until "array job $j2 to finish" "$timeout_s" gone "$j2"
show_tasks "$j2" "sweep array"
mapfile -t others < <(seq 0 $((shards - 1)) | grep -vx "$cancelled")
expect_completed "$j2" "${others[@]}"
line=$(tasks "$j2" | awk -v t="$cancelled" '$1 == t')
[ -z "$line" ] || [[ $line == "$cancelled CANCELLED"* ]] || fail "task $cancelled was not cancelled: $line"
ok "task $cancelled cancelled, the others completed"

say "capsim merge of the incomplete set must refuse (exit 2)"
set +e
"$bin" merge "$out2" --out "$merged2" >"$state/merge2.out" 2>&1
rc=$?
set -e
sed 's/^/  /' "$state/merge2.out"
[ "$rc" = 2 ] || fail "capsim merge exited $rc on a set missing shard $cancelled (expected 2)"
[ ! -e "$merged2" ] || fail "capsim merge wrote $merged2 although it refused"
if [ "$legacy" = 1 ]; then
  grep -q "$((cancelled + 1))/$shards missing" "$state/merge2.out" ||
    fail "merge did not name shard $((cancelled + 1))/$shards as missing"
  ok "merge refused, naming shard $((cancelled + 1))/$shards (1-based today) as missing"
  array=$cancelled
else
  grep -q -- "--array=$cancelled\b" "$state/merge2.out" ||
    fail "merge did not print the resubmission (sbatch --array=$cancelled …)"
  ok "merge refused and printed the resubmission"
  say "capsim status $out2"
  set +e
  "$bin" status "$out2" >"$state/status2.out" 2>&1
  rc=$?
  set -e
  sed 's/^/  /' "$state/status2.out"
  # 0 or 1 (phase 2 may report an incomplete set with 1); 2 would be a usage error.
  [ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "capsim status exited $rc"
  grep -q -- "--array=$cancelled\b" "$state/status2.out" ||
    fail "capsim status did not print sbatch --array=$cancelled"
  # Resubmit with exactly what status printed.
  array=$(grep -o -- '--array=[0-9,-]*' "$state/status2.out" | head -n 1)
  array=${array#--array=}
  ok "status names shard $cancelled and prints --array=$array"
fi

say "resubmission: sbatch -c 1 --array=$array deploy/slurm/sweep-array.sbatch"
sweep_job "$out2" -c 1 --array="$array"
j3=$job
wait_until "resubmitted job $j3 to finish" "$timeout_s" gone "$j3"
show_tasks "$j3" "resubmission"
expect_completed "$j3" "$cancelled"
if [ "$legacy" != 1 ]; then
  "$bin" status "$out2" | sed 's/^/  /'
fi
"$bin" merge "$out2" --out "$merged2" --quiet
identical "$merged2" "$ref"
