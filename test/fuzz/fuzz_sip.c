/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file fuzz_sip.c  libFuzzer target: what the transport hands over
 *
 * Bytes -> sip_msg_decode() -> everything the module's head listener
 * does with a request, without baresip:
 *
 *   - kar_policy_decide() in shared and exclusive mode, with no UA
 *     lookup, one that matches nothing, one that matches everything and
 *     one that matches "alice";
 *   - kar_reply_encode() for the verdict and for every reply kind, the
 *     OPTIONS 200 with a capability SDP (kar_sdp_accepted() on Accept);
 *   - kar_uafilter_match() (the default scanner list and an empty one);
 *   - kar_rate_take() and kar_acl_match() with msg->src from the input;
 *   - kar_validate() before every answer, as the listeners call it;
 *   - kar_mwi_check() on the body of a NOTIFY;
 *   - kar_stats_count() with each verdict.
 *
 * Each message is handled as a UDP datagram (the whole input, as libre's
 * UDP transport decodes it) and, when it has a Content-Length that the
 * bytes cover, once more framed as libre's TCP transport frames it.
 *
 * Input format: the first line is the source address ("192.0.2.1:5060",
 * "[2001:db8::1]:5060"); the rest are the bytes off the wire.  A first
 * line that is not an address gives the address bytes directly (first
 * byte odd: IPv6), so every input has a source.
 *
 * Besides the sanitizers, properties the module promises are checked
 * (abort() with a message when one fails):
 *   - an in-dialog request (To tag) is never answered, nor one without
 *     a Via (the answer would have nowhere to go), both read from the
 *     headers of those names, not from libre's fields of their ids;
 *   - OPTIONS with no user part is always answered 200, and exclusive
 *     mode answers every out-of-dialog OPTIONS (given a Via);
 *   - encoding cannot fail (but without a Via, where it must), the
 *     same request decoded again (a retransmission) gets byte-identical
 *     answers, and the answer decodes as a SIP response with the status
 *     of the reply kind and a To tag; an OPTIONS 200 has the SDP
 *     exactly when Accept admits it, and its Content-Length is the
 *     body's;
 *   - no request that fails an RFC 3261 8.2 check (judged here by a
 *     plain reference on the raw header lines) gets a 2xx from the
 *     module, and one that passes keeps the decision table's answer;
 *   - a new source gets exactly a burst (2 x rate) of tokens, then none;
 *   - kar_acl_match() agrees with a plain reference implementation.
 *
 * Every input frees what it allocates (libFuzzer's leak check runs per
 * input); the state built in LLVMFuzzerInitialize() is read-only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "kar.h"

#define FUZZ_NAME "fuzz_sip"
#include "fuzz.h"


#define FUZZ_EVENTS  "keep-alive,check-sync,message-summary"
#define FUZZ_DROP_UA "friendly-scanner,sipvicious,sipcli,sip-scan," \
	"VaxSIPUserAgent,iWar,sundayddr"
#define FUZZ_ACL     "127.0.0.0/8,10.0.0.0/8,192.0.2.1,::1," \
	"2001:db8::/32,fe80::/10"

enum {
	LINE_MAX_ADDR = 64,    /**< longest address line looked at      */
	RATE_SLOTS    = 4,     /**< small, so that sources are evicted  */
};


static struct {
	struct kar_events events;
	struct kar_replies *replies;
	struct kar_sdp *sdp;
	struct kar_uafilter drop;
	struct kar_uafilter nodrop;
	struct kar_acl acl;
	struct kar_acl anyone;
} fz;


static void cleanup(void)
{
	fz.replies = mem_deref(fz.replies);
	fz.sdp = mem_deref(fz.sdp);
	libre_close();
}


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const struct kar_codec codecs[] = {
		{NULL, "opus", 48000, 2, "stereo=1", NULL, NULL},
		{"0", "PCMU", 8000, 1, NULL, NULL, NULL},
	};
	const struct kar_sdp_media media = {
		"audio", NULL, codecs, ARRAY_SIZE(codecs), true, 0
	};
	(void)argc;
	(void)argv;

	if (libre_init())
		abort();

	if (kar_events_parse(&fz.events, FUZZ_EVENTS) ||
	    kar_replies_alloc(&fz.replies, &fz.events,
			      0x0123456789abcdefULL) ||
	    kar_uafilter_parse(&fz.drop, FUZZ_DROP_UA) ||
	    kar_uafilter_parse(&fz.nodrop, "") ||
	    kar_acl_parse(&fz.acl, FUZZ_ACL, NULL, 0) ||
	    kar_acl_parse(&fz.anyone, "", NULL, 0) ||
	    kar_sdp_alloc(&fz.sdp, &media, 1, 1, 1))
		abort();

	kar_replies_sdp(fz.replies, fz.sdp);

	atexit(cleanup);

	return 0;
}


/*
 * UA lookups for the policy
 */

static bool ua_none(const struct sip_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return false;
}


static bool ua_all(const struct sip_msg *msg, void *arg)
{
	const struct pl *user = &msg->uri.user;
	volatile uint8_t sum = 0;
	size_t i;
	(void)arg;

	/* Read the whole user part, so that a bad pl shows up here */
	for (i = 0; user && i < user->l; i++)
		sum ^= (uint8_t)user->p[i];
	(void)sum;

	return true;
}


static bool ua_alice(const struct sip_msg *msg, void *arg)
{
	(void)arg;
	return !pl_strcmp(&msg->uri.user, "alice");
}


/*
 * The source address
 */

/* The request as the head listener reads it, once per call here */
static const struct kar_req *view(const struct sip_msg *msg)
{
	static struct kar_req rq;

	kar_req_read(&rq, msg, NULL, NULL);

	return &rq;
}


static void src_from(struct sa *src, const uint8_t *p, size_t n)
{
	uint8_t a6[16];
	uint32_t a4 = 0;
	size_t i;

	if (n && n <= LINE_MAX_ADDR &&
	    !sa_decode(src, (const char *)p, n) &&
	    (sa_af(src) == AF_INET || sa_af(src) == AF_INET6))
		return;

	if (n && (p[0] & 1)) {
		memset(a6, 0, sizeof(a6));
		for (i = 1; i < n && i <= sizeof(a6); i++)
			a6[i - 1] = p[i];
		sa_set_in6(src, a6, 5060);
		return;
	}

	for (i = 1; i < n && i <= 4; i++)
		a4 = a4 << 8 | p[i];
	sa_set_in(src, a4 ? a4 : 0x7f000001, 5060);
}


/*
 * The top Via and the To tag, read from the headers of those names (a
 * header whose name only hashes alike is filed under the same id)
 */

static bool named(const struct sip_hdr *hdr, const char *name,
		  const char *compact)
{
	return !pl_strcasecmp(&hdr->name, name) ||
		(compact && !pl_strcasecmp(&hdr->name, compact));
}


static const struct sip_hdr *ref_first(const struct sip_msg *msg,
				       const char *name, const char *compact)
{
	const struct le *le;

	for (le = msg->hdrl.head; le; le = le->next) {
		if (named(le->data, name, compact))
			return le->data;
	}

	return NULL;
}


static bool ref_via(const struct sip_msg *msg)
{
	const struct sip_hdr *hdr = ref_first(msg, "Via", "v");
	struct sip_via via;

	return hdr && !sip_via_decode(&via, &hdr->val);
}


static bool ref_totag(const struct sip_msg *msg)
{
	const struct sip_hdr *hdr = ref_first(msg, "To", "t");
	struct sip_addr addr;
	struct pl tag = PL_INIT;

	if (!hdr || sip_addr_decode(&addr, &hdr->val))
		return false;

	(void)msg_param_decode(&addr.params, "tag", &tag);

	return pl_isset(&tag);
}


/*
 * Properties of the verdict
 */

static void check_verdict(const struct kar_verdict *v,
			  const struct kar_policy *pol,
			  const struct sip_msg *msg)
{
	bool totag = ref_totag(msg);
	bool via = ref_via(msg);

	CHECK((size_t)v->reply < KAR_R_N, "reply %d", v->reply);
	CHECK(v->meth == kar_method_of(&msg->met), "method class %d",
	      v->meth);
	CHECK(v->probe == (v->meth == KAR_M_OPTIONS ||
			   (v->meth == KAR_M_NOTIFY && !totag)),
	      "probe %d", v->probe);

	/* Never swallow a request that belongs to a dialog */
	CHECK(!totag || v->reply == KAR_R_NONE,
	      "in-dialog %r answered (%d)", &msg->met, v->reply);

	if (v->reply != KAR_R_NONE)
		CHECK(v->meth == KAR_M_OPTIONS || v->meth == KAR_M_NOTIFY,
		      "%r answered", &msg->met);

	/* Without a Via an answer has nowhere to go */
	CHECK(via || v->reply == KAR_R_NONE, "answered (%d) without a Via",
	      v->reply);

	if (v->meth == KAR_M_OPTIONS && !totag && via) {
		if (pol->drain)
			CHECK(v->reply == KAR_R_DRAIN,
			      "OPTIONS not drained (%d)", v->reply);
		else if (pol->exclusive || !pl_isset(&msg->uri.user))
			CHECK(v->reply == KAR_R_OPTIONS_OK,
			      "OPTIONS not answered 200 (%d)", v->reply);
	}

	if (v->has_pkg)
		CHECK(v->pkg < (int)fz.events.n, "pkg %d", v->pkg);
}


/*
 * Replies
 */

/* Encoding cannot fail, but for a request without a Via of its own */
static struct mbuf *encode(const struct sip_msg *msg, enum kar_reply reply)
{
	struct mbuf *mb = mbuf_alloc(512);
	bool rport = false;
	int err;

	CHECK(mb != NULL, "no memory");

	err = kar_reply_encode(mb, fz.replies, view(msg), reply, &rport);
	if (!ref_via(msg)) {
		CHECK(err == EBADMSG, "answer to a Via-less request (%d)",
		      err);
		return mem_deref(mb);
	}

	CHECK(err == 0, "kar_reply_encode(%d) failed: %d", reply, err);

	return mb;
}


static bool same(const struct mbuf *a, const struct mbuf *b)
{
	return a->end == b->end && !memcmp(a->buf, b->buf, a->end);
}


static void check_reply(const struct sip_msg *msg,
			const struct sip_msg *again, enum kar_reply reply)
{
	struct mbuf *mb, *mb2, *mb3;
	struct sip_msg *resp = NULL;
	uint16_t scode;
	int err;

	mb = encode(msg, reply);
	if (!mb)
		return;

	mb2 = encode(msg, reply);
	CHECK(same(mb, mb2), "two encodings differ (reply %d)", reply);

	/* A retransmission: the same bytes decoded once more */
	if (again) {
		mb3 = encode(again, reply);
		CHECK(same(mb, mb3), "retransmission answered differently"
		      " (reply %d)", reply);
		mem_deref(mb3);
	}

	mb->pos = 0;
	err = sip_msg_decode(&resp, mb);
	CHECK(err == 0, "the answer does not decode (%d):\n%b", err,
	      mb->buf, mb->end);

	kar_reply_status(reply, &scode, NULL);
	CHECK(!resp->req && resp->scode == scode,
	      "answer status %u, expected %u", resp->scode, scode);

	/* Only a To header the request had can carry the module's tag */
	if (ref_first(msg, "To", "t"))
		CHECK(pl_isset(&resp->to.tag), "answer without To tag:\n%b",
		      mb->buf, mb->end);

	/* RFC 3261 11.2: the SDP exactly where Accept admits it */
	if (reply == KAR_R_OPTIONS_OK) {
		bool body = sip_msg_hdr(resp, SIP_HDR_CONTENT_TYPE) != NULL;

		CHECK(body == kar_sdp_accepted(view(msg)), "SDP %d, Accept"
		      " says %d:\n%b", body, !body, mb->buf, mb->end);
		CHECK(mbuf_get_left(resp->mb) == pl_u32(&resp->clen),
		      "Content-Length %r, body %zu", &resp->clen,
		      mbuf_get_left(resp->mb));
	}

	mem_deref(resp);
	mem_deref(mb2);
	mem_deref(mb);
}


/*
 * Validation, against a plain reference on the raw header lines
 */

static bool all_digits(const struct pl *pl, uint64_t *v)
{
	size_t i;

	*v = 0;
	if (!pl->l || pl->l > 10)
		return false;

	for (i = 0; i < pl->l; i++) {
		if (pl->p[i] < '0' || pl->p[i] > '9')
			return false;
		*v = *v * 10 + (uint64_t)(pl->p[i] - '0');
	}

	return *v <= UINT32_MAX;
}


/* Every comma-separated coding is identity (or empty) */
static bool identity_only(const struct pl *val)
{
	struct pl rest = *val, tok;

	while (rest.l) {
		const char *c = memchr(rest.p, ',', rest.l);

		tok.p = rest.p;
		tok.l = c ? (size_t)(c - rest.p) : rest.l;
		rest.p += tok.l + (c ? 1 : 0);
		rest.l -= tok.l + (c ? 1 : 0);

		while (tok.l && strchr(" \t\r\n", tok.p[0])) {
			++tok.p;
			--tok.l;
		}
		while (tok.l && strchr(" \t\r\n", tok.p[tok.l - 1]))
			--tok.l;

		if (tok.l && pl_strcasecmp(&tok, "identity"))
			return false;
	}

	return true;
}


/* Does the request fail one of the checks, judged apart from
   validate.c?  (Folded or comma-joined lines are whole here.) */
static bool ref_invalid(const struct sip_msg *msg, bool summary)
{
	const struct le *le;
	const struct sip_hdr *cseq_hdr = NULL;
	size_t cseqs = 0, clens = 0, i;
	uint64_t clen = 0;
	bool clen_bad = false, require = false, encoded = false;
	const struct sip_hdr *ctype_hdr = NULL;
	size_t ctypes = 0;
	struct msg_ctype ctyp;
	struct sip_cseq cseq;
	struct pl scheme;
	const char *colon;

	for (le = msg->hdrl.head; le; le = le->next) {

		const struct sip_hdr *hdr = le->data;

		if (named(hdr, "CSeq", NULL) && !cseqs++)
			cseq_hdr = hdr;

		if (named(hdr, "Content-Length", "l")) {
			++clens;
			if (!all_digits(&hdr->val, &clen))
				clen_bad = true;
		}

		if (named(hdr, "Content-Type", "c") && !ctypes++)
			ctype_hdr = hdr;

		if (named(hdr, "Content-Encoding", "e") &&
		    !identity_only(&hdr->val))
			encoded = true;

		if (named(hdr, "Require", NULL)) {
			for (i = 0; i < hdr->val.l; i++) {
				char c = hdr->val.p[i];

				if (c != ',' && c != ' ' && c != '\t' &&
				    c != '\r' && c != '\n')
					require = true;
			}
		}
	}

	if (clens > 1 || clen_bad ||
	    (clens && clen > mbuf_get_left(msg->mb)))
		return true;

	/* the CSeq header's own value: libre's msg->cseq is taken from
	   any header whose name hashes like "CSeq" */
	if (cseqs != 1 || sip_cseq_decode(&cseq, &cseq_hdr->val) ||
	    pl_cmp(&cseq.met, &msg->met))
		return true;

	colon = memchr(msg->ruri.p, ':', msg->ruri.l);
	scheme.p = msg->ruri.p;
	scheme.l = colon ? (size_t)(colon - msg->ruri.p) : msg->ruri.l;
	if (pl_strcasecmp(&scheme, "sip") && pl_strcasecmp(&scheme, "sips"))
		return true;

	if (require)
		return true;

	if (!summary || !(clens ? clen : mbuf_get_left(msg->mb)))
		return false;

	/* one Content-Type, its own value: libre's msg->ctyp is taken
	   from any header whose name hashes like it */
	return ctypes != 1 || msg_ctype_decode(&ctyp, &ctype_hdr->val) ||
		!msg_ctype_cmp(&ctyp, "application",
			       "simple-message-summary") || encoded;
}


/* What the listeners answer after validation, and its properties */
static enum kar_reply check_validate(const struct sip_msg *msg,
				     enum kar_reply reply, bool summary)
{
	enum kar_reply bad = kar_validate(view(msg), summary);
	enum kar_reply final = bad != KAR_R_NONE ? bad : reply;
	uint16_t scode;

	CHECK((size_t)bad < KAR_R_N, "validation reply %d", bad);

	kar_reply_status(final, &scode, NULL);

	if (ref_invalid(msg, summary))
		CHECK(scode >= 300, "an invalid %r answered %u", &msg->met,
		      scode);

	if (bad != KAR_R_NONE)
		CHECK(scode >= 400, "validation error %d is %u", bad, scode);

	return final;
}


/*
 * Per-source rate limiter
 */

static void other_source(struct sa *sa, const struct sa *src, uint32_t i)
{
	uint8_t a6[16];

	if (sa_af(src) == AF_INET6) {
		sa_in6(src, a6);
		a6[15] ^= (uint8_t)(i + 1);
		a6[14] ^= (uint8_t)((i + 1) >> 8);
		sa_set_in6(sa, a6, sa_port(src));
	}
	else {
		sa_set_in(sa, sa_in(src) ^ (i + 1), sa_port(src));
	}
}


static void check_rate(const struct sa *src, uint8_t seed)
{
	struct kar_rate *r = NULL;
	uint32_t rate = 1 + seed % 8;
	uint64_t now = 1000 + seed * 37;
	struct sa other;
	uint32_t i;

	CHECK(!kar_rate_alloc(&r, rate, RATE_SLOTS, seed * 0x9e37ULL),
	      "kar_rate_alloc");

	/* A new source gets the burst, then nothing at the same instant */
	for (i = 0; i < 2 * rate; i++)
		CHECK(kar_rate_take(r, src, now), "token %u of %u refused",
		      i + 1, 2 * rate);
	CHECK(!kar_rate_take(r, src, now), "more than a burst (%u)",
	      2 * rate);

	/* One second later: rate tokens more */
	now += 1000;
	for (i = 0; i < rate; i++)
		CHECK(kar_rate_take(r, src, now), "refill %u refused", i);
	CHECK(!kar_rate_take(r, src, now), "refill beyond the rate");

	/* More sources than slots evict it: it starts afresh */
	for (i = 0; i < RATE_SLOTS; i++) {
		other_source(&other, src, i);
		CHECK(kar_rate_take(r, &other, now), "new source refused");
	}
	CHECK(kar_rate_take(r, src, now), "evicted source refused");

	mem_deref(r);
}


/*
 * Trusted sources, against a plain reference of FUZZ_ACL
 */

static bool acl_reference(const struct sa *src)
{
	static const uint8_t mapped[12] = {0,0,0,0,0,0,0,0,0,0,0xff,0xff};
	uint8_t a[16];
	uint32_t v4;

	if (sa_af(src) == AF_INET) {
		v4 = sa_in(src);
	}
	else {
		sa_in6(src, a);
		if (memcmp(a, mapped, sizeof(mapped))) {
			static const uint8_t lo[16] = {0,0,0,0,0,0,0,0,
						       0,0,0,0,0,0,0,1};

			return !memcmp(a, lo, 16) ||
				(a[0] == 0x20 && a[1] == 0x01 &&
				 a[2] == 0x0d && a[3] == 0xb8) ||
				(a[0] == 0xfe && (a[1] & 0xc0) == 0x80);
		}
		v4 = (uint32_t)a[12] << 24 | (uint32_t)a[13] << 16 |
			(uint32_t)a[14] << 8 | a[15];
	}

	return (v4 >> 24) == 127 || (v4 >> 24) == 10 || v4 == 0xc0000201;
}


static void check_guard(const struct sip_msg *msg, uint8_t seed)
{
	CHECK(!kar_uafilter_match(&fz.nodrop, view(msg)),
	      "empty filter matched");
	(void)kar_uafilter_match(&fz.drop, view(msg));

	CHECK(kar_acl_match(&fz.anyone, &msg->src), "empty ACL refused");
	CHECK(kar_acl_match(&fz.acl, &msg->src) == acl_reference(&msg->src),
	      "ACL says %d for %j", !acl_reference(&msg->src), &msg->src);

	check_rate(&msg->src, seed);
}


/*
 * One request, as the head listener would see it
 */

static void handle(const struct sip_msg *msg, const struct sip_msg *again,
		   uint8_t seed)
{
	static kar_ua_match_h *uah[] = {NULL, ua_none, ua_all, ua_alice};
	struct kar_stats st;
	struct kar_verdict v;
	struct kar_policy pol;
	struct pl body;
	bool summary;
	size_t i, m;
	int r;

	kar_stats_reset(&st, 0);

	/* shared, exclusive, and both again while draining */
	for (m = 0; m < 4; m++) {
		for (i = 0; i < ARRAY_SIZE(uah); i++) {

			memset(&pol, 0, sizeof(pol));
			pol.exclusive = (m & 1) != 0;
			pol.drain = m >= 2;
			pol.stock_fallback = (i & 1) != 0;
			pol.events = &fz.events;
			pol.uah = uah[i];
			pol.arg = NULL;

			kar_policy_decide(&v, &pol, view(msg));
			check_verdict(&v, &pol, msg);

			kar_stats_count(&st, &v, KAR_C_PASSED);
			if (v.reply == KAR_R_NONE)
				continue;

			/* The head listener: a message-summary 200 reads
			   the body */
			summary = v.reply == KAR_R_NOTIFY_OK &&
				kar_pkg_of(fz.events.name[v.pkg]) ==
				KAR_PKG_MWI;
			check_reply(msg, again,
				    check_validate(msg, v.reply, summary));
		}
	}

	/* The tail listener's 405 (exclusive mode) */
	(void)check_validate(msg, KAR_R_NOT_ALLOWED, false);

	/* What the module would do with the body of a message-summary */
	if (v.meth == KAR_M_NOTIFY) {
		body.p = (const char *)mbuf_buf(msg->mb);
		body.l = mbuf_get_left(msg->mb);
		(void)kar_mwi_check(&body);
	}

	/* The tail listener answers 405; the actions 400, 481, 500 */
	for (r = KAR_R_NONE + 1; r < KAR_R_N; r++)
		check_reply(msg, again, (enum kar_reply)r);

	check_guard(msg, seed);
}


static int decode(struct sip_msg **msgp, const uint8_t *p, size_t n,
		  const struct sa *src)
{
	struct mbuf *mb;
	int err;

	mb = mbuf_alloc(n ? n : 1);
	if (!mb)
		return ENOMEM;

	(void)mbuf_write_mem(mb, p, n);
	mb->pos = 0;

	err = sip_msg_decode(msgp, mb);
	mem_deref(mb);
	if (err)
		return err;

	(*msgp)->src = *src;
	sa_set_str(&(*msgp)->dst, "127.0.0.1", 5060);
	(*msgp)->tp = SIP_TRANSP_UDP;

	return 0;
}


/* As libre's TCP transport: the message ends Content-Length bytes after
   the headers; without Content-Length the connection is closed */
static bool tcp_frame(struct sip_msg *msg)
{
	uint32_t clen;

	if (!msg->clen.p)
		return false;

	clen = pl_u32(&msg->clen);
	if (mbuf_get_left(msg->mb) < clen)
		return false;

	msg->mb->end = msg->mb->pos + clen;
	msg->tp = SIP_TRANSP_TCP;

	return true;
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sip_msg *msg = NULL, *again = NULL;
	const uint8_t *nl, *wire = data;
	size_t linel = 0, wirel = size;
	struct sa src;
	uint8_t seed = size ? data[size - 1] : 0;

	nl = memchr(data, '\n', size < LINE_MAX_ADDR ? size : LINE_MAX_ADDR);
	if (nl) {
		linel = nl - data;
		if (linel && data[linel - 1] == '\r')
			--linel;
		wire = nl + 1;
		wirel = size - (wire - data);
	}

	src_from(&src, data, linel);

	if (decode(&msg, wire, wirel, &src))
		return 0;

	/* Only requests reach the module's (request) listeners */
	if (!msg->req)
		goto out;

	if (decode(&again, wire, wirel, &src))
		CHECK(0, "the same bytes decode once only");

	handle(msg, again, seed);

	if (tcp_frame(msg) && tcp_frame(again))
		handle(msg, again, seed);

 out:
	mem_deref(again);
	mem_deref(msg);

	return 0;
}
