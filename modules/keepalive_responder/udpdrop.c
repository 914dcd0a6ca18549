/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file udpdrop.c  keepalive_responder -- blocked sources' datagrams
 *
 * libre decodes every datagram before a SIP listener sees it.  A UDP
 * helper on the SIP socket sees it first: while its source is blocked
 * (guard.c), the helper drops it there, for one keyed hash lookup,
 * unless its bytes say it may belong to a local UA's dialog or to a
 * transaction the stack has (kar_raw_dialog()).
 *
 * The module learns the socket from the requests it receives (msg->sock)
 * and registers one helper per socket.  The socket belongs to baresip,
 * which may close and reopen its transports at any time, and libre's
 * socket destructor frees every helper still on its list.  So:
 *
 *  - the module holds a second reference on each helper: when the socket
 *    goes, the helper survives, unlinked from the freed socket's list;
 *  - "socket gone" is read from the helper's own list element, never
 *    from the socket: libre's list_flush() clears le.list of every
 *    element it frees.  The socket pointer is only compared, and only
 *    after dead helpers were dropped, as a new socket may get the address
 *    of a freed one;
 *  - a live helper is released with both references (its destructor
 *    unlinks it); a dead one with libre's destructor switched off where
 *    libre can (mem_destructor(), 2.5 and later): from 3.1 that
 *    destructor locks the socket's mutex, which went with the socket.
 *    Older libre has no such mutex, and its destructor only unlinks.
 *
 * libre's struct udp_helper is private.  This file and chain.c are the
 * only ones that read libre internals: the start of the helper (list
 * element, layer, send and receive handlers) has been the same from 1.1
 * to 4.x, and it is checked against each freshly registered helper
 * before it is trusted.  Where it does not match, no helper stays
 * registered; blocked sources are then dropped after decoding only.
 */
#include <string.h>
#include <re.h>
#include "kar.h"


/* Weak: absent before libre 2.5, where a NULL test tells.  Declared
   here too, as older headers lack it. */
void mem_destructor(void *data, mem_destroy_h *dh);
#if defined(__GNUC__) && defined(__ELF__)
#pragma weak mem_destructor
#define HAVE_WEAK 1
#endif


enum {
	/* Lowest first on receive: before any other helper */
	LAYER = -1000,
};


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


/* Mirror of the start of libre's struct udp_helper; checked in
   kar_udpdrop_watch() */
struct helper_view {
	struct le le;
	int layer;
	udp_helper_send_h *sendh;
	udp_helper_recv_h *recvh;
};


/* One socket's helper */
struct watch {
	struct le le;
	struct udp_helper *uh;   /**< ours and the socket's reference  */
	const void *us;          /**< compared only, never followed    */
};

struct kar_udpdrop {
	struct list watches;
	struct kar_block *b;
	struct kar_stats *st;
	kar_user_h *userh;       /**< a local UA's dialog, maybe?      */
	void *arg;
	bool bad;                /**< libre's layout differs: stop     */
};


static bool alive(const struct watch *w)
{
	return ((const struct helper_view *)w->uh)->le.list != NULL;
}


static void watch_destructor(void *arg)
{
	struct watch *w = arg;

	list_unlink(&w->le);

	if (!w->uh)
		return;

	if (alive(w)) {
		/* The second reference is the socket's: its destructor
		   would have dropped it.  The last one unlinks. */
		mem_deref(w->uh);
		mem_deref(w->uh);
		return;
	}

#ifdef HAVE_WEAK
	if (mem_destructor)
		mem_destructor(w->uh, NULL);
	mem_deref(w->uh);
#endif
	/* Elsewhere a dead helper (a few bytes) is left, rather than
	   risk a destructor that locks a freed mutex */
}


static void udpdrop_destructor(void *arg)
{
	struct kar_udpdrop *ud = arg;

	list_flush(&ud->watches);
}


/* Per datagram: one hash lookup, nothing allocated or printed.  What
   may belong to a dialog of a local UA or to a transaction the stack
   has is decoded and judged after (kar_guard_check()), so that calls
   the stack took before the block end normally. */
static bool recv_handler(struct sa *src, struct mbuf *mb, void *arg)
{
	struct kar_udpdrop *ud = arg;

	if (!kar_block_check(ud->b, src, tmr_jiffies()) ||
	    kar_raw_dialog(mb, ud->userh, ud->arg))
		return false;

	/* The method is unknown before decoding */
	++ud->st->c[KAR_M_OTHER][KAR_C_DROPPED_SCANNER];

	return true;
}


/**
 * Allocate the pre-decoding drop
 *
 * @param up    Allocated state; freeing it removes every helper
 * @param b     Blocked sources
 * @param st    Counters (dropped-scanner, method other)
 * @param userh May a tagged request to a Request-URI user belong to a
 *              local UA's dialog?  (NULL: a To tag alone lets a
 *              datagram through)
 * @param arg   Its argument
 *
 * @return 0 if success, otherwise errorcode
 */
int kar_udpdrop_alloc(struct kar_udpdrop **up, struct kar_block *b,
		      struct kar_stats *st, kar_user_h *userh, void *arg)
{
	struct kar_udpdrop *ud;

	if (!up || !b || !st)
		return EINVAL;

	ud = mem_zalloc(sizeof(*ud), udpdrop_destructor);
	if (!ud)
		return ENOMEM;

	ud->b = b;
	ud->st = st;
	ud->userh = userh;
	ud->arg = arg;
	*up = ud;

	return 0;
}


/* Forget the helpers of sockets that are gone */
static void prune(struct kar_udpdrop *ud)
{
	struct le *le = ud->watches.head;

	while (le) {
		struct watch *w = le->data;

		le = le->next;

		if (!alive(w))
			mem_deref(w);
	}
}


/**
 * Make sure a SIP UDP socket has the helper; called with the socket of
 * each UDP request (msg->sock), so a reopened transport gets one at its
 * first request
 *
 * @param ud Pre-decoding drop
 * @param us The socket
 *
 * @return 0 if success (or the socket has it already), ENOTSUP if
 *         libre's helper is not laid out as expected (then never again),
 *         otherwise errorcode
 */
int kar_udpdrop_watch(struct kar_udpdrop *ud, struct udp_sock *us)
{
	const struct helper_view *v;
	struct watch *w;
	struct le *le;
	int err;

	if (!ud || !us)
		return EINVAL;

	if (ud->bad)
		return ENOTSUP;

	prune(ud);

	for (le = ud->watches.head; le; le = le->next) {
		w = le->data;
		if (w->us == us)
			return 0;
	}

	w = mem_zalloc(sizeof(*w), watch_destructor);
	if (!w)
		return ENOMEM;

	err = udp_register_helper(&w->uh, us, LAYER, NULL, recv_handler, ud);
	if (err) {
		mem_deref(w);
		return err;
	}

	v = (const struct helper_view *)w->uh;
	if (v->le.data != w->uh || !v->le.list || v->layer != LAYER ||
	    v->recvh != recv_handler) {
		/* One reference only so far: this unlinks it */
		w->uh = mem_deref(w->uh);
		mem_deref(w);
		ud->bad = true;
		return ENOTSUP;
	}

	mem_ref(w->uh);
	w->us = us;
	list_append(&ud->watches, &w->le, w);

	return 0;
}


/**
 * Sockets that have the helper now
 *
 * @param ud Pre-decoding drop
 *
 * @return Number of live helpers
 */
size_t kar_udpdrop_count(struct kar_udpdrop *ud)
{
	if (!ud)
		return 0;

	prune(ud);

	return list_count(&ud->watches);
}


/**
 * Is libre's helper laid out as expected (so far)?
 *
 * @param ud Pre-decoding drop
 *
 * @return false once a helper failed the check
 */
bool kar_udpdrop_ok(const struct kar_udpdrop *ud)
{
	return ud && !ud->bad;
}
