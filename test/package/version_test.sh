#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
# version_test.sh SRC
#
# The version lives in one place, CMakeLists.txt's project(... VERSION):
# debian/changelog's upstream version and NEWS.md's first release
# heading must say the same.
set -eu
src=$1

fail() {
	echo "FAIL: $*"
	exit 1
}

v=$(sed -n 's/^project(keepalive_responder VERSION \([0-9][0-9.]*\).*/\1/p' \
	"$src/CMakeLists.txt")
[ -n "$v" ] || fail "no project(keepalive_responder VERSION x.y.z) in CMakeLists.txt"

# first line: "keepalive-responder (0.1.0-1) unstable; urgency=medium"
deb=$(sed -n '1s/^keepalive-responder (\([^)]*\)).*/\1/p' "$src/debian/changelog")
[ -n "$deb" ] || fail "debian/changelog: first line is not keepalive-responder (...)"
up=${deb#*:}
up=${up%-*}
[ "$up" = "$v" ] ||
	fail "debian/changelog says $up ($deb), CMakeLists.txt says $v"

news=$(sed -n 's/^## \([0-9][0-9.]*\)\( .*\)\{0,1\}$/\1/p' "$src/NEWS.md" | head -n 1)
[ "$news" = "$v" ] ||
	fail "NEWS.md's first release is '$news', CMakeLists.txt says $v"

echo "ok   version $v: CMakeLists.txt, debian/changelog ($deb), NEWS.md"
