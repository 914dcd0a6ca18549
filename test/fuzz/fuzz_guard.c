/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file fuzz_guard.c  libFuzzer target: datagrams through the guard
 *
 * A sequence of UDP datagrams from a few sources, each taken the way
 * the module takes it on a SIP UDP socket:
 *
 *   - first the module's UDP helper (udpdrop.c), registered on a real
 *     socket bound to 127.0.0.1, gets the datagram before decoding: its
 *     receive handler, as libre holds it (udp_helper_find()), is called
 *     as libre's UDP transport calls it; nothing is sent;
 *   - what it lets through is decoded by sip_msg_decode(), and a request
 *     goes to the head listener's steps: kar_policy_decide(),
 *     kar_udpdrop_watch() with the socket, kar_guard_check().
 *
 * Input format: datagrams separated by NUL bytes; the first byte of
 * each picks the source (bits 0-2: one of eight addresses, two of them
 * trusted, one the endpoint's own server; bits 3-7: the port, which
 * the guard must ignore), the rest is the datagram.  The guard's table
 * is new for every input.
 *
 * Properties checked (abort() with a message when one fails), against
 * a plain model of the documented rules kept per source address:
 *   - the helper drops only datagrams of blocked sources, and counts
 *     each one it drops; of a blocked source it drops every request
 *     that is neither an ACK nor a CANCEL and has no "tag" in it; what
 *     it drops never decodes as a response, an ACK or CANCEL, or a
 *     request with a To tag to the local UA's user (the module swallows
 *     no request of a local UA's dialog);
 *   - a request without a Via is dropped; a request with a To tag to
 *     the local UA passes whatever its User-Agent; a scanner
 *     User-Agent on a request with one Via blocks a source that is
 *     neither trusted nor the own server (reported once: later ones are
 *     just dropped), relayed (more Vias) it is only dropped; trusted
 *     sources and the own server are never blocked;
 *   - requests to users no local UA has count per source, tagged or
 *     not, each distinct user once, and the one that reaches the limit
 *     blocks the source; ACK, CANCEL and dialogs of the local UA pass,
 *     blocked source or not; requests to a local UA's user or without
 *     a user part, trusted sources and the own server pass;
 *   - an in-dialog request is never answered;
 *   - kar_block_count() is the number of sources the model blocked.
 *
 * The limit's window (a minute) and the ban (an hour here) outlast any
 * input, so time plays no part.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <re.h>
#include "kar.h"

#define FUZZ_NAME "fuzz_guard"
#include "fuzz.h"


#define FUZZ_EVENTS  "keep-alive,check-sync,message-summary"
#define FUZZ_DROP_UA "friendly-scanner,sipvicious,sipcli,sip-scan"
#define FUZZ_TRUSTED "127.0.0.1,::1"

enum {
	NSRC      = 8,          /**< sources: bits 0-2 of the first byte */
	LIMIT     = 3,          /**< unknown users that block a source   */
	BAN       = 3600,       /**< s, longer than any input            */
	SLOTS     = 16,         /**< more than NSRC: none is forgotten   */
	MAX_DGRAM = 64,         /**< datagrams looked at per input       */
	/* The module's helper layer (udpdrop.c): lowest, first */
	HELPER_LAYER = -1000,
};

/* Sources; the trusted ones are those of FUZZ_TRUSTED; own: the
   endpoint's server, as servers.c would say */
static const struct {
	const char *addr;
	bool trusted;
	bool own;
} sources[NSRC] = {
	{"127.0.0.2",   false, false},
	{"127.0.0.3",   false, false},
	{"127.0.0.1",   true,  false},
	{"127.0.0.4",   false, true},
	{"2001:db8::1", false, false},
	{"2001:db8::2", false, false},
	{"::1",         true,  false},
	{"2001:db8::3", false, false},
};

/* The start of libre's struct udp_helper, as udpdrop.c reads it (it
   checks this layout when it registers, see kar_udpdrop_ok()) */
struct helper_view {
	struct le le;
	int layer;
	udp_helper_send_h *sendh;
	udp_helper_recv_h *recvh;
};

static struct {
	struct kar_events events;
	struct kar_uafilter drop;
	struct kar_acl trusted;
	struct udp_sock *us;
} fz;


/* What the model knows of one source */
struct model {
	bool blocked;
	struct pl user[LIMIT];   /**< into the input, which outlives msg */
	size_t n;
};


static void cleanup(void)
{
	fz.us = mem_deref(fz.us);
	libre_close();
}


static void udp_recv(const struct sa *src, struct mbuf *mb, void *arg)
{
	(void)src;
	(void)mb;
	(void)arg;
}


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sa local;
	(void)argc;
	(void)argv;

	if (libre_init())
		abort();

	if (sa_set_str(&local, "127.0.0.1", 0) ||
	    udp_listen(&fz.us, &local, udp_recv, NULL) ||
	    kar_events_parse(&fz.events, FUZZ_EVENTS) ||
	    kar_uafilter_parse(&fz.drop, FUZZ_DROP_UA) ||
	    kar_acl_parse(&fz.trusted, FUZZ_TRUSTED, NULL, 0))
		abort();

	atexit(cleanup);

	return 0;
}


/* The one local UA */
static bool ua_alice(const struct sip_msg *msg, void *arg)
{
	(void)arg;
	return !pl_strcmp(&msg->uri.user, "alice");
}


/* The local UA's user, for the helper (host_dialog_maybe() with no
   call in progress: the target has no calls) */
static bool user_alice(const struct pl *user, void *arg)
{
	(void)arg;
	return !pl_strcmp(user, "alice");
}


/* The To tag, read from the header of that name */
static bool ref_totag(const struct sip_msg *msg)
{
	const struct le *le;
	struct sip_addr addr;
	struct pl tag = PL_INIT;

	for (le = msg->hdrl.head; le; le = le->next) {
		const struct sip_hdr *hdr = le->data;

		if (pl_strcasecmp(&hdr->name, "To") &&
		    pl_strcasecmp(&hdr->name, "t"))
			continue;

		if (sip_addr_decode(&addr, &hdr->val))
			return false;

		(void)msg_param_decode(&addr.params, "tag", &tag);
		return pl_isset(&tag);
	}

	return false;
}


static bool ref_invite_txn(const struct sip_msg *msg)
{
	return !pl_strcmp(&msg->met, "ACK") || !pl_strcmp(&msg->met, "CANCEL");
}


/* A dialog of the local UA: a To tag on a request to alice */
static bool ref_local_dialog(const struct sip_msg *msg)
{
	return ua_alice(msg, NULL) && ref_totag(msg);
}


/* In a dialog or transaction the stack has: ACK, CANCEL, a dialog of
   the local UA */
static bool ref_dialog(const struct sip_msg *msg)
{
	return ref_invite_txn(msg) || ref_local_dialog(msg);
}


/* Via headers, by name (libre makes each element of a list one) */
static size_t ref_vias(const struct sip_msg *msg)
{
	const struct le *le;
	size_t n = 0;

	for (le = msg->hdrl.head; le; le = le->next) {
		const struct sip_hdr *hdr = le->data;

		n += !pl_strcasecmp(&hdr->name, "Via") ||
			!pl_strcasecmp(&hdr->name, "v");
	}

	return n;
}


/* "tag" anywhere in the bytes, whatever the case */
static bool ref_has_tag(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 3 <= n; i++) {
		if (!strncasecmp((const char *)p + i, "tag", 3))
			return true;
	}

	return false;
}


/* The request as the head listener reads it, once per call here */
static const struct kar_req *view(const struct sip_msg *msg)
{
	static struct kar_req rq;

	kar_req_read(&rq, msg, ua_alice, NULL);

	return &rq;
}


/* What the documented rules say the guard does; updates the model */
static enum kar_guard model_guard(struct model *m, bool exempt,
				  const struct sip_msg *msg,
				  const uint8_t *wire)
{
	size_t i;

	if (!pl_isset(&msg->via.sentby))
		return KAR_G_DROP;

	if (kar_uafilter_match(&fz.drop, view(msg))) {
		if (ref_local_dialog(msg))
			return KAR_G_PASS;
		if (exempt || ref_vias(msg) != 1 || m->blocked)
			return KAR_G_DROP;
		m->blocked = true;
		m->n = 0;
		return KAR_G_BLOCK_UA;
	}

	if (m->blocked)
		return ref_dialog(msg) ? KAR_G_PASS : KAR_G_DROP;

	if (exempt || !pl_isset(&msg->uri.user) || ref_invite_txn(msg) ||
	    ua_alice(msg, NULL))
		return KAR_G_PASS;

	for (i = 0; i < m->n; i++) {
		if (!pl_cmp(&m->user[i], &msg->uri.user))
			return KAR_G_PASS;
	}

	m->user[m->n].p = (const char *)wire +
		(msg->uri.user.p - (const char *)msg->mb->buf);
	m->user[m->n++].l = msg->uri.user.l;
	if (m->n < LIMIT)
		return KAR_G_PASS;

	m->blocked = true;
	m->n = 0;

	return KAR_G_BLOCK_ENUM;
}


static uint64_t dropped(const struct kar_stats *st)
{
	return st->c[KAR_M_OTHER][KAR_C_DROPPED_SCANNER];
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct model model[NSRC];
	struct kar_block *b = NULL;
	struct kar_udpdrop *ud = NULL;
	const struct helper_view *uh;
	struct kar_guardcfg cfg;
	struct kar_policy pol;
	struct kar_stats st;
	struct mbuf *mb = NULL;
	size_t off = 0, k, nblocked = 0;
	int err;

	memset(model, 0, sizeof(model));
	kar_stats_reset(&st, 0);

	err = kar_block_alloc(&b, LIMIT, BAN, SLOTS, 0x0123456789abcdefULL);
	if (!err)
		err = kar_udpdrop_alloc(&ud, b, &st, user_alice, NULL);
	CHECK(err == 0, "alloc: %m", err);

	/* As the module does with the socket of the first UDP request */
	err = kar_udpdrop_watch(ud, fz.us);
	CHECK(err == 0 && kar_udpdrop_ok(ud), "watch: %m (libre's UDP helper"
	      " is not laid out as udpdrop.c expects)", err);
	uh = (const struct helper_view *)udp_helper_find(fz.us,
							  HELPER_LAYER);
	CHECK(uh != NULL && uh->recvh != NULL, "no helper on the socket");

	memset(&pol, 0, sizeof(pol));
	pol.events = &fz.events;
	pol.uah = ua_alice;

	memset(&cfg, 0, sizeof(cfg));
	cfg.drop_ua = &fz.drop;
	cfg.trusted = &fz.trusted;
	cfg.block = b;

	for (k = 0; k < MAX_DGRAM && off < size; k++) {
		const uint8_t *p = data + off, *nul;
		struct sip_msg *msg = NULL;
		struct kar_verdict v;
		enum kar_guard g, want;
		struct model *m;
		struct sa src;
		size_t n, idx;
		uint64_t before;
		bool drop;

		nul = memchr(p, 0, size - off);
		n = nul ? (size_t)(nul - p) : size - off;
		off += n + 1;
		if (!n)
			continue;

		idx = p[0] % NSRC;
		m = &model[idx];
		err = sa_set_str(&src, sources[idx].addr, 5060 + (p[0] >> 3));
		CHECK(err == 0, "source %zu", idx);

		mb = mbuf_alloc(n);
		CHECK(mb != NULL, "no memory");
		(void)mbuf_write_mem(mb, p + 1, n - 1);
		mb->pos = 0;

		/* The helper, before decoding */
		before = dropped(&st);
		drop = uh->recvh(&src, mb, ud);
		CHECK(!drop || m->blocked, "%j: helper dropped, not blocked",
		      &src);
		CHECK(dropped(&st) == before + drop, "drop not counted once");

		mb->pos = 0;
		if (sip_msg_decode(&msg, mb))
			goto next;

		CHECK(!drop || (msg->req && !ref_dialog(msg)),
		      "%j: dropped before decoding, but in a dialog:\n%b",
		      &src, p + 1, n - 1);
		CHECK(drop || !m->blocked || !msg->req || ref_dialog(msg) ||
		      ref_has_tag(p + 1, n - 1),
		      "%j: blocked, no sign of a dialog, not dropped:\n%b",
		      &src, p + 1, n - 1);
		if (drop || !msg->req)
			goto next;

		msg->src = src;
		msg->tp = SIP_TRANSP_UDP;
		msg->sock = mem_ref(fz.us);   /* the message holds one */

		/* The head listener's steps */
		kar_policy_decide(&v, &pol, view(msg));
		err = kar_udpdrop_watch(ud, msg->sock);
		CHECK(err == 0 && kar_udpdrop_count(ud) == 1,
		      "watch again: %d", err);

		g = kar_guard_check(&cfg, view(msg), sources[idx].own,
				    tmr_jiffies());
		want = model_guard(m, sources[idx].trusted ||
				   sources[idx].own, msg, p + 1);
		CHECK(g == want, "%j: guard %d, expected %d, message:\n%b",
		      &src, g, want, p + 1, n - 1);

		if (ref_totag(msg))
			CHECK(v.reply == KAR_R_NONE, "in-dialog answered");

	next:
		mem_deref(msg);
		mb = mem_deref(mb);
	}

	for (k = 0; k < NSRC; k++)
		nblocked += model[k].blocked;
	CHECK(kar_block_count(b, tmr_jiffies()) == nblocked,
	      "%u blocked, expected %zu", kar_block_count(b, tmr_jiffies()),
	      nblocked);

	/* Removes the helper from the socket */
	mem_deref(ud);
	CHECK(udp_helper_find(fz.us, HELPER_LAYER) == NULL,
	      "helper left on the socket");
	mem_deref(b);

	return 0;
}
