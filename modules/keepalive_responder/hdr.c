/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file hdr.c  keepalive_responder -- a request, read once, by name
 *
 * The head listener reads each request here once, into a small view:
 * the method, the To tag, the top Via, and the first header and the
 * count of every header the module reads.  Every later stage (decision,
 * guard, rate limit, watch, checks, actions, answer) takes that view;
 * the tail listener reads a request again for its answer.
 *
 * libre files a header under its id, a 12-bit hash of the name: a
 * header whose name only collides with the one asked for ("Abcgg" with
 * "CSeq") has that id as well.  What the view holds, and the headers an
 * answer copies, come from headers of the right name only, and this is
 * the one file of the decoded message that tells them apart.  libre's
 * own fields (msg->callid, msg->cseq, msg->from, msg->via) are still
 * read where a namesake does no harm: the watch's fingerprint, the To
 * tag's hash, the call lookup, the guard's test for any Via at all.
 * Also here: the method predicates and a small writer.  Pure: libre
 * only.
 */
#include <string.h>
#include <re.h>
#include "kar.h"


/* Every header whose name the module compares, long and compact form
   (an empty compact form: none) */
static const struct {
	enum sip_hdrid id;
	struct pl name;
	struct pl compact;
} names[] = {
	{SIP_HDR_ACCEPT,           PL("Accept"),           PL("")},
	{SIP_HDR_CALL_ID,          PL("Call-ID"),          PL("i")},
	{SIP_HDR_CONTENT_ENCODING, PL("Content-Encoding"), PL("e")},
	{SIP_HDR_CONTENT_LENGTH,   PL("Content-Length"),   PL("l")},
	{SIP_HDR_CONTACT,          PL("Contact"),          PL("m")},
	{SIP_HDR_CONTENT_TYPE,     PL("Content-Type"),     PL("c")},
	{SIP_HDR_CSEQ,             PL("CSeq"),             PL("")},
	{SIP_HDR_EVENT,            PL("Event"),            PL("o")},
	{SIP_HDR_EXPIRES,          PL("Expires"),          PL("")},
	{SIP_HDR_FROM,             PL("From"),             PL("f")},
	{SIP_HDR_REQUIRE,          PL("Require"),          PL("")},
	{SIP_HDR_TO,               PL("To"),               PL("t")},
	{SIP_HDR_USER_AGENT,       PL("User-Agent"),       PL("")},
	{SIP_HDR_VIA,              PL("Via"),              PL("v")},
};


static const char *method_names[KAR_M_N] = {"OPTIONS", "NOTIFY", "other"};


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

		/* pl_casecmp() compares the lengths first */
		return !pl_casecmp(&hdr->name, &names[i].name) ||
			(names[i].compact.l &&
			 !pl_casecmp(&hdr->name, &names[i].compact));
	}

	return false;
}


/**
 * The next header of the same name, in the order of the message
 *
 * libre files each element of a comma list (Accept, Require, ...) under
 * its id as a header of its own, but keeps only the whole line in the
 * message's list (Via and Route: each element in both): the view and
 * this walk the headers by id.
 *
 * @param hdr A header the module reads (from a view, or from this)
 *
 * @return The next one, or NULL
 */
const struct sip_hdr *kar_hdr_next(const struct sip_hdr *hdr)
{
	const struct le *le;

	if (!hdr)
		return NULL;

	for (le = hdr->he.next; le; le = le->next) {
		if (kar_hdr_is(le->data, hdr->id))
			return le->data;
	}

	return NULL;
}


/**
 * The first header of a name in a message, and how many it has
 *
 * For what the view does not hold: the headers of responses.
 *
 * @param msg   SIP message
 * @param id    Header id (one of those the module reads)
 * @param first The first of them, NULL if none (optional)
 *
 * @return How many headers of that name the message has
 */
uint32_t kar_hdr_count(const struct sip_msg *msg, enum sip_hdrid id,
		       const struct sip_hdr **first)
{
	const struct sip_hdr *hdr = NULL, *h;
	const struct le *le;
	uint32_t n = 0;

	le = msg ? list_head(hash_list(msg->hdrht, id)) : NULL;
	for (; le; le = le->next) {

		h = le->data;
		if (!kar_hdr_is(h, id))
			continue;

		if (!n++)
			hdr = h;
	}

	if (first)
		*first = hdr;

	return n;
}


/* The header ids of the view's slots */
static const enum sip_hdrid slot_id[KAR_H_N] = {
	[KAR_H_ACCEPT]           = SIP_HDR_ACCEPT,
	[KAR_H_CONTENT_ENCODING] = SIP_HDR_CONTENT_ENCODING,
	[KAR_H_CONTENT_LENGTH]   = SIP_HDR_CONTENT_LENGTH,
	[KAR_H_CONTENT_TYPE]     = SIP_HDR_CONTENT_TYPE,
	[KAR_H_CSEQ]             = SIP_HDR_CSEQ,
	[KAR_H_EVENT]            = SIP_HDR_EVENT,
	[KAR_H_REQUIRE]          = SIP_HDR_REQUIRE,
	[KAR_H_TO]               = SIP_HDR_TO,
	[KAR_H_USER_AGENT]       = SIP_HDR_USER_AGENT,
	[KAR_H_VIA]              = SIP_HDR_VIA,
};


/* Is part set and within whole? */
static bool pl_within(const struct pl *part, const struct pl *whole)
{
	return part->p && part->p >= whole->p &&
		part->p + part->l <= whole->p + whole->l;
}


/* The top Via.  libre decodes msg->via from the first header of Via's
   id, a namesake included, and drops a message whose decode fails: when
   that header is the first real Via, msg->via is its decode. */
static bool read_via(struct sip_via *via, const struct sip_msg *msg,
		     const struct sip_hdr *hdr)
{
	if (!hdr)
		return false;

	if (hdr->val.p == msg->via.val.p) {
		*via = msg->via;
		return true;
	}

	return !sip_via_decode(via, &hdr->val);
}


/* The To tag of the first To.  libre decodes msg->to from every header
   of To's id, the last one winning, and its tag may be left from an
   earlier one that had a tag: use it only from this header. */
static void read_totag(struct pl *tag, const struct sip_msg *msg,
		       const struct sip_hdr *hdr)
{
	struct sip_addr addr;

	*tag = pl_null;

	if (!hdr)
		return;

	if (hdr->val.p == msg->to.val.p &&
	    (!pl_isset(&msg->to.tag) || pl_within(&msg->to.tag, &hdr->val)))
		*tag = msg->to.tag;
	else if (!sip_addr_decode(&addr, &hdr->val))
		(void)msg_param_decode(&addr.params, "tag", tag);
}


/**
 * Read a request once: what every later stage of the module needs
 *
 * @param rq   View (output)
 * @param msg  Decoded SIP request
 * @param ownh Does a local UA own the Request-URI user (NULL: none)?
 *             Asked only when there is a user part.
 * @param arg  Its argument
 */
void kar_req_read(struct kar_req *rq, const struct sip_msg *msg,
		  kar_ua_match_h *ownh, void *arg)
{
	int slot;

	if (!rq)
		return;

	memset(rq, 0, sizeof(*rq));
	rq->msg = msg;
	rq->meth = KAR_M_OTHER;

	if (!msg)
		return;

	rq->meth = kar_method_of(&msg->met);
	rq->invite_txn = kar_method_invite_txn(&msg->met);

	for (slot = 0; slot < KAR_H_N; slot++) {
		rq->hdr[slot].n = kar_hdr_count(msg, slot_id[slot],
						&rq->hdr[slot].first);
	}

	rq->has_via = read_via(&rq->via, msg, rq->hdr[KAR_H_VIA].first);
	read_totag(&rq->totag, msg, rq->hdr[KAR_H_TO].first);

	rq->owned = pl_isset(&msg->uri.user) && ownh && ownh(msg, arg);
}


/**
 * The class of a method (names are case-sensitive, RFC 3261 7.1)
 *
 * @param met Method name
 *
 * @return KAR_M_OPTIONS, KAR_M_NOTIFY or KAR_M_OTHER
 */
enum kar_method kar_method_of(const struct pl *met)
{
	if (!pl_strcmp(met, "OPTIONS"))
		return KAR_M_OPTIONS;

	if (!pl_strcmp(met, "NOTIFY"))
		return KAR_M_NOTIFY;

	return KAR_M_OTHER;
}


/**
 * Is the method ACK or CANCEL?  Both belong to an INVITE's transaction:
 * ACK is never answered, CANCEL is answered for its INVITE, and neither
 * names anything a listener would answer on its own.
 *
 * @param met Method name (case-sensitive, RFC 3261 7.1)
 *
 * @return true if ACK or CANCEL
 */
bool kar_method_invite_txn(const struct pl *met)
{
	return !pl_strcmp(met, "ACK") || !pl_strcmp(met, "CANCEL");
}


/**
 * The name of a method class, as the counters print it
 *
 * @param meth Method class
 *
 * @return "OPTIONS", "NOTIFY", "other", or "?"
 */
const char *kar_method_name(enum kar_method meth)
{
	return (size_t)meth < KAR_M_N ? method_names[meth] : "?";
}


/**
 * Write the decimal digits of a number, without a formatting pass
 *
 * @param mb Buffer to write to
 * @param v  Number
 *
 * @return 0 if success, otherwise errorcode
 */
int kar_write_u32(struct mbuf *mb, uint32_t v)
{
	char buf[10];
	size_t i = sizeof(buf);

	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);

	return mbuf_write_mem(mb, (uint8_t *)buf + i, sizeof(buf) - i);
}
