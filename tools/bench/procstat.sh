# procstat.sh: CPU and memory of one process from /proc, for the bench scripts
# (source it). CPU is utime+stime in clock ticks (fields 14 and 15 of
# /proc/PID/stat, counted after the ")" that ends the command name, which may
# hold spaces); memory is VmRSS / VmHWM from /proc/PID/status, in KiB.

procstat_hz=$(getconf CLK_TCK)

# cpu_ticks PID: utime+stime so far (children not included).
cpu_ticks() {
  local stat rest
  stat=$(<"/proc/$1/stat")
  rest=${stat##*) }          # fields from 3 (state) on
  # shellcheck disable=SC2086
  set -- $rest
  echo $(( ${12} + ${13} ))  # field 14 = utime, 15 = stime
}

# mem_kib PID FIELD: a Vm* line of /proc/PID/status (VmRSS, VmHWM) in KiB.
mem_kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

# cores TICKS0 TICKS1 SECONDS: mean cores used between two cpu_ticks readings.
cores() { awk -v a="$1" -v b="$2" -v s="$3" -v hz="$procstat_hz" 'BEGIN { printf "%.3f", (b - a) / hz / s }'; }

# io_write_bytes PID: bytes the process caused to be written to storage so far
# (write_bytes of /proc/PID/io: page-cache writeback included, what wears flash).
io_write_bytes() { awk '$1 == "write_bytes:" { print $2 }' "/proc/$1/io"; }

# fsync_calls PID SECONDS: fsync + fdatasync calls of the process (all threads)
# during SECONDS, counted by strace -c. Attaching ptrace slows the process:
# run it after the CPU window, not during it.
fsync_calls() {
  local f; f=$(mktemp)
  timeout -s INT "$2" strace -c -f -e trace=fsync,fdatasync -p "$1" -o "$f" 2>/dev/null || true
  awk '$NF == "fsync" || $NF == "fdatasync" { n += $4 } END { print n + 0 }' "$f"
  rm -f "$f"
}
