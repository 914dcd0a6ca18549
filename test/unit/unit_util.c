/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file unit_util.c  keepalive_responder unit tests -- helpers
 *
 * The tests hand the module what libre's transport would: requests that
 * sip_msg_decode() made from raw bytes, so compact forms, header case
 * and white space are read by libre itself, not by the tests.
 */
#include <string.h>
#include <re.h>
#include <CUnit/CUnit.h>
#include "kar.h"
#include "unit.h"


/**
 * Add a suite and its tests to the CUnit registry
 *
 * @param name    Suite name (the runner's argument)
 * @param init    Suite set-up, or NULL
 * @param cleanup Suite tear-down, or NULL
 * @param tests   Tests, terminated by CU_TEST_INFO_NULL
 *
 * @return 0 if success, otherwise a CUnit error code
 */
int unit_suite_add(const char *name, CU_InitializeFunc init,
		   CU_CleanupFunc cleanup, const CU_TestInfo *tests)
{
	CU_pSuite suite;

	suite = CU_add_suite(name, init, cleanup);
	if (!suite)
		return CU_get_error();

	for (; tests->pName; tests++) {
		if (!CU_add_test(suite, tests->pName, tests->pTestFunc))
			return CU_get_error();
	}

	return 0;
}


/**
 * Decode a whole SIP message from text
 *
 * The source address is set to the probe's (UNIT_SRC_ADDR), as the top
 * Via of unit_request() says.
 *
 * @param msgp Decoded message; it keeps its own reference to the bytes
 * @param text Start line, headers and the empty line ("\r\n\r\n")
 *
 * @return 0 if success, otherwise errorcode
 */
int unit_decode(struct sip_msg **msgp, const char *text)
{
	struct mbuf *mb;
	int err;

	if (!msgp || !text)
		return EINVAL;

	mb = mbuf_alloc(strlen(text) + 1);
	if (!mb)
		return ENOMEM;

	err = mbuf_write_str(mb, text);
	if (err)
		goto out;

	mb->pos = 0;
	err = sip_msg_decode(msgp, mb);
	if (err)
		goto out;

	/* The transport fills in the source; the decoder leaves it zero,
	   which no answer could be built for (received=) */
	err = sa_set_str(&(*msgp)->src, UNIT_SRC_ADDR, UNIT_SRC_PORT);
	if (err)
		*msgp = mem_deref(*msgp);

 out:
	mem_deref(mb);

	return err;
}


/**
 * Decode a typical out-of-dialog probe
 *
 * @param msgp  Decoded request
 * @param met   Method, also used in CSeq
 * @param ruri  Request-URI, also used in To
 * @param totag To tag (NULL for none, i.e. out of dialog)
 * @param extra More header lines, each ending in CRLF (optional)
 *
 * @return 0 if success, otherwise errorcode
 */
int unit_request(struct sip_msg **msgp, const char *met, const char *ruri,
		 const char *totag, const char *extra)
{
	char *text = NULL;
	int err;

	err = re_sdprintf(&text,
			  "%s %s SIP/2.0\r\n"
			  "Via: SIP/2.0/UDP " UNIT_SRC_ADDR ":5060"
			  ";branch=z9hG4bK-unit-1\r\n"
			  "Max-Forwards: 70\r\n"
			  "From: <sip:prober@192.0.2.10>;tag=from-1\r\n"
			  "To: <%s>%s%s\r\n"
			  "Call-ID: unit-1@192.0.2.10\r\n"
			  "CSeq: 1 %s\r\n"
			  "%s"
			  "Content-Length: 0\r\n"
			  "\r\n",
			  met, ruri, ruri, totag ? ";tag=" : "",
			  totag ? totag : "", met, extra ? extra : "");
	if (err)
		return err;

	err = unit_decode(msgp, text);
	mem_deref(text);

	return err;
}


/** Compare a pointer-length string with a C string, exactly */
bool unit_pl_eq(const struct pl *pl, const char *str)
{
	return pl && pl->p && !pl_strcmp(pl, str);
}


/** Count the (non-overlapping) occurrences of needle in hay */
size_t unit_count(const char *hay, const char *needle)
{
	size_t n = 0, len = strlen(needle);

	if (!hay || !len)
		return 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		++n;
		hay += len;
	}

	return n;
}


/**
 * Encode the module's answer to a request, and decode it again
 *
 * @param respp Decoded response (optional)
 * @param textp The response as a C string (optional)
 * @param r     Replies
 * @param req   Request
 * @param reply What to answer
 * @param rport Set if rport was filled in (optional)
 *
 * @return 0 if success, otherwise errorcode
 */
int unit_answer(struct sip_msg **respp, char **textp,
		const struct kar_replies *r, const struct sip_msg *req,
		enum kar_reply reply, bool *rport)
{
	struct mbuf *mb;
	int err;

	mb = mbuf_alloc(512);
	if (!mb)
		return ENOMEM;

	err = kar_reply_encode(mb, r, unit_req(req), reply, rport);
	if (err)
		goto out;

	mb->pos = 0;
	if (textp) {
		err = mbuf_strdup(mb, textp, mb->end);
		if (err)
			goto out;
		mb->pos = 0;
	}

	if (respp)
		err = sip_msg_decode(respp, mb);

 out:
	mem_deref(mb);

	return err;
}


/**
 * A request's view, as the module reads it at the door; kept until the
 * fourth call after (a case may hold a few at once)
 *
 * @param msg  Decoded request
 * @param ownh Does a local UA own the Request-URI user?  (NULL: none)
 *
 * @return The view
 */
const struct kar_req *unit_req_owned(const struct sip_msg *msg,
				     kar_ua_match_h *ownh)
{
	static struct kar_req ring[4];
	static size_t next;
	struct kar_req *rq = &ring[next++ % ARRAY_SIZE(ring)];

	kar_req_read(rq, msg, ownh, NULL);

	return rq;
}


/** A request's view, no local UA owning any user */
const struct kar_req *unit_req(const struct sip_msg *msg)
{
	return unit_req_owned(msg, NULL);
}
