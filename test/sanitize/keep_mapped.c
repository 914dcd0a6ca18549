/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file keep_mapped.c  LD_PRELOAD shim for the ASan integration runs
 *
 * baresip unloads its modules (dlclose) before it exits, and the leak
 * check runs at exit: by then the module's code is unmapped and the
 * sanitizer prints its frames as "<unknown module>", so a leak could not
 * be traced to the module.  This shim makes dlclose() of
 * keepalive_responder.so a no-op (every other library is closed as
 * usual).  Loading the module again (insmod) then gets the same mapping;
 * the module's init() sets all of its state, so it behaves as when freshly
 * loaded.  valgrind has --keep-debuginfo=yes for the same purpose.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <string.h>

int dlclose(void *handle);

int dlclose(void *handle)
{
	static int (*real_dlclose)(void *);
	struct link_map *lm = NULL;

	if (!dlinfo(handle, RTLD_DI_LINKMAP, &lm) && lm &&
	    lm->l_name && strstr(lm->l_name, "keepalive_responder"))
		return 0;

	if (!real_dlclose) {
		void *sym = dlsym(RTLD_NEXT, "dlclose");

		memcpy(&real_dlclose, &sym, sizeof(sym));
	}

	return real_dlclose ? real_dlclose(handle) : -1;
}
