#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
# release_test.sh SRC WORK
#
# The release step end to end, on a git repository made from a copy of
# SRC (as git sees it when SRC is a checkout), with a tag made there
# only: scripts/release makes keepalive-responder-<v>.tar.gz from the
# tag; uscan, with debian/watch pointed at a loopback HTTP
# server holding it, finds and fetches it as the .orig.tar.gz; dpkg-source
# builds the source package from it plus debian/ and extracts it again;
# lintian has no error or warning for the source.  Exit 77 (CTest:
# skipped) when a tool is missing.
set -eu

src=$1 work=$2
for tool in git uscan dpkg-source lintian python3; do
	command -v $tool >/dev/null ||
		{ echo "SKIP: no $tool (scripts/deps installs it)"; exit 77; }
done

fail() {
	echo "FAIL: $*"
	exit 1
}

http=""
cleanup() {
	rc=$?
	[ -z "$http" ] || { kill "$http" 2>/dev/null; wait "$http" 2>/dev/null || true; }
	exit $rc
}
trap cleanup EXIT
trap 'exit 143' INT TERM HUP

rm -rf "$work"
mkdir -p "$work/rel" "$work/dl" "$work/pkg"
# The tree: what git tracks plus new files when SRC is a checkout, else
# all of it but build folders; committed to a repository of its own
mkdir -p "$work/repo"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$src" && git ls-files -co --exclude-standard -z |
		tar --null -T - -cf -) | tar -C "$work/repo" -xf -
else
	tar -C "$src" --exclude=./.git --exclude='./build*' -cf - . |
		tar -C "$work/repo" -xf -
fi
g() {
	git -C "$work/repo" -c user.name=release-test \
		-c user.email=release-test@example.org "$@"
}
g init -q
g add -A
g commit -q -m "release test"
v=$(sed -n 's/^project(keepalive_responder VERSION \([0-9][0-9.]*\).*/\1/p' \
	"$work/repo/CMakeLists.txt")
g tag "v$v"

# 1. scripts/release
tarball=$(sh "$work/repo/scripts/release" "v$v" "$work/rel") ||
	fail "scripts/release v$v"
[ "$tarball" = "$work/rel/keepalive-responder-$v.tar.gz" ] ||
	fail "scripts/release made '$tarball'"
tar -tzf "$tarball" >"$work/list"
if grep -qv "^keepalive-responder-$v/" "$work/list"; then
	fail "entries outside keepalive-responder-$v/ in the tarball"
fi
grep -qx "keepalive-responder-$v/LICENSE" "$work/list" || fail "no LICENSE in the tarball"
! grep -q "^keepalive-responder-$v/debian/" "$work/list" ||
	fail "debian/ in the upstream tarball"
echo "ok   scripts/release: $(basename "$tarball"), $(grep -c . "$work/list") entries"

# 2. uscan with debian/watch, its URL pointed at a loopback server
: >"$work/http.log"
python3 -u -m http.server --bind 127.0.0.1 --directory "$work/rel" 0 \
	>"$work/http.log" 2>&1 &
http=$!
port=""
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	port=$(sed -n 's/.* port \([0-9][0-9]*\) .*/\1/p' "$work/http.log")
	[ -z "$port" ] || break
	sleep 0.25
done
[ -n "$port" ] || fail "HTTP server did not start: $(cat "$work/http.log")"
# uscan runs in a copy of debian/ whose watch URL is the server's, and
# fetches the version debian/changelog names
mkdir -p "$work/w"
cp -a "$work/repo/debian" "$work/w/"
sed "s|https://[^ ]*|http://127.0.0.1:$port/|" "$work/repo/debian/watch" \
	>"$work/w/debian/watch"
grep -q "127.0.0.1:$port" "$work/w/debian/watch" || fail "no URL in debian/watch"
(cd "$work/w" && uscan --destdir "$work/dl" --download-current-version \
	--verbose) >"$work/uscan.log" 2>&1 || {
	cat "$work/uscan.log"
	fail "uscan"
}
orig=$work/dl/keepalive-responder_$v.orig.tar.gz
[ -e "$orig" ] || { cat "$work/uscan.log"; fail "uscan made no $(basename "$orig")"; }
cmp -s "$orig" "$tarball" || fail "$(basename "$orig") differs from the release tarball"
echo "ok   uscan (debian/watch): $(basename "$orig")"

# 3. dpkg-source: build the source package, extract it again
cp -L "$orig" "$work/pkg/"
tar -C "$work/pkg" -xzf "$orig"
cp -a "$work/repo/debian" "$work/pkg/keepalive-responder-$v/"
(cd "$work/pkg" && dpkg-source -b "keepalive-responder-$v") >"$work/source.log" 2>&1 || {
	cat "$work/source.log"
	fail "dpkg-source -b"
}
dsc=$(ls "$work"/pkg/keepalive-responder_*.dsc)
(cd "$work/pkg" && dpkg-source -x "$dsc" x) >>"$work/source.log" 2>&1 ||
	fail "dpkg-source -x $dsc"
diff -r -x .pc "$work/pkg/keepalive-responder-$v" "$work/pkg/x" >/dev/null ||
	fail "dpkg-source -x does not give back the tree"
echo "ok   dpkg-source -b / -x: $(basename "$dsc")"

# 4. lintian on the source package
lintian --info "$dsc" >"$work/lintian.log" 2>&1 || true
sed 's/^/  lintian: /' "$work/lintian.log"
! grep -Eq '^[EW]: ' "$work/lintian.log" ||
	fail "lintian reports errors or warnings for the source"
echo "ok   lintian (source): no E:, no W:"
