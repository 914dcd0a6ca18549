/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file test_block.c  keepalive_responder unit tests -- enumeration guard
 *
 * kar_guard_check() on decoded requests, with explicit time: the count
 * of unknown users per source, its exemptions (the endpoint's own
 * servers among them), the ban, scanner User-Agents sent directly and
 * relayed, dialogs of a local UA, and the table under many spoofed
 * sources.
 */
#include <string.h>
#include <re.h>
#include <CUnit/CUnit.h>
#include "kar.h"
#include "unit.h"


enum {
	LIMIT = 8,
	BAN   = 600,
	SLOTS = 4096,
	T0    = 1000000,
};


/* The local UA: user "alice" (host_ua_owns()) */
static bool uah(const struct sip_msg *msg, void *arg)
{
	(void)arg;

	return !pl_strcmp(&msg->uri.user, "alice");
}


struct env {
	struct kar_block *b;
	struct kar_uafilter ua;
	struct kar_acl acl;
	struct kar_guardcfg g;
	const char *own;     /**< the endpoint's server, or NULL      */
	const char *call;    /**< a call's Call-ID, or NULL           */
};

static struct env *env_cur;


/* A call of the local UA, by its Call-ID (host_call_known()) */
static bool callh(const struct sip_msg *msg, void *arg)
{
	(void)arg;

	return env_cur && env_cur->call &&
		!pl_strcmp(&msg->callid, env_cur->call);
}


static int env_init(struct env *e, uint32_t limit, const char *trusted)
{
	int err;

	memset(e, 0, sizeof(*e));

	err  = kar_block_alloc(&e->b, limit, BAN, SLOTS, 42);
	err |= kar_uafilter_parse(&e->ua, "friendly-scanner,sipvicious");
	err |= kar_acl_parse(&e->acl, trusted, NULL, 0);

	e->g.drop_ua = &e->ua;
	e->g.trusted = &e->acl;
	e->g.block = e->b;
	e->g.callh = callh;
	env_cur = e;

	return err;
}


/* What servers.c says in the module: here, one address */
static bool is_own(const struct env *e, const struct sa *src)
{
	struct sa own;

	return e->own && !sa_set_str(&own, e->own, 0) &&
		sa_cmp(&own, src, SA_ADDR);
}


/* One request: method, Request-URI user (NULL: none), To tag, extra
   headers, source address */
static enum kar_guard req(struct env *e, const char *met, const char *user,
			  const char *totag, const char *extra,
			  const char *src, uint64_t now)
{
	struct sip_msg *msg = NULL;
	enum kar_guard g;
	char ruri[96];

	if (user)
		re_snprintf(ruri, sizeof(ruri), "sip:%s@127.0.0.1", user);
	else
		re_snprintf(ruri, sizeof(ruri), "sip:127.0.0.1");

	if (unit_request(&msg, met, ruri, totag, extra))
		return (enum kar_guard)-1;

	if (src)
		(void)sa_set_str(&msg->src, src, 5060);

	g = kar_guard_check(&e->g, unit_req_owned(msg, uah),
			    is_own(e, &msg->src), now);
	mem_deref(msg);

	return g;
}


static enum kar_guard unknown(struct env *e, unsigned i, const char *src,
			      uint64_t now)
{
	char user[32];

	re_snprintf(user, sizeof(user), "user%u", i);

	return req(e, i % 2 ? "INVITE" : "OPTIONS", user, NULL, NULL, src,
		   now);
}


/* Block a source at the limit, with LIMIT distinct unknown users */
static void block_at_limit(struct env *e, const char *src, uint64_t now)
{
	struct sa sa;
	unsigned i;

	for (i = 0; i < LIMIT; i++)
		(void)unknown(e, i, src, now);

	CU_ASSERT_EQUAL_FATAL(sa_set_str(&sa, src ? src : UNIT_SRC_ADDR, 0),
			      0);
	CU_ASSERT_TRUE_FATAL(kar_block_check(e->b, &sa, now));
}


/* limit - 1 unknown users are answered; the limit-th and all later are
   dropped, also to a local UA */
static void test_limit(void)
{
	struct env e;
	unsigned i;

	CU_ASSERT_EQUAL_FATAL(env_init(&e, LIMIT, ""), 0);

	for (i = 0; i < LIMIT - 1; i++) {
		CU_ASSERT_EQUAL(unknown(&e, i, NULL, T0 + i), KAR_G_PASS);
		/* The same name again does not count */
		CU_ASSERT_EQUAL(unknown(&e, i, NULL, T0 + i), KAR_G_PASS);
	}
	CU_ASSERT_EQUAL(kar_block_count(e.b, T0 + 10), 0);

	CU_ASSERT_EQUAL(unknown(&e, LIMIT, NULL, T0 + 10), KAR_G_BLOCK_ENUM);
	CU_ASSERT_EQUAL(kar_block_count(e.b, T0 + 10), 1);

	CU_ASSERT_EQUAL(unknown(&e, LIMIT + 1, NULL, T0 + 11), KAR_G_DROP);
	CU_ASSERT_EQUAL(req(&e, "OPTIONS", "alice", NULL, NULL, NULL,
			    T0 + 12), KAR_G_DROP);
	CU_ASSERT_EQUAL(unknown(&e, 0, NULL, T0 + 13), KAR_G_DROP);

	/* Another source is not affected */
	CU_ASSERT_EQUAL(unknown(&e, 0, "127.0.0.2", T0 + 14), KAR_G_PASS);
	CU_ASSERT_EQUAL(kar_block_count(e.b, T0 + 14), 1);

	mem_deref(e.b);
}


/* A blocked source's dialogs with a local UA and its INVITE
   transactions go on: in-dialog requests to alice, ACK and CANCEL
   pass; a To tag on a request to a user no UA owns makes no dialog, and
   its out-of-dialog requests stay dropped */
static void test_blocked_dialog(void)
{
	struct env e;
	unsigned i;

	CU_ASSERT_EQUAL_FATAL(env_init(&e, LIMIT, ""), 0);

	block_at_limit(&e, NULL, T0);
	CU_ASSERT_EQUAL_FATAL(kar_block_count(e.b, T0), 1);

	CU_ASSERT_EQUAL(req(&e, "BYE", "alice", "to-1", NULL, NULL, T0 + 1),
			KAR_G_PASS);
	CU_ASSERT_EQUAL(req(&e, "OPTIONS", "alice", "to-1", NULL, NULL,
			    T0 + 1), KAR_G_PASS);
	CU_ASSERT_EQUAL(req(&e, "ACK", "user1", "to-1", NULL, NULL, T0 + 1),
			KAR_G_PASS);
	CU_ASSERT_EQUAL(req(&e, "ACK", "user1", NULL, NULL, NULL, T0 + 1),
			KAR_G_PASS);
	CU_ASSERT_EQUAL(req(&e, "CANCEL", "user2", NULL, NULL, NULL, T0 + 1),
			KAR_G_PASS);
	CU_ASSERT_EQUAL(req(&e, "BYE", "user1", "to-1", NULL, NULL, T0 + 1),
			KAR_G_DROP);
	CU_ASSERT_EQUAL(req(&e, "OPTIONS", "user3", "to-3", NULL, NULL,
			    T0 + 1), KAR_G_DROP);
	CU_ASSERT_EQUAL(req(&e, "OPTIONS", NULL, "to-3", NULL, NULL,
			    T0 + 1), KAR_G_DROP);

	/* A tag of a namesake header is no To tag */
	CU_ASSERT_EQUAL(req(&e, "OPTIONS", "user3", NULL,
			    "Aabsk: <sip:x@127.0.0.1>;tag=x\r\n", NULL,
			    T0 + 1), KAR_G_DROP);
	CU_ASSERT_EQUAL(req(&e, "INVITE", "user4", NULL, NULL, NULL, T0 + 1),
			KAR_G_DROP);
	CU_ASSERT_EQUAL(req(&e, "OPTIONS", "alice", NULL, NULL, NULL, T0 + 1),
			KAR_G_DROP);

	/* Nor do they count before a block */
	for (i = 0; i < 3 * LIMIT; i++) {
		char user[16];

		re_snprintf(user, sizeof(user), "c%u", i);
		CU_ASSERT_EQUAL(req(&e, i % 2 ? "ACK" : "CANCEL", user, NULL,
				    NULL, "127.0.0.5", T0 + 2), KAR_G_PASS);
	}
	CU_ASSERT_EQUAL(kar_block_count(e.b, T0 + 2), 1);

	mem_deref(e.b);
}


/* The window: names older than 60 s are forgotten */
static void test_window(void)
{
	struct env e;
	unsigned i;

	CU_ASSERT_EQUAL_FATAL(env_init(&e, LIMIT, ""), 0);

	for (i = 0; i < LIMIT - 1; i++)
		CU_ASSERT_EQUAL(unknown(&e, i, NULL, T0 + i), KAR_G_PASS);

	/* 60 s after the first: a new window */
	for (i = 100; i < 100 + LIMIT - 1; i++)
		CU_ASSERT_EQUAL(unknown(&e, i, NULL, T0 + KAR_ENUM_WINDOW + i),
				KAR_G_PASS);
	CU_ASSERT_EQUAL(kar_block_count(e.b, T0 + 2 * KAR_ENUM_WINDOW), 0);

	/* Within it, the limit-th blocks */
	CU_ASSERT_EQUAL(unknown(&e, 999, NULL, T0 + KAR_ENUM_WINDOW + 500),
			KAR_G_BLOCK_ENUM);

	mem_deref(e.b);
}


/* Within the window the limit-th name blocks: the counterpart of
   test_window, so that test cannot pass by never blocking */
static void test_window_edge(void)
{
	struct env e;
	unsigned i;

	CU_ASSERT_EQUAL_FATAL(env_init(&e, LIMIT, ""), 0);

	for (i = 0; i < LIMIT - 1; i++)
		CU_ASSERT_EQUAL(unknown(&e, i, NULL, T0), KAR_G_PASS);

	CU_ASSERT_EQUAL(unknown(&e, 50, NULL, T0 + KAR_ENUM_WINDOW - 1),
			KAR_G_BLOCK_ENUM);

	mem_deref(e.b);
}


/* Neither counted nor blocked: a local UA's user, no user part, in a
   dialog of a local UA, trusted sources */
static void test_exempt(void)
{
	struct env e;
	unsigned i;

	CU_ASSERT_EQUAL_FATAL(env_init(&e, LIMIT, "192.0.2.0/24"), 0);

	for (i = 0; i < 3 * LIMIT; i++) {
		char tag[16];

		re_snprintf(tag, sizeof(tag), "t%u", i);

		CU_ASSERT_EQUAL(req(&e, "OPTIONS", "alice", NULL, NULL,
				    "127.0.0.5", T0 + i), KAR_G_PASS);
		CU_ASSERT_EQUAL(req(&e, "OPTIONS", NULL, NULL, NULL,
				    "127.0.0.5", T0 + i), KAR_G_PASS);
		CU_ASSERT_EQUAL(req(&e, "NOTIFY", "alice", tag, NULL,
				    "127.0.0.5", T0 + i), KAR_G_PASS);
		/* unit_request()'s source is in the trusted network */
		CU_ASSERT_EQUAL(unknown(&e, i, NULL, T0 + i), KAR_G_PASS);
	}
	CU_ASSERT_EQUAL(kar_block_count(e.b, T0 + 100), 0);

	/* An untrusted source with unknown users still counts */
	for (i = 0; i < LIMIT - 1; i++)
		CU_ASSERT_EQUAL(unknown(&e, i, "127.0.0.5", T0 + 200),
				KAR_G_PASS);
	CU_ASSERT_EQUAL(unknown(&e, 99, "127.0.0.5", T0 + 200),
			KAR_G_BLOCK_ENUM);

	mem_deref(e.b);
}


/* The ban ends after enum_ban seconds, and the count starts anew */
static void test_ban(void)
{
	const uint64_t end = T0 + 20 + BAN * 1000ULL;
	struct env e;
	unsigned i;

	CU_ASSERT_EQUAL_FATAL(env_init(&e, LIMIT, ""), 0);

	for (i = 0; i < LIMIT; i++)
		(void)unknown(&e, i, NULL, T0 + 20);
	CU_ASSERT_EQUAL(kar_block_count(e.b, T0 + 20), 1);

	CU_ASSERT_EQUAL(req(&e, "OPTIONS", "alice", NULL, NULL, NULL,
			    end - 1), KAR_G_DROP);
	CU_ASSERT_EQUAL(kar_block_count(e.b, end - 1), 1);

	CU_ASSERT_EQUAL(kar_block_count(e.b, end), 0);
	CU_ASSERT_EQUAL(req(&e, "OPTIONS", "alice", NULL, NULL, NULL, end),
			KAR_G_PASS);
	for (i = 0; i < LIMIT - 1; i++)
		CU_ASSERT_EQUAL(unknown(&e, i, NULL, end + 1), KAR_G_PASS);
	CU_ASSERT_EQUAL(unknown(&e, 77, NULL, end + 2), KAR_G_BLOCK_ENUM);

	mem_deref(e.b);
}


/* A scanner User-Agent blocks its source, once; trusted ones are only
   dropped */
static void test_scanner_ua(void)
{
	static const char sv[] = "User-Agent: friendly-scanner\r\n";
	struct env e;
	unsigned i;

	CU_ASSERT_EQUAL_FATAL(env_init(&e, 0, "192.0.2.0/24"), 0);

	CU_ASSERT_EQUAL(req(&e, "OPTIONS", "alice", NULL, sv, "127.0.0.7",
			    T0), KAR_G_BLOCK_UA);
	CU_ASSERT_EQUAL(req(&e, "OPTIONS", "alice", NULL, sv, "127.0.0.7",
			    T0 + 1), KAR_G_DROP);
	CU_ASSERT_EQUAL(req(&e, "OPTIONS", "alice", NULL, NULL, "127.0.0.7",
			    T0 + 2), KAR_G_DROP);
	CU_ASSERT_EQUAL(kar_block_count(e.b, T0 + 2), 1);
	/* Each scanner request starts the ban anew */
	CU_ASSERT_EQUAL(kar_block_count(e.b, T0 + BAN * 1000ULL), 1);
	CU_ASSERT_EQUAL(kar_block_count(e.b, T0 + 1 + BAN * 1000ULL), 0);

	/* Trusted: dropped, not blocked */
	CU_ASSERT_EQUAL(req(&e, "OPTIONS", "alice", NULL, sv, NULL, T0),
			KAR_G_DROP);
	CU_ASSERT_EQUAL(req(&e, "OPTIONS", "alice", NULL, NULL, NULL, T0 + 1),
			KAR_G_PASS);

	/* limit 0: the count is off */
	for (i = 0; i < 3 * LIMIT; i++)
		CU_ASSERT_EQUAL(unknown(&e, i, "127.0.0.8", T0 + 3),
				KAR_G_PASS);
	CU_ASSERT_EQUAL(kar_block_count(e.b, T0 + 3), 1);

	mem_deref(e.b);
}


/* A To tag alone makes no dialog: tagged requests to users no UA owns
   count like any others, and block at the limit */
static void test_tagged_counts(void)
{
	struct env e;
	unsigned i;

	CU_ASSERT_EQUAL_FATAL(env_init(&e, LIMIT, ""), 0);

	for (i = 0; i < LIMIT - 1; i++) {
		char user[16];

		re_snprintf(user, sizeof(user), "t%u", i);
		CU_ASSERT_EQUAL(req(&e, i % 2 ? "NOTIFY" : "OPTIONS", user,
				    "made-up", NULL, NULL, T0 + i),
				KAR_G_PASS);
	}
	CU_ASSERT_EQUAL(kar_block_count(e.b, T0 + 10), 0);

	CU_ASSERT_EQUAL(req(&e, "OPTIONS", "t99", "made-up", NULL, NULL,
			    T0 + 10), KAR_G_BLOCK_ENUM);
	CU_ASSERT_EQUAL(kar_block_count(e.b, T0 + 10), 1);
	CU_ASSERT_EQUAL(req(&e, "OPTIONS", "t0", "made-up", NULL, NULL,
			    T0 + 11), KAR_G_DROP);

	mem_deref(e.b);
}


/* A scanner User-Agent relayed by a proxy (more than one Via, in one
   header or several) drops the request alone; sent directly, it
   blocks its source */
static void test_relayed_ua(void)
{
	static const char sv[] = "User-Agent: friendly-scanner\r\n";
	static const char via2[] = "Via: SIP/2.0/UDP 198.51.100.7:5060"
		";branch=z9hG4bK-far\r\nUser-Agent: friendly-scanner\r\n";
	static const char vias[] = "Via: SIP/2.0/UDP 198.51.100.7:5060"
		";branch=z9hG4bK-a, SIP/2.0/UDP 198.51.100.8"
		";branch=z9hG4bK-b\r\nUser-Agent: sipvicious\r\n";
	struct env e;
	unsigned i;

	CU_ASSERT_EQUAL_FATAL(env_init(&e, LIMIT, ""), 0);

	for (i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(req(&e, "INVITE", "alice", NULL, via2,
				    "127.0.0.20", T0 + i), KAR_G_DROP);
		CU_ASSERT_EQUAL(req(&e, "OPTIONS", "bob", NULL, vias,
				    "127.0.0.20", T0 + i), KAR_G_DROP);
	}
	CU_ASSERT_EQUAL(kar_block_count(e.b, T0 + 5), 0);
	CU_ASSERT_EQUAL(req(&e, "OPTIONS", "alice", NULL, NULL, "127.0.0.20",
			    T0 + 5), KAR_G_PASS);

	/* Sent directly: one Via */
	CU_ASSERT_EQUAL(req(&e, "INVITE", "alice", NULL, sv, "127.0.0.20",
			    T0 + 6), KAR_G_BLOCK_UA);
	CU_ASSERT_EQUAL(req(&e, "OPTIONS", "alice", NULL, NULL, "127.0.0.20",
			    T0 + 7), KAR_G_DROP);
	CU_ASSERT_EQUAL(kar_block_count(e.b, T0 + 7), 1);

	mem_deref(e.b);
}


/* The endpoint's own server: its unknown users never count, a scanner
   User-Agent it sends or relays drops the request alone, a block from
   before it was known does not hold; the same address's neighbour, and
   the server once forgotten, are guarded as everyone */
static void test_own_server(void)
{
	static const char sv[] = "User-Agent: friendly-scanner\r\n";
	struct env e;
	unsigned i;

	CU_ASSERT_EQUAL_FATAL(env_init(&e, LIMIT, ""), 0);

	/* Blocked while it was not known yet */
	CU_ASSERT_EQUAL(req(&e, "OPTIONS", "alice", NULL, sv, "192.0.2.50",
			    T0), KAR_G_BLOCK_UA);

	e.own = "192.0.2.50";
	CU_ASSERT_EQUAL(req(&e, "OPTIONS", NULL, NULL, NULL, "192.0.2.50",
			    T0 + 1), KAR_G_PASS);

	for (i = 0; i < 3 * LIMIT; i++)
		CU_ASSERT_EQUAL(unknown(&e, i, "192.0.2.50", T0 + 2),
				KAR_G_PASS);

	/* Directly (one Via) too: its own request, or a scanner's it
	   relays as a stateless proxy would */
	CU_ASSERT_EQUAL(req(&e, "INVITE", "alice", NULL, sv, "192.0.2.50",
			    T0 + 3), KAR_G_DROP);
	CU_ASSERT_EQUAL(req(&e, "OPTIONS", NULL, NULL, NULL, "192.0.2.50",
			    T0 + 4), KAR_G_PASS);

	/* The neighbour is guarded */
	for (i = 0; i < LIMIT - 1; i++)
		CU_ASSERT_EQUAL(unknown(&e, i, "192.0.2.51", T0 + 5),
				KAR_G_PASS);
	CU_ASSERT_EQUAL(unknown(&e, 99, "192.0.2.51", T0 + 5),
			KAR_G_BLOCK_ENUM);

	/* kar_block_forget(): the module lifts the old block when it
	   learns the server, for the UDP helper */
	CU_ASSERT_EQUAL(kar_block_count(e.b, T0 + 6), 2);
	CU_ASSERT_TRUE(kar_block_forget(e.b, &(struct sa){0}, T0 + 6) ==
		       false);

	/* Forgotten as a server: the old block is still there */
	e.own = NULL;
	CU_ASSERT_EQUAL(req(&e, "OPTIONS", NULL, NULL, NULL, "192.0.2.50",
			    T0 + 7), KAR_G_DROP);

	mem_deref(e.b);
}


/* A call in progress keeps its requests whatever the far end's
   User-Agent: a dialog of a local UA passes the filter, a blocked source
   included; a tag on a request to another user does not */
static void test_dialog_ua(void)
{
	static const char sv[] = "User-Agent: friendly-scanner\r\n";
	struct env e;

	CU_ASSERT_EQUAL_FATAL(env_init(&e, LIMIT, ""), 0);

	CU_ASSERT_EQUAL(req(&e, "BYE", "alice", "to-1", sv, "127.0.0.30",
			    T0), KAR_G_PASS);
	CU_ASSERT_EQUAL(kar_block_count(e.b, T0), 0);

	CU_ASSERT_EQUAL(req(&e, "BYE", "bob", "to-1", sv, "127.0.0.30",
			    T0 + 1), KAR_G_BLOCK_UA);
	CU_ASSERT_EQUAL(req(&e, "BYE", "alice", "to-1", sv, "127.0.0.30",
			    T0 + 2), KAR_G_PASS);
	CU_ASSERT_EQUAL(req(&e, "INVITE", "alice", NULL, sv, "127.0.0.30",
			    T0 + 3), KAR_G_DROP);

	mem_deref(e.b);
}


/* A far end that sends its BYE to its INVITE's Request-URI (a user no
   UA owns, whose call baresip 1.1's fallback account took): the call's
   Call-ID makes it a local UA's dialog, blocked source and scanner
   User-Agent or not; a made-up tag with another Call-ID does not */
static void test_call_dialog(void)
{
	static const char sv[] = "User-Agent: friendly-scanner\r\n";
	struct env e;

	CU_ASSERT_EQUAL_FATAL(env_init(&e, LIMIT, ""), 0);

	block_at_limit(&e, NULL, T0);
	CU_ASSERT_EQUAL_FATAL(kar_block_count(e.b, T0), 1);

	CU_ASSERT_EQUAL(req(&e, "BYE", "carol", "to-1", NULL, NULL, T0 + 1),
			KAR_G_DROP);

	/* unit_request()'s Call-ID */
	e.call = "unit-1@192.0.2.10";
	CU_ASSERT_EQUAL(req(&e, "BYE", "carol", "to-1", NULL, NULL, T0 + 1),
			KAR_G_PASS);
	CU_ASSERT_EQUAL(req(&e, "BYE", "carol", "to-1", sv, "127.0.0.31",
			    T0 + 1), KAR_G_PASS);
	/* svwar's BYE names no user at all */
	CU_ASSERT_EQUAL(req(&e, "BYE", NULL, "to-1", NULL, NULL, T0 + 1),
			KAR_G_PASS);
	CU_ASSERT_EQUAL(kar_block_count(e.b, T0 + 1), 1);
	CU_ASSERT_EQUAL(req(&e, "BYE", "carol", NULL, NULL, NULL, T0 + 1),
			KAR_G_DROP);

	e.call = "another-call";
	CU_ASSERT_EQUAL(req(&e, "BYE", "carol", "to-1", NULL, NULL, T0 + 1),
			KAR_G_DROP);

	CU_ASSERT_FALSE(kar_guard_dialog(NULL, NULL));

	mem_deref(e.b);
}


/* A call's in-dialog request to a user no UA owns (its INVITE's
   Request-URI) is no guess: it never counts towards the limit */
static void test_call_not_counted(void)
{
	const char *src = "127.0.0.32";
	struct env e;
	unsigned i;

	CU_ASSERT_EQUAL_FATAL(env_init(&e, LIMIT, ""), 0);

	for (i = 0; i < LIMIT - 1; i++) {
		CU_ASSERT_EQUAL(unknown(&e, i, src, T0), KAR_G_PASS);
	}

	/* unit_request()'s Call-ID is a call's: the last guess's room */
	e.call = "unit-1@192.0.2.10";
	CU_ASSERT_EQUAL(req(&e, "BYE", "carol", "to-1", NULL, src, T0 + 1),
			KAR_G_PASS);
	CU_ASSERT_EQUAL(req(&e, "INFO", "dave", "to-1", NULL, src, T0 + 1),
			KAR_G_PASS);
	CU_ASSERT_EQUAL(kar_block_count(e.b, T0 + 1), 0);

	/* Not a call's: the same request is the last guess */
	e.call = "another-call";
	CU_ASSERT_EQUAL(req(&e, "BYE", "carol", "to-1", NULL, src, T0 + 2),
			KAR_G_BLOCK_ENUM);
	CU_ASSERT_EQUAL(kar_block_count(e.b, T0 + 2), 1);

	mem_deref(e.b);
}


/* Lifting a block: the source is answered again, and counts anew */
static void test_forget(void)
{
	struct env e;
	struct sa src;
	unsigned i;

	CU_ASSERT_EQUAL_FATAL(env_init(&e, LIMIT, ""), 0);
	CU_ASSERT_EQUAL_FATAL(sa_set_str(&src, "127.0.0.40", 0), 0);

	CU_ASSERT_FALSE(kar_block_forget(e.b, &src, T0));

	block_at_limit(&e, "127.0.0.40", T0);
	CU_ASSERT_EQUAL(kar_block_count(e.b, T0), 1);

	CU_ASSERT_TRUE(kar_block_forget(e.b, &src, T0 + 1));
	CU_ASSERT_FALSE(kar_block_forget(e.b, &src, T0 + 1));
	CU_ASSERT_EQUAL(kar_block_count(e.b, T0 + 1), 0);
	CU_ASSERT_FALSE(kar_block_check(e.b, &src, T0 + 1));

	for (i = 0; i < LIMIT - 1; i++)
		CU_ASSERT_EQUAL(unknown(&e, 50 + i, "127.0.0.40", T0 + 2),
				KAR_G_PASS);
	CU_ASSERT_EQUAL(unknown(&e, 99, "127.0.0.40", T0 + 2),
			KAR_G_BLOCK_ENUM);

	mem_deref(e.b);
}


/* 100,000 spoofed sources: the table stays as it is, a legit source is
   still answered */
static void test_spoofed(void)
{
	struct sip_msg *msg = NULL;
	struct env e;
	struct sa src;
	uint32_t i;
	unsigned u;

	CU_ASSERT_EQUAL_FATAL(env_init(&e, 2, ""), 0);
	CU_ASSERT_EQUAL_FATAL(unit_request(&msg, "OPTIONS",
					   "sip:nobody@127.0.0.1", NULL,
					   NULL), 0);

	for (i = 0; i < 100000; i++) {
		sa_set_in(&src, 0x0a000000 + i, 5060);   /* 10.x.y.z */
		for (u = 0; u < 2; u++) {
			char user[16];
			struct pl pl;

			re_snprintf(user, sizeof(user), "u%u", u);
			pl_set_str(&pl, user);
			(void)kar_block_enum(e.b, &src, &pl, T0 + i);
		}

		if (i % 1000)
			continue;

		msg->src = src;
		CU_ASSERT_EQUAL(kar_guard_check(&e.g, unit_req_owned(msg, uah),
					false, T0 + i),
				KAR_G_DROP);
		CU_ASSERT_EQUAL(req(&e, "OPTIONS", "alice", NULL, NULL,
				    "127.0.0.9", T0 + i), KAR_G_PASS);
	}

	/* Bounded: as many blocked as there are slots */
	CU_ASSERT_EQUAL(kar_block_count(e.b, T0 + i), SLOTS);

	mem_deref(msg);
	mem_deref(e.b);
}


static void test_no_via(void)
{
	struct sip_msg *msg = NULL;
	struct env e;

	CU_ASSERT_EQUAL_FATAL(env_init(&e, LIMIT, ""), 0);
	CU_ASSERT_EQUAL_FATAL(unit_request(&msg, "OPTIONS",
					   "sip:alice@127.0.0.1", NULL,
					   NULL), 0);

	CU_ASSERT_EQUAL(kar_guard_check(&e.g, unit_req_owned(msg, uah),
					false, T0), KAR_G_PASS);
	msg->via.sentby = pl_null;
	CU_ASSERT_EQUAL(kar_guard_check(&e.g, unit_req_owned(msg, uah),
					false, T0), KAR_G_DROP);
	CU_ASSERT_EQUAL(kar_guard_check(&e.g, unit_req_owned(msg, uah),
					true, T0), KAR_G_DROP);
	CU_ASSERT_EQUAL(kar_block_count(e.b, T0), 0);

	mem_deref(msg);
	mem_deref(e.b);
}


static void test_alloc(void)
{
	struct kar_block *b = NULL;

	CU_ASSERT_EQUAL(kar_block_alloc(&b, KAR_ENUM_MAX + 1, 1, 1, 0),
			EINVAL);
	CU_ASSERT_EQUAL(kar_block_alloc(&b, 1, 0, 1, 0), EINVAL);
	CU_ASSERT_EQUAL(kar_block_alloc(&b, 1, 1, 0, 0), EINVAL);
	CU_ASSERT_PTR_NULL(b);

	CU_ASSERT_EQUAL(kar_block_alloc(&b, KAR_ENUM_MAX, KAR_BAN_MAX, 1, 0),
			0);
	CU_ASSERT_FALSE(kar_block_check(b, NULL, 0));
	CU_ASSERT_FALSE(kar_block_check(NULL, NULL, 0));
	CU_ASSERT_EQUAL(kar_guard_check(NULL, NULL, false, 0), KAR_G_PASS);
	CU_ASSERT_FALSE(kar_block_forget(NULL, NULL, 0));
	mem_deref(b);
}


static CU_TestInfo tests[] = {
	{"limit",        test_limit},
	{"blocked_dialog", test_blocked_dialog},
	{"window",       test_window},
	{"window_edge",  test_window_edge},
	{"exempt",       test_exempt},
	{"ban",          test_ban},
	{"scanner_ua",   test_scanner_ua},
	{"tagged_counts", test_tagged_counts},
	{"relayed_ua",   test_relayed_ua},
	{"own_server",   test_own_server},
	{"dialog_ua",    test_dialog_ua},
	{"forget",       test_forget},
	{"call_dialog",  test_call_dialog},
	{"call_not_counted", test_call_not_counted},
	{"spoofed",      test_spoofed},
	{"no_via",       test_no_via},
	{"alloc",        test_alloc},
	CU_TEST_INFO_NULL
};


int unit_block_register(void)
{
	return unit_suite_add("block", NULL, NULL, tests);
}
