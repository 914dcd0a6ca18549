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
