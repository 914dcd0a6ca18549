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
 * This file holds the configuration, the commands, the lifecycle and the
 * two listener handlers; the decision itself is in policy.c.
 *
 * Configuration (baresip config file; see README.md):
 *
 \verbatim
  keepalive_responder_exclusive       no
  keepalive_responder_events          keep-alive,check-sync,message-summary
  keepalive_responder_trusted         (empty: any source)
  keepalive_responder_remote_control  no
  keepalive_responder_check_sync      event
  keepalive_responder_rate            50
  keepalive_responder_drop_ua         friendly-scanner,sipvicious,...
  keepalive_responder_log             unhandled
  keepalive_responder_sdp             yes
  keepalive_responder_drain           no
  keepalive_responder_drain_retry     300
 \endverbatim
 */
#include <string.h>
#include <re.h>
#include "kar.h"


#define DEFAULT_EVENTS "keep-alive,check-sync,message-summary"
#define DEFAULT_DROP_UA "friendly-scanner,sipvicious,sipcli,sip-scan," \
	"VaxSIPUserAgent,iWar,sundayddr"

enum {
	DEFAULT_RATE = 50,
	RATE_SLOTS   = 4096,    /**< sources remembered by the limiter */
};


static struct {
	struct kar_chain *chain;
	struct kar_replies *replies;
	struct kar_rate *rate;             /**< NULL: unlimited        */
	struct kar_events events;
	enum kar_pkg pkg[KAR_EVENTS_MAX];  /**< handling per package   */
	struct kar_policy pol;
	struct kar_actcfg act;
	struct kar_acl trusted;
	struct kar_uafilter drop_ua;
	struct kar_stats stats;
	struct kar_loglimit loglimit;
	enum kar_log log;
	uint32_t rate_per_s;
	uint32_t drain_retry;              /**< Retry-After, seconds   */
	bool drain;                        /**< set by the operator    */
	bool shutdown;                     /**< baresip is stopping    */
	bool remote_control;
	bool cmds;
	struct {                           /**< OPTIONS capability SDP */
		bool on;
		struct kar_sdp *sdp;
		struct host_caps key;      /**< what it was built from  */
		bool built;
		uint64_t id;               /**< o= session id           */
		uint32_t version;          /**< o= version: rebuilds    */
	} caps;
	bool shutdown_reg;                  /**< shutdown handler set   */
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
	host_log(HOST_INFO, "keepalive_responder: drain %s\n", drain_name());
	host_drain_event(on);
}


/* Until the SIP stack goes away a dispatcher should hear 503, not 200
   and then silence */
static void shutdown_handler(void)
{
	kar.shutdown = true;
	drain_update();
}


static void log_request(const struct sip_msg *msg,
			const struct kar_verdict *v, enum kar_reply reply)
{
	uint32_t suppressed = 0;
	uint16_t scode = 0;

	if (kar.log == KAR_LOG_NONE)
		return;

	if (kar.log == KAR_LOG_UNHANDLED && !v->stock_bad)
		return;

	if (!kar_loglimit_take(&kar.loglimit, tmr_jiffies(), &suppressed))
		return;

	if (suppressed) {
		host_log(HOST_INFO, "keepalive_responder: %u log lines"
			 " suppressed\n", suppressed);
	}

	if (reply == KAR_R_NONE) {
		host_log(HOST_INFO, "keepalive_responder: %r %r from %J%s:"
			 " passed on\n", &msg->met, &msg->ruri, &msg->src,
			 v->stock_bad ? " (stock would reject)" : "");
		return;
	}

	kar_reply_status(reply, &scode, NULL);
	host_log(HOST_INFO, "keepalive_responder: %r %r from %J%s:"
		 " answered %u\n", &msg->met, &msg->ruri, &msg->src,
		 v->stock_bad ? " (stock would reject)" : "", scode);
}


/*
 * Rebuild the capability SDP when what it describes has changed (a
 * codec module loaded or unloaded, another account's lists): a cheap
 * fingerprint per OPTIONS, a rebuild only on a change.  A failed build
 * leaves answers without a body until the next change.
 */
static void caps_refresh(const struct sip_msg *msg)
{
	struct host_caps key;
	struct kar_sdp *sdp = NULL;
	int err;

	if (!kar.caps.on)
		return;

	host_caps_key(&key, &msg->uri.user);
	if (kar.caps.built && !memcmp(&key, &kar.caps.key, sizeof(key)))
		return;

	memcpy(&kar.caps.key, &key, sizeof(key));
	kar.caps.built = true;

	err = host_caps_sdp(&sdp, &msg->uri.user, kar.caps.id,
			    ++kar.caps.version);
	if (err) {
		host_log(HOST_WARN, "keepalive_responder: capability SDP"
			 " failed (%m); OPTIONS answers carry none\n", err);
	}

	kar_replies_sdp(kar.replies, sdp);
	mem_deref(kar.caps.sdp);
	kar.caps.sdp = sdp;
}


static void answer(const struct sip_msg *msg, const struct kar_verdict *v,
		   enum kar_reply reply, bool stateful)
{
	uint16_t scode;
	int err;

	if (reply == KAR_R_OPTIONS_OK)
		caps_refresh(msg);

	err = kar_reply_send(kar.replies, host_sip(), msg, reply, stateful);
	if (err) {
		host_log(HOST_WARN, "keepalive_responder: reply to %r"
			 " from %J failed (%m)\n", &msg->met, &msg->src, err);
	}

	kar_reply_status(reply, &scode, NULL);
	kar_stats_count(&kar.stats, v, reply == KAR_R_DRAIN ? KAR_C_DRAINED :
			scode < 300 ? KAR_C_ANSWERED : KAR_C_REJECTED);
}


/* RFC 3261 8.2: a request the module would answer gets the error, if
   it has one, instead of the answer (validate.c) */
static enum kar_reply validated(const struct sip_msg *msg,
				enum kar_reply reply, bool summary)
{
	enum kar_reply bad = kar_validate(msg, summary);

	return bad != KAR_R_NONE ? bad : reply;
}


/*
 * In front of baresip's core.  Order matters: scanners and floods are
 * dropped before anything else is spent on them, whoever would answer;
 * untrusted sources are left to the stack, as if the module were not
 * there; only then does the decision table apply.
 */
static bool head_handler(const struct sip_msg *msg, void *arg)
{
	struct kar_verdict v;
	enum kar_reply reply;
	bool stateful;
	(void)arg;

	kar_policy_decide(&v, &kar.pol, msg);

	/* Dropped silently: an answer would only confirm a target.  No
	   SIP client sends a request without a Via (RFC 3261 8.1.1.7);
	   libre would answer it to 0.0.0.0:5060, a port of this host. */
	if (!pl_isset(&msg->via.sentby) ||
	    kar_uafilter_match(&kar.drop_ua, msg)) {
		kar_stats_count(&kar.stats, &v, KAR_C_DROPPED_SCANNER);
		return true;
	}

	if (v.probe && kar.rate &&
	    !kar_rate_take(kar.rate, &msg->src, tmr_jiffies())) {
		kar_stats_count(&kar.stats, &v, KAR_C_DROPPED_RATE);
		return true;
	}

	if (v.reply != KAR_R_NONE && !kar_acl_match(&kar.trusted, &msg->src)) {
		kar_stats_count(&kar.stats, &v, KAR_C_UNTRUSTED);
		return false;
	}

	if (v.reply == KAR_R_NONE) {
		log_request(msg, &v, KAR_R_NONE);
		kar_stats_count(&kar.stats, &v, KAR_C_PASSED);
		return false;
	}

	reply = validated(msg, v.reply, v.reply == KAR_R_NOTIFY_OK &&
			  kar.pkg[v.pkg] == KAR_PKG_MWI);
	stateful = false;
	if (reply == KAR_R_NOTIFY_OK) {
		enum kar_pkg pkg = kar.pkg[v.pkg];

		reply = kar_action_run(&kar.act, &kar.stats, pkg, msg);
		stateful = pkg != KAR_PKG_KEEPALIVE && pkg != KAR_PKG_OTHER;
	}

	log_request(msg, &v, reply);
	answer(msg, &v, reply, stateful);

	return true;
}


/* Behind everything: what no listener handled */
static bool tail_handler(const struct sip_msg *msg, void *arg)
{
	struct kar_verdict v;
	(void)arg;

	if (!kar_chain_keep_last(kar.chain))
		return false;

	/* libre answers a stray CANCEL with 481, which is right, and an
	   ACK gets no answer at all */
	if (!pl_strcmp(&msg->met, "ACK") || !pl_strcmp(&msg->met, "CANCEL"))
		return false;

	/* Untrusted sources get the stack's answer, as everywhere */
	if (!kar_acl_match(&kar.trusted, &msg->src))
		return false;

	memset(&v, 0, sizeof(v));
	v.meth = kar_method_of(&msg->met);
	v.pkg = -1;
	v.stock_bad = true;
	v.reply = kar.pol.exclusive ?
		validated(msg, KAR_R_NOT_ALLOWED, false) : KAR_R_NONE;

	log_request(msg, &v, v.reply);

	if (v.reply == KAR_R_NONE)
		return false;

	(void)kar_reply_send(kar.replies, host_sip(), msg, v.reply, false);

	/* The head listener counted it as passed */
	kar_stats_move(&kar.stats, v.meth, KAR_C_PASSED, KAR_C_REJECTED);

	return true;
}


static int cmd_exclusive(struct re_printf *pf, const char *prm)
{
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
		host_log(HOST_INFO, "keepalive_responder: mode %s\n",
			 mode_name());
	}

	return re_hprintf(pf, "keepalive_responder mode: %s\n", mode_name());
}


static int cmd_stats(struct re_printf *pf, const char *prm)
{
	struct kar_stats_view sv;

	sv.st = &kar.stats;
	sv.events = &kar.events;
	sv.exclusive = kar.pol.exclusive;
	sv.drain = kar.pol.drain;
	sv.now = tmr_jiffies();

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


static int cmd_drain(struct re_printf *pf, const char *prm)
{
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


static const struct kar_cmds cmds = {
	cmd_exclusive,
	cmd_stats,
	cmd_drain,
};


/*
 * Read one config value.  Unset keeps the default; a value that cannot
 * be used refuses the load, naming key and value.
 */
static int conf_value(const char *key, char *buf, size_t sz, bool *set)
{
	int err;

	*set = false;

	err = host_conf_str(key, buf, sz);
	if (err == ENOENT)
		return 0;
	if (err) {
		host_log(HOST_WARN, "keepalive_responder: %s: value too long"
			 " or unreadable (%m)\n", key, err);
		return err;
	}

	*set = true;

	return 0;
}


static int bad_value(const char *key, const char *val, int err)
{
	host_log(HOST_WARN, "keepalive_responder: bad value '%s' for %s\n",
		 val, key);

	return err ? err : EINVAL;
}


static int load_events(void)
{
	char buf[1024] = "";
	bool set;
	size_t i;
	int err;

	err = conf_value("keepalive_responder_events", buf, sizeof(buf),
			 &set);
	if (err)
		return err;

	err = kar_events_parse(&kar.events, set ? buf : DEFAULT_EVENTS);
	if (err)
		return bad_value("keepalive_responder_events", buf, err);

	for (i = 0; i < kar.events.n; i++) {

		enum kar_pkg pkg = kar_pkg_of(kar.events.name[i]);

		/* Acting on talk/hold is remote control: it needs the
		   explicit switch, not just a package name in a list */
		if ((pkg == KAR_PKG_TALK || pkg == KAR_PKG_HOLD) &&
		    !kar.remote_control) {
			host_log(HOST_WARN, "keepalive_responder: %s in"
				 " keepalive_responder_events needs"
				 " keepalive_responder_remote_control yes\n",
				 kar.events.name[i]);
			return bad_value("keepalive_responder_events", buf,
					 EINVAL);
		}
	}

	if (kar.remote_control) {
		err  = kar_events_add(&kar.events, "talk");
		err |= kar_events_add(&kar.events, "hold");
		if (err)
			return bad_value("keepalive_responder_events", buf,
					 E2BIG);
	}

	for (i = 0; i < kar.events.n; i++)
		kar.pkg[i] = kar_pkg_of(kar.events.name[i]);

	return 0;
}


static int load_config(void)
{
	char buf[1024] = "", bad[64] = "";
	bool set;
	int err;

	err = conf_value("keepalive_responder_exclusive", buf, sizeof(buf),
			 &set);
	if (err)
		return err;
	if (set && kar_conf_bool(&kar.pol.exclusive, buf))
		return bad_value("keepalive_responder_exclusive", buf, 0);

	err = conf_value("keepalive_responder_trusted", buf, sizeof(buf),
			 &set);
	if (err)
		return err;
	if (set && kar_acl_parse(&kar.trusted, buf, bad, sizeof(bad))) {
		host_log(HOST_WARN, "keepalive_responder: bad entry '%s' in"
			 " keepalive_responder_trusted\n", bad);
		return bad_value("keepalive_responder_trusted", buf, 0);
	}

	err = conf_value("keepalive_responder_remote_control", buf,
			 sizeof(buf), &set);
	if (err)
		return err;
	if (set && kar_conf_bool(&kar.remote_control, buf))
		return bad_value("keepalive_responder_remote_control", buf,
				 0);

	/* Remote control from anywhere would let anyone answer calls */
	if (kar.remote_control && !kar.trusted.n) {
		host_log(HOST_WARN, "keepalive_responder:"
			 " keepalive_responder_remote_control needs"
			 " keepalive_responder_trusted\n");
		return EPERM;
	}

	err = load_events();
	if (err)
		return err;

	err = conf_value("keepalive_responder_check_sync", buf, sizeof(buf),
			 &set);
	if (err)
		return err;
	if (set && kar_conf_check_sync(&kar.act.reregister, buf))
		return bad_value("keepalive_responder_check_sync", buf, 0);

	kar.rate_per_s = DEFAULT_RATE;
	err = conf_value("keepalive_responder_rate", buf, sizeof(buf), &set);
	if (err)
		return err;
	if (set && kar_conf_u32(&kar.rate_per_s, buf))
		return bad_value("keepalive_responder_rate", buf, 0);

	err = conf_value("keepalive_responder_drop_ua", buf, sizeof(buf),
			 &set);
	if (err)
		return err;
	err = kar_uafilter_parse(&kar.drop_ua, set ? buf : DEFAULT_DROP_UA);
	if (err)
		return bad_value("keepalive_responder_drop_ua", buf, err);

	err = conf_value("keepalive_responder_log", buf, sizeof(buf), &set);
	if (err)
		return err;
	if (set && kar_conf_log(&kar.log, buf))
		return bad_value("keepalive_responder_log", buf, 0);

	err = conf_value("keepalive_responder_sdp", buf, sizeof(buf), &set);
	if (err)
		return err;
	if (set && kar_conf_bool(&kar.caps.on, buf))
		return bad_value("keepalive_responder_sdp", buf, 0);
	err = conf_value("keepalive_responder_drain", buf, sizeof(buf), &set);
	if (err)
		return err;
	if (set && kar_conf_bool(&kar.drain, buf))
		return bad_value("keepalive_responder_drain", buf, 0);

	kar.drain_retry = KAR_RETRY_DEFAULT;
	err = conf_value("keepalive_responder_drain_retry", buf, sizeof(buf),
			 &set);
	if (err)
		return err;
	if (set && kar_conf_range(&kar.drain_retry, buf, 1, KAR_RETRY_MAX))
		return bad_value("keepalive_responder_drain_retry", buf, 0);

	return 0;
}


static int module_init(void)
{
	struct sip *sip;
	int err;

	memset(&kar, 0, sizeof(kar));

	err = host_abi_check();
	if (err)
		return err;

	kar.log = KAR_LOG_UNHANDLED;
	kar.caps.on = true;
	kar.caps.id = rand_u32();
	kar.pol.events = &kar.events;
	kar.pol.uah = host_ua_match;
	kar.pol.stock_fallback = KAR_BARESIP_MAJOR * 1000 + KAR_BARESIP_MINOR
		>= 1001;

	err = load_config();
	if (err)
		return err;

	/* baresip -m preloads modules before the SIP stack exists */
	sip = host_sip();
	if (!sip) {
		host_log(HOST_WARN, "keepalive_responder: no SIP stack yet;"
			 " load it with 'module' in the config file,"
			 " not with -m\n");
		return ENOENT;
	}

	err = kar_replies_alloc(&kar.replies, &kar.events, rand_u64());
	if (err)
		return err;

	err = kar_replies_retry(kar.replies, kar.drain_retry);
	if (err)
		return err;

	/* No event at start: nobody is listening yet */
	kar.pol.drain = kar.drain;

	if (kar.rate_per_s) {
		err = kar_rate_alloc(&kar.rate, kar.rate_per_s, RATE_SLOTS,
				     rand_u64());
		if (err)
			return err;
	}

	err = kar_chain_attach(&kar.chain, sip, head_handler, tail_handler,
			       NULL);
	if (err)
		return err;

	if (!kar_chain_hooked(kar.chain)) {
		host_log(HOST_WARN, "keepalive_responder: libre's listener"
			 " list is not laid out as expected; staying at the"
			 " end of the chain, where baresip's core answers"
			 " OPTIONS and NOTIFY first\n");
	}

	err = host_cmds_register(&cmds);
	if (err)
		return err;
	kar.cmds = true;

	err = host_shutdown_register(shutdown_handler);
	if (err)
		return err;
	kar.shutdown_reg = true;

	kar_stats_reset(&kar.stats, tmr_jiffies());

	host_log(HOST_INFO, "keepalive_responder: for baresip %s; %s mode,"
		 " events %H, rate %u/s, %zu trusted, remote control %s,"
		 " log %s, drain %s (retry %u s), sdp %s\n", host_built_for(),
		 mode_name(), kar_events_print, &kar.events, kar.rate_per_s,
		 kar.trusted.n, kar.remote_control ? "on" : "off",
		 kar_log_name(kar.log), drain_name(), kar.drain_retry,
		 kar.caps.on ? "on" : "off");

	return 0;
}


/* Also called when module_init() failed, and at shutdown after baresip
   has freed the SIP stack (and with it the listeners) */
static int module_close(void)
{
	if (kar.shutdown_reg)
		host_shutdown_unregister();

	if (kar.cmds)
		host_cmds_unregister();

	kar.chain = mem_deref(kar.chain);
	kar.replies = mem_deref(kar.replies);
	kar.caps.sdp = mem_deref(kar.caps.sdp);
	kar.rate = mem_deref(kar.rate);
	kar.cmds = false;
	kar.shutdown_reg = false;

	return 0;
}


/* baresip looks up "exports", or "exports_<name>" in a static build; the
   build hides every other symbol, so the descriptor is made visible */
#ifdef STATIC
#define KAR_EXPORTS exports_keepalive_responder
#else
#define KAR_EXPORTS exports
#endif

#if defined(__GNUC__) || defined(__clang__)
__attribute__((visibility("default")))
#endif
EXPORT_SYM const struct mod_export KAR_EXPORTS = {
	"keepalive_responder",
	"application",
	module_init,
	module_close
};
