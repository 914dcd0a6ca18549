/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file test_hdr.c  keepalive_responder unit tests -- a request's view
 *
 * Headers are told apart by name, long and compact form, in any case,
 * never by libre's id alone (a namesake shares it); the view a request
 * is read into holds the first of each and their count, the top Via,
 * the To tag of the first real To, and whether a local UA owns the
 * Request-URI user, asked only when there is one.
 */
#include <string.h>
#include <re.h>
#include <CUnit/CUnit.h>
#include "kar.h"
#include "unit.h"


/* The names, long and compact, in any case; the namesakes not */
static void test_names(void)
{
	static const struct {
		const char *line;
		enum sip_hdrid id;
		bool is;
	} v[] = {
		{"Event: x",            SIP_HDR_EVENT,            true},
		{"o: x",                SIP_HDR_EVENT,            true},
		{"EVENT: x",            SIP_HDR_EVENT,            true},
		{"Aafru: x",            SIP_HDR_EVENT,            false},
		{"Content-Type: a/b",   SIP_HDR_CONTENT_TYPE,     true},
		{"c: a/b",              SIP_HDR_CONTENT_TYPE,     true},
		{"Aafbo: a/b",          SIP_HDR_CONTENT_TYPE,     false},
		{"Content-Encoding: x", SIP_HDR_CONTENT_ENCODING, true},
		{"e: x",                SIP_HDR_CONTENT_ENCODING, true},
		{"Aabyq: x",            SIP_HDR_CONTENT_ENCODING, false},
		{"Accept: a/b",         SIP_HDR_ACCEPT,           true},
		{"accept: a/b",         SIP_HDR_ACCEPT,           true},
		{"Abaag: a/b",          SIP_HDR_ACCEPT,           false},
		{"User-Agent: x",       SIP_HDR_USER_AGENT,       true},
		{"Aahyp: x",            SIP_HDR_USER_AGENT,       false},
		{"To: <sip:a@b>",       SIP_HDR_TO,               true},
		{"t: <sip:a@b>",        SIP_HDR_TO,               true},
		{"Aabsk: <sip:a@b>",    SIP_HDR_TO,               false},
		{"CSeq: 1 X",           SIP_HDR_CSEQ,             true},
		{"Abcgg: 1 X",          SIP_HDR_CSEQ,             false},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {

		struct sip_msg *m = NULL;
		const struct sip_hdr *hdr = NULL, *first = NULL;
		char *text = NULL;
		uint32_t n;

		CU_ASSERT_EQUAL_FATAL(re_sdprintf(&text, "%s\r\n", v[i].line),
				      0);
		CU_ASSERT_EQUAL_FATAL(unit_request(&m, "OPTIONS",
						   "sip:192.0.2.1", NULL,
						   text), 0);

		/* The last header of the id: the line under test */
		hdr = sip_msg_hdr_apply(m, false, v[i].id, NULL, NULL);
		CU_ASSERT_PTR_NOT_NULL_FATAL(hdr);

		CU_ASSERT_EQUAL(kar_hdr_is(hdr, v[i].id), v[i].is);

		/* unit_request() has a To and a CSeq of its own */
		n = kar_hdr_count(m, v[i].id, &first);
		if (v[i].id == SIP_HDR_TO || v[i].id == SIP_HDR_CSEQ) {
			CU_ASSERT_EQUAL(n, v[i].is ? 2u : 1u);
			CU_ASSERT_PTR_NOT_EQUAL(first, hdr);
		}
		else {
			CU_ASSERT_EQUAL(n, v[i].is ? 1u : 0u);
			CU_ASSERT_PTR_EQUAL(first, v[i].is ? hdr : NULL);
		}

		/* Another id is never the header */
		CU_ASSERT_FALSE(kar_hdr_is(hdr, SIP_HDR_SUBJECT));

		mem_deref(text);
		mem_deref(m);
	}

	CU_ASSERT_FALSE(kar_hdr_is(NULL, SIP_HDR_EVENT));
	CU_ASSERT_EQUAL(kar_hdr_count(NULL, SIP_HDR_EVENT, NULL), 0);
}


static unsigned owner_calls;


/* The local UA: user "alice" */
static bool owns_alice(const struct sip_msg *msg, void *arg)
{
	(void)arg;

	++owner_calls;

	return !pl_strcmp(&msg->uri.user, "alice");
}


/* What a view holds, each value written out */
static void test_view(void)
{
	static const char text[] =
		"NOTIFY sip:alice@192.0.2.1 SIP/2.0\r\n"
		"Aaoge: SIP/2.0/UDP 198.51.100.1;branch=z9hG4bK-ns\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-top\r\n"
		"v: SIP/2.0/UDP 192.0.2.11;branch=z9hG4bK-2,"
		" SIP/2.0/UDP 192.0.2.12;branch=z9hG4bK-3\r\n"
		"Max-Forwards: 70\r\n"
		"From: <sip:prober@192.0.2.10>;tag=from-1\r\n"
		"t: <sip:alice@192.0.2.1>;tag=real\r\n"
		"Aabsk: <sip:alice@192.0.2.1>;tag=namesake\r\n"
		"Call-ID: view-1@192.0.2.10\r\n"
		"CSeq: 7 NOTIFY\r\n"
		"Event: keep-alive\r\n"
		"o: other\r\n"
		"Aafru: namesake\r\n"
		"User-Agent: one\r\n"
		"Require: a, b\r\n"
		"Content-Length: 0\r\n"
		"\r\n";
	struct sip_msg *m = NULL;
	const struct kar_req *rq;

	CU_ASSERT_EQUAL_FATAL(unit_decode(&m, text), 0);

	owner_calls = 0;
	rq = unit_req_owned(m, owns_alice);

	CU_ASSERT_PTR_EQUAL(rq->msg, m);
	CU_ASSERT_EQUAL(rq->meth, KAR_M_NOTIFY);
	CU_ASSERT_FALSE(rq->invite_txn);
	CU_ASSERT_TRUE(rq->owned);
	CU_ASSERT_EQUAL(owner_calls, 1);

	/* The first real Via, not the namesake libre decoded */
	CU_ASSERT_TRUE(rq->has_via);
	CU_ASSERT_TRUE(unit_pl_eq(&rq->via.branch, "z9hG4bK-top"));
	CU_ASSERT_EQUAL(rq->hdr[KAR_H_VIA].n, 3);

	/* The first real To's tag, not the namesake's (libre's last) */
	CU_ASSERT_TRUE(unit_pl_eq(&rq->totag, "real"));
	CU_ASSERT_EQUAL(rq->hdr[KAR_H_TO].n, 1);

	CU_ASSERT_EQUAL(rq->hdr[KAR_H_EVENT].n, 2);
	CU_ASSERT_TRUE(unit_pl_eq(&rq->hdr[KAR_H_EVENT].first->val,
				  "keep-alive"));
	CU_ASSERT_TRUE(unit_pl_eq(&kar_hdr_next(rq->hdr[KAR_H_EVENT].first)
				  ->val, "other"));
	CU_ASSERT_PTR_NULL(kar_hdr_next(kar_hdr_next(
				   rq->hdr[KAR_H_EVENT].first)));
	CU_ASSERT_EQUAL(rq->hdr[KAR_H_USER_AGENT].n, 1);
	CU_ASSERT_EQUAL(rq->hdr[KAR_H_REQUIRE].n, 2);
	CU_ASSERT_EQUAL(rq->hdr[KAR_H_CSEQ].n, 1);
	CU_ASSERT_EQUAL(rq->hdr[KAR_H_CONTENT_LENGTH].n, 1);
	CU_ASSERT_EQUAL(rq->hdr[KAR_H_ACCEPT].n, 0);
	CU_ASSERT_PTR_NULL(rq->hdr[KAR_H_ACCEPT].first);
	CU_ASSERT_EQUAL(rq->hdr[KAR_H_CONTENT_TYPE].n, 0);
	CU_ASSERT_EQUAL(rq->hdr[KAR_H_CONTENT_ENCODING].n, 0);

	mem_deref(m);
}


/* Methods by their exact names; the owner asked only for a user */
static void test_methods(void)
{
	static const struct {
		const char *met;
		const char *ruri;
		enum kar_method meth;
		bool txn;
		bool owned;
		unsigned asked;
	} v[] = {
		{"OPTIONS", "sip:alice@192.0.2.1", KAR_M_OPTIONS, false,
		 true, 1},
		{"OPTIONS", "sip:192.0.2.1",       KAR_M_OPTIONS, false,
		 false, 0},
		{"NOTIFY",  "sip:bob@192.0.2.1",   KAR_M_NOTIFY,  false,
		 false, 1},
		{"options", "sip:192.0.2.1",       KAR_M_OTHER,   false,
		 false, 0},
		{"ACK",     "sip:alice@192.0.2.1", KAR_M_OTHER,   true,
		 true, 1},
		{"CANCEL",  "sip:192.0.2.1",       KAR_M_OTHER,   true,
		 false, 0},
		{"cancel",  "sip:192.0.2.1",       KAR_M_OTHER,   false,
		 false, 0},
		{"INVITE",  "sip:192.0.2.1",       KAR_M_OTHER,   false,
		 false, 0},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {

		struct sip_msg *m = NULL;
		const struct kar_req *rq;

		CU_ASSERT_EQUAL_FATAL(unit_request(&m, v[i].met, v[i].ruri,
						   NULL, NULL), 0);

		owner_calls = 0;
		rq = unit_req_owned(m, owns_alice);
		CU_ASSERT_EQUAL(rq->meth, v[i].meth);
		CU_ASSERT_EQUAL(rq->invite_txn, v[i].txn);
		CU_ASSERT_EQUAL(rq->owned, v[i].owned);
		CU_ASSERT_EQUAL(owner_calls, v[i].asked);

		mem_deref(m);
	}
}


/* The predicates by themselves, on names written out */
static void test_method_of(void)
{
	static const struct {
		const char *met;
		enum kar_method meth;
		bool txn;
	} v[] = {
		{"OPTIONS",  KAR_M_OPTIONS, false},
		{"NOTIFY",   KAR_M_NOTIFY,  false},
		{"options",  KAR_M_OTHER,   false},
		{"OPTIONSX", KAR_M_OTHER,   false},
		{"NOTIF",    KAR_M_OTHER,   false},
		{"",         KAR_M_OTHER,   false},
		{"ACK",      KAR_M_OTHER,   true},
		{"CANCEL",   KAR_M_OTHER,   true},
		{"ack",      KAR_M_OTHER,   false},
		{"ACKX",     KAR_M_OTHER,   false},
		{"BYE",      KAR_M_OTHER,   false},
	};
	struct pl pl;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		pl_set_str(&pl, v[i].met);
		CU_ASSERT_EQUAL(kar_method_of(&pl), v[i].meth);
		CU_ASSERT_EQUAL(kar_method_invite_txn(&pl), v[i].txn);
	}

	CU_ASSERT_STRING_EQUAL(kar_method_name(KAR_M_OPTIONS), "OPTIONS");
	CU_ASSERT_STRING_EQUAL(kar_method_name(KAR_M_NOTIFY), "NOTIFY");
	CU_ASSERT_STRING_EQUAL(kar_method_name(KAR_M_OTHER), "other");
	CU_ASSERT_STRING_EQUAL(kar_method_name(KAR_M_N), "?");
}


/* A view of nothing holds nothing */
static void test_args(void)
{
	struct kar_req rq;
	struct mbuf *mb = mbuf_alloc(16);

	kar_req_read(NULL, NULL, NULL, NULL);
	kar_req_read(&rq, NULL, owns_alice, NULL);
	CU_ASSERT_PTR_NULL(rq.msg);
	CU_ASSERT_EQUAL(rq.meth, KAR_M_OTHER);
	CU_ASSERT_FALSE(rq.has_via);
	CU_ASSERT_PTR_NULL(kar_hdr_next(NULL));

	CU_ASSERT_PTR_NOT_NULL_FATAL(mb);
	CU_ASSERT_EQUAL(kar_write_u32(mb, 0), 0);
	CU_ASSERT_EQUAL(kar_write_u32(mb, 4294967295U), 0);
	CU_ASSERT_EQUAL(mb->end, 11);
	CU_ASSERT_EQUAL(memcmp(mb->buf, "04294967295", 11), 0);
	mem_deref(mb);
}


static CU_TestInfo tests[] = {
	{"names",        test_names},
	{"view",         test_view},
	{"methods",      test_methods},
	{"method_of",    test_method_of},
	{"args",         test_args},
	CU_TEST_INFO_NULL
};


int unit_hdr_register(void)
{
	return unit_suite_add("hdr", NULL, NULL, tests);
}
