/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file keepalive_responder.c  Answer SIP keep-alive probes with 200 OK
 *
 * Servers probe endpoints with OPTIONS and out-of-dialog NOTIFY and
 * declare them dead unless the answer is 200.  Stock baresip rejects
 * most such probes.  This module hooks libre's listener chain in front
 * of baresip's core and answers what the stack would otherwise reject
 * (shared mode), or every probe (exclusive mode).
 *
 * This file holds the module's state, the listeners (requests at the
 * head and the tail of the chain, responses around libre's
 * transactions), baresip's events, the commands, and loading and
 * unloading.  The head listener reads each request once (hdr.c); the
 * view goes to the decision (policy.c), the guard, the rate limit, the
 * probe watch, the checks (validate.c), the actions and the answer
 * (reply.c).  The tail listener reads what reaches it again.  The
 * configuration is conf.c's, the wiring of the watch, the guard and the
 * capability SDP is wiring.c's.
 */
#include <string.h>
#include <re.h>
#include "api.h"
#include "kar.h"


enum {
	RATE_SLOTS = 4096,      /**< sources remembered by the limiter */
	BLOCK_SLOTS = 4096,     /**< sources remembered by the guard   */
};


static struct {
	struct kar_conf conf;
	struct kar_chain *chain;
	struct kar_replies *replies;
	struct kar_rate *rate;             /**< NULL: unlimited        */
	struct kar_policy pol;
	struct kar_actcfg act;
	struct kar_gate gate;              /**< enumeration guard      */
	struct kar_probes probes;          /**< probe watch            */
	struct kar_caps caps;              /**< OPTIONS capability SDP */
	struct kar_servers servers;        /**< never blocked, counted */
	struct kar_stats stats;
	struct kar_loglimit loglimit;
	bool drain;                        /**< set by the operator    */
	bool shutdown;                     /**< baresip is stopping    */
	bool cmds;
	bool events_reg;                   /**< event handlers set     */
} kar;


static const char *mode_name(void)
{
	return kar.pol.exclusive ? "exclusive" : "shared";
}


static const char *drain_name(void)
{
	if (!kar.pol.drain)
		return "off";

	return kar.shutdown && !kar.drain ? "on (shutting down)" : "on";
}


/* Probes see the effective state: the operator's, or the shutdown's */
static void drain_update(void)
{
	bool on = kar.drain || kar.shutdown;

	if (on == kar.pol.drain)
		return;

	kar.pol.drain = on;
	host_log(HOST_INFO, "drain %s\n", drain_name());
	host_event("drain", on ? "on" : "off");
}


/* Until the SIP stack goes away a dispatcher should hear 503, not 200
   and then silence; and the probes stopping now is no loss */
static void shutdown_handler(void)
{
	kar.shutdown = true;
	drain_update();

	kar_probes_shutdown(&kar.probes);
}


static void log_request(const struct sip_msg *msg,
			const struct kar_verdict *v, enum kar_reply reply)
{
	uint32_t suppressed = 0;
	uint16_t scode = 0;

	if (kar.conf.log == KAR_LOG_NONE)
		return;

	if (kar.conf.log == KAR_LOG_UNHANDLED && !v->stock_bad)
		return;

	if (!kar_loglimit_take(&kar.loglimit, tmr_jiffies(), &suppressed))
		return;

	if (suppressed) {
		host_log(HOST_INFO, "%u log lines suppressed\n", suppressed);
	}

	if (reply == KAR_R_NONE) {
		host_log(HOST_INFO, "%r %r from %J%s: passed on\n", &msg->met,
			 &msg->ruri, &msg->src,
			 v->stock_bad ? " (stock would reject)" : "");
		return;
	}

	kar_reply_status(reply, &scode, NULL);
	host_log(HOST_INFO, "%r %r from %J%s: answered %u\n", &msg->met,
		 &msg->ruri, &msg->src,
		 v->stock_bad ? " (stock would reject)" : "", scode);
}


static void answer(const struct kar_req *rq, const struct kar_verdict *v,
		   enum kar_reply reply, bool stateful)
{
	uint16_t scode;
	int err;

	if (reply == KAR_R_OPTIONS_OK)
		kar_caps_refresh(&kar.caps, kar.replies, &rq->msg->uri.user);

	err = kar_reply_send(kar.replies, host_sip(), rq, reply, stateful);
	if (err) {
		host_log(HOST_WARN, "reply to %r from %J failed (%m)\n",
			 &rq->msg->met, &rq->msg->src, err);
	}

	kar_reply_status(reply, &scode, NULL);
	kar_stats_count(&kar.stats, v, reply == KAR_R_DRAIN ? KAR_C_DRAINED :
			scode < 300 ? KAR_C_ANSWERED : KAR_C_REJECTED);
}


/* RFC 3261 8.2: a request the module would answer gets the error, if
   it has one, instead of the answer (validate.c) */
static enum kar_reply validated(const struct kar_req *rq,
				enum kar_reply reply, bool summary)
{
	enum kar_reply bad = kar_validate(rq, summary);

	return bad != KAR_R_NONE ? bad : reply;
}


/*
 * The endpoint's own servers (servers.c): every response is noted before
 * libre's transactions see it, forgotten if none of them matched it, and
 * taken as a server when baresip reports the registration it answered.
 */
static bool resp_first(const struct sip_msg *msg, void *arg)
{
	(void)arg;

	kar_servers_answer(&kar.servers, msg);

	return false;
}


static bool resp_stray(const struct sip_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;

	kar_servers_stray(&kar.servers);

	return false;
}


static void register_handler(const char *aor)
{
	const struct kar_server *v;
	uint64_t now = tmr_jiffies();

	if (kar_servers_confirm(&kar.servers, aor, now, &v)) {
		host_log(HOST_INFO, "own server %j (%s): registrar of %s\n",
			 &v->addr, sip_transp_name(v->tp), v->aor);
	}

	/* Blocked before it was known: it never should have been */
	if (v && kar_block_forget(kar.gate.block, &v->addr, now))
		host_log(HOST_INFO, "unblocked %j: own server\n", &v->addr);
}


/* The trusted list, and baresip's own origin filter */
static bool source_allowed(const struct sip_msg *msg)
{
	return kar_acl_match(&kar.conf.trusted, &msg->src) &&
		kar_origin_ok(host_origin(), msg);
}


/*
 * In front of baresip's core.  The request is read and decided first:
 * the verdict's method, probe and dialog are what the guard counts and
 * the rate limit takes.  Then scanners and floods are dropped before
 * anything is answered or acted on, whoever would answer; untrusted
 * sources are left to the stack, as if the module were not there; only
 * then is the verdict carried out.
 */
static bool head_handler(const struct sip_msg *msg, void *arg)
{
	struct kar_req rq;
	struct kar_verdict v;
	enum kar_reply reply;
	bool stateful, own, allowed = true;
	uint64_t now = tmr_jiffies();
	(void)arg;

	kar_req_read(&rq, msg, host_ua_owns, NULL);
	kar_policy_decide(&v, &kar.pol, &rq);
	own = kar_servers_match(&kar.servers, &msg->src, now);

	/* Dropped silently: an answer would only confirm a target */
	if (kar_gate_drop(&kar.gate, &rq, &v, own))
		return true;

	/* Neither a flood relayed by the endpoint's own server nor a
	   far end's in a call may silence what the server or the call
	   need */
	if (v.probe && kar.rate && !own &&
	    !(v.dialog && kar_guard_dialog(&kar.gate.cfg, &rq)) &&
	    !kar_rate_take(kar.rate, &msg->src, now)) {
		kar_stats_count(&kar.stats, &v, KAR_C_DROPPED_RATE);
		return true;
	}

	if (v.probe || v.reply != KAR_R_NONE)
		allowed = source_allowed(msg);

	kar_probes_feed(&kar.probes, &rq, &v, allowed);

	if (v.reply != KAR_R_NONE && !allowed) {
		kar_stats_count(&kar.stats, &v, KAR_C_UNTRUSTED);
		return false;
	}

	if (v.reply == KAR_R_NONE) {
		log_request(msg, &v, KAR_R_NONE);
		kar_stats_count(&kar.stats, &v, KAR_C_PASSED);
		return false;
	}

	reply = validated(&rq, v.reply, v.reply == KAR_R_NOTIFY_OK &&
			  kar.conf.pkg[v.pkg] == KAR_PKG_MWI);
	stateful = false;
	if (reply == KAR_R_NOTIFY_OK) {
		enum kar_pkg pkg = kar.conf.pkg[v.pkg];

		reply = kar_action_run(&kar.act, &kar.stats, pkg, &rq, &v);
		stateful = pkg != KAR_PKG_KEEPALIVE && pkg != KAR_PKG_OTHER;
	}

	log_request(msg, &v, reply);
	answer(&rq, &v, reply, stateful);

	return true;
}


/* Behind everything: what no listener handled */
static bool tail_handler(const struct sip_msg *msg, void *arg)
{
	struct kar_req rq;
	struct kar_verdict v;
	(void)arg;

	if (!kar_chain_keep_last(kar.chain))
		return false;

	/* libre answers a stray CANCEL with 481, which is right, and an
	   ACK gets no answer at all */
	if (kar_method_invite_txn(&msg->met))
		return false;

	/* Untrusted sources get the stack's answer, as everywhere */
	if (!source_allowed(msg))
		return false;

	/* What no listener took is read again, for its answer: the head
	   listener's view did not outlive its call */
	kar_req_read(&rq, msg, NULL, NULL);

	memset(&v, 0, sizeof(v));
	v.meth = rq.meth;
	v.pkg = -1;
	v.stock_bad = true;
	v.reply = kar.pol.exclusive ?
		validated(&rq, KAR_R_NOT_ALLOWED, false) : KAR_R_NONE;

	log_request(msg, &v, v.reply);

	if (v.reply == KAR_R_NONE)
		return false;

	(void)kar_reply_send(kar.replies, host_sip(), &rq, v.reply, false);

	/* The head listener counted it as passed */
	kar_stats_move(&kar.stats, v.meth, KAR_C_PASSED, KAR_C_REJECTED);

	return true;
}


/* A command's parameter string, if it has one */
static const char *cmd_prm(const void *arg)
{
	const struct cmd_arg *carg = arg;

	return carg ? carg->prm : NULL;
}


static int cmd_exclusive(struct re_printf *pf, void *arg)
{
	const char *prm = cmd_prm(arg);

	if (str_isset(prm)) {

		bool val;

		if (!str_casecmp(prm, "toggle")) {
			val = !kar.pol.exclusive;
		}
		else if (kar_conf_bool(&val, prm)) {
			(void)re_hprintf(pf, "usage: /kar_exclusive"
					 " [on|off|toggle]\n");
			return EINVAL;
		}

		kar.pol.exclusive = val;
		host_log(HOST_INFO, "mode %s\n", mode_name());
	}

	return re_hprintf(pf, "keepalive_responder mode: %s\n", mode_name());
}


static int cmd_stats(struct re_printf *pf, void *arg)
{
	const char *prm = cmd_prm(arg);
	struct kar_stats_view sv;

	sv.st = &kar.stats;
	sv.events = &kar.conf.events;
	sv.exclusive = kar.pol.exclusive;
	sv.drain = kar.pol.drain;
	sv.now = tmr_jiffies();
	sv.watch = kar.probes.w;
	sv.blocked = kar_block_count(kar.gate.block, sv.now);

	if (!str_isset(prm))
		return kar_stats_print(pf, &sv);

	if (!str_casecmp(prm, "json"))
		return kar_stats_json(pf, &sv);

	if (!str_casecmp(prm, "reset")) {
		kar_stats_reset(&kar.stats, sv.now);
		return re_hprintf(pf, "keepalive_responder: counters reset\n");
	}

	(void)re_hprintf(pf, "usage: /kar_stats [json|reset]\n");

	return EINVAL;
}


static int cmd_drain(struct re_printf *pf, void *arg)
{
	const char *prm = cmd_prm(arg);

	if (str_isset(prm)) {

		bool val;

		if (kar_conf_bool(&val, prm)) {
			(void)re_hprintf(pf, "usage: /kar_drain [on|off]\n");
			return EINVAL;
		}

		kar.drain = val;
		drain_update();
	}

	return re_hprintf(pf, "keepalive_responder drain: %s\n",
			  drain_name());
}


static int cmd_watch(struct re_printf *pf, void *arg)
{
	const char *prm = cmd_prm(arg);
	bool json = str_isset(prm) && !str_casecmp(prm, "json");

	if (str_isset(prm) && !json && str_casecmp(prm, "reset")) {
		(void)re_hprintf(pf, "usage: /kar_watch [json|reset]\n");
		return EINVAL;
	}

	if (!kar.probes.w) {
		return re_hprintf(pf, json ? "{\"watch\":\"off\"}\n" :
				  "keepalive_responder: probe watch off\n");
	}

	if (json)
		return kar_watch_json(pf, kar.probes.w, tmr_jiffies());

	if (str_isset(prm)) {
		kar_watch_reset(kar.probes.w);
		return re_hprintf(pf, "keepalive_responder: probers"
				  " forgotten\n");
	}

	return kar_watch_print(pf, kar.probes.w, tmr_jiffies());
}


static int cmd_servers(struct re_printf *pf, void *arg)
{
	const char *prm = cmd_prm(arg);

	if (!str_isset(prm))
		return kar_servers_print(pf, &kar.servers, &kar.conf.trusted,
					 tmr_jiffies());

	if (!str_casecmp(prm, "json"))
		return kar_servers_json(pf, &kar.servers, &kar.conf.trusted,
					tmr_jiffies());

	(void)re_hprintf(pf, "usage: /kar_servers [json]\n");

	return EINVAL;
}


static const struct cmd cmdv[] = {
	{"kar_exclusive", 0, CMD_PRM,
	 "keepalive_responder mode [on|off|toggle]", cmd_exclusive},
	{"kar_stats",     0, CMD_PRM,
	 "keepalive_responder counters [json|reset]", cmd_stats},
	{"kar_drain",     0, CMD_PRM,
	 "keepalive_responder drain: probes get 503 [on|off]", cmd_drain},
	{"kar_watch",     0, CMD_PRM,
	 "keepalive_responder probers [json|reset]", cmd_watch},
	{"kar_servers",   0, CMD_PRM,
	 "keepalive_responder own servers [json]", cmd_servers},
};


static int module_init(void)
{
	static const struct kar_confsrc src = {host_conf_str, host_log};
	struct sip *sip;
	int err;

	memset(&kar, 0, sizeof(kar));

	err = host_abi_check();
	if (err)
		return err;

	err = kar_conf_load(&kar.conf, &src);
	if (err)
		return err;

	kar.pol.exclusive = kar.conf.exclusive;
	kar.pol.events = &kar.conf.events;
	kar.pol.uah = host_ua_match;
	kar.pol.stock_fallback = KAR_BARESIP_MAJOR * 1000 + KAR_BARESIP_MINOR
		>= 1001;
	kar.act.reregister = kar.conf.reregister;
	kar.drain = kar.conf.drain;
	kar.caps.on = kar.conf.sdp;
	kar.caps.id = rand_u32();

	/* baresip 1.x to 3.x -m preloads modules before the SIP stack
	   exists */
	sip = host_sip();
	if (!sip) {
		host_log(HOST_WARN, "no SIP stack yet; load it with 'module'"
			 " in the config file, not with -m\n");
		return ENOENT;
	}

	err = kar_replies_alloc(&kar.replies, &kar.conf.events, rand_u64());
	if (err)
		return err;

	err = kar_replies_retry(kar.replies, kar.conf.drain_retry);
	if (err)
		return err;

	/* No event at start: nobody is listening yet */
	kar.pol.drain = kar.drain;

	if (kar.conf.rate) {
		err = kar_rate_alloc(&kar.rate, kar.conf.rate, RATE_SLOTS,
				     rand_u64());
		if (err)
			return err;
	}

	err = kar_probes_init(&kar.probes, kar.conf.watch,
			      kar.conf.watch_factor, &kar.stats);
	if (err)
		return err;

	err = kar_gate_init(&kar.gate, &kar.conf, BLOCK_SLOTS, &kar.stats,
			    &kar.loglimit);
	if (err)
		return err;

	err = kar_chain_attach(&kar.chain, sip, head_handler, tail_handler,
			       NULL);
	if (err)
		return err;

	if (!kar_chain_hooked(kar.chain)) {
		host_log(HOST_WARN, "libre's listener"
			 " list is not laid out as expected; staying at the"
			 " end of the chain, where baresip's core answers"
			 " OPTIONS and NOTIFY first\n");
	}

	err = kar_chain_responses(kar.chain, sip, resp_first, resp_stray,
				  NULL);
	if (err == ENOTSUP) {
		host_log(HOST_WARN, "libre's listener list is not laid out"
			 " as expected; own servers are not learnt, only"
			 " trusted sources are exempt from the guard\n");
	}
	else if (err) {
		return err;
	}

	err = cmd_register(baresip_commands(), cmdv, ARRAY_SIZE(cmdv));
	if (err)
		return err;
	kar.cmds = true;

	err = host_events_register(shutdown_handler, register_handler);
	if (err)
		return err;
	kar.events_reg = true;

	kar_stats_reset(&kar.stats, tmr_jiffies());

	host_log(HOST_INFO, "for baresip %s; %s mode,"
		 " events %H, rate %u/s, enum limit %u (ban %u s),"
		 " %zu trusted, remote control %s,"
		 " log %s, drain %s (retry %u s), sdp %s, watch %s"
		 " (factor %u)\n", host_built_for(),
		 mode_name(), kar_events_print, &kar.conf.events,
		 kar.conf.rate, kar.conf.enum_limit, kar.conf.enum_ban,
		 kar.conf.trusted.n, kar.conf.remote_control ? "on" : "off",
		 kar_log_name(kar.conf.log), drain_name(),
		 kar.conf.drain_retry, kar.caps.on ? "on" : "off",
		 kar_watch_mode_name(kar.conf.watch), kar.conf.watch_factor);

	return 0;
}


/* Also called when module_init() failed, and at shutdown after baresip
   has freed the SIP stack (and with it the listeners) */
static int module_close(void)
{
	if (kar.events_reg)
		host_events_unregister();

	/* baresip keeps a pointer to cmdv */
	if (kar.cmds)
		cmd_unregister(baresip_commands(), cmdv);

	kar.chain = mem_deref(kar.chain);
	kar.replies = mem_deref(kar.replies);
	kar_caps_close(&kar.caps);
	kar.rate = mem_deref(kar.rate);
	kar_gate_close(&kar.gate);
	kar_probes_close(&kar.probes);
	kar.cmds = false;
	kar.events_reg = false;

	return 0;
}


/* The build hides every other symbol: the descriptor baresip looks up
   stays visible */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((visibility("default")))
#endif
EXPORT_SYM const struct mod_export DECL_EXPORTS(keepalive_responder) = {
	"keepalive_responder",
	"application",
	module_init,
	module_close
};
