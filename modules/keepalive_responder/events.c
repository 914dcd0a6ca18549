/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file events.c  keepalive_responder -- event package lists
 *
 * The configured list of out-of-dialog event packages that the module
 * answers.  Kept as a small fixed array: it is read on every NOTIFY and
 * written only at load time.  Also the module's one comma-list parser
 * for config values (kar_list_apply()), and the message-summary check.
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
 * Strip white space (SP, HTAB) from both ends
 *
 * @param pl String to trim, in place
 */
void kar_trim(struct pl *pl)
{
	while (pl->l && is_space(pl->p[0])) {
		++pl->p;
		--pl->l;
	}
	while (pl->l && is_space(pl->p[pl->l - 1]))
		--pl->l;
}


/**
 * Call a handler for each item of a comma-separated list
 *
 * White space around items is ignored.  An empty string (or white space
 * only) is the empty list; an empty item is an error, a typo rather
 * than nothing.
 *
 * @param str   Comma-separated list
 * @param itemh Called with each item, trimmed; an error stops the list
 * @param arg   Handler argument
 *
 * @return 0 if success, EINVAL for an empty item, or the handler's error
 */
int kar_list_apply(const char *str, kar_item_h *itemh, void *arg)
{
	struct pl rest, item;
	int err;

	if (!str || !itemh)
		return EINVAL;

	pl_set_str(&rest, str);
	kar_trim(&rest);

	while (rest.l) {
		const char *comma = memchr(rest.p, ',', rest.l);

		item.p = rest.p;
		item.l = comma ? (size_t)(comma - rest.p) : rest.l;
		kar_trim(&item);

		if (!item.l)
			return EINVAL;

		err = itemh(&item, arg);
		if (err)
			return err;

		if (!comma)
			break;

		rest.l -= (size_t)(comma + 1 - rest.p);
		rest.p = comma + 1;

		/* "a," ends in an empty item */
		if (!rest.l)
			return EINVAL;
	}

	return 0;
}


static int event_item(const struct pl *item, void *arg)
{
	struct kar_events *ev = arg;
	size_t i;

	if (item->l >= KAR_EVENT_NAMEL)
		return EINVAL;

	for (i = 0; i < item->l; i++) {
		if (!is_token_char(item->p[i]))
			return EINVAL;
	}

	/* "other" names the counter of all unlisted packages */
	if (!pl_strcasecmp(item, "other"))
		return EINVAL;

	/* Duplicates would only waste a counter slot */
	if (kar_events_find(ev, item) >= 0)
		return 0;

	if (ev->n >= KAR_EVENTS_MAX)
		return E2BIG;

	(void)pl_strcpy(item, ev->name[ev->n++], KAR_EVENT_NAMEL);

	return 0;
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
	int err;

	if (!ev || !str)
		return EINVAL;

	memset(&tmp, 0, sizeof(tmp));

	err = kar_list_apply(str, event_item, &tmp);
	if (err)
		return err;

	*ev = tmp;

	return 0;
}


/**
 * Parse an Event header value (RFC 6665 8.2.1, RFC 3261 25.1)
 *
 *   Event = event-type *( SEMI event-param )
 *
 * The package must be a token right at the start (white space aside),
 * followed by the end or a parameter.  libre's sipevent_event_decode()
 * takes a token from anywhere in the value ("Event: ;keep-alive" would
 * be keep-alive), which is too lenient to answer 200 on.
 *
 * @param val    Header value
 * @param pkg    Package name (output)
 * @param params Parameters, from the first ';' (output, may be empty)
 *
 * @return 0 if success, EBADMSG if the value is not of that form
 */
int kar_event_parse(const struct pl *val, struct pl *pkg, struct pl *params)
{
	const char *p, *end;

	if (!val || !pkg || !params)
		return EINVAL;

	p = val->p;
	end = val->p + val->l;

	while (p < end && is_space(*p))
		++p;

	pkg->p = p;
	while (p < end && is_token_char(*p))
		++p;
	pkg->l = p - pkg->p;

	if (!pkg->l)
		return EBADMSG;

	while (p < end && is_space(*p))
		++p;

	if (p < end && *p != ';')
		return EBADMSG;

	params->p = p;
	params->l = end - p;

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


/*
 * message-summary bodies (RFC 3842 section 5.2)
 *
 *   Messages-Waiting: yes
 *   Message-Account: sip:alice@example.com
 *   Voice-Message: 2/8 (0/2)
 *
 *   <optional message headers after an empty line>
 */

/* Split at the first c into trimmed halves */
static int split(const struct pl *pl, char c, struct pl *a, struct pl *b)
{
	const char *at = memchr(pl->p, c, pl->l);

	if (!at)
		return EINVAL;

	a->p = pl->p;
	a->l = at - pl->p;
	b->p = at + 1;
	b->l = pl->l - a->l - 1;
	kar_trim(a);
	kar_trim(b);

	return 0;
}


/* Digits only, no sign, at most 9 of them (any count fits 32 bits) */
static bool count_ok(const struct pl *pl)
{
	size_t i;

	if (!pl->l || pl->l > 9)
		return false;

	for (i = 0; i < pl->l; i++) {
		if (pl->p[i] < '0' || pl->p[i] > '9')
			return false;
	}

	return true;
}


/* "new/old" with white space allowed around the numbers */
static bool pair_ok(const struct pl *pl)
{
	struct pl x, y;

	return !split(pl, '/', &x, &y) && count_ok(&x) && count_ok(&y);
}


/* newmsgs "/" oldmsgs [ "(" new-urgentmsgs "/" old-urgentmsgs ")" ] */
static bool summary_ok(const struct pl *val)
{
	struct pl v = *val, u;
	const char *lp;

	lp = memchr(v.p, '(', v.l);
	if (lp) {
		u.p = lp + 1;
		u.l = v.l - (u.p - v.p);
		kar_trim(&u);
		if (!u.l || u.p[u.l - 1] != ')')
			return false;
		--u.l;
		if (!pair_ok(&u))
			return false;

		v.l = lp - v.p;
	}

	kar_trim(&v);

	return pair_ok(&v);
}


/* One line; *status and *account: those lines were seen before */
static bool line_ok(const struct pl *line, bool *status, bool *account)
{
	struct pl name, val;

	if (split(line, ':', &name, &val) || !name.l)
		return false;

	/* The status line comes first and only once */
	if (!*status) {
		if (pl_strcasecmp(&name, "Messages-Waiting"))
			return false;

		if (pl_strcasecmp(&val, "yes") && pl_strcasecmp(&val, "no"))
			return false;

		*status = true;
		return true;
	}

	if (!pl_strcasecmp(&name, "Message-Account")) {
		if (!val.l || *account)
			return false;
		*account = true;
		return true;
	}

	/* Any other name is a message-context class, RFC 3458's or an
	   extension (allowed): its counts must be well-formed */
	return summary_ok(&val);
}


/**
 * Check that a message-summary body is well-formed
 *
 * Header names and yes/no are matched without regard to case, white
 * space around names, values and numbers is allowed, and lines may end
 * in CRLF or LF.  After an empty line come optional message headers,
 * which are not interpreted.  Nothing is kept: the body goes to baresip
 * as it came.
 *
 * @param body Body of the NOTIFY
 *
 * @return 0 if well-formed, EINVAL if malformed
 */
int kar_mwi_check(const struct pl *body)
{
	struct pl rest;
	bool status = false, account = false;

	if (!body)
		return EINVAL;

	rest = *body;

	while (rest.l) {
		struct pl line;
		const char *nl = memchr(rest.p, '\n', rest.l);

		line.p = rest.p;
		line.l = nl ? (size_t)(nl - rest.p) : rest.l;
		rest.p += line.l + (nl ? 1 : 0);
		rest.l -= line.l + (nl ? 1 : 0);

		if (line.l && line.p[line.l - 1] == '\r')
			--line.l;

		/* An empty line ends the summary */
		if (!line.l) {
			if (!status)
				continue;   /* leading empty lines */
			break;
		}

		if (memchr(line.p, '\0', line.l))
			return EINVAL;

		if (!line_ok(&line, &status, &account))
			return EINVAL;
	}

	return status ? 0 : EINVAL;
}


static const char *pkg_names[KAR_PKG_N] = {
	[KAR_PKG_KEEPALIVE]  = "keep-alive",
	[KAR_PKG_CHECK_SYNC] = "check-sync",
	[KAR_PKG_MWI]        = "message-summary",
	[KAR_PKG_TALK]       = "talk",
	[KAR_PKG_HOLD]       = "hold",
	[KAR_PKG_OTHER]      = NULL,
};


/**
 * What the module does for a package besides answering 200
 *
 * @param name Package name (as configured)
 *
 * @return The package's handling; KAR_PKG_OTHER for a plain 200
 */
enum kar_pkg kar_pkg_of(const char *name)
{
	size_t i;

	for (i = 0; name && i < KAR_PKG_OTHER; i++) {
		if (!str_casecmp(name, pkg_names[i]))
			return (enum kar_pkg)i;
	}

	return KAR_PKG_OTHER;
}


/**
 * Add a package to the list unless it is there already
 *
 * @param ev   Event package list
 * @param name Package name (a token)
 *
 * @return 0 if success, E2BIG if the list is full
 */
int kar_events_add(struct kar_events *ev, const char *name)
{
	struct pl pl;

	if (!ev || !name || !*name || strlen(name) >= KAR_EVENT_NAMEL)
		return EINVAL;

	pl_set_str(&pl, name);
	if (kar_events_find(ev, &pl) >= 0)
		return 0;

	if (ev->n >= KAR_EVENTS_MAX)
		return E2BIG;

	str_ncpy(ev->name[ev->n++], name, KAR_EVENT_NAMEL);

	return 0;
}
