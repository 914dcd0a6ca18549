#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
#
# api.sh -- which baresip the module is built for, and the flags for it
#
#   api.sh [--cflags] [--header FILE | --version X.Y.Z] [--libre X.Y.Z]
#
# The version comes from a real baresip.h (--header), else from --version
# or the installed baresip (its banner, else dpkg), built with the
# project's declarations of that ABI (baresip_abi.h).  --libre: the libre
# built against, out of tree (a tree has its own defines).  Prints the
# version (not with --cflags), then the flags; says on stderr what it
# chose, or why it cannot choose (exit 1).  Every build runs it.

set -eu

header= version= libre= cflags= from=

die() {
	echo "keepalive_responder: $*" >&2
	exit 1
}

while [ $# -gt 0 ]; do
	[ "$1" = --cflags ] && { cflags=1; shift; continue; }
	[ $# -ge 2 ] || die "api.sh: $1 needs a value"
	case $1 in
	--header)	header=$2 ;;
	--version)	version=$2 ;;
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
	from=$header
else
	# The banner is the installed program's own word; dpkg only where
	# it cannot run (cross builds)
	exe=$(command -v baresip) || exe=baresip
	installed=$("$exe" -h 2>&1 | grep '^baresip v' | xyz) || true
	if [ -n "$version" ]; then
		from=given
		[ -z "$installed" ] || [ "$installed" = "$version" ] ||
			echo "keepalive_responder: warning: building for" \
			     "baresip $version, but $exe is $installed" >&2
	elif [ -n "$installed" ]; then
		version=$installed from="$exe -h"
	else
		version=$(dpkg-query -W -f='${Version}' baresip-core \
			2>/dev/null | sed 's/^[0-9]*://' | xyz) || true
		from="dpkg (baresip-core)"
		[ -n "$version" ] || die "no baresip found (no $exe, no" \
			"baresip-core package) and no baresip.h given:" \
			"install baresip, or give its include folder"
	fi
fi

case $version in
[0-9]*.[0-9]*.[0-9]*) ;;
*) die "baresip version '$version' is not x.y.z" ;;
esac

major=${version%%.*}
rest=${version#*.}
minor=${rest%%.*}
flags="-DKAR_BARESIP_MAJOR=$major -DKAR_BARESIP_MINOR=$minor"
flags="$flags -DKAR_BARESIP_PATCH=${rest#*.}"

if [ -n "$header" ]; then
	flags="$flags -DHAVE_BARESIP_H"
	echo "keepalive_responder: baresip $version, from $from" >&2
else
	# baresip_abi.h's first "#if !(KAR_ABI(major, minor) || ...)" line
	# lists the generations it declares
	have=$(sed -n '/^#if !(KAR_ABI(/{p;q;}' \
		"$(dirname "$0")/baresip_abi.h" |
		grep -o 'KAR_ABI([0-9]*, [0-9]*)' |
		sed 's/KAR_ABI(\([0-9]*\), \([0-9]*\))/\1.\2/' | tr '\n' ' ')
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
case $libre in
0.*|1.*|2.*) flags="$flags -DHAVE_INTTYPES_H -DHAVE_STDBOOL_H -DHAVE_INET6" ;;
esac
[ -z "$libre" ] || flags="$flags -DRELEASE"

if [ -n "$cflags" ]; then
	echo "$flags"
else
	echo "$version $flags"
fi
