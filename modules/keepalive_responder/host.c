/**
 * @file host.c  keepalive_responder -- every call into baresip
 *
 * The rest of the module sees only libre and kar.h.  Keeping baresip's
 * API here means one file to adapt per baresip generation, and a decision
 * core that unit tests can run without baresip.
 */
#include <stdarg.h>
#include <re.h>
#if defined(HAVE_BARESIP_H)
#include <baresip.h>
#elif defined(__has_include)
#if __has_include(<baresip.h>)
#include <baresip.h>
#else
#include "baresip_abi.h"
#endif
#else
#include "baresip_abi.h"
#endif
#include "kar.h"


static const struct kar_cmds *kar_cmds;


struct sip *host_sip(void)
{
	return uag_sip();
}


/**
 * Read a config value as a string
 *
 * @param key Config key
 * @param buf Buffer for the value
 * @param sz  Size of the buffer
 *
 * @return 0 if found, ENOENT if not set, otherwise errorcode
 */
int host_conf_str(const char *key, char *buf, size_t sz)
{
	struct conf *conf = conf_cur();
	struct pl pl;
	int err;

	if (!conf)
		return ENOENT;

	err = conf_get(conf, key, &pl);
	if (err)
		return err;

	/* A longer value must not be cut silently into another value */
	if (pl.l >= sz)
		return E2BIG;

	return pl_strcpy(&pl, buf, sz);
}


/* baresip's own lookup: contact user, AOR user, then catch-all UAs */
bool host_ua_match(const struct pl *user, void *arg)
{
	(void)arg;

	return uag_find(user) != NULL;
}


void host_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level == HOST_WARN ? LEVEL_WARN :
	     level == HOST_INFO ? LEVEL_INFO : LEVEL_DEBUG, fmt, ap);
	va_end(ap);
}


static int cmd_exclusive(struct re_printf *pf, void *arg)
{
	const struct cmd_arg *carg = arg;

	return kar_cmds->exclusive(pf, carg ? carg->prm : NULL);
}


static int cmd_stats(struct re_printf *pf, void *arg)
{
	const struct cmd_arg *carg = arg;

	return kar_cmds->stats(pf, carg ? carg->prm : NULL);
}


static const struct cmd cmdv[] = {
	{"kar_exclusive", 0, CMD_PRM,
	 "keepalive_responder mode [on|off|toggle]", cmd_exclusive},
	{"kar_stats",     0, CMD_PRM,
	 "keepalive_responder counters [json|reset]", cmd_stats},
};


/**
 * Register the module's commands
 *
 * @param cmds Handlers (must stay valid until unregistered)
 *
 * @return 0 if success, otherwise errorcode
 */
int host_cmds_register(const struct kar_cmds *cmds)
{
	if (!cmds)
		return EINVAL;

	kar_cmds = cmds;

	return cmd_register(baresip_commands(), cmdv, ARRAY_SIZE(cmdv));
}


/* baresip keeps a pointer to cmdv: it must be unregistered on close */
void host_cmds_unregister(void)
{
	cmd_unregister(baresip_commands(), cmdv);
	kar_cmds = NULL;
}
