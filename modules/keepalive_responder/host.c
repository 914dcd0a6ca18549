/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file host.c  keepalive_responder -- every call into baresip
 *
 * The rest of the module sees only libre and kar.h, but for the module
 * glue's command table and export.  Keeping baresip's API here means one
 * file to adapt per baresip generation, and a decision core that unit
 * tests can run without baresip.
 *
 * baresip generations differ in a few calls this file makes: api.h says
 * which, for the version the build found (api.sh).
 *
 * A module runs only in the baresip generation it was built for, and
 * baresip checks nothing when it loads one: a 1.0-built module would load
 * into 1.1 and emit wrong event numbers.  host_abi_check() asks the
 * running baresip instead.  The calls that 1.1 added (module_event(),
 * uag_find_msg()) are weak references, so that a module built for 1.1
 * still loads into 1.0, and refuses with a warning; one built for 2.0
 * or later fails to load into an older baresip already (dlopen() on an
 * undefined symbol).
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <string.h>
#include <re.h>
#include "api.h"
#include "kar.h"


#ifdef KAR_HAVE_MODULE_EVENT
#pragma weak module_event
#endif
#ifdef KAR_HAVE_UAG_FIND_MSG
#pragma weak uag_find_msg
#endif
#ifdef KAR_HAVE_UA_EVENT
#pragma weak uag_event_str
#else
#pragma weak bevent_str
#endif


static host_shutdown_h *shutdown_h;
static host_register_h *register_h;


struct sip *host_sip(void)
{
	return uag_sip();
}


/* The running baresip, as far as it tells: 4.0 and later name their
   version, older ones only show which calls they have */
static int running_print(struct re_printf *pf, void *arg)
{
	const char *(*version)(void);
	int err;

	(void)arg;

	*(void **)&version = dlsym(RTLD_DEFAULT, "baresip_version");
	if (version)
		err = re_hprintf(pf, "baresip %s", version());
	else if (dlsym(RTLD_DEFAULT, "uag_find_msg"))
		err = re_hprintf(pf, "baresip 1.1 to 3.x");
	else
		err = re_hprintf(pf, "baresip 1.0");

	return err | re_hprintf(pf, " with libre %s",
				sys_libre_version_get());
}


/**
 * The baresip the module was built for, as its log line names it
 *
 * @return "x.y.z", and how its API was known
 */
const char *host_built_for(void)
{
#ifdef HAVE_BARESIP_H
	return KAR_BARESIP_BUILT " (baresip.h)";
#else
	return KAR_BARESIP_BUILT " (the project's declarations)";
#endif
}


/* Does the running baresip give this event number the name it has
   where the module was built? */
static bool event_named(int ev, const char *name)
{
#ifdef KAR_HAVE_UA_EVENT
	const char *s = uag_event_str ? uag_event_str((enum ua_event)ev) :
		NULL;
#else
	const char *s = bevent_str ? bevent_str((enum bevent_ev)ev) : NULL;
#endif

	return s && !strcmp(s, name);
}


/**
 * Is the running baresip of the generation the module was built for?
 *
 * Event numbers are compiled in.  baresip names its own events, so the
 * names it gives the numbers compiled here for the events the module
 * uses say whether the two agree (1.1 moved MWI_NOTIFY from 4 to 6, 2.4
 * SHUTDOWN from 7 to 8); and the calls of the generation must be there.
 *
 * @return 0 if so, EPROTO (after one warning naming both) if not
 */
int host_abi_check(void)
{
	bool ok;

#ifdef KAR_HAVE_UA_EVENT
	ok = event_named(UA_EVENT_MWI_NOTIFY, "MWI_NOTIFY") &&
		event_named(UA_EVENT_SHUTDOWN, "SHUTDOWN");
#else
	ok = event_named(BEVENT_MWI_NOTIFY, "MWI_NOTIFY") &&
		event_named(BEVENT_SHUTDOWN, "SHUTDOWN");
#endif
#ifdef KAR_HAVE_MODULE_EVENT
	ok = ok && module_event;
#endif
#ifdef KAR_HAVE_UAG_FIND_MSG
	ok = ok && uag_find_msg;
#endif

	if (ok)
		return 0;

	host_log(HOST_WARN, "built for baresip %s, but this is %H: not"
		 " loaded (build the module for this baresip)\n",
		 KAR_BARESIP_BUILT, running_print, NULL);

	return EPROTO;
}


/**
 * Read a config value as a string
 *
 * libre finds a key only with a value after it: a key written alone on
 * its line is not set.
 *
 * @param key Config key
 * @param buf Buffer for the value
 * @param sz  Size of the buffer
 *
 * @return 0 if found, ENOENT if not set, E2BIG if longer than buf
 */
int host_conf_str(const char *key, char *buf, size_t sz)
{
	struct conf *conf = conf_cur();
	struct pl pl;
	int err;

	if (!conf || !buf || !sz)
		return ENOENT;

	err = conf_get(conf, key, &pl);
	if (err)
		return err;

	/* A longer value must not be cut silently into another value */
	if (pl.l >= sz)
		return E2BIG;

	return pl_strcpy(&pl, buf, sz);
}


/* baresip's own lookup, the one its core OPTIONS handler uses: by the
   Request-URI user (contact user, AOR user, catch-all) in 1.0, by the
   whole Request-URI from 1.1 on */
bool host_ua_match(const struct sip_msg *msg, void *arg)
{
	(void)arg;

#ifdef KAR_HAVE_UAG_FIND_MSG
	return uag_find_msg(msg) != NULL;
#else
	return uag_find(&msg->uri.user) != NULL;
#endif
}


/*
 * Does a local UA own the Request-URI user (contact user, AOR user,
 * catch-all)?  Unlike host_ua_match(), never uag_find_msg()'s fallback
 * (1.1 to 3.7: the first account that does not register, for a local
 * Request-URI host, whatever the user): the enumeration guard counts
 * names nobody owns, or a scanner's every guess would ring the phone.
 */
bool host_ua_owns(const struct sip_msg *msg, void *arg)
{
	(void)arg;

	return uag_find(&msg->uri.user) != NULL;
}


/* Does a call of a UA have the request's Call-ID?  The dialog the
   request claims is one of the stack's. */
bool host_call_known(const struct sip_msg *msg, void *arg)
{
	struct le *le, *lc;
	(void)arg;

	for (le = list_head(uag_list()); le; le = le->next) {
		for (lc = list_head(ua_calls(le->data)); lc; lc = lc->next) {
			if (!pl_strcmp(&msg->callid, call_id(lc->data)))
				return true;
		}
	}

	return false;
}


/* Before decoding, for a tagged request: a local UA's user, or any
   call in progress, whose Call-ID the guard compares after decoding */
bool host_dialog_maybe(const struct pl *user, void *arg)
{
	struct le *le;
	(void)arg;

	if (uag_find(user))
		return true;

	for (le = list_head(uag_list()); le; le = le->next) {
		if (list_head(ua_calls(le->data)))
			return true;
	}

	return false;
}


#ifdef KAR_HAVE_CHECK_ORIGIN
static void *origin_named(const struct sip_msg *msg)
{
	return uag_find_msg(msg);
}


static bool origin_check(void *ua, const struct sip_msg *msg)
{
	return ua_req_check_origin(ua, msg);
}
#endif


/**
 * baresip's own origin filter (filter_registrar, 3.15 and later; the
 * accounts' check_origin from 4.5), for kar_origin_ok(): the core's
 * decision ua_req_check_origin(), for the UA uag_find_msg() names, or
 * for every UA
 *
 * @return The lookups, NULL on generations without the filter
 */
const struct kar_origin *host_origin(void)
{
#ifdef KAR_HAVE_CHECK_ORIGIN
	static const struct kar_origin origin = {
		origin_named, origin_check, uag_list
	};

	return &origin;
#else
	return NULL;
#endif
}


/* A registration's outcome: tell the module which UA's it was */
static void registered(struct ua *ua)
{
	if (register_h && ua)
		register_h(account_aor(ua_account(ua)));
}


/**
 * The UA a request addresses: the one baresip matches to the
 * Request-URI user, else the first UA
 *
 * @param user Request-URI user (may be empty)
 *
 * @return UA, or NULL if there is none
 */
struct ua *host_ua_for(const struct pl *user)
{
	struct ua *ua = NULL;
	struct list *ual;

	if (pl_isset(user))
		ua = uag_find(user);

	if (!ua) {
		ual = uag_list();
		ua = ual && ual->head ? ual->head->data : NULL;
	}

	return ua;
}


/* The very event baresip's mwi module emits, so that ctrl_tcp clients
   and UIs see an unsolicited summary as if they had subscribed.  (1.0
   to 3.x format it into a 256-byte buffer: a longer body is cut.) */
void host_mwi(struct ua *ua, const struct pl *body)
{
#if defined(KAR_HAVE_UA_EVENT)
	ua_event(ua, UA_EVENT_MWI_NOTIFY, NULL, "%r", body);
#else
	/* 4.x: what its mwi module emits */
	(void)bevent_ua_emit(BEVENT_MWI_NOTIFY, ua, "%r", body);
#endif
}


/**
 * Emit a check-sync event, where baresip has module events (1.1 and
 * later).  baresip 1.0 has no event type for it; there the tagged log
 * line that actions.c writes is what users get.
 *
 * @param ua     UA the NOTIFY addressed (may be NULL)
 * @param params Event header parameters
 *
 * @return 0 if emitted, ENOSYS if this baresip has no module events
 */
int host_check_sync(struct ua *ua, const struct pl *params)
{
#ifdef KAR_HAVE_MODULE_EVENT
	module_event("keepalive_responder", "check-sync", ua, NULL, "%r",
		     params);
	return 0;
#else
	(void)ua;
	(void)params;
	return ENOSYS;
#endif
}


/**
 * Raise a module event of keepalive_responder, where baresip has module
 * events (1.1 and later); 1.0 has only the log line the caller writes.
 * ctrl_tcp passes it on as type MODULE, "keepalive_responder,name,text".
 *
 * @param name Event name ("drain", "probe-lost", "probe-back")
 * @param text Its data
 */
void host_event(const char *name, const char *text)
{
#ifdef KAR_HAVE_MODULE_EVENT
	module_event("keepalive_responder", name, NULL, NULL, "%s", text);
#else
	(void)name;
	(void)text;
#endif
}


/*
 * baresip emits SHUTDOWN per UA from ua_stop_all() (quit, SIGTERM),
 * before it closes the SIP stack; the first one is enough.
 * REGISTER_OK and REGISTER_FAIL come from the registration's response
 * handler, inside libre's client transaction that matched the answer
 * (a timeout's REGISTER_FAIL has no answer, and servers.c none noted).
 */
#if defined(KAR_HAVE_BEVENT)
static void event_handler(enum bevent_ev ev, struct bevent *event,
			  void *arg)
{
	(void)arg;

	if (ev == BEVENT_SHUTDOWN && shutdown_h)
		shutdown_h();
	else if (ev == BEVENT_REGISTER_OK || ev == BEVENT_REGISTER_FAIL)
		registered(bevent_get_ua(event));
}
#else
static void event_handler(struct ua *ua, enum ua_event ev,
			  struct call *call, const char *prm, void *arg)
{
	(void)call;
	(void)prm;
	(void)arg;

	if (ev == UA_EVENT_SHUTDOWN && shutdown_h)
		shutdown_h();
	else if (ev == UA_EVENT_REGISTER_OK || ev == UA_EVENT_REGISTER_FAIL)
		registered(ua);
}
#endif


/**
 * Have handlers called when baresip begins to shut down, and when a
 * UA's registration has an outcome
 *
 * @param sh Shutdown handler
 * @param rh Registration handler
 *
 * @return 0 if success, otherwise errorcode
 */
int host_events_register(host_shutdown_h *sh, host_register_h *rh)
{
	if (!sh || !rh)
		return EINVAL;

	shutdown_h = sh;
	register_h = rh;

#if defined(KAR_HAVE_BEVENT)
	return bevent_register(event_handler, NULL);
#else
	return uag_event_register(event_handler, NULL);
#endif
}


/* baresip 1.0 has flushed its handler list at shutdown already; 1.1
   and later still hold it, and this removes the handler */
void host_events_unregister(void)
{
#if defined(KAR_HAVE_BEVENT)
	bevent_unregister(event_handler);
#else
	uag_event_unregister(event_handler);
#endif
	shutdown_h = NULL;
	register_h = NULL;
}


/**
 * Re-register every UA that registers
 *
 * @return Number of UAs asked to register
 */
unsigned host_reregister_all(void)
{
	struct list *ual = uag_list();
	struct le *le;
	unsigned n = 0;

	for (le = ual ? ual->head : NULL; le; le = le->next) {

		struct ua *ua = le->data;

		/* regint 0: the account does not register at all */
		if (!account_regint(ua_account(ua)))
			continue;

		if (!ua_register(ua))
			++n;
	}

	return n;
}


static struct call *find_call(const struct ua *ua, enum call_state state,
			      bool onhold)
{
	struct list *calls = ua_calls(ua);
	struct le *le;

	for (le = calls ? calls->head : NULL; le; le = le->next) {

		struct call *call = le->data;

		if (call_state(call) == state &&
		    (state != CALL_STATE_ESTABLISHED ||
		     call_is_onhold(call) == onhold))
			return call;
	}

	return NULL;
}


/**
 * Remote "talk": answer the UA's ringing incoming call, or resume its
 * held call
 *
 * @param ua User-Agent
 *
 * @return 0 if acted, ENOENT if there is no such call
 */
int host_call_talk(struct ua *ua)
{
	struct call *call;

	if (!ua)
		return ENOENT;

	call = find_call(ua, CALL_STATE_INCOMING, false);
	if (call) {
		/* A call answered already stays incoming until its ACK;
		   answering it again fails, and there is nothing to do */
		int err = ua_answer(ua, call, VIDMODE_ON);

		return err == EINVAL ? ENOENT : err;
	}

	call = find_call(ua, CALL_STATE_ESTABLISHED, true);
	if (call)
		return call_hold(call, false);

	return ENOENT;
}


/**
 * Remote "hold": hold the UA's established call
 *
 * @param ua User-Agent
 *
 * @return 0 if acted, ENOENT if there is no such call
 */
int host_call_hold(struct ua *ua)
{
	struct call *call;

	if (!ua)
		return ENOENT;

	call = find_call(ua, CALL_STATE_ESTABLISHED, false);
	if (!call)
		return ENOENT;

	return call_hold(call, true);
}


#ifdef KAR_HAVE_VLOG
static void vlog_fmt(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(lvl, fmt, ap);
	va_end(ap);
}
#endif


/**
 * Log a line, with the module's name in front
 *
 * @param level HOST_INFO or HOST_WARN
 * @param fmt   Formatted line, as for re_hprintf()
 */
void host_log(int level, const char *fmt, ...)
{
	enum log_level lvl = level == HOST_WARN ? LEVEL_WARN : LEVEL_INFO;
	va_list ap;

	va_start(ap, fmt);
#ifdef KAR_HAVE_VLOG
	vlog_fmt(lvl, "keepalive_responder: %v", fmt, &ap);
#else
	/* 3.20 and later log only through a variadic call.  _loglv(false,
	   ...) directly: the callers' arguments are plain, not
	   RE_VA_ARGS-typed, and without HAVE_RE_ARG (C99) baresip's loglv
	   macro drops the "safe" argument */
	_loglv(false, lvl, "keepalive_responder: %v", fmt, &ap);
#endif
	va_end(ap);
}


/*
 * The capability SDP of OPTIONS answers: what baresip itself would offer
 * in a call of the account the request addresses (its codec lists and
 * media encryption, as call.c, audio.c and video.c build the offer),
 * read from baresip's lists without making a call.
 */

static struct account *caps_account(const struct pl *user)
{
	struct ua *ua = host_ua_for(user);

	return ua ? ua_account(ua) : NULL;
}


/* The account's media encryption decides the transport (RTP/SAVP,
   UDP/TLS/RTP/SAVPF, ...); none, or one without its own: RTP/AVP */
static const char *caps_proto(const struct account *acc)
{
	const char *id = account_mediaenc(acc);
	const struct menc *menc;

	if (!str_isset(id))
		return NULL;

	menc = menc_find(baresip_mencl(), id);

	return menc ? menc->sdp_proto : NULL;
}


/* baresip offers video only with a codec and a source or display */
static bool caps_video(const struct list *vidcodecl)
{
	return list_head(vidcodecl) &&
		(list_head(baresip_vidsrcl()) || list_head(baresip_vidispl()));
}


/* Not const: 2.0 to 4.4 declare account_autelev_pt() without it */
static uint32_t caps_telev_pt(struct account *acc)
{
#ifdef KAR_HAVE_TELEV_PT
	const struct config *cfg = conf_config();

	if (account_autelev_pt(acc))
		return account_autelev_pt(acc);

	return cfg ? cfg->audio.telev_pt : 0;
#else
	(void)acc;
	return 0;
#endif
}


/**
 * The fingerprint of what the capability SDP depends on
 *
 * Cheap enough for every OPTIONS: the lists, their ends and lengths
 * change whenever a codec module is loaded or unloaded.
 *
 * @param key  Fingerprint
 * @param user Request-URI user (selects the account)
 */
void host_caps_key(struct host_caps *key, const struct pl *user)
{
	struct account *acc = caps_account(user);
	const struct list *aul = account_aucodecl(acc);
	const struct list *vl = account_vidcodecl(acc);
	bool video = caps_video(vl);

	memset(key, 0, sizeof(*key));

	key->p[0] = aul;
	key->p[1] = list_head(aul);
	key->p[2] = list_tail(aul);
	key->p[3] = video ? vl : NULL;
	key->p[4] = video ? list_head(vl) : NULL;
	key->p[5] = video ? list_tail(vl) : NULL;
	key->p[6] = caps_proto(acc);
	key->n[0] = list_count(aul);
	key->n[1] = video ? list_count(vl) : 0;
	key->telev_pt = caps_telev_pt(acc);
}


/**
 * Build the capability SDP from baresip's codec lists
 *
 * @param sdpp    Formatted SDP
 * @param user    Request-URI user (selects the account)
 * @param id      o= session id
 * @param version o= session version
 *
 * @return 0 if success, otherwise errorcode
 */
int host_caps_sdp(struct kar_sdp **sdpp, const struct pl *user,
		  uint64_t id, uint32_t version)
{
	struct kar_codec au[KAR_SDP_CODECS], vid[KAR_SDP_CODECS];
	struct kar_sdp_media mv[2];
	struct account *acc = caps_account(user);
	const struct list *vl = account_vidcodecl(acc);
	struct le *le;
	size_t n = 0;

	memset(mv, 0, sizeof(mv));

	for (le = list_head(account_aucodecl(acc));
	     le && n < ARRAY_SIZE(au); le = le->next) {

		const struct aucodec *ac = le->data;

		/* audio.c refuses such codecs */
		if (ac->crate < 8000 || !ac->ch || !ac->pch)
			continue;

		au[n].pt    = ac->pt;
		au[n].name  = ac->name;
		au[n].srate = ac->crate;
		au[n].ch    = ac->pch;
		au[n].fmtp  = ac->fmtp;
		au[n].ench  = ac->fmtp_ench;
		au[n].data  = (void *)ac;
		++n;
	}

	mv[0].name  = "audio";
	mv[0].proto = caps_proto(acc);
	mv[0].v     = au;
	mv[0].n     = n;
	mv[0].telev = true;     /* audio.c always adds it */
	mv[0].telev_pt = caps_telev_pt(acc);

	n = 0;
	for (le = caps_video(vl) ? list_head(vl) : NULL;
	     le && n < ARRAY_SIZE(vid); le = le->next) {

		const struct vidcodec *vc = le->data;

		vid[n].pt    = vc->pt;
		vid[n].name  = vc->name;
		vid[n].srate = 90000;
		vid[n].ch    = 1;
		vid[n].fmtp  = vc->fmtp;
		vid[n].ench  = vc->fmtp_ench;
		vid[n].data  = (void *)vc;
		++n;
	}

	mv[1].name  = "video";
	mv[1].proto = mv[0].proto;
	mv[1].v     = vid;
	mv[1].n     = n;

	return kar_sdp_alloc(sdpp, mv, ARRAY_SIZE(mv), id, version);
}
