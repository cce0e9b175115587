#!/usr/bin/env bash
# Builds Fovea's libFuzzer targets (the Fuzz/ package) and runs each one, then prints a table
# of executions, crashes, leaks, timeouts and out-of-memory runs per target and PASS or FAIL.
#
#   Scripts/fuzz.sh                       every target for 30 s
#   Scripts/fuzz.sh --time 600 FuzzPNG    one target for 10 minutes
#   Scripts/fuzz.sh --runs 100000         every target for 10^5 executions (the long run)
#   Scripts/fuzz.sh --runs N --time S     whichever comes first
#   Scripts/fuzz.sh --keep-going ...      fork mode: record every crash and go on fuzzing
#   Scripts/fuzz.sh --write-seeds         regenerate Fuzz/Corpus/<target>/ from Fovea's encoders
#   Scripts/fuzz.sh --list                the targets
#
# Options: --no-build; -j N runs N targets at once (default 1). Environment: FUZZ_RSS_MB (2048,
# the process's memory), FUZZ_MALLOC_MB (1024, one allocation: a larger one is an
# out-of-memory finding even when the process would survive it), FUZZ_TIMEOUT (10 s per
# input), FUZZ_EXTRA (more libFuzzer flags).
# Each target reads the committed seeds (Fuzz/Corpus/<target>/), the recorded crashes
# (Fuzz/Crashes/<target>/, so they are rerun first) and its own growing corpus
# (Fuzz/work/<target>/, kept between runs, not committed). A crashing, leaking, hanging or
# out-of-memory input is left in Fuzz/findings/<target>/ with the log; reproduce it with
#   SWIFT_BACKTRACE=enable=no Fuzz/.build/release/<target> Fuzz/findings/<target>/crash-...
# Exit status: 0 all clean, 1 a finding or a failed build, 77 the toolchain cannot build
# fuzz targets (-sanitize=fuzzer unsupported), so callers can skip.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(FuzzPNG FuzzJPEG FuzzIDX FuzzNumPy FuzzSafetensors FuzzONNX FuzzLabeledCSV FuzzService FuzzHTTP)

time_s="" runs="" build=1 keep_going=0 jobs=1 write_seeds=0 chosen=()
while [ $# -gt 0 ]; do
  case "$1" in
    --time) time_s=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --keep-going) keep_going=1; shift ;;
    -j) jobs=$2; shift 2 ;;
    --write-seeds) write_seeds=1; shift ;;
    --list) printf '%s\n' "${targets[@]}"; exit 0 ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) chosen+=("$1"); shift ;;
  esac
done
[ ${#chosen[@]} -gt 0 ] && targets=("${chosen[@]}")
[ -n "$runs$time_s" ] || time_s=30
rss_mb=${FUZZ_RSS_MB:-2048}
malloc_mb=${FUZZ_MALLOC_MB:-1024}
per_input_timeout=${FUZZ_TIMEOUT:-10}
export SWIFT_BACKTRACE=enable=no   # Swift's backtracer stalls libFuzzer's crash handling
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:handle_abort=1:symbolize=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/Fuzz/lsan.supp:print_suppressions=0}

# Can this toolchain build a libFuzzer binary at all?
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
cat > "$probe/probe.swift" <<'SWIFT'
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 { 0 }
SWIFT
if ! swiftc -sanitize=fuzzer,address -parse-as-library "$probe/probe.swift" -o "$probe/probe" >"$probe/log" 2>&1; then
  echo "fuzzing skipped: this Swift toolchain cannot build with -sanitize=fuzzer,address:"
  sed 's/^/  /' "$probe/log" | head -5
  exit 77
fi

bin=Fuzz/.build/release
if [ "$build" = 1 ]; then
  echo "== building the fuzz targets (release, libFuzzer coverage and AddressSanitizer in every module)"
  start=$(date +%s)
  # --sanitize fuzzer makes SwiftPM compile executables as libraries and link libFuzzer's main;
  # the Swift flag must then name both sanitizers at once: swiftc keeps only the last
  # -sanitize= it is given, so "--sanitize fuzzer --sanitize address" builds without coverage.
  swift build --package-path Fuzz -c release --sanitize fuzzer \
    -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=address
  echo "built in $(( $(date +%s) - start )) s"
fi

if [ "$write_seeds" = 1 ]; then
  for t in "${targets[@]}"; do
    rm -rf "Fuzz/Corpus/$t"
    FOVEA_FUZZ_WRITE_SEEDS="Fuzz/Corpus/$t" "$bin/$t"
    echo "$t: $(ls "Fuzz/Corpus/$t" | wc -l) seeds in Fuzz/Corpus/$t"
  done
  exit 0
fi

run_one() {   # target -> Fuzz/findings/<target>/{log.txt,summary}
  local t=$1 out=Fuzz/findings/$1 work=Fuzz/work/$1 name dict=() limit=() mode=()
  rm -rf "$out"; mkdir -p "$out" "$work" "Fuzz/Crashes/$t"
  name=$(echo "${t#Fuzz}" | tr '[:upper:]' '[:lower:]')
  [ -f "Fuzz/Dictionaries/$name.dict" ] && dict=(-dict="Fuzz/Dictionaries/$name.dict")
  [ -n "$runs" ] && limit+=(-runs="$runs")
  [ -n "$time_s" ] && limit+=(-max_total_time="$time_s")
  [ "$keep_going" = 1 ] && mode=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  # Leaks are checked after every input, except in FuzzHTTP: its server's threads allocate
  # while each input is answered, so libFuzzer would run LeakSanitizer's full scan on every
  # input (40 inputs/s instead of 360); LeakSanitizer still checks its whole run at exit.
  local leaks_per_input=1
  [ "$t" = FuzzHTTP ] && leaks_per_input=0
  local start end rc=0
  start=$(date +%s.%N)
  # shellcheck disable=SC2086
  "$bin/$t" "$work" "Fuzz/Corpus/$t" "Fuzz/Crashes/$t" "${limit[@]}" "${dict[@]}" "${mode[@]}" \
    -rss_limit_mb="$rss_mb" -malloc_limit_mb="$malloc_mb" -timeout="$per_input_timeout" -detect_leaks="$leaks_per_input" \
    -print_final_stats=1 -artifact_prefix="$out/" ${FUZZ_EXTRA:-} >"$out/log.txt" 2>&1 || rc=$?
  end=$(date +%s.%N)
  local execs crashes leaks timeouts ooms
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/log.txt" | grep -o '[0-9]*$' | tail -1 || true)
  [ -n "$execs" ] || execs=$(grep -oE '^#[0-9]+' "$out/log.txt" | tr -d '#' | sort -n | tail -1 || true)
  count() { find "$out" -maxdepth 1 -name "$1-*" | wc -l; }
  crashes=$(count crash); leaks=$(count leak); timeouts=$(count timeout); ooms=$(count oom)
  # A failure that left no artifact (a crash at start-up, a build problem) still fails.
  if [ "$rc" != 0 ] && [ $((crashes + leaks + timeouts + ooms)) = 0 ] && [ "$keep_going" = 0 ]; then crashes=1; fi
  printf '%s %s %.0f %s %s %s %s %s\n' "$t" "${execs:-0}" "$(awk "BEGIN { print $end - $start }")" \
    "$crashes" "$leaks" "$timeouts" "$ooms" "$rc" > "$out/summary"
}

echo "== fuzzing ${targets[*]} (${runs:+$runs runs }${time_s:+$time_s s }each, rss limit ${rss_mb} MB, malloc limit ${malloc_mb} MB, ${per_input_timeout} s per input)"
running=0
for t in "${targets[@]}"; do
  [ -x "$bin/$t" ] || { echo "no $bin/$t; build first" >&2; exit 1; }
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
done
wait || true

status=0
printf '\n%-16s %12s %8s %8s %6s %9s %5s  %s\n' target executions seconds crashes leaks timeouts ooms result
for t in "${targets[@]}"; do
  read -r _ execs secs crashes leaks timeouts ooms rc < "Fuzz/findings/$t/summary"
  result=pass
  if [ $((crashes + leaks + timeouts + ooms)) -gt 0 ]; then result="FAIL (Fuzz/findings/$t/)"; status=1; fi
  printf '%-16s %12s %8s %8s %6s %9s %5s  %s\n' "$t" "$execs" "$secs" "$crashes" "$leaks" "$timeouts" "$ooms" "$result"
done
if [ "$status" = 0 ]; then echo "fuzzing: PASS"; else
  echo "fuzzing: FAIL; each finding's input and log are in Fuzz/findings/<target>/"
  for t in "${targets[@]}"; do
    grep -m1 -E 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)|Fatal error|SUMMARY' "Fuzz/findings/$t/log.txt" 2>/dev/null | sed "s|^|  $t: |" || true
  done
fi
exit "$status"
