/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file test_chain.c  keepalive_responder unit tests -- listener chain
 *
 * A real libre SIP stack with three request listeners that stand in for
 * baresip's core (OPTIONS handler, sipsess, sipevent), registered before
 * the module as baresip registers them before any module loads.  The
 * order is read back from libre's own listener list, and from the order
 * in which libre offers a real request over UDP, and the answers to a
 * real client transaction and a stray answer.
 */
#include <string.h>
#include <re.h>
#include <CUnit/CUnit.h>
#include "kar.h"
#include "unit.h"


/*
 * The start of libre's private struct sip_lsnr (src/sip/sip.h, the same
 * from 1.1 to 4.x): list element, owner's pointer, handler, argument.
 * Only used to tell listeners apart, and only after it has been checked
 * against the test's own listeners (peek_ok()).
 */
struct lsnr_peek {
	struct le le;
	struct sip_lsnr **lsnrp;
	sip_msg_h *msgh;
	void *arg;
	bool req;
};

enum { NCORE = 3 };

struct fixture {
	struct sip *sip;
	struct sip_lsnr *core[NCORE];
	struct sip_lsnr *late;
	struct kar_chain *ch;
	struct list *list;      /* libre's listener list           */
	size_t nlibre;          /* listeners that sip_alloc() added */
};

/* What the handlers saw, for the dispatch test */
static struct {
	const char *seen[16];
	size_t n;
	struct kar_chain *ch;
	struct kar_replies *rep;
	struct sip *sip;
	int send_err;
	uint16_t scode;
	uint32_t cseq;
	bool got_reply;
} disp;


static bool record(const char *who)
{
	if (disp.n < ARRAY_SIZE(disp.seen))
		disp.seen[disp.n++] = who;

	return false;
}


static bool options_h(const struct sip_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;

	return record("options");
}


static bool sipsess_h(const struct sip_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;

	return record("sipsess");
}


static bool sipevent_h(const struct sip_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;

	return record("sipevent");
}


static bool late_h(const struct sip_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;

	return record("late");
}


static bool head_h(const struct sip_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;

	return record("head");
}


/* As the module's tail: stay last, then answer what nobody took */
static bool tail_h(const struct sip_msg *msg, void *arg)
{
	(void)arg;

	if (!kar_chain_keep_last(disp.ch))
		return record("tail-moved");

	(void)record("tail");
	disp.send_err = kar_reply_send(disp.rep, disp.sip, unit_req(msg),
				       KAR_R_NOT_ALLOWED, false);

	return true;
}


/* The response listeners (kar_chain_responses()) */
static bool first_h(const struct sip_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;

	return record("first");
}


static bool stray_h(const struct sip_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;

	record("stray");
	if (disp.n >= 4)
		re_cancel();

	return false;
}


static sip_msg_h * const core_h[NCORE] = {options_h, sipsess_h,
					  sipevent_h};
static const char * const core_name[NCORE] = {"options", "sipsess",
					      "sipevent"};
static int core_arg[NCORE];


/* The stack as baresip has it when modules load */
static int setup(struct fixture *f)
{
	struct le *le;
	size_t i;
	int err;

	memset(f, 0, sizeof(*f));

	err = sip_alloc(&f->sip, NULL, 16, 16, 16, "unit", NULL, NULL);
	if (err)
		return err;

	for (i = 0; i < NCORE; i++) {
		err = sip_listen(&f->core[i], f->sip, true, core_h[i],
				 &core_arg[i]);
		if (err)
			return err;
	}

	f->list = ((struct le *)f->core[0])->list;
	if (!f->list)
		return EINVAL;

	for (le = f->list->head; le && le != (struct le *)f->core[0];
	     le = le->next)
		++f->nlibre;

	return 0;
}


static void teardown(struct fixture *f)
{
	size_t i;

	f->ch = mem_deref(f->ch);
	f->late = mem_deref(f->late);

	for (i = 0; i < NCORE; i++)
		f->core[i] = mem_deref(f->core[i]);

	f->sip = mem_deref(f->sip);
}


/* Is the peek at libre's listener right about the test's own? */
static bool peek_ok(const struct fixture *f)
{
	size_t i;

	for (i = 0; i < NCORE; i++) {

		const struct lsnr_peek *p = (void *)f->core[i];

		if (p->le.data != p || p->lsnrp != &f->core[i] ||
		    p->msgh != core_h[i] || p->arg != &core_arg[i] ||
		    !p->req)
			return false;
	}

	return true;
}


static const char *label(const struct fixture *f, const struct le *le)
{
	const struct lsnr_peek *p = le->data;
	size_t i;

	for (i = 0; i < NCORE; i++) {
		if (le == (const struct le *)f->core[i])
			return core_name[i];
	}

	if (p->msgh == head_h)
		return "head";
	if (p->msgh == tail_h)
		return "tail";
	if (p->msgh == late_h)
		return "late";
	if (p->msgh == first_h)
		return "first";
	if (p->msgh == stray_h)
		return "stray";
	if (p->arg == f->sip)
		return "libre";

	return "?";
}


/* The listener list as "libre libre head options ... tail" */
static const char *order(const struct fixture *f)
{
	static char buf[256];
	const struct le *le;
	size_t len = 0;

	buf[0] = '\0';

	for (le = f->list->head; le && len < sizeof(buf); le = le->next) {
		int n = re_snprintf(buf + len, sizeof(buf) - len, "%s%s",
				    len ? " " : "", label(f, le));
		if (n < 0)
			break;
		len += (size_t)n;
	}

	return buf;
}


/* What order() must say: libre's listeners first, then these */
static const char *expect(const struct fixture *f, const char *rest)
{
	static char buf[256];
	size_t i, len = 0;

	buf[0] = '\0';

	for (i = 0; i < f->nlibre && len < sizeof(buf); i++)
		len += (size_t)re_snprintf(buf + len, sizeof(buf) - len,
					   "libre ");

	(void)re_snprintf(buf + len, sizeof(buf) - len, "%s", rest);

	return buf;
}


/* Links both ways agree, and everything points to the list */
static bool consistent(const struct list *list)
{
	const struct le *le, *prev = NULL;

	for (le = list->head; le; prev = le, le = le->next) {
		if (le->list != list || le->prev != prev)
			return false;
	}

	return list->tail == prev;
}


/* Up to max listener elements, in list order */
static size_t snapshot(const struct list *list, const struct le **v,
		       size_t max)
{
	const struct le *le;
	size_t n = 0;

	for (le = list->head; le && n < max; le = le->next)
		v[n++] = le;

	return n;
}


static void test_fixture(void)
{
	struct fixture f;

	CU_ASSERT_EQUAL_FATAL(setup(&f), 0);

	/* sip_alloc() registers libre's transaction layer */
	CU_ASSERT_TRUE(f.nlibre >= 1);
	CU_ASSERT_TRUE_FATAL(peek_ok(&f));
	CU_ASSERT_STRING_EQUAL(order(&f),
			       expect(&f, "options sipsess sipevent"));

	teardown(&f);
}


/* Behind libre's transaction layer, before baresip's core */
static void test_attach(void)
{
	const struct lsnr_peek *p;
	const struct le *le;
	struct fixture f;

	CU_ASSERT_EQUAL_FATAL(setup(&f), 0);
	CU_ASSERT_TRUE_FATAL(peek_ok(&f));

	CU_ASSERT_EQUAL_FATAL(kar_chain_attach(&f.ch, f.sip, head_h, tail_h,
					       &disp), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f.ch);

	CU_ASSERT_STRING_EQUAL(order(&f),
		expect(&f, "head options sipsess sipevent tail"));
	CU_ASSERT_TRUE(kar_chain_hooked(f.ch));
	CU_ASSERT_TRUE(consistent(f.list));
	CU_ASSERT_EQUAL(list_count(f.list), f.nlibre + NCORE + 2);

	/* Both are request listeners with the caller's argument */
	p = f.list->tail->data;
	CU_ASSERT_TRUE(p->req);
	CU_ASSERT_PTR_EQUAL(p->arg, &disp);
	le = ((struct le *)f.core[0])->prev;
	CU_ASSERT_PTR_NOT_NULL_FATAL(le);
	p = le->data;
	CU_ASSERT_PTR_EQUAL(p->msgh, head_h);
	CU_ASSERT_TRUE(p->req);
	CU_ASSERT_PTR_EQUAL(p->arg, &disp);

	teardown(&f);
}


/* Unloading restores the listener chain exactly */
static void test_detach(void)
{
	const struct le *before[16], *after[16];
	struct fixture f;
	size_t nb, na, i;

	CU_ASSERT_EQUAL_FATAL(setup(&f), 0);

	nb = snapshot(f.list, before, ARRAY_SIZE(before));

	CU_ASSERT_EQUAL_FATAL(kar_chain_attach(&f.ch, f.sip, head_h, tail_h,
					       &disp), 0);
	f.ch = mem_deref(f.ch);

	na = snapshot(f.list, after, ARRAY_SIZE(after));
	CU_ASSERT_EQUAL_FATAL(na, nb);
	for (i = 0; i < nb; i++)
		CU_ASSERT_PTR_EQUAL(after[i], before[i]);
	CU_ASSERT_TRUE(consistent(f.list));

	teardown(&f);
}


/* A module loaded later stays where it was when this one unloads */
static void test_detach_late(void)
{
	struct fixture f;

	CU_ASSERT_EQUAL_FATAL(setup(&f), 0);
	CU_ASSERT_TRUE_FATAL(peek_ok(&f));

	CU_ASSERT_EQUAL_FATAL(kar_chain_attach(&f.ch, f.sip, head_h, tail_h,
					       &disp), 0);
	CU_ASSERT_EQUAL_FATAL(sip_listen(&f.late, f.sip, true, late_h,
					 NULL), 0);
	f.ch = mem_deref(f.ch);

	CU_ASSERT_STRING_EQUAL(order(&f),
		expect(&f, "options sipsess sipevent late"));
	CU_ASSERT_TRUE(consistent(f.list));

	teardown(&f);
}


/* Loading it again works */
static void test_reattach(void)
{
	struct fixture f;
	int i;

	CU_ASSERT_EQUAL_FATAL(setup(&f), 0);
	CU_ASSERT_TRUE_FATAL(peek_ok(&f));

	for (i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL_FATAL(kar_chain_attach(&f.ch, f.sip, head_h,
						       tail_h, &disp), 0);
		CU_ASSERT_TRUE(kar_chain_hooked(f.ch));
		CU_ASSERT_STRING_EQUAL(order(&f),
			expect(&f, "head options sipsess sipevent tail"));
		f.ch = mem_deref(f.ch);
		CU_ASSERT_STRING_EQUAL(order(&f),
			expect(&f, "options sipsess sipevent"));
	}

	teardown(&f);
}


/* Modules loaded later append behind the tail; it moves back to last */
static void test_keep_last(void)
{
	struct fixture f;

	CU_ASSERT_EQUAL_FATAL(setup(&f), 0);
	CU_ASSERT_TRUE_FATAL(peek_ok(&f));

	CU_ASSERT_EQUAL_FATAL(kar_chain_attach(&f.ch, f.sip, head_h, tail_h,
					       &disp), 0);

	/* Already last */
	CU_ASSERT_TRUE(kar_chain_keep_last(f.ch));

	CU_ASSERT_EQUAL_FATAL(sip_listen(&f.late, f.sip, true, late_h,
					 NULL), 0);
	CU_ASSERT_STRING_EQUAL(order(&f),
		expect(&f, "head options sipsess sipevent tail late"));

	CU_ASSERT_FALSE(kar_chain_keep_last(f.ch));
	CU_ASSERT_STRING_EQUAL(order(&f),
		expect(&f, "head options sipsess sipevent late tail"));
	CU_ASSERT_TRUE(consistent(f.list));

	CU_ASSERT_TRUE(kar_chain_keep_last(f.ch));
	CU_ASSERT_STRING_EQUAL(order(&f),
		expect(&f, "head options sipsess sipevent late tail"));

	/* The late one going away leaves the tail last */
	f.late = mem_deref(f.late);
	CU_ASSERT_TRUE(kar_chain_keep_last(f.ch));
	CU_ASSERT_STRING_EQUAL(order(&f),
		expect(&f, "head options sipsess sipevent tail"));

	teardown(&f);
}


/*
 * baresip frees the SIP stack before it unloads modules: libre then
 * frees the listeners and clears the owners' pointers, and the chain
 * must not touch them again.
 */
static void test_sip_first(void)
{
	struct fixture f;
	size_t i;

	CU_ASSERT_EQUAL_FATAL(setup(&f), 0);

	CU_ASSERT_EQUAL_FATAL(kar_chain_attach(&f.ch, f.sip, head_h, tail_h,
					       &disp), 0);
	CU_ASSERT_EQUAL_FATAL(sip_listen(&f.late, f.sip, true, late_h,
					 NULL), 0);

	sip_close(f.sip, true);
	f.sip = mem_deref(f.sip);

	/* libre cleared the pointers it was given */
	for (i = 0; i < NCORE; i++)
		CU_ASSERT_PTR_NULL(f.core[i]);
	CU_ASSERT_PTR_NULL(f.late);

	CU_ASSERT_FALSE(kar_chain_hooked(f.ch));
	CU_ASSERT_TRUE(kar_chain_keep_last(f.ch));

	/* Under valgrind: no access to the freed listeners */
	f.ch = mem_deref(f.ch);

	teardown(&f);
}


static void test_bad_args(void)
{
	struct kar_chain *ch = NULL;
	struct fixture f;
	size_t n;

	CU_ASSERT_EQUAL_FATAL(setup(&f), 0);
	n = list_count(f.list);

	CU_ASSERT_EQUAL(kar_chain_attach(NULL, f.sip, head_h, tail_h, NULL),
			EINVAL);
	CU_ASSERT_EQUAL(kar_chain_attach(&ch, NULL, head_h, tail_h, NULL),
			EINVAL);
	CU_ASSERT_EQUAL(kar_chain_attach(&ch, f.sip, NULL, tail_h, NULL),
			EINVAL);
	CU_ASSERT_EQUAL(kar_chain_attach(&ch, f.sip, head_h, NULL, NULL),
			EINVAL);

	/* Nothing registered, nothing returned */
	CU_ASSERT_PTR_NULL(ch);
	CU_ASSERT_EQUAL(list_count(f.list), n);

	CU_ASSERT_FALSE(kar_chain_hooked(NULL));
	CU_ASSERT_TRUE(kar_chain_keep_last(NULL));

	teardown(&f);
}


static void timeout_h(void *arg)
{
	(void)arg;

	re_cancel();
}


static void client_recv_h(const struct sa *src, struct mbuf *mb,
			  void *arg)
{
	struct sip_msg *msg = NULL;

	(void)src;
	(void)arg;

	if (!sip_msg_decode(&msg, mb) && !msg->req) {
		disp.got_reply = true;
		disp.scode = msg->scode;
		disp.cseq = msg->cseq.num;
	}

	mem_deref(msg);
	re_cancel();
}


/*
 * The order in which libre really offers a request: the head first,
 * the core, a module loaded later, and the tail last, which then
 * answers over the wire.
 */
static void test_dispatch(void)
{
	static const char *want[] = {
		"head", "options", "sipsess", "sipevent", "tail-moved",
		"late", "tail",
	};
	struct fixture f;
	struct udp_sock *us = NULL;
	struct sa laddr, caddr;
	struct mbuf *mb = NULL;
	struct tmr tmr;
	size_t i;

	tmr_init(&tmr);
	memset(&disp, 0, sizeof(disp));

	CU_ASSERT_EQUAL_FATAL(setup(&f), 0);
	CU_ASSERT_EQUAL_FATAL(kar_chain_attach(&f.ch, f.sip, head_h, tail_h,
					       &disp), 0);
	CU_ASSERT_EQUAL_FATAL(sip_listen(&f.late, f.sip, true, late_h,
					 NULL), 0);
	CU_ASSERT_EQUAL_FATAL(kar_replies_alloc(&disp.rep, NULL, 7), 0);
	disp.ch = f.ch;
	disp.sip = f.sip;

	CU_ASSERT_EQUAL_FATAL(sa_set_str(&laddr, "127.0.0.1", 0), 0);
	CU_ASSERT_EQUAL_FATAL(sip_transp_add(f.sip, SIP_TRANSP_UDP, &laddr),
			      0);
	CU_ASSERT_EQUAL_FATAL(sip_transp_laddr(f.sip, &laddr,
					       SIP_TRANSP_UDP, &laddr), 0);

	CU_ASSERT_EQUAL_FATAL(sa_set_str(&caddr, "127.0.0.1", 0), 0);
	CU_ASSERT_EQUAL_FATAL(udp_listen(&us, &caddr, client_recv_h, NULL),
			      0);
	CU_ASSERT_EQUAL_FATAL(udp_local_get(us, &caddr), 0);

	mb = mbuf_alloc(512);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mb);
	CU_ASSERT_EQUAL_FATAL(mbuf_printf(mb,
		"PUBLISH sip:%J SIP/2.0\r\n"
		"Via: SIP/2.0/UDP %J;rport;branch=z9hG4bK-dispatch\r\n"
		"Max-Forwards: 70\r\n"
		"From: <sip:unit@%J>;tag=d1\r\n"
		"To: <sip:%J>\r\n"
		"Call-ID: dispatch-1\r\n"
		"CSeq: 77 PUBLISH\r\n"
		"Content-Length: 0\r\n"
		"\r\n", &laddr, &caddr, &caddr, &laddr), 0);
	mb->pos = 0;

	CU_ASSERT_EQUAL_FATAL(udp_send(us, &laddr, mb), 0);

	tmr_start(&tmr, 5000, timeout_h, NULL);
	(void)re_main(NULL);
	tmr_cancel(&tmr);

	CU_ASSERT_EQUAL(disp.n, ARRAY_SIZE(want));
	for (i = 0; i < disp.n && i < ARRAY_SIZE(want); i++)
		CU_ASSERT_STRING_EQUAL(disp.seen[i], want[i]);

	CU_ASSERT_EQUAL(disp.send_err, 0);
	CU_ASSERT_TRUE(disp.got_reply);
	CU_ASSERT_EQUAL(disp.scode, 405);
	CU_ASSERT_EQUAL(disp.cseq, 77);

	mem_deref(mb);
	mem_deref(us);
	disp.rep = mem_deref(disp.rep);
	teardown(&f);
	memset(&disp, 0, sizeof(disp));
}


/* A registrar: answers the REGISTER (same Via, so libre's transaction
   matches), then sends an answer of a transaction that never was */
static void registrar_recv_h(const struct sa *src, struct mbuf *mb,
			     void *arg)
{
	struct udp_sock *us = arg;
	struct sip_msg *msg = NULL;
	const struct sip_hdr *via;
	struct mbuf *out = NULL;
	int err;

	err = sip_msg_decode(&msg, mb);
	if (err || !msg->req || !(via = sip_msg_hdr(msg, SIP_HDR_VIA)))
		goto out;

	out = mbuf_alloc(512);
	if (!out)
		goto out;

	err = mbuf_printf(out, "SIP/2.0 200 OK\r\nVia: %r\r\n"
			  "From: %r\r\nTo: %r;tag=r1\r\nCall-ID: %r\r\n"
			  "CSeq: %u REGISTER\r\nContent-Length: 0\r\n\r\n",
			  &via->val, &msg->from.val, &msg->to.val,
			  &msg->callid, msg->cseq.num);
	out->pos = 0;
	err |= udp_send(us, src, out);

	mbuf_reset(out);
	err |= mbuf_printf(out, "SIP/2.0 200 OK\r\n"
			   "Via: SIP/2.0/UDP %J;branch=z9hG4bK-never\r\n"
			   "From: %r\r\nTo: %r;tag=r2\r\nCall-ID: never\r\n"
			   "CSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n",
			   src, &msg->from.val, &msg->to.val);
	out->pos = 0;
	err |= udp_send(us, src, out);
	disp.send_err = err;

 out:
	mem_deref(out);
	mem_deref(msg);
}


static void register_resp_h(int err, const struct sip_msg *msg, void *arg)
{
	(void)arg;

	if (!err && msg)
		disp.scode = msg->scode;

	(void)record("answer");
}


/*
 * The response listeners: the first before libre's client transactions,
 * the stray right behind libre's listeners.  A REGISTER's answer is seen
 * by the first, then by the transaction, never by the stray one; an
 * answer that matches no transaction by the first and the stray one.
 */
static void test_responses(void)
{
	static const char *want[] = {"first", "answer", "first", "stray"};
	struct fixture f;
	struct udp_sock *us = NULL;
	struct sip_request *req = NULL;
	struct sa laddr, raddr;
	struct tmr tmr;
	char uri[64], lbl[256];
	size_t i, len = 0;

	tmr_init(&tmr);
	memset(&disp, 0, sizeof(disp));

	CU_ASSERT_EQUAL_FATAL(setup(&f), 0);
	CU_ASSERT_EQUAL_FATAL(kar_chain_attach(&f.ch, f.sip, head_h, tail_h,
					       &disp), 0);
	CU_ASSERT_EQUAL(kar_chain_responses(NULL, f.sip, first_h, stray_h,
					    &disp), EINVAL);
	CU_ASSERT_EQUAL_FATAL(kar_chain_responses(f.ch, f.sip, first_h,
						  stray_h, &disp), 0);
	CU_ASSERT_EQUAL(kar_chain_responses(f.ch, f.sip, first_h, stray_h,
					    &disp), EINVAL);

	len = (size_t)re_snprintf(lbl, sizeof(lbl), "first ");
	for (i = 0; i < f.nlibre; i++)
		len += (size_t)re_snprintf(lbl + len, sizeof(lbl) - len,
					   "libre ");
	(void)re_snprintf(lbl + len, sizeof(lbl) - len,
			  "stray head options sipsess sipevent tail");
	CU_ASSERT_STRING_EQUAL(order(&f), lbl);
	CU_ASSERT_TRUE(consistent(f.list));

	CU_ASSERT_EQUAL_FATAL(sa_set_str(&laddr, "127.0.0.1", 0), 0);
	CU_ASSERT_EQUAL_FATAL(sip_transp_add(f.sip, SIP_TRANSP_UDP, &laddr),
			      0);

	CU_ASSERT_EQUAL_FATAL(sa_set_str(&raddr, "127.0.0.1", 0), 0);
	CU_ASSERT_EQUAL_FATAL(udp_listen(&us, &raddr, registrar_recv_h,
					 NULL), 0);
	udp_handler_set(us, registrar_recv_h, us);
	CU_ASSERT_EQUAL_FATAL(udp_local_get(us, &raddr), 0);

	(void)re_snprintf(uri, sizeof(uri), "sip:%J", &raddr);
	CU_ASSERT_EQUAL_FATAL(sip_requestf(&req, f.sip, true, "REGISTER",
		uri, NULL, NULL, NULL, register_resp_h, NULL,
		"From: <sip:unit@127.0.0.1>;tag=c1\r\n"
		"To: <sip:unit@127.0.0.1>\r\n"
		"Call-ID: chain-reg\r\n"
		"CSeq: 7 REGISTER\r\n"
		"Content-Length: 0\r\n\r\n"), 0);

	tmr_start(&tmr, 5000, timeout_h, NULL);
	(void)re_main(NULL);
	tmr_cancel(&tmr);

	CU_ASSERT_EQUAL(disp.send_err, 0);
	CU_ASSERT_EQUAL(disp.scode, 200);
	CU_ASSERT_EQUAL(disp.n, ARRAY_SIZE(want));
	for (i = 0; i < disp.n && i < ARRAY_SIZE(want); i++)
		CU_ASSERT_STRING_EQUAL(disp.seen[i], want[i]);

	/* Gone with the chain: the list as before */
	f.ch = mem_deref(f.ch);
	CU_ASSERT_STRING_EQUAL(order(&f),
			       expect(&f, "options sipsess sipevent"));

	mem_deref(req);
	mem_deref(us);
	teardown(&f);
	memset(&disp, 0, sizeof(disp));
}


static CU_TestInfo tests[] = {
	{"fixture",       test_fixture},
	{"attach",        test_attach},
	{"detach",        test_detach},
	{"detach_late",   test_detach_late},
	{"reattach",      test_reattach},
	{"keep_last",     test_keep_last},
	{"sip_first",     test_sip_first},
	{"bad_args",      test_bad_args},
	{"dispatch",      test_dispatch},
	{"responses",     test_responses},
	CU_TEST_INFO_NULL
};


int unit_chain_register(void)
{
	return unit_suite_add("chain", NULL, NULL, tests);
}
