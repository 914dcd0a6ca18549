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
 * Configuration (baresip config file):
 *
 \verbatim
  keepalive_responder_exclusive  no
  keepalive_responder_events     keep-alive,check-sync,message-summary
  keepalive_responder_log        unhandled
 \endverbatim
 */
#include <string.h>
#include <re.h>
#include "kar.h"


#define DEFAULT_EVENTS "keep-alive,check-sync,message-summary"


static struct {
	struct kar_chain *chain;
	struct kar_replies *replies;
	struct kar_events events;
	struct kar_policy pol;
	struct kar_stats stats;
	struct kar_loglimit loglimit;
	enum kar_log log;
	bool cmds;
} kar;


static const char *mode_name(void)
{
	return kar.pol.exclusive ? "exclusive" : "shared";
}


/* What the stack would have done, for the log */
static const char *outcome_name(const struct kar_verdict *v)
{
	uint16_t scode;

	if (v->reply == KAR_R_NONE)
		return "passed";

	kar_reply_status(kar.replies, v->reply, &scode, NULL);

	return scode < 300 ? "answered" : "rejected";
}


static void log_request(const struct sip_msg *msg,
			const struct kar_verdict *v)
{
	uint32_t suppressed = 0;

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

	host_log(HOST_INFO, "keepalive_responder: %r %r from %J%s: %s\n",
		 &msg->met, &msg->ruri, &msg->src,
		 v->stock_bad ? " (stock would reject)" : "",
		 outcome_name(v));
}


static void answer(const struct sip_msg *msg, const struct kar_verdict *v)
{
	uint16_t scode;
	int err;

	err = kar_reply_send(kar.replies, host_sip(), msg, v->reply);
	if (err) {
		host_log(HOST_WARN, "keepalive_responder: reply to %r"
			 " from %J failed (%m)\n", &msg->met, &msg->src, err);
	}

	kar_reply_status(kar.replies, v->reply, &scode, NULL);
	kar_stats_count(&kar.stats, v,
			scode < 300 ? KAR_C_ANSWERED : KAR_C_REJECTED);
}


/* In front of baresip's core: the decision table */
static bool head_handler(const struct sip_msg *msg, void *arg)
{
	struct kar_verdict v;
	(void)arg;

	kar_policy_decide(&v, &kar.pol, msg);

	log_request(msg, &v);

	if (v.reply == KAR_R_NONE) {
		kar_stats_count(&kar.stats, &v, KAR_C_PASSED);
		return false;
	}

	answer(msg, &v);

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

	memset(&v, 0, sizeof(v));
	v.meth = kar_method_of(&msg->met);
	v.pkg = -1;
	v.stock_bad = true;
	v.reply = kar.pol.exclusive ? KAR_R_NOT_ALLOWED : KAR_R_NONE;

	log_request(msg, &v);

	if (v.reply == KAR_R_NONE)
		return false;

	(void)kar_reply_send(kar.replies, host_sip(), msg, v.reply);

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


static const struct kar_cmds cmds = {
	cmd_exclusive,
	cmd_stats,
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


static int load_config(void)
{
	char buf[1024];
	bool set;
	int err;

	err = kar_events_parse(&kar.events, DEFAULT_EVENTS);
	if (err)
		return err;

	err = conf_value("keepalive_responder_exclusive", buf, sizeof(buf),
			 &set);
	if (err)
		return err;
	if (set && kar_conf_bool(&kar.pol.exclusive, buf))
		return bad_value("keepalive_responder_exclusive", buf, 0);

	err = conf_value("keepalive_responder_events", buf, sizeof(buf),
			 &set);
	if (err)
		return err;
	if (set) {
		err = kar_events_parse(&kar.events, buf);
		if (err)
			return bad_value("keepalive_responder_events", buf,
					 err);
	}

	err = conf_value("keepalive_responder_log", buf, sizeof(buf), &set);
	if (err)
		return err;
	if (set && kar_conf_log(&kar.log, buf))
		return bad_value("keepalive_responder_log", buf, 0);

	return 0;
}


static int module_init(void)
{
	struct sip *sip;
	int err;

	memset(&kar, 0, sizeof(kar));
	kar.log = KAR_LOG_UNHANDLED;
	kar.pol.events = &kar.events;
	kar.pol.uah = host_ua_match;

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

	kar_stats_reset(&kar.stats, tmr_jiffies());

	host_log(HOST_INFO, "keepalive_responder: %s mode, events %H,"
		 " log %s\n", mode_name(), kar_events_print, &kar.events,
		 kar_log_name(kar.log));

	return 0;
}


/* Also called when module_init() failed, and at shutdown after baresip
   has freed the SIP stack (and with it the listeners) */
static int module_close(void)
{
	if (kar.cmds)
		host_cmds_unregister();

	kar.chain = mem_deref(kar.chain);
	kar.replies = mem_deref(kar.replies);
	kar.cmds = false;

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
