/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file test_conf.c  keepalive_responder unit tests -- config values
 *
 * A value that is not understood must be an error, never a guess: the
 * module then refuses to load (README.md, Configuration).  On error the
 * old value stays, so a caller cannot pick up half a parse.
 */
#include <string.h>
#include <re.h>
#include <CUnit/CUnit.h>
#include "kar.h"
#include "unit.h"


static void test_bool_yes(void)
{
	static const char *yes[] = {
		"yes", "true", "on", "1", "YES", "Yes", "TRUE", "True", "ON",
		"oN",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		bool val = false;

		CU_ASSERT_EQUAL(kar_conf_bool(&val, yes[i]), 0);
		CU_ASSERT_TRUE(val);
	}
}


static void test_bool_no(void)
{
	static const char *no[] = {
		"no", "false", "off", "0", "NO", "No", "FALSE", "False", "OFF",
		"oFf",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(no); i++) {
		bool val = true;

		CU_ASSERT_EQUAL(kar_conf_bool(&val, no[i]), 0);
		CU_ASSERT_FALSE(val);
	}
}


static void test_bool_bad(void)
{
	static const char *bad[] = {
		"maybe", "", " ", "y", "n", "2", "-1", "01", "yes ", " no",
		"enable", "disabled", "onn", "of", "tru", "yesno",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		bool t = true, f = false;

		CU_ASSERT_EQUAL(kar_conf_bool(&t, bad[i]), EINVAL);
		CU_ASSERT_EQUAL(kar_conf_bool(&f, bad[i]), EINVAL);

		/* Untouched on error */
		CU_ASSERT_TRUE(t);
		CU_ASSERT_FALSE(f);
	}

	CU_ASSERT_EQUAL(kar_conf_bool(NULL, "yes"), EINVAL);
}


static void test_bool_null(void)
{
	bool v = true;

	CU_ASSERT_EQUAL(kar_conf_bool(&v, NULL), EINVAL);
	CU_ASSERT_TRUE(v);
}


static void test_log(void)
{
	enum kar_log log = KAR_LOG_ALL;

	CU_ASSERT_EQUAL(kar_conf_log(&log, "none"), 0);
	CU_ASSERT_EQUAL(log, KAR_LOG_NONE);
	CU_ASSERT_EQUAL(kar_conf_log(&log, "unhandled"), 0);
	CU_ASSERT_EQUAL(log, KAR_LOG_UNHANDLED);
	CU_ASSERT_EQUAL(kar_conf_log(&log, "all"), 0);
	CU_ASSERT_EQUAL(log, KAR_LOG_ALL);

	CU_ASSERT_EQUAL(kar_conf_log(&log, "NONE"), 0);
	CU_ASSERT_EQUAL(log, KAR_LOG_NONE);
	CU_ASSERT_EQUAL(kar_conf_log(&log, "Unhandled"), 0);
	CU_ASSERT_EQUAL(log, KAR_LOG_UNHANDLED);
}


static void test_log_bad(void)
{
	static const char *bad[] = {
		"", "some", "no", "off", "0", "al", "alll", "unhandled ",
		"debug", "yes",
	};
	enum kar_log log;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		log = KAR_LOG_UNHANDLED;
		CU_ASSERT_EQUAL(kar_conf_log(&log, bad[i]), EINVAL);
		CU_ASSERT_EQUAL(log, KAR_LOG_UNHANDLED);
	}

	CU_ASSERT_EQUAL(kar_conf_log(NULL, "all"), EINVAL);
	CU_ASSERT_EQUAL(kar_conf_log(&log, NULL), EINVAL);
}


/* The names that are printed are the names that are parsed */
static void test_log_name(void)
{
	enum kar_log l;

	CU_ASSERT_STRING_EQUAL(kar_log_name(KAR_LOG_NONE), "none");
	CU_ASSERT_STRING_EQUAL(kar_log_name(KAR_LOG_UNHANDLED), "unhandled");
	CU_ASSERT_STRING_EQUAL(kar_log_name(KAR_LOG_ALL), "all");
	CU_ASSERT_STRING_EQUAL(kar_log_name((enum kar_log)3), "?");
	CU_ASSERT_STRING_EQUAL(kar_log_name((enum kar_log)-1), "?");

	for (l = KAR_LOG_NONE; l <= KAR_LOG_ALL; l++) {
		enum kar_log back = (enum kar_log)-1;

		CU_ASSERT_EQUAL(kar_conf_log(&back, kar_log_name(l)), 0);
		CU_ASSERT_EQUAL(back, l);
	}
}


static void test_check_sync(void)
{
	bool rereg = true;

	CU_ASSERT_EQUAL(kar_conf_check_sync(&rereg, "event"), 0);
	CU_ASSERT_FALSE(rereg);
	CU_ASSERT_EQUAL(kar_conf_check_sync(&rereg, "reregister"), 0);
	CU_ASSERT_TRUE(rereg);
	CU_ASSERT_EQUAL(kar_conf_check_sync(&rereg, "EVENT"), 0);
	CU_ASSERT_FALSE(rereg);
	CU_ASSERT_EQUAL(kar_conf_check_sync(&rereg, "ReRegister"), 0);
	CU_ASSERT_TRUE(rereg);

	/* Untouched on error */
	CU_ASSERT_EQUAL(kar_conf_check_sync(&rereg, ""), EINVAL);
	CU_ASSERT_EQUAL(kar_conf_check_sync(&rereg, "events"), EINVAL);
	CU_ASSERT_EQUAL(kar_conf_check_sync(&rereg, "re-register"), EINVAL);
	CU_ASSERT_EQUAL(kar_conf_check_sync(&rereg, "yes"), EINVAL);
	CU_ASSERT_EQUAL(kar_conf_check_sync(&rereg, NULL), EINVAL);
	CU_ASSERT_TRUE(rereg);
	CU_ASSERT_EQUAL(kar_conf_check_sync(NULL, "event"), EINVAL);
}


static void test_u32(void)
{
	uint32_t v = 7;

	CU_ASSERT_EQUAL(kar_conf_u32(&v, "0"), 0);
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_EQUAL(kar_conf_u32(&v, "50"), 0);
	CU_ASSERT_EQUAL(v, 50);
	CU_ASSERT_EQUAL(kar_conf_u32(&v, "007"), 0);
	CU_ASSERT_EQUAL(v, 7);
	CU_ASSERT_EQUAL(kar_conf_u32(&v, "4294967295"), 0);
	CU_ASSERT_EQUAL(v, 4294967295U);
	CU_ASSERT_EQUAL(kar_conf_u32(&v, "00000000000000000001"), 0);
	CU_ASSERT_EQUAL(v, 1);
}


static void test_u32_bad(void)
{
	static const char *bad[] = {
		"", " ", "-1", "+1", " 1", "1 ", "0x10", "12a", "1.5", "1e3",
		"4294967296", "99999999999999999999", "fifty",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		uint32_t v = 42;

		CU_ASSERT_EQUAL(kar_conf_u32(&v, bad[i]), EINVAL);
		CU_ASSERT_EQUAL(v, 42);
	}

	CU_ASSERT_EQUAL(kar_conf_u32(NULL, "1"), EINVAL);
}


/* keepalive_responder_drain_retry: 1..86400 seconds, digits only */
static void test_range(void)
{
	static const char *bad[] = {
		"0", "86401", "-1", "", " 300", "300 ", "3e2", "0x10",
		"+300", "99999999999", "300s",
	};
	uint32_t v = 7;
	size_t i;

	CU_ASSERT_EQUAL(kar_conf_range(&v, "1", 1, 86400), 0);
	CU_ASSERT_EQUAL(v, 1);
	CU_ASSERT_EQUAL(kar_conf_range(&v, "300", 1, 86400), 0);
	CU_ASSERT_EQUAL(v, 300);
	CU_ASSERT_EQUAL(kar_conf_range(&v, "86400", 1, 86400), 0);
	CU_ASSERT_EQUAL(v, 86400);
	CU_ASSERT_EQUAL(kar_conf_range(&v, "0300", 1, 86400), 0);
	CU_ASSERT_EQUAL(v, 300);

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		v = 7;
		CU_ASSERT_EQUAL(kar_conf_range(&v, bad[i], 1, 86400), EINVAL);
		CU_ASSERT_EQUAL(v, 7);
	}

	CU_ASSERT_EQUAL(kar_conf_range(&v, NULL, 1, 86400), EINVAL);
	CU_ASSERT_EQUAL(kar_conf_range(NULL, "5", 1, 86400), EINVAL);
	CU_ASSERT_EQUAL(kar_conf_range(&v, "5", 6, 4), EINVAL);
}


/* A list key set to none is the empty list; the word only alone */
static void test_list_none(void)
{
	struct kar_uafilter f;
	const char *plain = "friendly-scanner";

	CU_ASSERT_STRING_EQUAL(kar_conf_list("none"), "");
	CU_ASSERT_STRING_EQUAL(kar_conf_list("None"), "");
	CU_ASSERT_PTR_EQUAL(kar_conf_list(plain), plain);
	CU_ASSERT_STRING_EQUAL(kar_conf_list("nonesuch"), "nonesuch");
	CU_ASSERT_STRING_EQUAL(kar_conf_list("none,sipcli"), "none,sipcli");
	CU_ASSERT_STRING_EQUAL(kar_conf_list(""), "");
	CU_ASSERT_PTR_NULL(kar_conf_list(NULL));

	/* What the scanner filter makes of them */
	CU_ASSERT_EQUAL(kar_uafilter_parse(&f, kar_conf_list("NONE")), 0);
	CU_ASSERT_EQUAL(f.n, 0);
	CU_ASSERT_EQUAL(kar_uafilter_parse(&f, kar_conf_list("none,sipcli")),
			0);
	CU_ASSERT_EQUAL(f.n, 2);
}


/* keepalive_responder_watch: off, event or reregister, any case */
static void test_watch(void)
{
	static const char *bad[] = {
		"", " ", "on", "yes", "no", "0", "events", "re-register",
		"event ", " off", "reregistered", "offf",
	};
	enum kar_watch_mode m = KAR_WATCH_MODE_OFF;
	size_t i;

	CU_ASSERT_EQUAL(kar_conf_watch(&m, "event"), 0);
	CU_ASSERT_EQUAL(m, KAR_WATCH_MODE_EVENT);
	CU_ASSERT_EQUAL(kar_conf_watch(&m, "OFF"), 0);
	CU_ASSERT_EQUAL(m, KAR_WATCH_MODE_OFF);
	CU_ASSERT_EQUAL(kar_conf_watch(&m, "ReRegister"), 0);
	CU_ASSERT_EQUAL(m, KAR_WATCH_MODE_REREGISTER);
	CU_ASSERT_EQUAL(kar_conf_watch(&m, "off"), 0);
	CU_ASSERT_EQUAL(m, KAR_WATCH_MODE_OFF);

	/* Untouched on error */
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		m = KAR_WATCH_MODE_EVENT;
		CU_ASSERT_EQUAL(kar_conf_watch(&m, bad[i]), EINVAL);
		CU_ASSERT_EQUAL(m, KAR_WATCH_MODE_EVENT);
	}
	CU_ASSERT_EQUAL(kar_conf_watch(&m, NULL), EINVAL);
	CU_ASSERT_EQUAL(kar_conf_watch(NULL, "event"), EINVAL);

	/* The names that are printed are the names that are parsed */
	for (i = KAR_WATCH_MODE_OFF; i <= KAR_WATCH_MODE_REREGISTER; i++) {
		m = (enum kar_watch_mode)-1;
		CU_ASSERT_EQUAL(kar_conf_watch(&m, kar_watch_mode_name(i)),
				0);
		CU_ASSERT_EQUAL(m, (enum kar_watch_mode)i);
	}
	CU_ASSERT_STRING_EQUAL(kar_watch_mode_name(KAR_WATCH_MODE_EVENT),
			       "event");
	CU_ASSERT_STRING_EQUAL(kar_watch_mode_name((enum kar_watch_mode)3),
			       "?");
}


/* keepalive_responder_watch_factor: 2..20, digits only */
static void test_watch_factor(void)
{
	static const char *bad[] = {
		"0", "1", "21", "100", "-3", "", " 3", "3 ", "3.0", "three",
		"0x3", "+3", "4294967298",
	};
	uint32_t v = 7;
	size_t i;

	CU_ASSERT_EQUAL(kar_conf_watch_factor(&v, "2"), 0);
	CU_ASSERT_EQUAL(v, 2);
	CU_ASSERT_EQUAL(kar_conf_watch_factor(&v, "3"), 0);
	CU_ASSERT_EQUAL(v, 3);
	CU_ASSERT_EQUAL(kar_conf_watch_factor(&v, "20"), 0);
	CU_ASSERT_EQUAL(v, 20);

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		v = 7;
		CU_ASSERT_EQUAL(kar_conf_watch_factor(&v, bad[i]), EINVAL);
		CU_ASSERT_EQUAL(v, 7);
	}
	CU_ASSERT_EQUAL(kar_conf_watch_factor(&v, NULL), EINVAL);
	CU_ASSERT_EQUAL(kar_conf_watch_factor(NULL, "3"), EINVAL);
}


static CU_TestInfo tests[] = {
	{"bool_yes",    test_bool_yes},
	{"bool_no",     test_bool_no},
	{"bool_bad",    test_bool_bad},
	{"bool_null",   test_bool_null},
	{"log",         test_log},
	{"log_bad",     test_log_bad},
	{"log_name",    test_log_name},
	{"check_sync",  test_check_sync},
	{"u32",         test_u32},
	{"u32_bad",     test_u32_bad},
	{"range",       test_range},
	{"list_none",   test_list_none},
	{"watch",       test_watch},
	{"watch_factor", test_watch_factor},
	CU_TEST_INFO_NULL
};


int unit_conf_register(void)
{
	return unit_suite_add("conf", NULL, NULL, tests);
}
