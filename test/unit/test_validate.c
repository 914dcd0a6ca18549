/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file test_validate.c  keepalive_responder unit tests -- validation
 *
 * RFC 3261 8.2 checks before the module answers, on requests libre
 * decoded from raw bytes, among them torture messages in the manner of
 * RFC 4475 (unknown schemes, unknown extensions, CSeq mismatches,
 * broken Content-Length, folded, compact and huge headers), and the
 * error answers they get.
 */
#include <string.h>
#include <re.h>
#include <CUnit/CUnit.h>
#include "kar.h"
#include "unit.h"


/* The parts of a request around its Request-URI and its extra headers */
#define VIA    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-val\r\n"
#define FROM   "From: <sip:prober@192.0.2.10>;tag=from-v\r\n"
#define TO     "To: <sip:192.0.2.1>\r\n"
#define CALLID "Call-ID: validate-1@192.0.2.10\r\n"
#define HDRS   VIA "Max-Forwards: 70\r\n" FROM TO CALLID

#define SUMMARY "Messages-Waiting: yes\r\nVoice-Message: 2/8\r\n"
#define SUMMARY_LEN "43"


static struct kar_events events;
static struct kar_replies *rep;


static int init(void)
{
	int err;

	err = kar_events_parse(&events, UNIT_EVENTS);
	if (err)
		return err;

	return kar_replies_alloc(&rep, &events, 0x5eed5eedULL);
}


static int cleanup(void)
{
	rep = mem_deref(rep);

	return 0;
}


/* Decode a whole request and validate it; a macro, for the line */
#define CHECK_VAL(text, summary, want)					\
	do {								\
		struct sip_msg *m_ = NULL;				\
		CU_ASSERT_EQUAL_FATAL(unit_decode(&m_, text), 0);	\
		CU_ASSERT_EQUAL(kar_validate(unit_req(m_), summary),	\
				want);					\
		mem_deref(m_);						\
	} while (0)


/* An OPTIONS to the device with these header lines after Call-ID */
#define OPT(extra) "OPTIONS sip:192.0.2.1 SIP/2.0\r\n" HDRS extra "\r\n"

/* A message-summary NOTIFY with these header lines and a body */
#define MWI(extra, body)						\
	"NOTIFY sip:alice@192.0.2.1 SIP/2.0\r\n" HDRS			\
	"Event: message-summary\r\n"					\
	"Subscription-State: active\r\n"				\
	"CSeq: 4 NOTIFY\r\n" extra "\r\n" body


static void test_valid(void)
{
	CHECK_VAL(OPT("CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n"), false,
		  KAR_R_NONE);

	/* Content-Length is optional on a datagram */
	CHECK_VAL(OPT("CSeq: 1 OPTIONS\r\n"), false, KAR_R_NONE);

	/* Proxy-Require is for proxies; a UAS ignores it (RFC 3261
	   20.29) */
	CHECK_VAL(OPT("CSeq: 1 OPTIONS\r\n"
		      "Proxy-Require: nothingSupportsThis\r\n"
		      "Content-Length: 0\r\n"), false, KAR_R_NONE);

	/* Supported (k) and Unsupported say nothing the UAS must do */
	CHECK_VAL(OPT("CSeq: 1 OPTIONS\r\nk: 100rel, timer\r\n"
		      "Unsupported: foo\r\nl: 0\r\n"), false, KAR_R_NONE);

	CHECK_VAL(MWI("Content-Type: application/simple-message-summary\r\n"
		      "Content-Length: " SUMMARY_LEN "\r\n", SUMMARY), true,
		  KAR_R_NONE);

	CHECK_VAL(OPT("CSeq: 1 OPTIONS\r\n"), false, KAR_R_NONE);
	CHECK_VAL(OPT("CSeq: 1 OPTIONS\r\n"), true, KAR_R_NONE);

	CU_ASSERT_EQUAL(kar_validate(NULL, false), KAR_R_NONE);
}


/* RFC 3261 8.2.2.1; schemes compare without regard to case (19.1.4) */
static void test_scheme(void)
{
	static const char *good[] = {
		"OPTIONS sip:192.0.2.1 SIP/2.0\r\n",
		"OPTIONS SIP:192.0.2.1 SIP/2.0\r\n",
		"OPTIONS sips:192.0.2.1:5061 SIP/2.0\r\n",
		"OPTIONS SiPs:alice@192.0.2.1 SIP/2.0\r\n",
		"OPTIONS sip:%61lice@192.0.2.1 SIP/2.0\r\n",
	};
	static const char *bad[] = {
		/* RFC 4475 3.3.1 unksm */
		"OPTIONS nobodyKnowsThisScheme:totallyopaquecontent"
		" SIP/2.0\r\n",
		/* RFC 4475 3.3.2 unksm2 */
		"OPTIONS soap.beep://192.0.2.103:3002 SIP/2.0\r\n",
		"OPTIONS tel:+1-201-555-0123 SIP/2.0\r\n",
		"OPTIONS TEL:+12015550123;phone-context=example.com"
		" SIP/2.0\r\n",
		"OPTIONS mailto:alice@192.0.2.1 SIP/2.0\r\n",
		"OPTIONS im:alice@192.0.2.1 SIP/2.0\r\n",
		"OPTIONS sipx:192.0.2.1 SIP/2.0\r\n",
		"OPTIONS sip2:192.0.2.1 SIP/2.0\r\n",
		/* An escaped scheme is another scheme */
		"OPTIONS si%70:192.0.2.1 SIP/2.0\r\n",
		/* A name-addr is no Request-URI (RFC 4475 3.1.2.11) */
		"OPTIONS <sip:alice@192.0.2.1> SIP/2.0\r\n",
		/* No scheme: libre's URI decoder finds "sip:" after the
		   colon all the same */
		"OPTIONS :sip:192.0.2.1 SIP/2.0\r\n",
		"OPTIONS ::sip:alice@192.0.2.1 SIP/2.0\r\n",
	};
	char *text = NULL;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		CU_ASSERT_EQUAL_FATAL(re_sdprintf(&text, "%s" HDRS
						  "CSeq: 1 OPTIONS\r\n\r\n",
						  good[i]), 0);
		CHECK_VAL(text, false, KAR_R_NONE);
		text = mem_deref(text);
	}

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		CU_ASSERT_EQUAL_FATAL(re_sdprintf(&text, "%s" HDRS
						  "CSeq: 1 OPTIONS\r\n\r\n",
						  bad[i]), 0);
		CHECK_VAL(text, false, KAR_R_BAD_SCHEME);
		text = mem_deref(text);
	}
}


/* RFC 3261 8.2.2.3: the module supports no option tag at all */
static void test_require(void)
{
	/* RFC 4475 3.3.7 bext01 */
	CHECK_VAL(OPT("CSeq: 1 OPTIONS\r\n"
		      "Require: nothingSupportsThis, nothingSupportsThisEither"
		      "\r\n"), false, KAR_R_BAD_EXTENSION);

	CHECK_VAL(OPT("CSeq: 1 OPTIONS\r\nRequire: 100rel\r\n"), false,
		  KAR_R_BAD_EXTENSION);

	/* Header names are case-insensitive */
	CHECK_VAL(OPT("CSeq: 1 OPTIONS\r\nrequire: timer\r\n"), false,
		  KAR_R_BAD_EXTENSION);
	CHECK_VAL(OPT("CSeq: 1 OPTIONS\r\nREQUIRE : timer\r\n"), false,
		  KAR_R_BAD_EXTENSION);

	/* Several headers; folded over lines */
	CHECK_VAL(OPT("CSeq: 1 OPTIONS\r\nRequire: a\r\nRequire: b\r\n"),
		  false, KAR_R_BAD_EXTENSION);
	CHECK_VAL(OPT("CSeq: 1 OPTIONS\r\nRequire: a,\r\n\tb\r\n"), false,
		  KAR_R_BAD_EXTENSION);

	/* An empty Require names no tag */
	CHECK_VAL(OPT("CSeq: 1 OPTIONS\r\nRequire:\r\n"), false,
		  KAR_R_NONE);
	CHECK_VAL(OPT("CSeq: 1 OPTIONS\r\nRequire: \r\n"), false,
		  KAR_R_NONE);

	/* Also on a NOTIFY the module would answer 200 */
	CHECK_VAL(MWI("Require: pref\r\n"
		      "Content-Type: application/simple-message-summary\r\n"
		      "Content-Length: " SUMMARY_LEN "\r\n", SUMMARY), true,
		  KAR_R_BAD_EXTENSION);
}


/* The 420 lists every tag, in order, as one Unsupported */
static void test_unsupported(void)
{
	static const char text[] = OPT("CSeq: 1 OPTIONS\r\n"
				       "Require: foo ,  bar\r\n"
				       "require: baz,\r\n qux\r\n"
				       "Require:\r\n"
				       "Require: a,,b\r\n");
	struct sip_msg *req = NULL, *resp = NULL;
	char *out = NULL;
	struct mbuf *mb;

	CU_ASSERT_EQUAL_FATAL(unit_decode(&req, text), 0);
	CU_ASSERT_EQUAL(kar_validate(unit_req(req), false),
			KAR_R_BAD_EXTENSION);

	CU_ASSERT_EQUAL_FATAL(unit_answer(NULL, &out, rep, req,
					  KAR_R_BAD_EXTENSION, NULL), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "SIP/2.0 420 Bad Extension\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\r\nUnsupported: foo, bar, baz,"
				      " qux, a, b\r\n"));
	CU_ASSERT_EQUAL(unit_count(out, "Unsupported:"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\r\nContent-Length: 0\r\n\r\n"));

	/* What the prober reads */
	mb = mbuf_alloc(strlen(out));
	CU_ASSERT_PTR_NOT_NULL_FATAL(mb);
	CU_ASSERT_EQUAL(mbuf_write_str(mb, out), 0);
	mb->pos = 0;
	CU_ASSERT_EQUAL_FATAL(sip_msg_decode(&resp, mb), 0);
	CU_ASSERT_EQUAL(resp->scode, 420);
	CU_ASSERT_EQUAL(sip_msg_hdr_count(resp, SIP_HDR_UNSUPPORTED), 6);
	CU_ASSERT_TRUE(sip_msg_hdr_has_value(resp, SIP_HDR_UNSUPPORTED,
					     "qux"));
	CU_ASSERT_TRUE(pl_isset(&resp->to.tag));

	mem_deref(resp);
	mem_deref(mb);
	mem_deref(out);
	mem_deref(req);
}


/* RFC 3261 8.1.1.5: the CSeq method matches the request's, exactly */
static void test_cseq(void)
{
	/* RFC 4475 3.4.1 mismatch01 */
	CHECK_VAL(OPT("CSeq: 8 INVITE\r\n"), false, KAR_R_BAD_CSEQ);
	CHECK_VAL(OPT("CSeq: 8 NOTIFY\r\n"), false, KAR_R_BAD_CSEQ);

	/* Methods are case-sensitive (RFC 3261 7.1) */
	CHECK_VAL(OPT("CSeq: 1 options\r\n"), false, KAR_R_BAD_CSEQ);
	CHECK_VAL(OPT("CSeq: 1 Options\r\n"), false, KAR_R_BAD_CSEQ);
	CHECK_VAL(OPT("CSeq: 1 OPTIONSX\r\n"), false, KAR_R_BAD_CSEQ);
	CHECK_VAL("options sip:192.0.2.1 SIP/2.0\r\n" HDRS
		  "CSeq: 1 options\r\n\r\n", false, KAR_R_NONE);

	/* RFC 4475 3.4.2 mismatch02: an unknown method, the 405 tail */
	CHECK_VAL("NEWMETHOD sip:192.0.2.1 SIP/2.0\r\n" HDRS
		  "CSeq: 1 INVITE\r\n\r\n", false, KAR_R_BAD_CSEQ);
	CHECK_VAL("NEWMETHOD sip:192.0.2.1 SIP/2.0\r\n" HDRS
		  "CSeq: 1 NEWMETHOD\r\n\r\n", false, KAR_R_NONE);

	/* None, or two (RFC 4475 3.1.2.14 multi01 has two) */
	CHECK_VAL(OPT(""), false, KAR_R_BAD_CSEQ);
	CHECK_VAL(OPT("CSeq: 1 OPTIONS\r\nCSeq: 2 OPTIONS\r\n"), false,
		  KAR_R_BAD_CSEQ);
	CHECK_VAL(OPT("CSeq: 1 INVITE\r\nCSeq: 1 OPTIONS\r\n"), false,
		  KAR_R_BAD_CSEQ);

	/* White space inside the value is allowed (LWS) */
	CHECK_VAL(OPT("cseq:\t1   OPTIONS\r\n"), false, KAR_R_NONE);
	CHECK_VAL(OPT("CSeq: 1\r\n OPTIONS\r\n"), false, KAR_R_NONE);

	/* libre files headers by a 12-bit hash of the name: Abcgg hashes
	   as CSeq does, and is no CSeq (nor does it make a second one) */
	CHECK_VAL(OPT("Abcgg: 1 OPTIONS\r\n"), false, KAR_R_BAD_CSEQ);
	CHECK_VAL(OPT("Abcgg: 2 INVITE\r\nCSeq: 1 OPTIONS\r\n"), false,
		  KAR_R_NONE);
	CHECK_VAL(OPT("CSeq: 1 INVITE\r\nAbcgg: 1 OPTIONS\r\n"), false,
		  KAR_R_BAD_CSEQ);
}


/* RFC 3261 18.3, 20.14 */
static void test_clen(void)
{
	/* Two, differing or not, long and compact */
	CHECK_VAL(OPT("CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n"
		      "Content-Length: 4\r\n") "abcd", false, KAR_R_BAD_CLEN);
	CHECK_VAL(OPT("CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n"
		      "Content-Length: 0\r\n"), false, KAR_R_BAD_CLEN);
	CHECK_VAL(OPT("CSeq: 1 OPTIONS\r\nl: 4\r\ncontent-length: 4\r\n")
		  "abcd", false, KAR_R_BAD_CLEN);
	CHECK_VAL(OPT("CSeq: 1 OPTIONS\r\nl: 0\r\nl: 0\r\n"), false,
		  KAR_R_BAD_CLEN);

	/* Abilf hashes as Content-Length does (see test_cseq): no second
	   Content-Length, and not one that lies */
	CHECK_VAL(OPT("CSeq: 1 OPTIONS\r\nAbilf: 99\r\n"), false,
		  KAR_R_NONE);
	CHECK_VAL(OPT("CSeq: 1 OPTIONS\r\nAbilf: 0\r\n"
		      "Content-Length: 0\r\n"), false, KAR_R_NONE);

	/* Content-Length is no list: "0, 4" is one bad value */
	CHECK_VAL(OPT("CSeq: 1 OPTIONS\r\nContent-Length: 0, 4\r\n")
		  "abcd", false, KAR_R_BAD_CLEN);

	/* RFC 4475 3.1.2.7 clerr: more than the datagram holds */
	CHECK_VAL(OPT("CSeq: 1 OPTIONS\r\nContent-Length: 9999\r\n")
		  "short", false, KAR_R_BAD_CLEN);
	CHECK_VAL(OPT("CSeq: 1 OPTIONS\r\nl: 1\r\n"), false,
		  KAR_R_BAD_CLEN);

	/* RFC 4475 3.1.2.8 ncl: negative; and other non-numbers, which
	   libre's pl_u32() would read as 0 */
	CHECK_VAL(OPT("CSeq: 1 OPTIONS\r\nContent-Length: -999\r\n"),
		  false, KAR_R_BAD_CLEN);
	CHECK_VAL(OPT("CSeq: 1 OPTIONS\r\nContent-Length: zero\r\n"),
		  false, KAR_R_BAD_CLEN);
	CHECK_VAL(OPT("CSeq: 1 OPTIONS\r\nContent-Length: +0\r\n"),
		  false, KAR_R_BAD_CLEN);
	CHECK_VAL(OPT("CSeq: 1 OPTIONS\r\nContent-Length: 0x0\r\n"),
		  false, KAR_R_BAD_CLEN);
	CHECK_VAL(OPT("CSeq: 1 OPTIONS\r\nContent-Length:\r\n"),
		  false, KAR_R_BAD_CLEN);

	/* RFC 4475 3.1.2.10 scalar02-like: beyond 32 bits, where
	   pl_u32() wraps (4294967296 would be 0) */
	CHECK_VAL(OPT("CSeq: 1 OPTIONS\r\nContent-Length: 4294967296\r\n"),
		  false, KAR_R_BAD_CLEN);
	CHECK_VAL(OPT("CSeq: 1 OPTIONS\r\nContent-Length:"
		      " 99999999999999999999\r\n"), false, KAR_R_BAD_CLEN);

	/* Leading zeros and white space are fine */
	CHECK_VAL(OPT("CSeq: 1 OPTIONS\r\nContent-Length:   0004  \r\n")
		  "abcd", false, KAR_R_NONE);

	/* Fewer than the datagram holds: the rest is discarded (RFC 3261
	   18.3), the request is fine */
	CHECK_VAL(OPT("CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n")
		  "trailing bytes", false, KAR_R_NONE);

	/* Checked before the CSeq and the scheme */
	CHECK_VAL("OPTIONS tel:+1 SIP/2.0\r\n" HDRS
		  "CSeq: 1 INVITE\r\nl: 0\r\nl: 1\r\n\r\nx", false,
		  KAR_R_BAD_CLEN);
}


/* The body the module reads, as Content-Length delimits it */
static void test_body(void)
{
	struct sip_msg *msg = NULL;
	struct pl body;

	CU_ASSERT_EQUAL_FATAL(unit_decode(&msg, OPT("CSeq: 1 OPTIONS\r\n"
						    "Content-Length: 3\r\n")
					  "abcdef"), 0);
	kar_validate_body(&body, unit_req(msg));
	CU_ASSERT_TRUE(unit_pl_eq(&body, "abc"));
	msg = mem_deref(msg);

	/* Without Content-Length: the whole datagram */
	CU_ASSERT_EQUAL_FATAL(unit_decode(&msg, OPT("CSeq: 1 OPTIONS\r\n")
					  "abcdef"), 0);
	kar_validate_body(&body, unit_req(msg));
	CU_ASSERT_TRUE(unit_pl_eq(&body, "abcdef"));
	msg = mem_deref(msg);

	CU_ASSERT_EQUAL_FATAL(unit_decode(&msg, OPT("CSeq: 1 OPTIONS\r\n"
						    "l: 0\r\n")), 0);
	kar_validate_body(&body, unit_req(msg));
	CU_ASSERT_EQUAL(body.l, 0);
	msg = mem_deref(msg);

	kar_validate_body(&body, NULL);
	CU_ASSERT_EQUAL(body.l, 0);
	kar_validate_body(NULL, NULL);
}


/* RFC 3261 8.2.3: a body the module reads and cannot */
static void test_media(void)
{
	CHECK_VAL(MWI("Content-Type: text/plain\r\n"
		      "Content-Length: " SUMMARY_LEN "\r\n", SUMMARY), true,
		  KAR_R_BAD_MEDIA);
	CHECK_VAL(MWI("c: application/sdp\r\nl: " SUMMARY_LEN "\r\n",
		      SUMMARY), true, KAR_R_BAD_MEDIA);
	CHECK_VAL(MWI("Content-Type: application/simple-message-summary-x\r\n"
		      "Content-Length: " SUMMARY_LEN "\r\n", SUMMARY), true,
		  KAR_R_BAD_MEDIA);

	/* A body with no type at all */
	CHECK_VAL(MWI("Content-Length: " SUMMARY_LEN "\r\n", SUMMARY), true,
		  KAR_R_BAD_MEDIA);

	/* Media types are case-insensitive; parameters are fine */
	CHECK_VAL(MWI("c: Application/Simple-Message-Summary;"
		      " charset=utf-8\r\nl: " SUMMARY_LEN "\r\n", SUMMARY),
		  true, KAR_R_NONE);

	/* Encodings: identity only (the 200's Accept-Encoding) */
	CHECK_VAL(MWI("Content-Type: application/simple-message-summary\r\n"
		      "Content-Encoding: gzip\r\n"
		      "Content-Length: " SUMMARY_LEN "\r\n", SUMMARY), true,
		  KAR_R_BAD_MEDIA);
	CHECK_VAL(MWI("Content-Type: application/simple-message-summary\r\n"
		      "e: identity, deflate\r\n"
		      "Content-Length: " SUMMARY_LEN "\r\n", SUMMARY), true,
		  KAR_R_BAD_MEDIA);
	CHECK_VAL(MWI("Content-Type: application/simple-message-summary\r\n"
		      "Content-Encoding: Identity\r\n"
		      "Content-Length: " SUMMARY_LEN "\r\n", SUMMARY), true,
		  KAR_R_NONE);

	/* No body: nothing to read, whatever the headers say */
	CHECK_VAL(MWI("Content-Type: text/plain\r\nContent-Encoding: gzip"
		      "\r\nContent-Length: 0\r\n", ""), true, KAR_R_NONE);
	CHECK_VAL(MWI("Content-Type: text/plain\r\nContent-Length: 0\r\n",
		      SUMMARY), true, KAR_R_NONE);

	/* Bodies the module does not read are not looked at */
	CHECK_VAL(MWI("Content-Type: text/plain\r\n"
		      "Content-Length: " SUMMARY_LEN "\r\n", SUMMARY), false,
		  KAR_R_NONE);
	CHECK_VAL(OPT("CSeq: 1 OPTIONS\r\nContent-Type: application/sdp\r\n"
		      "Content-Encoding: gzip\r\nContent-Length: 3\r\n")
		  "v=0", false, KAR_R_NONE);

	/* The extension comes before the body */
	CHECK_VAL(MWI("Require: x\r\nContent-Type: text/plain\r\n"
		      "Content-Length: " SUMMARY_LEN "\r\n", SUMMARY), true,
		  KAR_R_BAD_EXTENSION);
}


/*
 * Namesakes of the body's headers: Aafbo hashes as Content-Type does,
 * Aabyq as Content-Encoding, Aahha as Require (libre finds each by
 * that id); none of them is the header it collides with
 */
static void test_media_namesakes(void)
{
	struct sip_msg *m = NULL;

	/* libre reads the type from the namesake (its msg->ctyp) */
	CU_ASSERT_EQUAL_FATAL(unit_decode(&m, MWI(
		"Aafbo: application/simple-message-summary\r\n"
		"Content-Length: " SUMMARY_LEN "\r\n", SUMMARY)), 0);
	CU_ASSERT_TRUE(msg_ctype_cmp(&m->ctyp, "application",
				     "simple-message-summary"));
	CU_ASSERT_EQUAL(kar_validate(unit_req(m), true), KAR_R_BAD_MEDIA);
	m = mem_deref(m);

	CU_ASSERT_EQUAL_FATAL(unit_decode(&m, MWI(
		"Content-Type: application/simple-message-summary\r\n"
		"Aafbo: text/plain\r\n"
		"Content-Length: " SUMMARY_LEN "\r\n", SUMMARY)), 0);
	CU_ASSERT_FALSE(msg_ctype_cmp(&m->ctyp, "application",
				      "simple-message-summary"));
	CU_ASSERT_EQUAL(kar_validate(unit_req(m), true), KAR_R_NONE);
	m = mem_deref(m);

	/* Two real ones are one too many */
	CHECK_VAL(MWI("Content-Type: application/simple-message-summary\r\n"
		      "c: application/simple-message-summary\r\n"
		      "Content-Length: " SUMMARY_LEN "\r\n", SUMMARY), true,
		  KAR_R_BAD_MEDIA);

	CU_ASSERT_EQUAL_FATAL(unit_decode(&m, MWI(
		"Content-Type: application/simple-message-summary\r\n"
		"Aabyq: gzip\r\n"
		"Content-Length: " SUMMARY_LEN "\r\n", SUMMARY)), 0);
	CU_ASSERT_PTR_NOT_NULL(sip_msg_hdr(m, SIP_HDR_CONTENT_ENCODING));
	CU_ASSERT_EQUAL(kar_validate(unit_req(m), true), KAR_R_NONE);
	m = mem_deref(m);

	CU_ASSERT_EQUAL_FATAL(unit_decode(&m, OPT(
		"CSeq: 1 OPTIONS\r\nAahha: foo\r\n")), 0);
	CU_ASSERT_PTR_NOT_NULL(sip_msg_hdr(m, SIP_HDR_REQUIRE));
	CU_ASSERT_EQUAL(kar_validate(unit_req(m), false), KAR_R_NONE);
	m = mem_deref(m);
}


static void test_order(void)
{
	CHECK_VAL("OPTIONS tel:+1 SIP/2.0\r\n" HDRS
		  "CSeq: 1 INVITE\r\nRequire: x\r\n\r\n", false,
		  KAR_R_BAD_CSEQ);
	CHECK_VAL("OPTIONS tel:+1 SIP/2.0\r\n" HDRS
		  "CSeq: 1 OPTIONS\r\nRequire: x\r\n\r\n", false,
		  KAR_R_BAD_SCHEME);
}


/* Headers far longer than any real request has */
static void test_huge(void)
{
	struct sip_msg *msg = NULL;
	struct mbuf *mb;
	char *out = NULL;
	size_t i;

	mb = mbuf_alloc(65536);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mb);

	/* 2000 tags in one Require, one 8 KiB tag in another */
	CU_ASSERT_EQUAL(mbuf_write_str(mb, OPT("CSeq: 1 OPTIONS\r\n")), 0);
	mb->end -= 2;          /* the empty line comes last */
	mb->pos = mb->end;
	CU_ASSERT_EQUAL(mbuf_write_str(mb, "Require: t0"), 0);
	for (i = 1; i < 2000; i++)
		CU_ASSERT_EQUAL(mbuf_printf(mb, ",t%zu", i), 0);
	CU_ASSERT_EQUAL(mbuf_write_str(mb, "\r\nRequire: "), 0);
	for (i = 0; i < 8192; i++)
		CU_ASSERT_EQUAL(mbuf_write_u8(mb, 'x'), 0);
	CU_ASSERT_EQUAL(mbuf_write_str(mb, "\r\n\r\n"), 0);
	CU_ASSERT_EQUAL(mbuf_write_u8(mb, 0), 0);

	CU_ASSERT_EQUAL_FATAL(unit_decode(&msg, (char *)mb->buf), 0);
	CU_ASSERT_EQUAL(sip_msg_hdr_count(msg, SIP_HDR_REQUIRE), 2001);
	CU_ASSERT_EQUAL(kar_validate(unit_req(msg), false),
			KAR_R_BAD_EXTENSION);

	CU_ASSERT_EQUAL_FATAL(unit_answer(NULL, &out, rep, msg,
					  KAR_R_BAD_EXTENSION, NULL), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "Unsupported: t0, t1, t2,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, ", t1999, xxxxxxxx"));
	CU_ASSERT_EQUAL(unit_count(out, "xxxxxxxxxxxxxxxx"), 8192 / 16);

	mem_deref(out);
	mem_deref(msg);
	mem_deref(mb);
}


/* The error answers: status, headers, and the same bytes again for a
   retransmission (the same request decoded once more) */
static void test_answers(void)
{
	static const struct {
		enum kar_reply reply;
		uint16_t scode;
		const char *reason_has;
		const char *hdrs;
	} want[] = {
		{KAR_R_BAD_CLEN,      400, "Content-Length", NULL},
		{KAR_R_BAD_CSEQ,      400, "CSeq",           NULL},
		{KAR_R_BAD_SCHEME,    416, "URI Scheme",     NULL},
		{KAR_R_BAD_EXTENSION, 420, "Extension",
		 "\r\nUnsupported: foo\r\n"},
		{KAR_R_BAD_MEDIA,     415, "Media Type",
		 "\r\nAccept: application/simple-message-summary\r\n"
		 "Accept-Encoding: identity\r\n"},
	};
	static const char text[] = OPT("CSeq: 7 OPTIONS\r\n"
				       "Require: foo\r\n"
				       "Content-Length: 0\r\n");
	struct sip_msg *req = NULL, *again = NULL;
	size_t i;

	CU_ASSERT_EQUAL_FATAL(unit_decode(&req, text), 0);
	CU_ASSERT_EQUAL_FATAL(unit_decode(&again, text), 0);

	for (i = 0; i < ARRAY_SIZE(want); i++) {

		char *a = NULL, *b = NULL;
		const char *reason = NULL;
		uint16_t scode = 0;

		kar_reply_status(want[i].reply, &scode, &reason);
		CU_ASSERT_EQUAL(scode, want[i].scode);
		CU_ASSERT_PTR_NOT_NULL_FATAL(reason);
		CU_ASSERT_PTR_NOT_NULL(strstr(reason, want[i].reason_has));

		CU_ASSERT_EQUAL_FATAL(unit_answer(NULL, &a, rep, req,
						  want[i].reply, NULL), 0);
		CU_ASSERT_EQUAL_FATAL(unit_answer(NULL, &b, rep, again,
						  want[i].reply, NULL), 0);
		CU_ASSERT_STRING_EQUAL(a, b);

		if (want[i].hdrs)
			CU_ASSERT_PTR_NOT_NULL(strstr(a, want[i].hdrs));

		/* Only the 420 names tags, only the 415 says what it reads */
		CU_ASSERT_EQUAL(unit_count(a, "Unsupported:"),
				want[i].reply == KAR_R_BAD_EXTENSION);
		CU_ASSERT_EQUAL(unit_count(a, "\r\nAccept:"),
				want[i].reply == KAR_R_BAD_MEDIA);
		CU_ASSERT_PTR_NOT_NULL(strstr(a, "\r\nCSeq: 7 OPTIONS\r\n"));
		CU_ASSERT_PTR_NOT_NULL(strstr(a, ";tag="));

		mem_deref(a);
		mem_deref(b);
	}

	mem_deref(again);
	mem_deref(req);
}


static CU_TestInfo tests[] = {
	{"valid",        test_valid},
	{"scheme",       test_scheme},
	{"require",      test_require},
	{"unsupported",  test_unsupported},
	{"cseq",         test_cseq},
	{"clen",         test_clen},
	{"body",         test_body},
	{"media",        test_media},
	{"media_names",  test_media_namesakes},
	{"order",        test_order},
	{"huge",         test_huge},
	{"answers",      test_answers},
	CU_TEST_INFO_NULL
};


int unit_validate_register(void)
{
	return unit_suite_add("validate", init, cleanup, tests);
}
