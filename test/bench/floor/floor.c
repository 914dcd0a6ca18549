/* SPDX-License-Identifier: BSD-3-Clause */
/* Copyright (c) 2026 keepalive_responder developers */
/**
 * @file floor.c  The benchmark's floor: a bare libre SIP responder
 *
 * The cheapest answer to OPTIONS and NOTIFY that the system libre can
 * give, built the way baresip builds its stack: sip_alloc() with
 * 16-bucket transaction tables, one UDP transport, one request listener
 * that answers OPTIONS and NOTIFY with a plain 200 OK and declines the
 * rest.  With -s the answer is stateless (sip_reply); without it, a
 * server transaction answers (sip_treply), which libre keeps 32 s on UDP.
 * With -r there is no SIP stack at all: a bare libre UDP socket whose
 * handler discards every datagram, the least a libre program spends on
 * one (the wake-up, recvfrom, the mbuf), against which a drop before
 * decoding is measured.
 *
 *   floor -p PORT [-a 127.0.0.1] [-s | -r]
 *
 * Prints "ready <port>" on stdout once the transport is bound; stops on
 * SIGINT/SIGTERM.  Not part of the module: test/bench/run builds it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <re.h>


static struct {
	struct sip *sip;
	struct sip_lsnr *lsnr;
	struct udp_sock *us;
	bool stateless;
	unsigned long answered;
	unsigned long received;
} fl;


static void recv_handler(const struct sa *src, struct mbuf *mb, void *arg)
{
	(void)src;
	(void)mb;
	(void)arg;

	++fl.received;
}


static bool req_handler(const struct sip_msg *msg, void *arg)
{
	(void)arg;

	if (pl_strcmp(&msg->met, "OPTIONS") && pl_strcmp(&msg->met, "NOTIFY"))
		return false;

	if (fl.stateless)
		(void)sip_reply(fl.sip, msg, 200, "OK");
	else
		(void)sip_treply(NULL, fl.sip, msg, 200, "OK");

	++fl.answered;

	return true;
}


static void exit_handler(void *arg)
{
	(void)arg;
	re_cancel();
}


static void signal_handler(int sig)
{
	(void)sig;
	re_cancel();
}


static void usage(void)
{
	fprintf(stderr, "usage: floor -p PORT [-a ADDR] [-s | -r]\n");
}


int main(int argc, char *argv[])
{
	const char *addr = "127.0.0.1";
	struct sa laddr;
	long port = 0;
	bool recv_only = false;
	int c, err;

	while ((c = getopt(argc, argv, "a:p:srh")) != -1) {
		switch (c) {

		case 'a':
			addr = optarg;
			break;

		case 'p':
			port = strtol(optarg, NULL, 10);
			break;

		case 's':
			fl.stateless = true;
			break;

		case 'r':
			recv_only = true;
			break;

		default:
			usage();
			return 2;
		}
	}

	if (port <= 0 || port > 65535) {
		usage();
		return 2;
	}

	err = libre_init();
	if (err) {
		fprintf(stderr, "floor: libre_init: %s\n", strerror(err));
		return 1;
	}

	err = sa_set_str(&laddr, addr, (uint16_t)port);
	if (err) {
		fprintf(stderr, "floor: bad address %s\n", addr);
		goto out;
	}

	if (recv_only) {
		err = udp_listen(&fl.us, &laddr, recv_handler, NULL);
		if (err) {
			fprintf(stderr, "floor: udp_listen %s:%ld: %s\n", addr,
				port, strerror(err));
			goto out;
		}

		printf("ready %ld receive-only\n", port);
		fflush(stdout);

		err = re_main(signal_handler);

		fprintf(stderr, "floor: received %lu\n", fl.received);
		goto out;
	}

	/* baresip's tables: 16 buckets each */
	err = sip_alloc(&fl.sip, NULL, 16, 16, 16, "floor", exit_handler,
			NULL);
	if (err) {
		fprintf(stderr, "floor: sip_alloc: %s\n", strerror(err));
		goto out;
	}

	err = sip_transp_add(fl.sip, SIP_TRANSP_UDP, &laddr);
	if (err) {
		fprintf(stderr, "floor: sip_transp_add %s:%ld: %s\n", addr,
			port, strerror(err));
		goto out;
	}

	err = sip_listen(&fl.lsnr, fl.sip, true, req_handler, NULL);
	if (err) {
		fprintf(stderr, "floor: sip_listen: %s\n", strerror(err));
		goto out;
	}

	printf("ready %ld %s\n", port, fl.stateless ? "stateless"
	       : "stateful");
	fflush(stdout);

	err = re_main(signal_handler);

	fprintf(stderr, "floor: answered %lu\n", fl.answered);

 out:
	fl.us = mem_deref(fl.us);
	fl.lsnr = mem_deref(fl.lsnr);
	if (fl.sip) {
		sip_close(fl.sip, true);
		fl.sip = mem_deref(fl.sip);
	}

	libre_close();

	return err ? 1 : 0;
}
