/**
 * @file events.c  keepalive_responder -- event package lists
 *
 * The configured list of out-of-dialog event packages that the module
 * answers.  Kept as a small fixed array: it is read on every NOTIFY and
 * written only at load time.
 */
#include <string.h>
#include <re.h>
#include "kar.h"


/* RFC 3261 token characters; event package names are tokens (RFC 6665) */
static bool is_token_char(char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;

	return strchr("-.!%*_+`'~", c) != NULL && c != '\0';
}


static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}


/**
 * Parse a comma-separated list of event package names
 *
 * @param ev  List to fill (replaced only on success)
 * @param str Comma-separated names; white space around names is ignored
 *
 * @return 0 if success, EINVAL for a bad name, E2BIG for too many names
 */
int kar_events_parse(struct kar_events *ev, const char *str)
{
	struct kar_events tmp;
	const char *p;

	if (!ev || !str)
		return EINVAL;

	memset(&tmp, 0, sizeof(tmp));

	for (p = str; *p; ) {
		const char *start, *end;
		size_t len, i;

		while (is_space(*p))
			++p;

		start = p;
		while (*p && *p != ',')
			++p;

		end = p;
		while (end > start && is_space(end[-1]))
			--end;

		len = end - start;

		/* An empty list is allowed, an empty item is not */
		if (!len) {
			if (*p || tmp.n)
				return EINVAL;
			break;
		}

		if (len >= KAR_EVENT_NAMEL)
			return EINVAL;

		for (i = 0; i < len; i++) {
			if (!is_token_char(start[i]))
				return EINVAL;
		}

		if (tmp.n >= KAR_EVENTS_MAX)
			return E2BIG;

		memcpy(tmp.name[tmp.n], start, len);
		tmp.name[tmp.n][len] = '\0';

		/* Duplicates would only waste a counter slot */
		for (i = 0; i < tmp.n; i++) {
			if (!str_casecmp(tmp.name[i], tmp.name[tmp.n]))
				break;
		}
		if (i == tmp.n)
			++tmp.n;

		if (*p == ',') {
			++p;
			if (!*p)
				return EINVAL;
		}
	}

	*ev = tmp;

	return 0;
}


/**
 * Find an event package in the list
 *
 * Package names are matched without regard to case: servers in the field
 * send "Keep-Alive" as well as "keep-alive", and no two registered
 * packages differ only in case.
 *
 * @param ev  Event package list
 * @param pkg Package name from the Event header
 *
 * @return Index in the list, or -1 if not found
 */
int kar_events_find(const struct kar_events *ev, const struct pl *pkg)
{
	size_t i;

	if (!ev || !pkg || !pkg->l)
		return -1;

	for (i = 0; i < ev->n; i++) {
		if (!pl_strcasecmp(pkg, ev->name[i]))
			return (int)i;
	}

	return -1;
}


/**
 * Print the list as a header value ("a, b, c")
 *
 * @param pf Print handler
 * @param ev Event package list
 *
 * @return 0 if success, otherwise errorcode
 */
int kar_events_print(struct re_printf *pf, const struct kar_events *ev)
{
	size_t i;
	int err = 0;

	if (!ev)
		return 0;

	for (i = 0; i < ev->n; i++)
		err |= re_hprintf(pf, "%s%s", i ? ", " : "", ev->name[i]);

	return err;
}
