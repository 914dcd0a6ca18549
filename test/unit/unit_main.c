/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file unit_main.c  keepalive_responder unit tests -- runner
 *
 *   kar_unit [suite ...]
 *
 * Runs the named suites (all without an argument) with CUnit's basic,
 * verbose interface.  The exit status is non-zero if any assertion,
 * test or suite set-up failed, so CTest can run one suite per test.
 */
#include <stdio.h>
#include <string.h>
#include <re.h>
#include <CUnit/Basic.h>
#include "kar.h"
#include "unit.h"


static int (* const registrars[])(void) = {
	unit_policy_register,
	unit_reply_register,
	unit_events_register,
	unit_conf_register,
	unit_stats_register,
	unit_srctab_register,
	unit_guard_register,
	unit_block_register,
	unit_udpdrop_register,
	unit_chain_register,
	unit_validate_register,
	unit_sdp_register,
	unit_watch_register,
	unit_servers_register,
	unit_hdr_register,
};


/* Failures of the run just finished; CUnit resets them on every run */
static unsigned run_failures(void)
{
	return CU_get_number_of_failures() +
		CU_get_number_of_tests_failed() +
		CU_get_number_of_suites_failed();
}


static void list_suites(FILE *f)
{
	CU_pSuite s;

	(void)fprintf(f, "suites:");
	for (s = CU_get_registry()->pSuite; s; s = s->pNext)
		(void)fprintf(f, " %s", s->pName);
	(void)fprintf(f, "\n");
}


/*
 * libre's allocator keeps statistics only in debug builds of libre
 * (Debian's is a release build: mem_get_stat() says ENOSYS).  Where they
 * exist, every suite must give back every block it took.
 */
static bool mem_blocks(size_t *blocks)
{
	struct memstat st;

	if (mem_get_stat(&st))
		return false;

	*blocks = st.blocks_cur;

	return true;
}


static int run(CU_pSuite suite, unsigned *failures)
{
	size_t before = 0, after = 0;
	bool counted = mem_blocks(&before);
	CU_ErrorCode cerr;

	cerr = suite ? CU_basic_run_suite(suite) : CU_basic_run_tests();
	*failures += run_failures();

	if (counted && mem_blocks(&after) && after != before) {
		(void)fprintf(stderr, "%s: %zd libre memory blocks leaked\n",
			      suite ? suite->pName : "all",
			      (ssize_t)(after - before));
		++*failures;
	}

	return cerr;
}


int main(int argc, char *argv[])
{
	unsigned failures = 0;
	size_t i;
	int err, ret = 1;

	err = libre_init();
	if (err) {
		(void)re_fprintf(stderr, "libre_init: %m\n", err);
		return 1;
	}

	if (CU_initialize_registry() != CUE_SUCCESS) {
		(void)fprintf(stderr, "CUnit: %s\n", CU_get_error_msg());
		goto out;
	}

	for (i = 0; i < ARRAY_SIZE(registrars); i++) {
		if (registrars[i]()) {
			(void)fprintf(stderr, "CUnit: %s\n",
				      CU_get_error_msg());
			goto out;
		}
	}

	CU_basic_set_mode(CU_BRM_VERBOSE);

	if (argc < 2) {
		if (run(NULL, &failures) != CUE_SUCCESS)
			goto out;
	}

	for (i = 1; i < (size_t)argc; i++) {

		CU_pSuite suite = CU_get_suite(argv[i]);

		if (!suite) {
			(void)fprintf(stderr, "no such suite: %s\n", argv[i]);
			list_suites(stderr);
			goto out;
		}

		if (run(suite, &failures) != CUE_SUCCESS)
			goto out;
	}

	ret = failures ? 1 : 0;

 out:
	CU_cleanup_registry();
	libre_close();

	return ret;
}
