/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file guard.c  keepalive_responder -- trust, rates and scanners
 *
 * What keeps an endpoint that answers every probe from becoming a gift to
 * scanners and floods: per-source token buckets, a User-Agent filter,
 * the list of trusted source networks, the sources that enumerate user
 * names or named a scanner (they are blocked for a while, unless they
 * are the endpoint's own servers, which servers.c learns), and a token
 * bucket for the module's own log lines (a flood of odd requests must not
 * become a flood of log lines).  The buckets and the blocked sources are
 * kept in two bounded tables of sources (srctab.c).  Nothing here
 * allocates per request.
 */
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "kar.h"


enum {
	LOG_BURST  = 10,     /**< lines allowed at once            */
	LOG_PERIOD = 1000,   /**< ms to earn one more line         */
};


/**
 * Take a token for one log line
 *
 * @param ll         Limiter state (zeroed = full bucket at first use)
 * @param now        Current time in ms (tmr_jiffies())
 * @param suppressed Lines refused since the last one allowed (output,
 *                   set when true is returned)
 *
 * @return true if the line may be logged
 */
bool kar_loglimit_take(struct kar_loglimit *ll, uint64_t now,
		       uint32_t *suppressed)
{
	uint64_t earned;

	if (!ll)
		return false;

	if (!ll->last) {
		ll->last = now ? now : 1;
		ll->tokens = LOG_BURST;
	}

	earned = now > ll->last ? (now - ll->last) / LOG_PERIOD : 0;
	if (earned) {
		uint64_t t = ll->tokens + earned;

		ll->tokens = t > LOG_BURST ? LOG_BURST : (uint32_t)t;
		ll->last += earned * LOG_PERIOD;
	}

	if (!ll->tokens) {
		++ll->suppressed;
		return false;
	}

	--ll->tokens;

	if (suppressed)
		*suppressed = ll->suppressed;
	ll->suppressed = 0;

	return true;
}


/*
 * Per-source token buckets
 *
 * One bucket per source, in a bounded table (srctab.c): memory stays the
 * same whatever the number of (possibly spoofed) sources, and every
 * request costs one hash lookup and one list move, no allocation.
 */

struct bucket {
	uint64_t last;       /**< ms of the last refill            */
	uint64_t mtokens;    /**< tokens * 1000                    */
};

struct kar_rate {
	struct kar_srctab *tab;
	uint32_t rate;       /**< tokens per second                */
	uint64_t burst;      /**< bucket size, tokens * 1000       */
};


static void rate_destructor(void *arg)
{
	struct kar_rate *r = arg;

	mem_deref(r->tab);
}


/**
 * Allocate the per-source rate limiter
 *
 * @param rp    Allocated limiter
 * @param rate  Requests per second per source; bursts of twice that
 * @param slots Sources remembered at once (a power of two)
 * @param key   Key of the address hash
 *
 * @return 0 if success, otherwise errorcode
 */
int kar_rate_alloc(struct kar_rate **rp, uint32_t rate, uint32_t slots,
		   uint64_t key)
{
	struct kar_rate *r;
	int err;

	if (!rp || !rate || !slots)
		return EINVAL;

	r = mem_zalloc(sizeof(*r), rate_destructor);
	if (!r)
		return ENOMEM;

	r->rate = rate;
	r->burst = 2ULL * rate * 1000;

	err = kar_srctab_alloc(&r->tab, slots, sizeof(struct bucket), key);
	if (err)
		mem_deref(r);
	else
		*rp = r;

	return err;
}


/**
 * Take a token for one request from a source
 *
 * @param r   Rate limiter
 * @param src Source address (the port is ignored)
 * @param now Current time in ms
 *
 * @return true if within the rate, false if the request is to be dropped
 */
bool kar_rate_take(struct kar_rate *r, const struct sa *src, uint64_t now)
{
	struct bucket *b;
	bool fresh;

	if (!r || !src)
		return true;

	b = kar_srctab_get(r->tab, src, true, &fresh);

	if (fresh) {
		/* A new source (or one evicted since) starts full */
		b->last = now;
		b->mtokens = r->burst;
	}
	else if (now > b->last) {
		/* The bucket holds two seconds' worth: a longer pause
		   refills it whole (and keeps the product small) */
		uint64_t ms = now - b->last > 2000 ? 2000 : now - b->last;
		uint64_t add = ms * r->rate;

		b->mtokens = b->mtokens + add > r->burst ?
			r->burst : b->mtokens + add;
		b->last = now;
	}

	if (b->mtokens < 1000)
		return false;

	b->mtokens -= 1000;

	return true;
}


/*
 * Scanner filter: User-Agent substrings, without regard to case
 */

static bool contains_nocase(const struct pl *hay, const char *needle,
			    size_t nlen)
{
	size_t i, j;

	if (!nlen || hay->l < nlen)
		return false;

	for (i = 0; i + nlen <= hay->l; i++) {
		for (j = 0; j < nlen; j++) {
			char a = hay->p[i + j], b = needle[j];

			if (a >= 'A' && a <= 'Z')
				a += 'a' - 'A';
			if (a != b)
				break;
		}
		if (j == nlen)
			return true;
	}

	return false;
}


static int ua_item(const struct pl *item, void *arg)
{
	struct kar_uafilter *f = arg;
	size_t i;

	if (item->l >= KAR_UA_PATL)
		return EINVAL;

	if (f->n >= KAR_UA_MAX)
		return E2BIG;

	/* Stored in lower case: matching folds only the header */
	for (i = 0; i < item->l; i++) {
		char c = item->p[i];

		if ((unsigned char)c < 0x20 || c == 0x7f)
			return EINVAL;
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		f->pat[f->n][i] = c;
	}
	f->len[f->n++] = item->l;

	return 0;
}


/**
 * Parse the list of User-Agent substrings to drop
 *
 * @param f   Filter to fill (replaced only on success)
 * @param str Comma-separated substrings; empty disables the filter
 *
 * @return 0 if success, EINVAL for an empty or too long item, E2BIG for
 *         too many items
 */
int kar_uafilter_parse(struct kar_uafilter *f, const char *str)
{
	struct kar_uafilter tmp;
	int err;

	if (!f || !str)
		return EINVAL;

	memset(&tmp, 0, sizeof(tmp));

	err = kar_list_apply(str, ua_item, &tmp);
	if (err)
		return err;

	*f = tmp;

	return 0;
}


/**
 * Does a request's User-Agent name a scanner?
 *
 * @param f  Filter
 * @param rq SIP request, as read at the door
 *
 * @return true if any User-Agent header contains one of the substrings
 */
bool kar_uafilter_match(const struct kar_uafilter *f,
			const struct kar_req *rq)
{
	const struct sip_hdr *hdr;
	size_t i;

	if (!f || !f->n || !rq)
		return false;

	for (hdr = rq->hdr[KAR_H_USER_AGENT].first; hdr;
	     hdr = kar_hdr_next(hdr)) {

		for (i = 0; i < f->n; i++) {
			if (contains_nocase(&hdr->val, f->pat[i], f->len[i]))
				return true;
		}
	}

	return false;
}


/*
 * Trusted sources: addresses and CIDR prefixes, IPv4 and IPv6
 */

/*
 * The address bytes in network order, and their family; an IPv4 peer on
 * a dual-stack socket (::ffff:a.b.c.d) counts as IPv4.  0 if neither.
 */
static int addr_bytes(const struct sa *sa, uint8_t a[16])
{
	static const uint8_t mapped[12] = {0,0,0,0,0,0,0,0,0,0,0xff,0xff};
	uint32_t v;

	switch (sa_af(sa)) {

	case AF_INET:
		v = sa_in(sa);
		a[0] = v >> 24;
		a[1] = v >> 16;
		a[2] = v >> 8;
		a[3] = v;
		return AF_INET;

	case AF_INET6:
		sa_in6(sa, a);
		if (memcmp(a, mapped, sizeof(mapped)))
			return AF_INET6;

		memmove(a, a + 12, 4);
		return AF_INET;

	default:
		return 0;
	}
}


static int acl_entry(struct kar_acl *acl, const struct pl *item)
{
	char buf[64];
	const char *slash;
	struct sa sa;
	struct kar_acl_entry *e;
	unsigned long bits;
	size_t alen, i;
	uint8_t max;

	if (!item->l || item->l >= sizeof(buf))
		return EINVAL;

	(void)pl_strcpy(item, buf, sizeof(buf));

	slash = strchr(buf, '/');
	alen = slash ? (size_t)(slash - buf) : item->l;

	/* [v6] as in URIs is accepted too */
	if (alen >= 2 && buf[0] == '[' && buf[alen - 1] == ']') {
		buf[alen - 1] = '\0';
		if (sa_set_str(&sa, buf + 1, 0))
			return EINVAL;
	}
	else {
		buf[alen] = '\0';
		if (sa_set_str(&sa, buf, 0))
			return EINVAL;
	}

	if (acl->n >= KAR_ACL_MAX)
		return E2BIG;

	e = &acl->v[acl->n];
	memset(e, 0, sizeof(*e));
	e->af = addr_bytes(&sa, e->addr);
	if (!e->af)
		return EINVAL;

	max = e->af == AF_INET ? 32 : 128;

	bits = max;
	if (slash) {
		char *end;

		if (!slash[1] || slash[1] < '0' || slash[1] > '9')
			return EINVAL;
		bits = strtoul(slash + 1, &end, 10);
		if (*end || bits > max)
			return EINVAL;
	}
	e->bits = (uint8_t)bits;

	/* Host bits are cleared: 10.1.2.3/8 means 10.0.0.0/8 */
	for (i = 0; i < 16; i++) {
		size_t from = i * 8;

		if (from >= e->bits)
			e->addr[i] = 0;
		else if (from + 8 > e->bits)
			e->addr[i] &= (uint8_t)(0xff <<
						(8 - (e->bits - from)));
	}

	++acl->n;

	return 0;
}


struct acl_parse {
	struct kar_acl acl;
	struct pl bad;       /**< the entry that failed               */
};


static int acl_item(const struct pl *item, void *arg)
{
	struct acl_parse *ap = arg;
	int err = acl_entry(&ap->acl, item);

	if (err)
		ap->bad = *item;

	return err;
}


/**
 * Parse the list of trusted sources
 *
 * @param acl List to fill (replaced only on success)
 * @param str Comma-separated addresses and CIDR prefixes; empty = any
 * @param bad Set to the first bad entry on failure, empty for an empty
 *            one (optional)
 * @param sz  Size of bad
 *
 * @return 0 if success, EINVAL for a bad entry, E2BIG for too many
 */
int kar_acl_parse(struct kar_acl *acl, const char *str, char *bad,
		  size_t sz)
{
	struct acl_parse ap;
	int err;

	if (!acl || !str)
		return EINVAL;

	memset(&ap, 0, sizeof(ap));

	err = kar_list_apply(str, acl_item, &ap);
	if (err) {
		if (bad && sz) {
			bad[0] = '\0';
			(void)pl_strcpy(&ap.bad, bad, sz);
		}
		return err;
	}

	*acl = ap.acl;

	return 0;
}


static bool prefix_eq(const uint8_t *a, const uint8_t *net, uint8_t bits)
{
	size_t full = bits / 8, rest = bits % 8;

	if (memcmp(a, net, full))
		return false;

	if (!rest)
		return true;

	return (a[full] & (uint8_t)(0xff << (8 - rest))) == net[full];
}


/**
 * Is a source trusted?
 *
 * @param acl Trusted sources (empty = any source)
 * @param src Source address
 *
 * @return true if trusted
 */
bool kar_acl_match(const struct kar_acl *acl, const struct sa *src)
{
	uint8_t a[16];
	int af;
	size_t i;

	if (!acl || !acl->n)
		return true;

	if (!src)
		return false;

	af = addr_bytes(src, a);
	if (!af)
		return false;

	for (i = 0; i < acl->n; i++) {
		if (acl->v[i].af == af &&
		    prefix_eq(a, acl->v[i].addr, acl->v[i].bits))
			return true;
	}

	return false;
}


/**
 * Print one trusted network: the address, and /bits for a prefix
 *
 * @param pf Print handler
 * @param e  Entry of the trusted list
 *
 * @return 0 if success, otherwise errorcode
 */
int kar_acl_entry_print(struct re_printf *pf, const struct kar_acl_entry *e)
{
	struct sa sa;
	uint8_t max;
	int err;

	if (!e)
		return 0;

	if (e->af == AF_INET) {
		sa_set_in(&sa, (uint32_t)e->addr[0] << 24 |
			  (uint32_t)e->addr[1] << 16 |
			  (uint32_t)e->addr[2] << 8 | e->addr[3], 0);
		max = 32;
	}
	else {
		sa_set_in6(&sa, e->addr, 0);
		max = 128;
	}

	err = re_hprintf(pf, "%j", &sa);
	if (e->bits < max)
		err |= re_hprintf(pf, "/%u", e->bits);

	return err;
}


/**
 * Are two addresses the same host?  An IPv4 peer on a dual-stack socket
 * (::ffff:a.b.c.d) is that IPv4 address; ports are ignored.
 *
 * @param a One address
 * @param b The other
 *
 * @return true if the same
 */
bool kar_sa_same_addr(const struct sa *a, const struct sa *b)
{
	uint8_t x[16], y[16];
	int af;

	if (!a || !b)
		return false;

	af = addr_bytes(a, x);

	return af && af == addr_bytes(b, y) &&
		!memcmp(x, y, af == AF_INET ? 4 : 16);
}


/*
 * Enumeration guard: sources that probe for user names, and scanners
 *
 * A bounded table of sources (srctab.c), as the rate limiter's, so that
 * spoofed sources cannot grow it.  Per source it keeps the keyed 32-bit
 * hashes of the unknown Request-URI users seen since the window began,
 * and until when the source is blocked.  The window is fixed, not
 * sliding: it starts at the first unknown user and ends KAR_ENUM_WINDOW
 * ms later.  Two names with the same hash count once; the key keeps a
 * scanner from choosing such names.
 */

/** What the table keeps per source; zeroed: not blocked, no window */
struct bsrc {
	uint64_t win;        /**< ms the window began, 0: none     */
	uint64_t until;      /**< blocked before this ms, 0: not   */
	uint32_t user[KAR_ENUM_MAX];
	uint32_t n;          /**< users in the window              */
};

struct kar_block {
	struct kar_srctab *tab;
	uint32_t limit;
	uint64_t ban;        /**< ms                               */
	uint64_t key;        /**< of the user hashes               */
};


static void block_destructor(void *arg)
{
	struct kar_block *b = arg;

	mem_deref(b->tab);
}


/**
 * Allocate the enumeration guard's table
 *
 * @param bp    Allocated table
 * @param limit Unknown users per window that block a source (0: the
 *              count is off, scanner User-Agents still block);
 *              at most KAR_ENUM_MAX
 * @param ban   Seconds a source stays blocked (>= 1)
 * @param slots Sources remembered at once (a power of two)
 * @param key   Key of the address and user hashes
 *
 * @return 0 if success, otherwise errorcode
 */
int kar_block_alloc(struct kar_block **bp, uint32_t limit, uint32_t ban,
		    uint32_t slots, uint64_t key)
{
	struct kar_block *b;
	int err;

	if (!bp || limit > KAR_ENUM_MAX || !ban || !slots)
		return EINVAL;

	b = mem_zalloc(sizeof(*b), block_destructor);
	if (!b)
		return ENOMEM;

	b->limit = limit;
	b->ban = ban * 1000ULL;
	b->key = key;

	err = kar_srctab_alloc(&b->tab, slots, sizeof(struct bsrc), key);
	if (err)
		mem_deref(b);
	else
		*bp = b;

	return err;
}


/**
 * Is a source blocked?  One keyed hash lookup, nothing allocated: the
 * UDP helper asks this for every datagram.
 *
 * @param b   Table (NULL: nothing is blocked)
 * @param src Source address (the port is ignored)
 * @param now Current time in ms
 *
 * @return true if blocked
 */
bool kar_block_check(struct kar_block *b, const struct sa *src,
		     uint64_t now)
{
	const struct bsrc *s;

	if (!b || !src)
		return false;

	s = kar_srctab_get(b->tab, src, false, NULL);

	return s && s->until > now;
}


/**
 * Block a source now, for the ban time
 *
 * @param b   Table
 * @param src Source address
 * @param now Current time in ms
 *
 * @return true if the source was not blocked before (log it)
 */
bool kar_block_add(struct kar_block *b, const struct sa *src, uint64_t now)
{
	struct bsrc *s;
	bool fresh;

	if (!b || !src)
		return false;

	s = kar_srctab_get(b->tab, src, true, NULL);
	fresh = s->until <= now;
	s->until = now + b->ban;
	s->win = 0;
	s->n = 0;

	return fresh;
}


/**
 * Lift a source's block, and forget the users it counted: it turned
 * out to be one of the endpoint's servers
 *
 * @param b   Table
 * @param src Source address
 * @param now Current time in ms
 *
 * @return true if it was blocked
 */
bool kar_block_forget(struct kar_block *b, const struct sa *src,
		      uint64_t now)
{
	struct bsrc *s;
	bool was;

	if (!b || !src)
		return false;

	s = kar_srctab_get(b->tab, src, false, NULL);
	if (!s)
		return false;

	was = s->until > now;
	s->until = 0;
	s->win = 0;
	s->n = 0;

	return was;
}


static uint32_t user_hash(uint64_t key, const struct pl *user)
{
	uint64_t h = key ^ 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < user->l; i++) {
		h ^= (uint8_t)user->p[i];
		h *= 0x100000001b3ULL;
	}

	return (uint32_t)(h ^ (h >> 32));
}


/**
 * Count an unknown Request-URI user addressed by a source
 *
 * @param b    Table
 * @param src  Source address
 * @param user Request-URI user that matches no local UA
 * @param now  Current time in ms
 *
 * @return true if this user reached the limit: the source is blocked
 *         from now on (log it, drop the request)
 */
bool kar_block_enum(struct kar_block *b, const struct sa *src,
		    const struct pl *user, uint64_t now)
{
	struct bsrc *s;
	uint32_t h, i;

	if (!b || !b->limit || !src || !pl_isset(user))
		return false;

	s = kar_srctab_get(b->tab, src, true, NULL);
	if (s->until > now)
		return false;

	if (!s->win || now >= s->win + KAR_ENUM_WINDOW) {
		s->win = now ? now : 1;
		s->n = 0;
	}

	h = user_hash(b->key, user);
	for (i = 0; i < s->n; i++) {
		if (s->user[i] == h)
			return false;
	}

	s->user[s->n++] = h;
	if (s->n < b->limit)
		return false;

	s->until = now + b->ban;
	s->win = 0;
	s->n = 0;

	return true;
}


struct blocked {
	uint64_t now;
	uint32_t n;
};


static void count_blocked(const struct sa *src, const void *data,
			  void *arg)
{
	const struct bsrc *s = data;
	struct blocked *c = arg;

	(void)src;

	if (s->until > c->now)
		++c->n;
}


/**
 * Sources blocked now
 *
 * @param b   Table
 * @param now Current time in ms
 *
 * @return Number of blocked sources
 */
uint32_t kar_block_count(const struct kar_block *b, uint64_t now)
{
	struct blocked c = {now, 0};

	if (!b)
		return 0;

	kar_srctab_each(b->tab, count_blocked, &c);

	return c.n;
}


/**
 * Is a request in a dialog of a local UA?  A To tag (by name) on a
 * request to a user a UA owns, or on a request of a call a UA has (by
 * its Call-ID: a far end may send its BYE to the Request-URI of its
 * INVITE, which uag_find_msg()'s fallback may have taken for any user,
 * baresip 1.1 to 3.7).  A tag alone makes no dialog: a scanner may add
 * one to every request.
 *
 * @param g  Guard configuration (its Call-ID lookup)
 * @param rq SIP request, as read at the door
 *
 * @return true if so
 */
bool kar_guard_dialog(const struct kar_guardcfg *g, const struct kar_req *rq)
{
	if (!g || !rq || !pl_isset(&rq->totag))
		return false;

	return rq->owned || (g->callh && g->callh(rq->msg, g->arg));
}


/**
 * What the guard does with a request, before the rate limit and before
 * the verdict is carried out.  In this order: a request without any
 * header of Via's id is dropped; a scanner User-Agent drops the
 * request, unless it is in a dialog of a local UA, and, sent directly
 * (one Via) by a source that is not exempt, blocks the source; a
 * blocked source's requests are dropped, but for ACK, CANCEL and a
 * local UA's dialogs; requests from sources that are not exempt, to
 * users no UA owns, tagged or not, count towards the source's limit,
 * but for ACK, CANCEL and a local UA's dialogs.  Exempt are the
 * endpoint's own servers and, when the list is set, trusted sources.
 *
 * @param g   Guard configuration and state
 * @param rq  SIP request, as read at the door
 * @param own The source is one of the endpoint's servers (servers.c)
 * @param now Current time in ms
 *
 * @return What to do with it
 */
enum kar_guard kar_guard_check(const struct kar_guardcfg *g,
			       const struct kar_req *rq, bool own,
			       uint64_t now)
{
	const struct sip_msg *msg;
	bool exempt;

	if (!g || !rq || !rq->msg)
		return KAR_G_PASS;

	msg = rq->msg;

	/* No SIP client sends a request without a Via (RFC 3261 8.1.1.7);
	   an answer would go to the request's source address, port 5060 */
	if (!pl_isset(&msg->via.sentby))
		return KAR_G_DROP;

	/* Only a configured list exempts: unset means any source */
	exempt = own || (g->trusted && g->trusted->n &&
			 kar_acl_match(g->trusted, &msg->src));

	if (kar_uafilter_match(g->drop_ua, rq)) {

		/* A call in progress keeps its BYE, whatever the far end
		   calls itself */
		if (kar_guard_dialog(g, rq))
			return KAR_G_PASS;

		/* Relayed (more than one Via), the User-Agent names the
		   client behind the proxy, not the proxy: the request
		   alone is dropped */
		if (!exempt && rq->hdr[KAR_H_VIA].n == 1 &&
		    kar_block_add(g->block, &msg->src, now))
			return KAR_G_BLOCK_UA;

		return KAR_G_DROP;
	}

	/* A blocked source's dialogs with a local UA and its INVITE
	   transactions go on: calls taken before the block end */
	if (!exempt && kar_block_check(g->block, &msg->src, now)) {
		return rq->invite_txn || kar_guard_dialog(g, rq) ?
			KAR_G_PASS : KAR_G_DROP;
	}

	/* A local UA's user is no secret a scanner learns: the core
	   answers by the same lookup.  A call's far end may send its BYE
	   to a user no UA owns (its INVITE's Request-URI): it is no
	   guess. */
	if (exempt || !pl_isset(&msg->uri.user) || rq->invite_txn ||
	    rq->owned || kar_guard_dialog(g, rq))
		return KAR_G_PASS;

	if (kar_block_enum(g->block, &msg->src, &msg->uri.user, now))
		return KAR_G_BLOCK_ENUM;

	return KAR_G_PASS;
}
