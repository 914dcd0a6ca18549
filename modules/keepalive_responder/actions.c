/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file actions.c  keepalive_responder -- what accepted packages do
 *
 * Out-of-dialog NOTIFYs of an accepted package are answered 200; some
 * packages also mean something (docs/events.md).  This file turns a
 * package into the action and the answer that follows from it; the
 * actions themselves are baresip calls in host.c.
 */
#include <re.h>
#include "kar.h"


static void log_check_sync(const struct sip_msg *msg,
			   const struct pl *params, unsigned n)
{
	struct pl reboot;

	/* reboot=true asks the device to restart; reported, never done */
	if (!msg_param_decode(params, "reboot", &reboot) &&
	    !pl_strcasecmp(&reboot, "true")) {
		host_log(HOST_INFO, "[check-sync] from %J reboot=true"
			 " (reported only, not acted on)\n", &msg->src);
	}
	else {
		host_log(HOST_INFO, "[check-sync] from %J%r\n", &msg->src,
			 params);
	}

	if (n) {
		host_log(HOST_INFO, "[check-sync] %u UAs re-registering\n", n);
	}
}


static enum kar_reply check_sync(const struct kar_actcfg *cfg,
				 struct kar_stats *st,
				 const struct sip_msg *msg,
				 const struct pl *params)
{
	unsigned n = 0;

	kar_stats_action(st, KAR_A_CHECK_SYNC);

	if (cfg->reregister) {
		n = host_reregister_all();
		kar_stats_action(st, KAR_A_REREGISTER);
	}

	(void)host_check_sync(host_ua_for(&msg->uri.user), params);
	log_check_sync(msg, params, n);

	return KAR_R_NOTIFY_OK;
}


static enum kar_reply mwi(struct kar_stats *st, const struct kar_req *rq)
{
	const struct sip_msg *msg = rq->msg;
	struct pl body;
	struct ua *ua;

	kar_validate_body(&body, rq);

	if (kar_mwi_check(&body)) {
		kar_stats_action(st, KAR_A_MWI_BAD);
		return KAR_R_BAD_SUMMARY;
	}

	ua = host_ua_for(&msg->uri.user);
	if (ua) {
		host_mwi(ua, &body);
		kar_stats_action(st, KAR_A_MWI);
	}

	return KAR_R_NOTIFY_OK;
}


static enum kar_reply call_action(struct kar_stats *st,
				  const struct sip_msg *msg, bool talk)
{
	struct ua *ua = host_ua_for(&msg->uri.user);
	int err;

	err = talk ? host_call_talk(ua) : host_call_hold(ua);
	if (err == ENOENT) {
		kar_stats_action(st, KAR_A_NO_CALL);
		return KAR_R_NO_CALL;
	}
	if (err) {
		host_log(HOST_WARN, "%s from %J failed (%m)\n",
			 talk ? "talk" : "hold", &msg->src, err);
		return KAR_R_FAILED;
	}

	kar_stats_action(st, talk ? KAR_A_TALK : KAR_A_HOLD);
	host_log(HOST_INFO, "remote %s from %J\n",
		 talk ? "talk" : "hold", &msg->src);

	return KAR_R_NOTIFY_OK;
}


/**
 * Carry out what an accepted package means
 *
 * @param cfg Action settings
 * @param st  Counters
 * @param pkg The package's handling
 * @param rq  The NOTIFY, as read at the door
 * @param v   Its verdict (the Event's parameters)
 *
 * @return The answer to send
 */
enum kar_reply kar_action_run(const struct kar_actcfg *cfg,
			      struct kar_stats *st, enum kar_pkg pkg,
			      const struct kar_req *rq,
			      const struct kar_verdict *v)
{
	switch (pkg) {

	case KAR_PKG_CHECK_SYNC:
		return check_sync(cfg, st, rq->msg, &v->params);

	case KAR_PKG_MWI:
		return mwi(st, rq);

	/* Accepted only with remote control on (checked at load time) */
	case KAR_PKG_TALK:
		return call_action(st, rq->msg, true);

	case KAR_PKG_HOLD:
		return call_action(st, rq->msg, false);

	default:
		return KAR_R_NOTIFY_OK;
	}
}
