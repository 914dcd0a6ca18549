#!/bin/sh
# build_refuse.sh CMAKE SRC WORK
#
# Without a baresip.h, a baresip version the project has no declarations
# for stops the build before anything is compiled, with a message naming
# that version: CMake at configure time, make when it starts.  A
# declared version is accepted (the control).
set -eu

cmake=$1 src=$2 work=$3

fail() {
	echo "FAIL: $*"
	exit 1
}

# CMake wraps its messages: look in the text with its lines joined
says() {
	tr -s ' \n' '  ' <"$1" | grep -q "$2"
}

rm -rf "$work"
mkdir -p "$work"

if "$cmake" -S "$src" -B "$work/cm" -DKAR_TESTS=OFF \
	-DKAR_BARESIP_VERSION=1.2.0 >"$work/cmake.log" 2>&1; then
	fail "CMake configured for baresip 1.2.0 without a baresip.h"
fi
says "$work/cmake.log" \
	'baresip 1.2.0 (given) has no baresip.h here, and the project declares' ||
	{ cat "$work/cmake.log"; fail "CMake's refusal does not name 1.2.0"; }
echo "ok   cmake refuses baresip 1.2.0"

if make -s -C "$src" -f module.mk BUILD="$work/mk" BARESIP_VERSION=1.2.0 \
	>"$work/make.log" 2>&1; then
	fail "make built for baresip 1.2.0 without a baresip.h"
fi
says "$work/make.log" 'baresip 1.2.0 (given) has no baresip.h here' ||
	{ cat "$work/make.log"; fail "make's refusal does not name 1.2.0"; }
[ ! -e "$work/mk/keepalive_responder.so" ] || fail "make left a module"
echo "ok   make refuses baresip 1.2.0"

"$cmake" -S "$src" -B "$work/cm" -DKAR_TESTS=OFF \
	-DKAR_BARESIP_VERSION=1.1.0 >"$work/cmake.log" 2>&1 ||
	{ cat "$work/cmake.log"; fail "CMake refused baresip 1.1.0"; }
echo "ok   cmake accepts baresip 1.1.0"
echo "3 passed, 0 failed"
