/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file conf.c  keepalive_responder -- configuration values
 *
 * Strict parsers for the module's config values: a value that is not
 * understood is an error, never a guess (the module then refuses to load).
 */
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
