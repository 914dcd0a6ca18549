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
 * This file holds the configuration, the commands, the lifecycle, the
 * listener handlers and the probe watch's feed and timer; the decision
 * itself is in policy.c, the watch's table in watch.c, the endpoint's
 * own servers in servers.c.
 *
 * Configuration (baresip config file; see README.md):
 *
 \verbatim
  keepalive_responder_exclusive       no
  keepalive_responder_events          keep-alive,check-sync,message-summary
  keepalive_responder_trusted         (unset: any source)
  keepalive_responder_remote_control  no
  keepalive_responder_check_sync      event
  keepalive_responder_rate            50
  keepalive_responder_drop_ua         friendly-scanner,sipvicious,...
                                      (none: no filter)
  keepalive_responder_enum_limit      8 (0: off)
  keepalive_responder_enum_ban        600
  keepalive_responder_log             unhandled
  keepalive_responder_sdp             yes
  keepalive_responder_drain           no
  keepalive_responder_drain_retry     300
  keepalive_responder_watch           event
  keepalive_responder_watch_factor    3
 \endverbatim
 */
#include <string.h>
#include <re.h>
#include "api.h"
#include "kar.h"


#define DEFAULT_EVENTS "keep-alive,check-sync,message-summary"
#define DEFAULT_DROP_UA "friendly-scanner,sipvicious,sipcli,sip-scan," \
	"VaxSIPUserAgent,iWar,sundayddr"

enum {
	RATE_SLOTS = 4096,      /**< sources remembered by the limiter */
	BLOCK_SLOTS = 4096,     /**< sources remembered by the guard   */
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
	struct {                           /**< enumeration guard      */
		struct kar_guardcfg cfg;
		struct kar_block *block;
		struct kar_udpdrop *udp;   /**< drop before decoding   */
		uint32_t limit;
		uint32_t ban;              /**< seconds                */
	} guard;
	struct kar_servers servers;        /**< never blocked, counted */
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
	bool events_reg;                   /**< event handlers set     */
	struct {                           /**< probe watch (watch.c)   */
		enum kar_watch_mode mode;
		uint32_t factor;
		struct kar_watch *w;       /**< NULL: off               */
		struct tmr tmr;
		uint64_t due;              /**< tmr armed for, 0: not   */
	} watch;
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


/*
 * Probe watch (watch.c, docs/watch.md): the table learns each prober's
 * rhythm; one timer for the whole table finds the silent ones.
 */

static void watch_arm(void);


/* "OPTIONS from 127.0.0.1 (interval 30.0 s, silent 90.0 s)" */
static int watch_text(struct re_printf *pf, const struct kar_watch_info *p)
{
	uint64_t silent = p->gap;

	/* Lost: nothing heard since its latest probe.  Back: the gap that
	   ended the silence. */
	if (p->state == KAR_WATCH_LOST) {
		uint64_t now = tmr_jiffies();

		silent = now > p->last ? now - p->last : 0;
	}

	return re_hprintf(pf, "%s from %j (interval %llu.%llu s,"
			  " silent %llu.%llu s)",
			  kar_watch_kind_name(p->kind), &p->src,
			  (unsigned long long)(p->ivl / 1000),
			  (unsigned long long)(p->ivl % 1000 / 100),
			  (unsigned long long)(silent / 1000),
			  (unsigned long long)(silent % 1000 / 100));
}


/* Rare (once per silence and return): every one is logged */
static void watch_handler(enum kar_watch_ev ev,
			  const struct kar_watch_info *p, void *arg)
{
	const char *name = kar_watch_ev_name(ev);
	char text[160];
	unsigned n;
	(void)arg;

	if (re_snprintf(text, sizeof(text), "%H", watch_text, p) < 0)
		text[0] = '\0';

	host_log(HOST_INFO, "%s: %s\n", name, text);
	host_event(name, text);

	kar_stats_action(&kar.stats, ev == KAR_WATCH_EV_LOST ?
			 KAR_A_PROBE_LOST : KAR_A_PROBE_BACK);

	/* The server may have lost the binding or the location: register
	   again, as check-sync's reregister does */
	if (ev == KAR_WATCH_EV_LOST &&
	    kar.watch.mode == KAR_WATCH_MODE_REREGISTER) {
		n = host_reregister_all();
		kar_stats_action(&kar.stats, KAR_A_REREGISTER);
		host_log(HOST_INFO, "probe watch: %u UAs re-registering\n",
			 n);
	}
}


static void watch_timeout(void *arg)
{
	(void)arg;

	kar.watch.due = 0;
	kar_watch_check(kar.watch.w, tmr_jiffies());
	watch_arm();
}


/* A probe moves its prober's deadline later, or makes a new regular
   one: restart the timer only when the earliest deadline is sooner
   than it is armed for.  A timer that fires early finds nothing due
   and arms again. */
static void watch_arm(void)
{
	uint64_t due = kar_watch_deadline(kar.watch.w);
	uint64_t now;

	if (!due || (kar.watch.due && kar.watch.due <= due))
		return;

	now = tmr_jiffies();
	kar.watch.due = due;
	tmr_start(&kar.watch.tmr, due > now ? due - now : 0, watch_timeout,
		  NULL);
}


/* The prober kind of a probe: OPTIONS, or a NOTIFY of the keep-alive
   package (by name, as the policy reads it), else none */
static bool watch_kind(enum kar_watch_kind *kind, const struct sip_msg *msg,
		       const struct kar_verdict *v)
{
	const struct sip_hdr *hdr;
	struct pl pkg, params;

	if (v->meth == KAR_M_OPTIONS) {
		*kind = KAR_WATCH_OPTIONS;
		return true;
	}

	if (v->meth != KAR_M_NOTIFY || !v->has_pkg)
		return false;

	*kind = KAR_WATCH_NOTIFY;

	if (v->pkg >= 0)
		return kar.pkg[v->pkg] == KAR_PKG_KEEPALIVE;

	/* keep-alive not among the accepted packages: read the name */
	return kar_hdr_named(msg, SIP_HDR_EVENT, &hdr) &&
		!kar_event_parse(&hdr->val, &pkg, &params) &&
		!pl_strcasecmp(&pkg, "keep-alive");
}


/* Whatever the module then does with it: nothing allocated here.  With
   a trusted list or baresip's origin filter, a source they refuse
   (allowed false) must not be a prober: it may be spoofed. */
static void watch_feed(const struct sip_msg *msg,
		       const struct kar_verdict *v, bool allowed)
{
	enum kar_watch_kind kind;

	if (!kar.watch.w || !v->probe || !allowed ||
	    !watch_kind(&kind, msg, v))
		return;

	if (kar_watch_probe(kar.watch.w, &msg->src, kind, kar_watch_fp(msg),
			    tmr_jiffies()))
		watch_arm();
}


static int watch_init(void)
{
	int err;

	if (kar.watch.mode == KAR_WATCH_MODE_OFF)
		return 0;

	err = kar_watch_alloc(&kar.watch.w, kar.watch.factor, watch_handler,
			      NULL);
	if (err)
		return err;

	tmr_init(&kar.watch.tmr);

	return 0;
}


/* The timer only exists with the table (module_close() runs after a
   failed module_init() too) */
static void watch_stop(void)
{
	if (kar.watch.w)
		tmr_cancel(&kar.watch.tmr);

	kar.watch.due = 0;
}


static void watch_close(void)
{
	watch_stop();
	kar.watch.w = mem_deref(kar.watch.w);
}


/* Until the SIP stack goes away a dispatcher should hear 503, not 200
   and then silence; and the probes stopping now is no loss */
static void shutdown_handler(void)
{
	kar.shutdown = true;
	drain_update();

	kar_watch_shutdown(kar.watch.w);
	watch_stop();
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
		host_log(HOST_WARN, "capability SDP failed (%m); OPTIONS"
			 " answers carry none\n", err);
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
		host_log(HOST_WARN, "reply to %r from %J failed (%m)\n",
			 &msg->met, &msg->src, err);
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
	if (v && kar_block_forget(kar.guard.block, &v->addr, now))
		host_log(HOST_INFO, "unblocked %j: own server\n", &v->addr);
}


/* The trusted list, and baresip's own origin filter */
static bool source_allowed(const struct sip_msg *msg)
{
	return kar_acl_match(&kar.trusted, &msg->src) &&
		kar_origin_ok(host_origin(), msg);
}


/*
 * Enumeration guard: drop what the guard refuses, log a new block once
 * per source, and give each SIP UDP socket the helper that drops a
 * blocked source's datagrams before decoding (udpdrop.c)
 */
static bool guard_drop(const struct sip_msg *msg, const struct kar_verdict *v,
		       bool own)
{
	enum kar_guard g;
	int err;

	if (msg->tp == SIP_TRANSP_UDP && kar.guard.udp) {
		err = kar_udpdrop_watch(kar.guard.udp, msg->sock);
		if (err == ENOTSUP) {
			host_log(HOST_WARN, "libre's UDP helper is not laid"
				 " out as expected; blocked sources are"
				 " dropped after decoding\n");
			kar.guard.udp = mem_deref(kar.guard.udp);
		}
	}

	g = kar_guard_check(&kar.guard.cfg, msg, own, tmr_jiffies());
	if (g == KAR_G_PASS)
		return false;

	if (g != KAR_G_DROP &&
	    kar_loglimit_take(&kar.loglimit, tmr_jiffies(), NULL)) {
		host_log(HOST_INFO, "blocked %j for %u s: %s\n", &msg->src,
			 kar.guard.ban, g == KAR_G_BLOCK_UA ?
			 "scanner User-Agent" : "unknown users");
	}

	kar_stats_count(&kar.stats, v, KAR_C_DROPPED_SCANNER);

	return true;
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
	bool stateful, own, allowed = true;
	uint64_t now = tmr_jiffies();
	(void)arg;

	kar_policy_decide(&v, &kar.pol, msg);
	own = kar_servers_match(&kar.servers, &msg->src, now);

	/* Dropped silently: an answer would only confirm a target */
	if (guard_drop(msg, &v, own))
		return true;

	/* Neither a flood relayed by the endpoint's own server nor a
	   far end's in a call may silence what the server or the call
	   need */
	if (v.probe && kar.rate && !own &&
	    !(v.dialog && kar_guard_dialog(&kar.guard.cfg, msg)) &&
	    !kar_rate_take(kar.rate, &msg->src, now)) {
		kar_stats_count(&kar.stats, &v, KAR_C_DROPPED_RATE);
		return true;
	}

	if (v.probe || v.reply != KAR_R_NONE)
		allowed = source_allowed(msg);

	watch_feed(msg, &v, allowed);

	if (v.reply != KAR_R_NONE && !allowed) {
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
	if (kar_method_invite_txn(&msg->met))
		return false;

	/* Untrusted sources get the stack's answer, as everywhere */
	if (!source_allowed(msg))
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
	sv.events = &kar.events;
	sv.exclusive = kar.pol.exclusive;
	sv.drain = kar.pol.drain;
	sv.now = tmr_jiffies();
	sv.watch = kar.watch.w;
	sv.blocked = kar_block_count(kar.guard.block, sv.now);

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

	if (!kar.watch.w) {
		return re_hprintf(pf, json ? "{\"watch\":\"off\"}\n" :
				  "keepalive_responder: probe watch off\n");
	}

	if (json)
		return kar_watch_json(pf, kar.watch.w, tmr_jiffies());

	if (str_isset(prm)) {
		kar_watch_reset(kar.watch.w);
		return re_hprintf(pf, "keepalive_responder: probers"
				  " forgotten\n");
	}

	return kar_watch_print(pf, kar.watch.w, tmr_jiffies());
}


static int cmd_servers(struct re_printf *pf, void *arg)
{
	const char *prm = cmd_prm(arg);

	if (!str_isset(prm))
		return kar_servers_print(pf, &kar.servers, &kar.trusted,
					 tmr_jiffies());

	if (!str_casecmp(prm, "json"))
		return kar_servers_json(pf, &kar.servers, &kar.trusted,
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


/*
 * Configuration.  Each key's value, or its default, goes through the
 * key's parser; a value it refuses gets one warning naming key and
 * value, and the module refuses to load.
 */

typedef int (conf_parse_h)(void *dst, const char *val);

static int parse_bool(void *dst, const char *val)
{
	return kar_conf_bool(dst, val);
}


static int parse_u32(void *dst, const char *val)
{
	return kar_conf_u32(dst, val);
}


static int parse_log(void *dst, const char *val)
{
	return kar_conf_log(dst, val);
}


static int parse_check_sync(void *dst, const char *val)
{
	return kar_conf_check_sync(dst, val);
}


static int parse_retry(void *dst, const char *val)
{
	return kar_conf_range(dst, val, 1, KAR_RETRY_MAX);
}


static int parse_watch(void *dst, const char *val)
{
	return kar_conf_watch(dst, val);
}


static int parse_factor(void *dst, const char *val)
{
	return kar_conf_watch_factor(dst, val);
}


static int parse_enum_limit(void *dst, const char *val)
{
	return kar_conf_range(dst, val, 0, KAR_ENUM_MAX);
}


static int parse_enum_ban(void *dst, const char *val)
{
	return kar_conf_range(dst, val, 1, KAR_BAN_MAX);
}


static int parse_trusted(void *dst, const char *val)
{
	char bad[64] = "";

	if (!kar_acl_parse(dst, val, bad, sizeof(bad)))
		return 0;

	host_log(HOST_WARN, "bad entry '%s' in keepalive_responder_trusted\n",
		 bad);

	return EINVAL;
}


static int parse_drop_ua(void *dst, const char *val)
{
	return kar_uafilter_parse(dst, kar_conf_list(val));
}


/* Read in this order: the checks after the loop need them all */
static const struct conf_key {
	const char *key;
	conf_parse_h *parse;
	void *dst;
	const char *def;
} conf_keys[] = {
	{"keepalive_responder_exclusive", parse_bool, &kar.pol.exclusive,
	 "no"},
	{"keepalive_responder_trusted", parse_trusted, &kar.trusted, ""},
	{"keepalive_responder_remote_control", parse_bool,
	 &kar.remote_control, "no"},
	{"keepalive_responder_check_sync", parse_check_sync,
	 &kar.act.reregister, "event"},
	{"keepalive_responder_rate", parse_u32, &kar.rate_per_s, "50"},
	{"keepalive_responder_drop_ua", parse_drop_ua, &kar.drop_ua,
	 DEFAULT_DROP_UA},
	{"keepalive_responder_enum_limit", parse_enum_limit,
	 &kar.guard.limit, "8"},
	{"keepalive_responder_enum_ban", parse_enum_ban, &kar.guard.ban,
	 "600"},
	{"keepalive_responder_log", parse_log, &kar.log, "unhandled"},
	{"keepalive_responder_sdp", parse_bool, &kar.caps.on, "yes"},
	{"keepalive_responder_drain", parse_bool, &kar.drain, "no"},
	{"keepalive_responder_drain_retry", parse_retry, &kar.drain_retry,
	 "300"},
	{"keepalive_responder_watch", parse_watch, &kar.watch.mode, "event"},
	{"keepalive_responder_watch_factor", parse_factor, &kar.watch.factor,
	 "3"},
};


/* Unset: the default.  A value longer than buf refuses the load: cut,
   it would be another value. */
static int conf_value(const char **valp, const char *key, const char *def,
		      char *buf, size_t sz)
{
	int err;

	err = host_conf_str(key, buf, sz);
	if (err == ENOENT) {
		*valp = def;
		return 0;
	}
	if (err) {
		host_log(HOST_WARN, "%s: value too long or unreadable (%m)\n",
			 key, err);
		return err;
	}

	*valp = buf;

	return 0;
}


static int bad_value(const char *key, const char *val, int err)
{
	host_log(HOST_WARN, "bad value '%s' for %s\n", val, key);

	return err ? err : EINVAL;
}


static int load_events(char *buf, size_t sz)
{
	static const char key[] = "keepalive_responder_events";
	const char *val;
	size_t i;
	int err;

	err = conf_value(&val, key, DEFAULT_EVENTS, buf, sz);
	if (err)
		return err;

	err = kar_events_parse(&kar.events, val);
	if (err)
		return bad_value(key, val, err);

	for (i = 0; i < kar.events.n; i++) {

		enum kar_pkg pkg = kar_pkg_of(kar.events.name[i]);

		/* Acting on talk/hold is remote control: it needs the
		   explicit switch, not just a package name in a list */
		if ((pkg == KAR_PKG_TALK || pkg == KAR_PKG_HOLD) &&
		    !kar.remote_control) {
			host_log(HOST_WARN, "%s in %s needs"
				 " keepalive_responder_remote_control yes\n",
				 kar.events.name[i], key);
			return bad_value(key, val, EINVAL);
		}
	}

	if (kar.remote_control) {
		err  = kar_events_add(&kar.events, "talk");
		err |= kar_events_add(&kar.events, "hold");
		if (err)
			return bad_value(key, val, E2BIG);
	}

	for (i = 0; i < kar.events.n; i++)
		kar.pkg[i] = kar_pkg_of(kar.events.name[i]);

	return 0;
}


static int load_config(void)
{
	char buf[1024];
	const char *val;
	size_t i;
	int err;

	for (i = 0; i < ARRAY_SIZE(conf_keys); i++) {

		const struct conf_key *k = &conf_keys[i];

		err = conf_value(&val, k->key, k->def, buf, sizeof(buf));
		if (err)
			return err;

		err = k->parse(k->dst, val);
		if (err)
			return bad_value(k->key, val, err);
	}

	/* Remote control from anywhere would let anyone answer calls */
	if (kar.remote_control && !kar.trusted.n) {
		host_log(HOST_WARN, "keepalive_responder_remote_control needs"
			 " keepalive_responder_trusted\n");
		return EPERM;
	}

	/* A spoofed prober must not make the UAs hammer their registrar */
	if (kar.watch.mode == KAR_WATCH_MODE_REREGISTER && !kar.trusted.n) {
		host_log(HOST_WARN, "keepalive_responder_watch reregister"
			 " needs keepalive_responder_trusted\n");
		return EPERM;
	}

	return load_events(buf, sizeof(buf));
}


static int module_init(void)
{
	struct sip *sip;
	int err;

	memset(&kar, 0, sizeof(kar));

	err = host_abi_check();
	if (err)
		return err;

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
		host_log(HOST_WARN, "no SIP stack yet; load it with 'module'"
			 " in the config file, not with -m\n");
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

	err = watch_init();
	if (err)
		return err;

	err = kar_block_alloc(&kar.guard.block, kar.guard.limit,
			      kar.guard.ban, BLOCK_SLOTS, rand_u64());
	if (err)
		return err;

	err = kar_udpdrop_alloc(&kar.guard.udp, kar.guard.block, &kar.stats,
				host_dialog_maybe, NULL);
	if (err)
		return err;

	kar.guard.cfg.drop_ua = &kar.drop_ua;
	kar.guard.cfg.trusted = &kar.trusted;
	kar.guard.cfg.block = kar.guard.block;
	kar.guard.cfg.uah = host_ua_owns;
	kar.guard.cfg.callh = host_call_known;

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
		 mode_name(), kar_events_print, &kar.events, kar.rate_per_s,
		 kar.guard.limit, kar.guard.ban, kar.trusted.n,
		 kar.remote_control ? "on" : "off",
		 kar_log_name(kar.log), drain_name(), kar.drain_retry,
		 kar.caps.on ? "on" : "off",
		 kar_watch_mode_name(kar.watch.mode), kar.watch.factor);

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
	kar.caps.sdp = mem_deref(kar.caps.sdp);
	kar.rate = mem_deref(kar.rate);
	/* The helpers first: they point at the table */
	kar.guard.udp = mem_deref(kar.guard.udp);
	kar.guard.block = mem_deref(kar.guard.block);
	watch_close();
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
