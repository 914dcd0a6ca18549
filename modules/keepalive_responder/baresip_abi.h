/**
 * @file baresip_abi.h  keepalive_responder -- the baresip 1.x ABI subset
 *
 * Debian ships baresip without its header.  These are the declarations
 * of the few baresip 1.x symbols host.c uses, written from the 1.0.0
 * interface.  host.c includes this only when no real baresip.h is found;
 * inside a baresip source tree the real header wins.
 */

struct ua;
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


/* User agents */
struct sip  *uag_sip(void);
struct ua   *uag_find(const struct pl *cuser);


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
