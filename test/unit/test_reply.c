/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file test_reply.c  keepalive_responder unit tests -- the answers
 *
 * Each answer is encoded for a decoded request and then read back with
 * libre's own decoder, as the prober's stack would read it.
 */
#include <string.h>
#include <re.h>
#include <CUnit/CUnit.h>
#include "kar.h"
#include "unit.h"


static const uint64_t secret = 0x0123456789abcdefULL;

/* The methods an OPTIONS 200 allows, as baresip 1.x's core lists them
   for an account that allows REFER */
#define ALLOW_ALL "INVITE, ACK, BYE, CANCEL, OPTIONS, NOTIFY, SUBSCRIBE," \
	" INFO, MESSAGE, REFER"

static struct kar_events events;
static struct kar_replies *rep;


static int init(void)
{
	int err;

	err = kar_events_parse(&events, UNIT_EVENTS);
	if (err)
		return err;

	return kar_replies_alloc(&rep, &events, secret);
}


static int cleanup(void)
{
	rep = mem_deref(rep);

	return 0;
}


/* A request whose identifying fields the test chooses */
static int request(struct sip_msg **msgp, const char *met,
		   const char *branch, const char *callid, uint32_t cseq,
		   const char *fromtag)
{
	char *text = NULL;
	int err;

	err = re_sdprintf(&text,
			  "%s sip:192.0.2.1:5060 SIP/2.0\r\n"
			  "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=%s\r\n"
			  "Max-Forwards: 70\r\n"
			  "From: <sip:prober@192.0.2.10>;tag=%s\r\n"
			  "To: <sip:192.0.2.1:5060>\r\n"
			  "Call-ID: %s\r\n"
			  "CSeq: %u %s\r\n"
			  "Content-Length: 0\r\n"
			  "\r\n",
			  met, branch, fromtag, callid, cseq, met);
	if (err)
		return err;

	err = unit_decode(msgp, text);
	mem_deref(text);

	return err;
}


/* The full value of the first header line with this id */
static const struct pl *line_of(const struct sip_msg *msg,
				enum sip_hdrid id)
{
	struct le *le;

	for (le = msg->hdrl.head; le; le = le->next) {

		const struct sip_hdr *hdr = le->data;

		if (hdr->id == id)
			return &hdr->val;
	}

	return NULL;
}


/* The To tag of the answer to req */
static int totag_of(struct pl *tag, struct sip_msg **respp,
		    const struct kar_replies *r, const struct sip_msg *req)
{
	int err;

	err = unit_answer(respp, NULL, r, req, KAR_R_OPTIONS_OK, NULL);
	if (err)
		return err;

	*tag = (*respp)->to.tag;

	return pl_isset(tag) ? 0 : ENOENT;
}


/* The status line of the module's answer to a request, as policy and
   validation choose it (exclusive mode) */
static int status_line(char *buf, size_t sz, const char *text,
		       bool summary)
{
	struct kar_policy pol;
	struct kar_verdict v;
	struct sip_msg *req = NULL;
	enum kar_reply reply;
	char *resp = NULL, *eol;
	int err;

	memset(&pol, 0, sizeof(pol));
	pol.exclusive = true;
	pol.events = &events;

	err = unit_decode(&req, text);
	if (err)
		return err;

	kar_policy_decide(&v, &pol, unit_req(req));
	reply = kar_validate(unit_req(req), summary);
	if (reply == KAR_R_NONE)
		reply = v.reply;

	err = unit_answer(NULL, &resp, rep, req, reply, NULL);
	if (err)
		goto out;

	eol = strstr(resp, "\r\n");
	if (!eol) {
		err = EBADMSG;
		goto out;
	}

	*eol = '\0';
	str_ncpy(buf, resp, sz);

 out:
	mem_deref(resp);
	mem_deref(req);

	return err;
}


#define REQ(met, ruri, cseq, extra)					\
	met " " ruri " SIP/2.0\r\n"					\
	"Via: SIP/2.0/UDP " UNIT_SRC_ADDR ":5060;branch=z9hG4bK-st\r\n"	\
	"From: <sip:prober@192.0.2.10>;tag=st\r\n"			\
	"To: <sip:192.0.2.1>\r\n"					\
	"Call-ID: status@192.0.2.10\r\n"				\
	"CSeq: " cseq "\r\n" extra "\r\n"


/*
 * The status line on the wire for requests that lead to each answer:
 * the reason phrases RFC 3261 21 and RFC 6665 8.3.1 give, and for the
 * module's own 400s one that names what was wrong
 */
static void test_status(void)
{
	static const struct {
		const char *req;
		bool summary;
		const char *line;
	} v[] = {
		{REQ("OPTIONS", "sip:192.0.2.1", "1 OPTIONS", ""), false,
		 "SIP/2.0 200 OK"},
		{REQ("NOTIFY", "sip:192.0.2.1", "1 NOTIFY",
		     "Event: keep-alive\r\n"), false, "SIP/2.0 200 OK"},
		{REQ("NOTIFY", "sip:192.0.2.1", "1 NOTIFY",
		     "Event: presence\r\n"), false,
		 "SIP/2.0 489 Bad Event"},
		{REQ("NOTIFY", "sip:192.0.2.1", "1 NOTIFY", ""), false,
		 "SIP/2.0 400 Missing Event Header"},
		{REQ("NOTIFY", "sip:192.0.2.1", "1 NOTIFY",
		     "Event: ;keep-alive\r\n"), false,
		 "SIP/2.0 400 Bad Event Header"},
		{REQ("OPTIONS", "sip:192.0.2.1", "1 OPTIONS",
		     "Content-Length: x\r\n"), false,
		 "SIP/2.0 400 Bad Content-Length Header"},
		{REQ("OPTIONS", "sip:192.0.2.1", "1 INVITE", ""), false,
		 "SIP/2.0 400 Bad CSeq Header"},
		{REQ("OPTIONS", "tel:+15551234", "1 OPTIONS", ""), false,
		 "SIP/2.0 416 Unsupported URI Scheme"},
		{REQ("OPTIONS", "sip:192.0.2.1", "1 OPTIONS",
		     "Require: foo\r\n"), false,
		 "SIP/2.0 420 Bad Extension"},
		{REQ("NOTIFY", "sip:192.0.2.1", "1 NOTIFY",
		     "Event: message-summary\r\n"
		     "Content-Type: text/plain\r\n"
		     "Content-Length: 2\r\n\r\nhi"), true,
		 "SIP/2.0 415 Unsupported Media Type"},
	};
	struct sip_msg *req = NULL;
	char line[64];
	char *text = NULL;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		memset(line, 0, sizeof(line));
		CU_ASSERT_EQUAL(status_line(line, sizeof(line), v[i].req,
					    v[i].summary), 0);
		CU_ASSERT_STRING_EQUAL(line, v[i].line);
	}

	/* What only the glue leads to: the tail's 405, an action's 481
	   and 500, a bad summary's 400, a drain's 503 */
	CU_ASSERT_EQUAL_FATAL(unit_request(&req, "PUBLISH", "sip:192.0.2.1",
					   NULL, NULL), 0);

	CU_ASSERT_EQUAL(unit_answer(NULL, &text, rep, req, KAR_R_NOT_ALLOWED,
				    NULL), 0);
	CU_ASSERT_TRUE(text && !strncmp(text, "SIP/2.0 405 Method Not"
					" Allowed\r\n", 32));
	text = mem_deref(text);

	CU_ASSERT_EQUAL(unit_answer(NULL, &text, rep, req, KAR_R_NO_CALL,
				    NULL), 0);
	CU_ASSERT_TRUE(text && !strncmp(text, "SIP/2.0 481 Call/Transaction"
					" Does Not Exist\r\n", 45));
	text = mem_deref(text);

	CU_ASSERT_EQUAL(unit_answer(NULL, &text, rep, req, KAR_R_FAILED,
				    NULL), 0);
	CU_ASSERT_TRUE(text && !strncmp(text, "SIP/2.0 500 Server Internal"
					" Error\r\n", 35));
	text = mem_deref(text);

	CU_ASSERT_EQUAL(unit_answer(NULL, &text, rep, req, KAR_R_BAD_SUMMARY,
				    NULL), 0);
	CU_ASSERT_TRUE(text && !strncmp(text, "SIP/2.0 400 Bad"
					" message-summary Body\r\n", 38));
	text = mem_deref(text);

	CU_ASSERT_EQUAL(unit_answer(NULL, &text, rep, req, KAR_R_DRAIN,
				    NULL), 0);
	CU_ASSERT_TRUE(text && !strncmp(text, "SIP/2.0 503 Service"
					" Unavailable\r\n", 33));
	text = mem_deref(text);

	mem_deref(req);
}


/*
 * Every kind decodes as a valid response with its own status line,
 * written out here: a kind without one fails until it is given one
 */
static void test_kinds(void)
{
	static const char *lines[KAR_R_N] = {
		[KAR_R_OPTIONS_OK]   = "SIP/2.0 200 OK",
		[KAR_R_NOTIFY_OK]    = "SIP/2.0 200 OK",
		[KAR_R_BAD_EVENT]    = "SIP/2.0 489 Bad Event",
		[KAR_R_NO_EVENT]     = "SIP/2.0 400 Missing Event Header",
		[KAR_R_EVENT_SYNTAX] = "SIP/2.0 400 Bad Event Header",
		[KAR_R_NOT_ALLOWED]  = "SIP/2.0 405 Method Not Allowed",
		[KAR_R_BAD_SUMMARY]  = "SIP/2.0 400 Bad message-summary Body",
		[KAR_R_NO_CALL]      =
			"SIP/2.0 481 Call/Transaction Does Not Exist",
		[KAR_R_FAILED]       = "SIP/2.0 500 Server Internal Error",
		[KAR_R_BAD_CLEN]     = "SIP/2.0 400 Bad Content-Length Header",
		[KAR_R_BAD_CSEQ]     = "SIP/2.0 400 Bad CSeq Header",
		[KAR_R_BAD_SCHEME]   = "SIP/2.0 416 Unsupported URI Scheme",
		[KAR_R_BAD_EXTENSION] = "SIP/2.0 420 Bad Extension",
		[KAR_R_BAD_MEDIA]    = "SIP/2.0 415 Unsupported Media Type",
		[KAR_R_DRAIN]        = "SIP/2.0 503 Service Unavailable",
	};
	struct sip_msg *req = NULL;
	int reply;

	CU_ASSERT_EQUAL_FATAL(request(&req, "NOTIFY", "z9hG4bK-k", "kinds-1",
				      42, "ft"), 0);

	for (reply = KAR_R_NONE + 1; reply < KAR_R_N; reply++) {

		struct sip_msg *resp = NULL;
		char *text = NULL;
		const char *line = lines[reply];
		char want[80], got[80];
		const struct sip_hdr *hdr;
		int err;

		err = unit_answer(&resp, &text, rep, req,
				  (enum kar_reply)reply, NULL);
		CU_ASSERT_EQUAL(err, 0);
		CU_ASSERT_PTR_NOT_NULL(line);
		if (err || !line) {
			mem_deref(text);
			mem_deref(resp);
			continue;
		}

		/* As written, and as the prober's stack reads it back */
		(void)re_snprintf(want, sizeof(want), "%s\r\n", line);
		CU_ASSERT_EQUAL(strncmp(text, want, strlen(want)), 0);
		(void)re_snprintf(got, sizeof(got), "%r %u %r", &resp->ver,
				  resp->scode, &resp->reason);
		CU_ASSERT_STRING_EQUAL(got, line);

		CU_ASSERT_FALSE(resp->req);
		CU_ASSERT_EQUAL(resp->cseq.num, 42);
		CU_ASSERT_TRUE(unit_pl_eq(&resp->cseq.met, "NOTIFY"));
		CU_ASSERT_TRUE(pl_isset(&resp->to.tag));

		/* Exactly one Content-Length, zero, and no body */
		hdr = sip_msg_hdr(resp, SIP_HDR_CONTENT_LENGTH);
		CU_ASSERT_PTR_NOT_NULL(hdr);
		CU_ASSERT_EQUAL(sip_msg_hdr_count(resp,
					SIP_HDR_CONTENT_LENGTH), 1);
		CU_ASSERT_TRUE(hdr && unit_pl_eq(&hdr->val, "0"));
		CU_ASSERT_EQUAL(mbuf_get_left(resp->mb), 0);
		CU_ASSERT_PTR_NULL(sip_msg_hdr(resp, SIP_HDR_CONTENT_TYPE));

		/* Every line ends in CRLF, and the head in an empty line */
		CU_ASSERT_EQUAL(unit_count(text, "\n"),
				unit_count(text, "\r\n"));
		CU_ASSERT_EQUAL(unit_count(text, "\r\n\r\n"), 1);
		CU_ASSERT_EQUAL(strcmp(text + strlen(text) - 4, "\r\n\r\n"),
				0);

		/* Nothing of the request's own headers leaks through */
		CU_ASSERT_PTR_NULL(sip_msg_hdr(resp, SIP_HDR_MAX_FORWARDS));

		mem_deref(text);
		mem_deref(resp);
	}

	mem_deref(req);
}


/* RFC 3261 11.2: the capabilities, no body, no media */
static void test_options_ok(void)
{
	struct sip_msg *req = NULL, *resp = NULL;
	const struct pl *val;
	char *text = NULL;

	CU_ASSERT_EQUAL_FATAL(unit_request(&req, "OPTIONS", "sip:192.0.2.1",
					   NULL, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(unit_answer(&resp, &text, rep, req,
					  KAR_R_OPTIONS_OK, NULL), 0);

	CU_ASSERT_EQUAL(resp->scode, 200);

	/* All ten, in this order, in one header */
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\r\nAllow: " ALLOW_ALL "\r\n"));
	CU_ASSERT_EQUAL(unit_count(text, "\r\nAllow:"), 1);
	CU_ASSERT_EQUAL(sip_msg_hdr_count(resp, SIP_HDR_ALLOW), 10);

	CU_ASSERT_TRUE(sip_msg_hdr_has_value(resp, SIP_HDR_ACCEPT,
					     "application/sdp"));
	CU_ASSERT_PTR_NOT_NULL(sip_msg_hdr(resp, SIP_HDR_ACCEPT_ENCODING));
	CU_ASSERT_PTR_NOT_NULL(sip_msg_hdr(resp, SIP_HDR_ACCEPT_LANGUAGE));

	/* Nothing the module could not make true (docs/design.md) */
	CU_ASSERT_PTR_NULL(sip_msg_hdr(resp, SIP_HDR_SUPPORTED));
	CU_ASSERT_PTR_NULL(sip_msg_hdr(resp, SIP_HDR_SERVER));

	/* All configured packages, in order, in one header */
	val = line_of(resp, SIP_HDR_ALLOW_EVENTS);
	CU_ASSERT_TRUE(unit_pl_eq(val,
				  "keep-alive, check-sync, message-summary"));
	CU_ASSERT_EQUAL(sip_msg_hdr_count(resp, SIP_HDR_ALLOW_EVENTS), 3);

	CU_ASSERT_EQUAL(mbuf_get_left(resp->mb), 0);
	CU_ASSERT_PTR_NULL(sip_msg_hdr(resp, SIP_HDR_CONTENT_TYPE));
	CU_ASSERT_PTR_NULL(sip_msg_hdr(resp, SIP_HDR_CONTACT));
	CU_ASSERT_PTR_NULL(strstr(text, "v=0"));

	mem_deref(text);
	mem_deref(resp);
	mem_deref(req);
}


static void test_notify_ok(void)
{
	struct sip_msg *req = NULL, *resp = NULL;

	CU_ASSERT_EQUAL_FATAL(unit_request(&req, "NOTIFY", "sip:192.0.2.1",
					   NULL, "Event: keep-alive\r\n"), 0);
	CU_ASSERT_EQUAL_FATAL(unit_answer(&resp, NULL, rep, req,
					  KAR_R_NOTIFY_OK, NULL), 0);

	CU_ASSERT_EQUAL(resp->scode, 200);
	CU_ASSERT_TRUE(unit_pl_eq(&resp->reason, "OK"));
	CU_ASSERT_TRUE(unit_pl_eq(&resp->cseq.met, "NOTIFY"));
	CU_ASSERT_TRUE(pl_isset(&resp->to.tag));

	/* The capability block is for OPTIONS only */
	CU_ASSERT_PTR_NULL(sip_msg_hdr(resp, SIP_HDR_ALLOW));
	CU_ASSERT_PTR_NULL(sip_msg_hdr(resp, SIP_HDR_EVENT));

	mem_deref(resp);
	mem_deref(req);
}


/* RFC 6665 8.2.2: 489 says which packages would have been accepted */
static void test_bad_event(void)
{
	struct sip_msg *req = NULL, *resp = NULL;

	CU_ASSERT_EQUAL_FATAL(unit_request(&req, "NOTIFY", "sip:192.0.2.1",
					   NULL, "Event: presence\r\n"), 0);
	CU_ASSERT_EQUAL_FATAL(unit_answer(&resp, NULL, rep, req,
					  KAR_R_BAD_EVENT, NULL), 0);

	CU_ASSERT_EQUAL(resp->scode, 489);
	CU_ASSERT_TRUE(unit_pl_eq(&resp->reason, "Bad Event"));
	CU_ASSERT_TRUE(unit_pl_eq(line_of(resp, SIP_HDR_ALLOW_EVENTS),
				  "keep-alive, check-sync, message-summary"));
	CU_ASSERT_PTR_NULL(sip_msg_hdr(resp, SIP_HDR_ALLOW));

	mem_deref(resp);
	mem_deref(req);
}


static void test_no_event(void)
{
	struct sip_msg *req = NULL, *resp = NULL;

	CU_ASSERT_EQUAL_FATAL(unit_request(&req, "NOTIFY", "sip:192.0.2.1",
					   NULL, NULL), 0);

	CU_ASSERT_EQUAL_FATAL(unit_answer(&resp, NULL, rep, req,
					  KAR_R_NO_EVENT, NULL), 0);
	CU_ASSERT_EQUAL(resp->scode, 400);
	CU_ASSERT_EQUAL(re_regex(resp->reason.p, resp->reason.l, "Event"),
			0);
	resp = mem_deref(resp);

	CU_ASSERT_EQUAL_FATAL(unit_answer(&resp, NULL, rep, req,
					  KAR_R_EVENT_SYNTAX, NULL), 0);
	CU_ASSERT_EQUAL(resp->scode, 400);
	CU_ASSERT_EQUAL(re_regex(resp->reason.p, resp->reason.l, "Event"),
			0);

	mem_deref(resp);
	mem_deref(req);
}


/* RFC 3261 21.4.6: 405 lists what is allowed, not the refused method */
static void test_not_allowed(void)
{
	struct sip_msg *req = NULL, *resp = NULL;

	CU_ASSERT_EQUAL_FATAL(request(&req, "PUBLISH", "z9hG4bK-p", "na-1",
				      1, "ft"), 0);
	CU_ASSERT_EQUAL_FATAL(unit_answer(&resp, NULL, rep, req,
					  KAR_R_NOT_ALLOWED, NULL), 0);

	CU_ASSERT_EQUAL(resp->scode, 405);
	CU_ASSERT_TRUE(unit_pl_eq(line_of(resp, SIP_HDR_ALLOW), ALLOW_ALL));
	CU_ASSERT_EQUAL(sip_msg_hdr_count(resp, SIP_HDR_ALLOW), 10);
	CU_ASSERT_TRUE(sip_msg_hdr_has_value(resp, SIP_HDR_ALLOW, "INVITE"));
	CU_ASSERT_TRUE(sip_msg_hdr_has_value(resp, SIP_HDR_ALLOW, "REFER"));
	CU_ASSERT_FALSE(sip_msg_hdr_has_value(resp, SIP_HDR_ALLOW,
					      "PUBLISH"));
	CU_ASSERT_PTR_NULL(sip_msg_hdr(resp, SIP_HDR_ALLOW_EVENTS));
	mem_deref(resp);
	mem_deref(req);

	/* A method of the list itself is left out of it */
	CU_ASSERT_EQUAL_FATAL(request(&req, "MESSAGE", "z9hG4bK-m", "na-2",
				      1, "ft"), 0);
	CU_ASSERT_EQUAL_FATAL(unit_answer(&resp, NULL, rep, req,
					  KAR_R_NOT_ALLOWED, NULL), 0);

	CU_ASSERT_EQUAL(resp->scode, 405);
	CU_ASSERT_TRUE(unit_pl_eq(line_of(resp, SIP_HDR_ALLOW),
				  "INVITE, ACK, BYE, CANCEL, OPTIONS, NOTIFY,"
				  " SUBSCRIBE, INFO, REFER"));
	CU_ASSERT_EQUAL(sip_msg_hdr_count(resp, SIP_HDR_ALLOW), 9);
	CU_ASSERT_FALSE(sip_msg_hdr_has_value(resp, SIP_HDR_ALLOW,
					      "MESSAGE"));
	CU_ASSERT_TRUE(sip_msg_hdr_has_value(resp, SIP_HDR_ALLOW, "INFO"));
	CU_ASSERT_TRUE(sip_msg_hdr_has_value(resp, SIP_HDR_ALLOW,
					     "OPTIONS"));
	mem_deref(resp);
	mem_deref(req);

	/* First and last of the list, so no stray separator is left */
	CU_ASSERT_EQUAL_FATAL(request(&req, "INVITE", "z9hG4bK-i", "na-3",
				      1, "ft"), 0);
	CU_ASSERT_EQUAL_FATAL(unit_answer(&resp, NULL, rep, req,
					  KAR_R_NOT_ALLOWED, NULL), 0);
	CU_ASSERT_TRUE(unit_pl_eq(line_of(resp, SIP_HDR_ALLOW),
				  "ACK, BYE, CANCEL, OPTIONS, NOTIFY,"
				  " SUBSCRIBE, INFO, MESSAGE, REFER"));
	mem_deref(resp);
	mem_deref(req);

	CU_ASSERT_EQUAL_FATAL(request(&req, "REFER", "z9hG4bK-r", "na-4",
				      1, "ft"), 0);
	CU_ASSERT_EQUAL_FATAL(unit_answer(&resp, NULL, rep, req,
					  KAR_R_NOT_ALLOWED, NULL), 0);
	CU_ASSERT_TRUE(unit_pl_eq(line_of(resp, SIP_HDR_ALLOW),
				  "INVITE, ACK, BYE, CANCEL, OPTIONS, NOTIFY,"
				  " SUBSCRIBE, INFO, MESSAGE"));
	mem_deref(resp);
	mem_deref(req);
}


/* Allow-Events needs at least one package (RFC 6665 8.2.2) */
static void test_empty_events(void)
{
	struct kar_events none;
	struct kar_replies *r = NULL;
	struct sip_msg *req = NULL, *resp = NULL;
	char *text = NULL;

	CU_ASSERT_EQUAL_FATAL(kar_events_parse(&none, ""), 0);
	CU_ASSERT_EQUAL_FATAL(kar_replies_alloc(&r, &none, secret), 0);
	CU_ASSERT_EQUAL_FATAL(unit_request(&req, "OPTIONS", "sip:192.0.2.1",
					   NULL, NULL), 0);

	CU_ASSERT_EQUAL(unit_answer(&resp, &text, r, req, KAR_R_OPTIONS_OK,
				    NULL), 0);
	CU_ASSERT_TRUE(resp && resp->scode == 200);
	CU_ASSERT_PTR_NULL(resp ? sip_msg_hdr(resp, SIP_HDR_ALLOW_EVENTS) :
			   NULL);
	CU_ASSERT_PTR_NULL(text ? strstr(text, "Allow-Events") : NULL);
	CU_ASSERT_TRUE(resp && sip_msg_hdr(resp, SIP_HDR_ALLOW) != NULL);
	resp = mem_deref(resp);
	text = mem_deref(text);

	CU_ASSERT_EQUAL(unit_answer(&resp, &text, r, req, KAR_R_BAD_EVENT,
				    NULL), 0);
	CU_ASSERT_TRUE(resp && resp->scode == 489);
	CU_ASSERT_PTR_NULL(text ? strstr(text, "Allow-Events") : NULL);
	resp = mem_deref(resp);
	text = mem_deref(text);
	r = mem_deref(r);

	/* No list at all is the same as an empty one */
	CU_ASSERT_EQUAL_FATAL(kar_replies_alloc(&r, NULL, secret), 0);
	CU_ASSERT_EQUAL(unit_answer(&resp, &text, r, req, KAR_R_OPTIONS_OK,
				    NULL), 0);
	CU_ASSERT_PTR_NULL(text ? strstr(text, "Allow-Events") : NULL);

	mem_deref(resp);
	mem_deref(text);
	mem_deref(r);
	mem_deref(req);
}


/*
 * Split an answer at its To tag: the tag, and the answer without
 * ";tag=" and the tag.  The tag is keyed by a secret, so the test
 * cannot write it out; it checks the tag's form apart and the rest
 * byte for byte.
 */
static int split_totag(char *rest, size_t rsz, char *tag, size_t tsz,
		       const char *text)
{
	const char *to, *p, *eol;

	to = strstr(text, "\r\nTo: ");
	if (!to)
		return ENOENT;

	eol = strstr(to + 2, "\r\n");
	p = strstr(to + 2, ";tag=");
	if (!eol || !p || p > eol)
		return ENOENT;

	if ((size_t)(eol - p - 5) >= tsz ||
	    (size_t)(p - text) + strlen(eol) >= rsz)
		return EOVERFLOW;

	memcpy(tag, p + 5, eol - p - 5);
	tag[eol - p - 5] = '\0';

	memcpy(rest, text, p - text);
	memcpy(rest + (p - text), eol, strlen(eol) + 1);

	return 0;
}


/* 64 bits, written as 16 lowercase hex digits */
static bool tag_hex16(const char *tag)
{
	return strlen(tag) == 16 &&
		strspn(tag, "0123456789abcdef") == 16;
}


/*
 * RFC 3261 8.2.7: a retransmission gets the same answer, a new
 * request another To tag
 */
static void test_totag(void)
{
	/* The answer to req1 but for its tag: the request's own Via
	   (the source matches it), From, To, Call-ID and CSeq */
	static const char answer[] =
		"SIP/2.0 200 OK\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-t1\r\n"
		"From: <sip:prober@192.0.2.10>;tag=ft\r\n"
		"To: <sip:192.0.2.1:5060>\r\n"
		"Call-ID: totag-1\r\n"
		"CSeq: 1 OPTIONS\r\n"
		"Allow: " ALLOW_ALL "\r\n"
		"Accept: application/sdp, application/simple-message-summary"
		"\r\n"
		"Accept-Encoding: identity\r\n"
		"Accept-Language: en\r\n"
		"Allow-Events: keep-alive, check-sync, message-summary\r\n"
		"Content-Length: 0\r\n"
		"\r\n";
	static const struct {
		const char *met, *branch, *callid, *fromtag;
		uint32_t cseq;
	} other[] = {
		{"OPTIONS", "z9hG4bK-t2", "totag-1", "ft", 1},
		{"OPTIONS", "z9hG4bK-t1", "totag-2", "ft", 1},
		{"OPTIONS", "z9hG4bK-t1", "totag-1", "fu", 1},
		{"OPTIONS", "z9hG4bK-t1", "totag-1", "ft", 2},
		{"NOTIFY",  "z9hG4bK-t1", "totag-1", "ft", 1},
	};
	struct sip_msg *req1 = NULL, *req2 = NULL;
	struct sip_msg *resp1 = NULL, *resp2 = NULL;
	struct kar_replies *r2 = NULL;
	char *text1 = NULL, *text2 = NULL, *text3 = NULL;
	char rest1[1024], rest2[1024], tagk1[32], tagk2[32];
	struct pl tag1, tag2;
	size_t i;

	/* Two receptions of the same bytes */
	CU_ASSERT_EQUAL_FATAL(request(&req1, "OPTIONS", "z9hG4bK-t1",
				      "totag-1", 1, "ft"), 0);
	CU_ASSERT_EQUAL_FATAL(request(&req2, "OPTIONS", "z9hG4bK-t1",
				      "totag-1", 1, "ft"), 0);

	CU_ASSERT_EQUAL_FATAL(unit_answer(&resp1, &text1, rep, req1,
					  KAR_R_OPTIONS_OK, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(unit_answer(&resp2, &text2, rep, req2,
					  KAR_R_OPTIONS_OK, NULL), 0);

	CU_ASSERT_TRUE(pl_isset(&resp1->to.tag));
	CU_ASSERT_EQUAL(pl_cmp(&resp1->to.tag, &resp2->to.tag), 0);
	CU_ASSERT_STRING_EQUAL(text1, text2);

	/* Not random per call: the same request, the same bytes */
	CU_ASSERT_EQUAL_FATAL(unit_answer(NULL, &text3, rep, req1,
					  KAR_R_OPTIONS_OK, NULL), 0);
	CU_ASSERT_STRING_EQUAL(text3, text1);
	text3 = mem_deref(text3);

	/* 64 bits in hex on the request's To, and nothing else added */
	CU_ASSERT_EQUAL_FATAL(split_totag(rest1, sizeof(rest1), tagk1,
					  sizeof(tagk1), text1), 0);
	CU_ASSERT_TRUE(tag_hex16(tagk1));
	CU_ASSERT_TRUE(unit_pl_eq(&resp1->to.tag, tagk1));
	CU_ASSERT_STRING_EQUAL(rest1, answer);
	CU_ASSERT_EQUAL(resp1->to.tag.l, 16);

	tag1 = resp1->to.tag;

	for (i = 0; i < ARRAY_SIZE(other); i++) {

		struct sip_msg *req = NULL, *resp = NULL;

		CU_ASSERT_EQUAL_FATAL(request(&req, other[i].met,
					      other[i].branch,
					      other[i].callid,
					      other[i].cseq,
					      other[i].fromtag), 0);

		CU_ASSERT_EQUAL(totag_of(&tag2, &resp, rep, req), 0);
		CU_ASSERT_NOT_EQUAL(pl_cmp(&tag1, &tag2), 0);

		mem_deref(resp);
		mem_deref(req);
	}

	/* Another key, another tag and only that: tags cannot be
	   predicted outside */
	CU_ASSERT_EQUAL_FATAL(kar_replies_alloc(&r2, &events, ~secret), 0);
	CU_ASSERT_EQUAL_FATAL(unit_answer(NULL, &text3, r2, req1,
					  KAR_R_OPTIONS_OK, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(split_totag(rest2, sizeof(rest2), tagk2,
					  sizeof(tagk2), text3), 0);
	CU_ASSERT_TRUE(tag_hex16(tagk2));
	CU_ASSERT_STRING_NOT_EQUAL(tagk2, tagk1);
	CU_ASSERT_STRING_EQUAL(rest2, rest1);

	mem_deref(r2);
	mem_deref(text1);
	mem_deref(text2);
	mem_deref(text3);
	mem_deref(resp1);
	mem_deref(resp2);
	mem_deref(req1);
	mem_deref(req2);
}


/* A To that has a tag already keeps it and gets no second one */
static void test_totag_kept(void)
{
	struct sip_msg *req = NULL, *resp = NULL;

	CU_ASSERT_EQUAL_FATAL(unit_request(&req, "NOTIFY", "sip:192.0.2.1",
					   "dlg-7", "Event: x\r\n"), 0);
	CU_ASSERT_EQUAL_FATAL(unit_answer(&resp, NULL, rep, req,
					  KAR_R_NOT_ALLOWED, NULL), 0);

	CU_ASSERT_TRUE(unit_pl_eq(&resp->to.tag, "dlg-7"));
	CU_ASSERT_EQUAL(pl_cmp(&resp->to.val, &req->to.val), 0);

	mem_deref(resp);
	mem_deref(req);
}


/* RFC 3581: ;rport asks for the source port, and brings received */
static void test_via_rport(void)
{
	static const struct {
		const char *via;
		const char *sentby;
	} rows[] = {
		{"SIP/2.0/UDP 10.0.0.5:5060;rport;branch=z9hG4bK-r1",
		 "10.0.0.5:5060"},
		{"SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK-r1;rport",
		 "10.0.0.5:5060"},
		{"SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK-r1 ; rport",
		 "10.0.0.5:5060"},
		{"SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK-r1;RPort",
		 "10.0.0.5:5060"},
		/* a value already there is replaced, not left behind */
		{"SIP/2.0/UDP 10.0.0.5:5060;rport=1234;branch=z9hG4bK-r1",
		 "10.0.0.5:5060"},
		{"SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK-r1;rport=1",
		 "10.0.0.5:5060"},
		/* RFC 3581 4: received even where the address matches */
		{"SIP/2.0/UDP 192.0.2.77:5060;branch=z9hG4bK-r1;rport",
		 "192.0.2.77:5060"},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rows); i++) {

		struct sip_msg *req = NULL, *resp = NULL;
		char *text = NULL, *req_text = NULL;
		struct pl val;
		bool rport = false;

		CU_ASSERT_EQUAL_FATAL(re_sdprintf(&req_text,
			"OPTIONS sip:192.0.2.1 SIP/2.0\r\n"
			"Via: %s\r\n"
			"From: <sip:p@10.0.0.5>;tag=f\r\n"
			"To: <sip:192.0.2.1>\r\n"
			"Call-ID: rport-1\r\n"
			"CSeq: 1 OPTIONS\r\n"
			"\r\n", rows[i].via), 0);
		CU_ASSERT_EQUAL_FATAL(unit_decode(&req, req_text), 0);
		mem_deref(req_text);

		/* What the transport would have filled in */
		CU_ASSERT_EQUAL_FATAL(sa_set_str(&req->src, "192.0.2.77",
						 40000), 0);

		CU_ASSERT_EQUAL_FATAL(unit_answer(&resp, &text, rep, req,
						  KAR_R_OPTIONS_OK,
						  &rport), 0);

		CU_ASSERT_TRUE(rport);
		CU_ASSERT_TRUE(unit_pl_eq(&resp->via.branch, "z9hG4bK-r1"));
		CU_ASSERT_TRUE(unit_pl_eq(&resp->via.sentby, rows[i].sentby));

		CU_ASSERT_EQUAL(msg_param_decode(&resp->via.params, "rport",
						 &val), 0);
		CU_ASSERT_TRUE(unit_pl_eq(&val, "40000"));
		CU_ASSERT_EQUAL(msg_param_decode(&resp->via.params,
						 "received", &val), 0);
		CU_ASSERT_TRUE(unit_pl_eq(&val, "192.0.2.77"));

		/* The request's rport is replaced, not kept beside the new */
		CU_ASSERT_EQUAL(unit_count(text, ";rport="), 1);
		CU_ASSERT_EQUAL(unit_count(text, ";rport"), 1);
		CU_ASSERT_EQUAL(unit_count(text, ";RPort"), 0);
		CU_ASSERT_EQUAL(unit_count(text, "received="), 1);
		CU_ASSERT_EQUAL(unit_count(text, "=1234"), 0);

		mem_deref(text);
		mem_deref(resp);
		mem_deref(req);
	}
}


/* Parameters that merely start with "rport" are not rport */
static void test_via_not_rport(void)
{
	static const char *vias[] = {
		"SIP/2.0/UDP 10.0.0.5:5060;rportx;branch=z9hG4bK-n1",
		"SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK-n1;x-rport=2",
		"SIP/2.0/UDP 10.0.0.5:5060;branch=rport",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(vias); i++) {

		struct sip_msg *req = NULL, *resp = NULL;
		char *req_text = NULL;
		const struct sip_hdr *via;
		bool rport = true;

		CU_ASSERT_EQUAL_FATAL(re_sdprintf(&req_text,
			"OPTIONS sip:192.0.2.1 SIP/2.0\r\n"
			"Via: %s\r\n"
			"From: <sip:p@10.0.0.5>;tag=f\r\n"
			"To: <sip:192.0.2.1>\r\n"
			"Call-ID: notrp-1\r\n"
			"CSeq: 1 OPTIONS\r\n"
			"\r\n", vias[i]), 0);
		CU_ASSERT_EQUAL_FATAL(unit_decode(&req, req_text), 0);
		mem_deref(req_text);

		CU_ASSERT_EQUAL_FATAL(sa_set_str(&req->src, "10.0.0.5",
						 5060), 0);
		CU_ASSERT_EQUAL_FATAL(unit_answer(&resp, NULL, rep, req,
						  KAR_R_OPTIONS_OK,
						  &rport), 0);

		/* Same address, no rport: the Via comes back unchanged */
		CU_ASSERT_FALSE(rport);
		via = sip_msg_hdr(resp, SIP_HDR_VIA);
		CU_ASSERT_TRUE(via && unit_pl_eq(&via->val, vias[i]));

		mem_deref(resp);
		mem_deref(req);
	}
}


/* RFC 3261 18.2.1: received only where the source differs */
static void test_via_received(void)
{
	static const struct {
		const char *via;
		const char *src;
		const char *received;     /* NULL: none expected */
	} rows[] = {
		{"SIP/2.0/UDP 192.0.2.77:5060;branch=z9hG4bK-v1",
		 "192.0.2.77", NULL},
		{"SIP/2.0/UDP 192.0.2.77;branch=z9hG4bK-v1",
		 "192.0.2.77", NULL},
		{"SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK-v1",
		 "192.0.2.77", "192.0.2.77"},
		{"SIP/2.0/TCP pbx.example.com;branch=z9hG4bK-v1",
		 "192.0.2.77", "192.0.2.77"},
		{"SIP/2.0/UDP [2001:db8::5]:5060;branch=z9hG4bK-v1",
		 "2001:db8::1", "2001:db8::1"},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rows); i++) {

		struct sip_msg *req = NULL, *resp = NULL;
		char *req_text = NULL;
		const struct sip_hdr *via;
		struct pl val;
		bool rport = true;

		CU_ASSERT_EQUAL_FATAL(re_sdprintf(&req_text,
			"OPTIONS sip:192.0.2.1 SIP/2.0\r\n"
			"Via: %s\r\n"
			"From: <sip:p@10.0.0.5>;tag=f\r\n"
			"To: <sip:192.0.2.1>\r\n"
			"Call-ID: recv-1\r\n"
			"CSeq: 1 OPTIONS\r\n"
			"\r\n", rows[i].via), 0);
		CU_ASSERT_EQUAL_FATAL(unit_decode(&req, req_text), 0);
		mem_deref(req_text);

		CU_ASSERT_EQUAL_FATAL(sa_set_str(&req->src, rows[i].src,
						 5060), 0);

		CU_ASSERT_EQUAL_FATAL(unit_answer(&resp, NULL, rep, req,
						  KAR_R_OPTIONS_OK,
						  &rport), 0);

		CU_ASSERT_FALSE(rport);
		CU_ASSERT_NOT_EQUAL(msg_param_exists(&resp->via.params,
						     "rport", &val), 0);

		via = sip_msg_hdr(resp, SIP_HDR_VIA);
		CU_ASSERT_PTR_NOT_NULL_FATAL(via);

		if (rows[i].received) {
			CU_ASSERT_EQUAL(msg_param_decode(&resp->via.params,
							 "received", &val),
					0);
			CU_ASSERT_TRUE(unit_pl_eq(&val, rows[i].received));
		}
		else {
			/* Unchanged, byte for byte */
			CU_ASSERT_TRUE(unit_pl_eq(&via->val, rows[i].via));
		}

		mem_deref(resp);
		mem_deref(req);
	}
}


/* All Vias come back, in order, and only the top one is touched */
static void test_vias(void)
{
	struct sip_msg *req = NULL, *resp = NULL;
	const char *want[] = {"z9hG4bK-a", "z9hG4bK-b", "z9hG4bK-c"};
	char *text = NULL;
	struct le *le;
	size_t n = 0;

	CU_ASSERT_EQUAL_FATAL(unit_decode(&req,
		"OPTIONS sip:192.0.2.1 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-a;rport, "
		"SIP/2.0/TCP 10.0.0.2:5060;branch=z9hG4bK-b\r\n"
		"Max-Forwards: 69\r\n"
		"Via: SIP/2.0/UDP 10.0.0.3;branch=z9hG4bK-c;rport\r\n"
		"From: <sip:p@10.0.0.3>;tag=f\r\n"
		"To: <sip:192.0.2.1>\r\n"
		"Call-ID: vias-1\r\n"
		"CSeq: 1 OPTIONS\r\n"
		"\r\n"), 0);
	CU_ASSERT_EQUAL_FATAL(sa_set_str(&req->src, "192.0.2.77", 5062), 0);

	CU_ASSERT_EQUAL_FATAL(unit_answer(&resp, &text, rep, req,
					  KAR_R_OPTIONS_OK, NULL), 0);

	CU_ASSERT_EQUAL(sip_msg_hdr_count(resp, SIP_HDR_VIA), 3);

	for (le = resp->hdrl.head; le; le = le->next) {

		const struct sip_hdr *hdr = le->data;
		struct sip_via via;

		if (hdr->id != SIP_HDR_VIA)
			continue;

		CU_ASSERT_EQUAL(sip_via_decode(&via, &hdr->val), 0);
		if (n < ARRAY_SIZE(want))
			CU_ASSERT_TRUE(unit_pl_eq(&via.branch, want[n]));
		++n;
	}
	CU_ASSERT_EQUAL(n, 3);

	/* The lower ones keep their own rport, without a value */
	CU_ASSERT_EQUAL(unit_count(text, "received="), 1);
	CU_ASSERT_EQUAL(unit_count(text, "rport=5062"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "branch=z9hG4bK-c;rport\r\n"));

	mem_deref(text);
	mem_deref(resp);
	mem_deref(req);
}


/* From, Call-ID and CSeq as they were; To with the tag added */
static void test_copied(void)
{
	struct sip_msg *req = NULL, *resp = NULL;
	const struct sip_hdr *hdr;

	CU_ASSERT_EQUAL_FATAL(unit_decode(&req,
		"NOTIFY sip:alice@192.0.2.1 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-cp\r\n"
		"From: \"Probe\" <sip:probe@192.0.2.10>;tag=ab;x=y\r\n"
		"To: \"Alice\" <sip:alice@192.0.2.1>;foo=bar\r\n"
		"Call-ID: copied-1@192.0.2.10\r\n"
		"CSeq: 314159 NOTIFY\r\n"
		"Contact: <sip:probe@192.0.2.10>\r\n"
		"User-Agent: unit\r\n"
		"Event: keep-alive\r\n"
		"Subscription-State: active\r\n"
		"Record-Route: <sip:proxy@192.0.2.20;lr>\r\n"
		"Content-Type: text/plain\r\n"
		"Content-Length: 2\r\n"
		"\r\n"
		"hi"), 0);

	CU_ASSERT_EQUAL_FATAL(unit_answer(&resp, NULL, rep, req,
					  KAR_R_NOTIFY_OK, NULL), 0);

	CU_ASSERT_EQUAL(pl_cmp(&resp->from.val, &req->from.val), 0);
	CU_ASSERT_TRUE(unit_pl_eq(&resp->from.tag, "ab"));
	CU_ASSERT_EQUAL(pl_cmp(&resp->callid, &req->callid), 0);
	CU_ASSERT_EQUAL(resp->cseq.num, 314159);
	CU_ASSERT_TRUE(unit_pl_eq(&resp->cseq.met, "NOTIFY"));

	/* The request's To, then the tag */
	hdr = sip_msg_hdr(resp, SIP_HDR_TO);
	CU_ASSERT_PTR_NOT_NULL_FATAL(hdr);
	CU_ASSERT_TRUE(hdr->val.l > req->to.val.l &&
		       !memcmp(hdr->val.p, req->to.val.p, req->to.val.l));
	CU_ASSERT_TRUE(pl_isset(&resp->to.tag));

	CU_ASSERT_PTR_NULL(sip_msg_hdr(resp, SIP_HDR_CONTACT));
	CU_ASSERT_PTR_NULL(sip_msg_hdr(resp, SIP_HDR_USER_AGENT));
	CU_ASSERT_PTR_NULL(sip_msg_hdr(resp, SIP_HDR_EVENT));
	CU_ASSERT_PTR_NULL(sip_msg_hdr(resp, SIP_HDR_SUBSCRIPTION_STATE));
	CU_ASSERT_PTR_NULL(sip_msg_hdr(resp, SIP_HDR_RECORD_ROUTE));
	CU_ASSERT_PTR_NULL(sip_msg_hdr(resp, SIP_HDR_CONTENT_TYPE));
	CU_ASSERT_EQUAL(mbuf_get_left(resp->mb), 0);

	mem_deref(resp);
	mem_deref(req);
}


/*
 * Aaoge hashes as Via does, Aabsk as To: libre takes the first for the
 * top Via and the second for the To.  The answer copies neither, and
 * goes by the request's own top Via and To.
 */
static void test_namesakes(void)
{
	struct sip_msg *req = NULL, *resp = NULL;
	char *text = NULL;
	bool rport = true;

	CU_ASSERT_EQUAL_FATAL(unit_decode(&req,
		"OPTIONS sip:192.0.2.1 SIP/2.0\r\n"
		"Aaoge: SIP/2.0/UDP 198.51.100.7:5070;branch=z9hG4bK-no;rport"
		"\r\n"
		"Via: SIP/2.0/UDP " UNIT_SRC_ADDR
		":5060;branch=z9hG4bK-yes\r\n"
		"From: <sip:probe@192.0.2.10>;tag=nf\r\n"
		"To: <sip:192.0.2.1>\r\n"
		"Aabsk: <sip:other@192.0.2.1>;tag=no\r\n"
		"Call-ID: namesakes-1\r\n"
		"CSeq: 2 OPTIONS\r\n"
		"\r\n"), 0);
	CU_ASSERT_TRUE(unit_pl_eq(&req->via.branch, "z9hG4bK-no"));
	CU_ASSERT_TRUE(unit_pl_eq(&req->to.tag, "no"));

	CU_ASSERT_EQUAL_FATAL(unit_answer(&resp, &text, rep, req,
					  KAR_R_OPTIONS_OK, &rport), 0);

	CU_ASSERT_PTR_NULL(strstr(text, "Aaoge"));
	CU_ASSERT_PTR_NULL(strstr(text, "Aabsk"));
	CU_ASSERT_EQUAL(sip_msg_hdr_count(resp, SIP_HDR_VIA), 1);
	CU_ASSERT_TRUE(unit_pl_eq(&resp->via.branch, "z9hG4bK-yes"));
	CU_ASSERT_PTR_NULL(strstr(text, "received="));
	CU_ASSERT_FALSE(rport);

	/* The request had no To tag: the answer adds one */
	CU_ASSERT_EQUAL(resp->to.tag.l, 16);
	CU_ASSERT_TRUE(unit_pl_eq(&resp->to.auri, "<sip:192.0.2.1>") ||
		       unit_pl_eq(&resp->to.auri, "sip:192.0.2.1"));

	mem_deref(text);
	mem_deref(resp);
	mem_deref(req);

	/* Without a Via of its own a request gets no answer */
	CU_ASSERT_EQUAL_FATAL(unit_decode(&req,
		"OPTIONS sip:192.0.2.1 SIP/2.0\r\n"
		"Aaoge: SIP/2.0/UDP 198.51.100.7:5070;branch=z9hG4bK-no\r\n"
		"From: <sip:probe@192.0.2.10>;tag=nf\r\n"
		"To: <sip:192.0.2.1>\r\n"
		"Call-ID: namesakes-2\r\n"
		"CSeq: 2 OPTIONS\r\n"
		"\r\n"), 0);
	CU_ASSERT_EQUAL(unit_answer(NULL, NULL, rep, req, KAR_R_OPTIONS_OK,
				    NULL), EBADMSG);
	mem_deref(req);
}


/* Compact headers come back compact, and still mean the same */
static void test_compact(void)
{
	struct sip_msg *req = NULL, *resp = NULL;
	char *text = NULL;

	CU_ASSERT_EQUAL_FATAL(unit_decode(&req,
		"OPTIONS sip:192.0.2.1 SIP/2.0\r\n"
		"v: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-cc\r\n"
		"f: <sip:probe@192.0.2.10>;tag=cf\r\n"
		"t: <sip:192.0.2.1>\r\n"
		"i: compact-9\r\n"
		"CSeq: 3 OPTIONS\r\n"
		"l: 0\r\n"
		"\r\n"), 0);

	CU_ASSERT_EQUAL_FATAL(unit_answer(&resp, &text, rep, req,
					  KAR_R_OPTIONS_OK, NULL), 0);

	CU_ASSERT_EQUAL(resp->scode, 200);
	CU_ASSERT_TRUE(unit_pl_eq(&resp->via.branch, "z9hG4bK-cc"));
	CU_ASSERT_TRUE(unit_pl_eq(&resp->from.tag, "cf"));
	CU_ASSERT_TRUE(unit_pl_eq(&resp->callid, "compact-9"));
	CU_ASSERT_EQUAL(resp->cseq.num, 3);
	CU_ASSERT_TRUE(pl_isset(&resp->to.tag));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\r\nt: <sip:192.0.2.1>;tag="));

	mem_deref(text);
	mem_deref(resp);
	mem_deref(req);
}


static void test_bad_args(void)
{
	struct sip_msg *req = NULL;
	struct mbuf *mb;

	mb = mbuf_alloc(64);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mb);
	CU_ASSERT_EQUAL_FATAL(unit_request(&req, "OPTIONS", "sip:192.0.2.1",
					   NULL, NULL), 0);

	CU_ASSERT_EQUAL(kar_replies_alloc(NULL, &events, 1), EINVAL);

	CU_ASSERT_EQUAL(kar_reply_encode(NULL, rep, unit_req(req),
					 KAR_R_OPTIONS_OK, NULL), EINVAL);
	CU_ASSERT_EQUAL(kar_reply_encode(mb, NULL, unit_req(req),
					 KAR_R_OPTIONS_OK, NULL), EINVAL);
	CU_ASSERT_EQUAL(kar_reply_encode(mb, rep, NULL, KAR_R_OPTIONS_OK,
					 NULL), EINVAL);
	CU_ASSERT_EQUAL(kar_reply_encode(mb, rep, unit_req(req), KAR_R_NONE,
					 NULL), EINVAL);
	CU_ASSERT_EQUAL(kar_reply_encode(mb, rep, unit_req(req), KAR_R_N,
					 NULL), EINVAL);

	/* Refused without writing anything */
	CU_ASSERT_EQUAL(mb->end, 0);

	CU_ASSERT_EQUAL(kar_reply_send(NULL, NULL, unit_req(req),
				       KAR_R_OPTIONS_OK, false), EINVAL);
	CU_ASSERT_EQUAL(kar_reply_send(rep, NULL, unit_req(req),
				       KAR_R_OPTIONS_OK, false), EINVAL);
	CU_ASSERT_EQUAL(kar_reply_send(rep, NULL, unit_req(req),
				       KAR_R_OPTIONS_OK, true), EINVAL);
	CU_ASSERT_EQUAL(kar_reply_send(rep, NULL, unit_req(req), KAR_R_NONE,
				       false), EINVAL);

	mem_deref(req);
	mem_deref(mb);
}


/* RFC 3261 17.2.1: ACK is never answered */
static void test_send_ack(void)
{
	struct sip *sip = NULL;
	struct sip_msg *ack = NULL, *opt = NULL;

	CU_ASSERT_EQUAL_FATAL(sip_alloc(&sip, NULL, 16, 16, 16, "unit",
					NULL, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(unit_request(&ack, "ACK", "sip:192.0.2.1",
					   NULL, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(unit_request(&opt, "OPTIONS", "sip:192.0.2.1",
					   NULL, NULL), 0);

	CU_ASSERT_EQUAL(kar_reply_send(rep, sip, unit_req(ack),
				       KAR_R_NOT_ALLOWED, false), 0);
	CU_ASSERT_EQUAL(kar_reply_send(rep, sip, unit_req(ack),
				       KAR_R_NOT_ALLOWED, true), 0);

	/* The stack has no transport: trying to send must fail */
	CU_ASSERT_NOT_EQUAL(kar_reply_send(rep, sip, unit_req(opt),
					   KAR_R_OPTIONS_OK, false), 0);
	CU_ASSERT_NOT_EQUAL(kar_reply_send(rep, sip, unit_req(opt),
					   KAR_R_NOTIFY_OK, true), 0);

	mem_deref(opt);
	mem_deref(ack);
	mem_deref(sip);
}


/* One probe, answered over loopback: first statelessly, then (the same
   request again) through a server transaction, whose layer then answers
   the third copy itself */
static struct {
	struct kar_replies *r;
	struct sip *sip;
	unsigned calls;
	char *got[3];
	size_t n;
} snd;


static bool send_h(const struct sip_msg *msg, void *arg)
{
	(void)arg;

	++snd.calls;
	(void)kar_reply_send(snd.r, snd.sip, unit_req(msg), KAR_R_NOTIFY_OK,
			     snd.calls > 1);

	return true;
}


static void send_recv_h(const struct sa *src, struct mbuf *mb, void *arg)
{
	(void)src;
	(void)arg;

	if (snd.n < ARRAY_SIZE(snd.got))
		(void)mbuf_strdup(mb, &snd.got[snd.n++], mbuf_get_left(mb));

	re_cancel();
}


static void send_timeout_h(void *arg)
{
	(void)arg;

	re_cancel();
}


/* Stateless and stateful answers are the same bytes: no Server from the
   stack's software string, no Supported */
static void test_send_same(void)
{
	struct sip_lsnr *lsnr = NULL;
	struct udp_sock *us = NULL;
	struct sa laddr, caddr;
	struct mbuf *mb;
	struct tmr tmr;
	size_t i;

	tmr_init(&tmr);
	memset(&snd, 0, sizeof(snd));
	snd.r = rep;

	CU_ASSERT_EQUAL_FATAL(sip_alloc(&snd.sip, NULL, 16, 16, 16,
					"unit-stack/1.0", NULL, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(sip_listen(&lsnr, snd.sip, true, send_h, NULL),
			      0);
	CU_ASSERT_EQUAL_FATAL(sa_set_str(&laddr, "127.0.0.1", 0), 0);
	CU_ASSERT_EQUAL_FATAL(sip_transp_add(snd.sip, SIP_TRANSP_UDP,
					     &laddr), 0);
	CU_ASSERT_EQUAL_FATAL(sip_transp_laddr(snd.sip, &laddr,
					       SIP_TRANSP_UDP, &laddr), 0);
	CU_ASSERT_EQUAL_FATAL(sa_set_str(&caddr, "127.0.0.1", 0), 0);
	CU_ASSERT_EQUAL_FATAL(udp_listen(&us, &caddr, send_recv_h, NULL),
			      0);
	CU_ASSERT_EQUAL_FATAL(udp_local_get(us, &caddr), 0);

	mb = mbuf_alloc(512);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mb);
	CU_ASSERT_EQUAL_FATAL(mbuf_printf(mb,
		"NOTIFY sip:%J SIP/2.0\r\n"
		"Via: SIP/2.0/UDP %J;rport;branch=z9hG4bK-same\r\n"
		"Max-Forwards: 70\r\n"
		"From: <sip:unit@%J>;tag=s1\r\n"
		"To: <sip:%J>\r\n"
		"Call-ID: same-1\r\n"
		"CSeq: 5 NOTIFY\r\n"
		"Event: keep-alive\r\n"
		"Content-Length: 0\r\n"
		"\r\n", &laddr, &caddr, &caddr, &laddr), 0);

	for (i = 0; i < ARRAY_SIZE(snd.got); i++) {
		mb->pos = 0;
		CU_ASSERT_EQUAL(udp_send(us, &laddr, mb), 0);
		tmr_start(&tmr, 5000, send_timeout_h, NULL);
		(void)re_main(NULL);
		tmr_cancel(&tmr);
	}

	CU_ASSERT_EQUAL(snd.calls, 2);
	CU_ASSERT_EQUAL_FATAL(snd.n, 3);
	CU_ASSERT_STRING_EQUAL(snd.got[0], snd.got[1]);
	CU_ASSERT_STRING_EQUAL(snd.got[1], snd.got[2]);
	CU_ASSERT_EQUAL(strncmp(snd.got[0], "SIP/2.0 200 OK\r\n", 16), 0);
	CU_ASSERT_PTR_NULL(strstr(snd.got[0], "unit-stack"));
	CU_ASSERT_PTR_NULL(strstr(snd.got[0], "\r\nServer:"));
	CU_ASSERT_PTR_NULL(strstr(snd.got[0], "\r\nSupported:"));

	for (i = 0; i < snd.n; i++)
		mem_deref(snd.got[i]);
	mem_deref(mb);
	mem_deref(us);
	mem_deref(lsnr);
	sip_close(snd.sip, true);
	mem_deref(snd.sip);
	memset(&snd, 0, sizeof(snd));
}


/* RFC 3261 11.2: the capability SDP on OPTIONS 200 only, as Accept
   allows, with the request's local address; the length is right */
static void test_options_sdp(void)
{
	static const struct kar_codec pcmu[] = {
		{"0", "PCMU", 8000, 1, NULL, NULL, NULL},
	};
	const struct kar_sdp_media m = {"audio", NULL, pcmu, 1, true, 0};
	struct kar_replies *r = NULL;
	struct kar_sdp *sdp = NULL;
	struct sip_msg *req = NULL, *resp = NULL;
	const struct sip_hdr *ct;
	char *text = NULL;

	CU_ASSERT_EQUAL_FATAL(kar_replies_alloc(&r, &events, secret), 0);
	CU_ASSERT_EQUAL_FATAL(kar_sdp_alloc(&sdp, &m, 1, 5, 1), 0);
	kar_replies_sdp(r, sdp);

	CU_ASSERT_EQUAL_FATAL(unit_request(&req, "OPTIONS",
					   "sip:192.0.2.1:5060", NULL, NULL),
			      0);
	(void)sa_set_str(&req->dst, "192.0.2.1", 5060);

	CU_ASSERT_EQUAL_FATAL(unit_answer(&resp, &text, r, req,
					  KAR_R_OPTIONS_OK, NULL), 0);
	ct = sip_msg_hdr(resp, SIP_HDR_CONTENT_TYPE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ct);
	CU_ASSERT(unit_pl_eq(&ct->val, "application/sdp"));
	CU_ASSERT_EQUAL(mbuf_get_left(resp->mb), pl_u32(&resp->clen));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\r\n\r\nv=0\r\n"
				      "o=- 5 1 IN IP4 192.0.2.1\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "m=audio 0 RTP/AVP 0 101\r\n"));
	resp = mem_deref(resp);
	text = mem_deref(text);

	/* Not on other answers */
	CU_ASSERT_EQUAL_FATAL(unit_answer(&resp, &text, r, req,
					  KAR_R_NOTIFY_OK, NULL), 0);
	CU_ASSERT(unit_pl_eq(&resp->clen, "0"));
	CU_ASSERT_PTR_NULL(strstr(text, "application/sdp\r\n"));
	resp = mem_deref(resp);
	text = mem_deref(text);
	req = mem_deref(req);

	/* Not when Accept rules it out */
	CU_ASSERT_EQUAL_FATAL(unit_request(&req, "OPTIONS",
					   "sip:192.0.2.1:5060", NULL,
					   "Accept: text/plain\r\n"), 0);
	(void)sa_set_str(&req->dst, "192.0.2.1", 5060);
	CU_ASSERT_EQUAL_FATAL(unit_answer(&resp, NULL, r, req,
					  KAR_R_OPTIONS_OK, NULL), 0);
	CU_ASSERT(unit_pl_eq(&resp->clen, "0"));
	CU_ASSERT_PTR_NULL(sip_msg_hdr(resp, SIP_HDR_CONTENT_TYPE));
	resp = mem_deref(resp);

	/* Nor without an SDP */
	kar_replies_sdp(r, NULL);
	req = mem_deref(req);
	CU_ASSERT_EQUAL_FATAL(unit_request(&req, "OPTIONS",
					   "sip:192.0.2.1:5060", NULL, NULL),
			      0);
	CU_ASSERT_EQUAL_FATAL(unit_answer(&resp, NULL, r, req,
					  KAR_R_OPTIONS_OK, NULL), 0);
	CU_ASSERT(unit_pl_eq(&resp->clen, "0"));

	mem_deref(resp);
	mem_deref(req);
	mem_deref(sdp);
	mem_deref(r);
}


/* The Retry-After values of a drain answer, read back as a prober would */
static uint32_t retry_after(const struct kar_replies *r,
			    const struct sip_msg *req, char **textp)
{
	struct sip_msg *resp = NULL;
	const struct sip_hdr *hdr;
	uint32_t secs = 0;

	if (unit_answer(&resp, textp, r, req, KAR_R_DRAIN, NULL))
		return 0;

	hdr = sip_msg_hdr(resp, SIP_HDR_RETRY_AFTER);
	if (hdr && sip_msg_hdr_count(resp, SIP_HDR_RETRY_AFTER) == 1 &&
	    resp->scode == 503)
		secs = pl_u32(&hdr->val);

	mem_deref(resp);

	return secs;
}


/* Drain: 503 with Retry-After, default 300, configurable */
static void test_drain(void)
{
	struct kar_replies *r = NULL;
	struct sip_msg *req = NULL, *resp = NULL;
	char *text = NULL;

	CU_ASSERT_EQUAL_FATAL(unit_request(&req, "OPTIONS", "sip:192.0.2.1",
					   NULL, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(kar_replies_alloc(&r, &events, secret), 0);

	CU_ASSERT_EQUAL(retry_after(r, req, &text), 300);
	CU_ASSERT_PTR_NOT_NULL(text && strstr(text, "\r\nRetry-After: 300"
					      "\r\n"));
	text = mem_deref(text);

	CU_ASSERT_EQUAL(kar_replies_retry(r, 1), 0);
	CU_ASSERT_EQUAL(retry_after(r, req, NULL), 1);
	CU_ASSERT_EQUAL(kar_replies_retry(r, 86400), 0);
	CU_ASSERT_EQUAL(retry_after(r, req, NULL), 86400);

	/* Out of range: refused, the value before stays */
	CU_ASSERT_EQUAL(kar_replies_retry(r, 0), EINVAL);
	CU_ASSERT_EQUAL(kar_replies_retry(r, 86401), EINVAL);
	CU_ASSERT_EQUAL(kar_replies_retry(NULL, 300), EINVAL);
	CU_ASSERT_EQUAL(retry_after(r, req, NULL), 86400);

	/* Only the drain answer carries it, and it carries nothing of the
	   OPTIONS capabilities: it says "not now", not what we can do */
	CU_ASSERT_EQUAL_FATAL(unit_answer(&resp, NULL, r, req,
					  KAR_R_OPTIONS_OK, NULL), 0);
	CU_ASSERT_PTR_NULL(sip_msg_hdr(resp, SIP_HDR_RETRY_AFTER));
	resp = mem_deref(resp);
	CU_ASSERT_EQUAL_FATAL(unit_answer(&resp, NULL, r, req, KAR_R_DRAIN,
					  NULL), 0);
	CU_ASSERT_PTR_NULL(sip_msg_hdr(resp, SIP_HDR_ALLOW));
	CU_ASSERT_PTR_NULL(sip_msg_hdr(resp, SIP_HDR_CONTENT_TYPE));
	CU_ASSERT_TRUE(pl_isset(&resp->to.tag));
	CU_ASSERT_EQUAL(mbuf_get_left(resp->mb), 0);

	mem_deref(resp);
	mem_deref(req);
	mem_deref(r);
}


/* A retransmission of a drained probe gets the same bytes (RFC 3261
   8.2.7), NOTIFY keep-alive as well as OPTIONS */
static void test_drain_retransmit(void)
{
	static const char *mets[] = {"OPTIONS", "NOTIFY"};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(mets); i++) {

		struct sip_msg *req = NULL, *again = NULL;
		struct sip_msg *r1 = NULL, *r2 = NULL;
		char *t1 = NULL, *t2 = NULL;

		CU_ASSERT_EQUAL_FATAL(request(&req, mets[i], "z9hG4bK-d1",
					      "drain-1", 7, "ft"), 0);
		CU_ASSERT_EQUAL_FATAL(request(&again, mets[i], "z9hG4bK-d1",
					      "drain-1", 7, "ft"), 0);

		CU_ASSERT_EQUAL(unit_answer(&r1, &t1, rep, req, KAR_R_DRAIN,
					    NULL), 0);
		CU_ASSERT_EQUAL(unit_answer(&r2, &t2, rep, again, KAR_R_DRAIN,
					    NULL), 0);
		CU_ASSERT_TRUE(t1 && t2 && !strcmp(t1, t2));
		CU_ASSERT_TRUE(r1 && r1->scode == 503);

		mem_deref(t1);
		mem_deref(t2);
		mem_deref(r1);
		mem_deref(r2);
		mem_deref(again);
		mem_deref(req);
	}
}


static CU_TestInfo tests[] = {
	{"status",          test_status},
	{"kinds",           test_kinds},
	{"options_ok",      test_options_ok},
	{"options_sdp",     test_options_sdp},
	{"notify_ok",       test_notify_ok},
	{"bad_event",       test_bad_event},
	{"no_event",        test_no_event},
	{"not_allowed",     test_not_allowed},
	{"empty_events",    test_empty_events},
	{"totag",           test_totag},
	{"totag_kept",      test_totag_kept},
	{"via_rport",       test_via_rport},
	{"via_not_rport",   test_via_not_rport},
	{"via_received",    test_via_received},
	{"vias",            test_vias},
	{"copied",          test_copied},
	{"compact",         test_compact},
	{"namesakes",       test_namesakes},
	{"bad_args",        test_bad_args},
	{"send_ack",        test_send_ack},
	{"send_same",       test_send_same},
	{"drain",           test_drain},
	{"drain_retransmit", test_drain_retransmit},
	CU_TEST_INFO_NULL
};


int unit_reply_register(void)
{
	return unit_suite_add("reply", init, cleanup, tests);
}
