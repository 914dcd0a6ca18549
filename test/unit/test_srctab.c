/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file test_srctab.c  keepalive_responder unit tests -- srctab.c
 *
 * The bounded table of sources under the rate limiter and the
 * enumeration guard: payloads aligned, a new source's payload zeroed, a
 * known source found again by its address whatever the port, a full
 * table replacing the source seen least recently, and a lookup that
 * does not create neither finding nor taking a slot for an unknown
 * source.
 */
#include <string.h>
#include <re.h>
#include <CUnit/CUnit.h>
#include "kar.h"
#include "unit.h"


struct payload {
	uint64_t v;
	uint8_t tail[5];
};


static const struct payload zero;


static struct sa *addr(struct sa *sa, const char *a, uint16_t port)
{
	if (sa_set_str(sa, a, port))
		memset(sa, 0, sizeof(*sa));

	return sa;
}


static struct payload *get(struct kar_srctab *t, const char *a,
			   uint16_t port, bool create, bool *fresh)
{
	struct sa sa;

	return kar_srctab_get(t, addr(&sa, a, port), create, fresh);
}


/* Fill every payload, so that a payload found zeroed was zeroed */
static struct payload *get_filled(struct kar_srctab *t, const char *a)
{
	struct payload *p = get(t, a, 5060, true, NULL);

	if (p)
		memset(p, 0xa5, sizeof(*p));

	return p;
}


struct find {
	struct sa sa;
	uint32_t n;          /**< sources in the table              */
	bool found;
};


static void find_h(const struct sa *src, const void *data, void *arg)
{
	struct find *f = arg;

	(void)data;

	++f->n;
	if (sa_cmp(src, &f->sa, SA_ADDR))
		f->found = true;
}


/* Is a source in the table?  Unlike a lookup, it keeps the order */
static bool has(const struct kar_srctab *t, const char *a)
{
	struct find f;

	memset(&f, 0, sizeof(f));
	(void)addr(&f.sa, a, 0);
	kar_srctab_each(t, find_h, &f);

	return f.found;
}


static uint32_t count(const struct kar_srctab *t)
{
	struct find f;

	memset(&f, 0, sizeof(f));
	kar_srctab_each(t, find_h, &f);

	return f.n;
}


static void test_alloc(void)
{
	struct kar_srctab *t = NULL;
	bool fresh = true;

	CU_ASSERT_EQUAL(kar_srctab_alloc(NULL, 4, 8, 1), EINVAL);
	CU_ASSERT_EQUAL(kar_srctab_alloc(&t, 0, sizeof(zero), 1), EINVAL);
	CU_ASSERT_EQUAL(kar_srctab_alloc(&t, 4, 0, 1), EINVAL);

	/* libre's hash takes a power of two only */
	CU_ASSERT_EQUAL(kar_srctab_alloc(&t, 3, sizeof(zero), 1), EINVAL);
	CU_ASSERT_PTR_NULL(t);

	CU_ASSERT_PTR_NULL(get(NULL, "192.0.2.1", 1, true, &fresh));
	CU_ASSERT_FALSE(fresh);
	kar_srctab_each(NULL, find_h, NULL);

	CU_ASSERT_EQUAL_FATAL(kar_srctab_alloc(&t, 1, 1, 1), 0);
	fresh = true;
	CU_ASSERT_PTR_NULL(kar_srctab_get(t, NULL, true, &fresh));
	CU_ASSERT_FALSE(fresh);
	kar_srctab_each(t, NULL, NULL);
	CU_ASSERT_EQUAL(count(t), 0);

	mem_deref(t);
}


/* A payload of any size is aligned for any member, and its own */
static void test_align(void)
{
	struct kar_srctab *t = NULL;
	char src[16];
	struct sa sa;
	uint8_t *p;
	unsigned i;

	CU_ASSERT_EQUAL_FATAL(kar_srctab_alloc(&t, 4, 13, 2), 0);

	for (i = 0; i < 4; i++) {
		(void)re_snprintf(src, sizeof(src), "192.0.2.%u", i + 1);
		p = kar_srctab_get(t, addr(&sa, src, 5060), true, NULL);
		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		CU_ASSERT_EQUAL((uintptr_t)p % sizeof(uint64_t), 0);
		CU_ASSERT_EQUAL((uintptr_t)p % sizeof(void *), 0);
		memset(p, (int)i + 1, 13);
	}

	for (i = 0; i < 4; i++) {
		(void)re_snprintf(src, sizeof(src), "192.0.2.%u", i + 1);
		p = kar_srctab_get(t, addr(&sa, src, 5060), false, NULL);
		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		CU_ASSERT_EQUAL(p[0], i + 1);
		CU_ASSERT_EQUAL(p[12], i + 1);
	}

	mem_deref(t);
}


/* A new source's payload is zeroed, a taken slot's too */
static void test_fresh(void)
{
	struct kar_srctab *t = NULL;
	struct payload *a, *b, *c;
	bool fresh = false;

	CU_ASSERT_EQUAL_FATAL(kar_srctab_alloc(&t, 2, sizeof(*a), 3), 0);

	a = get(t, "192.0.2.1", 5060, true, &fresh);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_TRUE(fresh);
	CU_ASSERT_EQUAL(memcmp(a, &zero, sizeof(zero)), 0);
	memset(a, 0xa5, sizeof(*a));

	b = get_filled(t, "192.0.2.2");
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_PTR_NOT_EQUAL(a, b);

	/* Full: the third takes the first one's slot, cleared */
	c = get(t, "192.0.2.3", 5060, true, &fresh);
	CU_ASSERT_TRUE(fresh);
	CU_ASSERT_PTR_EQUAL(c, a);
	CU_ASSERT_EQUAL(memcmp(c, &zero, sizeof(zero)), 0);
	CU_ASSERT_EQUAL(count(t), 2);

	mem_deref(t);
}


/* A known source finds its payload again, on any port */
static void test_again(void)
{
	struct kar_srctab *t = NULL;
	struct payload *p;
	bool fresh = true;

	CU_ASSERT_EQUAL_FATAL(kar_srctab_alloc(&t, 16, sizeof(*p), 4), 0);

	p = get(t, "192.0.2.1", 5060, true, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	p->v = 42;
	(void)get_filled(t, "192.0.2.2");

	CU_ASSERT_PTR_EQUAL(get(t, "192.0.2.1", 40000, true, &fresh), p);
	CU_ASSERT_FALSE(fresh);
	fresh = true;
	CU_ASSERT_PTR_EQUAL(get(t, "192.0.2.1", 1, false, &fresh), p);
	CU_ASSERT_FALSE(fresh);
	CU_ASSERT_EQUAL(p->v, 42);

	p = get(t, "2001:db8::1", 5060, true, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	p->v = 7;
	CU_ASSERT_PTR_EQUAL(get(t, "2001:db8::1", 5061, false, NULL), p);
	CU_ASSERT_PTR_NULL(get(t, "2001:db8::2", 5060, false, NULL));
	CU_ASSERT_EQUAL(p->v, 7);

	CU_ASSERT_EQUAL(count(t), 3);

	mem_deref(t);
}


/*
 * Full, a new source replaces the one seen least recently; a lookup,
 * creating or not, makes a source the most recently seen
 */
static void test_lru(void)
{
	struct kar_srctab *t = NULL;

	CU_ASSERT_EQUAL_FATAL(kar_srctab_alloc(&t, 4, sizeof(zero), 5), 0);

	/* Oldest first: A B C D */
	(void)get_filled(t, "10.0.0.1");
	(void)get_filled(t, "10.0.0.2");
	(void)get_filled(t, "10.0.0.3");
	(void)get_filled(t, "10.0.0.4");
	CU_ASSERT_EQUAL(count(t), 4);

	/* B seen (creating), then A (not creating): C D B A */
	CU_ASSERT_PTR_NOT_NULL(get(t, "10.0.0.2", 1, true, NULL));
	CU_ASSERT_PTR_NOT_NULL(get(t, "10.0.0.1", 1, false, NULL));

	/* E replaces C: D B A E */
	(void)get_filled(t, "10.0.0.5");
	CU_ASSERT_FALSE(has(t, "10.0.0.3"));
	CU_ASSERT_PTR_NULL(get(t, "10.0.0.3", 5060, false, NULL));

	/* Four more new ones replace D, B, A and E, in this order */
	(void)get_filled(t, "10.0.1.1");
	CU_ASSERT_FALSE(has(t, "10.0.0.4"));
	CU_ASSERT_TRUE(has(t, "10.0.0.2"));
	CU_ASSERT_TRUE(has(t, "10.0.0.1"));
	CU_ASSERT_TRUE(has(t, "10.0.0.5"));

	(void)get_filled(t, "10.0.1.2");
	CU_ASSERT_FALSE(has(t, "10.0.0.2"));
	CU_ASSERT_TRUE(has(t, "10.0.0.1"));
	CU_ASSERT_TRUE(has(t, "10.0.0.5"));

	(void)get_filled(t, "10.0.1.3");
	CU_ASSERT_FALSE(has(t, "10.0.0.1"));
	CU_ASSERT_TRUE(has(t, "10.0.0.5"));

	(void)get_filled(t, "10.0.1.4");
	CU_ASSERT_FALSE(has(t, "10.0.0.5"));

	CU_ASSERT_TRUE(has(t, "10.0.1.1"));
	CU_ASSERT_TRUE(has(t, "10.0.1.2"));
	CU_ASSERT_TRUE(has(t, "10.0.1.3"));
	CU_ASSERT_TRUE(has(t, "10.0.1.4"));
	CU_ASSERT_EQUAL(count(t), 4);

	mem_deref(t);
}


/*
 * Addresses compare as sa_cmp(SA_ADDR): ports aside, and by family, so
 * an IPv4 peer on a dual-stack socket (::ffff:a.b.c.d, as recvfrom()
 * gives it; sa_set_str() would make it IPv4) is a source of its own
 */
static void test_family(void)
{
	static const uint8_t mapped[16] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1
	};
	struct kar_srctab *t = NULL;
	struct payload *v4, *v6;
	struct sa sa;
	bool fresh = false;

	CU_ASSERT_EQUAL_FATAL(kar_srctab_alloc(&t, 8, sizeof(zero), 6), 0);

	v4 = get(t, "192.0.2.1", 5060, true, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v4);

	sa_set_in6(&sa, mapped, 5060);
	CU_ASSERT_EQUAL(sa_af(&sa), AF_INET6);
	CU_ASSERT_PTR_NULL(kar_srctab_get(t, &sa, false, NULL));

	v6 = kar_srctab_get(t, &sa, true, &fresh);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v6);
	CU_ASSERT_TRUE(fresh);
	CU_ASSERT_PTR_NOT_EQUAL(v4, v6);

	sa_set_in6(&sa, mapped, 40000);
	CU_ASSERT_PTR_EQUAL(kar_srctab_get(t, &sa, false, NULL), v6);
	CU_ASSERT_PTR_EQUAL(get(t, "192.0.2.1", 40000, false, NULL), v4);
	CU_ASSERT_EQUAL(count(t), 2);

	mem_deref(t);
}


/* Unknown and not created: NULL, and no source loses its slot */
static void test_no_create(void)
{
	struct kar_srctab *t = NULL;
	bool fresh = true;

	CU_ASSERT_EQUAL_FATAL(kar_srctab_alloc(&t, 2, sizeof(zero), 7), 0);

	CU_ASSERT_PTR_NULL(get(t, "192.0.2.1", 5060, false, &fresh));
	CU_ASSERT_FALSE(fresh);
	CU_ASSERT_EQUAL(count(t), 0);

	(void)get_filled(t, "192.0.2.1");
	(void)get_filled(t, "192.0.2.2");

	CU_ASSERT_PTR_NULL(get(t, "192.0.2.3", 5060, false, NULL));
	CU_ASSERT_PTR_NULL(get(t, "2001:db8::3", 5060, false, NULL));
	CU_ASSERT_TRUE(has(t, "192.0.2.1"));
	CU_ASSERT_TRUE(has(t, "192.0.2.2"));
	CU_ASSERT_EQUAL(count(t), 2);

	mem_deref(t);
}


static CU_TestInfo tests[] = {
	{"alloc",            test_alloc},
	{"align",            test_align},
	{"fresh",            test_fresh},
	{"again",            test_again},
	{"lru",              test_lru},
	{"family",           test_family},
	{"no_create",        test_no_create},
	CU_TEST_INFO_NULL
};


int unit_srctab_register(void)
{
	return unit_suite_add("srctab", NULL, NULL, tests);
}
