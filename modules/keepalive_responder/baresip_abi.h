/**
 * @file baresip_abi.h  keepalive_responder -- the baresip 1.x ABI subset
 *
 * Debian ships baresip without its header.  These are the declarations
 * of the few baresip 1.x symbols host.c uses, written from the 1.0.0
 * interface.  host.c includes this only when no real baresip.h is found;
 * inside a baresip source tree the real header wins.
 *
 * This is the 1.0 ABI only: baresip 1.1 already numbers enum ua_event
 * differently (UA_EVENT_MWI_NOTIFY is 4 in 1.0, 6 in 1.1), so a module
 * built on these declarations is for baresip 1.0.x alone.  Build against
 * a real baresip.h for any other version.
 */

#ifndef KAR_BARESIP_ABI
#define KAR_BARESIP_ABI 1	/* host.c: the 1.0 feature set, no checks */

struct ua;
struct call;
struct conf;
struct commands;


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


/* User agents */
enum ua_event {
	UA_EVENT_REGISTERING = 0,
	UA_EVENT_REGISTER_OK,
	UA_EVENT_REGISTER_FAIL,
	UA_EVENT_UNREGISTERING,
	UA_EVENT_MWI_NOTIFY,
	/* drain (issue 11): 1.0.0 include/baresip.h:720, value 5;
	   1.1.0 has 7 (FALLBACK_OK/FAIL inserted before MWI_NOTIFY) */
	UA_EVENT_SHUTDOWN,
};

struct account;

struct sip  *uag_sip(void);
struct account *ua_account(const struct ua *ua);
uint32_t account_regint(const struct account *acc);
struct ua   *uag_find(const struct pl *cuser);
struct list *uag_list(void);
struct list *ua_calls(const struct ua *ua);
int  ua_register(struct ua *ua);
void ua_event(struct ua *ua, enum ua_event ev, struct call *call,
	      const char *fmt, ...);

/* drain (issue 11): UA event handlers, 1.0.0 include/baresip.h:745,
   803-804 (same in 1.1.0; 4.x has bevent_register() instead) */
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

#endif /* KAR_BARESIP_ABI */
