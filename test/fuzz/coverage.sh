#!/usr/bin/env bash
# shellcheck disable=SC2046,SC2086  # lists of sources and flags split
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
# Line coverage of a corpus: how much of libre's decoder and of the
# module's core one fuzz target's corpus runs through.  Builds the target
# once more with clang's source-based coverage (no sanitizers), runs
# every corpus input once and prints llvm-cov's report for libre's files
# and the module's.
#
#   coverage.sh BUILD_DIR TARGET CORPUS_DIR [OUT_DIR]
#
# BUILD_DIR is a build whose fuzz_build test has run (it holds libre's
# source, test/fuzz/libre/src); TARGET is sip, mwi, conf or guard.
# Needs llvm-profdata and llvm-cov of the clang version (Debian:
# llvm-NN).  OUT_DIR (default BUILD_DIR/test/fuzz/coverage/TARGET) gets
# the binary, the profile, report.txt and an HTML report (html/).
set -euo pipefail

if [ $# -lt 3 ]; then
	echo "usage: $0 BUILD_DIR TARGET CORPUS_DIR [OUT_DIR]" >&2
	exit 2
fi
build=$(cd "$1" && pwd) target=$2 corpus=$3
out=${4:-$build/test/fuzz/coverage/$target}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
kar=$top/modules/keepalive_responder
libre=$build/test/fuzz/libre/src

[ -f "$here/fuzz_$target.c" ] || { echo "no target $target" >&2; exit 2; }
[ -d "$libre/src" ] || { echo "no libre source in $libre: run" \
	"ctest --test-dir $build -R fuzz_build first" >&2; exit 1; }

# The fuzzers' clang, and the llvm tools of its version
cc=$(sed -n 's/^KAR_FUZZ_CC:[A-Z]*=//p' "$build/CMakeCache.txt")
cc=${cc:-clang}
ver=$("$cc" -dumpversion | cut -d. -f1)
profdata=$(command -v "llvm-profdata-$ver" || command -v llvm-profdata) ||
	{ echo "no llvm-profdata (Debian: apt-get install llvm-$ver)" >&2
	  exit 1; }
cov=$(command -v "llvm-cov-$ver" || command -v llvm-cov)

# What the CMake build compiles: the core's sources and API flags, and
# libre's files as libre.sh lists them (its objects name them)
cmd=$(grep -ho "[^ ]*clang[^&]*fuzz_$target\.c[^&]*" \
	"$build/test/fuzz/CMakeFiles/kar_fuzz_$target.dir/build.make" |
	head -n 1)
[ -n "$cmd" ] || { echo "kar_fuzz_$target is not configured" >&2; exit 1; }
flags=$(echo "$cmd" | grep -o -e ' -D[^ ]*' -e ' -I[^ ]*' | tr -d '\n')
srcs=$(echo "$cmd" | grep -o " $kar/[a-z]*\.c" | tr -d '\n')
lsrcs=""
for o in "$build"/test/fuzz/libre/obj/*.o; do
	f=$(basename "$o" .o)
	lsrcs="$lsrcs $libre/src/${f%%_*}/${f#*_}.c"
done
defs=$(sed -n '/^defs="/,/"$/p' "$here/libre.sh" | tr -d '"\n\t' |
	sed 's/^defs=//')

rm -rf "$out"
mkdir -p "$out/obj"
cf="-g -O1 -fprofile-instr-generate -fcoverage-mapping -std=c99"
for s in $lsrcs; do
	"$cc" -c $cf -fsanitize=fuzzer-no-link -w $defs -I"$libre/include" \
		"$s" -o "$out/obj/$(basename "$(dirname "$s")")_$(basename "$s" .c).o"
done
"$cc" $cf -fsanitize=fuzzer -D_DEFAULT_SOURCE $flags \
	-o "$out/kar_fuzz_$target" "$here/fuzz_$target.c" $srcs \
	"$out"/obj/*.o $(pkg-config --libs libre)

n=$(find "$corpus" -type f | wc -l)
echo "coverage.sh: $target, $n inputs from $corpus"
LLVM_PROFILE_FILE="$out/run.profraw" "$out/kar_fuzz_$target" -runs=0 \
	"$corpus" >"$out/run.log" 2>&1
"$profdata" merge -sparse "$out/run.profraw" -o "$out/run.profdata"
"$cov" report "$out/kar_fuzz_$target" -instr-profile="$out/run.profdata" \
	$lsrcs $srcs | sed -E 's#^[^ ]*/libre/src/src/#libre/#
		s#^[^ ]*/modules/keepalive_responder/#module/#' \
	>"$out/report.txt"
"$cov" show "$out/kar_fuzz_$target" -instr-profile="$out/run.profdata" \
	-format=html -output-dir="$out/html" $lsrcs $srcs
cat "$out/report.txt"
