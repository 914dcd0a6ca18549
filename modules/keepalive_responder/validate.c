/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file validate.c  keepalive_responder -- checks before an answer
 *
 * Whenever the module answers a request itself, it first checks what
 * RFC 3261 8.2 asks a UAS to check, and answers the error instead:
 *
 *   Content-Length repeated, not a number, or beyond the bytes   400
 *   CSeq missing, repeated, or naming another method             400
 *   Request-URI scheme other than sip/sips                       416
 *   Require naming any option tag (the module supports none)     420
 *   a body the module reads, of a type or encoding it cannot     415
 *
 * Malformed framing and CSeq come first: until they hold, the request
 * is not a well-formed request at all.  Proxy-Require is for proxies
 * (RFC 3261 20.29) and is ignored, as a UAS must.  Headers come from
 * the request's view (hdr.c), by name.  Pure: libre only.
 */
#include <string.h>
#include <re.h>
#include "kar.h"


enum {
	CLEN_DIGITS_MAX = 10,    /**< UINT32_MAX has ten digits          */
};


/*
 * Content-Length as RFC 3261 20.14 writes it: 1*DIGIT.  libre's own
 * pl_u32() reads "-1" or "x" as 0 and wraps beyond 2^32, so it is not
 * used to decide.
 */
static bool clen_decode(const struct pl *val, uint32_t *clen)
{
	uint64_t v = 0;
	size_t i;

	if (!pl_isset(val) || val->l > CLEN_DIGITS_MAX)
		return false;

	for (i = 0; i < val->l; i++) {
		if (val->p[i] < '0' || val->p[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(val->p[i] - '0');
	}

	if (v > UINT32_MAX)
		return false;

	*clen = (uint32_t)v;

	return true;
}


/*
 * One Content-Length at most, and it must not promise more than the
 * bytes received.  On a datagram, bytes beyond it are discarded (RFC
 * 3261 18.3); over TCP libre has already framed the message with it.
 */
static bool clen_valid(const struct kar_req *rq)
{
	const struct sip_hdr *hdr = rq->hdr[KAR_H_CONTENT_LENGTH].first;
	uint32_t clen;

	switch (rq->hdr[KAR_H_CONTENT_LENGTH].n) {

	case 0:
		/* Optional on UDP; libre refuses a TCP message without */
		return true;

	case 1:
		break;

	default:
		return false;
	}

	if (!clen_decode(&hdr->val, &clen))
		return false;

	return clen <= mbuf_get_left(rq->msg->mb);
}


/* Exactly one CSeq, naming the request's method (RFC 3261 8.1.1.5);
   methods are case-sensitive */
static bool cseq_valid(const struct kar_req *rq)
{
	struct sip_cseq cseq;

	if (rq->hdr[KAR_H_CSEQ].n != 1)
		return false;

	/* its own value: libre's msg->cseq may come from a namesake */
	if (sip_cseq_decode(&cseq, &rq->hdr[KAR_H_CSEQ].first->val))
		return false;

	return pl_isset(&cseq.met) && !pl_cmp(&cseq.met, &rq->msg->met);
}


/* The scheme is what precedes the Request-URI's first colon: libre's
   URI decoder takes the first match anywhere in it (":sip:x" decodes
   as sip).  Schemes are case-insensitive (RFC 3261 19.1.4). */
static bool scheme_valid(const struct sip_msg *msg)
{
	const char *colon = pl_strchr(&msg->ruri, ':');
	struct pl scheme;

	if (!colon)
		return false;

	scheme.p = msg->ruri.p;
	scheme.l = colon - msg->ruri.p;

	return !pl_strcasecmp(&scheme, "sip") ||
		!pl_strcasecmp(&scheme, "sips");
}


/* libre splits Require at commas into one value per option tag: any
   that is not empty names an extension the module does not support */
static bool require_valid(const struct kar_req *rq)
{
	const struct sip_hdr *hdr;

	for (hdr = rq->hdr[KAR_H_REQUIRE].first; hdr;
	     hdr = kar_hdr_next(hdr)) {
		if (pl_isset(&hdr->val))
			return false;
	}

	return true;
}


/* A message-summary body, plain; a body without Content-Type has no
   type the module could read it as (RFC 3261 7.4.1 makes it a must),
   nor has one with two */
static bool summary_valid(const struct kar_req *rq)
{
	const struct sip_hdr *hdr;
	struct msg_ctype ctyp;
	struct pl body;

	kar_validate_body(&body, rq);
	if (!body.l)
		return true;

	/* its own value: libre's msg->ctyp may come from a namesake */
	if (rq->hdr[KAR_H_CONTENT_TYPE].n != 1 ||
	    msg_ctype_decode(&ctyp, &rq->hdr[KAR_H_CONTENT_TYPE].first->val) ||
	    !msg_ctype_cmp(&ctyp, "application", "simple-message-summary"))
		return false;

	for (hdr = rq->hdr[KAR_H_CONTENT_ENCODING].first; hdr;
	     hdr = kar_hdr_next(hdr)) {
		if (pl_isset(&hdr->val) &&
		    pl_strcasecmp(&hdr->val, "identity"))
			return false;
	}

	return true;
}


/**
 * Check a request the module is about to answer
 *
 * @param rq      SIP request, as read at the door
 * @param summary The answer reads the body as a message-summary
 *
 * @return KAR_R_NONE if the request may get its answer, otherwise the
 *         error answer to give instead
 */
enum kar_reply kar_validate(const struct kar_req *rq, bool summary)
{
	if (!rq || !rq->msg)
		return KAR_R_NONE;

	if (!clen_valid(rq))
		return KAR_R_BAD_CLEN;

	if (!cseq_valid(rq))
		return KAR_R_BAD_CSEQ;

	if (!scheme_valid(rq->msg))
		return KAR_R_BAD_SCHEME;

	if (!require_valid(rq))
		return KAR_R_BAD_EXTENSION;

	if (summary && !summary_valid(rq))
		return KAR_R_BAD_MEDIA;

	return KAR_R_NONE;
}


/**
 * The body of a request, as its Content-Length delimits it
 *
 * On UDP the datagram may carry bytes beyond it, which RFC 3261 18.3
 * discards; without a valid Content-Length the rest of the bytes.
 *
 * @param body Body (output; empty when there is none)
 * @param rq   SIP request, as read at the door
 */
void kar_validate_body(struct pl *body, const struct kar_req *rq)
{
	const struct sip_hdr *hdr;
	uint32_t clen;

	if (!body)
		return;

	body->p = NULL;
	body->l = 0;

	if (!rq || !rq->msg || !rq->msg->mb)
		return;

	body->p = (const char *)mbuf_buf(rq->msg->mb);
	body->l = mbuf_get_left(rq->msg->mb);

	hdr = rq->hdr[KAR_H_CONTENT_LENGTH].first;
	if (hdr && clen_decode(&hdr->val, &clen) && clen < body->l)
		body->l = clen;
}
