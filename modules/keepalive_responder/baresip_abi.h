/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file baresip_abi.h  keepalive_responder -- baresip ABIs without a header
 *
 * Debian ships baresip without baresip.h.  These are the declarations of
 * the baresip symbols the module uses, for each generation a distribution
 * ships as binaries only, written from and checked against that tag's
 * include/baresip.h:
 *
 *   1.0.x  Debian 12 (baresip-core 1.0.0, libre 1.1.0)
 *   1.1.x  Debian 13 (baresip-core 1.1.0, libre 2.0.1)
 *
 * api.h includes this file when no real baresip.h is used.
 */

#define KAR_ABI(major, minor) (KAR_BARESIP == KAR_V(major, minor))

/* The generations declared here: api.sh reads this line */
#if !(KAR_ABI(1, 0) || KAR_ABI(1, 1))
#error "no declarations for this baresip: build against its baresip.h"
#endif

struct ua;
struct call;
struct conf;
struct commands;
struct account;


/* Logging */
enum log_level {
	LEVEL_DEBUG = 0,
	LEVEL_INFO,
	LEVEL_WARN,
	LEVEL_ERROR,
};

void vlog(enum log_level level, const char *fmt, va_list ap);


/* Configuration */
struct conf *conf_cur(void);


/* User agents.  1.1 inserted FALLBACK_OK/FAIL before MWI_NOTIFY: every
   later event moved by two */
enum ua_event {
	UA_EVENT_REGISTERING = 0,
	UA_EVENT_REGISTER_OK,
	UA_EVENT_REGISTER_FAIL,
	UA_EVENT_UNREGISTERING,
#if KAR_ABI(1, 1)
	UA_EVENT_FALLBACK_OK,
	UA_EVENT_FALLBACK_FAIL,
#endif
	UA_EVENT_MWI_NOTIFY,
	UA_EVENT_SHUTDOWN,
	UA_EVENT_EXIT,
};

struct sip  *uag_sip(void);
struct account *ua_account(const struct ua *ua);
uint32_t account_regint(const struct account *acc);
const char *account_aor(const struct account *acc);
struct ua   *uag_find(const struct pl *cuser);
struct list *uag_list(void);
struct list *ua_calls(const struct ua *ua);
int  ua_register(struct ua *ua);
void ua_event(struct ua *ua, enum ua_event ev, struct call *call,
	      const char *fmt, ...);
const char  *uag_event_str(enum ua_event ev);

#if KAR_ABI(1, 1)
struct ua   *uag_find_msg(const struct sip_msg *msg);
void module_event(const char *module, const char *event, struct ua *ua,
		  struct call *call, const char *fmt, ...);
#endif

/* UA event handlers (the shutdown event) */
typedef void (ua_event_h)(struct ua *ua, enum ua_event ev,
			  struct call *call, const char *prm, void *arg);
int  uag_event_register(ua_event_h *eh, void *arg);
void uag_event_unregister(ua_event_h *eh);


/* Calls */
enum call_state {
	CALL_STATE_IDLE = 0,
	CALL_STATE_INCOMING,
	CALL_STATE_OUTGOING,
	CALL_STATE_RINGING,
	CALL_STATE_EARLY,
	CALL_STATE_ESTABLISHED,
	CALL_STATE_TERMINATED,
	CALL_STATE_UNKNOWN
};

enum vidmode {
	VIDMODE_OFF = 0,
	VIDMODE_ON,
};

enum call_state call_state(const struct call *call);
const char *call_id(const struct call *call);
bool call_is_onhold(const struct call *call);
int  call_hold(struct call *call, bool hold);
int  ua_answer(struct ua *ua, struct call *call, enum vidmode vmode);


/* Commands */
enum {
	CMD_PRM = (1<<0),
};

struct cmd_arg {
	char key;
	char *prm;
	void *data;
};

struct cmd {
	const char *name;
	char key;
	int flags;
	const char *desc;
	re_printf_h *h;
};

struct commands *baresip_commands(void);
int  cmd_register(struct commands *commands,
		  const struct cmd *cmdv, size_t cmdc);
void cmd_unregister(struct commands *commands, const struct cmd *cmdv);


/* Modules: the name baresip looks the descriptor up by */
#ifdef STATIC
#define DECL_EXPORTS(name) exports_ ##name
#else
#define DECL_EXPORTS(name) exports
#endif


/*
 * Codecs and media encryption, for the capability SDP of OPTIONS
 * answers.  Identical in 1.0.0 and 1.1.0 (include/baresip.h: struct
 * menc 1.0.0:649 / 1.1.0:666, the codec handler types 1.0.0:1015 /
 * 1.1.0:1057, struct aucodec 1.0.0:1031 / 1.1.0:1073, struct vidcodec
 * 1.0.0:1093 / 1.1.0:1135).  The module only reads these through the
 * pointers baresip's lists hold: struct menc is declared up to the field
 * read, never allocated or copied.
 */
struct vidframe;
struct auenc_state;
struct audec_state;
struct videnc_state;
struct viddec_state;
struct aucodec;
struct vidcodec;

struct menc {
	struct le le;
	const char *id;
	const char *sdp_proto;
	/* further fields not declared: not read */
};

struct auenc_param {
	uint32_t ptime;
	uint32_t bitrate;
};

typedef int (auenc_update_h)(struct auenc_state **aesp,
			     const struct aucodec *ac,
			     struct auenc_param *prm, const char *fmtp);
typedef int (auenc_encode_h)(struct auenc_state *aes,
			     bool *marker, uint8_t *buf, size_t *len,
			     int fmt, const void *sampv, size_t sampc);
typedef int (audec_update_h)(struct audec_state **adsp,
			     const struct aucodec *ac, const char *fmtp);
typedef int (audec_decode_h)(struct audec_state *ads,
			     int fmt, void *sampv, size_t *sampc,
			     bool marker, const uint8_t *buf, size_t len);
typedef int (audec_plc_h)(struct audec_state *ads,
			  int fmt, void *sampv, size_t *sampc,
			  const uint8_t *buf, size_t len);

struct aucodec {
	struct le le;
	const char *pt;
	const char *name;
	uint32_t srate;
	uint32_t crate;
	uint8_t ch;
	uint8_t pch;
	uint32_t ptime;
	const char *fmtp;
	auenc_update_h *encupdh;
	auenc_encode_h *ench;
	audec_update_h *decupdh;
	audec_decode_h *dech;
	audec_plc_h    *plch;
	sdp_fmtp_enc_h *fmtp_ench;
	sdp_fmtp_cmp_h *fmtp_cmph;
};

struct videnc_param {
	unsigned bitrate;
	unsigned pktsize;
	double fps;
	uint32_t max_fs;
};

typedef int (videnc_packet_h)(bool marker, uint64_t rtp_ts,
			      const uint8_t *hdr, size_t hdr_len,
			      const uint8_t *pld, size_t pld_len,
			      void *arg);
typedef int (videnc_update_h)(struct videnc_state **vesp,
			      const struct vidcodec *vc,
			      struct videnc_param *prm, const char *fmtp,
			      videnc_packet_h *pkth, void *arg);
typedef int (videnc_encode_h)(struct videnc_state *ves, bool update,
			      const struct vidframe *frame,
			      uint64_t timestamp);
typedef int (viddec_update_h)(struct viddec_state **vdsp,
			      const struct vidcodec *vc, const char *fmtp);
typedef int (viddec_decode_h)(struct viddec_state *vds,
			      struct vidframe *frame, bool *intra,
			      bool marker, uint16_t seq, struct mbuf *mb);

struct vidcodec {
	struct le le;
	const char *pt;
	const char *name;
	const char *variant;
	const char *fmtp;
	videnc_update_h *encupdh;
	videnc_encode_h *ench;
	viddec_update_h *decupdh;
	viddec_decode_h *dech;
	sdp_fmtp_enc_h *fmtp_ench;
	sdp_fmtp_cmp_h *fmtp_cmph;
};

/* An account's own codec lists if it has them, else baresip's */
struct list *account_aucodecl(const struct account *acc);
struct list *account_vidcodecl(const struct account *acc);
const char  *account_mediaenc(const struct account *acc);
struct list *baresip_mencl(void);
const struct menc *menc_find(const struct list *mencl, const char *id);
struct list *baresip_vidsrcl(void);
struct list *baresip_vidispl(void);
