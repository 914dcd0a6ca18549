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
 * (RFC 3261 20.29) and is ignored, as a UAS must.  Pure: libre only.
 */
#include <re.h>
#include "kar.h"


enum {
	CLEN_DIGITS_MAX = 10,    /**< UINT32_MAX has ten digits          */
};


/*
 * libre finds a header by its id, a 12-bit hash of the name: a header
 * whose name only collides with the one asked for ("X-bpp" with "CSeq")
 * is found as well.  The checks see only the headers of that name.
 */
struct named {
	const char *name;
	const char *compact;          /**< compact form, or NULL      */
	const struct sip_hdr *first;
	uint32_t n;
};


static bool has_name(const struct sip_hdr *hdr, const char *name,
		     const char *compact)
{
	return !pl_strcasecmp(&hdr->name, name) ||
		(compact && !pl_strcasecmp(&hdr->name, compact));
}


static bool count_named(const struct sip_hdr *hdr,
			const struct sip_msg *msg, void *arg)
{
	struct named *nd = arg;
	(void)msg;

	if (has_name(hdr, nd->name, nd->compact) && !nd->n++)
		nd->first = hdr;

	return false;
}


/* How many headers of that name; the first of them in *first */
static uint32_t hdr_named(const struct sip_msg *msg, enum sip_hdrid id,
			  const char *name, const char *compact,
			  const struct sip_hdr **first)
{
	struct named nd = {name, compact, NULL, 0};

	(void)sip_msg_hdr_apply(msg, true, id, count_named, &nd);
	*first = nd.first;

	return nd.n;
}


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
static bool clen_valid(const struct sip_msg *msg)
{
	const struct sip_hdr *hdr;
	uint32_t clen;

	switch (hdr_named(msg, SIP_HDR_CONTENT_LENGTH, "Content-Length", "l",
			  &hdr)) {

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

	return clen <= mbuf_get_left(msg->mb);
}


/* Exactly one CSeq, naming the request's method (RFC 3261 8.1.1.5);
   methods are case-sensitive */
static bool cseq_valid(const struct sip_msg *msg)
{
	const struct sip_hdr *hdr;
	struct sip_cseq cseq;

	if (hdr_named(msg, SIP_HDR_CSEQ, "CSeq", NULL, &hdr) != 1)
		return false;

	/* its own value: libre's msg->cseq may come from a namesake */
	if (sip_cseq_decode(&cseq, &hdr->val))
		return false;

	return pl_isset(&cseq.met) && !pl_cmp(&cseq.met, &msg->met);
}


/* URI schemes are case-insensitive (RFC 3261 19.1.4) */
static bool scheme_valid(const struct sip_msg *msg)
{
	return !pl_strcasecmp(&msg->uri.scheme, "sip") ||
		!pl_strcasecmp(&msg->uri.scheme, "sips");
}


static bool tag_set(const struct sip_hdr *hdr, const struct sip_msg *msg,
		    void *arg)
{
	(void)msg;
	(void)arg;

	return pl_isset(&hdr->val) && has_name(hdr, "Require", NULL);
}


/* libre splits Require at commas into one value per option tag */
static bool require_valid(const struct sip_msg *msg)
{
	return !sip_msg_hdr_apply(msg, true, SIP_HDR_REQUIRE, tag_set, NULL);
}


static bool not_identity(const struct sip_hdr *hdr,
			 const struct sip_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;

	return pl_isset(&hdr->val) && pl_strcasecmp(&hdr->val, "identity");
}


/* A message-summary body, plain; a body without Content-Type has no
   type the module could read it as (RFC 3261 7.4.1 makes it a must) */
static bool summary_valid(const struct sip_msg *msg)
{
	struct pl body;

	kar_validate_body(&body, msg);
	if (!body.l)
		return true;

	if (!sip_msg_hdr(msg, SIP_HDR_CONTENT_TYPE) ||
	    !msg_ctype_cmp(&msg->ctyp, "application",
			   "simple-message-summary"))
		return false;

	return !sip_msg_hdr_apply(msg, true, SIP_HDR_CONTENT_ENCODING,
				  not_identity, NULL);
}


/**
 * Check a request the module is about to answer
 *
 * @param msg     SIP request
 * @param summary The answer reads the body as a message-summary
 *
 * @return KAR_R_NONE if the request may get its answer, otherwise the
 *         error answer to give instead
 */
enum kar_reply kar_validate(const struct sip_msg *msg, bool summary)
{
	if (!msg)
		return KAR_R_NONE;

	if (!clen_valid(msg))
		return KAR_R_BAD_CLEN;

	if (!cseq_valid(msg))
		return KAR_R_BAD_CSEQ;

	if (!scheme_valid(msg))
		return KAR_R_BAD_SCHEME;

	if (!require_valid(msg))
		return KAR_R_BAD_EXTENSION;

	if (summary && !summary_valid(msg))
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
 * @param msg  SIP request
 */
void kar_validate_body(struct pl *body, const struct sip_msg *msg)
{
	const struct sip_hdr *hdr;
	uint32_t clen;

	if (!body)
		return;

	body->p = NULL;
	body->l = 0;

	if (!msg || !msg->mb)
		return;

	body->p = (const char *)mbuf_buf(msg->mb);
	body->l = mbuf_get_left(msg->mb);

	if (hdr_named(msg, SIP_HDR_CONTENT_LENGTH, "Content-Length", "l",
		      &hdr) &&
	    clen_decode(&hdr->val, &clen) && clen < body->l)
		body->l = clen;
}


struct tags {
	struct re_printf *pf;
	bool first;
	int err;
};


static bool print_tag(const struct sip_hdr *hdr, const struct sip_msg *msg,
		      void *arg)
{
	struct tags *t = arg;
	(void)msg;

	if (!pl_isset(&hdr->val) || !has_name(hdr, "Require", NULL))
		return false;

	t->err = re_hprintf(t->pf, "%s%r", t->first ? "" : ", ", &hdr->val);
	t->first = false;

	return t->err != 0;
}


/**
 * Print the option tags of a request's Require headers, comma-separated
 * (all of them: the module supports none), for a 420's Unsupported
 *
 * @param pf  Print handler
 * @param msg SIP request
 *
 * @return 0 if success, otherwise errorcode
 */
int kar_validate_unsupported(struct re_printf *pf, const struct sip_msg *msg)
{
	struct tags t;

	if (!pf || !msg)
		return EINVAL;

	t.pf = pf;
	t.first = true;
	t.err = 0;

	(void)sip_msg_hdr_apply(msg, true, SIP_HDR_REQUIRE, print_tag, &t);

	return t.err;
}
