/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file test_events.c  keepalive_responder unit tests -- event packages
 *
 * The keepalive_responder_events value: strict parsing (a bad list
 * keeps the module from loading), lookup and printing; the packages with
 * a handling of their own; message-summary bodies (RFC 3842).
 */
#include <string.h>
#include <re.h>
#include <CUnit/CUnit.h>
#include "kar.h"
#include "unit.h"


static int find(const struct kar_events *ev, const char *name)
{
	struct pl pl;

	pl_set_str(&pl, name);

	return kar_events_find(ev, &pl);
}


static void test_parse(void)
{
	struct kar_events ev;

	CU_ASSERT_EQUAL_FATAL(kar_events_parse(&ev, "keep-alive"), 0);
	CU_ASSERT_EQUAL(ev.n, 1);
	CU_ASSERT_STRING_EQUAL(ev.name[0], "keep-alive");

	CU_ASSERT_EQUAL_FATAL(kar_events_parse(&ev, UNIT_EVENTS), 0);
	CU_ASSERT_EQUAL(ev.n, 3);
	CU_ASSERT_STRING_EQUAL(ev.name[0], "keep-alive");
	CU_ASSERT_STRING_EQUAL(ev.name[1], "check-sync");
	CU_ASSERT_STRING_EQUAL(ev.name[2], "message-summary");

	/* White space around names is not part of them */
	CU_ASSERT_EQUAL_FATAL(kar_events_parse(&ev,
			" \tkeep-alive ,check-sync\t,  talk , hold\t "), 0);
	CU_ASSERT_EQUAL(ev.n, 4);
	CU_ASSERT_STRING_EQUAL(ev.name[0], "keep-alive");
	CU_ASSERT_STRING_EQUAL(ev.name[1], "check-sync");
	CU_ASSERT_STRING_EQUAL(ev.name[2], "talk");
	CU_ASSERT_STRING_EQUAL(ev.name[3], "hold");

	/* Every RFC 3261 token character is allowed */
	CU_ASSERT_EQUAL_FATAL(kar_events_parse(&ev,
			"aZ09-.!%*_+`'~"), 0);
	CU_ASSERT_EQUAL(ev.n, 1);
	CU_ASSERT_STRING_EQUAL(ev.name[0], "aZ09-.!%*_+`'~");
}


/* An empty value configures no package at all */
static void test_empty(void)
{
	struct kar_events ev;

	memset(&ev, 0x5a, sizeof(ev));
	CU_ASSERT_EQUAL(kar_events_parse(&ev, ""), 0);
	CU_ASSERT_EQUAL(ev.n, 0);

	memset(&ev, 0x5a, sizeof(ev));
	CU_ASSERT_EQUAL(kar_events_parse(&ev, " \t "), 0);
	CU_ASSERT_EQUAL(ev.n, 0);
}


/* An empty item is a typo, not an empty list */
static void test_empty_items(void)
{
	static const char *bad[] = {
		"a,,b", "a, ,b", "a,", "a, ", ",a", " ,a", ",", ",,",
		"keep-alive,check-sync,",
	};
	struct kar_events ev;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		CU_ASSERT_EQUAL(kar_events_parse(&ev, bad[i]), EINVAL);
}


static void test_bad_chars(void)
{
	static const char *bad[] = {
		"keep alive", "a;b", "a=b", "a/b", "a@b", "a\"b", "a:b",
		"a(b)", "a\nb", "a\rb", "keep-alive,check sync", "\xc3\xa4",
		"a<b>", "a?b", "a[b]",
	};
	struct kar_events ev;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		CU_ASSERT_EQUAL(kar_events_parse(&ev, bad[i]), EINVAL);
}


static void test_name_length(void)
{
	char name[KAR_EVENT_NAMEL + 2];
	struct kar_events ev;

	/* The longest name that fits, with its terminator */
	memset(name, 'x', KAR_EVENT_NAMEL - 1);
	name[KAR_EVENT_NAMEL - 1] = '\0';
	CU_ASSERT_EQUAL(kar_events_parse(&ev, name), 0);
	CU_ASSERT_EQUAL(ev.n, 1);
	CU_ASSERT_EQUAL(strlen(ev.name[0]), KAR_EVENT_NAMEL - 1);

	memset(name, 'x', KAR_EVENT_NAMEL);
	name[KAR_EVENT_NAMEL] = '\0';
	CU_ASSERT_EQUAL(kar_events_parse(&ev, name), EINVAL);

	memset(name, 'x', KAR_EVENT_NAMEL + 1);
	name[KAR_EVENT_NAMEL + 1] = '\0';
	CU_ASSERT_EQUAL(kar_events_parse(&ev, name), EINVAL);
}


/* "e0,e1,...,e<n-1>" */
static char *names(unsigned n)
{
	struct mbuf *mb = mbuf_alloc(256);
	char *str = NULL;
	unsigned i;
	int err = 0;

	if (!mb)
		return NULL;

	for (i = 0; i < n; i++)
		err |= mbuf_printf(mb, "%se%u", i ? "," : "", i);

	mb->pos = 0;
	if (!err)
		(void)mbuf_strdup(mb, &str, mb->end);

	mem_deref(mb);

	return str;
}


static void test_count(void)
{
	struct kar_events ev;
	char *str;

	str = names(KAR_EVENTS_MAX);
	CU_ASSERT_PTR_NOT_NULL_FATAL(str);
	CU_ASSERT_EQUAL(kar_events_parse(&ev, str), 0);
	CU_ASSERT_EQUAL(ev.n, KAR_EVENTS_MAX);
	CU_ASSERT_STRING_EQUAL(ev.name[KAR_EVENTS_MAX - 1], "e15");
	mem_deref(str);

	str = names(KAR_EVENTS_MAX + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(str);
	CU_ASSERT_EQUAL(kar_events_parse(&ev, str), E2BIG);
	mem_deref(str);
}


/*
 * Collapsed duplicates do not count toward the limit, wherever they
 * are in the list: 16 names and a repeat fit, the repeat first or last.
 */
static void test_count_duplicate(void)
{
	struct kar_events ev;
	char *str, *list = NULL;

	str = names(KAR_EVENTS_MAX);
	CU_ASSERT_PTR_NOT_NULL_FATAL(str);

	CU_ASSERT_EQUAL_FATAL(re_sdprintf(&list, "e0,%s", str), 0);
	CU_ASSERT_EQUAL(kar_events_parse(&ev, list), 0);
	CU_ASSERT_EQUAL(ev.n, KAR_EVENTS_MAX);
	list = mem_deref(list);

	CU_ASSERT_EQUAL_FATAL(re_sdprintf(&list, "%s,E0", str), 0);
	CU_ASSERT_EQUAL(kar_events_parse(&ev, list), 0);
	CU_ASSERT_EQUAL(ev.n, KAR_EVENTS_MAX);

	mem_deref(list);
	mem_deref(str);
}


/* Duplicates, in any case, would only waste a counter slot */
static void test_duplicates(void)
{
	struct kar_events ev;

	CU_ASSERT_EQUAL_FATAL(kar_events_parse(&ev,
			"keep-alive,Keep-Alive,check-sync,keep-alive,"
			"KEEP-ALIVE,check-sync"), 0);
	CU_ASSERT_EQUAL(ev.n, 2);
	CU_ASSERT_STRING_EQUAL(ev.name[0], "keep-alive");
	CU_ASSERT_STRING_EQUAL(ev.name[1], "check-sync");
}


/* A rejected value leaves the list as it was */
static void test_unchanged_on_error(void)
{
	struct kar_events ev, copy;

	CU_ASSERT_EQUAL_FATAL(kar_events_parse(&ev, UNIT_EVENTS), 0);
	copy = ev;

	CU_ASSERT_EQUAL(kar_events_parse(&ev, "talk,,hold"), EINVAL);
	CU_ASSERT_EQUAL(memcmp(&ev, &copy, sizeof(ev)), 0);

	CU_ASSERT_EQUAL(kar_events_parse(&ev, "talk,bad name"), EINVAL);
	CU_ASSERT_EQUAL(memcmp(&ev, &copy, sizeof(ev)), 0);

	CU_ASSERT_EQUAL(kar_events_parse(&ev, NULL), EINVAL);
	CU_ASSERT_EQUAL(memcmp(&ev, &copy, sizeof(ev)), 0);

	CU_ASSERT_EQUAL(kar_events_parse(NULL, "keep-alive"), EINVAL);
}


static void test_find(void)
{
	struct kar_events ev, none;
	struct pl empty = PL_INIT;

	CU_ASSERT_EQUAL_FATAL(kar_events_parse(&ev, UNIT_EVENTS), 0);
	CU_ASSERT_EQUAL_FATAL(kar_events_parse(&none, ""), 0);

	CU_ASSERT_EQUAL(find(&ev, "keep-alive"), 0);
	CU_ASSERT_EQUAL(find(&ev, "check-sync"), 1);
	CU_ASSERT_EQUAL(find(&ev, "message-summary"), 2);

	/* Case-insensitive */
	CU_ASSERT_EQUAL(find(&ev, "KEEP-ALIVE"), 0);
	CU_ASSERT_EQUAL(find(&ev, "Message-Summary"), 2);

	/* Whole names only */
	CU_ASSERT_EQUAL(find(&ev, "presence"), -1);
	CU_ASSERT_EQUAL(find(&ev, "keep"), -1);
	CU_ASSERT_EQUAL(find(&ev, "keep-alive2"), -1);
	CU_ASSERT_EQUAL(find(&ev, "check-sync "), -1);

	CU_ASSERT_EQUAL(find(&ev, ""), -1);
	CU_ASSERT_EQUAL(kar_events_find(&ev, &empty), -1);
	CU_ASSERT_EQUAL(kar_events_find(&ev, NULL), -1);
	CU_ASSERT_EQUAL(find(NULL, "keep-alive"), -1);
	CU_ASSERT_EQUAL(find(&none, "keep-alive"), -1);
}


/* The Allow-Events value */
static void test_print(void)
{
	struct kar_events ev;
	char *str = NULL;

	CU_ASSERT_EQUAL_FATAL(kar_events_parse(&ev, " talk,hold ,x "), 0);
	CU_ASSERT_EQUAL_FATAL(re_sdprintf(&str, "%H", kar_events_print,
					  &ev), 0);
	CU_ASSERT_STRING_EQUAL(str, "talk, hold, x");
	str = mem_deref(str);

	CU_ASSERT_EQUAL_FATAL(kar_events_parse(&ev, "keep-alive"), 0);
	CU_ASSERT_EQUAL_FATAL(re_sdprintf(&str, "[%H]", kar_events_print,
					  &ev), 0);
	CU_ASSERT_STRING_EQUAL(str, "[keep-alive]");
	str = mem_deref(str);

	CU_ASSERT_EQUAL_FATAL(kar_events_parse(&ev, ""), 0);
	CU_ASSERT_EQUAL_FATAL(re_sdprintf(&str, "[%H]", kar_events_print,
					  &ev), 0);
	CU_ASSERT_STRING_EQUAL(str, "[]");
	str = mem_deref(str);

	CU_ASSERT_EQUAL_FATAL(re_sdprintf(&str, "[%H]", kar_events_print,
					  NULL), 0);
	CU_ASSERT_STRING_EQUAL(str, "[]");
	mem_deref(str);
}


/* remote_control adds talk and hold to the configured list */
static void test_add(void)
{
	struct kar_events ev;
	char name[KAR_EVENT_NAMEL + 1];
	char *str;

	CU_ASSERT_EQUAL_FATAL(kar_events_parse(&ev, UNIT_EVENTS), 0);

	CU_ASSERT_EQUAL(kar_events_add(&ev, "talk"), 0);
	CU_ASSERT_EQUAL(ev.n, 4);
	CU_ASSERT_STRING_EQUAL(ev.name[3], "talk");
	CU_ASSERT_EQUAL(find(&ev, "talk"), 3);

	/* There already, in any case: nothing added */
	CU_ASSERT_EQUAL(kar_events_add(&ev, "TALK"), 0);
	CU_ASSERT_EQUAL(kar_events_add(&ev, "Keep-Alive"), 0);
	CU_ASSERT_EQUAL(ev.n, 4);

	CU_ASSERT_EQUAL(kar_events_add(&ev, ""), EINVAL);
	CU_ASSERT_EQUAL(kar_events_add(&ev, NULL), EINVAL);
	CU_ASSERT_EQUAL(kar_events_add(NULL, "hold"), EINVAL);

	memset(name, 'h', KAR_EVENT_NAMEL);
	name[KAR_EVENT_NAMEL] = '\0';
	CU_ASSERT_EQUAL(kar_events_add(&ev, name), EINVAL);
	name[KAR_EVENT_NAMEL - 1] = '\0';
	CU_ASSERT_EQUAL(kar_events_add(&ev, name), 0);
	CU_ASSERT_EQUAL(ev.n, 5);

	/* A full list takes nothing new, but knows what it has */
	str = names(KAR_EVENTS_MAX);
	CU_ASSERT_PTR_NOT_NULL_FATAL(str);
	CU_ASSERT_EQUAL_FATAL(kar_events_parse(&ev, str), 0);
	mem_deref(str);

	CU_ASSERT_EQUAL(kar_events_add(&ev, "hold"), E2BIG);
	CU_ASSERT_EQUAL(kar_events_add(&ev, "e7"), 0);
	CU_ASSERT_EQUAL(ev.n, KAR_EVENTS_MAX);
}


static void test_pkg_of(void)
{
	CU_ASSERT_EQUAL(kar_pkg_of("keep-alive"), KAR_PKG_KEEPALIVE);
	CU_ASSERT_EQUAL(kar_pkg_of("check-sync"), KAR_PKG_CHECK_SYNC);
	CU_ASSERT_EQUAL(kar_pkg_of("message-summary"), KAR_PKG_MWI);
	CU_ASSERT_EQUAL(kar_pkg_of("talk"), KAR_PKG_TALK);
	CU_ASSERT_EQUAL(kar_pkg_of("hold"), KAR_PKG_HOLD);

	/* As configured, in any case (find() matches so too) */
	CU_ASSERT_EQUAL(kar_pkg_of("Keep-Alive"), KAR_PKG_KEEPALIVE);
	CU_ASSERT_EQUAL(kar_pkg_of("MESSAGE-SUMMARY"), KAR_PKG_MWI);
	CU_ASSERT_EQUAL(kar_pkg_of("Talk"), KAR_PKG_TALK);

	/* A plain 200 for anything else configured */
	CU_ASSERT_EQUAL(kar_pkg_of("presence"), KAR_PKG_OTHER);
	CU_ASSERT_EQUAL(kar_pkg_of("keep"), KAR_PKG_OTHER);
	CU_ASSERT_EQUAL(kar_pkg_of("talks"), KAR_PKG_OTHER);
	CU_ASSERT_EQUAL(kar_pkg_of(""), KAR_PKG_OTHER);
	CU_ASSERT_EQUAL(kar_pkg_of(NULL), KAR_PKG_OTHER);
}


static int mwi(const char *body)
{
	struct pl pl;

	pl_set_str(&pl, body);

	return kar_mwi_check(&pl);
}


/* RFC 3842 5.2 and its example (section 7.1) */
static void test_mwi(void)
{
	CU_ASSERT_EQUAL(mwi(
		"Messages-Waiting: yes\r\n"
		"Message-Account: sip:alice@vmail.example.com\r\n"
		"Voice-Message: 2/8 (0/2)\r\n"), 0);

	/* The status line alone; no body end-of-line either */
	CU_ASSERT_EQUAL(mwi("Messages-Waiting: no"), 0);
	CU_ASSERT_EQUAL(mwi("Messages-Waiting: yes"), 0);

	/* Every RFC 3458 class; urgent counts optional */
	CU_ASSERT_EQUAL(mwi(
		"Messages-Waiting: yes\r\n"
		"Voice-Message: 1/2\r\n"
		"Fax-Message: 3/4 (1/1)\r\n"
		"Pager-Message: 5/6\r\n"
		"Multimedia-Message: 7/8\r\n"
		"Text-Message: 9/10\r\n"
		"None: 11/12\r\n"), 0);

	/* A class twice is not an error */
	CU_ASSERT_EQUAL(mwi(
		"Messages-Waiting: yes\r\n"
		"Voice-Message: 1/2\r\n"
		"Voice-Message: 3/4\r\n"), 0);
}


/* What servers in the field send: case, white space, bare LF */
static void test_mwi_lenient(void)
{
	CU_ASSERT_EQUAL(mwi(
		"\r\n"
		"messages-waiting :  YES \n"
		"VOICE-MESSAGE:\t3 / 4 ( 1 / 0 )\n"), 0);

	/* Extension classes are allowed, if well-formed */
	CU_ASSERT_EQUAL(mwi(
		"Messages-Waiting: yes\r\n"
		"X-Video-Message: 1/0\r\n"), 0);

	/* Message headers after the empty line are not interpreted */
	CU_ASSERT_EQUAL(mwi(
		"Messages-Waiting: yes\r\n"
		"Voice-Message: 1/0\r\n"
		"\r\n"
		"To: <sip:alice@example.com>\r\n"
		"Subject: not a count\r\n"), 0);

	/* The largest count it takes */
	CU_ASSERT_EQUAL(mwi(
		"Messages-Waiting: yes\r\n"
		"Voice-Message: 999999999/0\r\n"), 0);
}


/* A malformed body gets 400 instead of 200 */
static void test_mwi_bad(void)
{
	static const char *bad[] = {
		"",
		"\r\n\r\n",
		"Voice-Message: 1/2\r\n",
		"Messages-Waiting: maybe\r\n",
		"Messages-Waiting yes\r\n",
		"Messages-Waiting:\r\n",
		": yes\r\n",
		"Messages-Waiting: yes\r\nVoice-Message: 1\r\n",
		"Messages-Waiting: yes\r\nVoice-Message: a/b\r\n",
		"Messages-Waiting: yes\r\nVoice-Message: 1/\r\n",
		"Messages-Waiting: yes\r\nVoice-Message: /1\r\n",
		"Messages-Waiting: yes\r\nVoice-Message: -1/2\r\n",
		"Messages-Waiting: yes\r\nVoice-Message: +1/2\r\n",
		"Messages-Waiting: yes\r\nVoice-Message: 1/2 (3/4\r\n",
		"Messages-Waiting: yes\r\nVoice-Message: 1/2 (3)\r\n",
		"Messages-Waiting: yes\r\nVoice-Message: 1/2 ()\r\n",
		"Messages-Waiting: yes\r\nVoice-Message: 1234567890/0\r\n",
		"Messages-Waiting: yes\r\nVoice-Message 1/2\r\n",
		"Messages-Waiting: yes\r\nX-Thing: hello\r\n",
		"Messages-Waiting: yes\r\nMessages-Waiting: no\r\n",
		"Messages-Waiting: yes\r\nMessage-Account:\r\n",
	};
	static const char nul[] =
		"Messages-Waiting: yes\r\nVoice\0-Message: 1/2\r\n";
	struct pl pl;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		CU_ASSERT_EQUAL(mwi(bad[i]), EINVAL);

	/* One account only */
	CU_ASSERT_EQUAL(mwi(
		"Messages-Waiting: yes\r\n"
		"Message-Account: sip:a@b\r\n"
		"Message-Account: sip:c@d\r\n"), EINVAL);

	/* Ten digits, even of a small number */
	CU_ASSERT_EQUAL(mwi(
		"Messages-Waiting: yes\r\n"
		"Voice-Message: 0000000000/0\r\n"), EINVAL);

	/* A NUL inside the body is not text */
	pl.p = nul;
	pl.l = sizeof(nul) - 1;
	CU_ASSERT_EQUAL(kar_mwi_check(&pl), EINVAL);

	CU_ASSERT_EQUAL(kar_mwi_check(NULL), EINVAL);
}


static CU_TestInfo tests[] = {
	{"parse",               test_parse},
	{"empty",               test_empty},
	{"empty_items",         test_empty_items},
	{"bad_chars",           test_bad_chars},
	{"name_length",         test_name_length},
	{"count",               test_count},
	{"count_duplicate",     test_count_duplicate},
	{"duplicates",          test_duplicates},
	{"unchanged_on_error",  test_unchanged_on_error},
	{"find",                test_find},
	{"print",               test_print},
	{"add",                 test_add},
	{"pkg_of",              test_pkg_of},
	{"mwi",                 test_mwi},
	{"mwi_lenient",         test_mwi_lenient},
	{"mwi_bad",             test_mwi_bad},
	CU_TEST_INFO_NULL
};


int unit_events_register(void)
{
	return unit_suite_add("events", NULL, NULL, tests);
}
