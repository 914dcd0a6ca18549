/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file validate.c  keepalive_responder -- headers by name, checks
 *
 * The headers the module reads, found by their names (below).
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
#include <string.h>
#include <re.h>
#include "kar.h"


enum {
	CLEN_DIGITS_MAX = 10,    /**< UINT32_MAX has ten digits          */
};


/*
 * libre files a header under its id, a 12-bit hash of the name: a
 * header whose name only collides with the one asked for ("Abcgg" with
 * "CSeq") is found by that id as well.  What the module reads, it reads
 * from headers of the right name only.
 */
static const struct {
	enum sip_hdrid id;
	const char *name;
	const char *compact;          /**< compact form, or NULL      */
} names[] = {
	{SIP_HDR_ACCEPT,           "Accept",           NULL},
	{SIP_HDR_CALL_ID,          "Call-ID",          "i"},
	{SIP_HDR_CONTENT_ENCODING, "Content-Encoding", "e"},
	{SIP_HDR_CONTENT_LENGTH,   "Content-Length",   "l"},
	{SIP_HDR_CONTACT,          "Contact",          "m"},
	{SIP_HDR_CONTENT_TYPE,     "Content-Type",     "c"},
	{SIP_HDR_CSEQ,             "CSeq",             NULL},
	{SIP_HDR_EVENT,            "Event",            "o"},
	{SIP_HDR_EXPIRES,          "Expires",          NULL},
	{SIP_HDR_FROM,             "From",             "f"},
	{SIP_HDR_REQUIRE,          "Require",          NULL},
	{SIP_HDR_TO,               "To",               "t"},
	{SIP_HDR_USER_AGENT,       "User-Agent",       NULL},
	{SIP_HDR_VIA,              "Via",              "v"},
};


/**
 * Is a header the one its id stands for, by its name?
 *
 * @param hdr SIP header
 * @param id  Header id (one of those the module reads)
 *
 * @return true if the name is that header's, long or compact
 */
bool kar_hdr_is(const struct sip_hdr *hdr, enum sip_hdrid id)
{
	size_t i;

	if (!hdr || hdr->id != id)
		return false;

	for (i = 0; i < ARRAY_SIZE(names); i++) {

		if (names[i].id != id)
			continue;

		return !pl_strcasecmp(&hdr->name, names[i].name) ||
			(names[i].compact &&
			 !pl_strcasecmp(&hdr->name, names[i].compact));
	}

	return false;
}


struct named {
	enum sip_hdrid id;
	const struct sip_hdr *first;
	uint32_t n;
};


static bool count_named(const struct sip_hdr *hdr,
			const struct sip_msg *msg, void *arg)
{
	struct named *nd = arg;
	(void)msg;

	if (kar_hdr_is(hdr, nd->id) && !nd->n++)
		nd->first = hdr;

	return false;
}


/**
 * Count the headers of a name (libre makes each element of a comma
 * list a header of its own)
 *
 * @param msg   SIP message
 * @param id    Header id (one of those the module reads)
 * @param first The first of them, NULL if none (optional)
 *
 * @return How many headers of that name the message has
 */
uint32_t kar_hdr_named(const struct sip_msg *msg, enum sip_hdrid id,
		       const struct sip_hdr **first)
{
	struct named nd = {id, NULL, 0};

	(void)sip_msg_hdr_apply(msg, true, id, count_named, &nd);

	if (first)
		*first = nd.first;

	return nd.n;
}


/* Is part set and within whole?  libre points msg->via/msg->to at a
   header before it decodes it; when that decoding fails, the fields
   still hold what an earlier header (a namesake) gave them. */
static bool pl_within(const struct pl *part, const struct pl *whole)
{
	return part->p && part->p >= whole->p &&
		part->p + part->l <= whole->p + whole->l;
}


/**
 * The top Via of a request, from a header of that name
 *
 * libre decodes msg->via from the first header of Via's id, which may
 * be a namesake; then the real one is decoded here.
 *
 * @param via Top Via (output)
 * @param msg SIP request
 *
 * @return 0 if success, ENOENT if there is none, or a decoding error
 */
int kar_hdr_via(struct sip_via *via, const struct sip_msg *msg)
{
	const struct sip_hdr *hdr;

	if (!via || !kar_hdr_named(msg, SIP_HDR_VIA, &hdr))
		return ENOENT;

	if (hdr->val.p == msg->via.val.p &&
	    pl_within(&msg->via.sentby, &hdr->val)) {
		*via = msg->via;
		return 0;
	}

	return sip_via_decode(via, &hdr->val);
}


/**
 * The To tag of a request, from a header of that name
 *
 * libre decodes msg->to from the last header of To's id, which may be
 * a namesake; then the first real one is decoded here.
 *
 * @param tag To tag (output, empty if there is none)
 * @param msg SIP request
 */
void kar_hdr_totag(struct pl *tag, const struct sip_msg *msg)
{
	const struct sip_hdr *hdr;
	struct sip_addr addr;

	*tag = pl_null;

	if (!kar_hdr_named(msg, SIP_HDR_TO, &hdr))
		return;

	if (hdr->val.p == msg->to.val.p &&
	    (!pl_isset(&msg->to.tag) || pl_within(&msg->to.tag, &hdr->val)))
		*tag = msg->to.tag;
	else if (!sip_addr_decode(&addr, &hdr->val))
		(void)msg_param_decode(&addr.params, "tag", tag);
}


/*
 * Reading a datagram before libre decodes it runs for every datagram of
 * a blocked source, so it is a plain byte loop (memchr() for the line
 * ends), without libre's string helpers, which measure and copy.
 */

/* ASCII lower case, for comparing with lower-case letters */
static char raw_lc(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}


/* A run of characters other than blanks and line ends, at least one */
static const char *raw_token(const char *p, const char *end)
{
	const char *q = p;

	while (q < end && *q != ' ' && *q != '\t' && *q != '\r' &&
	       *q != '\n')
		++q;

	return q > p ? q : NULL;
}


/*
 * The start line as libre's decoder takes it: two parts without blanks,
 * each followed by one space, then the rest up to CRs and an LF.  It is
 * a request when the rest is "SIP/2.0", else a response; a line of
 * another shape is nothing libre decodes.
 */
enum raw_start {
	RAW_NONE,
	RAW_REQUEST,
	RAW_RESPONSE,
};

static enum raw_start raw_start(struct pl *met, struct pl *uri,
				const char *p, const char *end)
{
	static const char ver[] = "SIP/2.0";
	const char *q = raw_token(p, end), *eol;

	if (!q)
		return RAW_NONE;

	met->p = p;
	met->l = q - p;

	if (q == end || *q++ != ' ')
		return RAW_NONE;

	uri->p = q;
	if (!(q = raw_token(q, end)) || q == end || *q != ' ')
		return RAW_NONE;

	uri->l = q++ - uri->p;

	eol = memchr(q, '\n', end - q);
	if (!eol)
		return RAW_NONE;

	while (eol > q && eol[-1] == '\r')
		--eol;

	if (eol - q == sizeof(ver) - 1 && !memcmp(q, ver, sizeof(ver) - 1))
		return RAW_REQUEST;

	return RAW_RESPONSE;
}


/* Is the header line [p, end) named To, long or compact?  The name is
   what comes before the colon, trailing blanks left out. */
static bool raw_is_to(const char *p, const char *end)
{
	if (raw_lc(*p++) != 't')
		return false;

	if (p < end && raw_lc(*p) == 'o')
		++p;

	while (p < end && (*p == ' ' || *p == '\t'))
		++p;

	return p < end && *p == ':';
}


/* "tag" anywhere in [p, end), whatever the case */
static bool raw_has_tag(const char *p, const char *end)
{
	for (; end - p >= 3; p++) {
		if (raw_lc(p[0]) == 't' && raw_lc(p[1]) == 'a' &&
		    raw_lc(p[2]) == 'g')
			return true;
	}

	return false;
}


/*
 * The user part of a Request-URI as libre's URI decoder finds it: after
 * the scheme's colon, up to a colon (a password follows) or an "@",
 * when an "@" follows at all (else empty).  Only a URI that starts with
 * its scheme is read: false for any other, which the caller takes as
 * "maybe", to be decoded and judged after.
 */
static bool raw_user(struct pl *user, const struct pl *uri)
{
	const char *p = uri->p, *end = uri->p + uri->l, *u;

	while (p < end && *p != ':' && *p != '@' && *p != ';' && *p != '?')
		++p;

	if (p == uri->p || p == end || *p != ':')
		return false;

	u = ++p;
	while (p < end && *p != ':' && *p != '@')
		++p;

	user->p = u;
	user->l = p - u;

	/* No "@": the URI has no user part */
	if (!memchr(p, '@', end - p))
		user->l = 0;

	return true;
}


/* May the Request-URI's user have a local UA's dialog (userh)?
   Unsure is yes. */
static bool raw_local(const struct pl *uri, kar_user_h *userh, void *arg)
{
	struct pl user;

	if (!userh || !raw_user(&user, uri))
		return true;

	/* No user part: a local UA's dialog only by a call's Call-ID,
	   which userh may know of */
	return userh(&user, arg);
}


/**
 * May a datagram belong to a dialog or transaction the stack has, as its
 * bytes say before decoding?  A response, an ACK or CANCEL, or a request
 * with a To header (by name, folded lines included) that has "tag" in
 * it, to a Request-URI user that userh says may have a local UA's
 * dialog: a To tag alone makes no dialog.  It errs towards yes: what it
 * lets through is decoded and judged by the guard after, so it only
 * needs to miss nothing that libre would decode as one of those.
 *
 * @param mb    Datagram (from its position)
 * @param userh May a tagged request to this Request-URI user belong to
 *              a local UA's dialog?  (NULL: any tag will do)
 * @param arg   Its argument
 *
 * @return true if it may
 */
bool kar_raw_dialog(const struct mbuf *mb, kar_user_h *userh, void *arg)
{
	const char *p, *end, *eol;
	struct pl met, uri;
	bool to = false;

	if (!mb)
		return false;

	p = (const char *)mbuf_buf(mb);
	end = p + mbuf_get_left(mb);

	switch (raw_start(&met, &uri, p, end)) {

	case RAW_NONE:
		return false;

	case RAW_RESPONSE:
		return true;

	default:
		if (kar_method_invite_txn(&met))
			return true;
		break;
	}

	/* Every line, the body's too: a header read where there is none
	   costs a decode, one missed would swallow a request */
	while (p < end) {

		eol = memchr(p, '\n', end - p);
		if (!eol)
			eol = end;

		if (*p != ' ' && *p != '\t')
			to = raw_is_to(p, eol);

		if (to && raw_has_tag(p, eol))
			return raw_local(&uri, userh, arg);

		if (eol == end)
			break;

		p = eol + 1;
	}

	return false;
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

	switch (kar_hdr_named(msg, SIP_HDR_CONTENT_LENGTH, &hdr)) {

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

	if (kar_hdr_named(msg, SIP_HDR_CSEQ, &hdr) != 1)
		return false;

	/* its own value: libre's msg->cseq may come from a namesake */
	if (sip_cseq_decode(&cseq, &hdr->val))
		return false;

	return pl_isset(&cseq.met) && !pl_cmp(&cseq.met, &msg->met);
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


static bool tag_set(const struct sip_hdr *hdr, const struct sip_msg *msg,
		    void *arg)
{
	(void)msg;
	(void)arg;

	return pl_isset(&hdr->val) && kar_hdr_is(hdr, SIP_HDR_REQUIRE);
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

	return kar_hdr_is(hdr, SIP_HDR_CONTENT_ENCODING) &&
		pl_isset(&hdr->val) && pl_strcasecmp(&hdr->val, "identity");
}


/* A message-summary body, plain; a body without Content-Type has no
   type the module could read it as (RFC 3261 7.4.1 makes it a must),
   nor has one with two */
static bool summary_valid(const struct sip_msg *msg)
{
	const struct sip_hdr *hdr;
	struct msg_ctype ctyp;
	struct pl body;

	kar_validate_body(&body, msg);
	if (!body.l)
		return true;

	/* its own value: libre's msg->ctyp may come from a namesake */
	if (kar_hdr_named(msg, SIP_HDR_CONTENT_TYPE, &hdr) != 1 ||
	    msg_ctype_decode(&ctyp, &hdr->val) ||
	    !msg_ctype_cmp(&ctyp, "application", "simple-message-summary"))
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

	if (kar_hdr_named(msg, SIP_HDR_CONTENT_LENGTH, &hdr) &&
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

	if (!pl_isset(&hdr->val) || !kar_hdr_is(hdr, SIP_HDR_REQUIRE))
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
