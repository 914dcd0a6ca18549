/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file reply.c  keepalive_responder -- the module's answers
 *
 * The module answers without a server transaction.  libre would keep
 * each non-INVITE server transaction for 32 s (UDP) in baresip's small
 * hash tables, so a prober at a few thousand requests per second would
 * make every request dearer than the last.  Instead a retransmission
 * simply reaches the module again and gets the same bytes: the To tag is
 * a keyed hash of what identifies the request (RFC 3261 8.2.7), not a
 * random number as in libre's own stateless replies.
 *
 * Every answer, stateless or not, is encoded here, so all carry the same
 * set of headers (docs/design.md, "Answers").  Header blocks that do not
 * depend on the request are formatted once, at load time.
 */
#include <string.h>
#include <re.h>
#include "kar.h"


/*
 * Methods the endpoint handles: what baresip 1.x's core advertises for
 * an account that allows REFER.  Later versions add UPDATE and make
 * SUBSCRIBE, PRACK and REFER depend on their configuration, which the
 * module does not read; the list stays the 1.x one.
 */
static const char *allow_methods[] = {
	"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "NOTIFY",
	"SUBSCRIBE", "INFO", "MESSAGE", "REFER",
};


struct kar_replies {
	char *hdrs[KAR_R_N];     /**< request-independent headers        */
	struct mbuf *mb;         /**< reused between requests            */
	uint64_t secret;         /**< keys the To tag                    */
	struct kar_sdp *sdp;     /**< OPTIONS 200 body, or NULL          */
};


static const struct {
	uint16_t scode;
	const char *reason;
} status[KAR_R_N] = {
	[KAR_R_NONE]         = {0,   NULL},
	[KAR_R_OPTIONS_OK]   = {200, "OK"},
	[KAR_R_NOTIFY_OK]    = {200, "OK"},
	[KAR_R_BAD_EVENT]    = {489, "Bad Event"},
	[KAR_R_NO_EVENT]     = {400, "Missing Event Header"},
	[KAR_R_EVENT_SYNTAX] = {400, "Bad Event Header"},
	[KAR_R_NOT_ALLOWED]  = {405, "Method Not Allowed"},
	[KAR_R_BAD_SUMMARY]  = {400, "Bad message-summary Body"},
	[KAR_R_NO_CALL]      = {481, "Call/Transaction Does Not Exist"},
	[KAR_R_FAILED]       = {500, "Server Internal Error"},
	[KAR_R_BAD_CLEN]     = {400, "Bad Content-Length Header"},
	[KAR_R_BAD_CSEQ]     = {400, "Bad CSeq Header"},
	[KAR_R_BAD_SCHEME]   = {416, "Unsupported URI Scheme"},
	[KAR_R_BAD_EXTENSION] = {420, "Bad Extension"},
	[KAR_R_BAD_MEDIA]    = {415, "Unsupported Media Type"},
	[KAR_R_DRAIN]        = {503, "Service Unavailable"},
};


static void destructor(void *arg)
{
	struct kar_replies *r = arg;
	size_t i;

	for (i = 0; i < KAR_R_N; i++)
		mem_deref(r->hdrs[i]);

	mem_deref(r->mb);
}


static int print_allow(struct re_printf *pf, const struct pl *skip)
{
	size_t i;
	int err = 0;
	bool first = true;

	for (i = 0; i < ARRAY_SIZE(allow_methods); i++) {

		if (skip && !pl_strcmp(skip, allow_methods[i]))
			continue;

		err |= re_hprintf(pf, "%s%s", first ? "" : ", ",
				  allow_methods[i]);
		first = false;
	}

	return err;
}


static int print_allow_events(struct re_printf *pf,
			      const struct kar_events *ev)
{
	/* Allow-Events needs at least one package (RFC 6665 8.2.2) */
	if (!ev || !ev->n)
		return 0;

	return re_hprintf(pf, "Allow-Events: %H\r\n", kar_events_print, ev);
}


/**
 * Allocate the reply set and format its fixed header blocks
 *
 * @param rp     Allocated reply set
 * @param ev     Accepted event packages (for Allow-Events)
 * @param secret Key of the To tag hash
 *
 * @return 0 if success, otherwise errorcode
 */
int kar_replies_alloc(struct kar_replies **rp, const struct kar_events *ev,
		      uint64_t secret)
{
	struct kar_replies *r;
	int err;

	if (!rp)
		return EINVAL;

	r = mem_zalloc(sizeof(*r), destructor);
	if (!r)
		return ENOMEM;

	r->secret = secret;

	/* RFC 3261 11.2: what an OPTIONS answer should tell the prober.
	   No Supported: the core's extensions (gruu, outbound, path,
	   100rel, replaces) belong to accounts and baresip versions, not
	   to the device, and may be left out (RFC 3261 20.37). */
	err = re_sdprintf(&r->hdrs[KAR_R_OPTIONS_OK],
			  "Allow: %H\r\n"
			  "Accept: application/sdp,"
			  " application/simple-message-summary\r\n"
			  "Accept-Encoding: identity\r\n"
			  "Accept-Language: en\r\n"
			  "%H",
			  print_allow, NULL, print_allow_events, ev);
	err |= re_sdprintf(&r->hdrs[KAR_R_BAD_EVENT], "%H",
			   print_allow_events, ev);

	/* RFC 3261 21.4.13: what the module can read where it reads a
	   body at all (message-summary NOTIFYs) */
	err |= re_sdprintf(&r->hdrs[KAR_R_BAD_MEDIA],
			   "Accept: application/simple-message-summary\r\n"
			   "Accept-Encoding: identity\r\n");
	err |= kar_replies_retry(r, KAR_RETRY_DEFAULT);
	if (err)
		goto out;

	r->mb = mbuf_alloc(512);
	if (!r->mb)
		err = ENOMEM;

 out:
	if (err)
		mem_deref(r);
	else
		*rp = r;

	return err;
}


/**
 * Set the capability SDP of OPTIONS answers
 *
 * @param r   Reply set
 * @param sdp Formatted SDP (the caller keeps it alive), NULL for none
 */
void kar_replies_sdp(struct kar_replies *r, struct kar_sdp *sdp)
{
	if (r)
		r->sdp = sdp;
}


/**
 * Set the Retry-After of the drain answer (503)
 *
 * @param r    Reply set
 * @param secs Seconds, 1 to KAR_RETRY_MAX
 *
 * @return 0 if success, otherwise errorcode
 */
int kar_replies_retry(struct kar_replies *r, uint32_t secs)
{
	char *hdr = NULL;
	int err;

	if (!r || !secs || secs > KAR_RETRY_MAX)
		return EINVAL;

	/* Formatted here, once: the answer to a retransmission must be
	   the same bytes (RFC 3261 8.2.7) */
	err = re_sdprintf(&hdr, "Retry-After: %u\r\n", secs);
	if (err)
		return err;

	mem_deref(r->hdrs[KAR_R_DRAIN]);
	r->hdrs[KAR_R_DRAIN] = hdr;

	return 0;
}


/**
 * Status code and reason phrase of an answer
 *
 * @param reply  Which answer
 * @param scode  Status code (output, 0 for none; optional)
 * @param reason Reason phrase (output, NULL for none; optional)
 */
void kar_reply_status(enum kar_reply reply, uint16_t *scode,
		      const char **reason)
{
	if ((size_t)reply >= KAR_R_N)
		reply = KAR_R_NONE;

	if (scode)
		*scode = status[reply].scode;
	if (reason)
		*reason = status[reply].reason;
}


/* FNV-1a, 64 bit: fast, and keyed by the secret it cannot be predicted
   from outside, so a tag cannot be forged for somebody else's request */
static uint64_t fnv_u64(uint64_t h, uint64_t v)
{
	size_t i;

	for (i = 0; i < 8; i++) {
		h ^= (uint8_t)(v >> (8 * i));
		h *= 0x100000001b3ULL;
	}

	return h;
}


static uint64_t fnv_pl(uint64_t h, const struct pl *pl)
{
	size_t i;

	for (i = 0; pl && i < pl->l; i++) {
		h ^= (uint8_t)pl->p[i];
		h *= 0x100000001b3ULL;
	}

	/* A separator, so that ("ab","c") and ("a","bc") differ */
	h ^= 0xff;
	h *= 0x100000001b3ULL;

	return h;
}


/*
 * The To tag of the module's answer to a request: derived from Call-ID,
 * From tag, CSeq, Via branch (libre's: the first header of Via's id)
 * and method, so a retransmission gets the same tag and a new request
 * another one.
 */
static uint64_t reply_totag(const struct kar_replies *r,
			    const struct sip_msg *msg)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	h = fnv_u64(h, r->secret);
	h = fnv_u64(h, msg->cseq.num);
	h = fnv_pl(h, &msg->callid);
	h = fnv_pl(h, &msg->from.tag);
	h = fnv_pl(h, &msg->via.branch);
	h = fnv_pl(h, &msg->met);

	return h;
}


/*
 * Find a Via parameter by name: the span from its ';' up to the next ';'
 * or the end, value included.  (libre's msg_param_exists() is a regular
 * expression per call and leaves a value behind.)
 */
static bool param_find(const struct pl *params, const char *name,
		       struct pl *span)
{
	size_t nlen = strlen(name);
	const char *p = params->p, *end = params->p + params->l;

	while (p < end) {
		const char *start = memchr(p, ';', end - p);
		const char *n, *next;
		struct pl cand;

		if (!start)
			return false;

		for (n = start + 1; n < end && (*n == ' ' || *n == '\t'); ++n)
			;

		next = memchr(start + 1, ';', end - start - 1);
		if (!next)
			next = end;

		cand.p = n;
		cand.l = nlen;

		if ((size_t)(next - n) >= nlen &&
		    !pl_strcasecmp(&cand, name) &&
		    (n + nlen == next || n[nlen] == '=' || n[nlen] == ' ' ||
		     n[nlen] == '\t')) {
			span->p = start;
			span->l = next - start;
			return true;
		}

		p = next;
	}

	return false;
}


/* The top Via gets received/rport as RFC 3261 18.2.1 and RFC 3581 say */
static int write_top_via(struct mbuf *mb, const struct sip_hdr *hdr,
			 const struct sip_via *via, const struct sa *src,
			 bool *rportp)
{
	struct pl rp;
	bool rport;
	int err;

	err = mbuf_write_pl(mb, &hdr->name);
	err |= mbuf_write_str(mb, ": ");

	rport = param_find(&via->params, "rport", &rp);
	if (rport) {
		err |= mbuf_write_pl_skip(mb, &hdr->val, &rp);
		err |= mbuf_write_str(mb, ";rport=");
		err |= kar_write_u32(mb, sa_port(src));
	}
	else {
		err |= mbuf_write_pl(mb, &hdr->val);
	}

	if (rport || !sa_cmp(src, &via->addr, SA_ADDR)) {
		char addr[64];

		if (sa_ntop(src, addr, sizeof(addr)))
			return EINVAL;

		err |= mbuf_write_str(mb, ";received=");
		err |= mbuf_write_str(mb, addr);
	}

	err |= mbuf_write_str(mb, "\r\n");

	*rportp = rport;

	return err;
}


static int write_hdr(struct mbuf *mb, const struct sip_hdr *hdr)
{
	int err;

	err  = mbuf_write_pl(mb, &hdr->name);
	err |= mbuf_write_str(mb, ": ");
	err |= mbuf_write_pl(mb, &hdr->val);
	err |= mbuf_write_str(mb, "\r\n");

	return err;
}


static int write_to(struct mbuf *mb, const struct kar_replies *r,
		    const struct sip_hdr *hdr, const struct sip_msg *msg,
		    bool tagged)
{
	int err;

	err  = mbuf_write_pl(mb, &hdr->name);
	err |= mbuf_write_str(mb, ": ");
	err |= mbuf_write_pl(mb, &hdr->val);

	if (!tagged) {
		static const char hex[] = "0123456789abcdef";
		uint64_t tag = reply_totag(r, msg);
		char buf[5 + 16];
		int i;

		memcpy(buf, ";tag=", 5);
		for (i = 0; i < 16; i++)
			buf[5 + i] = hex[(tag >> (60 - 4 * i)) & 0xf];

		err |= mbuf_write_mem(mb, (uint8_t *)buf, sizeof(buf));
	}

	err |= mbuf_write_str(mb, "\r\n");

	return err;
}


/* RFC 3261 8.2.2.3: the option tags a 420 does not support (all of
   them: the module supports none), comma-separated */
static int print_unsupported(struct re_printf *pf, const struct kar_req *rq)
{
	const struct sip_hdr *hdr;
	bool first = true;
	int err = 0;

	for (hdr = rq->hdr[KAR_H_REQUIRE].first; hdr && !err;
	     hdr = kar_hdr_next(hdr)) {

		if (!pl_isset(&hdr->val))
			continue;

		err = re_hprintf(pf, "%s%r", first ? "" : ", ", &hdr->val);
		first = false;
	}

	return err;
}


/* The capability SDP, when the request admits it and the transport gave
   a local address to name in it (RFC 3261 11.2) */
static int write_body(struct mbuf *mb, const struct kar_replies *r,
		      const struct kar_req *rq, enum kar_reply reply)
{
	static const char ctype[] = "Content-Type: application/sdp\r\n"
		"Content-Length: ";
	const struct sa *laddr = &rq->msg->dst;
	size_t len;
	int err;

	if (reply != KAR_R_OPTIONS_OK || !r->sdp || !kar_sdp_accepted(rq) ||
	    kar_sdp_length(r->sdp, laddr, &len))
		return mbuf_write_str(mb, "Content-Length: 0\r\n\r\n");

	err  = mbuf_write_mem(mb, (const uint8_t *)ctype, sizeof(ctype) - 1);
	err |= kar_write_u32(mb, (uint32_t)len);
	err |= mbuf_write_mem(mb, (const uint8_t *)"\r\n\r\n", 4);
	err |= kar_sdp_encode(mb, r->sdp, laddr);

	return err;
}


/* Status line, the request's own headers (by name: a namesake of one
   is not copied), the answer's headers, the body or its absence */
static int encode(struct mbuf *mb, const struct kar_replies *r,
		  const struct kar_req *rq, enum kar_reply reply, bool *rport)
{
	const struct sip_msg *msg = rq->msg;
	const struct le *le;
	bool top = true;
	int err;

	*rport = false;

	err  = mbuf_write_str(mb, "SIP/2.0 ");
	err |= kar_write_u32(mb, status[reply].scode);
	err |= mbuf_write_u8(mb, ' ');
	err |= mbuf_write_str(mb, status[reply].reason);
	err |= mbuf_write_str(mb, "\r\n");

	for (le = msg->hdrl.head; le && !err; le = le->next) {

		const struct sip_hdr *hdr = le->data;

		switch (hdr->id) {

		case SIP_HDR_VIA:
		case SIP_HDR_TO:
		case SIP_HDR_FROM:
		case SIP_HDR_CALL_ID:
		case SIP_HDR_CSEQ:
			if (!kar_hdr_is(hdr, hdr->id))
				break;

			if (hdr->id == SIP_HDR_VIA && top) {
				err = write_top_via(mb, hdr, &rq->via,
						    &msg->src, rport);
				top = false;
			}
			else if (hdr->id == SIP_HDR_TO) {
				err = write_to(mb, r, hdr, msg,
					       pl_isset(&rq->totag));
			}
			else {
				err = write_hdr(mb, hdr);
			}
			break;

		default:
			break;
		}
	}

	if (reply == KAR_R_NOT_ALLOWED) {
		/* Do not advertise the very method that was refused */
		err |= mbuf_printf(mb, "Allow: %H\r\n",
				   print_allow, &msg->met);
	}
	else if (reply == KAR_R_BAD_EXTENSION) {
		err |= mbuf_printf(mb, "Unsupported: %H\r\n",
				   print_unsupported, rq);
	}
	else if (r->hdrs[reply]) {
		err |= mbuf_write_str(mb, r->hdrs[reply]);
	}

	err |= write_body(mb, r, rq, reply);

	return err;
}


/**
 * Encode the module's answer to a request
 *
 * @param mb    Buffer to write to (at its current position)
 * @param r     Reply set
 * @param rq    SIP request, as read at the door
 * @param reply Which answer
 * @param rport Set to true when the request asked for rport (optional)
 *
 * @return 0 if success, EBADMSG for a request without a Via, otherwise
 *         errorcode
 */
int kar_reply_encode(struct mbuf *mb, const struct kar_replies *r,
		     const struct kar_req *rq, enum kar_reply reply,
		     bool *rport)
{
	bool rp;
	int err;

	if (!mb || !r || !rq || !rq->msg || reply <= KAR_R_NONE ||
	    reply >= KAR_R_N)
		return EINVAL;

	if (!rq->has_via)
		return EBADMSG;

	err = encode(mb, r, rq, reply, &rp);

	if (rport)
		*rport = rp;

	return err;
}


/*
 * Where the answer goes (RFC 3261 18.2.2), as libre computes it, but
 * from the request's own top Via: libre's msg->via may be a namesake's
 */
static void reply_addr(struct sa *dst, const struct sip_msg *msg,
		       const struct sip_via *via, bool rport)
{
	struct sip_msg m;

	if (via->val.p == msg->via.val.p) {
		sip_reply_addr(dst, msg, rport);
		return;
	}

	m = *msg;
	m.via = *via;
	sip_reply_addr(dst, &m, rport);
}


/**
 * Send the module's answer to a request
 *
 * Probes are answered statelessly.  A request whose handling did
 * something (an MWI event, a re-registration, an answered call) is
 * answered through a libre server transaction instead: its
 * retransmissions must get the same answer without doing it again, and
 * such requests are rare enough for a transaction to cost nothing.
 * Both carry the same bytes, encoded here.
 *
 * @param r        Reply set
 * @param sip      SIP stack
 * @param rq       SIP request, as read at the door
 * @param reply    Which answer
 * @param stateful Answer through a server transaction
 *
 * @return 0 if success, otherwise errorcode
 */
int kar_reply_send(struct kar_replies *r, struct sip *sip,
		   const struct kar_req *rq, enum kar_reply reply,
		   bool stateful)
{
	const struct sip_msg *msg;
	struct sa dst;
	bool rport;
	int err;

	if (!r || !sip || !rq || !rq->msg || reply <= KAR_R_NONE ||
	    reply >= KAR_R_N)
		return EINVAL;

	msg = rq->msg;

	/* Never answer an ACK (RFC 3261 17.2.1) */
	if (!pl_strcmp(&msg->met, "ACK"))
		return 0;

	if (!rq->has_via)
		return EBADMSG;

	/* The transport, or a transaction, may keep a reference (a TCP
	   connection not writable yet, retransmissions): then the buffer
	   is theirs and we take a new one. */
	if (!r->mb || mem_nrefs(r->mb) > 1) {
		r->mb = mem_deref(r->mb);
		r->mb = mbuf_alloc(512);
		if (!r->mb)
			return ENOMEM;
	}

	mbuf_rewind(r->mb);

	err = encode(r->mb, r, rq, reply, &rport);
	if (err)
		return err;

	r->mb->pos = 0;

	reply_addr(&dst, msg, &rq->via, rport);

	if (stateful) {
		return sip_strans_reply(NULL, sip, msg, &dst,
					status[reply].scode, r->mb);
	}

	return sip_send(sip, msg->sock, msg->tp, &dst, r->mb);
}
