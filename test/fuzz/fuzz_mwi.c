/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file fuzz_mwi.c  libFuzzer target: message-summary bodies (RFC 3842)
 *
 * The raw input is the body of an out-of-dialog NOTIFY with
 * Event: message-summary, as the module hands it to kar_mwi_check().
 * libFuzzer's input buffer has exactly the input's size, so any read
 * past the body is caught by AddressSanitizer.
 *
 * Properties checked besides the sanitizers: the body gets the same
 * answer twice, the only error is EINVAL, and an accepted body stays
 * accepted with message headers after an empty line (any bytes: the
 * input again), which are not interpreted.
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
	struct pl body;
	char *more;
	int err, err2;

	body.p = (const char *)data;
	body.l = size;

	err = kar_mwi_check(&body);
	err2 = kar_mwi_check(&body);

	CHECK(err == err2, "checked twice: %d, then %d", err, err2);
	CHECK(err == 0 || err == EINVAL, "error %d", err);

	if (err)
		return 0;

	/* body, empty line, body: exactly that size, for ASan */
	more = malloc(2 * size + 2);
	if (!more)
		return 0;

	memcpy(more, data, size);
	memcpy(more + size, "\n\n", 2);
	memcpy(more + size + 2, data, size);

	body.p = more;
	body.l = 2 * size + 2;
	err = kar_mwi_check(&body);
	free(more);

	CHECK(err == 0, "refused with message headers: %d", err);

	return 0;
}
