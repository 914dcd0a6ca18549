#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
# The steps of the ASan+UBSan test runs (label "asan"); CTest calls them
# from test/sanitize/CMakeLists.txt.
#
#   run_asan.sh build SRC_DIR SUB_BUILD [-- CMAKE_ARGS...]
#       configure and build the project into SUB_BUILD (CMAKE_ARGS carry
#       -DKAR_SANITIZE=ON and -DKAR_BARESIP=<baresip-asan wrapper>)
#   run_asan.sh unit SUB_BUILD
#       the sub-build's unit tests (ctest -L unit): kar_unit is linked
#       with the sanitizers, so any report makes it fail
#   run_asan.sh integration SUB_BUILD LOG_DIR [EXCLUDE_REGEX]
#       the sub-build's integration tests (ctest -L integration), except
#       those labelled "flood" and those EXCLUDE_REGEX names; their
#       baresip is the wrapper, which preloads the sanitizer runtime and
#       writes reports to LOG_DIR.  Fails on a failed test or on any
#       report in LOG_DIR (reports naming the module are marked).
#   run_asan.sh flood SUB_BUILD LOG_DIR
#       the same for the tests labelled "flood", with ASan's quarantine
#       off and its fast unwinder: the quarantine (256 MiB of freed memory
#       held back to catch use-after-free) would break the flood test's
#       RSS bound, and unwinding every allocation through DWARF makes
#       baresip too slow to read the flood.
set -u

step=${1:-}
shift || true

# Reports of the sanitized unit tests go to stderr (CTest shows them)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:fast_unwind_on_malloc=0:malloc_context_size=30}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

case $step in
build)
	[ $# -ge 2 ] || { echo "usage: $0 build SRC SUB [-- ARGS]" >&2; exit 2; }
	src=$1 sub=$2
	shift 2
	[ "${1:-}" = "--" ] && shift
	cmake -S "$src" -B "$sub" "$@" || exit 1
	exec cmake --build "$sub" -j "$(nproc 2>/dev/null || echo 2)"
	;;

unit)
	[ $# -eq 1 ] || { echo "usage: $0 unit SUB" >&2; exit 2; }
	exec ctest --test-dir "$1" -L '^unit$' --no-tests=error \
		--output-on-failure
	;;

integration|flood)
	[ $# -ge 2 ] || { echo "usage: $0 $step SUB LOGDIR [RE]" >&2
			  exit 2; }
	sub=$1 logs=$2 exclude=${3:-}
	rm -rf "$logs"
	mkdir -p "$logs"
	export KAR_SAN_LOG_DIR=$logs
	# baresip runs about 3 times slower sanitized: the harness's
	# bounds grow with it
	export KAR_TIME_SCALE=${KAR_TIME_SCALE:-3}

	if [ "$step" = flood ]; then
		export KAR_ASAN_EXTRA="quarantine_size_mb=0:thread_local_quarantine_size_kb=0:fast_unwind_on_malloc=1"
		args=(--test-dir "$sub" -L '^flood$')
	else
		args=(--test-dir "$sub" -L '^integration$' -LE '^flood$')
	fi
	args+=(--no-tests=error --output-on-failure)
	[ -n "$exclude" ] && args+=(-E "$exclude")
	ctest "${args[@]}"
	rc=$?

	reports=$(find "$logs" -type f -size +0 | sort)
	n=0
	for r in $reports; do
		n=$((n + 1))
		if grep -q -e keepalive_responder -e 'modules/keepalive' "$r"
		then
			echo "=== $r (names the module) ==="
		else
			echo "=== $r (does not name the module) ==="
		fi
		head -n 80 "$r"
	done
	echo "asan: $n sanitizer report file(s) in $logs"

	if [ "$n" -ne 0 ]; then
		echo "FAIL: sanitizer reports (zero required)"
		exit 1
	fi
	exit $rc
	;;

*)
	echo "usage: $0 build|unit|integration|flood ..." >&2
	exit 2
	;;
esac
