#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
"""
kar_flood.py -- flood test of keepalive_responder's guard against the
real baresip (Debian 12's baresip-core 1.0.0).

It starts baresip with the module (default rate limit, 50/s per source,
bursts of 100) in a fresh temporary folder, using kar_harness.py,
and then:

  1. sends every kind of junk once, each from a fresh source address,
     followed by a valid OPTIONS from the same socket: baresip must
     answer that OPTIONS (it survived the junk), and the module's
     counters tell which junk kinds take a token from the source's
     bucket (the "calibration" used by the accounting below);
  2. floods from one source, 127.0.0.1: 20,000 junk datagrams (random
     bytes, truncated SIP, ~60 KB SIP, lying Content-Length, non-UTF-8
     bytes, missing and repeated headers, odd Request-URIs, ...) mixed
     with 50,000 OPTIONS sip:127.0.0.1:P (no user part), while a second
     source, 127.0.0.2, sends one OPTIONS per second throughout (and
     retransmits like any UDP client, every 0.5 s, if the kernel
     dropped a request on baresip's full socket) and records the
     answers; a receiver thread counts what the flooding source gets;
  3. floods from 100,000 distinct source addresses 127.x.y.z (one
     socket per address, one OPTIONS, closed), which the module's
     per-source table must absorb without growing;
  4. floods again from 100,000 distinct sources 127.2.y.z, each OPTIONS
     with a scanner User-Agent, so that the enumeration guard blocks
     every one of them, while the second source probes once a second:
     the table of blocked sources must stay bounded as well.

Checked (each a named check): baresip stays up and answers a final
probe; the second source gets every answer; the flooding source gets
about rate x duration + burst answers (duration = first to last flood
send; within 20 % + 5); /kar_stats json dropped-rate = probes sent -
probes answered (give or take what the kernel dropped on baresip's
socket, which /proc/net/udp tells); no request gets two answers;
baresip's RSS (/proc/PID/status VmRSS) after each flood is within
2 MiB of the value before the floods; after the scanner flood (step
4) /kar_stats json "blocked" >= 1, the last sources get no answer to a
plain OPTIONS, the second source got every answer; clean shutdown.

The flood is paced (--pps, default 15000 datagrams/s, 300 times the
rate limit): unpaced, Python sends about 270,000/s, more than baresip
reads (about 110,000/s), so the kernel drops half of the flood at
baresip's socket and the flood is over in a quarter of a second, too
short for rate x duration to mean anything.  --pps 0 sends unpaced;
the checks still hold (the kernel's drops are measured and allowed
for).  The achieved rates are printed.

How CTest runs it (test/integration/CMakeLists.txt, label "flood"):

    kar_flood.py --baresip /usr/bin/baresip \\
        --module build/keepalive_responder.so

Output: the figures (counts, durations, rates, RSS) as "  name: value"
lines, one line per check ("ok   name" or "FAIL name: why"), then, last
and alone on its line, "N passed, M failed".  Exit status 0 only when
nothing failed.  Python 3 standard library only; all traffic stays in
127.0.0.0/8 and every loop is bounded in count and time.
"""

import argparse
import json
import os
import random
import re
import select
import signal
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True         # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kar_harness as kh                                # noqa: E402

FLOOD_SRC = "127.0.0.1"
PROBE_SRC = "127.0.0.2"
FINAL_SRC = "127.0.0.3"

RSS_SLACK_KIB = 2048        # "within 2 MiB"
SETTLE = 1.0                # after a flood: let baresip drain its socket
FLOOD1_CAP = 60.0           # flood 1 must be sent within this
FLOOD2_CAP = 60.0           # flood 2 likewise
PROBE_RETRANS = 0.5         # Timer E (T1) of the 1/s prober
PROBE_TRIES = 4             # first send + 3 retransmissions

# Junk that names a scanner: it gets its source blocked (the enumeration
# guard), so calibration expects silence after it and flood 1, which
# measures the rate limit on one source, leaves it out
SCANNER_KINDS = ("two_user_agents_one_scanner",)

PROBE_COUNTERS = ("answered", "passed", "rejected", "dropped-rate",
                  "untrusted")


# ---------------------------------------------------------------------
# baresip with a few extras

class FloodBaresip(kh.Baresip):
    """kar_harness's Baresip plus RSS and its SIP socket's drop counter."""

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise kh.Fail("no VmRSS in /proc/%d/status" % self.proc.pid)

    def udp_drops(self):
        """Datagrams the kernel dropped at baresip's SIP UDP socket
        (full receive buffer): last column of /proc/net/udp."""
        want = "0100007F:%04X" % self.sip_port
        with open("/proc/net/udp") as f:
            for line in f.readlines()[1:]:
                p = line.split()
                if len(p) > 12 and p[1] == want:
                    return int(p[-1])
        return 0


def stats_json(ctrl):
    data = kh.ctrl_ok(ctrl, "kar_stats", "json")
    try:
        return json.loads(data)
    except ValueError as e:
        raise kh.Fail("kar_stats json is not JSON (%s): %r" % (e, data))


def counters(st, meth):
    c = kh.stats_value(st, "methods." + meth)
    if not isinstance(c, dict):
        raise kh.Fail("no methods.%s in kar_stats json" % meth)
    return c


def probe_tokens(st):
    """Requests that took a token: probes counted other than as
    dropped-scanner (the scanner filter comes before the rate limit)."""
    return sum(counters(st, m).get(k, 0)
               for m in ("OPTIONS", "NOTIFY") for k in PROBE_COUNTERS)


def dropped_rate(st):
    return sum(counters(st, m).get("dropped-rate", 0)
               for m in ("OPTIONS", "NOTIFY"))


# ---------------------------------------------------------------------
# Datagrams

def options_tpl(src, lport, port, tag):
    """OPTIONS sip:127.0.0.1:P from src:lport as a %-template taking
    one number three times: the branch z9hG4bK-<tag>-<n>, which tells
    the answers apart, the From tag and the Call-ID."""
    return ("OPTIONS sip:127.0.0.1:%d SIP/2.0\r\n"
            "Via: SIP/2.0/UDP %s:%d;rport;branch=z9hG4bK-%s-%%d\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:flood@%s>;tag=f%%d\r\n"
            "To: <sip:127.0.0.1:%d>\r\n"
            "Call-ID: %s-%%d@flood\r\n"
            "CSeq: 1 OPTIONS\r\n"
            "User-Agent: kar_flood\r\n"
            "Content-Length: 0\r\n\r\n"
            % (port, src, lport, tag, src, port, tag)).encode()


class Junk:
    """The junk kinds.  Each kind is a function of a serial number n
    returning one datagram; where a Via exists, its branch is
    "z9hG4bK-jk-<kind>-<n>", so that answers can be told apart (libre
    and the module copy the Via, even when the Call-ID is missing or
    doubled).  Whether a kind reaches the module as a probe does not
    depend on n."""

    def __init__(self, src, lport, port, rnd):
        self.src, self.lport, self.port = src, lport, port
        self.rnd = rnd
        self.blobs = [rnd.randbytes(60000) for _ in range(2)]
        self.small = [rnd.randbytes(1400) for _ in range(8)]
        self.kinds = [(name[2:], getattr(self, name))
                      for name in sorted(dir(self)) if name.startswith("k_")]

    # building blocks

    def hdrs(self, kind, n, method="OPTIONS", skip=(), extra=(),
             clen=None, body=b"", to=None, cseq=None):
        src, lport, port = self.src, self.lport, self.port
        h = [
            ("Via", "SIP/2.0/UDP %s:%d;rport;branch=z9hG4bK-jk-%s-%d"
             % (src, lport, kind, n)),
            ("Max-Forwards", "70"),
            ("From", "<sip:junk@%s>;tag=j%d" % (src, n)),
            ("To", to or "<sip:127.0.0.1:%d>" % port),
            ("Call-ID", "jk-%s-%d@junk" % (kind, n)),
            ("CSeq", cseq or "%d %s" % (n % 100000 + 1, method)),
        ]
        h = [(k, v) for (k, v) in h if k not in skip]
        h += list(extra)
        if "Content-Length" not in skip:
            h.append(("Content-Length",
                      str(len(body)) if clen is None else clen))
        out = []
        for k, v in h:
            k = k.encode() if isinstance(k, str) else k
            v = v.encode() if isinstance(v, str) else v
            out.append(k + b": " + v + b"\r\n")
        return b"".join(out) + b"\r\n" + body

    def req(self, kind, n, method="OPTIONS", ruri=None, **kw):
        if ruri is None:
            ruri = "sip:127.0.0.1:%d" % self.port
        ruri = ruri.encode() if isinstance(ruri, str) else ruri
        m = method.encode() if isinstance(method, str) else method
        meth = kw.pop("cseq_method", method)
        return (m + b" " + ruri + b" SIP/2.0\r\n"
                + self.hdrs(kind, n, method=meth, **kw))

    # not SIP at all

    def k_random_small(self, n):
        b = self.small[n % len(self.small)]
        return b[:1 + (n * 7919) % len(b)]

    def k_random_60k(self, n):
        return self.blobs[n % 2][:59000 + n % 1000]

    def k_empty(self, n):
        return b""

    def k_crlf(self, n):
        return b"\r\n\r\n"

    def k_nul_bytes(self, n):
        return b"\x00" * (1 + n % 300)

    def k_stun_like(self, n):
        return b"\x00\x01\x00\x00\x21\x12\xa4\x42" + b"\xee" * 12

    # truncated SIP

    def k_trunc_startline(self, n):
        return b"OPTIONS sip:127.0.0.1"[:1 + n % 20]

    def k_trunc_headers(self, n):
        full = self.req("trunc_headers", n)
        return full[:full.find(b"Call-ID")]

    def k_trunc_no_blank_line(self, n):
        full = self.req("trunc_no_blank_line", n)
        return full[:-2]

    def k_trunc_in_body(self, n):
        body = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n"
        full = self.req("trunc_in_body", n, extra=[
            ("Content-Type", "application/sdp")], body=body)
        return full[:-10]

    # oversized

    def k_big_header_60k(self, n):
        return self.req("big_header_60k", n,
                        extra=[("X-Pad", b"a" * 60000)])

    def k_big_body_60k(self, n):
        return self.req("big_body_60k", n, extra=[
            ("Content-Type", "text/plain")], body=b"b" * 60000)

    def k_big_user_agent(self, n):
        return self.req("big_user_agent", n,
                        extra=[("User-Agent", "x" * 8000)])

    def k_many_headers(self, n):
        return self.req("many_headers", n,
                        extra=[("X-H%d" % i, "v") for i in range(500)])

    # lying Content-Length

    def k_clen_longer(self, n):
        return self.req("clen_longer", n, clen="500", body=b"0123456789")

    def k_clen_shorter(self, n):
        return self.req("clen_shorter", n, clen="2", body=b"z" * 100)

    def k_clen_negative(self, n):
        return self.req("clen_negative", n, clen="-1")

    def k_clen_huge(self, n):
        return self.req("clen_huge", n, clen="99999999999999999999")

    def k_clen_alpha(self, n):
        return self.req("clen_alpha", n, clen="abc")

    def k_clen_twice(self, n):
        return self.req("clen_twice", n, extra=[("Content-Length", "40")],
                        body=b"")

    # non-UTF-8 bytes

    def k_utf8_bad_from(self, n):
        return self.req("utf8_bad_from", n, skip=("From",), extra=[
            ("From", b"\"\xff\xfe\xc3\x28\" <sip:j@127.0.0.1>;tag=x")])

    def k_utf8_bad_ruri_user(self, n):
        return self.req("utf8_bad_ruri_user", n,
                        ruri=b"sip:\xff\xfe\x80@127.0.0.1:%d" % self.port)

    def k_utf8_bad_header_name(self, n):
        return self.req("utf8_bad_header_name", n,
                        extra=[(b"\xff\xfe\xc0", "v")])

    def k_utf8_bad_user_agent(self, n):
        return self.req("utf8_bad_user_agent", n, extra=[
            ("User-Agent", b"\xc0\xc1\xf5\xff kar \x80")])

    def k_utf8_bad_event(self, n):
        return self.req("utf8_bad_event", n, method="NOTIFY", extra=[
            ("Event", b"keep-\xff\xfealive"),
            ("Subscription-State", "active")])

    # missing headers

    def k_no_via(self, n):
        return self.req("no_via", n, skip=("Via",))

    def k_no_call_id(self, n):
        return self.req("no_call_id", n, skip=("Call-ID",))

    def k_no_cseq(self, n):
        return self.req("no_cseq", n, skip=("CSeq",))

    def k_no_from(self, n):
        return self.req("no_from", n, skip=("From",))

    def k_no_to(self, n):
        return self.req("no_to", n, skip=("To",))

    def k_no_content_length(self, n):
        return self.req("no_content_length", n, skip=("Content-Length",))

    def k_start_line_only(self, n):
        return b"OPTIONS sip:127.0.0.1:%d SIP/2.0\r\n\r\n" % self.port

    def k_header_without_colon(self, n):
        return self.req("header_without_colon", n,
                        extra=[("X-NoColon-Here", "")]).replace(
                            b"X-NoColon-Here: ", b"X-NoColon-Here ")

    # repeated headers

    def k_two_call_ids(self, n):
        return self.req("two_call_ids", n,
                        extra=[("Call-ID", "other-%d@junk" % n)])

    def k_two_cseqs(self, n):
        return self.req("two_cseqs", n, extra=[("CSeq", "7 NOTIFY")])

    def k_two_tos_second_tagged(self, n):
        return self.req("two_tos_second_tagged", n,
                        extra=[("To", "<sip:x@127.0.0.1>;tag=zz")])

    def k_forty_vias(self, n):
        return self.req("forty_vias", n, extra=[
            ("Via", "SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%d"
             % (9 + i, i)) for i in range(40)])

    def k_two_user_agents_one_scanner(self, n):
        return self.req("two_user_agents_one_scanner", n, extra=[
            ("User-Agent", "kar"), ("User-Agent", "friendly-scanner")])

    def k_two_events(self, n):
        return self.req("two_events", n, method="NOTIFY", extra=[
            ("Event", "keep-alive"), ("Event", "presence"),
            ("Subscription-State", "active")])

    def k_cseq_method_mismatch(self, n):
        return self.req("cseq_method_mismatch", n, cseq_method="NOTIFY")

    def k_folded_headers(self, n):
        return self.req("folded_headers", n, extra=[
            ("Subject", "first\r\n  second\r\n\tthird")])

    # odd Request-URIs

    def k_ruri_star(self, n):
        return self.req("ruri_star", n, ruri="*")

    def k_ruri_empty_user(self, n):
        return self.req("ruri_empty_user", n,
                        ruri="sip:@127.0.0.1:%d" % self.port)

    def k_ruri_tel(self, n):
        return self.req("ruri_tel", n, ruri="tel:+4930123456")

    def k_ruri_ipv6(self, n):
        return self.req("ruri_ipv6", n, ruri="sip:[::1]:%d" % self.port)

    def k_ruri_long_user(self, n):
        return self.req("ruri_long_user", n,
                        ruri="sip:%s@127.0.0.1:%d" % ("u" * 3000, self.port))

    def k_ruri_bad_port(self, n):
        return self.req("ruri_bad_port", n, ruri="sip:127.0.0.1:99999")

    def k_ruri_angle(self, n):
        return self.req("ruri_angle", n,
                        ruri="<sip:127.0.0.1:%d>" % self.port)

    def k_ruri_params_headers(self, n):
        return self.req("ruri_params_headers", n,
                        ruri="sip:127.0.0.1:%d;transport=udp;lr?X=y&Z"
                        % self.port)

    def k_ruri_escaped_user(self, n):
        return self.req("ruri_escaped_user", n,
                        ruri="sip:%%00%%ff%%20@127.0.0.1:%d" % self.port)

    def k_ruri_no_scheme(self, n):
        return self.req("ruri_no_scheme", n, ruri="127.0.0.1")

    def k_ruri_alice(self, n):
        # UA-targeted: the core answers (200 + SDP, a call object)
        return self.req("ruri_alice", n,
                        ruri="sip:alice@127.0.0.1:%d" % self.port)

    # other start lines and methods

    def k_bad_version(self, n):
        return self.req("bad_version", n).replace(b"SIP/2.0\r\n",
                                                  b"SIP/3.0\r\n", 1)

    def k_lower_case_method(self, n):
        return self.req("lower_case_method", n, method="options")

    def k_unknown_method(self, n):
        return self.req("unknown_method", n, method="FOO")

    def k_info_out_of_dialog(self, n):
        return self.req("info_out_of_dialog", n, method="INFO")

    def k_response(self, n):
        return (b"SIP/2.0 200 OK\r\n"
                + self.hdrs("response", n))

    # NOTIFY (out of dialog: probes too)

    def k_notify_keepalive(self, n):
        return self.req("notify_keepalive", n, method="NOTIFY", extra=[
            ("Event", "keep-alive"), ("Subscription-State", "active")])

    def k_notify_no_event(self, n):
        return self.req("notify_no_event", n, method="NOTIFY")

    def k_notify_event_semicolons(self, n):
        return self.req("notify_event_semicolons", n, method="NOTIFY",
                        extra=[("Event", ";;")])

    def k_notify_event_long(self, n):
        return self.req("notify_event_long", n, method="NOTIFY",
                        extra=[("Event", "k" * 3000)])

    def k_notify_mwi_garbage(self, n):
        return self.req("notify_mwi_garbage", n, method="NOTIFY", extra=[
            ("Event", "message-summary"),
            ("Content-Type", "application/simple-message-summary")],
            body=b"Messages-Waiting: \xff\xfe\r\nVoice-Message: 9999999999"
                 b"9999/-1 (x/)\r\n" + b":" * 300)


# ---------------------------------------------------------------------
# Answers

RE_STATUS = re.compile(rb"^SIP/2\.0 (\d{3})")
RE_BRANCH = re.compile(rb"^(?:via|v)[ \t]*:[^\r\n]*?;[ \t]*branch=z9hG4bK-"
                       rb"([^;, \t\r\n]+)", re.I | re.M)


def answer_key(data):
    """(status, branch after "z9hG4bK-" of the top Via) of an answer,
    or None if not an answer."""
    m = RE_STATUS.match(data)
    if not m:
        return None
    b = RE_BRANCH.search(data)
    return int(m.group(1)), (b.group(1) if b else b"")


class Receiver(threading.Thread):
    """Counts the final answers a socket gets, per branch."""

    def __init__(self, sock, cap):
        super().__init__(daemon=True)
        self.sock = sock
        self.cap = cap                      # seconds at most
        self.stop = threading.Event()
        self.answers = {}                   # branch -> [statuses]
        self.unparsable = 0
        self.provisional = 0

    def run(self):
        deadline = time.monotonic() + self.cap
        self.sock.setblocking(False)
        while not self.stop.is_set() and time.monotonic() < deadline:
            r, _, _ = select.select([self.sock], [], [], 0.05)
            if not r:
                continue
            for _ in range(1000):
                try:
                    data = self.sock.recv(65535)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    # ICMP errors surface here; keep reading
                    break
                k = answer_key(data)
                if k is None:
                    self.unparsable += 1
                elif k[0] < 200:
                    self.provisional += 1
                else:
                    self.answers.setdefault(k[1], []).append(k[0])


class Prober(threading.Thread):
    """The second source: one OPTIONS per second, each retransmitted
    every PROBE_RETRANS s until answered, at most PROBE_TRIES sends."""

    def __init__(self, port, cap):
        super().__init__(daemon=True)
        self.port = port
        self.cap = cap
        self.stop = threading.Event()
        self.sent = 0                # transactions
        self.sends = 0               # datagrams, retransmissions too
        self.first_try = 0
        self.answered = 0
        self.statuses = {}
        self.unanswered = []
        self.error = None

    def run(self):
        try:
            self._run()
        except Exception as e:           # reported by the check
            self.error = "%s: %s" % (type(e).__name__, e)

    def _run(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind((PROBE_SRC, 0))
            tpl = options_tpl(PROBE_SRC, s.getsockname()[1], self.port,
                              "pr")
            dest = (kh.HOST, self.port)
            pending = {}             # branch -> [data, tries, next]
            t0 = time.monotonic()
            deadline = t0 + self.cap
            next_new = t0
            for _ in range(100000):
                now = time.monotonic()
                if now >= deadline:
                    break
                stopping = self.stop.is_set()
                if stopping and not pending:
                    break
                if not stopping and now >= next_new:
                    n = self.sent
                    data = tpl % (n, n, n)
                    cid = b"pr-%d" % n
                    s.sendto(data, dest)
                    self.sent += 1
                    self.sends += 1
                    pending[cid] = [data, 1, now + PROBE_RETRANS]
                    next_new += 1.0
                for cid, p in list(pending.items()):
                    if now >= p[2]:
                        if p[1] >= PROBE_TRIES:
                            self.unanswered.append(cid.decode())
                            del pending[cid]
                            continue
                        s.sendto(p[0], dest)
                        self.sends += 1
                        p[1] += 1
                        p[2] = now + PROBE_RETRANS
                wake = min([next_new if not stopping else deadline]
                           + [p[2] for p in pending.values()] + [deadline])
                r, _, _ = select.select([s], [], [],
                                        max(0.0, min(wake - now, 0.1)))
                if not r:
                    continue
                data = s.recv(65535)
                k = answer_key(data)
                if k is None or k[0] < 200 or k[1] not in pending:
                    continue
                p = pending.pop(k[1])
                self.answered += 1
                self.statuses[k[0]] = self.statuses.get(k[0], 0) + 1
                if p[1] == 1:
                    self.first_try += 1
            self.unanswered += [c.decode() for c in pending]
        finally:
            s.close()


def final_probe(port, src=FINAL_SRC):
    """One OPTIONS from src; its final answer or None."""
    return kh.options_from(port, src)


# ---------------------------------------------------------------------
# The test

class Flood:
    def __init__(self, args, runner):
        self.args = args
        self.runner = runner
        self.rnd = random.Random(args.seed)
        self.bs = None
        self.ctrl = None
        self.kinds = None            # [(name, fn)]
        self.calib = {}              # kind -> (tokens, answered)
        self.fig = {}

    def figure(self, name, value):
        self.fig[name] = value
        print("  %s: %s" % (name, value), flush=True)

    # --- step 0: start

    def start(self):
        conf = list(self.args.conf)
        if self.args.rate != 50:
            conf.insert(0, "keepalive_responder_rate %d" % self.args.rate)
        self.bs = FloodBaresip(self.args.baresip, self.args.module, conf,
                               self.args.keep)
        self.bs.start()
        self.t_started = time.monotonic()
        self.ctrl = kh.Ctrl(self.bs.ctrl_port)
        st = stats_json(self.ctrl)
        if "methods" not in st:
            raise kh.Fail("module not loaded? kar_stats json: %r" % st)

    # --- step 1: every junk kind once

    def calibrate(self):
        """Each kind from its own source 127.0.1.k (a full bucket), then
        a valid OPTIONS from the same socket: when its answer is back,
        baresip has handled the junk (one socket, in order)."""
        port = self.bs.sip_port
        bad = []
        prev = stats_json(self.ctrl)
        for i, (name, fn) in enumerate(self.kinds):
            src = "127.0.1.%d" % (i + 1)
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                s.bind((src, 0))
                lport = s.getsockname()[1]
                junk = Junk(src, lport, port, self.rnd)
                s.sendto(getattr(junk, "k_" + name)(0), (kh.HOST, port))
                mark = options_tpl(src, lport, port, "mk") % (i, i, i)
                s.sendto(mark, (kh.HOST, port))
                got_mark, answers = False, []
                deadline = time.monotonic() + kh.ANSWER_TIMEOUT
                for _ in range(100):
                    raw = kh.udp_recv(s, deadline - time.monotonic())
                    if raw is None:
                        break
                    k = answer_key(raw)
                    if k is None or k[0] < 200:
                        continue
                    if k[1] == b"mk-%d" % i:
                        got_mark = True
                        break
                    answers.append(k)
            finally:
                s.close()
            st = stats_json(self.ctrl)
            tokens = probe_tokens(st) - probe_tokens(prev) - 1
            prev = st
            if name in SCANNER_KINDS:
                # its source is blocked now: survival shows from another
                if got_mark:
                    bad.append("%s (the OPTIONS after it answered: source "
                               "not blocked)" % name)
                got_mark = final_probe(port, "127.0.2.%d" % (i + 1))
                # that probe's token is not the next kind's
                prev = stats_json(self.ctrl)
            if not got_mark:
                bad.append("%s (no answer to the OPTIONS after it%s)" % (
                    name, "; " + self.bs.dead() if self.bs.dead() else ""))
                if self.bs.dead():
                    break
            self.calib[name] = (tokens, answers)
            kh.log("  junk %-28s tokens %d answers %s" % (
                name, tokens, [a[0] for a in answers]))
        if bad:
            raise kh.Fail("; ".join(bad))

    # --- step 2: the flood from one source

    def flood_one(self):
        a = self.args
        bs = self.bs
        port = bs.sip_port
        dest = (kh.HOST, port)

        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.bind((FLOOD_SRC, 0))
        lport = s.getsockname()[1]
        junk = Junk(FLOOD_SRC, lport, port, self.rnd)
        fns = [getattr(junk, "k_" + name) for name, _ in self.kinds]
        tpl = options_tpl(FLOOD_SRC, lport, port, "fl")

        order = [-1] * a.options + [i % len(fns) for i in range(a.junk)]
        self.rnd.shuffle(order)
        per_kind = [0] * len(fns)

        # the bucket of 127.0.0.1 (used by start-up probes) is full
        # again after 2 x burst / rate = 2 s
        wait = self.t_started + 2.2 - time.monotonic()
        if wait > 0:
            time.sleep(wait)

        kh.ctrl_ok(self.ctrl, "kar_stats", "reset")
        drops0 = bs.udp_drops()
        recv = Receiver(s, FLOOD1_CAP + 10)
        prober = Prober(port, FLOOD1_CAP + 10)
        recv.start()
        prober.start()
        time.sleep(0.05)

        pps = a.pps
        n_opt = 0
        sent = 0
        t_first = time.monotonic()
        deadline = t_first + FLOOD1_CAP
        try:
            for i, k in enumerate(order):
                if k < 0:
                    data = tpl % (n_opt, n_opt, n_opt)
                    n_opt += 1
                else:
                    data = fns[k](per_kind[k] + 1)
                    per_kind[k] += 1
                try:
                    s.sendto(data, dest)
                except OSError:
                    # ENOBUFS and the like: count as sent, the kernel
                    # dropped it (not expected on loopback)
                    pass
                sent += 1
                if i & 63 == 63:
                    now = time.monotonic()
                    if now > deadline:
                        break
                    if pps:
                        ahead = t_first + sent / pps - now
                        if ahead > 0:
                            time.sleep(ahead)
            t_last = time.monotonic()
        finally:
            # the prober keeps going until the flood is handled
            time.sleep(SETTLE)
            prober.stop.set()
            prober.join(PROBE_RETRANS * PROBE_TRIES + 2)
            recv.stop.set()
            recv.join(2)
            s.close()

        duration = t_last - t_first
        self.flood1 = dict(sent=sent, n_opt=n_opt, per_kind=per_kind,
                           duration=duration, recv=recv, prober=prober,
                           kdrops=bs.udp_drops() - drops0,
                           stats=stats_json(self.ctrl))
        if sent < len(order):
            raise kh.Fail("only %d of %d datagrams sent within %.0f s"
                          % (sent, len(order), FLOOD1_CAP))

    def report_one(self):
        f = self.flood1
        a = self.args
        names = [n for n, _ in self.kinds]
        recv = f["recv"]
        junk_sent = sum(f["per_kind"])
        self.figure("flood1 datagrams sent", "%d (%d OPTIONS, %d junk of "
                    "%d kinds)" % (f["sent"], f["n_opt"], junk_sent,
                                   len(names)))
        self.figure("flood1 duration (first to last send)",
                    "%.3f s" % f["duration"])
        self.figure("flood1 send rate", "%.0f datagrams/s (target %s)" % (
            f["sent"] / max(f["duration"], 1e-6),
            "%d/s" % a.pps if a.pps else "unpaced"))
        self.figure("flood1 kernel drops at baresip's socket",
                    f["kdrops"])

        # probes the module saw from 127.0.0.1, per the calibration
        probe_junk = sum(cnt for name, cnt in zip(names, f["per_kind"])
                         if self.calib.get(name, (0,))[0] > 0)
        s_probe = f["n_opt"] + probe_junk
        # probes that take a token but whose answer never comes back
        # (no Via: nowhere to send it); a share of the granted tokens
        silent = sum(cnt for name, cnt in zip(names, f["per_kind"])
                     if self.calib.get(name, (0,))[0] > 0
                     and not self.calib[name][1])
        fl_ans = [v for k, v in recv.answers.items()
                  if k.startswith(b"fl-")]
        jk_probe_ans = 0
        jk_other_ans = 0
        probe_kinds = {n for n in names if self.calib.get(n, (0,))[0] > 0}
        for k, v in recv.answers.items():
            if not k.startswith(b"jk-"):
                continue
            kind = k.split(b"-")[1].decode("ascii", "replace")
            if kind in probe_kinds:
                jk_probe_ans += 1
            else:
                jk_other_ans += 1
        answered = len(fl_ans) + jk_probe_ans
        dups = sum(1 for v in recv.answers.values() if len(v) > 1)
        fl_status = {}
        for v in fl_ans:
            fl_status[v[0]] = fl_status.get(v[0], 0) + 1

        burst = 2 * a.rate
        expect = burst + a.rate * f["duration"]
        invisible = expect * silent / max(s_probe, 1)
        st = f["stats"]
        drop = dropped_rate(st)

        self.figure("flood1 probes sent (OPTIONS + junk that reaches the "
                    "module as a probe)", "%d (%d + %d)"
                    % (s_probe, f["n_opt"], probe_junk))
        self.figure("flood1 probe answers to the flooding source",
                    "%d (%d to the OPTIONS %s, %d to junk probes)"
                    % (answered, len(fl_ans), fl_status, jk_probe_ans))
        self.figure("flood1 expected answers (burst + rate x duration)",
                    "%.0f (%d + %d/s x %.3f s)"
                    % (expect, burst, a.rate, f["duration"]))
        self.figure("flood1 answers to other junk", "%d SIP (501 and "
                    "the like), %d not SIP (STUN binding responses), %d "
                    "provisional" % (jk_other_ans, recv.unparsable,
                                     recv.provisional))
        self.figure("flood1 kar_stats dropped-rate", "%d (OPTIONS %d, "
                    "NOTIFY %d); dropped-scanner %d" % (
                        drop, counters(st, "OPTIONS")["dropped-rate"],
                        counters(st, "NOTIFY")["dropped-rate"],
                        sum(counters(st, m)["dropped-scanner"]
                            for m in ("OPTIONS", "NOTIFY", "other"))))
        self.figure("flood1 probes sent - answered", s_probe - answered)
        p = f["prober"]
        self.figure("flood1 second source (%s)" % PROBE_SRC,
                    "%d OPTIONS, %d answered (%d on the first send), "
                    "%d datagrams with retransmissions, statuses %s"
                    % (p.sent, p.answered, p.first_try, p.sends,
                       p.statuses))
        self.figure("flood1 granted probes without an answer (estimate)",
                    "%.1f (%d of the probes sent have nowhere to be "
                    "answered)" % (invisible, silent))
        return dict(answered=answered, expect=expect, s_probe=s_probe,
                    drop=drop, dups=dups, invisible=invisible)

    # --- step 3: the flood from many sources

    def flood_many(self, scanner=False):
        """Flood 2, or with scanner flood 3: every source names a
        scanner User-Agent (and so gets blocked) while the 1/s prober
        probes from its own source."""
        a = self.args
        port = self.bs.sip_port
        dest = (kh.HOST, port)
        name = "flood3" if scanner else "flood2"
        kh.ctrl_ok(self.ctrl, "kar_stats", "reset")
        prober = None
        if scanner:
            prober = Prober(port, FLOOD2_CAP + 10)
            prober.start()
        drops0 = self.bs.udp_drops()
        sent = 0
        errors = 0
        t_first = time.monotonic()
        deadline = t_first + FLOOD2_CAP
        # 127.1.0.0 upward; flood 3 from 127.2.0.0 upward
        base = (2 if scanner else 1) << 16
        addr_n = base
        first = last = None
        recent = []
        for i in range(a.sources * 2):
            if sent >= a.sources:
                break
            addr_n += 1
            if addr_n & 0xff in (0, 255):
                continue
            src = "127.%d.%d.%d" % ((addr_n >> 16) & 0xff,
                                    (addr_n >> 8) & 0xff, addr_n & 0xff)
            if src in (FLOOD_SRC, PROBE_SRC, FINAL_SRC):
                continue
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                s.bind((src, 0))
                data = options_tpl(src, s.getsockname()[1], port,
                                   "ms") % (sent, sent, sent)
                if scanner:
                    data = data.replace(b"User-Agent: kar_flood",
                                        b"User-Agent: friendly-scanner")
                s.sendto(data, dest)
                sent += 1
                first = first or src
                last = src
                recent = (recent + [src])[-3:]
            except OSError:
                errors += 1
                if errors > 100:
                    raise
            finally:
                s.close()
            if sent & 63 == 0:
                now = time.monotonic()
                if now > deadline:
                    break
                if a.pps:
                    ahead = t_first + sent / a.pps - now
                    if ahead > 0:
                        time.sleep(ahead)
        t_last = time.monotonic()
        time.sleep(SETTLE)
        if prober:
            prober.stop.set()
            prober.join(PROBE_RETRANS * PROBE_TRIES + 2)
        st = stats_json(self.ctrl)
        kdrops = self.bs.udp_drops() - drops0
        seen = probe_tokens(st)
        if scanner:
            seen = counters(st, "OPTIONS").get("dropped-scanner", 0)
        dur = t_last - t_first
        self.figure("%s distinct sources" % name, "%d sent (%s .. %s), %d "
                    "socket errors" % (sent, first, last, errors))
        self.figure("%s duration" % name, "%.3f s" % dur)
        self.figure("%s send rate" % name,
                    "%.0f/s" % (sent / max(dur, 1e-6)))
        self.figure("%s kernel drops at baresip's socket" % name, kdrops)
        if scanner:
            self.figure("flood3 scanner OPTIONS the module dropped, "
                        "blocked now", "%d, %r" % (seen, st.get("blocked")))
        else:
            self.figure("flood2 OPTIONS the module saw",
                        "%d (answered %d, dropped-rate %d)" % (
                            seen, counters(st, "OPTIONS")["answered"],
                            counters(st, "OPTIONS")["dropped-rate"]))
        setattr(self, name, dict(sent=sent, seen=seen, kdrops=kdrops,
                                 stats=st, prober=prober, recent=recent))
        if sent < a.sources:
            raise kh.Fail("only %d of %d sources sent within %.0f s"
                          % (sent, a.sources, FLOOD2_CAP))


def check_range(what, got, lo, hi):
    if not lo <= got <= hi:
        raise kh.Fail("%s = %s, expected %s..%s" % (what, got, lo, hi))


def run_all(args, runner):
    fl = Flood(args, runner)
    junk = Junk(FLOOD_SRC, 5060, 5060, random.Random(0))
    fl.kinds = junk.kinds
    try:
        if not runner.run("baresip_start", fl.start):
            return
        bs = fl.bs
        runner.guard = bs.dead
        fl.figure("baresip pid", bs.proc.pid)
        fl.figure("RSS at start", "%d KiB" % bs.rss_kib())

        runner.run("junk_kinds_each_survived", fl.calibrate)
        fl.figure("junk kinds that reach the module as probes", ", ".join(
            n for n, _ in fl.kinds if fl.calib.get(n, (0,))[0] > 0))

        fl.kinds = [k for k in fl.kinds if k[0] not in SCANNER_KINDS]
        time.sleep(0.3)
        rss0 = bs.rss_kib()
        fl.figure("RSS before the floods", "%d KiB" % rss0)

        if not runner.run("flood1_sent", fl.flood_one):
            if not hasattr(fl, "flood1"):
                return
        r = fl.report_one()
        f = fl.flood1

        def alive():
            if bs.dead():
                raise kh.Fail(bs.dead())
        runner.run("flood1_baresip_alive", alive)

        def second_source():
            p = f["prober"]
            if p.error:
                raise kh.Fail("prober: " + p.error)
            if p.sent < 2:
                raise kh.Fail("only %d probes sent" % p.sent)
            if p.answered != p.sent:
                raise kh.Fail("%d of %d OPTIONS answered; unanswered: %s"
                              % (p.answered, p.sent,
                                 ", ".join(p.unanswered[:5])))
            if p.first_try < p.sent and f["kdrops"] == 0:
                raise kh.Fail("%d of %d answered only after a "
                              "retransmission, with no kernel drops"
                              % (p.sent - p.first_try, p.sent))
            if set(p.statuses) != {200}:
                raise kh.Fail("statuses %s, expected only 200"
                              % p.statuses)
        runner.run("flood1_second_source_every_answer", second_source)

        def rate_answers():
            tol = 0.2 * r["expect"] + 5
            check_range("probe answers to the flooding source",
                        r["answered"], int(r["expect"] - tol),
                        int(r["expect"] + tol + 0.999))
        runner.run("flood1_answers_rate_x_duration_plus_burst",
                   rate_answers)

        def dropped():
            want = r["s_probe"] - r["answered"]
            slack = 5 + int(3 * r["invisible"] + 0.999)
            check_range("kar_stats dropped-rate", r["drop"],
                        want - f["kdrops"] - slack, want + slack)
        runner.run("flood1_stats_dropped_rate", dropped)

        def no_dups():
            if r["dups"]:
                raise kh.Fail("%d requests got more than one answer"
                              % r["dups"])
        runner.run("flood1_one_answer_per_request", no_dups)

        rss1 = bs.rss_kib()
        fl.figure("RSS after flood1", "%d KiB (%+d KiB)"
                  % (rss1, rss1 - rss0))
        runner.run("flood1_rss_within_2MiB", check_range,
                   "RSS after flood1 (KiB)", rss1, rss0 - RSS_SLACK_KIB,
                   rss0 + RSS_SLACK_KIB)

        runner.run("flood2_sent", fl.flood_many)

        def reached(name):
            f2 = getattr(fl, name, None)
            if f2 is None:
                raise kh.Fail("%s did not run" % name)
            # the point is the churn of the module's table of sources:
            # most of them must reach it (the kernel may drop some at
            # baresip's socket when the sender outpaces it)
            if f2["seen"] < 0.5 * f2["sent"]:
                raise kh.Fail("the module saw %d of %d OPTIONS (kernel "
                              "drops %d)" % (f2["seen"], f2["sent"],
                                             f2["kdrops"]))
            if f2["seen"] + f2["kdrops"] < f2["sent"] - 5:
                raise kh.Fail("%d OPTIONS sent, the module saw %d, the "
                              "kernel dropped %d: %d unaccounted for" % (
                                  f2["sent"], f2["seen"], f2["kdrops"],
                                  f2["sent"] - f2["seen"] - f2["kdrops"]))
        runner.run("flood2_reached_the_module", reached, "flood2")

        rss2 = bs.rss_kib()
        fl.figure("RSS after flood2", "%d KiB (%+d KiB from before the "
                  "floods)" % (rss2, rss2 - rss0))
        runner.run("flood2_rss_within_2MiB", check_range,
                   "RSS after flood2 (KiB)", rss2, rss0 - RSS_SLACK_KIB,
                   rss0 + RSS_SLACK_KIB)

        # flood 3: the same many sources, each naming a scanner, so each
        # gets blocked: the table of blocked sources must stay bounded
        # too, and a legitimate prober keep its answers
        runner.run("flood3_sent", fl.flood_many, True)
        runner.run("flood3_scanners_dropped", reached, "flood3")

        def blocked():
            f3 = getattr(fl, "flood3", None)
            if f3 is None:
                raise kh.Fail("flood3 did not run")
            b = f3["stats"].get("blocked")
            if not kh.is_int(b) or b < 1:
                raise kh.Fail("kar_stats json blocked = %r, expected >= 1"
                              % b)
            for src in f3["recent"]:
                resp = kh.options_from(bs.sip_port, src,
                                       timeout=kh.SILENCE_WAIT)
                if resp is not None:
                    raise kh.Fail("%s, blocked as a scanner, got %s to a "
                                  "plain OPTIONS" % (src, resp.short()))
        runner.run("flood3_last_sources_blocked", blocked)

        def prober3():
            f3 = getattr(fl, "flood3", None)
            p = f3 and f3["prober"]
            if not p:
                raise kh.Fail("flood3 did not run")
            if p.error:
                raise kh.Fail("prober: " + p.error)
            if p.sent < 2 or p.answered != p.sent:
                raise kh.Fail("%d of %d OPTIONS answered; unanswered: %s"
                              % (p.answered, p.sent,
                                 ", ".join(p.unanswered[:5])))
            if set(p.statuses) != {200}:
                raise kh.Fail("statuses %s, expected only 200"
                              % p.statuses)
        runner.run("flood3_prober_every_answer", prober3)

        rss3 = bs.rss_kib()
        fl.figure("RSS after flood3", "%d KiB (%+d KiB from before the "
                  "floods)" % (rss3, rss3 - rss0))
        runner.run("flood3_rss_within_2MiB", check_range,
                   "RSS after flood3 (KiB)", rss3, rss0 - RSS_SLACK_KIB,
                   rss0 + RSS_SLACK_KIB)

        def final():
            resp = final_probe(bs.sip_port)
            kh.module_200()(resp, {})
        runner.run("final_probe_answered", final)

        if fl.ctrl:
            fl.ctrl.close()
            fl.ctrl = None
        runner.guard = None
        runner.run("clean_shutdown", kh.t_shutdown, bs)
    finally:
        if fl.ctrl:
            fl.ctrl.close()
        if fl.bs:
            fl.bs.stop()
            if runner.failed:
                sys.stdout.flush()
                print("--- tail of %s ---\n%s\n---"
                      % (fl.bs.logpath, fl.bs.log_tail()), file=sys.stderr,
                      flush=True)
            fl.bs.cleanup()


def main():
    ap = argparse.ArgumentParser(
        description="Flood test of keepalive_responder's guard against "
                    "the real baresip.")
    ap.add_argument("--baresip", default="/usr/bin/baresip")
    ap.add_argument("--module", required=True, metavar="PATH",
                    help="the built keepalive_responder.so")
    ap.add_argument("--rate", type=int, default=50,
                    help="keepalive_responder_rate (default %(default)s: "
                         "the module's default, no config line)")
    ap.add_argument("--options", type=int, default=50000,
                    help="flood OPTIONS (default %(default)s)")
    ap.add_argument("--junk", type=int, default=20000,
                    help="flood junk datagrams (default %(default)s)")
    ap.add_argument("--sources", type=int, default=100000,
                    help="distinct sources of flood 2 (default "
                         "%(default)s)")
    ap.add_argument("--pps", type=int, default=15000,
                    help="datagrams per second; 0 = unpaced "
                         "(default %(default)s)")
    ap.add_argument("--seed", type=int, default=None,
                    help="random seed (default: printed)")
    ap.add_argument("--conf", action="append", default=[],
                    metavar="'KEY VALUE'", help="extra config line")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary folder")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    kh.BARESIP = args.baresip
    kh.verbose = args.verbose
    if args.seed is None:
        args.seed = random.randrange(1 << 30)
    if args.rate < 1:
        ap.error("--rate must be at least 1 (0 = unlimited has no bucket "
                 "to measure)")

    signal.signal(signal.SIGTERM, kh.on_sigterm)
    print("  seed: %d" % args.seed, flush=True)

    runner = kh.Runner()
    t0 = time.monotonic()
    kh.run_checked(args, runner, run_all)
    print("  run time: %.1f s" % (time.monotonic() - t0), flush=True)
    return kh.finish(runner)


if __name__ == "__main__":
    sys.exit(main())
