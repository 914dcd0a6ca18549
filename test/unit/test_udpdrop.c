/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file test_udpdrop.c  keepalive_responder unit tests -- UDP helper
 *
 * A real libre SIP stack on loopback: a listener stands in for the
 * module's head listener and hands the helper each request's socket.
 * Blocked sources' datagrams must never reach the SIP layer, unless
 * they may be in a dialog of the local UA (alice); others must; the
 * helper must survive the transport's close and reopen, and the
 * module's unload with and without the socket (run under ASan and
 * valgrind too).
 */
#include <string.h>
#include <re.h>
#include <CUnit/CUnit.h>
#include "kar.h"
#include "unit.h"


enum { ALLOWED = 0, BLOCKED, NCLIENT };

static const char * const client_addr[NCLIENT] = {
	"127.0.0.2",
	"127.0.0.3",
};

static struct {
	struct sip *sip;
	struct sip_lsnr *lsnr;
	struct kar_block *b;
	struct kar_udpdrop *ud;
	struct kar_stats st;
	struct udp_sock *cl[NCLIENT];
	struct sa caddr[NCLIENT];
	struct sa laddr;
	unsigned seen[NCLIENT];
	unsigned cseq;
	const char *to_params;   /**< the blocked client's, after To */
	const char *user;        /**< its Request-URI user ("": none) */
	bool calls;              /**< a call is in progress           */
	int werr;
} t;


static void timeout_h(void *arg)
{
	(void)arg;

	re_cancel();
}


static bool lsnr_h(const struct sip_msg *msg, void *arg)
{
	size_t i;
	(void)arg;

	if (msg->tp == SIP_TRANSP_UDP && t.ud)
		t.werr |= kar_udpdrop_watch(t.ud, msg->sock);

	for (i = 0; i < NCLIENT; i++) {
		if (sa_cmp(&t.caddr[i], &msg->src, SA_ADDR))
			++t.seen[i];
	}

	/* The allowed client's request ends the wait */
	if (sa_cmp(&t.caddr[ALLOWED], &msg->src, SA_ADDR))
		re_cancel();

	return true;
}


static void client_recv_h(const struct sa *src, struct mbuf *mb, void *arg)
{
	(void)src;
	(void)mb;
	(void)arg;
}


static int transport_open(void)
{
	int err;

	err = sa_set_str(&t.laddr, "127.0.0.1", 0);
	if (err)
		return err;

	err = sip_transp_add(t.sip, SIP_TRANSP_UDP, &t.laddr);
	if (err)
		return err;

	return sip_transp_laddr(t.sip, &t.laddr, SIP_TRANSP_UDP, &t.laddr);
}


/* As host_dialog_maybe() answers in the module: the local UA's user,
   or anyone's while a call is in progress */
static bool owned(const struct pl *user, void *arg)
{
	(void)arg;

	return !pl_strcmp(user, "alice") || t.calls;
}


static int setup(void)
{
	size_t i;
	int err;

	memset(&t, 0, sizeof(t));

	err = sip_alloc(&t.sip, NULL, 16, 16, 16, "unit", NULL, NULL);
	if (err)
		return err;

	err = sip_listen(&t.lsnr, t.sip, true, lsnr_h, NULL);
	if (err)
		return err;

	err = transport_open();
	if (err)
		return err;

	err = kar_block_alloc(&t.b, 8, 600, 64, 7);
	if (err)
		return err;

	err = kar_udpdrop_alloc(&t.ud, t.b, &t.st, owned, NULL);
	if (err)
		return err;

	for (i = 0; i < NCLIENT; i++) {
		err = sa_set_str(&t.caddr[i], client_addr[i], 0);
		if (err)
			return err;

		err = udp_listen(&t.cl[i], &t.caddr[i], client_recv_h, NULL);
		if (err)
			return err;
	}

	return 0;
}


static void teardown(void)
{
	size_t i;

	t.ud = mem_deref(t.ud);
	t.b = mem_deref(t.b);
	t.lsnr = mem_deref(t.lsnr);
	t.sip = mem_deref(t.sip);

	for (i = 0; i < NCLIENT; i++)
		t.cl[i] = mem_deref(t.cl[i]);
}


static int send_req(size_t who)
{
	const char *user = who == BLOCKED && t.user ? t.user : "alice";
	struct mbuf *mb = mbuf_alloc(512);
	int err;

	if (!mb)
		return ENOMEM;

	++t.cseq;
	err = mbuf_printf(mb,
			  "OPTIONS sip:%s%s%J SIP/2.0\r\n"
			  "Via: SIP/2.0/UDP %s;branch=z9hG4bK-ud%u\r\n"
			  "Max-Forwards: 70\r\n"
			  "From: <sip:unit@%s>;tag=u1\r\n"
			  "To: <sip:alice@%J>%s\r\n"
			  "Call-ID: udpdrop-%u\r\n"
			  "CSeq: %u OPTIONS\r\n"
			  "Content-Length: 0\r\n"
			  "\r\n", user, *user ? "@" : "", &t.laddr, client_addr[who], t.cseq,
			  client_addr[who], &t.laddr,
			  who == BLOCKED && t.to_params ? t.to_params : "",
			  t.cseq, t.cseq);
	if (!err) {
		mb->pos = 0;
		err = udp_send(t.cl[who], &t.laddr, mb);
	}

	mem_deref(mb);

	return err;
}


/* Send from the blocked client (if asked), then from the allowed one,
   and wait for the allowed one's request: the socket reads them in
   order, so the blocked one's has been through the helper by then */
static void round_trip(bool blocked_too)
{
	struct tmr tmr;

	tmr_init(&tmr);

	if (blocked_too)
		CU_ASSERT_EQUAL(send_req(BLOCKED), 0);
	CU_ASSERT_EQUAL(send_req(ALLOWED), 0);

	tmr_start(&tmr, 5000, timeout_h, NULL);
	(void)re_main(NULL);
	tmr_cancel(&tmr);
}


static uint64_t dropped(void)
{
	return t.st.c[KAR_M_OTHER][KAR_C_DROPPED_SCANNER];
}


/* A blocked source's datagram stops in the helper, others pass */
static void test_drop(void)
{
	CU_ASSERT_EQUAL_FATAL(setup(), 0);

	/* Nothing blocked: both reach the SIP layer; the first request
	   gave the socket its helper */
	round_trip(true);
	CU_ASSERT_EQUAL(t.seen[ALLOWED], 1);
	CU_ASSERT_EQUAL(t.seen[BLOCKED], 1);
	CU_ASSERT_EQUAL(kar_udpdrop_count(t.ud), 1);
	CU_ASSERT_TRUE(kar_udpdrop_ok(t.ud));
	CU_ASSERT_EQUAL(t.werr, 0);

	CU_ASSERT_TRUE(kar_block_add(t.b, &t.caddr[BLOCKED], tmr_jiffies()));

	round_trip(true);
	CU_ASSERT_EQUAL(t.seen[ALLOWED], 2);
	CU_ASSERT_EQUAL(t.seen[BLOCKED], 1);
	CU_ASSERT_EQUAL(dropped(), 1);

	round_trip(true);
	CU_ASSERT_EQUAL(t.seen[ALLOWED], 3);
	CU_ASSERT_EQUAL(t.seen[BLOCKED], 1);
	CU_ASSERT_EQUAL(dropped(), 2);

	/* One helper per socket, however many requests */
	CU_ASSERT_EQUAL(kar_udpdrop_count(t.ud), 1);

	/* The module unloads: the helper goes, the stack stays */
	t.ud = mem_deref(t.ud);
	round_trip(true);
	CU_ASSERT_EQUAL(t.seen[ALLOWED], 4);
	CU_ASSERT_EQUAL(t.seen[BLOCKED], 2);
	CU_ASSERT_EQUAL(dropped(), 2);

	teardown();
}


/* A request that may be in a dialog of a local UA is decoded, blocked
   source or not: the guard judges it after (calls taken before the
   block end).  A tag on a request to a user no UA owns makes none. */
static void test_dialog(void)
{
	CU_ASSERT_EQUAL_FATAL(setup(), 0);

	round_trip(false);
	CU_ASSERT_TRUE(kar_block_add(t.b, &t.caddr[BLOCKED], tmr_jiffies()));

	t.to_params = ";tag=d1";
	round_trip(true);
	CU_ASSERT_EQUAL(t.seen[BLOCKED], 1);
	CU_ASSERT_EQUAL(dropped(), 0);

	/* Folded, upper case, blanks around the equals sign */
	t.to_params = ";x=1 ;\r\n TAG = d1";
	round_trip(true);
	CU_ASSERT_EQUAL(t.seen[BLOCKED], 2);
	CU_ASSERT_EQUAL(dropped(), 0);

	t.to_params = NULL;
	round_trip(true);
	CU_ASSERT_EQUAL(t.seen[BLOCKED], 2);
	CU_ASSERT_EQUAL(dropped(), 1);

	/* Tagged, to users no UA owns: dropped before decoding */
	t.to_params = ";tag=d1";
	t.user = "bob";
	round_trip(true);
	t.user = "alicex";
	round_trip(true);
	CU_ASSERT_EQUAL(t.seen[BLOCKED], 2);
	CU_ASSERT_EQUAL(dropped(), 3);

	t.user = "alice";
	round_trip(true);
	CU_ASSERT_EQUAL(t.seen[BLOCKED], 3);
	CU_ASSERT_EQUAL(dropped(), 3);

	/* While a call is in progress, to be judged by its Call-ID: a
	   far end's BYE may name any user, or none */
	t.user = "bob";
	t.calls = true;
	round_trip(true);
	CU_ASSERT_EQUAL(t.seen[BLOCKED], 4);
	CU_ASSERT_EQUAL(dropped(), 3);
	t.user = "";
	round_trip(true);
	CU_ASSERT_EQUAL(t.seen[BLOCKED], 5);
	CU_ASSERT_EQUAL(dropped(), 3);
	t.calls = false;
	round_trip(true);
	CU_ASSERT_EQUAL(t.seen[BLOCKED], 5);
	CU_ASSERT_EQUAL(dropped(), 4);
	t.user = NULL;
	t.calls = false;

	teardown();
}


/* baresip closes and reopens its transports (network change): the
   helper dies with the socket, the new socket gets a new one */
static void test_reopen(void)
{
	CU_ASSERT_EQUAL_FATAL(setup(), 0);

	round_trip(false);
	CU_ASSERT_EQUAL(kar_udpdrop_count(t.ud), 1);
	CU_ASSERT_TRUE(kar_block_add(t.b, &t.caddr[BLOCKED], tmr_jiffies()));

	/* Closed with a blocked source present */
	sip_transp_flush(t.sip);
	CU_ASSERT_EQUAL(kar_udpdrop_count(t.ud), 0);

	/* The new socket gets its helper with its first request */
	CU_ASSERT_EQUAL_FATAL(transport_open(), 0);
	round_trip(false);
	CU_ASSERT_EQUAL(kar_udpdrop_count(t.ud), 1);
	round_trip(true);
	CU_ASSERT_EQUAL(t.seen[ALLOWED], 3);
	CU_ASSERT_EQUAL(t.seen[BLOCKED], 0);
	CU_ASSERT_EQUAL(kar_udpdrop_count(t.ud), 1);
	CU_ASSERT_EQUAL(dropped(), 1);

	/* Closed again, then the module unloads: the dead helper is
	   released without touching the socket */
	sip_transp_flush(t.sip);
	t.ud = mem_deref(t.ud);
	CU_ASSERT_EQUAL(t.werr, 0);

	teardown();
}


/* baresip shuts down: the SIP stack goes before the module */
static void test_stack_first(void)
{
	CU_ASSERT_EQUAL_FATAL(setup(), 0);

	round_trip(false);
	CU_ASSERT_EQUAL(kar_udpdrop_count(t.ud), 1);
	CU_ASSERT_TRUE(kar_block_add(t.b, &t.caddr[BLOCKED], tmr_jiffies()));

	t.lsnr = mem_deref(t.lsnr);
	t.sip = mem_deref(t.sip);
	CU_ASSERT_EQUAL(kar_udpdrop_count(t.ud), 0);

	teardown();
}


static void test_args(void)
{
	struct kar_udpdrop *ud = NULL;

	CU_ASSERT_EQUAL(kar_udpdrop_alloc(&ud, NULL, NULL, NULL, NULL),
			EINVAL);
	CU_ASSERT_EQUAL(kar_udpdrop_alloc(NULL, NULL, NULL, owned, NULL),
			EINVAL);
	CU_ASSERT_EQUAL(kar_udpdrop_watch(NULL, NULL), EINVAL);
	CU_ASSERT_EQUAL(kar_udpdrop_count(NULL), 0);
	CU_ASSERT_FALSE(kar_udpdrop_ok(NULL));
	CU_ASSERT_PTR_NULL(ud);
}


/* Requests as bytes, for the helper's reading before decoding */
#define VIA    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-val\r\n"
#define FROM   "From: <sip:prober@192.0.2.10>;tag=from-v\r\n"
#define TO     "To: <sip:192.0.2.1>\r\n"
#define CALLID "Call-ID: validate-1@192.0.2.10\r\n"


/* What the UDP helper lets a blocked source's datagram through for:
   each case as bytes, and as libre decodes it, where it can, with the
   property the helper needs: no To tag (by name), ACK, CANCEL or
   response that the bytes miss */
static void test_raw_dialog(void)
{
#define RQ(m, to) m " sip:a@192.0.2.1 SIP/2.0\r\n" VIA FROM to CALLID \
	"CSeq: 1 " m "\r\n"
	static const struct {
		const char *text;
		bool may;
	} v[] = {
		{RQ("OPTIONS", TO) "\r\n", false},
		{RQ("OPTIONS", "To: <sip:a@192.0.2.1>;tag=1\r\n") "\r\n",
		 true},
		{RQ("OPTIONS", "t: <sip:a@192.0.2.1>;tag=1\r\n") "\r\n", true},
		{RQ("OPTIONS", "to: sip:a@192.0.2.1;TAG=1\r\n") "\r\n", true},
		{RQ("BYE", "To  : <sip:a@192.0.2.1> ; tag = 1\r\n") "\r\n",
		 true},
		/* folded */
		{RQ("BYE", "To: <sip:a@192.0.2.1>\r\n ;tag=1\r\n") "\r\n",
		 true},
		{RQ("BYE", "To: <sip:a@192.0.2.1>;\r\n\ttag=1\r\n") "\r\n",
		 true},
		/* lines ending in LF alone */
		{"INFO sip:a@192.0.2.1 SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.10"
		 ";branch=z9hG4bK-lf\nFrom: <sip:p@192.0.2.10>;tag=f\n"
		 "To: <sip:a@192.0.2.1>;tag=2\nCall-ID: lf\nCSeq: 1 INFO\n"
		 "\n", true},
		/* the URI's own parameter: no To tag, decoded all the same */
		{RQ("OPTIONS", "To: <sip:a@192.0.2.1;tag=1>\r\n") "\r\n",
		 true},
		/* a tag elsewhere is none: From, a namesake, another name */
		{RQ("OPTIONS", TO "Aabsk: <sip:x@192.0.2.1>;tag=x\r\n")
		 "\r\n", false},
		{RQ("OPTIONS", TO "Tox: <sip:x@192.0.2.1>;tag=x\r\n") "\r\n",
		 false},
		{RQ("OPTIONS", TO "X-To: ;tag=x\r\n") "\r\n", false},
		{RQ("ACK", TO) "\r\n", true},
		{RQ("CANCEL", TO) "\r\n", true},
		{RQ("ACKX", TO) "\r\n", false},
		{RQ("ack", TO) "\r\n", false},
		/* a response, as libre reads the start line */
		{"SIP/2.0 200 OK\r\n" VIA FROM TO CALLID
		 "CSeq: 1 OPTIONS\r\n\r\n", true},
		{"OPTIONSIP/2.0 200 OK\r\n" VIA FROM TO CALLID
		 "CSeq: 1 OPTIONS\r\n\r\n", true},
		{"OPTIONS 200 x SIP/2.0\r\n" VIA FROM TO CALLID
		 "CSeq: 1 OPTIONS\r\n\r\n", true},
		{"SIP/2.0 200 OK\r\rX\n" VIA FROM TO CALLID
		 "CSeq: 1 OPTIONS\r\n\r\n", true},
		/* nothing libre decodes */
		{"", false},
		{"\r\n\r\n", false},
		{"\r\n" RQ("ACK", "To: <sip:a@192.0.2.1>;tag=1\r\n") "\r\n",
		 false},
		{"OPTIONS  sip:a@192.0.2.1 SIP/2.0\r\n" VIA FROM TO CALLID
		 "\r\n", false},
		{"OPTIONS sip:a@192.0.2.1 SIP/2.0", false},
	};
#undef RQ
	struct mbuf *mb;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {

		struct sip_msg *m = NULL;

		mb = mbuf_alloc(512);
		CU_ASSERT_PTR_NOT_NULL_FATAL(mb);
		CU_ASSERT_EQUAL_FATAL(mbuf_write_str(mb, v[i].text), 0);
		mb->pos = 0;

		CU_ASSERT_EQUAL(kar_raw_dialog(mb, NULL, NULL), v[i].may);
		CU_ASSERT_EQUAL(mb->pos, 0);

		if (!sip_msg_decode(&m, mb)) {
			if (!m->req || pl_isset(&unit_req(m)->totag) ||
			    !pl_strcmp(&m->met, "ACK") ||
			    !pl_strcmp(&m->met, "CANCEL"))
				CU_ASSERT_TRUE(v[i].may);
		}

		mem_deref(m);
		mem_deref(mb);
	}

	CU_ASSERT_FALSE(kar_raw_dialog(NULL, NULL, NULL));
}


/* The local UA's user, for raw_dialog_user */
static bool owns_a(const struct pl *user, void *arg)
{
	(void)arg;

	return !pl_strcmp(user, "a");
}


/* With the local UAs' users known, a To tag lets a datagram through
   only on a request to one of them, its user read from the start line
   as libre's URI decoder reads it; a URI that does not start with its
   scheme is left to the decoder (through) */
static void test_raw_dialog_user(void)
{
#define RQ(uri) "OPTIONS " uri " SIP/2.0\r\n" VIA FROM \
	"To: <sip:a@192.0.2.1>;tag=1\r\n" CALLID "CSeq: 1 OPTIONS\r\n\r\n"
	static const struct {
		const char *text;
		bool may;
	} v[] = {
		{RQ("sip:a@192.0.2.1"), true},
		{RQ("sips:a@192.0.2.1;transport=tcp"), true},
		{RQ("sip:a:secret@192.0.2.1"), true},
		{RQ("sip:b@192.0.2.1"), false},
		{RQ("sip:ab@192.0.2.1"), false},
		{RQ("sip:A@192.0.2.1"), false},
		{RQ("sip:192.0.2.1"), false},
		{RQ("sip:192.0.2.1:5060;a@b"), false},
		{RQ("tel:a"), false},
		{RQ(":sip:a@192.0.2.1"), true},
		{RQ("a@192.0.2.1"), true},
		/* no tag: nothing to let through for */
		{"OPTIONS sip:a@192.0.2.1 SIP/2.0\r\n" VIA FROM TO CALLID
		 "CSeq: 1 OPTIONS\r\n\r\n", false},
		/* ACK, CANCEL and responses whatever the user */
		{"ACK sip:b@192.0.2.1 SIP/2.0\r\n" VIA FROM TO CALLID
		 "CSeq: 1 ACK\r\n\r\n", true},
		{"SIP/2.0 200 OK\r\n" VIA FROM TO CALLID
		 "CSeq: 1 OPTIONS\r\n\r\n", true},
	};
#undef RQ
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {

		struct sip_msg *m = NULL;
		struct mbuf *mb = mbuf_alloc(512);

		CU_ASSERT_PTR_NOT_NULL_FATAL(mb);
		CU_ASSERT_EQUAL_FATAL(mbuf_write_str(mb, v[i].text), 0);
		mb->pos = 0;

		CU_ASSERT_EQUAL(kar_raw_dialog(mb, owns_a, NULL), v[i].may);

		/* Nothing libre decodes as a tagged request to "a" is
		   missed */
		if (!sip_msg_decode(&m, mb) && m->req) {
			if (pl_isset(&unit_req(m)->totag) &&
			    owns_a(&m->uri.user, NULL))
				CU_ASSERT_TRUE(v[i].may);
		}

		mem_deref(m);
		mem_deref(mb);
	}
}


/* RFC 3261 8.2's order: 416 before 420 */
static CU_TestInfo tests[] = {
	{"drop",         test_drop},
	{"dialog",       test_dialog},
	{"reopen",       test_reopen},
	{"stack_first",  test_stack_first},
	{"args",         test_args},
	{"raw_dialog",   test_raw_dialog},
	{"raw_dialog_user", test_raw_dialog_user},
	CU_TEST_INFO_NULL
};


int unit_udpdrop_register(void)
{
	return unit_suite_add("udpdrop", NULL, NULL, tests);
}
