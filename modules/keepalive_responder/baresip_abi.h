/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file baresip_abi.h  keepalive_responder -- baresip ABIs without a header
 *
 * Debian ships baresip without baresip.h.  These are the declarations of
 * the baresip symbols host.c uses, for each generation a distribution
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
int  conf_path_get(char *path, size_t sz);


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
