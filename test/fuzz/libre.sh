#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
# Build the part of libre that decodes SIP into a static archive with
# the fuzzers' coverage instrumentation, from Debian's source package of
# the installed libre-dev (same version), so that libFuzzer sees inside
# libre's decoder.  Nothing is installed and apt's configuration is not
# touched: the source package is fetched with a private list directory.
#
#   libre.sh OUT_DIR CC [CFLAGS...]
#   libre.sh --check FUZZER SYMBOL
#
# Writes OUT_DIR/libre_fuzz.a (and OUT_DIR/version: the source version
# and a digest of the compiler, flags and files, to know when to redo).
# Fails with a message when the source cannot be had (no libre-dev from
# Debian, archive unreachable): configure with -DKAR_FUZZ_LIBRE=OFF to
# fuzz against the installed libre, uninstrumented, instead.  --check
# fails unless FUZZER defines SYMBOL itself (not libre.so).
set -euo pipefail

if [ "${1:-}" = "--check" ] && [ $# -eq 3 ]; then
	nm "$2" | awk -v s="$3" '$2 == "T" && $3 == s { f = 1 }
		END { exit !f }' && exit 0
	echo "libre.sh: $2: $3 is not the instrumented one" >&2
	exit 1
fi

if [ $# -lt 2 ]; then
	echo "usage: $0 OUT_DIR CC [CFLAGS...]" >&2
	exit 2
fi
out=$1 cc=$2
shift 2

# What the module and the fuzz targets call, and what that calls in
# turn, below the transports (sip_msg_decode() down to pl, fmt, mbuf,
# sa, uri, hash, list, mem; odict/json for the statistics).  Symbols not
# defined here (the listener chain, libre_init) come from libre.so.
files="
	sip/msg.c sip/addr.c sip/via.c sip/cseq.c sip/reply.c
	msg/ctype.c msg/param.c
	uri/uri.c uri/uric.c
	fmt/pl.c fmt/print.c fmt/str.c fmt/regex.c fmt/ch.c fmt/str_error.c
	fmt/unicode.c
	sa/sa.c sa/ntop.c sa/pton.c sa/printaddr.c
	mbuf/mbuf.c mem/mem.c hash/hash.c hash/func.c list/list.c
	odict/odict.c odict/entry.c odict/get.c odict/type.c json/encode.c
"
# The settings of Debian's libre (1.x and 2.x) that these files read;
# the layouts of shared structures (struct sa: HAVE_INET6) must match
# the module's.  RELEASE: no memory debugging.
defs="-DRELEASE -DLINUX -D_GNU_SOURCE -DHAVE_INET6 -DHAVE_INTTYPES_H
	-DHAVE_STDBOOL_H -DHAVE_PTHREAD -DHAVE_INET_NTOP -DHAVE_INET_PTON
	-DHAVE_STRERROR_R"

die() {
	echo "libre.sh: $*" >&2
	echo "libre.sh: to fuzz against the installed libre instead" \
	     "(uninstrumented), configure with -DKAR_FUZZ_LIBRE=OFF" >&2
	exit 1
}

ver=$(dpkg-query -W -f='${source:Package} ${source:Version}' \
	libre-dev 2>/dev/null) || die "libre-dev is not installed from a" \
	"Debian package: no source package to build libre from"
src=${ver% *} ver=${ver#* }

# Built already, of this version, with these files and flags?
stamp="$src $ver $(printf '%s\n' "$cc" "$@" "$files" "$defs" | md5sum |
	cut -c1-12)"
if [ -f "$out/libre_fuzz.a" ] &&
   [ "$(cat "$out/version" 2>/dev/null)" = "$stamp" ]; then
	exit 0
fi

# The running release, and the archive it is installed from
# shellcheck disable=SC1091
. /etc/os-release
suite=${VERSION_CODENAME:-}
[ -n "$suite" ] || die "no VERSION_CODENAME in /etc/os-release"
uris=""
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
	# the URIs of the stanza whose Suites has the release itself
	uris=$(awk -v s="$suite" '
		/^[ \t]*$/ { if (ok && u != "") print u; u = ""; ok = 0 }
		/^URIs:/   { u = $0; sub(/^URIs:[ \t]*/, "", u) }
		/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) ok = 1 }
		END        { if (ok && u != "") print u }' \
		/etc/apt/sources.list.d/debian.sources | head -n 1)
elif [ -f /etc/apt/sources.list ]; then
	uris=$(awk -v s="$suite" '$1 == "deb" && $0 ~ " " s " " {
		for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) { print $i; exit }
	}' /etc/apt/sources.list)
fi
uris=${uris:-http://deb.debian.org/debian}

apt_dir=$out/apt
rm -rf "$out/src" "$out/obj" "$out/libre_fuzz.a" "$out/version"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" \
	"$out/obj"
cat >"$apt_dir/src.sources" <<EOF
Types: deb-src
URIs: $uris
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
apt=(apt-get -q -o Dir::Etc::SourceList="$apt_dir/src.sources"
     -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists="$apt_dir/lists"
     -o Dir::Cache="$apt_dir/cache" -o APT::Sandbox::User="$(id -un)")

echo "libre.sh: fetching the source of $src $ver ($suite, $uris)"
# (apt-get update succeeds even when it fetched nothing)
if ! "${apt[@]}" update >"$apt_dir/update.log" 2>&1 ||
   grep -q -e '^Err:' -e '^[WE]: Failed to fetch' "$apt_dir/update.log"; then
	cat "$apt_dir/update.log" >&2
	die "cannot reach $uris"
fi
rc=0
(cd "$apt_dir" && "${apt[@]}" source --download-only "$src=$ver") \
	>"$apt_dir/source.log" 2>&1 || rc=$?

# apt has checked every file it got against the archive's signed index
dsc=$apt_dir/${src}_${ver#*:}.dsc
if [ $rc -eq 0 ] && [ -f "$dsc" ]; then
	dpkg-source -x "$dsc" "$out/src" >"$apt_dir/unpack.log" 2>&1 ||
		{ cat "$apt_dir/unpack.log" >&2; die "cannot unpack $dsc"; }
else
	# Some archives (snapshots, partial mirrors) lack the Debian part
	# or the .dsc; the upstream tarball alone is the code Debian
	# patches, so go on, but say so where the fuzz log shows it
	orig=$(find "$apt_dir" -maxdepth 1 -name "${src}_*.orig.tar.*" |
		head -n 1)
	[ -n "$orig" ] || { cat "$apt_dir/source.log" >&2
		die "cannot fetch $src $ver from $uris"; }
	grep -E '^(E|W):' "$apt_dir/source.log" >&2 || true
	echo "libre.sh: WARNING: only the upstream tarball of $src $ver" \
	     "could be fetched; building it without Debian's patches" >&2
	mkdir -p "$out/src"
	tar -xf "$orig" -C "$out/src" --strip-components=1
fi

n=0
for f in $files; do
	[ -f "$out/src/src/$f" ] || die "$src $ver has no src/$f"
	# shellcheck disable=SC2086
	"$cc" -c "$@" $defs -w -I"$out/src/include" "$out/src/src/$f" \
		-o "$out/obj/$(echo "$f" | tr / _ | sed 's/\.c$/.o/')"
	n=$((n + 1))
done
ar rcs "$out/libre_fuzz.a" "$out"/obj/*.o
echo "$stamp" >"$out/version"
echo "libre.sh: $n files of $src $ver built into $out/libre_fuzz.a"
