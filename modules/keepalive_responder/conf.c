/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file conf.c  keepalive_responder -- configuration values
 *
 * The module's config keys, their defaults and strict parsers: a value
 * that is not understood is an error, never a guess (the module then
 * refuses to load).  Values are read through the caller's lookup
 * (host.c: baresip's config), so loading is tested without baresip.
 */
#include <stddef.h>
#include <string.h>
#include <re.h>
#include "kar.h"


/**
 * Parse a boolean config value
 *
 * @param val Parsed value
 * @param str yes/no, true/false, on/off, 1/0 (any case)
 *
 * @return 0 if success, EINVAL if not a boolean
 */
int kar_conf_bool(bool *val, const char *str)
{
	static const char *yes[] = {"yes", "true", "on", "1"};
	static const char *no[]  = {"no", "false", "off", "0"};
	size_t i;

	if (!val || !str)
		return EINVAL;

	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!str_casecmp(str, yes[i])) {
			*val = true;
			return 0;
		}
		if (!str_casecmp(str, no[i])) {
			*val = false;
			return 0;
		}
	}

	return EINVAL;
}


static const char *log_names[] = {"none", "unhandled", "all"};


/**
 * Parse the keepalive_responder_log value
 *
 * @param val Parsed value
 * @param str none, unhandled or all
 *
 * @return 0 if success, EINVAL if not one of those
 */
int kar_conf_log(enum kar_log *val, const char *str)
{
	size_t i;

	if (!val || !str)
		return EINVAL;

	for (i = 0; i < ARRAY_SIZE(log_names); i++) {
		if (!str_casecmp(str, log_names[i])) {
			*val = (enum kar_log)i;
			return 0;
		}
	}

	return EINVAL;
}


const char *kar_log_name(enum kar_log log)
{
	return (size_t)log < ARRAY_SIZE(log_names) ? log_names[log] : "?";
}


/**
 * Parse the keepalive_responder_check_sync value
 *
 * @param reregister Set to true for "reregister", false for "event"
 * @param str        event or reregister
 *
 * @return 0 if success, EINVAL if not one of those
 */
int kar_conf_check_sync(bool *reregister, const char *str)
{
	if (!reregister || !str)
		return EINVAL;

	if (!str_casecmp(str, "event"))
		*reregister = false;
	else if (!str_casecmp(str, "reregister"))
		*reregister = true;
	else
		return EINVAL;

	return 0;
}


/**
 * The list a list value names: "none" (any case) is the empty list
 *
 * libre's config reader does not see a key written alone on its line, so
 * a list that may be empty needs a word for it.
 *
 * @param str Config value
 *
 * @return "" for none, else str
 */
const char *kar_conf_list(const char *str)
{
	return str && !str_casecmp(str, "none") ? "" : str;
}


/**
 * Parse an unsigned decimal number
 *
 * @param val Parsed value
 * @param str Digits only, at most 4294967295
 *
 * @return 0 if success, EINVAL if not such a number
 */
int kar_conf_u32(uint32_t *val, const char *str)
{
	uint64_t n = 0;
	const char *p;

	if (!val || !str || !*str)
		return EINVAL;

	for (p = str; *p; p++) {
		if (*p < '0' || *p > '9')
			return EINVAL;
		n = n * 10 + (uint64_t)(*p - '0');
		if (n > 0xffffffffULL)
			return EINVAL;
	}

	*val = (uint32_t)n;

	return 0;
}


/**
 * Parse an unsigned decimal number within bounds
 *
 * @param val Parsed value
 * @param str Digits only
 * @param min Smallest value allowed
 * @param max Largest value allowed
 *
 * @return 0 if success, EINVAL if not such a number or out of bounds
 */
int kar_conf_range(uint32_t *val, const char *str, uint32_t min,
		   uint32_t max)
{
	uint32_t n;

	if (!val || kar_conf_u32(&n, str))
		return EINVAL;

	if (n < min || n > max)
		return EINVAL;

	*val = n;

	return 0;
}


static const char *watch_mode_names[] = {"off", "event", "reregister"};


/**
 * Parse the keepalive_responder_watch value
 *
 * @param val Parsed value
 * @param str off, event or reregister (any case)
 *
 * @return 0 if success, EINVAL if not one of those
 */
int kar_conf_watch(enum kar_watch_mode *val, const char *str)
{
	size_t i;

	if (!val || !str)
		return EINVAL;

	for (i = 0; i < ARRAY_SIZE(watch_mode_names); i++) {
		if (!str_casecmp(str, watch_mode_names[i])) {
			*val = (enum kar_watch_mode)i;
			return 0;
		}
	}

	return EINVAL;
}


const char *kar_watch_mode_name(enum kar_watch_mode mode)
{
	return (size_t)mode < ARRAY_SIZE(watch_mode_names) ?
		watch_mode_names[mode] : "?";
}


/**
 * Parse the keepalive_responder_watch_factor value
 *
 * @param val Parsed value
 * @param str Digits only, KAR_WATCH_FACTOR_MIN to KAR_WATCH_FACTOR_MAX
 *
 * @return 0 if success, EINVAL if not such a number
 */
int kar_conf_watch_factor(uint32_t *val, const char *str)
{
	return kar_conf_range(val, str, KAR_WATCH_FACTOR_MIN,
			      KAR_WATCH_FACTOR_MAX);
}


/*
 * Loading.  Each key's value, or its default, goes through the key's
 * parser; a value it refuses gets a warning naming key and value (a bad
 * trusted entry, or talk/hold without remote control, one more saying
 * why), and the module refuses to load.
 */

#define DEFAULT_EVENTS "keep-alive,check-sync,message-summary"
#define DEFAULT_DROP_UA "friendly-scanner,sipvicious,sipcli,sip-scan," \
	"VaxSIPUserAgent,iWar,sundayddr"

enum conf_type {
	T_BOOL,
	T_U32,
	T_RANGE,
	T_LOG,
	T_CHECK_SYNC,
	T_WATCH,
	T_TRUSTED,
	T_DROP_UA,
};

/* Read in this order: the checks after the loop need them all */
static const struct conf_key {
	const char *key;
	enum conf_type type;
	size_t off;                 /**< of the value in struct kar_conf */
	const char *def;
	uint32_t min, max;          /**< T_RANGE                         */
} conf_keys[] = {
	{"keepalive_responder_exclusive", T_BOOL,
	 offsetof(struct kar_conf, exclusive), "no", 0, 0},
	{"keepalive_responder_trusted", T_TRUSTED,
	 offsetof(struct kar_conf, trusted), "", 0, 0},
	{"keepalive_responder_remote_control", T_BOOL,
	 offsetof(struct kar_conf, remote_control), "no", 0, 0},
	{"keepalive_responder_check_sync", T_CHECK_SYNC,
	 offsetof(struct kar_conf, reregister), "event", 0, 0},
	{"keepalive_responder_rate", T_U32,
	 offsetof(struct kar_conf, rate), "50", 0, 0},
	{"keepalive_responder_drop_ua", T_DROP_UA,
	 offsetof(struct kar_conf, drop_ua), DEFAULT_DROP_UA, 0, 0},
	{"keepalive_responder_enum_limit", T_RANGE,
	 offsetof(struct kar_conf, enum_limit), "8", 0, KAR_ENUM_MAX},
	{"keepalive_responder_enum_ban", T_RANGE,
	 offsetof(struct kar_conf, enum_ban), "600", 1, KAR_BAN_MAX},
	{"keepalive_responder_log", T_LOG,
	 offsetof(struct kar_conf, log), "unhandled", 0, 0},
	{"keepalive_responder_sdp", T_BOOL,
	 offsetof(struct kar_conf, sdp), "yes", 0, 0},
	{"keepalive_responder_drain", T_BOOL,
	 offsetof(struct kar_conf, drain), "no", 0, 0},
	{"keepalive_responder_drain_retry", T_RANGE,
	 offsetof(struct kar_conf, drain_retry), "300", 1, KAR_RETRY_MAX},
	{"keepalive_responder_watch", T_WATCH,
	 offsetof(struct kar_conf, watch), "event", 0, 0},
	{"keepalive_responder_watch_factor", T_RANGE,
	 offsetof(struct kar_conf, watch_factor), "3",
	 KAR_WATCH_FACTOR_MIN, KAR_WATCH_FACTOR_MAX},
};


static int parse_key(struct kar_conf *c, const struct conf_key *k,
		     const char *val, kar_log_h *logh)
{
	void *dst = (char *)c + k->off;
	char bad[64] = "";
	int err;

	switch (k->type) {

	case T_BOOL:       return kar_conf_bool(dst, val);
	case T_U32:        return kar_conf_u32(dst, val);
	case T_RANGE:      return kar_conf_range(dst, val, k->min, k->max);
	case T_LOG:        return kar_conf_log(dst, val);
	case T_CHECK_SYNC: return kar_conf_check_sync(dst, val);
	case T_WATCH:      return kar_conf_watch(dst, val);
	case T_DROP_UA:
		return kar_uafilter_parse(dst, kar_conf_list(val));

	case T_TRUSTED:
		err = kar_acl_parse(dst, val, bad, sizeof(bad));
		if (err) {
			logh(HOST_WARN, "bad entry '%s' in"
			     " keepalive_responder_trusted\n", bad);
		}
		return err;

	default:
		return EINVAL;
	}
}


/* Unset: the default.  A value longer than buf refuses the load: cut,
   it would be another value. */
static int conf_value(const char **valp, const struct kar_confsrc *src,
		      const char *key, const char *def, char *buf, size_t sz)
{
	int err;

	err = src->get(key, buf, sz);
	if (err == ENOENT) {
		*valp = def;
		return 0;
	}
	if (err) {
		src->log(HOST_WARN, "%s: value too long or unreadable (%m)\n",
			 key, err);
		return err;
	}

	*valp = buf;

	return 0;
}


static int bad_value(const struct kar_confsrc *src, const char *key,
		     const char *val, int err)
{
	src->log(HOST_WARN, "bad value '%s' for %s\n", val, key);

	return err ? err : EINVAL;
}


static int load_events(struct kar_conf *c, const struct kar_confsrc *src,
		       char *buf, size_t sz)
{
	static const char key[] = "keepalive_responder_events";
	const char *val;
	size_t i;
	int err;

	err = conf_value(&val, src, key, DEFAULT_EVENTS, buf, sz);
	if (err)
		return err;

	err = kar_events_parse(&c->events, val);
	if (err)
		return bad_value(src, key, val, err);

	for (i = 0; i < c->events.n; i++) {

		enum kar_pkg pkg = kar_pkg_of(c->events.name[i]);

		/* Acting on talk/hold is remote control: it needs the
		   explicit switch, not just a package name in a list */
		if ((pkg == KAR_PKG_TALK || pkg == KAR_PKG_HOLD) &&
		    !c->remote_control) {
			src->log(HOST_WARN, "%s in %s needs"
				 " keepalive_responder_remote_control yes\n",
				 c->events.name[i], key);
			return bad_value(src, key, val, EINVAL);
		}
	}

	if (c->remote_control) {
		err  = kar_events_add(&c->events, "talk");
		err |= kar_events_add(&c->events, "hold");
		if (err)
			return bad_value(src, key, val, E2BIG);
	}

	for (i = 0; i < c->events.n; i++)
		c->pkg[i] = kar_pkg_of(c->events.name[i]);

	return 0;
}


/**
 * Read the module's configuration: every key, its default when unset
 *
 * @param c   Configuration (output; zeroed first)
 * @param src Where values come from, and where warnings go
 *
 * @return 0 if success, else the error that refuses the load (each
 *         logged, naming key and value)
 */
int kar_conf_load(struct kar_conf *c, const struct kar_confsrc *src)
{
	char buf[1024];
	const char *val;
	size_t i;
	int err;

	if (!c || !src || !src->get || !src->log)
		return EINVAL;

	memset(c, 0, sizeof(*c));

	for (i = 0; i < ARRAY_SIZE(conf_keys); i++) {

		const struct conf_key *k = &conf_keys[i];

		err = conf_value(&val, src, k->key, k->def, buf, sizeof(buf));
		if (err)
			return err;

		err = parse_key(c, k, val, src->log);
		if (err)
			return bad_value(src, k->key, val, err);
	}

	/* Remote control from anywhere would let anyone answer calls */
	if (c->remote_control && !c->trusted.n) {
		src->log(HOST_WARN, "keepalive_responder_remote_control needs"
			 " keepalive_responder_trusted\n");
		return EPERM;
	}

	/* A spoofed prober must not make the UAs hammer their registrar */
	if (c->watch == KAR_WATCH_MODE_REREGISTER && !c->trusted.n) {
		src->log(HOST_WARN, "keepalive_responder_watch reregister"
			 " needs keepalive_responder_trusted\n");
		return EPERM;
	}

	return load_events(c, src, buf, sizeof(buf));
}
