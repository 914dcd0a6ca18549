/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file test_sdp.c  keepalive_responder unit tests -- capability SDP
 *
 * The Accept parser on decoded requests, and the SDP builder on codec
 * lists of each shape, its output read back with libre's own SDP
 * decoder, as a prober's stack would read it.
 */
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include <CUnit/CUnit.h>
#include "kar.h"
#include "unit.h"


/* Does a request with these extra header lines admit SDP? */
static bool accepted(const char *extra)
{
	struct sip_msg *msg = NULL;
	bool ok;

	if (unit_request(&msg, "OPTIONS", "sip:192.0.2.1:5060", NULL,
			 extra)) {
		CU_FAIL("decode");
		return false;
	}

	ok = kar_sdp_accepted(unit_req(msg));
	mem_deref(msg);

	return ok;
}


static void test_accept_none(void)
{
	CU_ASSERT(accepted(NULL));
	CU_ASSERT(accepted("Subject: application/sdp;q=0\r\n"));
}


static void test_accept_admits(void)
{
	CU_ASSERT(accepted("Accept: application/sdp\r\n"));
	CU_ASSERT(accepted("Accept: Application/SDP\r\n"));
	CU_ASSERT(accepted("Accept: application/*\r\n"));
	CU_ASSERT(accepted("Accept: */*\r\n"));
	CU_ASSERT(accepted("Accept: text/plain, application/sdp\r\n"));
	CU_ASSERT(accepted("Accept: text/plain,application/sdp;q=0.2\r\n"));
	CU_ASSERT(accepted("Accept: application/sdp ; q = 1.0\r\n"));
	CU_ASSERT(accepted("Accept: application/sdp;level=1\r\n"));
	CU_ASSERT(accepted("Accept: application/sdp;q=0.001\r\n"));
	CU_ASSERT(accepted("Accept: application/simple-message-summary,"
			   " application/sdp;q=0.5;foo=bar\r\n"));
}


static void test_accept_excludes(void)
{
	CU_ASSERT(!accepted("Accept: text/plain\r\n"));
	CU_ASSERT(!accepted("Accept: application/pidf+xml\r\n"));
	CU_ASSERT(!accepted("Accept: application/sdpx\r\n"));
	CU_ASSERT(!accepted("Accept: text/*\r\n"));
	CU_ASSERT(!accepted("Accept: application/sdp;q=0\r\n"));
	CU_ASSERT(!accepted("Accept: application/sdp;q=0.000\r\n"));
	CU_ASSERT(!accepted("Accept: application/sdp;Q=0.\r\n"));
	CU_ASSERT(!accepted("Accept: application/sdp;level=1;q=0.0\r\n"));
	CU_ASSERT(!accepted("Accept: */*;q=0\r\n"));
	CU_ASSERT(!accepted("Accept: application/*;q=0\r\n"));
}


/* The most specific range decides, whatever the order */
static void test_accept_specific(void)
{
	CU_ASSERT(!accepted("Accept: */*, application/sdp;q=0\r\n"));
	CU_ASSERT(!accepted("Accept: application/sdp;q=0, */*\r\n"));
	CU_ASSERT(!accepted("Accept: application/*;q=0.5,"
			    " application/sdp;q=0\r\n"));
	CU_ASSERT(accepted("Accept: */*;q=0, application/sdp\r\n"));
	CU_ASSERT(accepted("Accept: application/*;q=0,"
			   " application/sdp;q=0.1\r\n"));
	CU_ASSERT(accepted("Accept: */*;q=0, application/*\r\n"));
}


/* Several Accept headers count as one list */
static void test_accept_headers(void)
{
	CU_ASSERT(accepted("Accept: text/plain\r\n"
			   "Accept: application/sdp\r\n"));
	CU_ASSERT(!accepted("Accept: text/plain\r\n"
			    "Accept: text/html\r\n"));
	CU_ASSERT(!accepted("Accept: */*\r\n"
			    "Accept: application/sdp;q=0\r\n"));
}


/* RFC 3261 20.1: an empty Accept admits no body */
static void test_accept_empty(void)
{
	CU_ASSERT(!accepted("Accept:\r\n"));
	CU_ASSERT(!accepted("Accept: \r\n"));
}


/* Abaag hashes as Accept does: libre files it as Accept, the module
   does not read it as one */
static void test_accept_namesake(void)
{
	CU_ASSERT(accepted("Abaag: text/plain\r\n"));
	CU_ASSERT(accepted("Abaag: text/plain\r\n"
			   "Accept: application/sdp\r\n"));
	CU_ASSERT(!accepted("Accept: text/plain\r\nAbaag: */*\r\n"));
}


/* Codec lists */
static const struct kar_codec pcm[] = {
	{"0", "PCMU", 8000, 1, NULL, NULL, NULL},
	{"8", "PCMA", 8000, 1, NULL, NULL, NULL},
};

static const struct kar_codec mixed[] = {
	{NULL, "opus", 48000, 2, "stereo=1;sprop-stereo=1", NULL, NULL},
	{"9", "G722", 8000, 1, NULL, NULL, NULL},
	{NULL, "L16", 48000, 2, NULL, NULL, NULL},
	{"0", "PCMU", 8000, 1, NULL, NULL, NULL},
};

/* Takes 101: telephone-event must move to the next dynamic type */
static const struct kar_codec has101[] = {
	{"101", "speex", 8000, 1, "mode=\"any\"", NULL, NULL},
	{NULL, "GSM", 8000, 1, NULL, NULL, NULL},
};


static int vp8_fmtp(struct mbuf *mb, const struct sdp_format *fmt,
		    bool offer, void *arg)
{
	const uint32_t *max_fs = arg;
	(void)offer;

	return mbuf_printf(mb, "a=fmtp:%s max-fs=%u\r\n", fmt->id, *max_fs);
}

static uint32_t max_fs = 3600;

static const struct kar_codec video[] = {
	{NULL, "VP8", 90000, 1, NULL, vp8_fmtp, &max_fs},
	{"34", "H263", 90000, 1, NULL, NULL, NULL},
};


/*
 * Encode for a local address; check the headers; return the body
 * (a C string) and its decoding by libre
 */
static int build(struct sdp_session **sessp, char **bodyp,
		 const struct kar_sdp_media *mv, size_t mc,
		 const char *laddr)
{
	struct kar_sdp *s = NULL;
	struct mbuf *mb = NULL;
	struct sa sa;
	char *text = NULL, *body;
	size_t len;
	int err;

	err = sa_set_str(&sa, laddr, 5060);
	err |= kar_sdp_alloc(&s, mv, mc, 42, 7);
	if (err)
		return err;

	mb = mbuf_alloc(1024);
	err = mb ? kar_sdp_encode(mb, s, &sa) : ENOMEM;
	if (err)
		goto out;

	mb->pos = 0;
	err = mbuf_strdup(mb, &text, mb->end);
	if (err)
		goto out;

	/* The body alone; its length is what the answer's
	   Content-Length will say */
	body = text;
	err = kar_sdp_length(s, &sa, &len);
	if (err)
		goto out;
	CU_ASSERT_EQUAL(len, strlen(body));

	err = str_dup(bodyp, body);
	if (err)
		goto out;

	err = sdp_session_alloc(sessp, &sa);
	if (err)
		goto out;

	mb->pos = body - text;
	err = sdp_decode(*sessp, mb, true);

 out:
	mem_deref(text);
	mem_deref(mb);
	mem_deref(s);

	return err;
}


static const struct sdp_media *media_nth(const struct sdp_session *sess,
					 unsigned n)
{
	const struct le *le = list_head(sdp_session_medial(sess, false));

	while (le && n--)
		le = le->next;

	return le ? le->data : NULL;
}


/* The remote formats of a media line, as "id name/srate/ch params;" */
static int formats(char *buf, size_t sz, const struct sdp_media *m)
{
	const struct le *le;
	size_t off = 0;

	buf[0] = '\0';
	for (le = list_head(sdp_media_format_lst(m, false)); le;
	     le = le->next) {

		const struct sdp_format *f = le->data;
		int n;

		n = re_snprintf(buf + off, sz - off, "%s %s/%u/%u%s%s;",
				f->id, f->name ? f->name : "-", f->srate,
				f->ch, f->params ? " " : "",
				f->params ? f->params : "");
		if (n < 0)
			return ENOMEM;
		off += n;
	}

	return 0;
}


static void check_media(const struct sdp_media *m, const char *name,
			const char *proto, const char *want)
{
	char buf[1024];

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_STRING_EQUAL(sdp_media_name(m), name);
	CU_ASSERT_STRING_EQUAL(sdp_media_proto(m), proto);
	CU_ASSERT_EQUAL(sdp_media_rport(m), 0);
	CU_ASSERT_EQUAL(formats(buf, sizeof(buf), m), 0);
	CU_ASSERT_STRING_EQUAL(buf, want);
}


static void test_sdp_audio(void)
{
	struct kar_sdp_media mv[] = {
		{"audio", NULL, pcm, ARRAY_SIZE(pcm), true, 0},
		{"video", NULL, NULL, 0, false, 0},
	};
	struct sdp_session *sess = NULL;
	char *body = NULL;
	struct sa c;

	CU_ASSERT_EQUAL_FATAL(build(&sess, &body, mv, ARRAY_SIZE(mv),
				    "192.0.2.1"), 0);

	CU_ASSERT_STRING_EQUAL(body,
			       "v=0\r\n"
			       "o=- 42 7 IN IP4 192.0.2.1\r\n"
			       "s=-\r\n"
			       "c=IN IP4 192.0.2.1\r\n"
			       "t=0 0\r\n"
			       "m=audio 0 RTP/AVP 0 8 101\r\n"
			       "a=rtpmap:0 PCMU/8000\r\n"
			       "a=rtpmap:8 PCMA/8000\r\n"
			       "a=rtpmap:101 telephone-event/8000\r\n"
			       "a=fmtp:101 0-15\r\n");

	check_media(media_nth(sess, 0), "audio", "RTP/AVP",
		    "0 PCMU/8000/1;8 PCMA/8000/1;"
		    "101 telephone-event/8000/1 0-15;");
	CU_ASSERT_PTR_NULL(media_nth(sess, 1));

	(void)sa_set_str(&c, "192.0.2.1", 0);
	CU_ASSERT(sa_cmp(sdp_media_raddr(media_nth(sess, 0)), &c, SA_ADDR));

	mem_deref(sess);
	mem_deref(body);
}


/* Dynamic types from 96 in codec order, fmtp, channels, another
   transport, and a video section with the codec's own fmtp encoder */
static void test_sdp_audio_video(void)
{
	struct kar_sdp_media mv[] = {
		{"audio", "RTP/SAVP", mixed, ARRAY_SIZE(mixed), true, 0},
		{"video", "RTP/SAVP", video, ARRAY_SIZE(video), false, 0},
	};
	struct sdp_session *sess = NULL;
	char *body = NULL;

	CU_ASSERT_EQUAL_FATAL(build(&sess, &body, mv, ARRAY_SIZE(mv),
				    "192.0.2.1"), 0);

	CU_ASSERT(strstr(body, "m=audio 0 RTP/SAVP 96 9 97 0 101\r\n"
			 "a=rtpmap:96 opus/48000/2\r\n"
			 "a=fmtp:96 stereo=1;sprop-stereo=1\r\n"
			 "a=rtpmap:9 G722/8000\r\n"
			 "a=rtpmap:97 L16/48000/2\r\n") != NULL);
	CU_ASSERT(strstr(body, "m=video 0 RTP/SAVP 96 34\r\n"
			 "a=rtpmap:96 VP8/90000\r\n"
			 "a=fmtp:96 max-fs=3600\r\n"
			 "a=rtpmap:34 H263/90000\r\n") != NULL);

	check_media(media_nth(sess, 0), "audio", "RTP/SAVP",
		    "96 opus/48000/2 stereo=1;sprop-stereo=1;"
		    "9 G722/8000/1;97 L16/48000/2;0 PCMU/8000/1;"
		    "101 telephone-event/8000/1 0-15;");
	check_media(media_nth(sess, 1), "video", "RTP/SAVP",
		    "96 VP8/90000/1 max-fs=3600;34 H263/90000/1;");

	mem_deref(sess);
	mem_deref(body);
}


/* A codec on 101 pushes telephone-event to a dynamic type; a
   configured type is used where free */
static void test_sdp_telev_pt(void)
{
	struct kar_sdp_media mv[] = {
		{"audio", NULL, has101, ARRAY_SIZE(has101), true, 0},
	};
	struct sdp_session *sess = NULL;
	char *body = NULL;

	CU_ASSERT_EQUAL_FATAL(build(&sess, &body, mv, 1, "192.0.2.1"), 0);
	check_media(media_nth(sess, 0), "audio", "RTP/AVP",
		    "101 speex/8000/1 mode=\"any\";96 GSM/8000/1;"
		    "97 telephone-event/8000/1 0-15;");
	sess = mem_deref(sess);
	body = mem_deref(body);

	mv[0].v = pcm;
	mv[0].n = ARRAY_SIZE(pcm);
	mv[0].telev_pt = 100;
	CU_ASSERT_EQUAL_FATAL(build(&sess, &body, mv, 1, "192.0.2.1"), 0);
	check_media(media_nth(sess, 0), "audio", "RTP/AVP",
		    "0 PCMU/8000/1;8 PCMA/8000/1;"
		    "100 telephone-event/8000/1 0-15;");

	mem_deref(sess);
	mem_deref(body);
}


/* No codec: no m= line (telephone-event alone describes nothing) */
static void test_sdp_no_codecs(void)
{
	struct kar_sdp_media mv[] = {
		{"audio", NULL, NULL, 0, true, 0},
		{"video", NULL, NULL, 0, false, 0},
	};
	struct sdp_session *sess = NULL;
	char *body = NULL;

	CU_ASSERT_EQUAL_FATAL(build(&sess, &body, mv, ARRAY_SIZE(mv),
				    "192.0.2.1"), 0);
	CU_ASSERT_STRING_EQUAL(body,
			       "v=0\r\n"
			       "o=- 42 7 IN IP4 192.0.2.1\r\n"
			       "s=-\r\n"
			       "c=IN IP4 192.0.2.1\r\n"
			       "t=0 0\r\n");
	CU_ASSERT_PTR_NULL(media_nth(sess, 0));

	mem_deref(sess);
	mem_deref(body);
}


/* The local address of the request, IPv6 too; nothing else differs */
static void test_sdp_ipv6(void)
{
	struct kar_sdp_media mv[] = {
		{"audio", NULL, pcm, ARRAY_SIZE(pcm), true, 0},
	};
	struct sdp_session *sess = NULL;
	char *body = NULL, *body4 = NULL;
	struct sa c;

	CU_ASSERT_EQUAL_FATAL(build(&sess, &body, mv, 1, "2001:db8::1"), 0);
	CU_ASSERT(!strncmp(body, "v=0\r\no=- 42 7 IN IP6 2001:db8::1\r\n"
			   "s=-\r\nc=IN IP6 2001:db8::1\r\nt=0 0\r\n", 67));
	(void)sa_set_str(&c, "2001:db8::1", 0);
	CU_ASSERT(sa_cmp(sdp_media_raddr(media_nth(sess, 0)), &c, SA_ADDR));
	sess = mem_deref(sess);

	CU_ASSERT_EQUAL_FATAL(build(&sess, &body4, mv, 1, "192.0.2.1"), 0);
	CU_ASSERT_STRING_EQUAL(strstr(body, "t=0 0"), strstr(body4, "t=0 0"));

	mem_deref(sess);
	mem_deref(body);
	mem_deref(body4);
}


/* Does the buffer hold this text? */
static bool mbuf_find(const struct mbuf *mb, const char *str)
{
	size_t n = strlen(str), i;

	for (i = 0; i + n <= mb->end; i++) {
		if (!memcmp(mb->buf + i, str, n))
			return true;
	}

	return false;
}


/* Encoding twice gives the same bytes; no address, no body */
static void test_sdp_encode(void)
{
	struct kar_sdp_media mv[] = {
		{"audio", NULL, mixed, ARRAY_SIZE(mixed), true, 0},
	};
	struct kar_sdp *s = NULL;
	struct mbuf *a = mbuf_alloc(512), *b = mbuf_alloc(512);
	struct sa sa;
	size_t len;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL_FATAL(kar_sdp_alloc(&s, mv, 1, 1, 1), 0);
	(void)sa_set_str(&sa, "192.0.2.1", 5060);

	CU_ASSERT_EQUAL(kar_sdp_encode(a, s, &sa), 0);
	CU_ASSERT_EQUAL(kar_sdp_encode(b, s, &sa), 0);
	CU_ASSERT_EQUAL(a->end, b->end);
	CU_ASSERT(!memcmp(a->buf, b->buf, a->end));

	/* Another address, then the first again: each answer names its
	   own (the last address is kept as text between answers) */
	(void)sa_set_str(&sa, "2001:db8::7", 5060);
	mbuf_rewind(b);
	CU_ASSERT_EQUAL(kar_sdp_encode(b, s, &sa), 0);
	CU_ASSERT_EQUAL(b->end, a->end + 2 * (strlen("2001:db8::7") -
					      strlen("192.0.2.1")));
	CU_ASSERT(mbuf_find(b, "c=IN IP6 2001:db8::7\r\n"));
	(void)sa_set_str(&sa, "192.0.2.1", 7000);
	mbuf_rewind(b);
	CU_ASSERT_EQUAL(kar_sdp_encode(b, s, &sa), 0);
	CU_ASSERT_EQUAL(a->end, b->end);
	CU_ASSERT(!memcmp(a->buf, b->buf, a->end));
	(void)sa_set_str(&sa, "192.0.2.2", 5060);
	mbuf_rewind(b);
	CU_ASSERT_EQUAL(kar_sdp_encode(b, s, &sa), 0);
	CU_ASSERT(mbuf_find(b, "o=- 1 1 IN IP4 192.0.2.2\r\n"));

	sa_init(&sa, AF_UNSPEC);
	CU_ASSERT_NOT_EQUAL(kar_sdp_encode(a, s, &sa), 0);
	CU_ASSERT_EQUAL(kar_sdp_length(s, &sa, &len), EAFNOSUPPORT);
	CU_ASSERT_EQUAL(kar_sdp_length(NULL, &sa, &len), EINVAL);
	CU_ASSERT_EQUAL(kar_sdp_alloc(NULL, mv, 1, 1, 1), EINVAL);

	mem_deref(s);
	mem_deref(a);
	mem_deref(b);
}


static const CU_TestInfo tests[] = {
	{"accept_none",       test_accept_none},
	{"accept_admits",     test_accept_admits},
	{"accept_excludes",   test_accept_excludes},
	{"accept_specific",   test_accept_specific},
	{"accept_headers",    test_accept_headers},
	{"accept_empty",      test_accept_empty},
	{"accept_namesake",   test_accept_namesake},
	{"sdp_audio",         test_sdp_audio},
	{"sdp_audio_video",   test_sdp_audio_video},
	{"sdp_telev_pt",      test_sdp_telev_pt},
	{"sdp_no_codecs",     test_sdp_no_codecs},
	{"sdp_ipv6",          test_sdp_ipv6},
	{"sdp_encode",        test_sdp_encode},
	CU_TEST_INFO_NULL
};


int unit_sdp_register(void)
{
	return unit_suite_add("sdp", NULL, NULL, tests);
}
