/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file fuzz.h  What the libFuzzer targets share
 *
 * Each target defines FUZZ_NAME before including this.
 */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


/* A broken property aborts, so that libFuzzer keeps the input */
#define CHECK(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			re_fprintf(stderr, FUZZ_NAME ": %s:%d: %s: ",	\
				   __FILE__, __LINE__, #cond);		\
			re_fprintf(stderr, __VA_ARGS__);		\
			re_fprintf(stderr, "\n");			\
			abort();					\
		}							\
	} while (0)
