#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
# install_test.sh CMAKE SRC WORK
#
# "cmake --install" and "make -f module.mk install" honour DESTDIR and
# the module-folder override (KAR_MODULE_DIR / MODULE_DIR), and install
# nothing outside DESTDIR.
set -eu

cmake=$1 src=$2 work=$3

fail() {
	echo "FAIL: $*"
	exit 1
}

rm -rf "$work"
mkdir -p "$work"

# CMake, default module folder and an override
"$cmake" -S "$src" -B "$work/cm" -DKAR_TESTS=OFF >/dev/null
"$cmake" --build "$work/cm" >/dev/null
moddir=$(sed -n 's/^KAR_MODULE_DIR:PATH=//p' "$work/cm/CMakeCache.txt")
DESTDIR="$work/root1" "$cmake" --install "$work/cm" >/dev/null
[ -f "$work/root1$moddir/keepalive_responder.so" ] ||
	fail "cmake --install: no $work/root1$moddir/keepalive_responder.so"

"$cmake" -S "$src" -B "$work/cm" -DKAR_MODULE_DIR=/opt/kar/modules \
	>/dev/null
DESTDIR="$work/root2" "$cmake" --install "$work/cm" >/dev/null
[ -f "$work/root2/opt/kar/modules/keepalive_responder.so" ] ||
	fail "cmake --install: KAR_MODULE_DIR not honoured"
[ ! -e "$work/root2$moddir" ] ||
	fail "cmake --install: module also in $moddir"
echo "ok   cmake --install: DESTDIR, KAR_MODULE_DIR"

# GNU make
make -s -C "$src" -f module.mk BUILD="$work/mk" >/dev/null
make -s -C "$src" -f module.mk BUILD="$work/mk" DESTDIR="$work/root3" \
	install >/dev/null
[ -f "$work/root3/usr/lib/baresip/modules/keepalive_responder.so" ] ||
	fail "make install: DESTDIR not honoured"
make -s -C "$src" -f module.mk BUILD="$work/mk" DESTDIR="$work/root4" \
	MODULE_DIR=/opt/kar/modules install >/dev/null
[ -f "$work/root4/opt/kar/modules/keepalive_responder.so" ] ||
	fail "make install: MODULE_DIR not honoured"
echo "ok   make -f module.mk install: DESTDIR, MODULE_DIR"

# Everything went below the DESTDIRs
for r in root1 root2 root3 root4; do
	n=$(find "$work/$r" -type f | wc -l)
	echo "     $r: $n files"
done
