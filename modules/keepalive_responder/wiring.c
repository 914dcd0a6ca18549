/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file wiring.c  keepalive_responder -- the cores, wired to baresip
 *
 * The cores decide on plain data; what they need from baresip they ask
 * through function pointers.  What then follows from their decisions (a
 * log line, a counter, an event, a timer, a baresip call) is done here,
 * for three of them:
 *
 *  - the probe watch (watch.c): its feed, its one timer, and what a
 *    lost or returning prober makes the module do;
 *  - the enumeration guard (guard.c): its drops, the log line of a new
 *    block, and the UDP helper on each SIP socket (udpdrop.c);
 *  - the capability SDP (sdp.c): rebuilt when what it describes
 *    changed.
 */
#include <string.h>
#include <re.h>
#include "kar.h"


/*
 * Probe watch (docs/watch.md): the table learns each prober's rhythm;
 * one timer for the whole table finds the silent ones.
 */

static void probes_arm(struct kar_probes *pw);


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
	struct kar_probes *pw = arg;
	const char *name = kar_watch_ev_name(ev);
	char text[160];
	unsigned n;

	if (re_snprintf(text, sizeof(text), "%H", watch_text, p) < 0)
		text[0] = '\0';

	host_log(HOST_INFO, "%s: %s\n", name, text);
	host_event(name, text);

	kar_stats_action(pw->st, ev == KAR_WATCH_EV_LOST ?
			 KAR_A_PROBE_LOST : KAR_A_PROBE_BACK);

	/* The server may have lost the binding or the location: register
	   again, as check-sync's reregister does */
	if (ev == KAR_WATCH_EV_LOST &&
	    pw->mode == KAR_WATCH_MODE_REREGISTER) {
		n = host_reregister_all();
		kar_stats_action(pw->st, KAR_A_REREGISTER);
		host_log(HOST_INFO, "probe watch: %u UAs re-registering\n",
			 n);
	}
}


static void watch_timeout(void *arg)
{
	struct kar_probes *pw = arg;

	pw->due = 0;
	kar_watch_check(pw->w, tmr_jiffies());
	probes_arm(pw);
}


/* A probe moves its prober's deadline later, or makes a new regular
   one: restart the timer only when the earliest deadline is sooner
   than it is armed for.  A timer that fires early finds nothing due
   and arms again. */
static void probes_arm(struct kar_probes *pw)
{
	uint64_t due = kar_watch_deadline(pw->w);
	uint64_t now;

	if (!due || (pw->due && pw->due <= due))
		return;

	now = tmr_jiffies();
	pw->due = due;
	tmr_start(&pw->tmr, due > now ? due - now : 0, watch_timeout, pw);
}


/**
 * Start the probe watch, unless it is off
 *
 * @param pw     Wired watch (zeroed by the caller)
 * @param mode   keepalive_responder_watch
 * @param factor keepalive_responder_watch_factor
 * @param st     Counters of its actions
 *
 * @return 0 if success, otherwise errorcode
 */
int kar_probes_init(struct kar_probes *pw, enum kar_watch_mode mode,
		    uint32_t factor, struct kar_stats *st)
{
	int err;

	if (!pw)
		return EINVAL;

	pw->mode = mode;
	pw->st = st;

	if (mode == KAR_WATCH_MODE_OFF)
		return 0;

	err = kar_watch_alloc(&pw->w, factor, watch_handler, pw);
	if (err)
		return err;

	tmr_init(&pw->tmr);

	return 0;
}


/**
 * Feed a request to the watch, whatever the module then does with it;
 * nothing allocated.  Only a server's probes (the verdict's keepalive:
 * out of dialog, OPTIONS or NOTIFY keep-alive); a source that the
 * trusted list or baresip's origin filter refuses (allowed false) is
 * no prober: it may be spoofed.
 *
 * @param pw      Wired watch
 * @param rq      Request, as read at the door
 * @param v       Its verdict
 * @param allowed Its source may have the module's answer
 */
void kar_probes_feed(struct kar_probes *pw, const struct kar_req *rq,
		     const struct kar_verdict *v, bool allowed)
{
	enum kar_watch_kind kind;

	if (!pw || !pw->w || !v->keepalive || !allowed)
		return;

	kind = v->meth == KAR_M_OPTIONS ? KAR_WATCH_OPTIONS :
		KAR_WATCH_NOTIFY;

	if (kar_watch_probe(pw->w, &rq->msg->src, kind, kar_watch_fp(rq),
			    tmr_jiffies()))
		probes_arm(pw);
}


/* The timer only exists with the table (the module's close runs after
   a failed init too) */
static void probes_stop(struct kar_probes *pw)
{
	if (pw->w)
		tmr_cancel(&pw->tmr);

	pw->due = 0;
}


/**
 * baresip is stopping: the probes stopping now is no loss
 *
 * @param pw Wired watch
 */
void kar_probes_shutdown(struct kar_probes *pw)
{
	if (!pw)
		return;

	kar_watch_shutdown(pw->w);
	probes_stop(pw);
}


/**
 * Stop the timer and free the table
 *
 * @param pw Wired watch
 */
void kar_probes_close(struct kar_probes *pw)
{
	if (!pw)
		return;

	probes_stop(pw);
	pw->w = mem_deref(pw->w);
}


/*
 * Enumeration guard: drop what the guard refuses, log a new block once
 * per source, and give each SIP UDP socket the helper that drops a
 * blocked source's datagrams before decoding (udpdrop.c)
 */

/**
 * Set up the guard: its table of sources and the UDP helper's state
 *
 * @param gw      Wired guard (zeroed by the caller)
 * @param cfg     Configuration (limit, ban, filter, trusted list)
 * @param slots   Sources remembered at once
 * @param st      Counters
 * @param ll      The module's log limiter
 *
 * @return 0 if success, otherwise errorcode
 */
int kar_gate_init(struct kar_gate *gw, const struct kar_conf *cfg,
		  uint32_t slots, struct kar_stats *st,
		  struct kar_loglimit *ll)
{
	int err;

	if (!gw || !cfg)
		return EINVAL;

	gw->ban = cfg->enum_ban;
	gw->st = st;
	gw->ll = ll;

	err = kar_block_alloc(&gw->block, cfg->enum_limit, cfg->enum_ban,
			      slots, rand_u64());
	if (err)
		return err;

	err = kar_udpdrop_alloc(&gw->udp, gw->block, st, host_dialog_maybe,
				NULL);
	if (err)
		return err;

	gw->cfg.drop_ua = &cfg->drop_ua;
	gw->cfg.trusted = &cfg->trusted;
	gw->cfg.block = gw->block;
	gw->cfg.callh = host_call_known;

	return 0;
}


/**
 * Does the guard drop a request?  Counted and, for a new block, logged.
 *
 * @param gw  Wired guard
 * @param rq  Request, as read at the door
 * @param v   Its verdict (for the counters)
 * @param own The source is one of the endpoint's servers
 *
 * @return true if dropped
 */
bool kar_gate_drop(struct kar_gate *gw, const struct kar_req *rq,
		   const struct kar_verdict *v, bool own)
{
	const struct sip_msg *msg = rq->msg;
	enum kar_guard g;
	int err;

	if (msg->tp == SIP_TRANSP_UDP && gw->udp) {
		err = kar_udpdrop_watch(gw->udp, msg->sock);
		if (err == ENOTSUP) {
			host_log(HOST_WARN, "libre's UDP helper is not laid"
				 " out as expected; blocked sources are"
				 " dropped after decoding\n");
			gw->udp = mem_deref(gw->udp);
		}
	}

	g = kar_guard_check(&gw->cfg, rq, own, tmr_jiffies());
	if (g == KAR_G_PASS)
		return false;

	if (g != KAR_G_DROP &&
	    kar_loglimit_take(gw->ll, tmr_jiffies(), NULL)) {
		host_log(HOST_INFO, "blocked %j for %u s: %s\n", &msg->src,
			 gw->ban, g == KAR_G_BLOCK_UA ?
			 "scanner User-Agent" : "unknown users");
	}

	kar_stats_count(gw->st, v, KAR_C_DROPPED_SCANNER);

	return true;
}


/**
 * Free the helpers, then the table they point at
 *
 * @param gw Wired guard
 */
void kar_gate_close(struct kar_gate *gw)
{
	if (!gw)
		return;

	gw->udp = mem_deref(gw->udp);
	gw->block = mem_deref(gw->block);
	gw->cfg.block = NULL;
}


/*
 * The capability SDP: a cheap fingerprint of what it describes per
 * OPTIONS (a codec module loaded or unloaded, another account's lists),
 * a rebuild only on a change.  A failed build leaves answers without a
 * body until the next change.
 */

/**
 * Rebuild the capability SDP of OPTIONS answers if it is out of date
 *
 * @param c    Capability SDP state
 * @param r    Reply set that carries it
 * @param user The Request-URI user (its account's lists)
 */
void kar_caps_refresh(struct kar_caps *c, struct kar_replies *r,
		      const struct pl *user)
{
	struct host_caps key;
	struct kar_sdp *sdp = NULL;
	int err;

	if (!c || !c->on)
		return;

	host_caps_key(&key, user);
	if (c->built && !memcmp(&key, &c->key, sizeof(key)))
		return;

	memcpy(&c->key, &key, sizeof(key));
	c->built = true;

	err = host_caps_sdp(&sdp, user, c->id, ++c->version);
	if (err) {
		host_log(HOST_WARN, "capability SDP failed (%m); OPTIONS"
			 " answers carry none\n", err);
	}

	kar_replies_sdp(r, sdp);
	mem_deref(c->sdp);
	c->sdp = sdp;
}


/**
 * Free the capability SDP (the reply set must not point at it)
 *
 * @param c Capability SDP state
 */
void kar_caps_close(struct kar_caps *c)
{
	if (c)
		c->sdp = mem_deref(c->sdp);
}
