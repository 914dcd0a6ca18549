/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file fuzz_conf.c  libFuzzer target: the module's config value parsers
 *
 * The input, made a NUL-terminated string (as baresip's config reader
 * hands values over), goes through every parser of a config value:
 * kar_events_parse(), kar_events_add(), kar_pkg_of(), kar_acl_parse(),
 * kar_uafilter_parse(), kar_conf_bool(), kar_conf_log(),
 * kar_conf_check_sync(), kar_conf_u32(), kar_conf_range() and
 * kar_conf_list().  The copy has exactly
 * size + 1 bytes, so any read past the terminating NUL is caught.
 *
 * Properties checked besides the sanitizers:
 *   - a parsed event list holds valid, distinct tokens, each found at its
 *     own index, and printing and parsing it again gives the same list;
 *   - a parsed trusted-source list matches each of its own networks and
 *     keeps no host bits;
 *   - a parsed scanner filter matches a User-Agent that is one of its
 *     substrings in upper case, and an empty filter matches nothing;
 *   - a number is accepted exactly when it is digits up to 4294967295,
 *     and within bounds exactly when it is such a number between them;
 *   - a list value is the empty list exactly when it is "none".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "kar.h"

#define FUZZ_NAME "fuzz_conf"
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


static bool is_token(const char *s)
{
	for (; *s; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("-.!%*_+`'~", *s)))
			return false;
	}

	return true;
}


static void check_events(const char *str)
{
	struct kar_events ev, ev2;
	struct pl pl;
	char *printed = NULL;
	size_t i;
	int err;

	memset(&ev, 0, sizeof(ev));

	err = kar_events_parse(&ev, str);
	CHECK(err == 0 || err == EINVAL || err == E2BIG, "error %d", err);

	if (!err) {
		CHECK(ev.n <= KAR_EVENTS_MAX, "n = %zu", ev.n);

		for (i = 0; i < ev.n; i++) {
			size_t len = strnlen(ev.name[i], KAR_EVENT_NAMEL);

			CHECK(len > 0 && len < KAR_EVENT_NAMEL,
			      "name %zu has length %zu", i, len);
			CHECK(is_token(ev.name[i]), "name %zu not a token", i);

			pl_set_str(&pl, ev.name[i]);
			CHECK(kar_events_find(&ev, &pl) == (int)i,
			      "name %zu found at %d", i,
			      kar_events_find(&ev, &pl));
			(void)kar_pkg_of(ev.name[i]);
		}

		/* Printed as a header value, the list parses back */
		CHECK(!re_sdprintf(&printed, "%H", kar_events_print, &ev),
		      "print");
		CHECK(!kar_events_parse(&ev2, printed), "'%s' does not parse"
		      " back", printed);
		CHECK(ev2.n == ev.n, "'%s' parses back to %zu names",
		      printed, ev2.n);
		for (i = 0; i < ev.n; i++)
			CHECK(!strcmp(ev2.name[i], ev.name[i]),
			      "'%s' parses back differently", printed);
		mem_deref(printed);
	}

	/* Adding to a list, whatever the name */
	err = kar_events_add(&ev, str);
	CHECK(err == 0 || err == EINVAL || err == E2BIG, "add error %d",
	      err);
	CHECK(ev.n <= KAR_EVENTS_MAX, "n = %zu after add", ev.n);

	(void)kar_pkg_of(str);
}


static void check_acl(const char *str)
{
	struct kar_acl acl;
	char bad[16];
	struct sa sa;
	size_t i, b;
	int err;

	err = kar_acl_parse(&acl, str, bad, sizeof(bad));
	CHECK(err == 0 || err == EINVAL || err == E2BIG, "error %d", err);
	if (err)
		CHECK(memchr(bad, 0, sizeof(bad)) != NULL,
		      "bad entry not terminated");

	(void)kar_acl_parse(&acl, str, NULL, 0);
	if (kar_acl_parse(&acl, str, bad, 1))
		CHECK(bad[0] == '\0', "bad entry overflows size 1");

	err = kar_acl_parse(&acl, str, NULL, 0);
	if (err)
		return;

	CHECK(acl.n <= KAR_ACL_MAX, "n = %zu", acl.n);

	for (i = 0; i < acl.n; i++) {

		const struct kar_acl_entry *e = &acl.v[i];

		CHECK(e->af == AF_INET || e->af == AF_INET6, "af %d", e->af);
		CHECK(e->bits <= (e->af == AF_INET ? 32 : 128), "bits %u",
		      e->bits);

		/* No host bits */
		for (b = e->bits; b < 128; b++)
			CHECK(!(e->addr[b / 8] & (0x80 >> (b % 8))),
			      "host bit %zu set in entry %zu", b, i);

		if (e->af == AF_INET)
			sa_set_in(&sa, (uint32_t)e->addr[0] << 24 |
				  (uint32_t)e->addr[1] << 16 |
				  (uint32_t)e->addr[2] << 8 | e->addr[3], 0);
		else
			sa_set_in6(&sa, e->addr, 0);

		/* An IPv4-mapped network is matched as IPv4 */
		if (e->af == AF_INET6 && e->bits >= 96) {
			static const uint8_t mapped[12] =
				{0,0,0,0,0,0,0,0,0,0,0xff,0xff};

			if (!memcmp(e->addr, mapped, sizeof(mapped)))
				continue;
		}

		CHECK(kar_acl_match(&acl, &sa), "entry %zu does not match"
		      " its own network %j", i, &sa);
	}
}


static void check_uafilter(const char *str)
{
	struct kar_uafilter f;
	struct sip_msg msg;
	struct sip_hdr hdr;
	struct kar_req rq;
	char ua[KAR_UA_PATL];
	size_t i, j;
	int err;

	err = kar_uafilter_parse(&f, str);
	CHECK(err == 0 || err == EINVAL || err == E2BIG, "error %d", err);
	if (err)
		return;

	CHECK(f.n <= KAR_UA_MAX, "n = %zu", f.n);

	/* A request with one User-Agent header, made by hand */
	memset(&msg, 0, sizeof(msg));
	memset(&hdr, 0, sizeof(hdr));
	msg.req = true;
	hdr.id = SIP_HDR_USER_AGENT;
	pl_set_str(&hdr.name, "User-Agent");
	list_append(&msg.hdrl, &hdr.le, &hdr);

	/* Its view, as the head listener would read it */
	memset(&rq, 0, sizeof(rq));
	rq.msg = &msg;
	rq.hdr[KAR_H_USER_AGENT].first = &hdr;
	rq.hdr[KAR_H_USER_AGENT].n = 1;

	for (i = 0; i < f.n; i++) {

		CHECK(f.len[i] > 0 && f.len[i] < KAR_UA_PATL, "len %zu",
		      f.len[i]);

		for (j = 0; j < f.len[i]; j++) {
			char c = f.pat[i][j];

			CHECK(!(c >= 'A' && c <= 'Z'), "upper case kept");
			ua[j] = (c >= 'a' && c <= 'z') ? c - 'a' + 'A' : c;
		}

		hdr.val.p = ua;
		hdr.val.l = f.len[i];
		CHECK(kar_uafilter_match(&f, &rq), "'%b' not matched",
		      ua, f.len[i]);
	}

	/* And the input itself as a User-Agent value */
	pl_set_str(&hdr.val, str);
	(void)kar_uafilter_match(&f, &rq);

	list_unlink(&hdr.le);
}


static void check_values(const char *str, size_t len)
{
	enum kar_log log;
	uint32_t u32, secs;
	bool b;
	size_t i;
	int err;

	if (!kar_conf_bool(&b, str))
		CHECK(len <= 5, "'%s' accepted as a boolean", str);

	if (!kar_conf_log(&log, str))
		CHECK(!str_casecmp(kar_log_name(log), str),
		      "'%s' read as %s", str, kar_log_name(log));

	(void)kar_conf_check_sync(&b, str);

	err = kar_conf_u32(&u32, str);
	{
		bool digits = len > 0;
		uint64_t n = 0;

		for (i = 0; i < len && digits; i++) {
			if (str[i] < '0' || str[i] > '9')
				digits = false;
			else if (n <= 0xffffffffULL)
				n = n * 10 + (uint64_t)(str[i] - '0');
		}
		digits = digits && n <= 0xffffffffULL;

		CHECK(!err == digits, "'%s': error %d", str, err);
		if (!err)
			CHECK(u32 == n, "'%s' read as %u", str, u32);
	}

	/* The drain Retry-After's bounds */
	CHECK(!kar_conf_range(&secs, str, 1, KAR_RETRY_MAX) ==
	      (!err && u32 >= 1 && u32 <= KAR_RETRY_MAX),
	      "'%s': range and number disagree", str);

	CHECK((kar_conf_list(str) != str) == !str_casecmp(str, "none"),
	      "'%s': list value", str);
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *str;
	size_t len;

	str = malloc(size + 1);
	if (!str)
		return 0;

	memcpy(str, data, size);
	str[size] = '\0';
	len = strlen(str);

	check_events(str);
	check_acl(str);
	check_uafilter(str);
	check_values(str, len);

	free(str);

	return 0;
}
