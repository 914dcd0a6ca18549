/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file test_servers.c  keepalive_responder unit tests -- servers.c
 *
 * The endpoint's own servers, with explicit time, on REGISTER answers
 * decoded by libre: learnt only when baresip confirms the answer,
 * refreshed, moved to another address, forgotten (by the registrar, by
 * time, by a full table), IPv6 and IPv4 on a dual-stack socket, and the
 * listing as text and JSON.
 */
#include <string.h>
#include <re.h>
#include <CUnit/CUnit.h>
#include "kar.h"
#include "unit.h"


static const uint64_t t0 = 1700000000000ULL;

static const char aor[] = "sip:alice@example.org";


/* A REGISTER's answer from src over tp; extra: Contact and Expires */
static struct sip_msg *answer(uint16_t scode, const char *met,
			      const char *extra, const char *src,
			      enum sip_transp tp)
{
	struct sip_msg *msg = NULL;
	char *text = NULL;
	int err;

	err = re_sdprintf(&text,
			  "SIP/2.0 %u Whatever\r\n"
			  "Via: SIP/2.0/UDP 192.0.2.10:5060"
			  ";branch=z9hG4bK-reg-1\r\n"
			  "From: <%s>;tag=f1\r\n"
			  "To: <%s>;tag=t1\r\n"
			  "Call-ID: reg-1@192.0.2.10\r\n"
			  "CSeq: 2 %s\r\n"
			  "%s"
			  "Content-Length: 0\r\n"
			  "\r\n", scode, aor, aor, met, extra ? extra : "");
	if (!err)
		err = unit_decode(&msg, text);
	if (!err)
		err = sa_set_str(&msg->src, src, 5060);
	if (!err)
		msg->tp = tp;

	mem_deref(text);
	if (err)
		msg = mem_deref(msg);

	return msg;
}


/* An answer arrives, libre's transaction matched it (or not: stray),
   and baresip reports the registration's outcome */
static bool learn(struct kar_servers *s, uint16_t scode, const char *extra,
		  const char *src, bool stray, uint64_t now)
{
	struct sip_msg *msg = answer(scode, "REGISTER", extra, src,
				     SIP_TRANSP_UDP);
	const struct kar_server *v;
	struct sa sa;
	bool fresh;

	CU_ASSERT_PTR_NOT_NULL(msg);
	kar_servers_answer(s, msg);
	mem_deref(msg);

	if (stray)
		kar_servers_stray(s);

	fresh = kar_servers_confirm(s, aor, now, &v);

	/* What was learnt or refreshed is the answer's source */
	if (v) {
		CU_ASSERT_EQUAL(sa_set_str(&sa, src, 0), 0);
		CU_ASSERT_TRUE(kar_sa_same_addr(&v->addr, &sa));
		CU_ASSERT_FALSE(fresh && v->seen != now);
	}

	return fresh;
}


static bool is(const struct kar_servers *s, const char *addr, uint64_t now)
{
	struct sa sa;

	if (sa_set_str(&sa, addr, 9999))
		return false;

	return kar_servers_match(s, &sa, now);
}


static void test_learn(void)
{
	const struct kar_server *got = &(struct kar_server){0};
	struct kar_servers s;

	memset(&s, 0, sizeof(s));
	CU_ASSERT_FALSE(is(&s, "192.0.2.1", t0));

	CU_ASSERT_TRUE(learn(&s, 200, "Contact: <sip:alice@192.0.2.10>"
			     ";expires=600\r\n", "192.0.2.1", false, t0));
	CU_ASSERT_TRUE(is(&s, "192.0.2.1", t0 + 1));
	CU_ASSERT_FALSE(is(&s, "192.0.2.2", t0 + 1));
	CU_ASSERT_EQUAL(kar_servers_count(&s, t0 + 1), 1);

	/* Kept for twice the expiry, and a transaction's time */
	CU_ASSERT_TRUE(is(&s, "192.0.2.1", t0 + 1232000 - 1));
	CU_ASSERT_FALSE(is(&s, "192.0.2.1", t0 + 1232000));

	/* The refresh extends it, and is no news */
	CU_ASSERT_FALSE(learn(&s, 200, "Contact: <sip:alice@192.0.2.10>"
			      ";expires=600\r\n", "192.0.2.1", false,
			      t0 + 500000));
	CU_ASSERT_EQUAL(s.v[0].seen, t0 + 500000);
	CU_ASSERT_EQUAL(s.v[0].tp, SIP_TRANSP_UDP);
	CU_ASSERT_STRING_EQUAL(s.v[0].aor, aor);
	CU_ASSERT_TRUE(is(&s, "192.0.2.1", t0 + 1700000));
	CU_ASSERT_EQUAL(kar_servers_count(&s, t0 + 500000), 1);

	/* Each answer is taken once */
	CU_ASSERT_FALSE(kar_servers_confirm(&s, aor, t0 + 500001, &got));
	CU_ASSERT_PTR_NULL(got);
}


/* What libre's transactions passed on was nobody's answer: baresip's
   next event (a timeout, say) learns nothing from it */
static void test_stray(void)
{
	struct kar_servers s;

	memset(&s, 0, sizeof(s));

	CU_ASSERT_FALSE(learn(&s, 200, NULL, "198.51.100.9", true, t0));
	CU_ASSERT_FALSE(is(&s, "198.51.100.9", t0));
	CU_ASSERT_EQUAL(kar_servers_count(&s, t0), 0);

	/* Without an event, nothing either */
	kar_servers_stray(NULL);
	CU_ASSERT_FALSE(kar_servers_confirm(NULL, aor, t0, NULL));
	CU_ASSERT_FALSE(kar_servers_match(NULL, NULL, t0));
}


/* Only final answers to REGISTER are noted */
static void test_not_register(void)
{
	static const struct {
		uint16_t scode;
		const char *met;
	} v[] = {
		{100, "REGISTER"},
		{180, "REGISTER"},
		{200, "OPTIONS"},
		{200, "INVITE"},
		{200, "register"},
	};
	struct kar_servers s;
	size_t i;

	memset(&s, 0, sizeof(s));

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		struct sip_msg *msg = answer(v[i].scode, v[i].met, NULL,
					     "192.0.2.3", SIP_TRANSP_UDP);

		CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
		kar_servers_answer(&s, msg);
		mem_deref(msg);

		CU_ASSERT_FALSE(kar_servers_confirm(&s, aor, t0, NULL));
		CU_ASSERT_FALSE(is(&s, "192.0.2.3", t0));
	}

	/* A refusal still comes from the server the stack uses: kept
	   for KAR_SERVER_TTL twice */
	CU_ASSERT_TRUE(learn(&s, 403, NULL, "192.0.2.3", false, t0));
	CU_ASSERT_TRUE(is(&s, "192.0.2.3", t0 + 7232000 - 1));
	CU_ASSERT_FALSE(is(&s, "192.0.2.3", t0 + 7232000));
}


/* The expiry granted: the longest Contact expires, else Expires, else
   an hour; 0 ends the registration and forgets the server */
static void test_expires(void)
{
	struct kar_servers s;

	memset(&s, 0, sizeof(s));

	CU_ASSERT_TRUE(learn(&s, 200,
			     "Contact: <sip:alice@192.0.2.10>;expires=60, "
			     "<sip:alice@192.0.2.11>;expires=90\r\n"
			     "Expires: 3000\r\n", "192.0.2.4", false, t0));
	CU_ASSERT_TRUE(is(&s, "192.0.2.4", t0 + 212000 - 1));
	CU_ASSERT_FALSE(is(&s, "192.0.2.4", t0 + 212000));

	CU_ASSERT_TRUE(learn(&s, 200, "Expires: 100\r\n", "192.0.2.5",
			     false, t0));
	CU_ASSERT_TRUE(is(&s, "192.0.2.5", t0 + 232000 - 1));
	CU_ASSERT_FALSE(is(&s, "192.0.2.5", t0 + 232000));

	/* Compact Contact */
	CU_ASSERT_TRUE(learn(&s, 200, "m: <sip:alice@192.0.2.10>"
			     ";expires=10\r\n", "192.0.2.6", false, t0));
	CU_ASSERT_FALSE(is(&s, "192.0.2.6", t0 + 52000));

	CU_ASSERT_TRUE(learn(&s, 200, NULL, "192.0.2.7", false, t0));
	CU_ASSERT_TRUE(is(&s, "192.0.2.7", t0 + 7232000 - 1));

	/* Unregistered: gone at once */
	CU_ASSERT_FALSE(learn(&s, 200, "Contact: <sip:alice@192.0.2.10>"
			      ";expires=0\r\n", "192.0.2.7", false, t0 + 5));
	CU_ASSERT_FALSE(is(&s, "192.0.2.7", t0 + 6));
	CU_ASSERT_TRUE(is(&s, "192.0.2.5", t0 + 6));
}


/* Failover: the registration moves to another address; the old one
   ages out, the new one is a server at once */
static void test_moved(void)
{
	static const char ct[] = "Contact: <sip:alice@192.0.2.10>"
		";expires=600\r\n";
	struct kar_servers s;

	memset(&s, 0, sizeof(s));

	CU_ASSERT_TRUE(learn(&s, 200, ct, "192.0.2.20", false, t0));
	CU_ASSERT_TRUE(learn(&s, 200, ct, "192.0.2.21", false, t0 + 600000));
	CU_ASSERT_TRUE(is(&s, "192.0.2.20", t0 + 600000));
	CU_ASSERT_TRUE(is(&s, "192.0.2.21", t0 + 600000));

	CU_ASSERT_FALSE(is(&s, "192.0.2.20", t0 + 1232000));
	CU_ASSERT_TRUE(is(&s, "192.0.2.21", t0 + 1232000));
	CU_ASSERT_EQUAL(kar_servers_count(&s, t0 + 1232000), 1);
}


/* IPv6, and an IPv4 server seen on a dual-stack socket */
static void test_families(void)
{
	struct kar_servers s;
	struct sip_msg *msg;

	memset(&s, 0, sizeof(s));

	CU_ASSERT_TRUE(learn(&s, 200, NULL, "2001:db8::1", false, t0));
	CU_ASSERT_TRUE(is(&s, "2001:db8::1", t0 + 1));
	CU_ASSERT_FALSE(is(&s, "2001:db8::2", t0 + 1));

	msg = answer(200, "REGISTER", NULL, "::ffff:192.0.2.30",
		     SIP_TRANSP_TCP);
	CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
	kar_servers_answer(&s, msg);
	mem_deref(msg);
	CU_ASSERT_TRUE(kar_servers_confirm(&s, aor, t0, NULL));

	CU_ASSERT_TRUE(is(&s, "192.0.2.30", t0 + 1));
	CU_ASSERT_TRUE(is(&s, "::ffff:192.0.2.30", t0 + 1));
	CU_ASSERT_FALSE(is(&s, "192.0.2.31", t0 + 1));
}


/* A full table forgets the least recently answered first */
static void test_full(void)
{
	struct kar_servers s;
	char addr[32];
	unsigned i;

	memset(&s, 0, sizeof(s));

	for (i = 0; i < KAR_SERVERS_MAX; i++) {
		re_snprintf(addr, sizeof(addr), "10.0.0.%u", i + 1);
		CU_ASSERT_TRUE(learn(&s, 200, NULL, addr, false, t0 + i));
	}
	CU_ASSERT_EQUAL(kar_servers_count(&s, t0 + 100), KAR_SERVERS_MAX);

	/* 10.0.0.1 answers again: 10.0.0.2 is now the oldest */
	CU_ASSERT_FALSE(learn(&s, 200, NULL, "10.0.0.1", false, t0 + 100));
	CU_ASSERT_TRUE(learn(&s, 200, NULL, "10.0.1.1", false, t0 + 101));

	CU_ASSERT_EQUAL(kar_servers_count(&s, t0 + 102), KAR_SERVERS_MAX);
	CU_ASSERT_TRUE(is(&s, "10.0.0.1", t0 + 102));
	CU_ASSERT_FALSE(is(&s, "10.0.0.2", t0 + 102));
	CU_ASSERT_TRUE(is(&s, "10.0.0.3", t0 + 102));
	CU_ASSERT_TRUE(is(&s, "10.0.1.1", t0 + 102));
}


/* One registrar, two accounts: an entry each, each with its own
   address of record */
static void test_two_accounts(void)
{
	struct kar_servers s;
	struct sip_msg *msg;

	memset(&s, 0, sizeof(s));

	CU_ASSERT_TRUE(learn(&s, 200, NULL, "192.0.2.40", false, t0));

	msg = answer(200, "REGISTER", NULL, "192.0.2.40", SIP_TRANSP_UDP);
	CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
	kar_servers_answer(&s, msg);
	mem_deref(msg);
	CU_ASSERT_TRUE(kar_servers_confirm(&s, "sip:bob@example.org", t0,
					   NULL));

	CU_ASSERT_EQUAL(kar_servers_count(&s, t0), 2);
	CU_ASSERT_STRING_EQUAL(s.v[0].aor, aor);
	CU_ASSERT_STRING_EQUAL(s.v[1].aor, "sip:bob@example.org");
}


static int print_h(const char *p, size_t size, void *arg)
{
	return mbuf_write_mem(arg, (const uint8_t *)p, size);
}


/* The listing: what an operator reads, exactly */
static void test_listing(void)
{
	static const char json[] =
		"{\"servers\":[{\"source\":\"192.0.2.50\","
		"\"transport\":\"UDP\",\"why\":\"registrar\","
		"\"aor\":\"sip:alice@example.org\",\"answered_s\":40,"
		"\"expires_s\":1192}],"
		"\"trusted\":[\"192.0.2.0\\/24\",\"2001:db8::1\"]}";
	static const char text[] =
		"own servers (never blocked, never counted): 1 learnt,"
		" 2 trusted\n"
		"  192.0.2.50                              UDP "
		" registrar of sip:alice@example.org"
		" (answered 40 s ago, kept 1192 s)\n"
		"  192.0.2.0/24                                "
		" trusted (keepalive_responder_trusted)\n"
		"  2001:db8::1                                 "
		" trusted (keepalive_responder_trusted)\n";
	struct kar_servers s;
	struct kar_acl acl;
	struct re_printf pf;
	struct mbuf *mb = mbuf_alloc(512);

	CU_ASSERT_PTR_NOT_NULL_FATAL(mb);
	pf.vph = print_h;
	pf.arg = mb;

	memset(&s, 0, sizeof(s));
	CU_ASSERT_EQUAL_FATAL(kar_acl_parse(&acl, "192.0.2.7/24,2001:db8::1",
					    NULL, 0), 0);

	CU_ASSERT_TRUE(learn(&s, 200, "Contact: <sip:alice@192.0.2.10>"
			     ";expires=600\r\n", "192.0.2.50", false, t0));
	/* A forgotten one is not listed (34 s: 2 x 1 s + 32 s) */
	CU_ASSERT_TRUE(learn(&s, 200, "Expires: 1\r\n", "192.0.2.51", false,
			     t0));

	CU_ASSERT_EQUAL(kar_servers_json(&pf, &s, &acl, t0 + 40000), 0);
	CU_ASSERT_EQUAL(mb->end, sizeof(json) - 1);
	CU_ASSERT_EQUAL(memcmp(mb->buf, json, mb->end), 0);

	mbuf_reset(mb);
	CU_ASSERT_EQUAL(kar_servers_print(&pf, &s, &acl, t0 + 40000), 0);
	CU_ASSERT_EQUAL(mb->end, sizeof(text) - 1);
	CU_ASSERT_EQUAL(memcmp(mb->buf, text, mb->end), 0);

	/* Nothing learnt, nothing trusted */
	memset(&s, 0, sizeof(s));
	mbuf_reset(mb);
	CU_ASSERT_EQUAL(kar_servers_json(&pf, &s, NULL, t0), 0);
	CU_ASSERT_EQUAL(mb->end, strlen("{\"servers\":[],\"trusted\":[]}"));
	CU_ASSERT_EQUAL(memcmp(mb->buf, "{\"servers\":[],\"trusted\":[]}",
			       mb->end), 0);

	mem_deref(mb);
}


static CU_TestInfo tests[] = {
	{"learn",         test_learn},
	{"stray",         test_stray},
	{"not_register",  test_not_register},
	{"expires",       test_expires},
	{"moved",         test_moved},
	{"families",      test_families},
	{"full",          test_full},
	{"two_accounts",  test_two_accounts},
	{"listing",       test_listing},
	CU_TEST_INFO_NULL
};


int unit_servers_register(void)
{
	return unit_suite_add("servers", NULL, NULL, tests);
}
