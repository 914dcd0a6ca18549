#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
#
# license_test.sh SRC
#
# LICENSE is the BSD-3-Clause text, and every source file (C, headers,
# CMake, make fragments, shell, python, and any other #! script) names
# it with an SPDX identifier and a copyright line in its first lines.
set -eu
src=$1

fail() {
	echo "FAIL: $*"
	exit 1
}

head -n 1 "$src/LICENSE" | grep -qx 'BSD 3-Clause License' ||
	fail "LICENSE is not the BSD 3-Clause License"
grep -q 'Neither the name of the copyright holder nor the names of its' \
	"$src/LICENSE" || fail "LICENSE lacks the third clause"

n=0 bad=0
list=$(mktemp)
trap 'rm -f "$list"' EXIT
(cd "$src" && find . \( -path ./.git -o -path './build*' -o -path './obj-*' \
	-o -path ./debian/.debhelper -o -path './debian/baresip-keepalive-responder*' \
	-o -path ./debian/tmp -o -path ./test/fuzz/corpus -o -name __pycache__ \) -prune \
	-o -type f -print) >"$list"
while IFS= read -r f; do
	case "$f" in
	*.c|*.h|*/CMakeLists.txt|*.cmake|*.mk|*.sh|*.sh.in|*.py) ;;
	*) [ "$(head -c 2 "$src/$f")" = '#!' ] || continue ;;
	esac
	n=$((n + 1))
	top=$(head -n 10 "$src/$f")
	case "$top" in
	*"SPDX-License-Identifier: BSD-3-Clause"*"Copyright (c) "*" keepalive_responder developers"*) ;;
	*) echo "no SPDX/copyright header: ${f#./}"; bad=$((bad + 1)) ;;
	esac
done <"$list"
[ $n -gt 0 ] || fail "no source files found under $src"
[ $bad -eq 0 ] || fail "$bad of $n source files lack the header (docs/packaging.md, Licence)"
echo "ok   LICENSE BSD-3-Clause; $n source files carry the SPDX header"
