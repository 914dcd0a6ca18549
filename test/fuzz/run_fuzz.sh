#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
# Run one libFuzzer target for a bounded time on a fresh copy of its seed
# corpus.  Exit status 0 only if the fuzzer ran the whole time without a
# crash, leak, timeout, out-of-memory, sanitizer report or failed check.
#
#   run_fuzz.sh FUZZER SEED_DIR WORK_DIR SECONDS [-- LIBFUZZER_FLAGS...]
#
# The environment variable KAR_FUZZ_TIME overrides SECONDS; 0 only runs
# the seed corpus (a quick regression check).  WORK_DIR is
# emptied first; it receives the corpus copy (grown by the run), the
# fuzzer's log (fuzz.log) and any crashing input (artifacts/).  To
# reproduce a crash: FUZZER artifacts/crash-...; to keep it as a
# regression input, copy it into SEED_DIR.
set -u

if [ $# -lt 4 ]; then
	echo "usage: $0 FUZZER SEED_DIR WORK_DIR SECONDS [-- FLAGS...]" >&2
	exit 2
fi

fuzzer=$1 seeds=$2 work=$3 secs=${KAR_FUZZ_TIME:-$4}
shift 4
[ "${1:-}" = "--" ] && shift
name=$(basename "$fuzzer")

case $secs in
	''|*[!0-9]*) echo "$name: bad time '$secs'" >&2; exit 2 ;;
esac
[ -x "$fuzzer" ] || { echo "$name: not built: $fuzzer" >&2; exit 1; }
[ -d "$seeds" ] || { echo "$name: no seed corpus: $seeds" >&2; exit 1; }

rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
cp -a "$seeds"/. "$work/corpus/"
nseeds=$(find "$seeds" -type f | wc -l)

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# -max_total_time bounds the run (0 would mean no bound: -runs=0 runs
# the seeds only); -timeout: one input taking longer is a hang; any
# finding ends the run with a non-zero status
if [ "$secs" -eq 0 ]; then
	bound=-runs=0
else
	bound=-max_total_time=$secs
fi

if [ "$secs" -eq 0 ]; then
	echo "$name: the $nseeds seed inputs only (work dir $work)"
else
	echo "$name: ${secs}s on $nseeds seed inputs (work dir $work)"
fi
start=$(date +%s)
"$fuzzer" "$bound" -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 \
	-artifact_prefix="$work/artifacts/" "$@" \
	"$work/corpus" >"$work/fuzz.log" 2>&1
rc=$?
end=$(date +%s)

ncorpus=$(find "$work/corpus" -type f | wc -l)
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log" |
	tail -n 1)
cov=$(grep -o 'cov: [0-9]*' "$work/fuzz.log" | tail -n 1)
echo "$name: exit status $rc after $((end - start))s," \
	"${runs:-?} runs, ${cov:-cov: ?}, corpus $nseeds -> $ncorpus"

artifacts=$(find "$work/artifacts" -type f 2>/dev/null)
if [ $rc -ne 0 ] || [ -n "$artifacts" ] ||
   grep -q -e '^==[0-9]*==ERROR' -e 'runtime error:' \
	-e '^SUMMARY: ' "$work/fuzz.log"; then
	echo "--- $name: finding (full log: $work/fuzz.log) ---"
	grep -n -m 60 -A 40 -e '^==[0-9]*==ERROR' -e 'runtime error:' \
		-e '^fuzz_[a-z]*: ' -e 'ERROR: libFuzzer' -e 'deadly signal' \
		"$work/fuzz.log" | head -n 120
	for a in $artifacts; do
		echo "input: $a"
		echo "reproduce: ASAN_OPTIONS=fast_unwind_on_malloc=0 $fuzzer $a"
		echo "first bytes:"
		head -c 600 "$a" | od -c | head -n 20
	done
	[ $rc -ne 0 ] || rc=1
	exit $rc
fi

exit 0
