/**
 * @file unit.h  keepalive_responder unit tests -- shared declarations
 *
 * One executable runs all suites (unit_main.c); each test_*.c file
 * mirrors one source file of the module and registers one suite.
 */

struct sip_msg;


/* Suite registration, one per module source file */
int unit_policy_register(void);
int unit_reply_register(void);
int unit_events_register(void);
int unit_conf_register(void);
int unit_stats_register(void);
int unit_guard_register(void);
int unit_chain_register(void);
int unit_validate_register(void);
int unit_sdp_register(void);


/* Helpers (unit_util.c) */
int  unit_suite_add(const char *name, CU_InitializeFunc init,
		    CU_CleanupFunc cleanup, const CU_TestInfo *tests);
int  unit_decode(struct sip_msg **msgp, const char *text);
int  unit_request(struct sip_msg **msgp, const char *met, const char *ruri,
		  const char *totag, const char *extra);
bool unit_pl_eq(const struct pl *pl, const char *str);
size_t unit_count(const char *hay, const char *needle);


/* Where unit_request()'s probes come from (Via and source address) */
#define UNIT_SRC_ADDR "192.0.2.10"
#define UNIT_SRC_PORT 5060

/* The packages the suites configure, as the module's default */
#define UNIT_EVENTS "keep-alive,check-sync,message-summary"
