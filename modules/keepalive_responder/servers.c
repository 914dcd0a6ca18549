/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file servers.c  keepalive_responder -- the endpoint's own servers
 *
 * The server an endpoint registers with is the one that must keep
 * reaching it: no request, whoever sends or relays it, may make the
 * guard block it.  Its address is learnt where baresip 3.15 and later
 * take it from for filter_registrar (the source of the REGISTER's
 * answer, reg->paddr): every final answer to a REGISTER is noted as it
 * arrives, and becomes a server only when baresip reports the
 * registration's outcome for it (REGISTER_OK or REGISTER_FAIL).  That
 * event comes from inside libre's client transaction, so only an
 * answer that matched a REGISTER the stack sent gets there; an answer
 * that matched none is dropped again (kar_servers_stray()).  Outbound
 * proxies answer the REGISTERs they carry, so they are learnt the same
 * way, on every transport.
 *
 * Each server is kept while its account keeps registering: twice the
 * expiry its registrar granted, plus a transaction's time; a refresh
 * from another address (DNS, SRV failover) leaves the old one to age
 * out; an answer baresip reports that grants expiry 0 explicitly
 * (Contact ;expires=0, or Expires: 0) forgets it, else it ages out
 * too.  One fixed table, nothing allocated; time is passed in (ms).
 * Pure: libre only.
 */
#include <string.h>
#include <re.h>
#include "kar.h"


enum {
	GRACE = 32000,   /**< ms: a REGISTER transaction's longest life */
};


struct expires {
	uint32_t max;
	bool seen;
};


static void expires_take(struct expires *ex, const struct pl *pl)
{
	uint32_t v;

	if (!pl_isset(pl))
		return;

	v = pl_u32(pl);
	if (!ex->seen || v > ex->max)
		ex->max = v;
	ex->seen = true;
}


/* Seconds the registrar granted: the longest Contact expires, else the
   Expires header, else KAR_SERVER_TTL (headers by name, hdr.c) */
static uint32_t granted(const struct sip_msg *msg)
{
	const struct sip_hdr *hdr;
	struct expires ex = {0, false};
	struct sip_addr addr;
	struct pl val;

	(void)kar_hdr_count(msg, SIP_HDR_CONTACT, &hdr);
	for (; hdr; hdr = kar_hdr_next(hdr)) {

		if (!sip_addr_decode(&addr, &hdr->val) &&
		    !msg_param_decode(&addr.params, "expires", &val))
			expires_take(&ex, &val);
	}

	if (!ex.seen && kar_hdr_count(msg, SIP_HDR_EXPIRES, &hdr))
		expires_take(&ex, &hdr->val);

	return ex.seen ? ex.max : KAR_SERVER_TTL;
}


/**
 * Note a SIP response as it arrives, before libre's transactions see
 * it: a final answer to a REGISTER waits for baresip's verdict
 *
 * @param s   Servers
 * @param msg SIP response (requests and other answers are ignored)
 */
void kar_servers_answer(struct kar_servers *s, const struct sip_msg *msg)
{
	if (!s || !msg || msg->req || msg->scode < 200 ||
	    pl_strcmp(&msg->cseq.met, "REGISTER"))
		return;

	s->pend.addr = msg->src;
	s->pend.tp = msg->tp;

	/* Only a success speaks of the binding; after a refusal the
	   account goes on trying the same server */
	s->pend.expires = msg->scode < 300 ? granted(msg) : KAR_SERVER_TTL;
	s->pend.set = true;
}


/**
 * The response noted last matched no transaction: it was nobody's
 * answer (libre's transactions passed it on)
 *
 * @param s Servers
 */
void kar_servers_stray(struct kar_servers *s)
{
	if (s)
		s->pend.set = false;
}


static bool same(const struct kar_server *v, const struct sa *addr,
		 enum sip_transp tp, const char *aor)
{
	return v->tp == tp && kar_sa_same_addr(&v->addr, addr) &&
		!strcmp(v->aor, aor);
}


/* The slot for a new server: a forgotten one, else the least recently
   answered */
static struct kar_server *slot_new(struct kar_servers *s, uint64_t now)
{
	struct kar_server *old = NULL;
	size_t i;

	if (s->n < KAR_SERVERS_MAX)
		return &s->v[s->n++];

	for (i = 0; i < s->n; i++) {
		struct kar_server *v = &s->v[i];

		if (v->until <= now)
			return v;
		if (!old || v->seen < old->seen)
			old = v;
	}

	return old;
}


static void drop(struct kar_servers *s, struct kar_server *v)
{
	*v = s->v[--s->n];
}


/**
 * baresip reported a registration's outcome: the answer noted last
 * came from that UA's server
 *
 * @param s   Servers
 * @param aor The UA's address of record (kept for the listing)
 * @param now Current time in ms
 * @param vp  Set to the server learnt or refreshed, NULL if none
 *            (optional)
 *
 * @return true if a server was learnt that was not known before
 */
bool kar_servers_confirm(struct kar_servers *s, const char *aor,
			 uint64_t now, const struct kar_server **vp)
{
	struct kar_server *v = NULL;
	bool fresh;
	size_t i;

	if (vp)
		*vp = NULL;

	if (!s || !s->pend.set)
		return false;

	s->pend.set = false;
	if (!aor)
		aor = "";

	for (i = 0; i < s->n; i++) {
		if (same(&s->v[i], &s->pend.addr, s->pend.tp, aor)) {
			v = &s->v[i];
			break;
		}
	}

	/* The registration ended: no binding, no server */
	if (!s->pend.expires) {
		if (v)
			drop(s, v);
		return false;
	}

	fresh = !v || v->until <= now;
	if (!v) {
		v = slot_new(s, now);
		memset(v, 0, sizeof(*v));
		v->addr = s->pend.addr;
		v->tp = s->pend.tp;
		str_ncpy(v->aor, aor, sizeof(v->aor));
	}

	v->seen = now;
	v->until = now + 2000ULL * s->pend.expires + GRACE;

	if (vp)
		*vp = v;

	return fresh;
}


/**
 * Is a source one of the endpoint's servers now?  (The trusted list is
 * the guard's to ask.)
 *
 * @param s   Servers
 * @param src Source address (the port is ignored)
 * @param now Current time in ms
 *
 * @return true if it answered a UA's REGISTER and is not forgotten
 */
bool kar_servers_match(const struct kar_servers *s, const struct sa *src,
		       uint64_t now)
{
	size_t i;

	if (!s || !src)
		return false;

	for (i = 0; i < s->n; i++) {
		if (s->v[i].until > now &&
		    kar_sa_same_addr(&s->v[i].addr, src))
			return true;
	}

	return false;
}


/**
 * Learnt servers not forgotten at a time
 *
 * @param s   Servers
 * @param now Current time in ms
 *
 * @return Their number
 */
size_t kar_servers_count(const struct kar_servers *s, uint64_t now)
{
	size_t i, n = 0;

	for (i = 0; s && i < s->n; i++) {
		if (s->v[i].until > now)
			++n;
	}

	return n;
}


static uint64_t secs(uint64_t from, uint64_t to)
{
	return to > from ? (to - from) / 1000 : 0;
}


static int server_odict(struct odict **op, const struct kar_server *v,
			uint64_t now)
{
	struct odict *o;
	char src[64];
	int err;

	err = odict_alloc(&o, 8);
	if (err)
		return err;

	(void)re_snprintf(src, sizeof(src), "%j", &v->addr);

	err  = odict_entry_add(o, "source", ODICT_STRING, src);
	err |= odict_entry_add(o, "transport", ODICT_STRING,
			       sip_transp_name(v->tp));
	err |= odict_entry_add(o, "why", ODICT_STRING, "registrar");
	err |= odict_entry_add(o, "aor", ODICT_STRING, v->aor);
	err |= odict_entry_add(o, "answered_s", ODICT_INT,
			       (int64_t)secs(v->seen, now));
	err |= odict_entry_add(o, "expires_s", ODICT_INT,
			       (int64_t)secs(now, v->until));

	if (err)
		mem_deref(o);
	else
		*op = o;

	return err;
}


static int trusted_odict(struct odict **op, const struct kar_acl *acl)
{
	struct odict *arr;
	char key[16], net[64];
	size_t i;
	int err;

	err = odict_alloc(&arr, KAR_ACL_MAX);
	if (err)
		return err;

	for (i = 0; acl && i < acl->n && !err; i++) {
		(void)re_snprintf(key, sizeof(key), "%zu", i);
		(void)re_snprintf(net, sizeof(net), "%H", kar_acl_entry_print,
				  &acl->v[i]);
		err = odict_entry_add(arr, key, ODICT_STRING, net);
	}

	if (err)
		mem_deref(arr);
	else
		*op = arr;

	return err;
}


/**
 * The servers as a dictionary, learnt ones in the order learnt:
 * {"servers":[{"source":"192.0.2.1","transport":"UDP",
 * "why":"registrar","aor":"sip:alice@example.org","answered_s":12,
 * "expires_s":1188}, ...],"trusted":["192.0.2.0/24", ...]}
 *
 * @param op      Allocated dictionary
 * @param s       Servers
 * @param trusted keepalive_responder_trusted (may be empty)
 * @param now     Current time in ms
 *
 * @return 0 if success, otherwise errorcode
 */
static int servers_odict(struct odict **op, const struct kar_servers *s,
			 const struct kar_acl *trusted, uint64_t now)
{
	struct odict *o = NULL, *arr = NULL, *sub = NULL;
	unsigned k = 0;
	size_t i;
	int err;

	if (!op || !s)
		return EINVAL;

	err  = odict_alloc(&o, 8);
	err |= odict_alloc(&arr, KAR_SERVERS_MAX);
	if (err)
		goto out;

	for (i = 0; i < s->n && !err; i++) {
		char key[16];

		if (s->v[i].until <= now)
			continue;

		err = server_odict(&sub, &s->v[i], now);
		if (err)
			break;

		/* Array members are keyed by their index */
		(void)re_snprintf(key, sizeof(key), "%u", k++);
		err = odict_entry_add(arr, key, ODICT_OBJECT, sub);
		sub = mem_deref(sub);
	}
	if (err)
		goto out;

	err = odict_entry_add(o, "servers", ODICT_ARRAY, arr);
	arr = mem_deref(arr);
	if (err)
		goto out;

	err = trusted_odict(&arr, trusted);
	if (err)
		goto out;

	err = odict_entry_add(o, "trusted", ODICT_ARRAY, arr);

 out:
	mem_deref(arr);
	if (err)
		mem_deref(o);
	else
		*op = o;

	return err;
}


/**
 * Print the servers as one JSON object (servers_odict())
 *
 * @param pf      Print handler
 * @param s       Servers
 * @param trusted keepalive_responder_trusted (may be empty)
 * @param now     Current time in ms
 *
 * @return 0 if success, otherwise errorcode
 */
int kar_servers_json(struct re_printf *pf, const struct kar_servers *s,
		     const struct kar_acl *trusted, uint64_t now)
{
	struct odict *o = NULL;
	int err;

	err = servers_odict(&o, s, trusted, now);
	if (err)
		return err;

	err = json_encode_odict(pf, o);
	mem_deref(o);

	return err;
}


/**
 * Print the servers as text, with why each is one
 *
 * @param pf      Print handler
 * @param s       Servers
 * @param trusted keepalive_responder_trusted (may be empty)
 * @param now     Current time in ms
 *
 * @return 0 if success, otherwise errorcode
 */
int kar_servers_print(struct re_printf *pf, const struct kar_servers *s,
		      const struct kar_acl *trusted, uint64_t now)
{
	size_t i;
	int err;

	if (!s)
		return EINVAL;

	err = re_hprintf(pf, "own servers (never blocked, never counted):"
			 " %zu learnt, %zu trusted\n",
			 kar_servers_count(s, now), trusted ? trusted->n : 0);

	for (i = 0; i < s->n; i++) {
		const struct kar_server *v = &s->v[i];

		if (v->until <= now)
			continue;

		err |= re_hprintf(pf, "  %-39j %-4s registrar of %s"
				  " (answered %llu s ago, kept %llu s)\n",
				  &v->addr, sip_transp_name(v->tp), v->aor,
				  (unsigned long long)secs(v->seen, now),
				  (unsigned long long)secs(now, v->until));
	}

	for (i = 0; trusted && i < trusted->n; i++) {
		char net[64];

		(void)re_snprintf(net, sizeof(net), "%H", kar_acl_entry_print,
				  &trusted->v[i]);
		err |= re_hprintf(pf, "  %-44s trusted"
				  " (keepalive_responder_trusted)\n", net);
	}

	return err;
}
