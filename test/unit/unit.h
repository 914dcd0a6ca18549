/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
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
int unit_srctab_register(void);
int unit_guard_register(void);
int unit_block_register(void);
int unit_udpdrop_register(void);
int unit_chain_register(void);
int unit_validate_register(void);
int unit_sdp_register(void);
int unit_watch_register(void);
int unit_servers_register(void);
int unit_hdr_register(void);


/* Helpers (unit_util.c) */
int  unit_suite_add(const char *name, CU_InitializeFunc init,
		    CU_CleanupFunc cleanup, const CU_TestInfo *tests);
int  unit_decode(struct sip_msg **msgp, const char *text);
int  unit_request(struct sip_msg **msgp, const char *met, const char *ruri,
		  const char *totag, const char *extra);
bool unit_pl_eq(const struct pl *pl, const char *str);
size_t unit_count(const char *hay, const char *needle);
int  unit_answer(struct sip_msg **respp, char **textp,
		 const struct kar_replies *r, const struct sip_msg *req,
		 enum kar_reply reply, bool *rport);
const struct kar_req *unit_req(const struct sip_msg *msg);
const struct kar_req *unit_req_owned(const struct sip_msg *msg,
				     kar_ua_match_h *ownh);


/* Where unit_request()'s probes come from (Via and source address) */
#define UNIT_SRC_ADDR "192.0.2.10"
#define UNIT_SRC_PORT 5060

/* The packages the suites configure, as the module's default */
#define UNIT_EVENTS "keep-alive,check-sync,message-summary"


/* libre 2.1 made struct odict_entry opaque, with getters; 2.0 and older
   have the fields only (KAR_RE_ODICT_GETTERS: test/unit/CMakeLists.txt) */
#ifdef KAR_RE_ODICT_GETTERS
#define UT_ODICT_TYPE(e) odict_entry_type(e)
#define UT_ODICT_OBJ(e)  odict_entry_object(e)
#define UT_ODICT_INT(e)  odict_entry_int(e)
#define UT_ODICT_STR(e)  odict_entry_str(e)
#define UT_ODICT_BOOL(e) odict_entry_boolean(e)
#else
#define UT_ODICT_TYPE(e) ((e)->type)
#define UT_ODICT_OBJ(e)  ((e)->u.odict)
#define UT_ODICT_INT(e)  ((e)->u.integer)
#define UT_ODICT_STR(e)  ((e)->u.str)
#define UT_ODICT_BOOL(e) ((e)->u.boolean)
#endif
