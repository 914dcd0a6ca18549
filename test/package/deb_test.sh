#!/bin/sh
# deb_test.sh CMAKE SRC WORK PYTHON KAR_PROBE
#
# Build the Debian package, install it with apt, run the integration
# probes against the installed module (stock Debian paths), purge it and
# check that nothing of it is left.  The system is restored by an exit
# trap whatever happens.  Exit 77 (CTest: skipped) when not root or when
# the package is already installed (then it is not ours to remove).
set -eu

cmake=$1 src=$2 work=$3 python=$4 probe=$5
pkg=baresip-keepalive-responder
moddir=/usr/lib/baresip/modules
docdir=/usr/share/doc/$pkg

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: installing a package needs root"
	exit 77
fi
for tool in apt-get dpkg dpkg-deb dpkg-query; do
	command -v $tool >/dev/null || { echo "SKIP: no $tool"; exit 77; }
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

# 1. Build the .deb in a build tree of its own (no tests, no sanitizer)
rm -rf "$work"
"$cmake" -S "$src" -B "$work/build" -DKAR_TESTS=OFF \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
"$cmake" --build "$work/build" --target package
set -- "$work"/build/package/${pkg}_*.deb
[ $# -eq 1 ] && [ -f "$1" ] || fail "expected one .deb, got: $*"
deb=$1
echo "built $deb"

# The package depends on the baresip-core it was built for
bv=$(dpkg-query -W -f='${Version}' baresip-core | sed 's/^[0-9]*://; s/-[^-]*$//')
dep=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $dep"
case "$dep" in
*"baresip-core (>= $bv)"*"baresip-core (<< "*) ;;
*) fail "Depends does not pin baresip-core $bv: $dep" ;;
esac

# 2. Install with apt
installed=1
DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$deb" \
	</dev/null || fail "apt-get install"
dpkg-query -W -f='${Status}\n' $pkg | grep -q "install ok installed" ||
	fail "$pkg not installed"
dpkg -L $pkg >"$work/files"
for f in $moddir/keepalive_responder.so $docdir/examples/config \
	 $docdir/README.md $docdir/design.md; do
	grep -qx "$f" "$work/files" || fail "dpkg -L lacks $f"
	[ -f "$f" ] || fail "$f not installed"
done
echo "dpkg -L $pkg:"
sed 's/^/  /' "$work/files"

# 3. The integration probes against the installed module
"$python" "$probe" --baresip /usr/bin/baresip \
	--module $moddir/keepalive_responder.so --mode shared ||
	fail "probes against the installed module"

# 4. Purge; nothing of the package may be left
DEBIAN_FRONTEND=noninteractive apt-get purge -y -q $pkg </dev/null ||
	fail "apt-get purge"
installed=0
if dpkg -s $pkg >/dev/null 2>&1; then
	fail "dpkg -s still knows $pkg after purge"
fi
left=0
while IFS= read -r f; do
	# directories shared with other packages (/usr, $moddir) stay
	if [ -e "$f" ] && [ ! -d "$f" ]; then
		echo "left behind: $f"
		left=1
	fi
done <"$work/files"
[ ! -e "$docdir" ] || { echo "left behind: $docdir"; left=1; }
[ $left -eq 0 ] || fail "files left after purge"
echo "purged: no file of $pkg left"
