#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
#
# api.sh -- which baresip the module is built for, and the flags for it
#
# The one place that finds the baresip generation.  Every build runs it:
# the top-level CMakeLists.txt and module.mk, and the in-tree fragments
# (CMakeLists.txt, module.mk beside this file).  What each version has is
# api.h's table; which versions the project declares itself (for
# baresip packages that ship no baresip.h) is baresip_abi.h's.
#
#   api.sh [--cflags] [--header FILE] [--baresip EXE] [--version X.Y.Z]
#          [--libre X.Y.Z]
#
#   --cflags   print the compiler flags only
#   --header   a real baresip.h: its BARESIP_VERSION is the version
#   --version  build for this version with the project's declarations
#              (overrides the installed baresip's)
#   --baresip  the installed baresip (default: baresip on PATH); its
#              banner, else dpkg, gives the version
#   --libre    the libre version built against: add the defines its
#              headers need (out-of-tree builds; a tree has its own)
#
# Prints one line: the version, then the compiler flags.  Says on stderr
# what it chose and why; exits 1, saying why, when it cannot choose.

set -eu

dir=$(dirname "$0")
header= version= exe=baresip libre= from= cflags=

die() {
	echo "keepalive_responder: $*" >&2
	exit 1
}

while [ $# -gt 0 ]; do
	if [ "$1" = --cflags ]; then
		cflags=1
		shift
		continue
	fi
	[ $# -ge 2 ] || die "api.sh: $1 needs a value"
	case $1 in
	--header)	header=$2 ;;
	--version)	version=$2 ;;
	--baresip)	exe=$2 ;;
	--libre)	libre=$2 ;;
	*)		die "api.sh: unknown option $1" ;;
	esac
	shift 2
done

# x.y.z of the first "x.y.z" in the text on stdin
xyz() {
	sed -n 's/[^0-9]*\([0-9][0-9]*\.[0-9][0-9]*\.[0-9][0-9]*\).*/\1/p' |
		head -n 1
}

if [ -n "$header" ]; then
	[ -f "$header" ] || die "$header: no such file"
	version=$(grep 'define BARESIP_VERSION' "$header" | xyz)
	[ -n "$version" ] ||
		die "$header has no BARESIP_VERSION: is it baresip.h?"
	from="$header"
elif [ -n "$version" ]; then
	from="given"
	installed=$("$exe" -h 2>&1 | grep '^baresip v' | xyz) || true
	if [ -n "$installed" ] && [ "$installed" != "$version" ]; then
		echo "keepalive_responder: warning: building for baresip" \
		     "$version, but $exe is $installed" >&2
	fi
else
	# The banner is the installed program's own word; dpkg is asked
	# only where the program cannot be run (cross builds)
	version=$("$exe" -h 2>&1 | grep '^baresip v' | xyz) || true
	from="$exe -h"
	if [ -z "$version" ]; then
		version=$(dpkg-query -W -f='${Version}' baresip-core \
			2>/dev/null | sed 's/^[0-9]*://' | xyz) || true
		from="dpkg (baresip-core)"
	fi
	[ -n "$version" ] || die "no baresip found (no $exe, no" \
		"baresip-core package) and no baresip.h given: install" \
		"baresip, or give its include folder"
fi

case $version in
[0-9]*.[0-9]*.[0-9]*) ;;
*) die "baresip version '$version' is not x.y.z" ;;
esac

major=${version%%.*}
rest=${version#*.}
minor=${rest%%.*}
patch=${rest#*.}
flags="-DKAR_BARESIP_MAJOR=$major -DKAR_BARESIP_MINOR=$minor"
flags="$flags -DKAR_BARESIP_PATCH=$patch"

if [ -n "$header" ]; then
	flags="$flags -DHAVE_BARESIP_H"
	echo "keepalive_responder: baresip $version, from $from" >&2
else
	# baresip_abi.h's first "#if !(KAR_ABI(major, minor) || ...)" line
	# lists the generations it declares
	have=$(sed -n '/^#if !(KAR_ABI(/{p;q;}' "$dir/baresip_abi.h" |
		grep -o 'KAR_ABI([0-9]*, [0-9]*)' |
		sed 's/KAR_ABI(\([0-9]*\), \([0-9]*\))/\1.\2/' |
		tr '\n' ' ')
	case " $have" in
	*" $major.$minor "*) ;;
	*) die "baresip $version ($from) has no baresip.h here, and the" \
	       "project declares the ABI of baresip ${have% } only." \
	       "Give that baresip's include folder (CMake:" \
	       "-DKAR_BARESIP_INCLUDE_DIR=..., make: BARESIP_INCLUDE=...)" ;;
	esac
	echo "keepalive_responder: baresip $version ($from), the" \
	     "project's declarations of the $major.$minor ABI" >&2
fi

# libre before 3.0 needs the defines its own re.mk derives: without them
# uint32_t and bool are wrong.  RELEASE always: without it the inline
# mbuf helpers carry debug traps.
if [ -n "$libre" ]; then
	case $libre in
	0.*|1.*|2.*)
		flags="$flags -DHAVE_INTTYPES_H -DHAVE_STDBOOL_H -DHAVE_INET6"
		;;
	esac
	flags="$flags -DRELEASE"
fi

if [ -n "$cflags" ]; then
	echo "$flags"
else
	echo "$version $flags"
fi
