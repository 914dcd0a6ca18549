/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file api.h  keepalive_responder -- what each baresip generation has
 *
 * The one table of the baresip API differences that host.c meets.  The
 * build finds the version of the baresip the module is built for (api.sh)
 * and passes it as KAR_BARESIP_MAJOR/MINOR/PATCH, with HAVE_BARESIP_H
 * when a real baresip.h is used; everything else follows from here.
 * Without a header, baresip_abi.h declares the generations that
 * distributions ship as binaries only.
 *
 * Each change below was read from the tags' include/baresip.h.
 */

#if !defined(KAR_BARESIP_MAJOR) || !defined(KAR_BARESIP_MINOR) || \
	!defined(KAR_BARESIP_PATCH)
#error "baresip version unknown: build with CMake or make (api.sh)"
#endif

#define KAR_V(major, minor) ((major) * 1000 + (minor))
#define KAR_BARESIP KAR_V(KAR_BARESIP_MAJOR, KAR_BARESIP_MINOR)

/* 1.1: module_event(), and uag_find_msg(), the lookup its core's
   OPTIONS handler uses */
#if KAR_BARESIP >= KAR_V(1, 1)
#define KAR_HAVE_MODULE_EVENT 1
#define KAR_HAVE_UAG_FIND_MSG 1
#endif

/* 2.0: the telephone-event payload type is configurable (audio_telev_pt,
   account autelev_pt); 101 before */
#if KAR_BARESIP >= KAR_V(2, 0)
#define KAR_HAVE_TELEV_PT 1
#endif

/* 3.20: vlog() gone, logging only through loglv()/_loglv() */
#if KAR_BARESIP < KAR_V(3, 20)
#define KAR_HAVE_VLOG 1
#endif

/* 4.0: ua_event() and enum ua_event gone, bevent_*() and enum
   bevent_ev instead (3.15 to 3.24 have both: ua_event() is used) */
#if KAR_BARESIP >= KAR_V(4, 0)
#define KAR_HAVE_BEVENT 1
#else
#define KAR_HAVE_UA_EVENT 1
#endif

/* 3.15: filter_registrar, and ua_req_check_origin(), the core's
   decision whether a request's source may reach a UA */
#if KAR_BARESIP >= KAR_V(3, 15)
#define KAR_HAVE_CHECK_ORIGIN 1
#endif

#define KAR_STR_(x) #x
#define KAR_STR(x) KAR_STR_(x)

/** The baresip version the module is built for, "x.y.z" */
#define KAR_BARESIP_BUILT KAR_STR(KAR_BARESIP_MAJOR) "." \
	KAR_STR(KAR_BARESIP_MINOR) "." KAR_STR(KAR_BARESIP_PATCH)

#ifdef HAVE_BARESIP_H
#include <baresip.h>
#else
#include "baresip_abi.h"
#endif
