#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
# build_same.sh SRC WORK CMAKE_MODULE PYTHON KAR_PROBE BARESIP
#
# make -f module.mk builds the same module as CMake did: the same baresip
# generation (start-up line), the same baresip and libre imports, and the
# same answers (kar_probe.py in shared mode against the make-built one).
set -eu

src=$1 work=$2 cmod=$3 python=$4 probe=$5 baresip=$6

fail() {
	echo "FAIL: $*"
	exit 1
}

rm -rf "$work"
mkdir -p "$work"
make -s -C "$src" -f module.mk BUILD="$work/mk" WERROR=1 \
	>"$work/make.log" 2>&1 || { cat "$work/make.log"; fail "make"; }
mmod=$work/mk/keepalive_responder.so

# "U name" or "w name" (weak: the calls of newer generations)
imports() {
	nm -D --undefined-only "$1" | awk '{ print $(NF-1), $NF }' |
		sed 's/@.*//' | sort
}
imports "$cmod" >"$work/cmake.imports"
imports "$mmod" >"$work/make.imports"
diff -u "$work/cmake.imports" "$work/make.imports" ||
	fail "make and CMake modules import different symbols"
echo "ok   same imports ($(wc -l <"$work/make.imports") symbols)"

# the version and API source the start-up line names
built() {
	strings "$1" | grep -E '^[0-9]+\.[0-9]+\.[0-9]+ \((baresip\.h|the )'
}
a=$(built "$cmod") b=$(built "$mmod")
[ -n "$a" ] || fail "no build line in $cmod"
[ "$a" = "$b" ] || fail "CMake's is for baresip $a, make's for $b"
echo "ok   both for baresip $a"

exec "$python" "$probe" --baresip "$baresip" --module "$mmod" \
	--mode shared
