/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file fuzz_mwi.c  libFuzzer target: message-summary bodies (RFC 3842)
 *
 * The raw input is the body of an out-of-dialog NOTIFY with
 * Event: message-summary, as the module hands it to kar_mwi_parse().
 * libFuzzer's input buffer has exactly the input's size, so any read
 * past the body is caught by AddressSanitizer.
 *
 * Properties checked besides the sanitizers: a parsed summary's account
 * lies inside the body and is not empty, only known classes are marked
 * present, and the body parses the same twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "kar.h"

#define FUZZ_NAME "fuzz_mwi"
#include "fuzz.h"


static void cleanup(void)
{
	libre_close();
}


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;

	if (libre_init())
		abort();

	atexit(cleanup);

	return 0;
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kar_mwi mwi, mwi2;
	struct pl body;
	int err, err2;

	body.p = (const char *)data;
	body.l = size;

	err = kar_mwi_parse(&mwi, &body);
	err2 = kar_mwi_parse(&mwi2, &body);

	CHECK(err == err2, "parsed twice: %d, then %d", err, err2);
	CHECK(err == 0 || err == EINVAL, "error %d", err);

	if (err)
		return 0;

	CHECK(!(mwi.has >> KAR_MWI_CLASSES), "has = 0x%x", mwi.has);
	CHECK(mwi.waiting == mwi2.waiting && mwi.has == mwi2.has &&
	      !memcmp(mwi.count, mwi2.count, sizeof(mwi.count)),
	      "two parses differ");

	if (pl_isset(&mwi.account)) {
		CHECK(mwi.account.p >= body.p &&
		      mwi.account.p + mwi.account.l <= body.p + body.l,
		      "account outside the body");
	}

	return 0;
}
