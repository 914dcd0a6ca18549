/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file test_stats.c  keepalive_responder unit tests -- counters
 *
 * Counting, re-filing and the two printers behind /kar_stats and
 * /kar_stats json.  The JSON is also read back with libre's decoder, so
 * a consumer (ctrl_tcp client, UI) can rely on it being JSON.
 */
#include <string.h>
#include <re.h>
#include <CUnit/CUnit.h>
#include "kar.h"
#include "unit.h"


/* libre 2.1 made the entry's key a getter too */
#ifdef KAR_RE_ODICT_GETTERS
#define ENTRY_KEY(e) odict_entry_key(e)
#else
#define ENTRY_KEY(e) ((e)->key)
#endif


static void verdict(struct kar_verdict *v, enum kar_method meth,
		    bool has_pkg, int pkg)
{
	memset(v, 0, sizeof(*v));
	v->meth = meth;
	v->has_pkg = has_pkg;
	v->pkg = pkg;
}


/* The sum of all counters, to see that nothing else moved */
static uint64_t total(const struct kar_stats *st)
{
	uint64_t n = 0;
	size_t m, c;

	for (m = 0; m < KAR_M_N; m++)
		for (c = 0; c < KAR_C_N; c++)
			n += st->c[m][c];

	for (c = 0; c <= KAR_EVENTS_MAX; c++)
		n += st->pkg[c];

	for (c = 0; c < KAR_A_N; c++)
		n += st->act[c];

	return n;
}


/* Print the counters, as text or as JSON, into a string */
static char *print(bool json, const struct kar_stats_view *sv)
{
	struct mbuf *mb = mbuf_alloc(1024);
	char *str = NULL;
	int err;

	if (!mb)
		return NULL;

	err = mbuf_printf(mb, "%H", json ? kar_stats_json : kar_stats_print,
			  sv);
	if (!err) {
		mb->pos = 0;
		(void)mbuf_strdup(mb, &str, mb->end);
	}

	mem_deref(mb);

	return str;
}


/* Runs of spaces as one, so that rows compare without column widths */
static void squeeze(char *str)
{
	const char *r;
	char *w = str;

	for (r = str; *r; r++) {
		if (*r == ' ' && r[1] == ' ')
			continue;
		*w++ = *r;
	}

	*w = '\0';
}


static void test_reset(void)
{
	struct kar_stats st;

	memset(&st, 0x5a, sizeof(st));
	kar_stats_reset(&st, 12345);

	CU_ASSERT_EQUAL(total(&st), 0);
	CU_ASSERT_EQUAL(st.since, 12345);

	/* Must simply return */
	kar_stats_reset(NULL, 1);
}


static void test_count(void)
{
	struct kar_stats st;
	struct kar_verdict v;

	kar_stats_reset(&st, 0);

	verdict(&v, KAR_M_OPTIONS, false, -1);
	kar_stats_count(&st, &v, KAR_C_ANSWERED);
	kar_stats_count(&st, &v, KAR_C_ANSWERED);
	kar_stats_count(&st, &v, KAR_C_DROPPED_RATE);
	CU_ASSERT_EQUAL(st.c[KAR_M_OPTIONS][KAR_C_ANSWERED], 2);
	CU_ASSERT_EQUAL(st.c[KAR_M_OPTIONS][KAR_C_DROPPED_RATE], 1);

	verdict(&v, KAR_M_OTHER, false, -1);
	kar_stats_count(&st, &v, KAR_C_DROPPED_SCANNER);
	CU_ASSERT_EQUAL(st.c[KAR_M_OTHER][KAR_C_DROPPED_SCANNER], 1);

	verdict(&v, KAR_M_NOTIFY, false, -1);
	kar_stats_count(&st, &v, KAR_C_UNTRUSTED);
	CU_ASSERT_EQUAL(st.c[KAR_M_NOTIFY][KAR_C_UNTRUSTED], 1);

	/* A drain 503 is its own outcome, neither answered nor rejected */
	verdict(&v, KAR_M_OPTIONS, false, -1);
	kar_stats_count(&st, &v, KAR_C_DRAINED);
	verdict(&v, KAR_M_NOTIFY, true, 0);
	kar_stats_count(&st, &v, KAR_C_DRAINED);
	CU_ASSERT_EQUAL(st.c[KAR_M_OPTIONS][KAR_C_DRAINED], 1);
	CU_ASSERT_EQUAL(st.c[KAR_M_OPTIONS][KAR_C_ANSWERED], 2);
	CU_ASSERT_EQUAL(st.c[KAR_M_NOTIFY][KAR_C_DRAINED], 1);
	CU_ASSERT_EQUAL(st.c[KAR_M_NOTIFY][KAR_C_REJECTED], 0);
	CU_ASSERT_EQUAL(st.pkg[0], 1);

	/* Nothing but those, and no package without has_pkg */
	CU_ASSERT_EQUAL(total(&st), 8);
}


/* Per package: its own slot, or the last one for any other */
static void test_count_pkg(void)
{
	struct kar_stats st;
	struct kar_verdict v;

	kar_stats_reset(&st, 0);

	verdict(&v, KAR_M_NOTIFY, true, 0);
	kar_stats_count(&st, &v, KAR_C_ANSWERED);
	verdict(&v, KAR_M_NOTIFY, true, 2);
	kar_stats_count(&st, &v, KAR_C_ANSWERED);
	kar_stats_count(&st, &v, KAR_C_ANSWERED);
	verdict(&v, KAR_M_NOTIFY, true, KAR_EVENTS_MAX - 1);
	kar_stats_count(&st, &v, KAR_C_ANSWERED);

	CU_ASSERT_EQUAL(st.pkg[0], 1);
	CU_ASSERT_EQUAL(st.pkg[1], 0);
	CU_ASSERT_EQUAL(st.pkg[2], 2);
	CU_ASSERT_EQUAL(st.pkg[KAR_EVENTS_MAX - 1], 1);
	CU_ASSERT_EQUAL(st.pkg[KAR_EVENTS_MAX], 0);
	CU_ASSERT_EQUAL(st.c[KAR_M_NOTIFY][KAR_C_ANSWERED], 4);

	/* Unknown, and out of range either way: "other" */
	verdict(&v, KAR_M_NOTIFY, true, -1);
	kar_stats_count(&st, &v, KAR_C_REJECTED);
	verdict(&v, KAR_M_NOTIFY, true, KAR_EVENTS_MAX);
	kar_stats_count(&st, &v, KAR_C_REJECTED);
	verdict(&v, KAR_M_NOTIFY, true, 1000);
	kar_stats_count(&st, &v, KAR_C_REJECTED);
	verdict(&v, KAR_M_NOTIFY, true, -7);
	kar_stats_count(&st, &v, KAR_C_REJECTED);
	CU_ASSERT_EQUAL(st.pkg[KAR_EVENTS_MAX], 4);
	CU_ASSERT_EQUAL(st.c[KAR_M_NOTIFY][KAR_C_REJECTED], 4);

	/* has_pkg false: a package index alone counts nothing */
	verdict(&v, KAR_M_NOTIFY, false, 0);
	kar_stats_count(&st, &v, KAR_C_PASSED);
	CU_ASSERT_EQUAL(st.pkg[0], 1);

	CU_ASSERT_EQUAL(total(&st), 4 + 4 + 4 + 4 + 1);
}


static void test_count_bad(void)
{
	struct kar_stats st;
	struct kar_verdict v;

	kar_stats_reset(&st, 0);

	verdict(&v, KAR_M_N, true, 0);
	kar_stats_count(&st, &v, KAR_C_ANSWERED);
	verdict(&v, KAR_M_OPTIONS, true, 0);
	kar_stats_count(&st, &v, KAR_C_N);
	kar_stats_count(&st, NULL, KAR_C_ANSWERED);
	kar_stats_count(NULL, &v, KAR_C_ANSWERED);

	CU_ASSERT_EQUAL(total(&st), 0);
}


/* The tail answers what the head passed: re-filed, not counted twice */
static void test_move(void)
{
	struct kar_stats st;
	struct kar_verdict v;

	kar_stats_reset(&st, 0);

	verdict(&v, KAR_M_OTHER, false, -1);
	kar_stats_count(&st, &v, KAR_C_PASSED);
	kar_stats_count(&st, &v, KAR_C_PASSED);

	kar_stats_move(&st, KAR_M_OTHER, KAR_C_PASSED, KAR_C_REJECTED);
	CU_ASSERT_EQUAL(st.c[KAR_M_OTHER][KAR_C_PASSED], 1);
	CU_ASSERT_EQUAL(st.c[KAR_M_OTHER][KAR_C_REJECTED], 1);
	CU_ASSERT_EQUAL(total(&st), 2);

	/* Never below zero (after a reset in between, say) */
	kar_stats_move(&st, KAR_M_OPTIONS, KAR_C_PASSED, KAR_C_ANSWERED);
	CU_ASSERT_EQUAL(st.c[KAR_M_OPTIONS][KAR_C_PASSED], 0);
	CU_ASSERT_EQUAL(st.c[KAR_M_OPTIONS][KAR_C_ANSWERED], 1);

	/* Out of range: nothing moves */
	kar_stats_move(&st, KAR_M_N, KAR_C_PASSED, KAR_C_REJECTED);
	kar_stats_move(&st, KAR_M_OTHER, KAR_C_N, KAR_C_REJECTED);
	kar_stats_move(&st, KAR_M_OTHER, KAR_C_PASSED, KAR_C_N);
	kar_stats_move(NULL, KAR_M_OTHER, KAR_C_PASSED, KAR_C_REJECTED);
	CU_ASSERT_EQUAL(total(&st), 3);
	CU_ASSERT_EQUAL(st.c[KAR_M_OTHER][KAR_C_PASSED], 1);
}


/* What accepted packages did (docs/events.md) */
static void test_action(void)
{
	struct kar_stats st;
	size_t a;

	kar_stats_reset(&st, 0);

	kar_stats_action(&st, KAR_A_MWI);
	kar_stats_action(&st, KAR_A_MWI);
	kar_stats_action(&st, KAR_A_NO_CALL);
	CU_ASSERT_EQUAL(st.act[KAR_A_MWI], 2);
	CU_ASSERT_EQUAL(st.act[KAR_A_NO_CALL], 1);
	CU_ASSERT_EQUAL(total(&st), 3);

	for (a = 0; a < KAR_A_N; a++)
		kar_stats_action(&st, (enum kar_action)a);
	CU_ASSERT_EQUAL(total(&st), 3 + KAR_A_N);

	/* Out of range: ignored */
	kar_stats_action(&st, KAR_A_N);
	kar_stats_action(&st, (enum kar_action)-1);
	kar_stats_action(NULL, KAR_A_MWI);
	CU_ASSERT_EQUAL(total(&st), 3 + KAR_A_N);

	kar_stats_reset(&st, 5);
	CU_ASSERT_EQUAL(total(&st), 0);
}


/*
 * Counters with a distinct value each, to catch a swapped pair, counted
 * through the API: method m, outcome c is counted 10 * (m + 1) + c
 * times; 7 of the NOTIFYs name the first package, 3 an unknown one;
 * action a is taken 100 + a times.
 */
static void fill(struct kar_stats *st, struct kar_events *ev)
{
	struct kar_verdict v;
	size_t m, c, i, pkgs = 0;

	(void)kar_events_parse(ev, "keep-alive,check-sync");

	kar_stats_reset(st, 1000);
	for (m = 0; m < KAR_M_N; m++) {
		for (c = 0; c < KAR_C_N; c++) {
			for (i = 0; i < 10 * (m + 1) + c; i++) {

				verdict(&v, (enum kar_method)m, false, -1);
				if (m == KAR_M_NOTIFY && pkgs < 10) {
					v.has_pkg = true;
					v.pkg = pkgs++ < 7 ? 0 : -1;
				}

				kar_stats_count(st, &v, (enum kar_counter)c);
			}
		}
	}

	for (c = 0; c < KAR_A_N; c++)
		for (i = 0; i < 100 + c; i++)
			kar_stats_action(st, (enum kar_action)c);
}


/* An object's keys, in order, comma-separated */
static const char *keys(char *buf, size_t sz, const struct odict *o)
{
	struct le *le;
	size_t n = 0;

	buf[0] = '\0';
	for (le = o ? o->lst.head : NULL; le; le = le->next) {

		const struct odict_entry *e = le->data;
		int l = re_snprintf(buf + n, sz - n, "%s%s", n ? "," : "",
				    ENTRY_KEY(e));

		if (l < 0)
			break;
		n += (size_t)l;
	}

	return buf;
}


static void test_json(void)
{
	static const char expect[] =
		"{\"mode\":\"shared\",\"drain\":false,\"uptime\":42,"
		"\"blocked\":3,"
		"\"methods\":{"
		"\"OPTIONS\":{\"answered\":10,\"drained\":11,\"passed\":12,"
		"\"rejected\":13,\"dropped-rate\":14,\"dropped-scanner\":15,"
		"\"untrusted\":16},"
		"\"NOTIFY\":{\"answered\":20,\"drained\":21,\"passed\":22,"
		"\"rejected\":23,\"dropped-rate\":24,\"dropped-scanner\":25,"
		"\"untrusted\":26},"
		"\"other\":{\"answered\":30,\"drained\":31,\"passed\":32,"
		"\"rejected\":33,\"dropped-rate\":34,\"dropped-scanner\":35,"
		"\"untrusted\":36}},"
		"\"events\":{\"keep-alive\":7,\"check-sync\":0,"
		"\"other\":3},"
		"\"actions\":{\"mwi\":100,\"mwi-malformed\":101,"
		"\"check-sync\":102,\"reregister\":103,\"talk\":104,"
		"\"hold\":105,\"no-call\":106}}\n";
	struct kar_stats st;
	struct kar_events ev;
	struct kar_stats_view sv;
	char *str;

	fill(&st, &ev);
	sv.st = &st;
	sv.events = &ev;
	sv.exclusive = false;
	sv.drain = false;
	sv.now = 1000 + 42999;
	sv.blocked = 3;

	str = print(true, &sv);
	CU_ASSERT_PTR_NOT_NULL_FATAL(str);

	CU_ASSERT_STRING_EQUAL(str, expect);

	/* The same, piece by piece, for a readable failure */
	CU_ASSERT_EQUAL(str[0], '{');
	CU_ASSERT_PTR_NOT_NULL(strstr(str, "\"mode\":\"shared\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(str, "\"uptime\":42,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(str, "\"methods\":{\"OPTIONS\":{"));
	CU_ASSERT_PTR_NOT_NULL(strstr(str, "},\"NOTIFY\":{"));
	CU_ASSERT_PTR_NOT_NULL(strstr(str, "},\"other\":{"));
	CU_ASSERT_EQUAL(unit_count(str, "{"), unit_count(str, "}"));
	mem_deref(str);

	sv.exclusive = true;
	str = print(true, &sv);
	CU_ASSERT_PTR_NOT_NULL_FATAL(str);
	CU_ASSERT_EQUAL(strncmp(str, "{\"mode\":\"exclusive\",", 20), 0);
	mem_deref(str);

	sv.drain = true;
	str = print(true, &sv);
	CU_ASSERT_PTR_NOT_NULL_FATAL(str);
	CU_ASSERT_EQUAL(strncmp(str, "{\"mode\":\"exclusive\","
				"\"drain\":true,\"uptime\":", 41), 0);
	mem_deref(str);
}


static int64_t json_int(const struct odict *o, const char *obj,
			const char *key)
{
	const struct odict_entry *e = odict_lookup(o, obj);

	if (!e || UT_ODICT_TYPE(e) != ODICT_OBJECT)
		return -1;

	e = odict_lookup(UT_ODICT_OBJ(e), key);

	return e && UT_ODICT_TYPE(e) == ODICT_INT ? UT_ODICT_INT(e) : -1;
}


/* What a JSON consumer reads from it */
static void test_json_decode(void)
{
	struct kar_stats st;
	struct kar_events ev;
	struct kar_stats_view sv;
	const struct odict_entry *e, *meths;
	struct odict *o = NULL;
	char buf[256];
	struct le *le;
	char *str;

	fill(&st, &ev);
	sv.st = &st;
	sv.events = &ev;
	sv.exclusive = true;
	sv.drain = true;
	sv.now = 500;      /* before "since": no negative uptime */
	sv.blocked = 4000000000u;

	str = print(true, &sv);
	CU_ASSERT_PTR_NOT_NULL_FATAL(str);

	CU_ASSERT_EQUAL_FATAL(json_decode_odict(&o, 16, str, strlen(str),
						8), 0);

	e = odict_lookup(o, "mode");
	CU_ASSERT_TRUE(e && UT_ODICT_TYPE(e) == ODICT_STRING &&
		       !strcmp(UT_ODICT_STR(e), "exclusive"));
	e = odict_lookup(o, "drain");
	CU_ASSERT_TRUE(e && UT_ODICT_TYPE(e) == ODICT_BOOL && UT_ODICT_BOOL(e));
	e = odict_lookup(o, "uptime");
	CU_ASSERT_TRUE(e && UT_ODICT_TYPE(e) == ODICT_INT && UT_ODICT_INT(e) == 0);
	e = odict_lookup(o, "blocked");
	CU_ASSERT_TRUE(e && UT_ODICT_TYPE(e) == ODICT_INT &&
		       UT_ODICT_INT(e) == 4000000000LL);

	e = odict_lookup(o, "methods");
	CU_ASSERT_TRUE(e && UT_ODICT_TYPE(e) == ODICT_OBJECT &&
		       odict_count(UT_ODICT_OBJ(e), false) == KAR_M_N);
	if (e && UT_ODICT_TYPE(e) == ODICT_OBJECT) {
		CU_ASSERT_EQUAL(json_int(UT_ODICT_OBJ(e), "OPTIONS", "answered"),
				10);
		CU_ASSERT_EQUAL(json_int(UT_ODICT_OBJ(e), "OPTIONS", "drained"),
				11);
		CU_ASSERT_EQUAL(json_int(UT_ODICT_OBJ(e), "NOTIFY",
					 "dropped-scanner"), 25);
		CU_ASSERT_EQUAL(json_int(UT_ODICT_OBJ(e), "other", "untrusted"),
				36);
	}

	CU_ASSERT_EQUAL(json_int(o, "events", "keep-alive"), 7);
	CU_ASSERT_EQUAL(json_int(o, "events", "check-sync"), 0);
	CU_ASSERT_EQUAL(json_int(o, "events", "other"), 3);
	CU_ASSERT_EQUAL(json_int(o, "actions", "mwi"), 100);
	CU_ASSERT_EQUAL(json_int(o, "actions", "no-call"), 106);

	/* One object and nothing else at the top */
	CU_ASSERT_EQUAL(odict_count(o, false), 7);

	/* The documented keys, in the documented order */
	CU_ASSERT_STRING_EQUAL(keys(buf, sizeof(buf), o),
			       "mode,drain,uptime,blocked,methods,events,actions");
	meths = odict_get_type(o, ODICT_OBJECT, "methods");
	CU_ASSERT_PTR_NOT_NULL_FATAL(meths);
	CU_ASSERT_STRING_EQUAL(keys(buf, sizeof(buf), UT_ODICT_OBJ(meths)),
			       "OPTIONS,NOTIFY,other");
	for (le = UT_ODICT_OBJ(meths)->lst.head; le; le = le->next) {

		e = le->data;
		CU_ASSERT_STRING_EQUAL(keys(buf, sizeof(buf),
					    UT_ODICT_OBJ(e)),
				       "answered,drained,passed,rejected,"
				       "dropped-rate,dropped-scanner,"
				       "untrusted");
	}
	e = odict_get_type(o, ODICT_OBJECT, "events");
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_STRING_EQUAL(keys(buf, sizeof(buf), UT_ODICT_OBJ(e)),
			       "keep-alive,check-sync,other");
	e = odict_get_type(o, ODICT_OBJECT, "actions");
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_STRING_EQUAL(keys(buf, sizeof(buf), UT_ODICT_OBJ(e)),
			       "mwi,mwi-malformed,check-sync,reregister,"
			       "talk,hold,no-call");

	mem_deref(o);
	mem_deref(str);
}


static void test_text(void)
{
	struct kar_stats st;
	struct kar_events ev;
	struct kar_stats_view sv;
	char *str;

	fill(&st, &ev);
	sv.st = &st;
	sv.events = &ev;
	sv.exclusive = false;
	sv.drain = false;
	sv.now = 1000 + 42999;
	sv.blocked = 17;

	str = print(false, &sv);
	CU_ASSERT_PTR_NOT_NULL_FATAL(str);
	CU_ASSERT_PTR_NOT_NULL(strstr(str, "uptime 42 s, blocked 17\n"));

	CU_ASSERT_PTR_NOT_NULL(strstr(str, "mode shared, drain off,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(str, "uptime 42 s"));
	CU_ASSERT_PTR_NOT_NULL(strstr(str, "\nOPTIONS "));
	CU_ASSERT_PTR_NOT_NULL(strstr(str, "\nNOTIFY "));
	CU_ASSERT_PTR_NOT_NULL(strstr(str, "\nother "));

	/* The counters' names head the columns, in the JSON's order */
	squeeze(str);
	CU_ASSERT_PTR_NOT_NULL(strstr(str, "\n answered drained passed"
				      " rejected dropped-rate dropped-scanner"
				      " untrusted\n"));

	/* Each row carries its own numbers */
	CU_ASSERT_PTR_NOT_NULL(strstr(str,
				      "\nOPTIONS 10 11 12 13 14 15 16\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(str,
				      "\nNOTIFY 20 21 22 23 24 25 26\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(str,
				      "\nother 30 31 32 33 34 35 36\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(str, "\n keep-alive 7\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(str, "\n check-sync 0\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(str, "\n other 3\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(str, "\nactions:\n mwi 100\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(str, "\n no-call 106\n"));
	mem_deref(str);

	sv.exclusive = true;
	sv.drain = true;
	str = print(false, &sv);
	CU_ASSERT_PTR_NOT_NULL_FATAL(str);
	CU_ASSERT_PTR_NOT_NULL(strstr(str, "mode exclusive, drain on,"));
	mem_deref(str);
}


static void test_print_bad(void)
{
	struct kar_stats st;
	struct kar_events ev;
	struct kar_stats_view sv;
	struct mbuf *mb = mbuf_alloc(64);

	CU_ASSERT_PTR_NOT_NULL_FATAL(mb);
	fill(&st, &ev);

	sv.st = &st;
	sv.events = NULL;
	sv.exclusive = false;
	sv.drain = false;
	sv.now = 0;

	CU_ASSERT_NOT_EQUAL(mbuf_printf(mb, "%H", kar_stats_json, &sv), 0);
	CU_ASSERT_NOT_EQUAL(mbuf_printf(mb, "%H", kar_stats_print, &sv), 0);

	sv.events = &ev;
	sv.st = NULL;
	CU_ASSERT_NOT_EQUAL(mbuf_printf(mb, "%H", kar_stats_json, &sv), 0);
	CU_ASSERT_NOT_EQUAL(mbuf_printf(mb, "%H", kar_stats_print, NULL),
			    0);

	mem_deref(mb);
}


static CU_TestInfo tests[] = {
	{"reset",         test_reset},
	{"count",         test_count},
	{"count_pkg",     test_count_pkg},
	{"count_bad",     test_count_bad},
	{"move",          test_move},
	{"action",        test_action},
	{"json",          test_json},
	{"json_decode",   test_json_decode},
	{"text",          test_text},
	{"print_bad",     test_print_bad},
	CU_TEST_INFO_NULL
};


int unit_stats_register(void)
{
	return unit_suite_add("stats", NULL, NULL, tests);
}
