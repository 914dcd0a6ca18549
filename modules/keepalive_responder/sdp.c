/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file sdp.c  keepalive_responder -- capability SDP for OPTIONS answers
 *
 * RFC 3261 11.2 asks an OPTIONS answer for a body that describes the
 * media capabilities, application/sdp unless Accept says otherwise;
 * RFC 3264 9 shows its form: the offer the endpoint would make, with
 * every port 0.  Stock baresip gets there by building a whole call per
 * probe.  Here the body is formatted once from a plain description of
 * the codecs (host.c fills it from baresip's lists) and only the local
 * address of the request is patched in per answer, without allocating.
 */
#include <string.h>
#include <re.h>
#include "kar.h"


enum {
	DYNPT_START = 96,     /**< as libre numbers dynamic payload types */
	DYNPT_END   = 127,
	TELEV_PT    = 101,    /**< baresip's choice, for CiscoGW interop  */
};


struct kar_sdp {
	char *head;          /**< "v=0 .. o=- id version IN IP"          */
	char *tail;          /**< "t=0 0" and the media sections          */
	size_t headl;
	size_t taill;

	/* The last local address, as text: probes arrive on one or two
	   addresses, and inet_ntop() would be most of the work */
	struct sa addr;
	char text[64];
	size_t textl;
	char ipver;
};


static const char mid[] = "\r\ns=-\r\nc=IN IP";


static void destructor(void *arg)
{
	struct kar_sdp *s = arg;

	mem_deref(s->head);
	mem_deref(s->tail);
}


static uint32_t pt_num(const char *pt)
{
	struct pl pl;

	pl_set_str(&pl, pt);

	return pl_u32(&pl);
}


/* One codec: its rtpmap, then its parameters as baresip gives them, a
   static fmtp string and/or the codec's own fmtp encoder */
static int codec_print(struct mbuf *mb, const struct kar_codec *c,
		       const char *id)
{
	int err;

	err = mbuf_printf(mb, "a=rtpmap:%s %s/%u", id, c->name, c->srate);
	if (c->ch > 1)
		err |= mbuf_printf(mb, "/%u", c->ch);
	err |= mbuf_write_str(mb, "\r\n");

	if (str_isset(c->fmtp))
		err |= mbuf_printf(mb, "a=fmtp:%s %s\r\n", id, c->fmtp);

	if (c->ench) {
		/* The encoder reads the id (and its own data) only */
		struct sdp_format fmt;

		memset(&fmt, 0, sizeof(fmt));
		fmt.id = (char *)id;
		fmt.name = (char *)c->name;
		fmt.params = (char *)c->fmtp;
		fmt.data = c->data;
		fmt.srate = c->srate;
		fmt.ch = c->ch;
		fmt.pt = (int)pt_num(id);
		fmt.sup = true;

		err |= c->ench(mb, &fmt, true, c->data);
	}

	return err;
}


/*
 * One m= section.  Payload types as baresip's offer has them: a codec's
 * own, else the next dynamic one from 96 on, as libre hands them out;
 * telephone-event gets 101 (or the configured one) unless a codec has
 * it already.
 */
static int media_print(struct mbuf *mb, const struct kar_sdp_media *m)
{
	char ids[KAR_SDP_CODECS + 1][11];
	uint32_t dynpt = DYNPT_START;
	size_t i, n = 0;
	bool telev = false;
	int err = 0;

	if (!m->n || !str_isset(m->name))
		return 0;

	if (m->n > KAR_SDP_CODECS)
		return E2BIG;

	for (i = 0; i < m->n; i++) {

		if (str_isset(m->v[i].pt)) {
			str_ncpy(ids[n++], m->v[i].pt, sizeof(ids[0]));
			continue;
		}

		if (dynpt > DYNPT_END)
			return ERANGE;

		(void)re_snprintf(ids[n++], sizeof(ids[0]), "%u", dynpt++);
	}

	if (m->telev) {
		uint32_t want = m->telev_pt ? m->telev_pt : TELEV_PT;
		uint32_t pt = want;

		for (i = 0; i < n; i++) {
			if (pt_num(ids[i]) == want)
				pt = dynpt++;
		}

		if (pt > DYNPT_END)
			return ERANGE;

		(void)re_snprintf(ids[n++], sizeof(ids[0]), "%u", pt);
		telev = true;
	}

	err |= mbuf_printf(mb, "m=%s 0 %s", m->name,
			   str_isset(m->proto) ? m->proto : "RTP/AVP");
	for (i = 0; i < n; i++)
		err |= mbuf_printf(mb, " %s", ids[i]);
	err |= mbuf_write_str(mb, "\r\n");

	for (i = 0; i < m->n && !err; i++)
		err = codec_print(mb, &m->v[i], ids[i]);

	if (telev) {
		err |= mbuf_printf(mb, "a=rtpmap:%s telephone-event/8000\r\n"
				   "a=fmtp:%s 0-15\r\n", ids[m->n], ids[m->n]);
	}

	return err;
}


/**
 * Format a capability SDP
 *
 * @param sp      Formatted SDP
 * @param mv      Media sections (a section without codecs is left out)
 * @param mc      Number of media sections
 * @param id      o= session id
 * @param version o= session version (count the rebuilds)
 *
 * @return 0 if success, otherwise errorcode
 */
int kar_sdp_alloc(struct kar_sdp **sp, const struct kar_sdp_media *mv,
		  size_t mc, uint64_t id, uint32_t version)
{
	struct kar_sdp *s;
	struct mbuf *mb;
	size_t i;
	int err;

	if (!sp || (mc && !mv))
		return EINVAL;

	s = mem_zalloc(sizeof(*s), destructor);
	if (!s)
		return ENOMEM;

	mb = mbuf_alloc(1024);
	if (!mb) {
		err = ENOMEM;
		goto out;
	}

	err = re_sdprintf(&s->head, "v=0\r\no=- %llu %u IN IP",
			  (unsigned long long)id, version);
	if (err)
		goto out;

	err = mbuf_write_str(mb, "\r\nt=0 0\r\n");
	for (i = 0; i < mc && !err; i++)
		err = media_print(mb, &mv[i]);
	if (err)
		goto out;

	mb->pos = 0;
	err = mbuf_strdup(mb, &s->tail, mb->end);
	if (err)
		goto out;

	s->headl = strlen(s->head);
	s->taill = mb->end;

 out:
	mem_deref(mb);
	if (err)
		mem_deref(s);
	else
		*sp = s;

	return err;
}


/* The address as SDP writes it (no brackets, no port), kept for the
   next answer on the same address */
static int addr_text(struct kar_sdp *s, const struct sa *laddr)
{
	int af = laddr ? sa_af(laddr) : AF_UNSPEC;
	int err;

	if (af != AF_INET && af != AF_INET6)
		return EAFNOSUPPORT;

	if (s->textl && sa_cmp(laddr, &s->addr, SA_ADDR))
		return 0;

	s->textl = 0;
	err = sa_ntop(laddr, s->text, (int)sizeof(s->text));
	if (err)
		return err;

	s->addr = *laddr;
	s->ipver = af == AF_INET ? '4' : '6';
	s->textl = strlen(s->text);

	return 0;
}


/**
 * The length of the body for a local address, which the answer's
 * Content-Length names before the body is written
 *
 * @param s     Formatted SDP
 * @param laddr Local address the request came in on
 * @param lenp  Length in bytes (output)
 *
 * @return 0 if success, EAFNOSUPPORT for an address SDP cannot name,
 *         otherwise errorcode
 */
int kar_sdp_length(struct kar_sdp *s, const struct sa *laddr, size_t *lenp)
{
	int err;

	if (!s || !lenp)
		return EINVAL;

	err = addr_text(s, laddr);
	if (err)
		return err;

	*lenp = s->headl + 2 + s->textl + (sizeof(mid) - 1) + 2 + s->textl +
		s->taill;

	return 0;
}


/**
 * Write the body: the request's local address goes into o= and c=.
 * Nothing is allocated, and the address is formatted only when it
 * differs from the last answer's.
 *
 * @param mb    Buffer to write to (at its current position)
 * @param s     Formatted SDP
 * @param laddr Local address the request came in on
 *
 * @return 0 if success, otherwise errorcode
 */
int kar_sdp_encode(struct mbuf *mb, struct kar_sdp *s,
		   const struct sa *laddr)
{
	const uint8_t *addr;
	size_t al;
	int err;

	if (!mb || !s)
		return EINVAL;

	err = addr_text(s, laddr);
	if (err)
		return err;

	addr = (const uint8_t *)s->text;
	al = s->textl;

	err  = mbuf_write_mem(mb, (const uint8_t *)s->head, s->headl);
	err |= mbuf_write_u8(mb, s->ipver);
	err |= mbuf_write_u8(mb, ' ');
	err |= mbuf_write_mem(mb, addr, al);
	err |= mbuf_write_mem(mb, (const uint8_t *)mid, sizeof(mid) - 1);
	err |= mbuf_write_u8(mb, s->ipver);
	err |= mbuf_write_u8(mb, ' ');
	err |= mbuf_write_mem(mb, addr, al);
	err |= mbuf_write_mem(mb, (const uint8_t *)s->tail, s->taill);

	return err;
}


static bool is_zero_q(const struct pl *q)
{
	size_t i;

	/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) */
	if (!q->l || q->p[0] != '0')
		return false;

	for (i = 1; i < q->l; i++) {
		if (q->p[i] != '0' && !(i == 1 && q->p[i] == '.'))
			return false;
	}

	return true;
}


/*
 * One media-range with its parameters: how specifically it names
 * application/sdp (3 exactly, 2 application/x, 1 x/x, 0 not at all)
 * and whether its q-value is above zero.  Media-type parameters are
 * skipped: application/sdp defines none to match.
 */
static int range_rank(const struct pl *range, bool *ok)
{
	const char *p = range->p, *end = range->p + range->l;
	const char *semi = memchr(p, ';', range->l);
	struct pl type, param;
	int rank;

	type.p = p;
	type.l = semi ? (size_t)(semi - p) : range->l;
	kar_trim(&type);

	if (!pl_strcasecmp(&type, "application/sdp"))
		rank = 3;
	else if (!pl_strcasecmp(&type, "application/*"))
		rank = 2;
	else if (!pl_strcmp(&type, "*/*"))
		rank = 1;
	else
		return 0;

	*ok = true;

	while (semi) {
		const char *next, *eq;

		p = semi + 1;
		next = memchr(p, ';', end - p);
		param.p = p;
		param.l = next ? (size_t)(next - p) : (size_t)(end - p);
		semi = next;

		eq = memchr(param.p, '=', param.l);
		if (!eq)
			continue;

		{
			struct pl name, val;

			name.p = param.p;
			name.l = eq - param.p;
			val.p = eq + 1;
			val.l = param.p + param.l - val.p;
			kar_trim(&name);
			kar_trim(&val);

			if (!pl_strcasecmp(&name, "q"))
				*ok = !is_zero_q(&val);
		}
	}

	return rank;
}


/**
 * Does the request admit an application/sdp body in its answer?
 *
 * No Accept header: yes (RFC 3261 11.2, 20.1).  Otherwise the most
 * specific media-range that covers application/sdp decides, q=0
 * excluding it; several headers and comma lists (libre makes each
 * media-range a header of its own) count alike.  An empty Accept
 * admits no body.
 *
 * @param rq SIP request, as read at the door
 *
 * @return true if a capability SDP may be sent
 */
bool kar_sdp_accepted(const struct kar_req *rq)
{
	const struct sip_hdr *hdr;
	bool ok = false, rok;
	int best = 0, rank;

	if (!rq)
		return false;

	hdr = rq->hdr[KAR_H_ACCEPT].first;
	if (!hdr)
		return true;

	for (; hdr; hdr = kar_hdr_next(hdr)) {

		rok = false;
		rank = range_rank(&hdr->val, &rok);
		if (!rank || rank < best)
			continue;

		/* Equally specific ranges: any q above 0 admits */
		ok = rank > best ? rok : (ok || rok);
		best = rank;
	}

	return ok;
}
