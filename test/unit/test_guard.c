/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file test_guard.c  keepalive_responder unit tests -- guard.c
 *
 * The log limit (a burst of 10 lines, then one per second, and what was
 * held back is reported with the next line), the per-source rate limit
 * with its bounded table, the User-Agent filter and the trusted list.
 */
#include <string.h>
#include <re.h>
#include <CUnit/CUnit.h>
#include "kar.h"
#include "unit.h"


/* Far from zero, as tmr_jiffies() is */
static const uint64_t t0 = 1700000000000ULL;


/* Take n tokens at one instant; returns how many were granted */
static unsigned take(struct kar_loglimit *ll, uint64_t now, unsigned n)
{
	unsigned i, ok = 0;

	for (i = 0; i < n; i++) {
		uint32_t sup = 0;

		if (kar_loglimit_take(ll, now, &sup))
			++ok;
	}

	return ok;
}


static void test_burst(void)
{
	struct kar_loglimit ll = {0, 0, 0};
	uint32_t sup = 99;
	unsigned i;

	/* A zeroed limiter starts full */
	for (i = 0; i < 10; i++) {
		sup = 99;
		CU_ASSERT_TRUE(kar_loglimit_take(&ll, t0, &sup));
		CU_ASSERT_EQUAL(sup, 0);
	}

	sup = 99;
	CU_ASSERT_FALSE(kar_loglimit_take(&ll, t0, &sup));
	CU_ASSERT_FALSE(kar_loglimit_take(&ll, t0 + 999, &sup));

	/* Not reported on a refusal */
	CU_ASSERT_EQUAL(sup, 99);
}


static void test_refill(void)
{
	struct kar_loglimit ll = {0, 0, 0};
	uint32_t sup = 0;

	CU_ASSERT_EQUAL(take(&ll, t0, 13), 10);
	CU_ASSERT_FALSE(kar_loglimit_take(&ll, t0 + 999, &sup));

	/* One line per second, and the 4 refused ones are reported */
	CU_ASSERT_TRUE(kar_loglimit_take(&ll, t0 + 1000, &sup));
	CU_ASSERT_EQUAL(sup, 4);
	CU_ASSERT_FALSE(kar_loglimit_take(&ll, t0 + 1000, &sup));

	/* Reported once: the next line says 1 (just above), not 5 */
	CU_ASSERT_TRUE(kar_loglimit_take(&ll, t0 + 2000, &sup));
	CU_ASSERT_EQUAL(sup, 1);

	CU_ASSERT_TRUE(kar_loglimit_take(&ll, t0 + 3000, &sup));
	CU_ASSERT_EQUAL(sup, 0);

	/* Three seconds' worth at once */
	CU_ASSERT_EQUAL(take(&ll, t0 + 6000, 5), 3);
}


/* A partial second is not lost when a token is earned */
static void test_refill_carry(void)
{
	struct kar_loglimit ll = {0, 0, 0};
	uint32_t sup;

	CU_ASSERT_EQUAL(take(&ll, t0, 10), 10);

	CU_ASSERT_TRUE(kar_loglimit_take(&ll, t0 + 1500, &sup));
	CU_ASSERT_FALSE(kar_loglimit_take(&ll, t0 + 1999, &sup));
	CU_ASSERT_TRUE(kar_loglimit_take(&ll, t0 + 2000, &sup));
	CU_ASSERT_EQUAL(sup, 1);
}


/* A long pause refills to the burst, no further */
static void test_cap(void)
{
	struct kar_loglimit ll = {0, 0, 0};

	CU_ASSERT_EQUAL(take(&ll, t0, 10), 10);
	CU_ASSERT_EQUAL(take(&ll, t0 + 3600 * 1000, 50), 10);
	CU_ASSERT_EQUAL(take(&ll, t0 + 3600 * 1000 + 1000, 50), 1);
}


/* A clock that steps back earns nothing and breaks nothing */
static void test_clock_back(void)
{
	struct kar_loglimit ll = {0, 0, 0};
	uint32_t sup;

	CU_ASSERT_EQUAL(take(&ll, t0, 10), 10);
	CU_ASSERT_FALSE(kar_loglimit_take(&ll, t0 - 5000, &sup));
	CU_ASSERT_TRUE(kar_loglimit_take(&ll, t0 + 1000, &sup));
	CU_ASSERT_EQUAL(sup, 1);
}


static void test_args(void)
{
	struct kar_loglimit ll = {0, 0, 0};

	CU_ASSERT_FALSE(kar_loglimit_take(NULL, t0, NULL));

	/* The report is optional */
	CU_ASSERT_TRUE(kar_loglimit_take(&ll, t0, NULL));
	CU_ASSERT_EQUAL(ll.tokens, 9);
}


/*
 * Per-source rate (keepalive_responder_rate)
 */

static struct sa *addr(struct sa *sa, const char *str, uint16_t port)
{
	if (sa_set_str(sa, str, port))
		sa_init(sa, AF_UNSPEC);

	return sa;
}


/* Requests granted out of n from one source at one instant */
static unsigned rate_n(struct kar_rate *r, const char *src, uint64_t now,
		       unsigned n)
{
	struct sa sa;
	unsigned i, ok = 0;

	(void)addr(&sa, src, 5060);

	for (i = 0; i < n; i++) {
		if (kar_rate_take(r, &sa, now))
			++ok;
	}

	return ok;
}


static void test_rate_alloc(void)
{
	struct kar_rate *r = NULL;

	CU_ASSERT_EQUAL(kar_rate_alloc(NULL, 50, 16, 1), EINVAL);
	CU_ASSERT_EQUAL(kar_rate_alloc(&r, 0, 16, 1), EINVAL);
	CU_ASSERT_EQUAL(kar_rate_alloc(&r, 50, 0, 1), EINVAL);
	CU_ASSERT_PTR_NULL(r);

	/* No limiter: everything passes */
	CU_ASSERT_TRUE(kar_rate_take(NULL, NULL, t0));
}


/* token bucket, burst 2x rate */
static void test_rate_burst(void)
{
	struct kar_rate *r = NULL;

	CU_ASSERT_EQUAL_FATAL(kar_rate_alloc(&r, 5, 16, 0x1234), 0);

	CU_ASSERT_EQUAL(rate_n(r, "192.0.2.1", t0, 15), 10);

	/* One more every 1000/rate ms, without losing the remainder */
	CU_ASSERT_EQUAL(rate_n(r, "192.0.2.1", t0 + 199, 1), 0);
	CU_ASSERT_EQUAL(rate_n(r, "192.0.2.1", t0 + 200, 2), 1);
	CU_ASSERT_EQUAL(rate_n(r, "192.0.2.1", t0 + 300, 1), 0);
	CU_ASSERT_EQUAL(rate_n(r, "192.0.2.1", t0 + 400, 1), 1);

	/* A second's worth */
	CU_ASSERT_EQUAL(rate_n(r, "192.0.2.1", t0 + 1400, 10), 5);

	/* A long pause refills the burst, no more */
	CU_ASSERT_EQUAL(rate_n(r, "192.0.2.1", t0 + 3600000, 50), 10);

	/* A clock that steps back earns nothing */
	CU_ASSERT_EQUAL(rate_n(r, "192.0.2.1", t0, 1), 0);

	mem_deref(r);
}


/* Per source address; the port is not part of it */
static void test_rate_sources(void)
{
	struct kar_rate *r = NULL;
	struct sa sa;

	CU_ASSERT_EQUAL_FATAL(kar_rate_alloc(&r, 1, 16, 7), 0);

	CU_ASSERT_EQUAL(rate_n(r, "192.0.2.1", t0, 3), 2);
	CU_ASSERT_EQUAL(rate_n(r, "192.0.2.2", t0, 3), 2);
	CU_ASSERT_EQUAL(rate_n(r, "2001:db8::1", t0, 3), 2);
	CU_ASSERT_EQUAL(rate_n(r, "2001:db8::2", t0, 3), 2);

	/* Another port of a source that used its burst up */
	CU_ASSERT_FALSE(kar_rate_take(r, addr(&sa, "192.0.2.1", 40000), t0));
	CU_ASSERT_FALSE(kar_rate_take(r, addr(&sa, "2001:db8::1", 1), t0));

	mem_deref(r);
}


/* As many sources as slots: every one its own bucket */
static void test_rate_full_table(void)
{
	struct kar_rate *r = NULL;
	char src[32];
	unsigned i, ok = 0, refused = 0;

	CU_ASSERT_EQUAL_FATAL(kar_rate_alloc(&r, 1, 64, 99), 0);

	for (i = 0; i < 64; i++) {
		(void)re_snprintf(src, sizeof(src), "10.0.%u.%u", i % 7,
				  i);
		ok += rate_n(r, src, t0, 2);
	}
	for (i = 0; i < 64; i++) {
		(void)re_snprintf(src, sizeof(src), "10.0.%u.%u", i % 7,
				  i);
		refused += 1 - rate_n(r, src, t0, 1);
	}

	CU_ASSERT_EQUAL(ok, 128);
	CU_ASSERT_EQUAL(refused, 64);

	mem_deref(r);
}


/*
 * Memory stays bounded; a new source takes the slot of the one
 * seen least recently, which then starts over with a full bucket
 */
static void test_rate_evict(void)
{
	struct kar_rate *r = NULL;

	CU_ASSERT_EQUAL_FATAL(kar_rate_alloc(&r, 1, 2, 5), 0);

	CU_ASSERT_EQUAL(rate_n(r, "192.0.2.1", t0, 3), 2);  /* A empty */
	CU_ASSERT_EQUAL(rate_n(r, "192.0.2.2", t0, 1), 1);  /* B       */

	/* A seen again (refused): now B is the oldest */
	CU_ASSERT_EQUAL(rate_n(r, "192.0.2.1", t0, 1), 0);

	CU_ASSERT_EQUAL(rate_n(r, "192.0.2.3", t0, 1), 1);  /* C: B out */
	CU_ASSERT_EQUAL(rate_n(r, "192.0.2.1", t0, 1), 0);  /* A kept  */

	/* B comes back as new (A is older than C now) */
	CU_ASSERT_EQUAL(rate_n(r, "192.0.2.2", t0, 3), 2);

	/* C was evicted for B; A is still there and still empty */
	CU_ASSERT_EQUAL(rate_n(r, "192.0.2.1", t0, 1), 0);

	mem_deref(r);
}


/*
 * Scanner filter (keepalive_responder_drop_ua)
 */

static bool ua_drop(const struct kar_uafilter *f, const char *uas)
{
	struct sip_msg *msg = NULL;
	bool drop;

	if (unit_request(&msg, "OPTIONS", "sip:192.0.2.1", NULL, uas))
		return false;

	drop = kar_uafilter_match(f, unit_req(msg));
	mem_deref(msg);

	return drop;
}


#define DROP_UA "friendly-scanner,sipvicious,sipcli,sip-scan," \
	"VaxSIPUserAgent,iWar,sundayddr"


static void test_ua_match(void)
{
	struct kar_uafilter f;

	CU_ASSERT_EQUAL_FATAL(kar_uafilter_parse(&f, DROP_UA), 0);
	CU_ASSERT_EQUAL(f.n, 7);

	CU_ASSERT_TRUE(ua_drop(&f, "User-Agent: friendly-scanner\r\n"));
	CU_ASSERT_TRUE(ua_drop(&f, "User-Agent: sipvicious 0.3.0\r\n"));
	CU_ASSERT_TRUE(ua_drop(&f, "User-Agent: SIPVicious\r\n"));
	CU_ASSERT_TRUE(ua_drop(&f, "User-Agent: my-sipcli/1.8\r\n"));
	CU_ASSERT_TRUE(ua_drop(&f, "User-Agent: vaxsipuseragent/3.1\r\n"));
	CU_ASSERT_TRUE(ua_drop(&f, "user-agent: IWAR\r\n"));

	/* Any User-Agent line */
	CU_ASSERT_TRUE(ua_drop(&f, "User-Agent: baresip\r\n"
			       "User-Agent: sundayddr\r\n"));

	CU_ASSERT_FALSE(ua_drop(&f, "User-Agent: baresip v1.0.0\r\n"));
	CU_ASSERT_FALSE(ua_drop(&f, "User-Agent: friendly scanner\r\n"));
	CU_ASSERT_FALSE(ua_drop(&f, "User-Agent: sip-sca\r\n"));
	CU_ASSERT_FALSE(ua_drop(&f, NULL));

	/* Only User-Agent counts; Aahyp hashes as User-Agent does, and
	   is no User-Agent */
	CU_ASSERT_FALSE(ua_drop(&f, "Server: friendly-scanner\r\n"
			       "Subject: sipvicious\r\n"));
	CU_ASSERT_FALSE(ua_drop(&f, "Aahyp: friendly-scanner\r\n"));

	/* White space around an item is the list's, as in every list */
	CU_ASSERT_EQUAL_FATAL(kar_uafilter_parse(&f, " sipcli ,\tiWar"), 0);
	CU_ASSERT_EQUAL(f.n, 2);
	CU_ASSERT_TRUE(ua_drop(&f, "User-Agent: sipcli\r\n"));
	CU_ASSERT_TRUE(ua_drop(&f, "User-Agent: IWAR/1\r\n"));
	CU_ASSERT_FALSE(ua_drop(&f, "User-Agent: a sip cli\r\n"));
}


/* empty disables the filter */
static void test_ua_empty(void)
{
	struct kar_uafilter f;

	memset(&f, 0x5a, sizeof(f));
	CU_ASSERT_EQUAL_FATAL(kar_uafilter_parse(&f, ""), 0);
	CU_ASSERT_EQUAL(f.n, 0);
	CU_ASSERT_FALSE(ua_drop(&f, "User-Agent: friendly-scanner\r\n"));

	CU_ASSERT_FALSE(ua_drop(NULL, "User-Agent: friendly-scanner\r\n"));
	CU_ASSERT_FALSE(kar_uafilter_match(&f, NULL));
}


static void test_ua_bad(void)
{
	static const char *bad[] = {
		",a", "a,", "a,,b", ",", "a\x01", "a\tb", "a\x7f",
	};
	struct kar_uafilter f, copy;
	char big[KAR_UA_PATL + 1];
	struct mbuf *mb;
	size_t i;

	CU_ASSERT_EQUAL_FATAL(kar_uafilter_parse(&f, DROP_UA), 0);
	copy = f;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		CU_ASSERT_EQUAL(kar_uafilter_parse(&f, bad[i]), EINVAL);

	memset(big, 'x', KAR_UA_PATL);
	big[KAR_UA_PATL] = '\0';
	CU_ASSERT_EQUAL(kar_uafilter_parse(&f, big), EINVAL);

	/* Replaced only on success */
	CU_ASSERT_EQUAL(memcmp(&f, &copy, sizeof(f)), 0);

	big[KAR_UA_PATL - 1] = '\0';
	CU_ASSERT_EQUAL(kar_uafilter_parse(&f, big), 0);

	/* KAR_UA_MAX items fit, one more does not */
	mb = mbuf_alloc(256);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mb);
	for (i = 0; i < KAR_UA_MAX; i++)
		(void)mbuf_printf(mb, "%sua%zu", i ? "," : "", i);
	(void)mbuf_write_u8(mb, 0);
	CU_ASSERT_EQUAL(kar_uafilter_parse(&f, (char *)mb->buf), 0);
	CU_ASSERT_EQUAL(f.n, KAR_UA_MAX);

	mb->end = mb->pos = mb->end - 1;
	(void)mbuf_printf(mb, ",one-more");
	(void)mbuf_write_u8(mb, 0);
	CU_ASSERT_EQUAL(kar_uafilter_parse(&f, (char *)mb->buf), E2BIG);
	mem_deref(mb);

	CU_ASSERT_EQUAL(kar_uafilter_parse(NULL, "a"), EINVAL);
	CU_ASSERT_EQUAL(kar_uafilter_parse(&f, NULL), EINVAL);
}


/*
 * Trusted sources (keepalive_responder_trusted)
 */

static bool trusted(const struct kar_acl *acl, const char *src)
{
	struct sa sa;

	return kar_acl_match(acl, addr(&sa, src, 5060));
}


static void test_acl_parse(void)
{
	struct kar_acl acl;

	/* The example in docs/events.md */
	CU_ASSERT_EQUAL_FATAL(kar_acl_parse(&acl,
			"127.0.0.1,10.0.0.0/8,::1,[fd00::]/8", NULL, 0), 0);
	CU_ASSERT_EQUAL(acl.n, 4);
	CU_ASSERT_EQUAL(acl.v[0].af, AF_INET);
	CU_ASSERT_EQUAL(acl.v[0].bits, 32);
	CU_ASSERT_EQUAL(acl.v[1].bits, 8);
	CU_ASSERT_EQUAL(acl.v[2].af, AF_INET6);
	CU_ASSERT_EQUAL(acl.v[2].bits, 128);
	CU_ASSERT_EQUAL(acl.v[3].af, AF_INET6);
	CU_ASSERT_EQUAL(acl.v[3].bits, 8);

	CU_ASSERT_TRUE(trusted(&acl, "127.0.0.1"));
	CU_ASSERT_FALSE(trusted(&acl, "127.0.0.2"));
	CU_ASSERT_TRUE(trusted(&acl, "10.255.1.2"));
	CU_ASSERT_FALSE(trusted(&acl, "11.0.0.1"));
	CU_ASSERT_TRUE(trusted(&acl, "::1"));
	CU_ASSERT_FALSE(trusted(&acl, "::2"));
	CU_ASSERT_TRUE(trusted(&acl, "fd12:3456::1"));
	CU_ASSERT_FALSE(trusted(&acl, "fe80::1"));

	/* White space around entries */
	CU_ASSERT_EQUAL(kar_acl_parse(&acl, " 192.0.2.1 ,\t2001:db8::1 ",
				      NULL, 0), 0);
	CU_ASSERT_EQUAL(acl.n, 2);
	CU_ASSERT_TRUE(trusted(&acl, "2001:db8::1"));
}


/* host bits of a prefix are ignored */
static void test_acl_prefix(void)
{
	struct kar_acl acl;

	CU_ASSERT_EQUAL_FATAL(kar_acl_parse(&acl,
			"10.1.2.3/8,192.0.2.5/31,198.51.100.128/25,"
			"172.16.0.0/12,2001:db8:1234::1/32,2001:db9::8000/113",
			NULL, 0), 0);

	CU_ASSERT_TRUE(trusted(&acl, "10.0.0.1"));
	CU_ASSERT_TRUE(trusted(&acl, "10.200.0.1"));

	CU_ASSERT_TRUE(trusted(&acl, "192.0.2.4"));
	CU_ASSERT_TRUE(trusted(&acl, "192.0.2.5"));
	CU_ASSERT_FALSE(trusted(&acl, "192.0.2.6"));
	CU_ASSERT_FALSE(trusted(&acl, "192.0.2.3"));

	CU_ASSERT_TRUE(trusted(&acl, "198.51.100.200"));
	CU_ASSERT_FALSE(trusted(&acl, "198.51.100.100"));

	CU_ASSERT_TRUE(trusted(&acl, "172.31.255.255"));
	CU_ASSERT_FALSE(trusted(&acl, "172.32.0.0"));
	CU_ASSERT_FALSE(trusted(&acl, "172.15.255.255"));

	CU_ASSERT_TRUE(trusted(&acl, "2001:db8:ffff::1"));
	CU_ASSERT_FALSE(trusted(&acl, "2001:dba::1"));

	CU_ASSERT_TRUE(trusted(&acl, "2001:db9::ffff"));
	CU_ASSERT_TRUE(trusted(&acl, "2001:db9::8000"));
	CU_ASSERT_FALSE(trusted(&acl, "2001:db9::7fff"));
	CU_ASSERT_FALSE(trusted(&acl, "2001:db9::1:8000"));
}


/* ::ffff:<a>.0.0.<d> as an IPv6 socket address */
static struct sa *mapped(struct sa *sa, uint8_t a, uint8_t d)
{
	uint8_t in6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
			   0, 0, 0, 0};

	in6[12] = a;
	in6[15] = d;
	sa_set_in6(sa, in6, 5060);

	return sa;
}


static void test_acl_family(void)
{
	struct kar_acl acl;
	struct sa unset, sa;

	/* /0 is the whole family, not every address */
	CU_ASSERT_EQUAL_FATAL(kar_acl_parse(&acl, "0.0.0.0/0", NULL, 0), 0);
	CU_ASSERT_TRUE(trusted(&acl, "203.0.113.9"));
	CU_ASSERT_FALSE(trusted(&acl, "2001:db8::1"));

	CU_ASSERT_EQUAL_FATAL(kar_acl_parse(&acl, "::/0", NULL, 0), 0);
	CU_ASSERT_TRUE(trusted(&acl, "2001:db8::1"));
	CU_ASSERT_FALSE(trusted(&acl, "203.0.113.9"));

	/* An IPv4 peer on a dual-stack socket.  (sa_set_str() would turn
	   "::ffff:a.b.c.d" into IPv4 itself; the socket does not.) */
	CU_ASSERT_EQUAL_FATAL(kar_acl_parse(&acl, "10.0.0.0/8", NULL, 0), 0);
	CU_ASSERT_TRUE(kar_acl_match(&acl, mapped(&sa, 10, 1)));
	CU_ASSERT_FALSE(kar_acl_match(&acl, mapped(&sa, 11, 1)));
	CU_ASSERT_EQUAL(sa_af(&sa), AF_INET6);

	/* No source, or one of no family, is never trusted */
	CU_ASSERT_FALSE(kar_acl_match(&acl, NULL));
	sa_init(&unset, AF_UNSPEC);
	CU_ASSERT_FALSE(kar_acl_match(&acl, &unset));
}


/* empty = any source */
static void test_acl_empty(void)
{
	struct kar_acl acl;

	memset(&acl, 0x5a, sizeof(acl));
	CU_ASSERT_EQUAL_FATAL(kar_acl_parse(&acl, "", NULL, 0), 0);
	CU_ASSERT_EQUAL(acl.n, 0);
	CU_ASSERT_TRUE(trusted(&acl, "203.0.113.9"));
	CU_ASSERT_TRUE(trusted(&acl, "2001:db8::1"));
	CU_ASSERT_TRUE(trusted(NULL, "203.0.113.9"));
}


/* a bad entry refuses the load, naming it */
static void test_acl_bad(void)
{
	static const char *bad[] = {
		"10.0.0.0/33", "::1/129", "1.2.3.4/", "1.2.3.4/x",
		"1.2.3.4/-1", "1.2.3.4/ 8", "1.2.3.4/8x", "/8",
		"host.example.com", "1.2.3", "256.1.1.1", "[::1", "::1]",
		"10.0.0.1,", ",10.0.0.1", "10.0.0.1,,10.0.0.2", ",",
		"1.2.3.4//8", "1.2.3.4/8/8",
	};
	struct kar_acl acl, copy;
	char name[64];
	size_t i;

	CU_ASSERT_EQUAL_FATAL(kar_acl_parse(&acl, "192.0.2.1", NULL, 0), 0);
	copy = acl;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		CU_ASSERT_EQUAL(kar_acl_parse(&acl, bad[i], NULL, 0), EINVAL);

	/* Replaced only on success */
	CU_ASSERT_EQUAL(memcmp(&acl, &copy, sizeof(acl)), 0);

	memset(name, 0, sizeof(name));
	CU_ASSERT_EQUAL(kar_acl_parse(&acl, "10.0.0.1, bogus ,::1", name,
				      sizeof(name)), EINVAL);
	CU_ASSERT_STRING_EQUAL(name, "bogus");

	CU_ASSERT_EQUAL(kar_acl_parse(&acl, "10.0.0.1,10.0.0.0/40", name,
				      sizeof(name)), EINVAL);
	CU_ASSERT_STRING_EQUAL(name, "10.0.0.0/40");

	/* Too small a buffer: terminated, and nothing written past it */
	memset(name, 'X', sizeof(name));
	CU_ASSERT_EQUAL(kar_acl_parse(&acl, "bogus-name", name, 4), EINVAL);
	CU_ASSERT_PTR_NOT_NULL(memchr(name, '\0', 4));
	CU_ASSERT_EQUAL(name[4], 'X');

	CU_ASSERT_EQUAL(kar_acl_parse(NULL, "10.0.0.1", NULL, 0), EINVAL);
	CU_ASSERT_EQUAL(kar_acl_parse(&acl, NULL, NULL, 0), EINVAL);
}


static void test_acl_count(void)
{
	struct kar_acl acl;
	struct mbuf *mb = mbuf_alloc(1024);
	unsigned i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mb);

	for (i = 0; i < KAR_ACL_MAX; i++)
		(void)mbuf_printf(mb, "%s10.0.0.%u", i ? "," : "", i);
	(void)mbuf_write_u8(mb, 0);
	CU_ASSERT_EQUAL(kar_acl_parse(&acl, (char *)mb->buf, NULL, 0), 0);
	CU_ASSERT_EQUAL(acl.n, KAR_ACL_MAX);
	CU_ASSERT_TRUE(trusted(&acl, "10.0.0.63"));
	CU_ASSERT_FALSE(trusted(&acl, "10.0.0.64"));

	mb->end = mb->pos = mb->end - 1;
	(void)mbuf_printf(mb, ",10.0.0.200");
	(void)mbuf_write_u8(mb, 0);
	CU_ASSERT_EQUAL(kar_acl_parse(&acl, (char *)mb->buf, NULL, 0),
			E2BIG);

	mem_deref(mb);
}


static CU_TestInfo tests[] = {
	{"burst",            test_burst},
	{"refill",           test_refill},
	{"refill_carry",     test_refill_carry},
	{"cap",              test_cap},
	{"clock_back",       test_clock_back},
	{"args",             test_args},
	{"rate_alloc",       test_rate_alloc},
	{"rate_burst",       test_rate_burst},
	{"rate_sources",     test_rate_sources},
	{"rate_full_table",  test_rate_full_table},
	{"rate_evict",       test_rate_evict},
	{"ua_match",         test_ua_match},
	{"ua_empty",         test_ua_empty},
	{"ua_bad",           test_ua_bad},
	{"acl_parse",        test_acl_parse},
	{"acl_prefix",       test_acl_prefix},
	{"acl_family",       test_acl_family},
	{"acl_empty",        test_acl_empty},
	{"acl_bad",          test_acl_bad},
	{"acl_count",        test_acl_count},
	CU_TEST_INFO_NULL
};


int unit_guard_register(void)
{
	return unit_suite_add("guard", NULL, NULL, tests);
}
