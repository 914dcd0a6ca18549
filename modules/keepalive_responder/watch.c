/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file watch.c  keepalive_responder -- probe watch
 *
 * Learns how often each server probes the endpoint and reports a server
 * that stops.  A prober is a source address (any port) and a kind of
 * probe.  Its interval is the median of its recent gaps, once enough of
 * them agree; a regular prober silent for factor x its interval is lost.
 * Time is always passed in (ms), so the whole is deterministic, and the
 * table is one fixed block: a flood of sources evicts, never grows it.
 * docs/watch.md explains the rules.
 */
#include <string.h>
#include <re.h>
#include "kar.h"


/** One prober; the slots are one array inside the table */
struct prober {
	struct le le;                   /**< in the recently-heard order  */
	struct kar_watch_info info;
	uint64_t fp;                    /**< fingerprint of latest probe  */
	uint32_t gap[KAR_WATCH_GAPS];   /**< recent gaps, ms, a ring      */
	uint8_t ngap;
	uint8_t pos;                    /**< where the next gap goes      */
	bool used;
};

struct kar_watch {
	struct prober v[KAR_WATCH_MAX];
	struct list lru;                /**< head: least recently heard   */
	uint64_t losses;
	uint32_t factor;
	bool shutdown;
	kar_watch_h *h;
	void *arg;
};


static const char *kind_names[KAR_WATCH_KIND_N] = {"OPTIONS", "NOTIFY"};

static const char *state_names[KAR_WATCH_STATE_N] = {
	"learning", "regular", "lost",
};


const char *kar_watch_kind_name(enum kar_watch_kind kind)
{
	return (size_t)kind < KAR_WATCH_KIND_N ? kind_names[kind] : "?";
}


const char *kar_watch_state_name(enum kar_watch_state state)
{
	return (size_t)state < KAR_WATCH_STATE_N ? state_names[state] : "?";
}


const char *kar_watch_ev_name(enum kar_watch_ev ev)
{
	switch (ev) {

	case KAR_WATCH_EV_LOST: return "probe-lost";
	case KAR_WATCH_EV_BACK: return "probe-back";
	default:                return "?";
	}
}


static void watch_destructor(void *arg)
{
	struct kar_watch *w = arg;

	/* The slots live in this block; only their links go */
	list_clear(&w->lru);
}


static void forget_all(struct kar_watch *w)
{
	size_t i;

	list_clear(&w->lru);
	memset(w->v, 0, sizeof(w->v));
	w->losses = 0;

	/* Unused slots are the least recently heard: taken first */
	for (i = 0; i < KAR_WATCH_MAX; i++)
		list_append(&w->lru, &w->v[i].le, &w->v[i]);
}


static bool factor_ok(uint32_t factor)
{
	return factor >= KAR_WATCH_FACTOR_MIN &&
		factor <= KAR_WATCH_FACTOR_MAX;
}


/**
 * Allocate a probe watch
 *
 * @param wp     Allocated table
 * @param factor Loss factor (2..20), 0 for the default (3)
 * @param h      Loss and return handler (optional)
 * @param arg    Its argument
 *
 * @return 0 if success, otherwise errorcode (EINVAL: factor out of range)
 */
int kar_watch_alloc(struct kar_watch **wp, uint32_t factor,
		    kar_watch_h *h, void *arg)
{
	struct kar_watch *w;

	if (!wp)
		return EINVAL;

	if (!factor)
		factor = KAR_WATCH_FACTOR;

	if (!factor_ok(factor))
		return EINVAL;

	w = mem_zalloc(sizeof(*w), watch_destructor);
	if (!w)
		return ENOMEM;

	w->factor = factor;
	w->h = h;
	w->arg = arg;
	forget_all(w);

	*wp = w;

	return 0;
}


/**
 * Change the loss factor; deadlines follow at once
 *
 * @param w      Probe watch
 * @param factor Loss factor, 2..20
 *
 * @return 0 if success, otherwise errorcode
 */
int kar_watch_set_factor(struct kar_watch *w, uint32_t factor)
{
	if (!w || !factor_ok(factor))
		return EINVAL;

	w->factor = factor;

	return 0;
}


uint32_t kar_watch_factor(const struct kar_watch *w)
{
	return w ? w->factor : 0;
}


static void fnv(uint64_t *h, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--) {
		*h ^= *b++;
		*h *= 0x100000001b3ULL;
	}
}


/**
 * Fingerprint of a probe: Call-ID, CSeq and top Via branch, which a
 * retransmission repeats and a new probe does not (RFC 3261 17.2.3)
 *
 * @param rq Request, as read at the door
 *
 * @return Fingerprint, never 0 (0 stands for none)
 */
uint64_t kar_watch_fp(const struct kar_req *rq)
{
	const struct sip_msg *msg = rq ? rq->msg : NULL;
	uint64_t h = 0xcbf29ce484222325ULL;
	uint8_t sep = 0;

	if (!msg)
		return 0;

	/* Lengths between the fields keep their borders apart */
	fnv(&h, &msg->callid.l, sizeof(msg->callid.l));
	fnv(&h, msg->callid.p, msg->callid.l);
	fnv(&h, &msg->cseq.num, sizeof(msg->cseq.num));
	fnv(&h, &msg->cseq.met.l, sizeof(msg->cseq.met.l));
	fnv(&h, msg->cseq.met.p, msg->cseq.met.l);
	fnv(&h, &sep, 1);
	fnv(&h, rq->via.branch.p, rq->via.branch.l);

	return h ? h : 1;
}


static uint64_t deadline_of(const struct kar_watch *w, const struct prober *p)
{
	return p->info.last + (uint64_t)w->factor * p->info.ivl;
}


static void report(struct kar_watch *w, enum kar_watch_ev ev,
		   const struct prober *p)
{
	if (w->h && !w->shutdown)
		w->h(ev, &p->info, w->arg);
}


/* Lost if regular and silent for factor x interval, reported once */
static void check_one(struct kar_watch *w, struct prober *p, uint64_t now)
{
	if (w->shutdown || p->info.state != KAR_WATCH_REGULAR)
		return;

	if (now < deadline_of(w, p))
		return;

	p->info.state = KAR_WATCH_LOST;
	++p->info.losses;
	++w->losses;

	report(w, KAR_WATCH_EV_LOST, p);
}


/*
 * The lower median of the ring, and how many gaps lie within +-50 % of
 * it.  At most KAR_WATCH_GAPS values: an insertion sort on the stack.
 */
static uint32_t median(const struct prober *p, unsigned *agree)
{
	uint32_t s[KAR_WATCH_GAPS];
	unsigned i, j, n = p->ngap;
	uint32_t m;

	for (i = 0; i < n; i++) {
		uint32_t g = p->gap[i];

		for (j = i; j > 0 && s[j - 1] > g; j--)
			s[j] = s[j - 1];
		s[j] = g;
	}

	m = s[(n - 1) / 2];

	*agree = 0;
	for (i = 0; i < n; i++) {
		uint64_t d = s[i] > m ? s[i] - m : m - s[i];

		if (2 * d <= m)
			++*agree;
	}

	return m;
}


static void push_gap(struct prober *p, uint64_t gap)
{
	p->gap[p->pos] = gap > UINT32_MAX ? UINT32_MAX : (uint32_t)gap;
	p->pos = (p->pos + 1) % KAR_WATCH_GAPS;
	if (p->ngap < KAR_WATCH_GAPS)
		++p->ngap;
}


/*
 * Learn from the ring after a new gap:
 * - learning becomes regular when at least 3 gaps, and more than half
 *   of the ring, agree within +-50 % of the median, and the median is
 *   1 s to 3600 s;
 * - regular stays regular while more than half agree (a missed or an
 *   early probe is outvoted), its interval following the median;
 *   otherwise it is learning again;
 * - fewer than 3 gaps: only after a return (see back()); the prober
 *   stays regular on the interval it came back with.
 */
static void learn(struct prober *p)
{
	unsigned agree;
	uint32_t m;
	bool range, majority;

	if (p->ngap < 3)
		return;

	m = median(p, &agree);
	range = m >= KAR_WATCH_IVL_MIN && m <= KAR_WATCH_IVL_MAX;
	majority = 2 * agree > p->ngap;

	if (range && majority &&
	    (agree >= 3 || p->info.state == KAR_WATCH_REGULAR)) {
		p->info.state = KAR_WATCH_REGULAR;
		p->info.ivl = m;
	}
	else {
		p->info.state = KAR_WATCH_LEARNING;
		p->info.ivl = 0;
	}
}


/*
 * A lost prober probed: regular again.  The gaps before the silence may
 * be an old rhythm, so the ring restarts with the gap that ended it,
 * and the interval is the longer of the old one and that gap (up to the
 * maximum): a server that lengthened its interval is lost once, not at
 * every probe.  From the third gap on, learn() takes over.
 */
static void back(struct kar_watch *w, struct prober *p, uint64_t gap)
{
	p->ngap = 0;
	p->pos = 0;
	push_gap(p, gap);

	if (gap > p->info.ivl)
		p->info.ivl = MIN(gap, (uint64_t)KAR_WATCH_IVL_MAX);

	p->info.state = KAR_WATCH_REGULAR;

	report(w, KAR_WATCH_EV_BACK, p);
}


static struct prober *lookup(const struct kar_watch *w, const struct sa *src,
			     enum kar_watch_kind kind)
{
	size_t i;

	for (i = 0; i < KAR_WATCH_MAX; i++) {
		const struct prober *p = &w->v[i];

		if (p->used && p->info.kind == kind &&
		    sa_cmp(&p->info.src, src, SA_ADDR))
			return (struct prober *)p;
	}

	return NULL;
}


/**
 * Feed one probe
 *
 * A repeat of the prober's latest fingerprint is a retransmission and
 * changes nothing.  A new source and kind takes the slot of the prober
 * heard least recently.  A regular prober whose probe comes at or
 * after its deadline (the timer ran late) is reported lost, then back.
 *
 * @param w    Probe watch
 * @param src  Source address (the port is not part of the prober)
 * @param kind Kind of probe
 * @param fp   Fingerprint (kar_watch_fp()), 0 if none
 * @param now  Current time in ms
 *
 * @return true if taken as a probe, false for a retransmission or
 *         invalid arguments
 */
bool kar_watch_probe(struct kar_watch *w, const struct sa *src,
		     enum kar_watch_kind kind, uint64_t fp, uint64_t now)
{
	struct prober *p;
	uint64_t gap;

	if (!w || !src || (size_t)kind >= KAR_WATCH_KIND_N ||
	    !sa_isset(src, SA_ADDR))
		return false;

	p = lookup(w, src, kind);
	if (!p) {
		p = list_ledata(w->lru.head);
		if (!p)
			return false;

		memset(&p->info, 0, sizeof(p->info));
		p->ngap = p->pos = 0;
		p->used = true;
		p->info.src = *src;
		p->info.kind = kind;
		p->info.state = KAR_WATCH_LEARNING;
		p->info.last = now;
		p->fp = fp;
		goto heard;
	}

	if (fp && fp == p->fp)
		return false;

	check_one(w, p, now);

	gap = now > p->info.last ? now - p->info.last : 0;
	p->info.src = *src;
	p->info.last = now;
	p->info.gap = gap;
	p->fp = fp;

	if (p->info.state == KAR_WATCH_LOST) {
		back(w, p, gap);
	}
	else {
		push_gap(p, gap);
		learn(p);
	}

 heard:
	list_unlink(&p->le);
	list_append(&w->lru, &p->le, p);

	return true;
}


/**
 * Report every regular prober silent for factor x its interval; call
 * from the table's timer, then arm it at kar_watch_deadline()
 *
 * @param w   Probe watch
 * @param now Current time in ms
 */
void kar_watch_check(struct kar_watch *w, uint64_t now)
{
	size_t i;

	if (!w)
		return;

	for (i = 0; i < KAR_WATCH_MAX; i++) {
		if (w->v[i].used)
			check_one(w, &w->v[i], now);
	}
}


/**
 * When the next prober falls due
 *
 * @param w Probe watch
 *
 * @return Time in ms of the earliest deadline, 0 if none (no regular
 *         prober, or shut down): then no timer is needed
 */
uint64_t kar_watch_deadline(const struct kar_watch *w)
{
	uint64_t min = 0;
	size_t i;

	if (!w || w->shutdown)
		return 0;

	for (i = 0; i < KAR_WATCH_MAX; i++) {
		const struct prober *p = &w->v[i];
		uint64_t d;

		if (!p->used || p->info.state != KAR_WATCH_REGULAR)
			continue;

		d = deadline_of(w, p);
		if (!min || d < min)
			min = d;
	}

	return min;
}


/** Forget every prober and the loss count */
void kar_watch_reset(struct kar_watch *w)
{
	if (w)
		forget_all(w);
}


/** From now on, report nothing (the module is going away) */
void kar_watch_shutdown(struct kar_watch *w)
{
	if (w)
		w->shutdown = true;
}


/** Number of probers in the table */
size_t kar_watch_count(const struct kar_watch *w)
{
	size_t i, n = 0;

	if (!w)
		return 0;

	for (i = 0; i < KAR_WATCH_MAX; i++)
		n += w->v[i].used;

	return n;
}


/**
 * Look a prober up
 *
 * @param w    Probe watch
 * @param src  Its address (any port)
 * @param kind Its kind of probe
 *
 * @return The prober, or NULL if not in the table
 */
const struct kar_watch_info *kar_watch_find(const struct kar_watch *w,
					    const struct sa *src,
					    enum kar_watch_kind kind)
{
	const struct prober *p;

	if (!w || !src)
		return NULL;

	p = lookup(w, src, kind);

	return p ? &p->info : NULL;
}


/**
 * Count the probers per state
 *
 * @param w   Probe watch
 * @param sum Summary (output)
 */
void kar_watch_sum(const struct kar_watch *w, struct kar_watch_sum *sum)
{
	size_t i;

	if (!sum)
		return;

	memset(sum, 0, sizeof(*sum));
	if (!w)
		return;

	for (i = 0; i < KAR_WATCH_MAX; i++) {
		if (w->v[i].used)
			++sum->n[w->v[i].info.state];
	}

	sum->losses = w->losses;
}


/**
 * The summary as a dictionary, for the counters' JSON ("watch"):
 * {"learning":n,"regular":n,"lost":n,"losses":n}
 *
 * @param op Allocated dictionary
 * @param w  Probe watch
 *
 * @return 0 if success, otherwise errorcode
 */
int kar_watch_sum_odict(struct odict **op, const struct kar_watch *w)
{
	struct kar_watch_sum sum;
	struct odict *o;
	size_t s;
	int err;

	if (!op || !w)
		return EINVAL;

	kar_watch_sum(w, &sum);

	err = odict_alloc(&o, 8);
	if (err)
		return err;

	for (s = 0; s < KAR_WATCH_STATE_N && !err; s++)
		err = odict_entry_add(o, state_names[s], ODICT_INT,
				      (int64_t)sum.n[s]);
	if (!err)
		err = odict_entry_add(o, "losses", ODICT_INT,
				      (int64_t)sum.losses);

	if (err)
		mem_deref(o);
	else
		*op = o;

	return err;
}


static uint64_t since_s(const struct prober *p, uint64_t now)
{
	return now > p->info.last ? (now - p->info.last) / 1000 : 0;
}


static int prober_odict(struct odict **op, const struct prober *p,
			uint64_t now)
{
	struct odict *o;
	char src[64];
	int err;

	err = odict_alloc(&o, 8);
	if (err)
		return err;

	(void)re_snprintf(src, sizeof(src), "%j", &p->info.src);

	err  = odict_entry_add(o, "source", ODICT_STRING, src);
	err |= odict_entry_add(o, "kind", ODICT_STRING,
			       kind_names[p->info.kind]);
	err |= odict_entry_add(o, "state", ODICT_STRING,
			       state_names[p->info.state]);
	err |= odict_entry_add(o, "interval_ms", ODICT_INT,
			       (int64_t)p->info.ivl);
	err |= odict_entry_add(o, "since_last_s", ODICT_INT,
			       (int64_t)since_s(p, now));
	err |= odict_entry_add(o, "losses", ODICT_INT,
			       (int64_t)p->info.losses);

	if (err)
		mem_deref(o);
	else
		*op = o;

	return err;
}


/**
 * The table as a dictionary, most recently heard first:
 * {"factor":3,"summary":{...},"probers":[{"source":"127.0.0.1",
 * "kind":"OPTIONS","state":"regular","interval_ms":30000,
 * "since_last_s":12,"losses":0}, ...]}
 *
 * interval_ms is 0 while a prober is learning.
 *
 * @param op  Allocated dictionary
 * @param w   Probe watch
 * @param now Current time in ms
 *
 * @return 0 if success, otherwise errorcode
 */
static int table_odict(struct odict **op, const struct kar_watch *w,
		       uint64_t now)
{
	struct odict *o = NULL, *arr = NULL, *sub = NULL;
	struct le *le;
	unsigned i = 0;
	int err;

	if (!op || !w)
		return EINVAL;

	err  = odict_alloc(&o, 8);
	err |= odict_alloc(&arr, KAR_WATCH_MAX);
	if (err)
		goto out;

	err = kar_watch_sum_odict(&sub, w);
	if (err)
		goto out;

	err  = odict_entry_add(o, "factor", ODICT_INT, (int64_t)w->factor);
	err |= odict_entry_add(o, "summary", ODICT_OBJECT, sub);
	sub = mem_deref(sub);
	if (err)
		goto out;

	for (le = w->lru.tail; le && !err; le = le->prev) {
		const struct prober *p = le->data;
		char key[16];

		if (!p->used)
			continue;

		err = prober_odict(&sub, p, now);
		if (err)
			break;

		/* Array members are keyed by their index */
		(void)re_snprintf(key, sizeof(key), "%u", i++);
		err = odict_entry_add(arr, key, ODICT_OBJECT, sub);
		sub = mem_deref(sub);
	}
	if (err)
		goto out;

	err = odict_entry_add(o, "probers", ODICT_ARRAY, arr);

 out:
	mem_deref(arr);
	if (err)
		mem_deref(o);
	else
		*op = o;

	return err;
}


/**
 * Print the table as one JSON object (table_odict())
 *
 * @param pf  Print handler
 * @param w   Probe watch
 * @param now Current time in ms
 *
 * @return 0 if success, otherwise errorcode
 */
int kar_watch_json(struct re_printf *pf, const struct kar_watch *w,
		   uint64_t now)
{
	struct odict *o = NULL;
	int err;

	err = table_odict(&o, w, now);
	if (err)
		return err;

	err = json_encode_odict(pf, o);
	mem_deref(o);

	return err;
}


/**
 * Print the table as text, most recently heard first
 *
 * @param pf  Print handler
 * @param w   Probe watch
 * @param now Current time in ms
 *
 * @return 0 if success, otherwise errorcode
 */
int kar_watch_print(struct re_printf *pf, const struct kar_watch *w,
		    uint64_t now)
{
	struct kar_watch_sum sum;
	struct le *le;
	int err;

	if (!w)
		return EINVAL;

	kar_watch_sum(w, &sum);

	err = re_hprintf(pf, "probe watch: factor %u, %zu probers"
			 " (learning %u, regular %u, lost %u), losses %llu\n",
			 w->factor, kar_watch_count(w),
			 sum.n[KAR_WATCH_LEARNING], sum.n[KAR_WATCH_REGULAR],
			 sum.n[KAR_WATCH_LOST],
			 (unsigned long long)sum.losses);

	for (le = w->lru.tail; le; le = le->prev) {
		const struct prober *p = le->data;

		if (!p->used)
			continue;

		err |= re_hprintf(pf, "  %-39j %-7s %-8s",
				  &p->info.src, kind_names[p->info.kind],
				  state_names[p->info.state]);

		if (p->info.ivl)
			err |= re_hprintf(pf, " interval %llu.%llu s",
					  (unsigned long long)
					  (p->info.ivl / 1000),
					  (unsigned long long)
					  (p->info.ivl % 1000 / 100));
		else
			err |= re_hprintf(pf, " interval -");

		err |= re_hprintf(pf, ", last %llu s ago, losses %u\n",
				  (unsigned long long)since_s(p, now),
				  p->info.losses);
	}

	return err;
}
