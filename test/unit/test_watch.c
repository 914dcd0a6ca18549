/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file test_watch.c  keepalive_responder unit tests -- watch.c
 *
 * The probe watch on explicit time: intervals learned from steady and
 * jittery probers, retransmissions ignored, probers too fast or too slow
 * never watched, kinds and addresses kept apart, the bounded table and
 * its eviction order, the loss at exactly factor x interval and the
 * return, the one deadline, reset, shutdown, and the listings.
 */
#include <string.h>
#include <re.h>
#include <CUnit/CUnit.h>
#include "kar.h"
#include "unit.h"


/* Far from zero, as tmr_jiffies() is */
static const uint64_t t0 = 1700000000000ULL;

enum { SEC = 1000 };


/* What the handler was told */
struct rec {
	unsigned n;
	enum kar_watch_ev ev[8];
	struct kar_watch_info info[8];
};


static void handler(enum kar_watch_ev ev, const struct kar_watch_info *p,
		    void *arg)
{
	struct rec *r = arg;

	if (r->n < ARRAY_SIZE(r->ev)) {
		r->ev[r->n] = ev;
		r->info[r->n] = *p;
	}

	++r->n;
}


static struct sa *addr(struct sa *sa, const char *str, uint16_t port)
{
	if (sa_set_str(sa, str, port))
		sa_init(sa, AF_UNSPEC);

	return sa;
}


/* Every probe a new one, unless a test repeats a fingerprint itself */
static uint64_t fp_next = 1;


static bool probe(struct kar_watch *w, const char *src,
		  enum kar_watch_kind kind, uint64_t now)
{
	struct sa sa;

	return kar_watch_probe(w, addr(&sa, src, 5060), kind, fp_next++,
			       now);
}


static const struct kar_watch_info *find(const struct kar_watch *w,
					 const char *src,
					 enum kar_watch_kind kind)
{
	struct sa sa;

	return kar_watch_find(w, addr(&sa, src, 5060), kind);
}


static enum kar_watch_state state(const struct kar_watch *w,
				  const char *src, enum kar_watch_kind kind)
{
	const struct kar_watch_info *p = find(w, src, kind);

	return p ? p->state : KAR_WATCH_STATE_N;
}


static uint64_t ivl(const struct kar_watch *w, const char *src,
		    enum kar_watch_kind kind)
{
	const struct kar_watch_info *p = find(w, src, kind);

	return p ? p->ivl : (uint64_t)-1;
}


/*
 * A probe at t, then one after each gap (ms); returns the time of the
 * last probe
 */
static uint64_t series(struct kar_watch *w, const char *src,
		       enum kar_watch_kind kind, uint64_t t,
		       const uint64_t *gaps, size_t n)
{
	size_t i;

	CU_ASSERT_TRUE(probe(w, src, kind, t));
	for (i = 0; i < n; i++) {
		t += gaps[i];
		CU_ASSERT_TRUE(probe(w, src, kind, t));
	}

	return t;
}


/* n probes every gap ms from t; returns the time of the last one */
static uint64_t steady(struct kar_watch *w, const char *src,
		       enum kar_watch_kind kind, uint64_t t, uint64_t gap,
		       unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		CU_ASSERT_TRUE(probe(w, src, kind, t));
		if (i + 1 < n)
			t += gap;
	}

	return t;
}


/* Regular every 30 s at 127.0.0.1; returns the time of the last probe */
static uint64_t regular30(struct kar_watch *w, uint64_t t)
{
	t = steady(w, "127.0.0.1", KAR_WATCH_OPTIONS, t, 30 * SEC, 4);
	CU_ASSERT_EQUAL(state(w, "127.0.0.1", KAR_WATCH_OPTIONS),
			KAR_WATCH_REGULAR);

	return t;
}


/*
 * The set-up the cases share: a table (the handler records into rec,
 * or there is none) in which 127.0.0.1 has become a regular OPTIONS
 * prober, every 30 s from t0; returns the time of its last probe
 */
static uint64_t regular_table(struct kar_watch **wp, uint32_t factor,
			      struct rec *rec)
{
	if (rec)
		memset(rec, 0, sizeof(*rec));

	*wp = NULL;
	CU_ASSERT_EQUAL_FATAL(kar_watch_alloc(wp, factor,
					      rec ? handler : NULL, rec), 0);

	/* Nothing to watch before the first probe */
	CU_ASSERT_EQUAL(kar_watch_deadline(*wp), 0);

	return regular30(*wp, t0);
}


static void test_alloc(void)
{
	struct kar_watch *w = NULL;

	CU_ASSERT_EQUAL(kar_watch_alloc(NULL, 3, NULL, NULL), EINVAL);
	CU_ASSERT_EQUAL(kar_watch_alloc(&w, 1, NULL, NULL), EINVAL);
	CU_ASSERT_EQUAL(kar_watch_alloc(&w, 21, NULL, NULL), EINVAL);
	CU_ASSERT_PTR_NULL(w);

	/* 0 is the default, 3 */
	CU_ASSERT_EQUAL_FATAL(kar_watch_alloc(&w, 0, NULL, NULL), 0);
	CU_ASSERT_EQUAL(kar_watch_factor(w), 3);
	CU_ASSERT_EQUAL(kar_watch_count(w), 0);
	CU_ASSERT_EQUAL(kar_watch_deadline(w), 0);

	CU_ASSERT_EQUAL(kar_watch_set_factor(w, 1), EINVAL);
	CU_ASSERT_EQUAL(kar_watch_set_factor(w, 21), EINVAL);
	CU_ASSERT_EQUAL(kar_watch_factor(w), 3);
	CU_ASSERT_EQUAL(kar_watch_set_factor(w, 2), 0);
	CU_ASSERT_EQUAL(kar_watch_factor(w), 2);
	CU_ASSERT_EQUAL(kar_watch_set_factor(w, 20), 0);
	CU_ASSERT_EQUAL(kar_watch_factor(w), 20);
	mem_deref(w);

	CU_ASSERT_EQUAL_FATAL(kar_watch_alloc(&w, 20, NULL, NULL), 0);
	mem_deref(w);

	CU_ASSERT_STRING_EQUAL(kar_watch_kind_name(KAR_WATCH_OPTIONS),
			       "OPTIONS");
	CU_ASSERT_STRING_EQUAL(kar_watch_kind_name(KAR_WATCH_NOTIFY),
			       "NOTIFY");
	CU_ASSERT_STRING_EQUAL(kar_watch_state_name(KAR_WATCH_LEARNING),
			       "learning");
	CU_ASSERT_STRING_EQUAL(kar_watch_state_name(KAR_WATCH_REGULAR),
			       "regular");
	CU_ASSERT_STRING_EQUAL(kar_watch_state_name(KAR_WATCH_LOST), "lost");
	CU_ASSERT_STRING_EQUAL(kar_watch_ev_name(KAR_WATCH_EV_LOST),
			       "probe-lost");
	CU_ASSERT_STRING_EQUAL(kar_watch_ev_name(KAR_WATCH_EV_BACK),
			       "probe-back");
}


/* Regular from the third gap on, not before */
static void test_regular(void)
{
	struct kar_watch *w = NULL;

	CU_ASSERT_EQUAL_FATAL(kar_watch_alloc(&w, 3, NULL, NULL), 0);

	CU_ASSERT_TRUE(probe(w, "127.0.0.1", KAR_WATCH_OPTIONS, t0));
	CU_ASSERT_EQUAL(kar_watch_count(w), 1);
	CU_ASSERT_EQUAL(state(w, "127.0.0.1", KAR_WATCH_OPTIONS),
			KAR_WATCH_LEARNING);

	CU_ASSERT_TRUE(probe(w, "127.0.0.1", KAR_WATCH_OPTIONS,
			     t0 + 30 * SEC));
	CU_ASSERT_TRUE(probe(w, "127.0.0.1", KAR_WATCH_OPTIONS,
			     t0 + 60 * SEC));
	CU_ASSERT_EQUAL(state(w, "127.0.0.1", KAR_WATCH_OPTIONS),
			KAR_WATCH_LEARNING);
	CU_ASSERT_EQUAL(ivl(w, "127.0.0.1", KAR_WATCH_OPTIONS), 0);
	CU_ASSERT_EQUAL(kar_watch_deadline(w), 0);

	CU_ASSERT_TRUE(probe(w, "127.0.0.1", KAR_WATCH_OPTIONS,
			     t0 + 90 * SEC));
	CU_ASSERT_EQUAL(state(w, "127.0.0.1", KAR_WATCH_OPTIONS),
			KAR_WATCH_REGULAR);
	CU_ASSERT_EQUAL(ivl(w, "127.0.0.1", KAR_WATCH_OPTIONS), 30 * SEC);
	CU_ASSERT_EQUAL(find(w, "127.0.0.1", KAR_WATCH_OPTIONS)->last,
			t0 + 90 * SEC);
	CU_ASSERT_EQUAL(find(w, "127.0.0.1", KAR_WATCH_OPTIONS)->gap,
			30 * SEC);

	/* Still one prober, of the kind it was fed */
	CU_ASSERT_EQUAL(kar_watch_count(w), 1);
	CU_ASSERT_PTR_NULL(find(w, "127.0.0.1", KAR_WATCH_NOTIFY));

	mem_deref(w);
}


static void test_jitter(void)
{
	/* Within +-50 % of 30 s */
	static const uint64_t jittery[] = {20 * SEC, 40 * SEC, 30 * SEC};
	/* Three rhythms at once: no majority ever agrees */
	static const uint64_t erratic[] = {
		2 * SEC, 10 * SEC, 40 * SEC, 2 * SEC, 10 * SEC, 40 * SEC,
		2 * SEC, 10 * SEC, 40 * SEC, 2 * SEC, 10 * SEC, 40 * SEC,
	};
	struct kar_watch *w = NULL;
	const char *a = "127.0.0.1";
	uint64_t t, i;
	size_t k;

	CU_ASSERT_EQUAL_FATAL(kar_watch_alloc(&w, 3, NULL, NULL), 0);

	/* Three gaps that agree are enough */
	t = series(w, a, KAR_WATCH_OPTIONS, t0, jittery, 3);
	CU_ASSERT_EQUAL(state(w, a, KAR_WATCH_OPTIONS), KAR_WATCH_REGULAR);
	CU_ASSERT_EQUAL(ivl(w, a, KAR_WATCH_OPTIONS), 30 * SEC);

	t += 25 * SEC;
	CU_ASSERT_TRUE(probe(w, a, KAR_WATCH_OPTIONS, t));
	t += 44 * SEC;
	CU_ASSERT_TRUE(probe(w, a, KAR_WATCH_OPTIONS, t));
	CU_ASSERT_EQUAL(state(w, a, KAR_WATCH_OPTIONS), KAR_WATCH_REGULAR);
	i = ivl(w, a, KAR_WATCH_OPTIONS);
	CU_ASSERT_TRUE(i >= 20 * SEC && i <= 44 * SEC);

	/* A missed probe (a double gap) is outvoted, and the interval
	   stays where the others are */
	t += 60 * SEC;
	CU_ASSERT_TRUE(probe(w, a, KAR_WATCH_OPTIONS, t));
	CU_ASSERT_EQUAL(state(w, a, KAR_WATCH_OPTIONS), KAR_WATCH_REGULAR);
	i = ivl(w, a, KAR_WATCH_OPTIONS);
	CU_ASSERT_TRUE(i >= 20 * SEC && i <= 44 * SEC);

	/* So is an early one */
	t += 3 * SEC;
	CU_ASSERT_TRUE(probe(w, a, KAR_WATCH_OPTIONS, t));
	CU_ASSERT_EQUAL(state(w, a, KAR_WATCH_OPTIONS), KAR_WATCH_REGULAR);

	/* Gaps that stop agreeing: learning again, not watched */
	(void)series(w, a, KAR_WATCH_OPTIONS, t + 2 * SEC, erratic,
		     ARRAY_SIZE(erratic));
	CU_ASSERT_EQUAL(state(w, a, KAR_WATCH_OPTIONS), KAR_WATCH_LEARNING);
	CU_ASSERT_EQUAL(ivl(w, a, KAR_WATCH_OPTIONS), 0);
	CU_ASSERT_EQUAL(kar_watch_deadline(w), 0);

	/* A new prober with no steady rhythm never becomes regular */
	t = t0;
	CU_ASSERT_TRUE(probe(w, "127.0.0.2", KAR_WATCH_NOTIFY, t));
	for (k = 0; k < ARRAY_SIZE(erratic); k++) {
		t += erratic[k];
		CU_ASSERT_TRUE(probe(w, "127.0.0.2", KAR_WATCH_NOTIFY, t));
		CU_ASSERT_EQUAL(state(w, "127.0.0.2", KAR_WATCH_NOTIFY),
				KAR_WATCH_LEARNING);
	}

	mem_deref(w);
}


static bool probe_fp(struct kar_watch *w, const char *src,
		     enum kar_watch_kind kind, uint64_t fp, uint64_t now)
{
	struct sa sa;

	return kar_watch_probe(w, addr(&sa, src, 5060), kind, fp, now);
}


static void test_retransmission(void)
{
	struct kar_watch *w = NULL;
	const char *a = "127.0.0.1";

	CU_ASSERT_EQUAL_FATAL(kar_watch_alloc(&w, 3, NULL, NULL), 0);

	/* RFC 3261 timer E: 0.5 s, 1 s, 2 s, ... after the first */
	CU_ASSERT_TRUE(probe_fp(w, a, KAR_WATCH_OPTIONS, 0xa, t0));
	CU_ASSERT_FALSE(probe_fp(w, a, KAR_WATCH_OPTIONS, 0xa, t0 + 500));
	CU_ASSERT_FALSE(probe_fp(w, a, KAR_WATCH_OPTIONS, 0xa, t0 + 1500));
	CU_ASSERT_FALSE(probe_fp(w, a, KAR_WATCH_OPTIONS, 0xa, t0 + 3500));

	CU_ASSERT_TRUE(probe_fp(w, a, KAR_WATCH_OPTIONS, 0xb, t0 + 30 * SEC));
	CU_ASSERT_FALSE(probe_fp(w, a, KAR_WATCH_OPTIONS, 0xb,
				 t0 + 30 * SEC + 500));
	CU_ASSERT_TRUE(probe_fp(w, a, KAR_WATCH_OPTIONS, 0xc, t0 + 60 * SEC));
	CU_ASSERT_TRUE(probe_fp(w, a, KAR_WATCH_OPTIONS, 0xd, t0 + 90 * SEC));
	CU_ASSERT_FALSE(probe_fp(w, a, KAR_WATCH_OPTIONS, 0xd,
				 t0 + 90 * SEC + 500));

	/* Three gaps of 30 s, none of 0.5 s; heard last at the original */
	CU_ASSERT_EQUAL(state(w, a, KAR_WATCH_OPTIONS), KAR_WATCH_REGULAR);
	CU_ASSERT_EQUAL(ivl(w, a, KAR_WATCH_OPTIONS), 30 * SEC);
	CU_ASSERT_EQUAL(find(w, a, KAR_WATCH_OPTIONS)->last, t0 + 90 * SEC);
	CU_ASSERT_EQUAL(kar_watch_deadline(w), t0 + 180 * SEC);

	/* The same fingerprint in the other kind is that kind's own */
	CU_ASSERT_TRUE(probe_fp(w, a, KAR_WATCH_NOTIFY, 0xd, t0 + 91 * SEC));
	CU_ASSERT_EQUAL(kar_watch_count(w), 2);

	/* No fingerprint: never a repeat */
	CU_ASSERT_TRUE(probe_fp(w, "127.0.0.2", KAR_WATCH_OPTIONS, 0, t0));
	CU_ASSERT_TRUE(probe_fp(w, "127.0.0.2", KAR_WATCH_OPTIONS, 0,
				t0 + SEC));
	CU_ASSERT_EQUAL(find(w, "127.0.0.2", KAR_WATCH_OPTIONS)->last,
			t0 + SEC);

	mem_deref(w);
}


static uint64_t fp_of(const char *callid, unsigned cseq, const char *branch)
{
	struct sip_msg *msg = NULL;
	char *text = NULL;
	uint64_t fp = 0;

	if (re_sdprintf(&text,
			"OPTIONS sip:127.0.0.1 SIP/2.0\r\n"
			"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=%s\r\n"
			"From: <sip:ping@127.0.0.1>;tag=f1\r\n"
			"To: <sip:127.0.0.1>\r\n"
			"Call-ID: %s\r\n"
			"CSeq: %u OPTIONS\r\n"
			"Content-Length: 0\r\n"
			"\r\n", branch, callid, cseq))
		return 0;

	if (!unit_decode(&msg, text))
		fp = kar_watch_fp(unit_req(msg));

	mem_deref(msg);
	mem_deref(text);

	return fp;
}


/* Call-ID, CSeq and Via branch, each of them */
static void test_fingerprint(void)
{
	uint64_t fp = fp_of("c1@127.0.0.1", 7, "z9hG4bK-1");

	CU_ASSERT_NOT_EQUAL(fp, 0);
	CU_ASSERT_EQUAL(fp_of("c1@127.0.0.1", 7, "z9hG4bK-1"), fp);
	CU_ASSERT_NOT_EQUAL(fp_of("c2@127.0.0.1", 7, "z9hG4bK-1"), fp);
	CU_ASSERT_NOT_EQUAL(fp_of("c1@127.0.0.1", 8, "z9hG4bK-1"), fp);
	CU_ASSERT_NOT_EQUAL(fp_of("c1@127.0.0.1", 7, "z9hG4bK-2"), fp);


	CU_ASSERT_EQUAL(kar_watch_fp(NULL), 0);
}


/* Faster than 1 s: learning for ever, never lost */
static void test_fast(void)
{
	struct kar_watch *w = NULL;
	struct rec rec;
	uint64_t t;

	memset(&rec, 0, sizeof(rec));
	CU_ASSERT_EQUAL_FATAL(kar_watch_alloc(&w, 3, handler, &rec), 0);

	t = steady(w, "127.0.0.1", KAR_WATCH_OPTIONS, t0, 500, 40);
	CU_ASSERT_EQUAL(state(w, "127.0.0.1", KAR_WATCH_OPTIONS),
			KAR_WATCH_LEARNING);
	CU_ASSERT_EQUAL(kar_watch_deadline(w), 0);

	t = steady(w, "127.0.0.2", KAR_WATCH_OPTIONS, t0, 999, 10);
	CU_ASSERT_EQUAL(state(w, "127.0.0.2", KAR_WATCH_OPTIONS),
			KAR_WATCH_LEARNING);

	/* The boundary itself is regular */
	(void)steady(w, "127.0.0.3", KAR_WATCH_OPTIONS, t0, 1000, 4);
	CU_ASSERT_EQUAL(state(w, "127.0.0.3", KAR_WATCH_OPTIONS),
			KAR_WATCH_REGULAR);
	CU_ASSERT_EQUAL(kar_watch_deadline(w), t0 + 6000);

	kar_watch_check(w, t + 24 * 3600 * SEC);
	CU_ASSERT_EQUAL(rec.n, 1);
	CU_ASSERT_EQUAL(sa_in(&rec.info[0].src), 0x7f000003);
	CU_ASSERT_EQUAL(state(w, "127.0.0.1", KAR_WATCH_OPTIONS),
			KAR_WATCH_LEARNING);
	CU_ASSERT_EQUAL(state(w, "127.0.0.2", KAR_WATCH_OPTIONS),
			KAR_WATCH_LEARNING);

	mem_deref(w);
}


/* Slower than 3600 s: the same */
static void test_slow(void)
{
	struct kar_watch *w = NULL;
	struct rec rec;
	uint64_t t;

	memset(&rec, 0, sizeof(rec));
	CU_ASSERT_EQUAL_FATAL(kar_watch_alloc(&w, 2, handler, &rec), 0);

	t = steady(w, "::1", KAR_WATCH_NOTIFY, t0, 4000 * SEC, 6);
	CU_ASSERT_EQUAL(state(w, "::1", KAR_WATCH_NOTIFY),
			KAR_WATCH_LEARNING);

	(void)steady(w, "127.0.0.1", KAR_WATCH_NOTIFY, t0,
		     3600 * SEC + 1, 5);
	CU_ASSERT_EQUAL(state(w, "127.0.0.1", KAR_WATCH_NOTIFY),
			KAR_WATCH_LEARNING);
	CU_ASSERT_EQUAL(kar_watch_deadline(w), 0);

	/* The boundary itself is regular */
	(void)steady(w, "127.0.0.2", KAR_WATCH_NOTIFY, t0, 3600 * SEC, 4);
	CU_ASSERT_EQUAL(state(w, "127.0.0.2", KAR_WATCH_NOTIFY),
			KAR_WATCH_REGULAR);
	CU_ASSERT_EQUAL(ivl(w, "127.0.0.2", KAR_WATCH_NOTIFY), 3600 * SEC);

	kar_watch_check(w, t + 30ULL * 24 * 3600 * SEC);
	CU_ASSERT_EQUAL(rec.n, 1);
	CU_ASSERT_EQUAL(state(w, "::1", KAR_WATCH_NOTIFY),
			KAR_WATCH_LEARNING);
	CU_ASSERT_EQUAL(state(w, "127.0.0.2", KAR_WATCH_NOTIFY),
			KAR_WATCH_LOST);

	mem_deref(w);
}


/* One server, OPTIONS every 30 s and NOTIFY every 45 s */
static void test_two_kinds(void)
{
	struct kar_watch *w = NULL;
	uint64_t t;

	CU_ASSERT_EQUAL_FATAL(kar_watch_alloc(&w, 3, NULL, NULL), 0);

	for (t = 0; t <= 180 * SEC; t += 15 * SEC) {
		if (t % (30 * SEC) == 0)
			CU_ASSERT_TRUE(probe(w, "127.0.0.1",
					     KAR_WATCH_OPTIONS, t0 + t));
		if (t % (45 * SEC) == 0)
			CU_ASSERT_TRUE(probe(w, "127.0.0.1",
					     KAR_WATCH_NOTIFY, t0 + t));
	}

	CU_ASSERT_EQUAL(kar_watch_count(w), 2);
	CU_ASSERT_EQUAL(state(w, "127.0.0.1", KAR_WATCH_OPTIONS),
			KAR_WATCH_REGULAR);
	CU_ASSERT_EQUAL(state(w, "127.0.0.1", KAR_WATCH_NOTIFY),
			KAR_WATCH_REGULAR);
	CU_ASSERT_EQUAL(ivl(w, "127.0.0.1", KAR_WATCH_OPTIONS), 30 * SEC);
	CU_ASSERT_EQUAL(ivl(w, "127.0.0.1", KAR_WATCH_NOTIFY), 45 * SEC);

	/* OPTIONS last at 180 s, NOTIFY at 180 s: OPTIONS falls due first */
	CU_ASSERT_EQUAL(kar_watch_deadline(w), t0 + 270 * SEC);

	mem_deref(w);
}


/* The port is not part of a prober; the family and address are */
static void test_addresses(void)
{
	struct kar_watch *w = NULL;
	const struct kar_watch_info *p;
	struct sa sa, unset;
	uint64_t t = t0;
	unsigned i;

	CU_ASSERT_EQUAL_FATAL(kar_watch_alloc(&w, 3, NULL, NULL), 0);

	for (i = 0; i < 4; i++, t += 30 * SEC) {
		(void)addr(&sa, "127.0.0.1", 5060 + i);
		CU_ASSERT_TRUE(kar_watch_probe(w, &sa, KAR_WATCH_OPTIONS,
					       fp_next++, t));
		(void)addr(&sa, "::1", 40000 + i);
		CU_ASSERT_TRUE(kar_watch_probe(w, &sa, KAR_WATCH_OPTIONS,
					       fp_next++, t));
	}

	CU_ASSERT_EQUAL(kar_watch_count(w), 2);

	p = kar_watch_find(w, addr(&sa, "127.0.0.1", 9999),
			   KAR_WATCH_OPTIONS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(p->state, KAR_WATCH_REGULAR);
	CU_ASSERT_EQUAL(sa_af(&p->src), AF_INET);
	CU_ASSERT_EQUAL(sa_port(&p->src), 5063);

	p = kar_watch_find(w, addr(&sa, "::1", 1), KAR_WATCH_OPTIONS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(p->state, KAR_WATCH_REGULAR);
	CU_ASSERT_EQUAL(sa_af(&p->src), AF_INET6);
	CU_ASSERT_EQUAL(sa_port(&p->src), 40003);

	CU_ASSERT_PTR_NULL(find(w, "127.0.0.2", KAR_WATCH_OPTIONS));

	/* Nothing to learn from no address */
	sa_init(&unset, AF_UNSPEC);
	CU_ASSERT_FALSE(kar_watch_probe(w, &unset, KAR_WATCH_OPTIONS, 1, t));
	CU_ASSERT_FALSE(kar_watch_probe(w, NULL, KAR_WATCH_OPTIONS, 1, t));
	CU_ASSERT_FALSE(kar_watch_probe(w, addr(&sa, "127.0.0.1", 5060),
					KAR_WATCH_KIND_N, 1, t));
	CU_ASSERT_FALSE(kar_watch_probe(NULL, &sa, KAR_WATCH_OPTIONS, 1, t));
	CU_ASSERT_EQUAL(kar_watch_count(w), 2);

	mem_deref(w);
}


static struct sa *loop4(struct sa *sa, uint32_t n)
{
	/* 127.0.0.0/8 has room for 2^24 distinct sources */
	sa_set_in(sa, 0x7f000000 | (n & 0xffffff), 5060);

	return sa;
}


/* The 33rd prober takes the place of the one heard least recently */
static void test_evict(void)
{
	struct kar_watch *w = NULL;
	struct sa sa;
	uint32_t i;

	CU_ASSERT_EQUAL_FATAL(kar_watch_alloc(&w, 3, NULL, NULL), 0);

	/* Source 0x100 + i sends fingerprint i */
	for (i = 1; i <= KAR_WATCH_MAX; i++)
		CU_ASSERT_TRUE(kar_watch_probe(w, loop4(&sa, 0x100 + i),
					       KAR_WATCH_OPTIONS, i, t0 + i));
	CU_ASSERT_EQUAL(kar_watch_count(w), KAR_WATCH_MAX);

	/* The first is heard again: the second is now the oldest */
	CU_ASSERT_TRUE(kar_watch_probe(w, loop4(&sa, 0x101),
				       KAR_WATCH_OPTIONS, 100, t0 + 100));

	CU_ASSERT_TRUE(kar_watch_probe(w, loop4(&sa, 0x200),
				       KAR_WATCH_OPTIONS, 101, t0 + 101));
	CU_ASSERT_EQUAL(kar_watch_count(w), KAR_WATCH_MAX);
	CU_ASSERT_PTR_NOT_NULL(kar_watch_find(w, loop4(&sa, 0x200),
					      KAR_WATCH_OPTIONS));
	CU_ASSERT_PTR_NOT_NULL(kar_watch_find(w, loop4(&sa, 0x101),
					      KAR_WATCH_OPTIONS));
	CU_ASSERT_PTR_NULL(kar_watch_find(w, loop4(&sa, 0x102),
					  KAR_WATCH_OPTIONS));
	CU_ASSERT_PTR_NOT_NULL(kar_watch_find(w, loop4(&sa, 0x103),
					      KAR_WATCH_OPTIONS));

	/* A retransmission is not hearing from it: 0x103 goes next */
	CU_ASSERT_FALSE(kar_watch_probe(w, loop4(&sa, 0x103),
					KAR_WATCH_OPTIONS, 3, t0 + 102));
	CU_ASSERT_TRUE(kar_watch_probe(w, loop4(&sa, 0x201),
				       KAR_WATCH_OPTIONS, 102, t0 + 103));
	CU_ASSERT_PTR_NULL(kar_watch_find(w, loop4(&sa, 0x103),
					  KAR_WATCH_OPTIONS));
	CU_ASSERT_PTR_NOT_NULL(kar_watch_find(w, loop4(&sa, 0x104),
					      KAR_WATCH_OPTIONS));
	CU_ASSERT_EQUAL(kar_watch_count(w), KAR_WATCH_MAX);

	mem_deref(w);
}


/*
 * 100,000 distinct sources: the table stays as it is.  What every build
 * can measure is where the probers live: each one the flood brings in
 * takes one of KAR_WATCH_MAX slots, the regular prober's among them,
 * and no other storage.  (Counting allocations is not portable: libre
 * counts blocks only in its debug builds, and the C library's figures
 * are glibc's, and blind under ASan.)
 */
static void test_flood(void)
{
	const struct kar_watch_info *slot[KAR_WATCH_MAX];
	struct kar_watch *w = NULL;
	struct kar_watch_sum sum;
	unsigned taken = 0, elsewhere = 0;
	size_t nslot = 0, k;
	struct sa sa;
	uint32_t i;

	(void)regular_table(&w, 3, NULL);
	slot[nslot] = find(w, "127.0.0.1", KAR_WATCH_OPTIONS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(slot[nslot]);
	++nslot;

	for (i = 0; i < 100000; i++) {

		enum kar_watch_kind kind = i & 1 ? KAR_WATCH_NOTIFY :
			KAR_WATCH_OPTIONS;
		const struct kar_watch_info *p;

		taken += kar_watch_probe(w, loop4(&sa, 0x10000 + i), kind,
					 fp_next++, t0 + 91 * SEC + i);

		/* A slot seen before, or one of the first KAR_WATCH_MAX */
		p = kar_watch_find(w, &sa, kind);
		for (k = 0; k < nslot && slot[k] != p; k++)
			;
		if (k < nslot)
			continue;
		if (p && nslot < KAR_WATCH_MAX)
			slot[nslot++] = p;
		else
			++elsewhere;
	}

	CU_ASSERT_EQUAL(nslot, KAR_WATCH_MAX);
	CU_ASSERT_EQUAL(elsewhere, 0);
	CU_ASSERT_EQUAL(taken, 100000);
	CU_ASSERT_EQUAL(kar_watch_count(w), KAR_WATCH_MAX);

	/* LRU, as documented: the flood pushed the regular prober out */
	CU_ASSERT_PTR_NULL(find(w, "127.0.0.1", KAR_WATCH_OPTIONS));
	kar_watch_sum(w, &sum);
	CU_ASSERT_EQUAL(sum.n[KAR_WATCH_LEARNING], KAR_WATCH_MAX);
	CU_ASSERT_EQUAL(sum.n[KAR_WATCH_REGULAR], 0);

	/* The last 32 are the ones kept */
	CU_ASSERT_PTR_NOT_NULL(kar_watch_find(w, loop4(&sa, 0x10000 + 99999),
					      KAR_WATCH_NOTIFY));
	CU_ASSERT_PTR_NOT_NULL(kar_watch_find(w, loop4(&sa, 0x10000 + 99968),
					      KAR_WATCH_OPTIONS));
	CU_ASSERT_PTR_NULL(kar_watch_find(w, loop4(&sa, 0x10000 + 99967),
					  KAR_WATCH_NOTIFY));

	mem_deref(w);
}


/* At factor x interval, not a millisecond before, and once */
static void test_loss(void)
{
	struct kar_watch *w = NULL;
	struct kar_watch_sum sum;
	struct rec rec;
	uint64_t last;

	last = regular_table(&w, 3, &rec);
	CU_ASSERT_EQUAL(kar_watch_deadline(w), last + 90 * SEC);

	kar_watch_check(w, last + 90 * SEC - 1);
	CU_ASSERT_EQUAL(rec.n, 0);
	CU_ASSERT_EQUAL(state(w, "127.0.0.1", KAR_WATCH_OPTIONS),
			KAR_WATCH_REGULAR);

	kar_watch_check(w, last + 90 * SEC);
	CU_ASSERT_EQUAL_FATAL(rec.n, 1);
	CU_ASSERT_EQUAL(rec.ev[0], KAR_WATCH_EV_LOST);
	CU_ASSERT_EQUAL(rec.info[0].kind, KAR_WATCH_OPTIONS);
	CU_ASSERT_EQUAL(rec.info[0].ivl, 30 * SEC);
	CU_ASSERT_EQUAL(rec.info[0].state, KAR_WATCH_LOST);
	CU_ASSERT_EQUAL(rec.info[0].losses, 1);
	CU_ASSERT_EQUAL(rec.info[0].last, last);
	CU_ASSERT_EQUAL(sa_af(&rec.info[0].src), AF_INET);
	CU_ASSERT_EQUAL(sa_in(&rec.info[0].src), 0x7f000001);

	/* Once */
	kar_watch_check(w, last + 91 * SEC);
	kar_watch_check(w, last + 3600 * SEC);
	CU_ASSERT_EQUAL(rec.n, 1);
	CU_ASSERT_EQUAL(kar_watch_deadline(w), 0);

	kar_watch_sum(w, &sum);
	CU_ASSERT_EQUAL(sum.n[KAR_WATCH_LOST], 1);
	CU_ASSERT_EQUAL(sum.n[KAR_WATCH_REGULAR], 0);
	CU_ASSERT_EQUAL(sum.losses, 1);
	mem_deref(w);

	/* Another factor, another deadline */
	last = regular_table(&w, 5, &rec);
	CU_ASSERT_EQUAL(kar_watch_deadline(w), last + 150 * SEC);
	kar_watch_check(w, last + 150 * SEC - 1);
	CU_ASSERT_EQUAL(rec.n, 0);

	CU_ASSERT_EQUAL(kar_watch_set_factor(w, 2), 0);
	CU_ASSERT_EQUAL(kar_watch_deadline(w), last + 60 * SEC);
	kar_watch_check(w, last + 60 * SEC);
	CU_ASSERT_EQUAL(rec.n, 1);

	mem_deref(w);
}


static void test_back(void)
{
	struct kar_watch *w = NULL;
	struct kar_watch_sum sum;
	struct rec rec;
	uint64_t last, t;

	last = regular_table(&w, 3, &rec);
	kar_watch_check(w, last + 90 * SEC);
	CU_ASSERT_EQUAL(rec.n, 1);

	/* Probes again after 100 s: back, regular again */
	t = last + 100 * SEC;
	CU_ASSERT_TRUE(probe(w, "127.0.0.1", KAR_WATCH_OPTIONS, t));
	CU_ASSERT_EQUAL_FATAL(rec.n, 2);
	CU_ASSERT_EQUAL(rec.ev[1], KAR_WATCH_EV_BACK);
	CU_ASSERT_EQUAL(rec.info[1].state, KAR_WATCH_REGULAR);
	CU_ASSERT_EQUAL(rec.info[1].gap, 100 * SEC);
	CU_ASSERT_EQUAL(rec.info[1].losses, 1);
	CU_ASSERT_EQUAL(state(w, "127.0.0.1", KAR_WATCH_OPTIONS),
			KAR_WATCH_REGULAR);

	/* Watched again at once, leniently until the rhythm is back */
	CU_ASSERT_NOT_EQUAL(kar_watch_deadline(w), 0);
	CU_ASSERT_TRUE(kar_watch_deadline(w) >= t + 90 * SEC);

	/* Back on 30 s: the interval follows from the third gap on */
	t = steady(w, "127.0.0.1", KAR_WATCH_OPTIONS, t + 30 * SEC, 30 * SEC,
		   2);
	CU_ASSERT_EQUAL(ivl(w, "127.0.0.1", KAR_WATCH_OPTIONS), 30 * SEC);
	CU_ASSERT_EQUAL(kar_watch_deadline(w), t + 90 * SEC);
	CU_ASSERT_EQUAL(rec.n, 2);

	/* Lost again: the second loss of this prober */
	kar_watch_check(w, t + 90 * SEC);
	CU_ASSERT_EQUAL_FATAL(rec.n, 3);
	CU_ASSERT_EQUAL(rec.ev[2], KAR_WATCH_EV_LOST);
	CU_ASSERT_EQUAL(rec.info[2].losses, 2);
	CU_ASSERT_EQUAL(find(w, "127.0.0.1", KAR_WATCH_OPTIONS)->losses, 2);

	kar_watch_sum(w, &sum);
	CU_ASSERT_EQUAL(sum.losses, 2);

	/* And back once more */
	CU_ASSERT_TRUE(probe(w, "127.0.0.1", KAR_WATCH_OPTIONS,
			     t + 100 * SEC));
	CU_ASSERT_EQUAL(rec.n, 4);
	mem_deref(w);
}


/* A server that lengthens its interval is lost once, not every time */
static void test_rhythm_change(void)
{
	struct kar_watch *w = NULL;
	struct rec rec;
	uint64_t t;
	unsigned i;

	t = regular_table(&w, 3, &rec);
	for (i = 0; i < 6; i++) {
		t += 120 * SEC;
		kar_watch_check(w, t - 1);
		CU_ASSERT_TRUE(probe(w, "127.0.0.1", KAR_WATCH_OPTIONS, t));
	}

	CU_ASSERT_EQUAL(rec.n, 2);
	CU_ASSERT_EQUAL(rec.ev[0], KAR_WATCH_EV_LOST);
	CU_ASSERT_EQUAL(rec.ev[1], KAR_WATCH_EV_BACK);
	CU_ASSERT_EQUAL(state(w, "127.0.0.1", KAR_WATCH_OPTIONS),
			KAR_WATCH_REGULAR);
	CU_ASSERT_EQUAL(ivl(w, "127.0.0.1", KAR_WATCH_OPTIONS), 120 * SEC);

	mem_deref(w);
}


/* A timer that ran late: the probe after the deadline tells both */
static void test_late_probe(void)
{
	struct kar_watch *w = NULL;
	struct rec rec;
	uint64_t last;

	last = regular_table(&w, 3, &rec);

	/* Just in time: nothing */
	CU_ASSERT_TRUE(probe(w, "127.0.0.1", KAR_WATCH_OPTIONS,
			     last + 90 * SEC - 1));
	CU_ASSERT_EQUAL(rec.n, 0);
	last += 90 * SEC - 1;

	CU_ASSERT_TRUE(probe(w, "127.0.0.1", KAR_WATCH_OPTIONS,
			     last + 90 * SEC + 5));
	CU_ASSERT_EQUAL_FATAL(rec.n, 2);
	CU_ASSERT_EQUAL(rec.ev[0], KAR_WATCH_EV_LOST);
	CU_ASSERT_EQUAL(rec.ev[1], KAR_WATCH_EV_BACK);

	mem_deref(w);
}


/* The one timer: the earliest deadline of the regular probers */
static void test_deadline(void)
{
	struct kar_watch *w = NULL;
	struct rec rec;
	uint64_t la, lb;

	/* Nothing watched at first, then one regular prober */
	la = regular_table(&w, 3, &rec);
	CU_ASSERT_EQUAL(kar_watch_deadline(w), la + 90 * SEC);

	/* A learning prober does not count */
	(void)steady(w, "127.0.0.3", KAR_WATCH_OPTIONS, t0, 5 * SEC, 2);
	CU_ASSERT_EQUAL(kar_watch_deadline(w), la + 90 * SEC);

	lb = steady(w, "::1", KAR_WATCH_NOTIFY, t0 + 50 * SEC, 10 * SEC, 4);
	CU_ASSERT_EQUAL(lb, t0 + 80 * SEC);
	CU_ASSERT_EQUAL(kar_watch_deadline(w), lb + 30 * SEC);

	/* It probes: its deadline moves on */
	CU_ASSERT_TRUE(probe(w, "::1", KAR_WATCH_NOTIFY, lb + 10 * SEC));
	lb += 10 * SEC;
	CU_ASSERT_EQUAL(kar_watch_deadline(w), lb + 30 * SEC);

	/* Lost, it no longer counts: the other one is next */
	kar_watch_check(w, lb + 30 * SEC);
	CU_ASSERT_EQUAL(rec.n, 1);
	CU_ASSERT_EQUAL(kar_watch_deadline(w), la + 90 * SEC);

	kar_watch_check(w, la + 90 * SEC);
	CU_ASSERT_EQUAL(rec.n, 2);
	CU_ASSERT_EQUAL(kar_watch_deadline(w), 0);

	mem_deref(w);
}


static void test_reset(void)
{
	struct kar_watch *w = NULL;
	struct kar_watch_sum sum;
	struct rec rec;
	uint64_t last;

	last = regular_table(&w, 3, &rec);
	(void)steady(w, "::1", KAR_WATCH_NOTIFY, t0, 30 * SEC, 2);
	kar_watch_check(w, last + 90 * SEC);
	CU_ASSERT_EQUAL(rec.n, 1);

	kar_watch_reset(w);
	CU_ASSERT_EQUAL(kar_watch_count(w), 0);
	CU_ASSERT_PTR_NULL(find(w, "127.0.0.1", KAR_WATCH_OPTIONS));
	CU_ASSERT_PTR_NULL(find(w, "::1", KAR_WATCH_NOTIFY));
	CU_ASSERT_EQUAL(kar_watch_deadline(w), 0);
	kar_watch_sum(w, &sum);
	CU_ASSERT_EQUAL(sum.n[KAR_WATCH_LEARNING] + sum.n[KAR_WATCH_REGULAR] +
			sum.n[KAR_WATCH_LOST], 0);
	CU_ASSERT_EQUAL(sum.losses, 0);

	/* Learned again from nothing: no return, no old interval */
	CU_ASSERT_TRUE(probe(w, "127.0.0.1", KAR_WATCH_OPTIONS,
			     last + 100 * SEC));
	CU_ASSERT_EQUAL(rec.n, 1);
	CU_ASSERT_EQUAL(state(w, "127.0.0.1", KAR_WATCH_OPTIONS),
			KAR_WATCH_LEARNING);
	CU_ASSERT_EQUAL(find(w, "127.0.0.1", KAR_WATCH_OPTIONS)->losses, 0);

	/* The whole table again */
	(void)regular30(w, last + 130 * SEC);

	mem_deref(w);
}


static void test_shutdown(void)
{
	struct kar_watch *w = NULL;
	struct rec rec;
	uint64_t last, t;

	last = regular_table(&w, 3, &rec);
	t = steady(w, "::1", KAR_WATCH_NOTIFY, t0, 10 * SEC, 4);
	kar_watch_check(w, t + 30 * SEC);
	CU_ASSERT_EQUAL(rec.n, 1);
	CU_ASSERT_NOT_EQUAL(kar_watch_deadline(w), 0);

	kar_watch_shutdown(w);
	CU_ASSERT_EQUAL(kar_watch_deadline(w), 0);

	/* No loss, and no return either */
	kar_watch_check(w, last + 90 * SEC);
	kar_watch_check(w, last + 3600 * SEC);
	CU_ASSERT_TRUE(probe(w, "127.0.0.1", KAR_WATCH_OPTIONS,
			     last + 3601 * SEC));
	CU_ASSERT_TRUE(probe(w, "::1", KAR_WATCH_NOTIFY, last + 3601 * SEC));
	CU_ASSERT_EQUAL(rec.n, 1);

	mem_deref(w);
}


static int mb_vph(const char *p, size_t size, void *arg)
{
	return mbuf_write_mem(arg, (const uint8_t *)p, size);
}


typedef int (watch_print_h)(struct re_printf *pf, const struct kar_watch *w,
			    uint64_t now);


/* What a printer writes, as a C string */
static char *print(watch_print_h *h, const struct kar_watch *w,
		   uint64_t now)
{
	struct mbuf *mb = mbuf_alloc(512);
	struct re_printf pf;
	char *str = NULL;

	if (!mb)
		return NULL;

	pf.vph = mb_vph;
	pf.arg = mb;

	if (!h(&pf, w, now)) {
		mb->pos = 0;
		(void)mbuf_strdup(mb, &str, mb->end);
	}

	mem_deref(mb);

	return str;
}


/* Two probers, from the shared set-up (its last probe at last): regular
   OPTIONS from 127.0.0.1 (lost once, back), and a learning NOTIFY from
   ::1 heard last; returns the time of that */
static uint64_t two(struct kar_watch *w, uint64_t last)
{
	kar_watch_check(w, last + 90 * SEC);
	last += 100 * SEC;
	CU_ASSERT_TRUE(probe(w, "127.0.0.1", KAR_WATCH_OPTIONS, last));
	last = steady(w, "127.0.0.1", KAR_WATCH_OPTIONS, last + 30 * SEC,
		      30 * SEC, 3);
	CU_ASSERT_EQUAL(ivl(w, "127.0.0.1", KAR_WATCH_OPTIONS), 30 * SEC);
	CU_ASSERT_TRUE(probe(w, "::1", KAR_WATCH_NOTIFY, last + 2 * SEC));

	return last + 2 * SEC;
}


static const struct odict_entry *entry(const struct odict *o,
				       const char *key, enum odict_type type)
{
	const struct odict_entry *e = o ? odict_lookup(o, key) : NULL;

	return e && UT_ODICT_TYPE(e) == type ? e : NULL;
}


static bool json_str(const struct odict *o, const char *key,
		     const char *val)
{
	const struct odict_entry *e = entry(o, key, ODICT_STRING);

	return e && !strcmp(UT_ODICT_STR(e), val);
}


static int64_t json_int(const struct odict *o, const char *key)
{
	const struct odict_entry *e = entry(o, key, ODICT_INT);

	return e ? UT_ODICT_INT(e) : -1;
}


/* libre 2.1's getter for an object refuses an array (unit.h) */
#ifdef KAR_RE_ODICT_GETTERS
#define UT_ODICT_ARR(e) odict_entry_array(e)
#else
#define UT_ODICT_ARR(e) ((e)->u.odict)
#endif


static const struct odict *json_obj(const struct odict *o, const char *key,
				    enum odict_type type)
{
	const struct odict_entry *e = entry(o, key, type);

	if (!e)
		return NULL;

	return type == ODICT_ARRAY ? UT_ODICT_ARR(e) : UT_ODICT_OBJ(e);
}


/* What a JSON consumer reads from kar_watch_json() */
static void test_json(void)
{
	struct kar_watch *w = NULL;
	const struct odict *sum, *arr, *p;
	struct odict *o = NULL;
	uint64_t last;
	char *str;

	last = regular_table(&w, 4, NULL);
	CU_ASSERT_EQUAL_FATAL(kar_watch_set_factor(w, 3), 0);
	last = two(w, last);

	str = print(kar_watch_json, w, last + 12 * SEC + 999);
	CU_ASSERT_PTR_NOT_NULL_FATAL(str);
	CU_ASSERT_EQUAL_FATAL(json_decode_odict(&o, 16, str, strlen(str),
						8), 0);

	CU_ASSERT_EQUAL(odict_count(o, false), 3);
	CU_ASSERT_EQUAL(json_int(o, "factor"), 3);

	sum = json_obj(o, "summary", ODICT_OBJECT);
	CU_ASSERT_PTR_NOT_NULL(sum);
	CU_ASSERT_EQUAL(odict_count(sum, false), 4);
	CU_ASSERT_EQUAL(json_int(sum, "learning"), 1);
	CU_ASSERT_EQUAL(json_int(sum, "regular"), 1);
	CU_ASSERT_EQUAL(json_int(sum, "lost"), 0);
	CU_ASSERT_EQUAL(json_int(sum, "losses"), 1);

	arr = json_obj(o, "probers", ODICT_ARRAY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(arr);
	CU_ASSERT_EQUAL(odict_count(arr, false), 2);

	/* Most recently heard first */
	p = json_obj(arr, "0", ODICT_OBJECT);
	CU_ASSERT_PTR_NOT_NULL(p);
	CU_ASSERT_EQUAL(odict_count(p, false), 6);
	CU_ASSERT_TRUE(json_str(p, "source", "::1"));
	CU_ASSERT_TRUE(json_str(p, "kind", "NOTIFY"));
	CU_ASSERT_TRUE(json_str(p, "state", "learning"));
	CU_ASSERT_EQUAL(json_int(p, "interval_ms"), 0);
	CU_ASSERT_EQUAL(json_int(p, "since_last_s"), 12);
	CU_ASSERT_EQUAL(json_int(p, "losses"), 0);

	p = json_obj(arr, "1", ODICT_OBJECT);
	CU_ASSERT_PTR_NOT_NULL(p);
	CU_ASSERT_TRUE(json_str(p, "source", "127.0.0.1"));
	CU_ASSERT_TRUE(json_str(p, "kind", "OPTIONS"));
	CU_ASSERT_TRUE(json_str(p, "state", "regular"));
	CU_ASSERT_EQUAL(json_int(p, "interval_ms"), 30000);
	CU_ASSERT_EQUAL(json_int(p, "since_last_s"), 14);
	CU_ASSERT_EQUAL(json_int(p, "losses"), 1);

	mem_deref(o);
	mem_deref(str);

	/* Empty: an empty array */
	kar_watch_reset(w);
	str = print(kar_watch_json, w, last);
	CU_ASSERT_PTR_NOT_NULL_FATAL(str);
	o = NULL;
	CU_ASSERT_EQUAL_FATAL(json_decode_odict(&o, 16, str, strlen(str),
						8), 0);
	arr = json_obj(o, "probers", ODICT_ARRAY);
	CU_ASSERT_PTR_NOT_NULL(arr);
	CU_ASSERT_EQUAL(odict_count(arr, false), 0);
	CU_ASSERT_EQUAL(json_int(json_obj(o, "summary", ODICT_OBJECT),
				 "losses"), 0);
	mem_deref(o);
	mem_deref(str);

	mem_deref(w);
}


static int sum_json(struct re_printf *pf, const struct kar_watch *w,
		    uint64_t now)
{
	struct odict *o = NULL;
	int err;

	(void)now;

	err = kar_watch_sum_odict(&o, w);
	if (err)
		return err;

	/* As the counters' JSON would embed it */
	err = re_hprintf(pf, "{\"watch\":%H}", json_encode_odict, o);
	mem_deref(o);

	return err;
}


/* The summary the counters' JSON embeds under "watch" */
static void test_summary(void)
{
	struct kar_watch *w = NULL;
	struct kar_watch_sum s;
	const struct odict *sum;
	struct odict *o = NULL;
	uint64_t last;
	char *str;

	last = regular_table(&w, 3, NULL);
	last = two(w, last);
	(void)steady(w, "127.0.0.2", KAR_WATCH_NOTIFY, t0, 60 * SEC, 4);
	kar_watch_check(w, t0 + 180 * SEC + 180 * SEC);

	kar_watch_sum(w, &s);
	CU_ASSERT_EQUAL(s.n[KAR_WATCH_LEARNING], 1);
	CU_ASSERT_EQUAL(s.n[KAR_WATCH_REGULAR], 1);
	CU_ASSERT_EQUAL(s.n[KAR_WATCH_LOST], 1);
	CU_ASSERT_EQUAL(s.losses, 2);

	str = print(sum_json, w, last);
	CU_ASSERT_PTR_NOT_NULL_FATAL(str);
	CU_ASSERT_EQUAL_FATAL(json_decode_odict(&o, 16, str, strlen(str),
						8), 0);
	sum = json_obj(o, "watch", ODICT_OBJECT);
	CU_ASSERT_PTR_NOT_NULL(sum);
	CU_ASSERT_EQUAL(odict_count(sum, false), 4);
	CU_ASSERT_EQUAL(json_int(sum, "learning"), 1);
	CU_ASSERT_EQUAL(json_int(sum, "regular"), 1);
	CU_ASSERT_EQUAL(json_int(sum, "lost"), 1);
	CU_ASSERT_EQUAL(json_int(sum, "losses"), 2);

	mem_deref(o);
	mem_deref(str);
	mem_deref(w);
}


static void test_print(void)
{
	static const char hdr[] = "probe watch: factor 3, 2 probers"
		" (learning 1, regular 1, lost 0), losses 1\n";
	struct kar_watch *w = NULL;
	uint64_t last;
	char *str, *nl;

	last = regular_table(&w, 3, NULL);
	last = two(w, last);

	str = print(kar_watch_print, w, last + 5 * SEC);
	CU_ASSERT_PTR_NOT_NULL_FATAL(str);

	CU_ASSERT_EQUAL(strncmp(str, hdr, sizeof(hdr) - 1), 0);
	CU_ASSERT_EQUAL(unit_count(str, "\n"), 3);

	/* One line per prober, most recently heard first */
	nl = strchr(str, '\n');
	CU_ASSERT_PTR_NOT_NULL_FATAL(nl);
	CU_ASSERT_PTR_NOT_NULL(strstr(nl, "::1"));
	CU_ASSERT_TRUE(strstr(nl, "::1") < strstr(nl, "127.0.0.1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(nl, "NOTIFY  learning interval -,"
				      " last 5 s ago, losses 0\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(nl, "OPTIONS regular  interval 30.0 s,"
				      " last 7 s ago, losses 1\n"));

	mem_deref(str);

	CU_ASSERT_NOT_EQUAL(kar_watch_print(NULL, NULL, 0), 0);
	mem_deref(w);
}


static CU_TestInfo tests[] = {
	{"alloc",          test_alloc},
	{"regular",        test_regular},
	{"jitter",         test_jitter},
	{"retransmission", test_retransmission},
	{"fingerprint",    test_fingerprint},
	{"fast",           test_fast},
	{"slow",           test_slow},
	{"two_kinds",      test_two_kinds},
	{"addresses",      test_addresses},
	{"evict",          test_evict},
	{"flood",          test_flood},
	{"loss",           test_loss},
	{"back",           test_back},
	{"rhythm_change",  test_rhythm_change},
	{"late_probe",     test_late_probe},
	{"deadline",       test_deadline},
	{"reset",          test_reset},
	{"shutdown",       test_shutdown},
	{"json",           test_json},
	{"summary",        test_summary},
	{"print",          test_print},
	CU_TEST_INFO_NULL
};


int unit_watch_register(void)
{
	return unit_suite_add("watch", NULL, NULL, tests);
}
