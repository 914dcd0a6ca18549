#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
# deb_test.sh SRC WORK
#
# The Debian package as a packager and a user get it: build it from
# debian/ with dpkg-buildpackage, check the .changes with lintian (no
# error, no warning), check the baresip-core pin, install the .deb with
# apt, run the autopkgtest suite (debian/tests) against it, purge it and
# check that nothing of it is left.  The system is restored by an exit
# trap whatever happens.  Exit 77 (CTest: skipped) when not root, when a
# tool is missing, or when the package is already installed (then it is
# not ours to remove).
set -eu

src=$1 work=$2
pkg=baresip-keepalive-responder
moddir=/usr/lib/baresip/modules
docdir=/usr/share/doc/$pkg

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: installing a package needs root"
	exit 77
fi
for tool in apt-get dpkg dpkg-deb dpkg-query dpkg-buildpackage \
	    dpkg-checkbuilddeps lintian autopkgtest; do
	command -v $tool >/dev/null ||
		{ echo "SKIP: no $tool (scripts/deps installs it)"; exit 77; }
done
if dpkg -s $pkg >/dev/null 2>&1; then
	echo "SKIP: $pkg is already installed; not touching it"
	exit 77
fi

installed=0
cleanup() {
	rc=$?
	if [ $installed -eq 1 ]; then
		echo "cleanup: purging $pkg"
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -q $pkg \
			>/dev/null 2>&1 || dpkg --purge $pkg || rc=1
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 143' INT TERM HUP

fail() {
	echo "FAIL: $*"
	exit 1
}

# 1. dpkg-buildpackage in a copy of the source tree (it writes its
#    results into the tree's parent folder)
rm -rf "$work"
tree=$work/keepalive-responder
mkdir -p "$tree"
tar -C "$src" --exclude-vcs --exclude='./build*' --exclude=./debian/.debhelper \
	-cf - . | tar -C "$tree" -xf -
(cd "$tree" && dpkg-checkbuilddeps) ||
	fail "build dependencies missing: apt-get build-dep $src"
(cd "$tree" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1 || {
	tail -n 40 "$work/build.log"
	fail "dpkg-buildpackage (log: $work/build.log)"
}
set -- "$work"/${pkg}_*.deb
[ $# -eq 1 ] && [ -f "$1" ] || fail "expected one .deb, got: $*"
deb=$1
set -- "$work"/*.changes
[ $# -eq 1 ] && [ -f "$1" ] || fail "expected one .changes, got: $*"
changes=$1
echo "built $deb"

# 2. lintian: no error and no warning (overrides carry their reasons)
lintian --info "$changes" >"$work/lintian.log" 2>&1 || true
sed 's/^/  lintian: /' "$work/lintian.log"
if grep -Eq '^[EW]: ' "$work/lintian.log"; then
	fail "lintian reports errors or warnings"
fi
echo "ok   lintian $(lintian --version | sed 's/^Lintian v//'): no E:, no W:"

# 3. The package depends on the baresip-core it was built for
bv=$(dpkg-query -W -f='${Version}' baresip-core |
	sed 's/^[0-9]*://; s/-[^-]*$//')
dep=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $dep"
next="${bv%.*}.$((${bv##*.} + 1))~"
case ", $dep," in
*", baresip-core (>= $bv), baresip-core (<< $next),"*) ;;
*) fail "Depends does not pin baresip-core $bv (<< $next): $dep" ;;
esac

# 4. Install with apt
installed=1
DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$deb" \
	</dev/null >"$work/install.log" 2>&1 || {
	cat "$work/install.log"
	fail "apt-get install $deb"
}
dpkg-query -W -f='${Status}\n' $pkg | grep -q "install ok installed" ||
	fail "$pkg not installed"
dpkg -L $pkg >"$work/files"
for f in $moddir/keepalive_responder.so $docdir/examples/config \
	 $docdir/copyright $docdir/changelog.Debian.gz; do
	grep -qx "$f" "$work/files" || fail "dpkg -L lacks $f"
	[ -f "$f" ] || fail "$f not installed"
done
echo "ok   apt-get install: $(grep -c . "$work/files") paths"

# 5. autopkgtest (debian/tests): every decision-table row and the
#    commands against the installed module and baresip; purge leaves no
#    file (and the test installs the package again)
autopkgtest -B "$deb" "$tree" -- null >"$work/autopkgtest.log" 2>&1 || {
	cat "$work/autopkgtest.log"
	fail "autopkgtest"
}
# the summary: one "NAME PASS|FAIL|SKIP ..." line per test
awk '/^autopkgtest \[[^]]*\]: @+ summary/ { s = 1; next }
     s && /^autopkgtest \[/ { exit }
     s { print "ok   autopkgtest: " $0 }' "$work/autopkgtest.log"

# 6. Purge; nothing of the package may be left
DEBIAN_FRONTEND=noninteractive apt-get purge -y -q $pkg </dev/null \
	>/dev/null || fail "apt-get purge"
installed=0
st=$(dpkg-query -W -f='${db:Status-Status}' $pkg 2>/dev/null || true)
[ -z "$st" ] || [ "$st" = not-installed ] ||
	fail "$pkg is '$st' after purge"
left=0
while IFS= read -r f; do
	# folders shared with other packages (/usr, $moddir) stay
	if [ -e "$f" ] && [ ! -d "$f" ]; then
		echo "left behind: $f"
		left=1
	fi
done <"$work/files"
[ ! -e "$docdir" ] || { echo "left behind: $docdir"; left=1; }
[ $left -eq 0 ] || fail "files left after purge"
echo "ok   purged: no file of $pkg left"
