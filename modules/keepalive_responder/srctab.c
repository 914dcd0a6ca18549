/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file srctab.c  keepalive_responder -- bounded table of sources
 *
 * Per-source state that spoofed sources must not grow: a fixed table of
 * slots, one per source address (any port), each with a payload of the
 * caller's, all allocated at once.  Slots are found by a keyed hash of
 * the address and kept in least-recently-seen order; a new source takes
 * the oldest slot, its payload zeroed.  Memory therefore stays the same
 * whatever the number of sources, and a lookup costs one hash lookup and
 * one list move, no allocation.  The key keeps an attacker from choosing
 * addresses that share one hash bucket.
 *
 * Addresses compare as libre's sa_cmp(SA_ADDR) does: by family, so an
 * IPv4 peer on a dual-stack socket (::ffff:a.b.c.d) is another source
 * than the same peer over IPv4.
 */
#include <stdint.h>
#include <string.h>
#include <re.h>
#include "kar.h"


/* What a payload may hold, for its alignment */
union align {
	uint64_t u;
	void *p;
	double d;
};

/** One source; the slots are one block, each followed by its payload */
struct slot {
	struct le he;        /**< in the hash table while in use   */
	struct le le;        /**< in the recently-seen order       */
	struct sa addr;
	union align data[];  /**< the payload                      */
};

struct kar_srctab {
	void *mem;           /**< the slots                        */
	size_t stride;       /**< bytes from one slot to the next  */
	size_t size;         /**< bytes of a payload               */
	uint32_t n;          /**< slots                            */
	struct hash *ht;
	struct list lru;     /**< head: least recently seen        */
	uint64_t key;
};


static void srctab_destructor(void *arg)
{
	struct kar_srctab *t = arg;

	/* The slots are one block, not objects of their own: the hash
	   and the order list only link them, and go away with them
	   (hash_flush() would free each slot) */
	mem_deref(t->ht);
	mem_deref(t->mem);
}


static struct slot *slot_at(const struct kar_srctab *t, uint32_t i)
{
	return (void *)((uint8_t *)t->mem + (size_t)i * t->stride);
}


static uint32_t addr_hash(uint64_t key, const struct sa *sa)
{
	uint64_t h = key;
	uint8_t a6[16];
	size_t i;

	switch (sa_af(sa)) {

	case AF_INET:
		h ^= sa_in(sa);
		h *= 0x9e3779b97f4a7c15ULL;
		break;

	case AF_INET6:
		sa_in6(sa, a6);
		for (i = 0; i < sizeof(a6); i++) {
			h ^= a6[i];
			h *= 0x100000001b3ULL;
		}
		break;

	default:
		break;
	}

	return (uint32_t)(h ^ (h >> 32));
}


static bool slot_cmp(struct le *le, void *arg)
{
	const struct slot *s = le->data;

	return sa_cmp(&s->addr, arg, SA_ADDR);
}


/**
 * Allocate a table of sources
 *
 * @param tp    Allocated table
 * @param slots Sources remembered at once (a power of two: libre's hash
 *              takes no other size)
 * @param size  Bytes of the payload kept per source
 * @param key   Key of the address hash
 *
 * @return 0 if success, otherwise errorcode
 */
int kar_srctab_alloc(struct kar_srctab **tp, uint32_t slots, size_t size,
		     uint64_t key)
{
	const size_t unit = sizeof(union align);
	struct kar_srctab *t;
	size_t units;
	uint32_t i;
	int err;

	if (!tp || !slots || !size)
		return EINVAL;

	/* Whole units, so that the next slot is aligned too */
	units = size / unit + (size % unit != 0);
	if (SIZE_MAX / slots < sizeof(struct slot) ||
	    units > (SIZE_MAX / slots - sizeof(struct slot)) / unit)
		return ENOMEM;

	t = mem_zalloc(sizeof(*t), srctab_destructor);
	if (!t)
		return ENOMEM;

	t->stride = sizeof(struct slot) + units * unit;
	t->size = size;
	t->n = slots;
	t->key = key;

	t->mem = mem_zalloc(slots * t->stride, NULL);
	if (!t->mem) {
		err = ENOMEM;
		goto out;
	}

	err = hash_alloc(&t->ht, slots);
	if (err)
		goto out;

	/* Unused slots are the oldest; they are in no hash bucket, so no
	   lookup can match them */
	for (i = 0; i < slots; i++) {
		struct slot *s = slot_at(t, i);

		list_append(&t->lru, &s->le, s);
	}

 out:
	if (err)
		mem_deref(t);
	else
		*tp = t;

	return err;
}


/**
 * Find a source's payload; the source is the most recently seen from
 * now on.  One hash lookup and one list move, nothing allocated.
 *
 * @param t      Table
 * @param src    Source address (the port is ignored)
 * @param create An unknown source takes the least recently seen
 *               source's slot, its payload zeroed
 * @param fresh  Set true if the source is new, else false (optional)
 *
 * @return The payload, NULL if the source is unknown and not created
 */
void *kar_srctab_get(struct kar_srctab *t, const struct sa *src,
		     bool create, bool *fresh)
{
	uint32_t h;
	struct slot *s;

	if (fresh)
		*fresh = false;

	if (!t || !src)
		return NULL;

	h = addr_hash(t->key, src);
	s = list_ledata(hash_lookup(t->ht, h, slot_cmp, (void *)src));

	if (!s) {
		if (!create)
			return NULL;

		s = list_ledata(t->lru.head);
		hash_unlink(&s->he);
		hash_append(t->ht, h, &s->he, s);
		s->addr = *src;
		memset(s->data, 0, t->size);

		if (fresh)
			*fresh = true;
	}

	/* Most recently seen goes to the end; a flood from one source
	   finds it there already */
	if (t->lru.tail != &s->le) {
		list_unlink(&s->le);
		list_append(&t->lru, &s->le, s);
	}

	return s->data;
}


/**
 * Call a handler for every source in the table, in no particular order;
 * the order of the sources stays as it is
 *
 * @param t   Table
 * @param h   Handler, with the source's address and payload
 * @param arg Handler argument
 */
void kar_srctab_each(const struct kar_srctab *t, kar_srctab_h *h, void *arg)
{
	uint32_t i;

	if (!t || !h)
		return;

	for (i = 0; i < t->n; i++) {
		const struct slot *s = slot_at(t, i);

		if (s->he.list)
			h(&s->addr, s->data, arg);
	}
}
