/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file stats.c  keepalive_responder -- counters
 *
 * Every request the module's listener sees is counted exactly once, per
 * method class and outcome; NOTIFYs naming a package are also counted per
 * package.  Plain counters: the SIP stack runs in one thread.
 */
#include <string.h>
#include <re.h>
#include "kar.h"


static const char *counter_names[KAR_C_N] = {
	"answered", "drained", "passed", "rejected",
	"dropped-rate", "dropped-scanner", "untrusted",
};


static const char *action_names[KAR_A_N] = {
	"mwi", "mwi-malformed", "check-sync", "reregister",
	"talk", "hold", "no-call",
};


void kar_stats_reset(struct kar_stats *st, uint64_t now)
{
	if (!st)
		return;

	memset(st, 0, sizeof(*st));
	st->since = now;
}


/**
 * Count one request
 *
 * @param st Counters
 * @param v  Verdict on the request (method class and package)
 * @param c  Outcome
 */
void kar_stats_count(struct kar_stats *st, const struct kar_verdict *v,
		     enum kar_counter c)
{
	if (!st || !v || (size_t)v->meth >= KAR_M_N || (size_t)c >= KAR_C_N)
		return;

	++st->c[v->meth][c];

	if (v->has_pkg) {
		size_t i = v->pkg >= 0 && v->pkg < KAR_EVENTS_MAX ?
			(size_t)v->pkg : KAR_EVENTS_MAX;
		++st->pkg[i];
	}
}


/**
 * Count one action taken for an event package
 *
 * @param st Counters
 * @param a  Action
 */
void kar_stats_action(struct kar_stats *st, enum kar_action a)
{
	if (!st || (size_t)a >= KAR_A_N)
		return;

	++st->act[a];
}


/**
 * Re-file a request counted earlier (the tail listener answers what the
 * head listener had passed on)
 *
 * @param st   Counters
 * @param meth Method class
 * @param from Outcome it was counted as
 * @param to   Outcome it turned out to be
 */
void kar_stats_move(struct kar_stats *st, enum kar_method meth,
		    enum kar_counter from, enum kar_counter to)
{
	if (!st || (size_t)meth >= KAR_M_N || (size_t)from >= KAR_C_N ||
	    (size_t)to >= KAR_C_N)
		return;

	if (st->c[meth][from])
		--st->c[meth][from];

	++st->c[meth][to];
}


static uint64_t uptime(const struct kar_stats_view *sv)
{
	return sv->now > sv->st->since ? (sv->now - sv->st->since) / 1000 : 0;
}


/**
 * Print the counters as text
 *
 * @param pf Print handler
 * @param sv Counters and context
 *
 * @return 0 if success, otherwise errorcode
 */
int kar_stats_print(struct re_printf *pf, const struct kar_stats_view *sv)
{
	size_t m, c;
	int err;

	if (!sv || !sv->st || !sv->events)
		return EINVAL;

	err = re_hprintf(pf, "keepalive_responder: mode %s, drain %s,"
			 " uptime %llu s, blocked %u\n",
			 sv->exclusive ? "exclusive" : "shared",
			 sv->drain ? "on" : "off",
			 (unsigned long long)uptime(sv), sv->blocked);

	err |= re_hprintf(pf, "%-8s", "");
	for (c = 0; c < KAR_C_N; c++)
		err |= re_hprintf(pf, " %15s", counter_names[c]);
	err |= re_hprintf(pf, "\n");

	for (m = 0; m < KAR_M_N; m++) {
		err |= re_hprintf(pf, "%-8s", kar_method_name(m));
		for (c = 0; c < KAR_C_N; c++)
			err |= re_hprintf(pf, " %15llu",
					  (unsigned long long)sv->st->c[m][c]);
		err |= re_hprintf(pf, "\n");
	}

	err |= re_hprintf(pf, "event packages:\n");
	for (m = 0; m < sv->events->n; m++)
		err |= re_hprintf(pf, "  %-24s %llu\n", sv->events->name[m],
				  (unsigned long long)sv->st->pkg[m]);
	err |= re_hprintf(pf, "  %-24s %llu\n", "other",
			  (unsigned long long)sv->st->pkg[KAR_EVENTS_MAX]);

	err |= re_hprintf(pf, "actions:\n");
	for (m = 0; m < KAR_A_N; m++)
		err |= re_hprintf(pf, "  %-24s %llu\n", action_names[m],
				  (unsigned long long)sv->st->act[m]);

	return err;
}


/* A new object under key: o holds it, the caller fills it */
static int object_add(struct odict **childp, struct odict *o,
		      const char *key)
{
	struct odict *child;
	int err;

	err = odict_alloc(&child, 8);
	if (err)
		return err;

	err = odict_entry_add(o, key, ODICT_OBJECT, child);
	mem_deref(child);
	if (err)
		return err;

	*childp = child;

	return 0;
}


static int counter_add(struct odict *o, const char *key, uint64_t n)
{
	return odict_entry_add(o, key, ODICT_INT, (int64_t)n);
}


/* In the order of the text form: odict keeps insertion order, and
   json_encode_odict() writes the entries in it */
static int stats_odict(struct odict *o, const struct kar_stats_view *sv)
{
	struct odict *obj, *meth;
	size_t m, c;
	int err;

	err  = odict_entry_add(o, "mode", ODICT_STRING,
			       sv->exclusive ? "exclusive" : "shared");
	err |= odict_entry_add(o, "drain", ODICT_BOOL, sv->drain);
	err |= counter_add(o, "uptime", uptime(sv));
	err |= counter_add(o, "blocked", sv->blocked);
	if (err)
		return err;

	err = object_add(&obj, o, "methods");
	for (m = 0; m < KAR_M_N && !err; m++) {

		err = object_add(&meth, obj, kar_method_name(m));
		for (c = 0; c < KAR_C_N && !err; c++)
			err = counter_add(meth, counter_names[c],
					  sv->st->c[m][c]);
	}
	if (err)
		return err;

	err = object_add(&obj, o, "events");
	for (m = 0; m < sv->events->n && !err; m++)
		err = counter_add(obj, sv->events->name[m], sv->st->pkg[m]);
	if (!err)
		err = counter_add(obj, "other", sv->st->pkg[KAR_EVENTS_MAX]);
	if (err)
		return err;

	err = object_add(&obj, o, "actions");
	for (m = 0; m < KAR_A_N && !err; m++)
		err = counter_add(obj, action_names[m], sv->st->act[m]);

	return err;
}


/**
 * Print the counters as one JSON object, on one line
 *
 * @param pf Print handler
 * @param sv Counters and context
 *
 * @return 0 if success, otherwise errorcode
 */
int kar_stats_json(struct re_printf *pf, const struct kar_stats_view *sv)
{
	struct odict *o;
	int err;

	if (!sv || !sv->st || !sv->events)
		return EINVAL;

	err = odict_alloc(&o, 8);
	if (err)
		return err;

	err = stats_odict(o, sv);
	if (err)
		goto out;

	err = re_hprintf(pf, "%H\n", json_encode_odict, o);

 out:
	mem_deref(o);

	return err;
}
