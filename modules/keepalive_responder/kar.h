/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file kar.h  keepalive_responder -- internal interfaces
 *
 * Everything here builds on libre alone.  Only host.c and the module's
 * top file (keepalive_responder.c: commands, export) see baresip, and
 * only they, wiring.c and actions.c call host.c, so the cores, the
 * reply builder and the parsers can be unit tested on raw SIP bytes
 * without a running baresip.  Each section names its file; what only
 * the tests reach comes last.
 */

/* libre 3.9 and later have only RE_ARRAY_SIZE */
#if !defined(ARRAY_SIZE) && defined(RE_ARRAY_SIZE)
#define ARRAY_SIZE RE_ARRAY_SIZE
#endif

struct ua;
struct kar_watch;


/*
 * Event packages (events.c)
 */

enum {
	KAR_EVENTS_MAX  = 16,   /**< packages in one list            */
	KAR_EVENT_NAMEL = 64,   /**< longest package name            */
};

/** A list of event package names, as configured */
struct kar_events {
	char name[KAR_EVENTS_MAX][KAR_EVENT_NAMEL];
	size_t n;
};

/** One item of a comma list; an error ends the list with it */
typedef int (kar_item_h)(const struct pl *item, void *arg);

int  kar_list_apply(const char *str, kar_item_h *itemh, void *arg);
void kar_trim(struct pl *pl);
int  kar_events_parse(struct kar_events *ev, const char *str);
int  kar_events_find(const struct kar_events *ev, const struct pl *pkg);
int  kar_events_print(struct re_printf *pf, const struct kar_events *ev);
int  kar_events_add(struct kar_events *ev, const char *name);
int  kar_event_parse(const struct pl *val, struct pl *pkg, struct pl *params);

/** Packages with a handling of their own */
enum kar_pkg {
	KAR_PKG_KEEPALIVE = 0,
	KAR_PKG_CHECK_SYNC,
	KAR_PKG_MWI,
	KAR_PKG_TALK,
	KAR_PKG_HOLD,
	KAR_PKG_OTHER,        /**< configured, plain 200             */
	KAR_PKG_N
};

enum kar_pkg kar_pkg_of(const char *name);

int  kar_mwi_check(const struct pl *body);


/*
 * Configuration values (conf.c)
 */

enum kar_log {
	KAR_LOG_NONE = 0,
	KAR_LOG_UNHANDLED,
	KAR_LOG_ALL,
};

int kar_conf_bool(bool *val, const char *str);
const char *kar_log_name(enum kar_log log);

/** keepalive_responder_watch: what a lost prober makes the module do */
enum kar_watch_mode {
	KAR_WATCH_MODE_OFF = 0,     /**< no table, no feed, no timer     */
	KAR_WATCH_MODE_EVENT,       /**< log and raise probe-lost/back   */
	KAR_WATCH_MODE_REREGISTER,  /**< also re-register every UA       */
};

const char *kar_watch_mode_name(enum kar_watch_mode mode);


/*
 * A request, read once at the door; headers by name (hdr.c)
 */

/** Request classes that the counters and the table distinguish */
enum kar_method {
	KAR_M_OPTIONS = 0,
	KAR_M_NOTIFY,
	KAR_M_OTHER,
	KAR_M_N
};

/** The headers a view holds */
enum kar_hdr {
	KAR_H_ACCEPT = 0,
	KAR_H_CONTENT_ENCODING,
	KAR_H_CONTENT_LENGTH,
	KAR_H_CONTENT_TYPE,
	KAR_H_CSEQ,
	KAR_H_EVENT,
	KAR_H_REQUIRE,
	KAR_H_TO,
	KAR_H_USER_AGENT,
	KAR_H_VIA,
	KAR_H_N
};

/** Does the request address a local UA (by its Request-URI)? */
typedef bool (kar_ua_match_h)(const struct sip_msg *msg, void *arg);

/** One request as the module reads it: headers by name only */
struct kar_req {
	const struct sip_msg *msg;  /**< the rest, as libre decoded it   */
	enum kar_method meth;
	bool invite_txn;            /**< ACK or CANCEL                   */
	bool owned;                 /**< a local UA owns the URI's user  */
	bool has_via;               /**< via holds the top Via           */
	struct sip_via via;         /**< top Via                         */
	struct pl totag;            /**< To tag, empty if none           */
	struct {
		const struct sip_hdr *first;  /**< NULL if none          */
		uint32_t n;                   /**< comma items count     */
	} hdr[KAR_H_N];
};

void kar_req_read(struct kar_req *rq, const struct sip_msg *msg,
		  kar_ua_match_h *ownh, void *arg);
bool kar_hdr_is(const struct sip_hdr *hdr, enum sip_hdrid id);
const struct sip_hdr *kar_hdr_next(const struct sip_hdr *hdr);
uint32_t kar_hdr_count(const struct sip_msg *msg, enum sip_hdrid id,
		       const struct sip_hdr **first);
bool kar_method_invite_txn(const struct pl *met);
const char *kar_method_name(enum kar_method meth);
int  kar_write_u32(struct mbuf *mb, uint32_t v);


/*
 * Decision table (policy.c)
 */

/** What the module answers; KAR_R_NONE means pass the request on */
enum kar_reply {
	KAR_R_NONE = 0,
	KAR_R_OPTIONS_OK,     /**< 200 + capability headers          */
	KAR_R_NOTIFY_OK,      /**< 200                                */
	KAR_R_BAD_EVENT,      /**< 489 Bad Event + Allow-Events       */
	KAR_R_NO_EVENT,       /**< 400 Missing Event Header           */
	KAR_R_EVENT_SYNTAX,   /**< 400 Bad Event Header               */
	KAR_R_NOT_ALLOWED,    /**< 405 + Allow (tail listener only)   */
	KAR_R_BAD_SUMMARY,    /**< 400 for a malformed message-summary */
	KAR_R_NO_CALL,        /**< 481: talk/hold with nothing to do  */
	KAR_R_FAILED,         /**< 500: the action failed             */
	KAR_R_BAD_CLEN,       /**< 400: Content-Length (validate.c)   */
	KAR_R_BAD_CSEQ,       /**< 400: CSeq missing or other method  */
	KAR_R_BAD_SCHEME,     /**< 416 Unsupported URI Scheme         */
	KAR_R_BAD_EXTENSION,  /**< 420 + Unsupported                  */
	KAR_R_BAD_MEDIA,      /**< 415 + Accept, Accept-Encoding      */
	KAR_R_DRAIN,          /**< 503 + Retry-After while draining   */
	KAR_R_N
};

/** The outcome of one decision */
struct kar_verdict {
	enum kar_method meth;
	enum kar_reply reply;
	int pkg;           /**< index in the events list, -1 other  */
	bool has_pkg;      /**< NOTIFY named a parseable package    */
	bool stock_bad;    /**< stock baresip would not answer 2xx  */
	bool probe;        /**< OPTIONS or out-of-dialog NOTIFY     */
	bool keepalive;    /**< out of dialog, OPTIONS or NOTIFY of
				the keep-alive package: a server's
				probe, for the probe watch           */
	bool dialog;       /**< a To tag (by name)                  */
	struct pl event;   /**< its package name, when has_pkg      */
	struct pl params;  /**< and the Event's parameters          */
};

/** Inputs of the decision besides the request itself */
struct kar_policy {
	bool exclusive;
	bool drain;        /**< probes get 503 (out of rotation)    */
	bool stock_fallback; /**< the core answers OPTIONS that name no
				  UA from a fallback account (1.1 on) */
	const struct kar_events *events;
	kar_ua_match_h *uah;
	void *arg;
};

void kar_policy_decide(struct kar_verdict *v, const struct kar_policy *pol,
		       const struct kar_req *rq);

/** baresip's origin filter, as the host asks it (host.c) */
struct kar_origin {
	void *(*named)(const struct sip_msg *msg);   /**< UA named, or NULL */
	bool (*check)(void *ua, const struct sip_msg *msg);
	struct list *(*uas)(void);                    /**< every UA         */
};

bool kar_origin_ok(const struct kar_origin *o, const struct sip_msg *msg);


/*
 * Checks before the module answers (validate.c)
 */

enum kar_reply kar_validate(const struct kar_req *rq, bool summary);
void kar_validate_body(struct pl *body, const struct kar_req *rq);


/*
 * Capability SDP for OPTIONS answers (sdp.c)
 */

enum {
	KAR_SDP_CODECS = 64,  /**< codecs in one m= section             */
};

/** One codec as the SDP describes it (host.c reads it from baresip) */
struct kar_codec {
	const char *pt;       /**< payload type, NULL: next dynamic one  */
	const char *name;
	uint32_t srate;       /**< RTP clock rate                        */
	uint8_t ch;           /**< RTP channels                          */
	const char *fmtp;     /**< a=fmtp parameters, or NULL            */
	sdp_fmtp_enc_h *ench; /**< the codec's fmtp encoder, or NULL     */
	void *data;           /**< its argument                          */
};

/** One m= section */
struct kar_sdp_media {
	const char *name;     /**< "audio", "video"                      */
	const char *proto;    /**< NULL: RTP/AVP                         */
	const struct kar_codec *v;
	size_t n;
	bool telev;           /**< add telephone-event                   */
	uint32_t telev_pt;    /**< its payload type, 0: 101              */
};

struct kar_sdp;

int  kar_sdp_alloc(struct kar_sdp **sp, const struct kar_sdp_media *mv,
		   size_t mc, uint64_t id, uint32_t version);
int  kar_sdp_length(struct kar_sdp *s, const struct sa *laddr,
		    size_t *lenp);
int  kar_sdp_encode(struct mbuf *mb, struct kar_sdp *s,
		    const struct sa *laddr);
bool kar_sdp_accepted(const struct kar_req *rq);


/*
 * Replies (reply.c)
 */

struct kar_replies;

enum {
	KAR_RETRY_DEFAULT = 300,    /**< Retry-After of a drain 503, s    */
	KAR_RETRY_MAX     = 86400,
};

int  kar_replies_alloc(struct kar_replies **rp, const struct kar_events *ev,
		       uint64_t secret);
void kar_replies_sdp(struct kar_replies *r, struct kar_sdp *sdp);
int  kar_replies_retry(struct kar_replies *r, uint32_t secs);
void kar_reply_status(enum kar_reply reply, uint16_t *scode,
		      const char **reason);
int  kar_reply_send(struct kar_replies *r, struct sip *sip,
		    const struct kar_req *rq, enum kar_reply reply,
		    bool stateful);


/*
 * Counters (stats.c)
 */

enum kar_counter {
	KAR_C_ANSWERED = 0,
	KAR_C_DRAINED,          /**< 503 to a probe while draining  */
	KAR_C_PASSED,
	KAR_C_REJECTED,
	KAR_C_DROPPED_RATE,
	KAR_C_DROPPED_SCANNER,
	KAR_C_UNTRUSTED,
	KAR_C_N
};

/** What the module did for an event package */
enum kar_action {
	KAR_A_MWI = 0,        /**< MWI event emitted                 */
	KAR_A_MWI_BAD,        /**< malformed summary, 400            */
	KAR_A_CHECK_SYNC,     /**< check-sync reported               */
	KAR_A_REREGISTER,     /**< UAs asked to re-register          */
	KAR_A_TALK,           /**< call answered or resumed          */
	KAR_A_HOLD,           /**< call put on hold                  */
	KAR_A_NO_CALL,        /**< talk/hold with no call, 481       */
	KAR_A_PROBE_LOST,     /**< a regular prober fell silent      */
	KAR_A_PROBE_BACK,     /**< a lost prober probed again        */
	KAR_A_N
};

struct kar_stats {
	uint64_t c[KAR_M_N][KAR_C_N];
	uint64_t act[KAR_A_N];
	uint64_t pkg[KAR_EVENTS_MAX + 1];    /**< last slot: other      */
	uint64_t since;                      /**< tmr_jiffies() at reset */
};

/** What the printers need besides the counters */
struct kar_stats_view {
	const struct kar_stats *st;
	const struct kar_events *events;
	bool exclusive;
	bool drain;
	uint64_t now;                        /**< tmr_jiffies()          */
	const struct kar_watch *watch;       /**< NULL: watch off        */
	uint32_t blocked;                    /**< sources blocked now    */
};

void kar_stats_reset(struct kar_stats *st, uint64_t now);
void kar_stats_count(struct kar_stats *st, const struct kar_verdict *v,
		     enum kar_counter c);
void kar_stats_action(struct kar_stats *st, enum kar_action a);
void kar_stats_move(struct kar_stats *st, enum kar_method meth,
		    enum kar_counter from, enum kar_counter to);
int  kar_stats_print(struct re_printf *pf, const struct kar_stats_view *sv);
int  kar_stats_json(struct re_printf *pf, const struct kar_stats_view *sv);


/*
 * The listener chain (chain.c)
 */

struct kar_chain;

int  kar_chain_attach(struct kar_chain **chp, struct sip *sip,
		      sip_msg_h *headh, sip_msg_h *tailh, void *arg);
int  kar_chain_responses(struct kar_chain *ch, struct sip *sip,
			 sip_msg_h *firsth, sip_msg_h *strayh, void *arg);
bool kar_chain_keep_last(struct kar_chain *ch);
bool kar_chain_hooked(const struct kar_chain *ch);


/*
 * Rate-limited logging (guard.c)
 */

struct kar_loglimit {
	uint64_t last;      /**< tmr_jiffies() of the last refill       */
	uint32_t tokens;
	uint32_t suppressed;
};

bool kar_loglimit_take(struct kar_loglimit *ll, uint64_t now,
		       uint32_t *suppressed);


/*
 * Bounded table of per-source state (srctab.c)
 *
 * A fixed number of sources by address (any port), a payload each; a new
 * source takes the least recently seen one's slot.  The rate limiter and
 * the enumeration guard keep their state in one each.
 */

struct kar_srctab;

/** One source in the table, and its payload */
typedef void (kar_srctab_h)(const struct sa *src, const void *data,
			    void *arg);

int  kar_srctab_alloc(struct kar_srctab **tp, uint32_t slots, size_t size,
		      uint64_t key);
void *kar_srctab_get(struct kar_srctab *t, const struct sa *src,
		     bool create, bool *fresh);
void kar_srctab_each(const struct kar_srctab *t, kar_srctab_h *h,
		     void *arg);


/*
 * Guard: per-source rate, scanner filter, trusted sources (guard.c)
 */

struct kar_rate;

int  kar_rate_alloc(struct kar_rate **rp, uint32_t rate, uint32_t slots,
		    uint64_t key);
bool kar_rate_take(struct kar_rate *r, const struct sa *src, uint64_t now);

enum {
	KAR_UA_MAX  = 32,    /**< User-Agent substrings               */
	KAR_UA_PATL = 64,    /**< longest substring                   */
};

struct kar_uafilter {
	char pat[KAR_UA_MAX][KAR_UA_PATL];
	size_t len[KAR_UA_MAX];
	size_t n;
};

int  kar_uafilter_parse(struct kar_uafilter *f, const char *str);

enum {
	KAR_ACL_MAX = 64,    /**< trusted addresses and prefixes      */
};

struct kar_acl_entry {
	uint8_t addr[16];    /**< network, host bits cleared          */
	int af;
	uint8_t bits;
};

struct kar_acl {
	struct kar_acl_entry v[KAR_ACL_MAX];
	size_t n;
};

int  kar_acl_parse(struct kar_acl *acl, const char *str, char *bad,
		   size_t sz);
bool kar_acl_match(const struct kar_acl *acl, const struct sa *src);
int  kar_acl_entry_print(struct re_printf *pf,
			 const struct kar_acl_entry *e);
bool kar_sa_same_addr(const struct sa *a, const struct sa *b);


/*
 * Enumeration guard: blocked sources (guard.c)
 */

enum {
	KAR_ENUM_MAX    = 32,      /**< largest enum_limit            */
	KAR_ENUM_WINDOW = 60000,   /**< ms in which users count       */
	KAR_BAN_MAX     = 86400,   /**< longest enum_ban, s           */
};

struct kar_block;

int  kar_block_alloc(struct kar_block **bp, uint32_t limit, uint32_t ban,
		     uint32_t slots, uint64_t key);
bool kar_block_check(struct kar_block *b, const struct sa *src,
		     uint64_t now);
bool kar_block_forget(struct kar_block *b, const struct sa *src,
		      uint64_t now);
uint32_t kar_block_count(const struct kar_block *b, uint64_t now);

/** What the guard does with a request */
enum kar_guard {
	KAR_G_PASS = 0,      /**< on to the rate limit and verdict    */
	KAR_G_DROP,          /**< drop silently (dropped-scanner)     */
	KAR_G_BLOCK_UA,      /**< drop; a scanner UA blocked its source */
	KAR_G_BLOCK_ENUM,    /**< drop; the source reached the limit  */
};

/** The guard's inputs */
struct kar_guardcfg {
	const struct kar_uafilter *drop_ua;
	const struct kar_acl *trusted;   /**< exempt when set         */
	struct kar_block *block;         /**< NULL: nothing blocks    */
	kar_ua_match_h *callh;           /**< a call's Call-ID?       */
	void *arg;
};

enum kar_guard kar_guard_check(const struct kar_guardcfg *g,
			       const struct kar_req *rq, bool own,
			       uint64_t now);
bool kar_guard_dialog(const struct kar_guardcfg *g,
		      const struct kar_req *rq);


/*
 * The endpoint's own servers: where the UAs' REGISTERs are answered
 * from (servers.c)
 *
 * Wiring, in short: every SIP response, before libre's transactions:
 * kar_servers_answer(); a response that libre's transactions passed
 * on: kar_servers_stray(); baresip's REGISTER_OK or REGISTER_FAIL:
 * kar_servers_confirm() with the UA's address of record.
 */

enum {
	KAR_SERVERS_MAX = 16,       /**< servers remembered at once      */
	KAR_SERVER_AORL = 96,       /**< address of record kept, bytes   */
	KAR_SERVER_TTL  = 3600,     /**< s, when the answer grants none  */
};

/** One server: the source of a UA's REGISTER answers */
struct kar_server {
	struct sa addr;
	enum sip_transp tp;
	char aor[KAR_SERVER_AORL];  /**< the UA's, cut if longer         */
	uint64_t seen;              /**< ms of its latest answer         */
	uint64_t until;             /**< forgotten at this ms            */
};

struct kar_servers {
	struct kar_server v[KAR_SERVERS_MAX];
	size_t n;
	struct {                    /**< the answer noted last           */
		struct sa addr;
		enum sip_transp tp;
		uint32_t expires;   /**< s granted; 0: registration ended */
		bool set;
	} pend;
};

void kar_servers_answer(struct kar_servers *s, const struct sip_msg *msg);
void kar_servers_stray(struct kar_servers *s);
bool kar_servers_confirm(struct kar_servers *s, const char *aor,
			 uint64_t now, const struct kar_server **vp);
bool kar_servers_match(const struct kar_servers *s, const struct sa *src,
		       uint64_t now);
int  kar_servers_json(struct re_printf *pf, const struct kar_servers *s,
		      const struct kar_acl *trusted, uint64_t now);
int  kar_servers_print(struct re_printf *pf, const struct kar_servers *s,
		       const struct kar_acl *trusted, uint64_t now);


/*
 * Dropping blocked sources' datagrams before decoding (udpdrop.c)
 */

struct kar_udpdrop;

/** May a tagged request to this Request-URI user, not decoded yet,
    belong to a local UA's dialog? */
typedef bool (kar_user_h)(const struct pl *user, void *arg);


int  kar_udpdrop_alloc(struct kar_udpdrop **up, struct kar_block *b,
		       struct kar_stats *st, kar_user_h *userh, void *arg);
int  kar_udpdrop_watch(struct kar_udpdrop *ud, struct udp_sock *us);


/*
 * Actions of accepted event packages (actions.c)
 */

struct kar_actcfg {
	bool reregister;     /**< check-sync re-registers every UA   */
};

enum kar_reply kar_action_run(const struct kar_actcfg *cfg,
			      struct kar_stats *st, enum kar_pkg pkg,
			      const struct kar_req *rq,
			      const struct kar_verdict *v);


/*
 * Everything that calls baresip (host.c)
 */

/** What the capability SDP depends on: when it changes, rebuild */
struct host_caps {
	const void *p[7];    /**< lists, their ends, transport         */
	size_t n[2];         /**< audio, video codecs                   */
	uint32_t telev_pt;
};

/** Called once baresip begins to shut down */
typedef void (host_shutdown_h)(void);

/** Called when a UA's registration has an outcome (its address of
    record) */
typedef void (host_register_h)(const char *aor);

struct sip *host_sip(void);
int  host_abi_check(void);
const char *host_built_for(void);
int  host_conf_str(const char *key, char *buf, size_t sz);
bool host_ua_match(const struct sip_msg *msg, void *arg);
bool host_ua_owns(const struct sip_msg *msg, void *arg);
bool host_call_known(const struct sip_msg *msg, void *arg);
bool host_dialog_maybe(const struct pl *user, void *arg);
const struct kar_origin *host_origin(void);
void host_log(int level, const char *fmt, ...);
struct ua *host_ua_for(const struct pl *user);
void host_mwi(struct ua *ua, const struct pl *body);
int  host_check_sync(struct ua *ua, const struct pl *params);
unsigned host_reregister_all(void);
int  host_call_talk(struct ua *ua);
int  host_call_hold(struct ua *ua);
void host_caps_key(struct host_caps *key, const struct pl *user);
int  host_caps_sdp(struct kar_sdp **sdpp, const struct pl *user,
		   uint64_t id, uint32_t version);
int  host_events_register(host_shutdown_h *sh, host_register_h *rh);
void host_events_unregister(void);
void host_event(const char *name, const char *text);

/** host_log() levels */
enum { HOST_INFO, HOST_WARN };


/*
 * Probe watch: which servers probe us, how often, and who went silent
 * (watch.c, docs/watch.md)
 *
 * Pure and clocked from outside: every call that depends on time takes
 * `now` in ms (tmr_jiffies()).  One allocation for the whole table,
 * nothing per probe.  Wiring (wiring.c), in short:
 *
 *   kar_watch_alloc(&w, factor, watch_h, arg);
 *   per out-of-dialog OPTIONS and NOTIFY keep-alive (the verdict's
 *   keepalive) that the guard and the rate limit let through, from a
 *   source the trusted list and baresip's origin filter allow:
 *     kar_watch_probe(w, &msg->src, kind, kar_watch_fp(rq), now);
 *     then arm the one timer at kar_watch_deadline(w)
 *   timer handler: kar_watch_check(w, now), then arm it again
 *   at shutdown: kar_watch_shutdown(w)
 */

enum {
	KAR_WATCH_MAX      = 32,       /**< probers remembered at once  */
	KAR_WATCH_GAPS     = 8,        /**< recent gaps kept per prober */
	KAR_WATCH_FACTOR   = 3,        /**< default loss factor (2..20) */
	KAR_WATCH_FACTOR_MIN = 2,
	KAR_WATCH_FACTOR_MAX = 20,
	KAR_WATCH_IVL_MIN  = 1000,     /**< shortest interval, ms       */
	KAR_WATCH_IVL_MAX  = 3600000,  /**< longest interval, ms        */
};

/** The kind of probe; one source may send both, on timers of their own */
enum kar_watch_kind {
	KAR_WATCH_OPTIONS = 0,  /**< out-of-dialog OPTIONS              */
	KAR_WATCH_NOTIFY,       /**< out-of-dialog NOTIFY keep-alive    */
	KAR_WATCH_KIND_N
};

enum kar_watch_state {
	KAR_WATCH_LEARNING = 0, /**< no steady interval (yet)           */
	KAR_WATCH_REGULAR,      /**< interval learned, watched          */
	KAR_WATCH_LOST,         /**< silent for factor x interval       */
	KAR_WATCH_STATE_N
};

/** What the handler is told */
enum kar_watch_ev {
	KAR_WATCH_EV_LOST = 0,  /**< "probe-lost", once per silence     */
	KAR_WATCH_EV_BACK,      /**< "probe-back", a lost prober probed */
};

/** One prober, as the handler and kar_watch_find() show it */
struct kar_watch_info {
	struct sa src;          /**< address; port of its latest probe  */
	enum kar_watch_kind kind;
	enum kar_watch_state state;
	uint64_t ivl;           /**< learned interval, ms; 0 learning   */
	uint64_t last;          /**< ms of its latest probe             */
	uint64_t gap;           /**< ms between its last two probes     */
	uint32_t losses;        /**< times it was lost                  */
};

/** Summary of the table, for the counters */
struct kar_watch_sum {
	uint32_t n[KAR_WATCH_STATE_N];  /**< probers per state          */
	uint64_t losses;                /**< losses since alloc/reset   */
};

/**
 * Called when a prober is lost (from kar_watch_check(), or from
 * kar_watch_probe() when its probe comes after the deadline) and when
 * a lost prober probes again (from kar_watch_probe()).  The caller logs
 * kar_watch_ev_name(ev), the source and the interval, and raises its
 * event.  The handler must not free the table.
 */
typedef void (kar_watch_h)(enum kar_watch_ev ev,
			   const struct kar_watch_info *p, void *arg);

struct kar_watch;

/* The table: one allocation; factor 2..20 (0: 3), else EINVAL */
int  kar_watch_alloc(struct kar_watch **wp, uint32_t factor,
		     kar_watch_h *h, void *arg);

/* Call-ID, CSeq and Via branch of a probe, never 0 (0: none) */
uint64_t kar_watch_fp(const struct kar_req *rq);

/* Feed a probe; false for a retransmission (same fingerprint as the
   prober's latest) or bad arguments.  May call the handler (return,
   or loss then return when its probe comes after its deadline). */
bool kar_watch_probe(struct kar_watch *w, const struct sa *src,
		     enum kar_watch_kind kind, uint64_t fp, uint64_t now);

/* From the timer: report the probers due at now (each loss once) */
void kar_watch_check(struct kar_watch *w, uint64_t now);

/* When to run kar_watch_check() next, absolute ms; 0: no timer */
uint64_t kar_watch_deadline(const struct kar_watch *w);

/* Forget all probers and the loss total */
void kar_watch_reset(struct kar_watch *w);

/* One-way: the handler is never called again, no deadline */
void kar_watch_shutdown(struct kar_watch *w);

/* Probers per state, and the losses */
void kar_watch_sum(const struct kar_watch *w, struct kar_watch_sum *sum);

/* The listing, most recently heard first: as JSON {"factor","summary",
   "probers":[{"source","kind","state","interval_ms","since_last_s",
   "losses"}]}, as text */
int  kar_watch_json(struct re_printf *pf, const struct kar_watch *w,
		    uint64_t now);
int  kar_watch_print(struct re_printf *pf, const struct kar_watch *w,
		     uint64_t now);

/* "OPTIONS"/"NOTIFY", "learning"/"regular"/"lost",
   "probe-lost"/"probe-back" */
const char *kar_watch_kind_name(enum kar_watch_kind kind);
const char *kar_watch_state_name(enum kar_watch_state state);
const char *kar_watch_ev_name(enum kar_watch_ev ev);


/*
 * The configuration, loaded (conf.c)
 */

/** Every config key's value */
struct kar_conf {
	bool exclusive;
	struct kar_acl trusted;
	bool remote_control;
	bool reregister;                   /**< check_sync reregister  */
	uint32_t rate;                     /**< per source and second  */
	struct kar_uafilter drop_ua;
	uint32_t enum_limit;
	uint32_t enum_ban;                 /**< seconds                */
	enum kar_log log;
	bool sdp;
	bool drain;
	uint32_t drain_retry;              /**< Retry-After, seconds   */
	enum kar_watch_mode watch;
	uint32_t watch_factor;
	struct kar_events events;
	enum kar_pkg pkg[KAR_EVENTS_MAX];  /**< handling per package   */
};

/** A log line at a host_log() level */
typedef void (kar_log_h)(int level, const char *fmt, ...);

/** Where the configuration comes from */
struct kar_confsrc {
	/** A key's value into buf: ENOENT if unset, E2BIG if longer */
	int (*get)(const char *key, char *buf, size_t sz);
	kar_log_h *log;
};

int kar_conf_load(struct kar_conf *c, const struct kar_confsrc *src);


/*
 * The cores, wired to baresip, the counters and the log (wiring.c)
 */

/** The probe watch, with its timer */
struct kar_probes {
	enum kar_watch_mode mode;
	struct kar_watch *w;               /**< NULL: off              */
	struct tmr tmr;
	uint64_t due;                      /**< tmr armed for, 0: not  */
	struct kar_stats *st;
};

int  kar_probes_init(struct kar_probes *pw, enum kar_watch_mode mode,
		     uint32_t factor, struct kar_stats *st);
void kar_probes_feed(struct kar_probes *pw, const struct kar_req *rq,
		     const struct kar_verdict *v, bool allowed);
void kar_probes_shutdown(struct kar_probes *pw);
void kar_probes_close(struct kar_probes *pw);

/** The enumeration guard, with its UDP helpers */
struct kar_gate {
	struct kar_guardcfg cfg;
	struct kar_block *block;
	struct kar_udpdrop *udp;           /**< drop before decoding   */
	uint32_t ban;                      /**< seconds, for the log   */
	struct kar_stats *st;
	struct kar_loglimit *ll;
};

int  kar_gate_init(struct kar_gate *gw, const struct kar_conf *cfg,
		   uint32_t slots, struct kar_stats *st,
		   struct kar_loglimit *ll);
bool kar_gate_drop(struct kar_gate *gw, const struct kar_req *rq,
		   const struct kar_verdict *v, bool own);
void kar_gate_close(struct kar_gate *gw);

/** The capability SDP of OPTIONS answers */
struct kar_caps {
	bool on;
	struct kar_sdp *sdp;
	struct host_caps key;              /**< what it was built from */
	bool built;
	uint64_t id;                       /**< o= session id          */
	uint32_t version;                  /**< o= version: rebuilds   */
};

void kar_caps_refresh(struct kar_caps *c, struct kar_replies *r,
		      const struct pl *user);
void kar_caps_close(struct kar_caps *c);

/*
 * Test hooks: what no other file of the module calls, declared for the
 * unit tests and fuzzers, which check these parts on their own
 */

enum kar_method kar_method_of(const struct pl *met);
int kar_conf_log(enum kar_log *val, const char *str);
int kar_conf_check_sync(bool *reregister, const char *str);
const char *kar_conf_list(const char *str);
int kar_conf_u32(uint32_t *val, const char *str);
int kar_conf_range(uint32_t *val, const char *str, uint32_t min,
		   uint32_t max);
int kar_conf_watch(enum kar_watch_mode *val, const char *str);
int kar_conf_watch_factor(uint32_t *val, const char *str);
int  kar_reply_encode(struct mbuf *mb, const struct kar_replies *r,
		      const struct kar_req *rq, enum kar_reply reply,
		      bool *rport);
bool kar_uafilter_match(const struct kar_uafilter *f,
			const struct kar_req *rq);
bool kar_block_add(struct kar_block *b, const struct sa *src,
		   uint64_t now);
bool kar_block_enum(struct kar_block *b, const struct sa *src,
		    const struct pl *user, uint64_t now);
size_t kar_servers_count(const struct kar_servers *s, uint64_t now);
bool kar_raw_dialog(const struct mbuf *mb, kar_user_h *userh, void *arg);
size_t kar_udpdrop_count(struct kar_udpdrop *ud);
bool kar_udpdrop_ok(const struct kar_udpdrop *ud);
int  kar_watch_set_factor(struct kar_watch *w, uint32_t factor);
uint32_t kar_watch_factor(const struct kar_watch *w);
size_t kar_watch_count(const struct kar_watch *w);
const struct kar_watch_info *kar_watch_find(const struct kar_watch *w,
					    const struct sa *src,
					    enum kar_watch_kind kind);
int  kar_watch_sum_odict(struct odict **op, const struct kar_watch *w);
