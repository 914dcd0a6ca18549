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
 * have a server transaction, and ACK and CANCEL; at the very head the
 * module would see those first.  The tail listener answers, in exclusive
 * mode, what nobody handled.
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
	bool hooked;
};


static void destructor(void *arg)
{
	struct kar_chain *ch = arg;

	/* Unlinks both listeners; the rest of the chain keeps its order.
	   After the SIP stack was freed, both pointers are NULL already. */
	mem_deref(ch->head);
	mem_deref(ch->tail);
}


static bool layout_ok(const struct kar_chain *ch, sip_msg_h *headh,
		      void *arg)
{
	const struct lsnr_view *v = (const struct lsnr_view *)ch->head;

	return v->le.data == v && v->le.list != NULL &&
		v->lsnrp == &ch->head && v->msgh == headh &&
		v->arg == arg && v->req;
}


/*
 * Move the head listener behind libre's transaction layer.  libre's own
 * listeners are the ones sip_alloc() registered, with the stack itself as
 * their argument; they form the front of the list.
 */
static bool hook(struct kar_chain *ch, struct sip *sip, sip_msg_h *headh,
		 void *arg)
{
	struct lsnr_view *self = (struct lsnr_view *)ch->head;
	struct list *list;
	struct le *le, *after = NULL;

	if (!layout_ok(ch, headh, arg))
		return false;

	list = self->le.list;

	for (le = list->head; le && le != &self->le; le = le->next) {

		const struct lsnr_view *v = le->data;

		if (v->arg != sip)
			break;

		after = le;
	}

	if (!after)
		return false;

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
