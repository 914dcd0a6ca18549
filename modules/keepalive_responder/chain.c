/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file chain.c  keepalive_responder -- the place in libre's listener chain
 *
 * libre offers requests to its listeners in list order, and sip_listen()
 * only appends.  baresip's core listeners (OPTIONS handler, sipsess,
 * sipevent) are registered before any module loads and answer OPTIONS
 * and NOTIFY themselves, so an appended listener never sees them.
 *
 * This is the only file that touches libre's listener list.  It moves the
 * module's listener to just behind libre's own transaction layer:
 *
 *   head                                                        tail
 *    |                                                            |
 *   [ctrans][strans] [kar head] [core OPTIONS][sipsess][sipevent] [kar tail]
 *    \____ libre ___/            \_________ baresip core _________/
 *
 * Behind strans, because strans absorbs retransmissions of requests that
 * have a server transaction, and the ACKs and CANCELs that match one of
 * its transactions (an ACK for a 2xx, and stray ones, go on); at the
 * very head the module would see those first.  The tail listener
 * answers, in exclusive mode, what nobody handled.
 *
 * Responses pass the same list.  To learn which answers were the
 * stack's own (servers.c), two response listeners see them: one at
 * the very head, before libre's client transactions, sees every
 * response; one right behind libre's listeners sees only what no
 * transaction of the stack matched.  Both only look and decline.
 *
 * libre does not export its listener type; its layout (list element
 * first, then lsnrp, handler, argument, direction) has not changed from
 * libre 1.1 to 4.x.  That is checked at run time against the module's own
 * listener before anything is moved, and if it does not match the module
 * stays at the tail, where it still answers what reaches it.
 */
#include <re.h>
#include "kar.h"


/* Mirror of libre's private struct sip_lsnr; verified in layout_ok() */
struct lsnr_view {
	struct le le;
	struct sip_lsnr **lsnrp;
	sip_msg_h *msgh;
	void *arg;
	bool req;
};


struct kar_chain {
	struct sip_lsnr *head;
	struct sip_lsnr *tail;
	struct sip_lsnr *first;     /**< responses, before everything  */
	struct sip_lsnr *stray;     /**< responses libre passed on     */
	bool hooked;
};


static void destructor(void *arg)
{
	struct kar_chain *ch = arg;

	/* Unlinks all four listeners; the rest of the chain keeps its
	   order.  After the SIP stack was freed, all four pointers are NULL
	   already. */
	mem_deref(ch->head);
	mem_deref(ch->tail);
	mem_deref(ch->first);
	mem_deref(ch->stray);
}


/* Is a listener the module just registered laid out as expected? */
static bool layout_ok(struct sip_lsnr **lsnrp, sip_msg_h *h, void *arg,
		      bool req)
{
	const struct lsnr_view *v = (const struct lsnr_view *)*lsnrp;

	return v->le.data == v && v->le.list != NULL &&
		v->lsnrp == lsnrp && v->msgh == h && v->arg == arg &&
		v->req == req;
}


/*
 * The last of libre's own listeners: the ones sip_alloc() registered,
 * with the stack itself as their argument, at the front of the list
 * (before self, which was appended)
 */
static struct le *libre_end(struct sip *sip, const struct lsnr_view *self)
{
	struct le *le, *after = NULL;

	for (le = self->le.list->head; le && le != &self->le; le = le->next) {

		const struct lsnr_view *v = le->data;

		if (v->arg != sip)
			break;

		after = le;
	}

	return after;
}


/* Move the head listener behind libre's transaction layer */
static bool hook(struct kar_chain *ch, struct sip *sip, sip_msg_h *headh,
		 void *arg)
{
	struct lsnr_view *self = (struct lsnr_view *)ch->head;
	struct list *list;
	struct le *after;

	if (!layout_ok(&ch->head, headh, arg, true))
		return false;

	after = libre_end(sip, self);
	if (!after)
		return false;

	list = self->le.list;
	list_unlink(&self->le);
	list_insert_after(list, after, &self->le, self);

	return true;
}


/**
 * Register the module's listeners and put the head one in place
 *
 * @param chp   Allocated chain state; freeing it restores the chain
 * @param sip   SIP stack
 * @param headh Handler that sees requests before baresip's core
 * @param tailh Handler that sees what nothing else handled
 * @param arg   Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int kar_chain_attach(struct kar_chain **chp, struct sip *sip,
		     sip_msg_h *headh, sip_msg_h *tailh, void *arg)
{
	struct kar_chain *ch;
	int err;

	if (!chp || !sip || !headh || !tailh)
		return EINVAL;

	ch = mem_zalloc(sizeof(*ch), destructor);
	if (!ch)
		return ENOMEM;

	err = sip_listen(&ch->head, sip, true, headh, arg);
	if (err)
		goto out;

	err = sip_listen(&ch->tail, sip, true, tailh, arg);
	if (err)
		goto out;

	ch->hooked = hook(ch, sip, headh, arg);

 out:
	if (err)
		mem_deref(ch);
	else
		*chp = ch;

	return err;
}


/**
 * Watch the responses the stack receives: firsth sees each one before
 * libre's client transactions do, strayh only those that no transaction
 * matched.  Both must decline (return false).
 *
 * @param ch     Chain state (kar_chain_attach())
 * @param sip    SIP stack
 * @param firsth Handler of every response
 * @param strayh Handler of the responses libre's transactions passed on
 * @param arg    Handler argument
 *
 * @return 0 if success, ENOTSUP if libre's list is not laid out as
 *         expected (no response listener stays), otherwise errorcode
 */
int kar_chain_responses(struct kar_chain *ch, struct sip *sip,
			sip_msg_h *firsth, sip_msg_h *strayh, void *arg)
{
	struct lsnr_view *first, *stray;
	struct list *list;
	struct le *after;
	int err;

	if (!ch || !sip || !firsth || !strayh || ch->first)
		return EINVAL;

	err  = sip_listen(&ch->first, sip, false, firsth, arg);
	err |= sip_listen(&ch->stray, sip, false, strayh, arg);
	if (err)
		goto out;

	first = (struct lsnr_view *)ch->first;
	stray = (struct lsnr_view *)ch->stray;

	if (!layout_ok(&ch->first, firsth, arg, false) ||
	    !layout_ok(&ch->stray, strayh, arg, false) ||
	    !(after = libre_end(sip, first))) {
		err = ENOTSUP;
		goto out;
	}

	list = first->le.list;
	list_unlink(&stray->le);
	list_insert_after(list, after, &stray->le, stray);
	list_unlink(&first->le);
	list_prepend(list, &first->le, first);

 out:
	if (err) {
		ch->first = mem_deref(ch->first);
		ch->stray = mem_deref(ch->stray);
	}

	return err;
}


/**
 * Keep the tail listener last
 *
 * Modules loaded later append their own listeners behind it.  Called
 * from the tail handler: when something follows, the tail re-appends
 * itself and declines, so libre goes on to the listeners behind it and
 * offers the request to the tail again at the new end.
 *
 * @param ch Chain state
 *
 * @return true if the tail was last already, false if it moved
 */
bool kar_chain_keep_last(struct kar_chain *ch)
{
	struct le *le;
	struct list *list;

	if (!ch || !ch->tail)
		return true;

	le = (struct le *)ch->tail;
	if (!ch->hooked || !le->next)
		return true;

	list = le->list;
	list_unlink(le);
	list_append(list, le, ch->tail);

	return false;
}


/**
 * Is the head listener in front of baresip's core?
 *
 * @param ch Chain state
 *
 * @return true if hooked, false if it stayed at the tail
 */
bool kar_chain_hooked(const struct kar_chain *ch)
{
	return ch && ch->hooked && ch->head;
}
