/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file policy.c  keepalive_responder -- the decision table
 *
 * Pure: given a request as read at the door, the mode and the
 * configured packages, say whether the module answers it and with
 * what.  No baresip call is made here; whether a user part names a
 * local UA is asked through the policy's callback, which the module's
 * top file wires to host_ua_match(), baresip's own UA lookup.
 *
 * The decision table (docs/design.md):
 *
 *   request                        shared          exclusive
 *   OPTIONS, UA-targeted           pass            200
 *   OPTIONS, no user part          200             200
 *   OPTIONS, unknown user          pass            200
 *   NOTIFY in-dialog               pass            pass
 *   NOTIFY ood, accepted package   200             200
 *   NOTIFY ood, other package      489             489
 *   NOTIFY ood, no/bad Event       pass            400
 *   anything else                  pass            pass (405 at tail)
 *
 * While draining, every out-of-dialog OPTIONS and NOTIFY keep-alive gets
 * 503 + Retry-After instead, in either mode; other packages are decided
 * as without drain.
 *
 * The verdict also says whether stock baresip would have answered the
 * request with anything but 2xx, for the log.
 *
 * kar_origin_ok() applies baresip's own origin filter (filter_registrar,
 * 3.15 and later) to a request the module would answer: the core's
 * decision for one UA, asked through the host, for the UA the request
 * names, else for any UA.  Headers come from the request's view
 * (hdr.c), read by name: a namesake of Event or To is neither.
 */
#include <string.h>
#include <re.h>
#include "kar.h"


/**
 * Does baresip's origin filter let a request's source reach the
 * endpoint?  For the UA the request names, the core's decision for
 * that UA; for a request that names none, whether any UA's lets it
 * through.  Without UAs there is no registrar to keep to: yes.
 *
 * @param o   The host's lookups (NULL, or no check: no filter)
 * @param msg SIP request
 *
 * @return true if the source may have the module's answer
 */
bool kar_origin_ok(const struct kar_origin *o, const struct sip_msg *msg)
{
	const struct le *le;
	void *ua;

	if (!o || !o->check || !msg)
		return true;

	ua = o->named ? o->named(msg) : NULL;
	if (ua)
		return o->check(ua, msg);

	le = o->uas ? list_head(o->uas()) : NULL;
	if (!le)
		return true;

	for (; le; le = le->next) {
		if (o->check(le->data, msg))
			return true;
	}

	return false;
}


static void decide_options(struct kar_verdict *v,
			   const struct kar_policy *pol,
			   const struct kar_req *rq)
{
	bool ua = false;

	/* A probe of the device itself: answered here even where a
	   catch-all UA would make the core answer it */
	if (!pl_isset(&rq->msg->uri.user)) {
		v->reply = KAR_R_OPTIONS_OK;
	}
	else {
		ua = pol->uah && pol->uah(rq->msg, pol->arg);

		if (pol->exclusive)
			v->reply = KAR_R_OPTIONS_OK;
	}

	/* 1.0 answers 404 to what names no UA.  From 1.1 the module takes
	   it that a fallback account answers 200 (stock_fallback), which
	   holds only where baresip's lookup finds one: the log's label */
	v->stock_bad = !ua && !pol->stock_fallback;

	/* A dispatcher asks "may I send you calls?": not now.  A UA's
	   own 200 from the core would keep it in rotation. */
	if (pol->drain)
		v->reply = KAR_R_DRAIN;
}


static void decide_notify(struct kar_verdict *v,
			  const struct kar_policy *pol,
			  const struct kar_req *rq)
{
	const struct sip_hdr *hdr = rq->hdr[KAR_H_EVENT].first;

	/* Out of dialog, the core answers 481, 400 or 489: never 2xx */
	v->stock_bad = true;

	if (!hdr) {
		if (pol->exclusive)
			v->reply = KAR_R_NO_EVENT;
		return;
	}

	if (kar_event_parse(&hdr->val, &v->event, &v->params)) {
		v->event = pl_null;
		v->params = pl_null;
		if (pol->exclusive)
			v->reply = KAR_R_EVENT_SYNTAX;
		return;
	}

	v->has_pkg = true;
	v->pkg = kar_events_find(pol->events, &v->event);
	v->reply = v->pkg >= 0 ? KAR_R_NOTIFY_OK : KAR_R_BAD_EVENT;

	/* Configured or not, what the probe watch learns from */
	v->keepalive = !pl_strcasecmp(&v->event, "keep-alive");

	/* Only the liveness probe hears of the drain: MWI, check-sync
	   and talk/hold carry information the UA still wants */
	if (pol->drain && v->keepalive)
		v->reply = KAR_R_DRAIN;
}


/**
 * Decide what to do with one request
 *
 * @param v   Verdict (output)
 * @param pol Mode, packages and UA lookup
 * @param rq  SIP request, as read at the door
 */
void kar_policy_decide(struct kar_verdict *v, const struct kar_policy *pol,
		       const struct kar_req *rq)
{
	if (!v)
		return;

	memset(v, 0, sizeof(*v));
	v->meth = KAR_M_OTHER;
	v->reply = KAR_R_NONE;
	v->pkg = -1;

	if (!pol || !rq || !rq->msg || !rq->msg->req)
		return;

	v->meth = rq->meth;
	v->dialog = pl_isset(&rq->totag);

	/* What servers probe with: the rate limit counts these */
	v->probe = v->meth == KAR_M_OPTIONS ||
		(v->meth == KAR_M_NOTIFY && !v->dialog);

	/* Never take a request that belongs to a dialog: its owner
	   (sipsess, sipevent) knows the dialog, the module does not. */
	if (v->dialog)
		return;

	/* Without a Via an answer has nowhere to go: no answer.  (The
	   guard drops a request with no header of Via's id at all; one
	   whose only Via is a namesake is passed on to the stack.) */
	if (!rq->has_via)
		return;

	switch (v->meth) {

	case KAR_M_OPTIONS:
		v->keepalive = true;
		decide_options(v, pol, rq);
		break;

	case KAR_M_NOTIFY:
		decide_notify(v, pol, rq);
		break;

	default:
		break;
	}
}
