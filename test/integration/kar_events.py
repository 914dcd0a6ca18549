#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
"""
kar_events.py -- integration test of keepalive_responder's event packages
(message-summary, check-sync, talk, hold) and its trust gate against the
real baresip (Debian 12's baresip-core 1.0.0).

It reuses kar_harness.py (imported as a module from this folder:
Baresip in a temporary folder, SipClient, Ctrl for ctrl_tcp, Response,
Runner) and adds what the event packages need: account lines of its own,
a registrar the test runs (a UDP socket on 127.0.0.1 answering REGISTER
200 OK), a caller that places a real INVITE with SDP (PCMU) from a UDP
socket and answers baresip's re-INVITEs, and NOTIFYs sent from an
untrusted source address (127.0.0.2).  Python 3 standard library only;
all traffic stays on loopback (baresip runs with net_interface 127.0.0.1,
so its media stays there too) and every wait and loop is bounded.

How CTest runs it (test/integration/CMakeLists.txt):

    kar_events.py --baresip /usr/bin/baresip \\
        --module build/keepalive_responder.so

Six short baresip runs, each with its own config:

  default   events at their defaults (no remote control), alice registers
            to the test's registrar: unsolicited MWI (200 and the
            MWI_NOTIFY event on ctrl_tcp with the counts in its param;
            malformed body 400 and no event), check-sync in 'event' mode
            (200, no new REGISTER, [check-sync] log line and, from
            baresip 1.1 on, a MODULE event on ctrl_tcp; reboot=true
            reported only), talk/hold refused 489, /kar_stats json counts.
  reregister  keepalive_responder_check_sync reregister: check-sync makes
            alice REGISTER again (and she ends up registered).
  remote    keepalive_responder_remote_control yes, _trusted 127.0.0.1,
            alice in manual answer mode, audio ausine (48 kHz stereo) and
            aubridge (a headless player): talk/hold with no call 481; an
            incoming INVITE rings (180); talk from 127.0.0.2 is left to
            the stack (481, INVITE not answered, counted untrusted); talk
            from 127.0.0.1 answers it (200 OK with SDP); hold sends a
            re-INVITE with a=sendonly/inactive, talk resumes it with
            sendrecv; /kar_stats json counts.
  retransmit  the same setup: a UDP retransmission (same bytes) of the
            talk NOTIFY, before and after the caller's ACK, and of the
            hold NOTIFY gets the first answer again (same status, same
            To tag), as the behaviour contract requires of every
            retransmission.
  refuse    remote control without _trusted: the module refuses to load
            (warning naming keepalive_responder_remote_control, stock 404
            to OPTIONS sip:host, no kar_stats command).
  refuse_events  'talk' in keepalive_responder_events without remote
            control: refused likewise.

Every run ends with a clean-shutdown check (status 0 after SIGTERM, no
core file); log lines are checked after baresip has exited, because
baresip 1.0 writes its log through a buffered stdout.

Output: one line per check ("ok   name" or "FAIL name: why"), then, last
and alone on its line, "N passed, M failed".  Exit status 0 only when
nothing failed.  --keep leaves the temporary folders in place; -v prints
the SIP and ctrl_tcp traffic.
"""

import json
import os
import re
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True      # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kar_harness as kh                                 # noqa: E402
from kar_harness import Fail, HOST                         # noqa: E402

UNTRUSTED = "127.0.0.2"     # a loopback address outside the trusted list

REG_WAIT = 5.0          # the initial REGISTER arrives within this
REREG_WAIT = 3.0        # a REGISTER caused by check-sync, within this
QUIET_WAIT = 3.0        # window in which no REGISTER may arrive
RING_WAIT = 3.0         # 180 Ringing after the INVITE
NO_ANSWER_WAIT = 1.5    # window in which the INVITE must stay unanswered
ANSWER_WAIT = 3.0       # 200 OK to the INVITE after talk
REINVITE_WAIT = 3.0     # baresip's re-INVITE after hold/talk
EVENT_WAIT = 2.0        # an event on ctrl_tcp
NO_EVENT_WAIT = 1.0     # window in which no event may arrive

MWI_BODY = ("Messages-Waiting: yes\r\n"
            "Message-Account: sip:alice@127.0.0.1\r\n"
            "Voice-Message: 2/8 (0/2)\r\n"
            "Fax-Message: 1/3\r\n")
MWI_COUNTS = ("Voice-Message: 2/8 (0/2)", "Fax-Message: 1/3")
# counts that are not numbers: RFC 3842 malformed
MWI_BAD_BODY = ("Messages-Waiting: yes\r\n"
                "Voice-Message: two/8\r\n")
MWI_CT = ("Content-Type", "application/simple-message-summary")
SUBSTATE = ("Subscription-State", "active")

ACTIONS = ("mwi", "mwi-malformed", "check-sync", "reregister", "talk",
           "hold", "no-call")

# headless audio that lets baresip 1.0 answer a call: ausine as source
# (48 kHz stereo only), aubridge as player (a virtual device that needs
# no sound card)
AUDIO_CONF = [
    "module\t\t\tausine.so",
    "module\t\t\taubridge.so",
    "audio_source\t\tausine,440",
    "ausrc_srate\t\t48000",
    "ausrc_channels\t\t2",
    "audio_player\t\taubridge,kar_events",
    "audio_alert\t\taubridge,kar_events",
]


def vlog(msg):
    kh.log(msg)


# ---------------------------------------------------------------------
# SIP messages in both directions

class SipMsg(kh.Response):
    """A parsed SIP request or response (kar_harness's Response parses the
    headers; a request line is handed to it as a dummy status line)."""

    def __init__(self, raw):
        first, _, rest = raw.partition(b"\r\n")
        m = re.match(rb"([A-Za-z]+) (\S+) SIP/2\.0$", first)
        if m:
            super().__init__(b"SIP/2.0 000 request\r\n" + rest)
            self.raw = raw
            self.status = None
            self.method = m.group(1).decode()
            self.ruri = m.group(2).decode()
        else:
            super().__init__(raw)
            self.method = None
            self.ruri = None

    def cseq_num(self):
        return int((self.cseq().split() or ["0"])[0])

    def cseq_method(self):
        p = self.cseq().split()
        return p[1] if len(p) > 1 else ""

    def first_line(self):
        return self.raw.split(b"\r\n", 1)[0].decode("utf-8", "replace")


def uri_of(value):
    """The URI in a name-addr (<...>) or addr-spec header value."""
    m = re.search(r"<([^>]*)>", value or "")
    if m:
        return m.group(1)
    return (value or "").split(";")[0].strip()


def contact_expires(msg):
    """Expires of a REGISTER: the Contact's parameter, else Expires."""
    for c in msg.hdrs("contact"):
        m = re.search(r";\s*expires\s*=\s*(\d+)", c, re.I)
        if m:
            return int(m.group(1))
    e = msg.hdr("expires")
    return int(e) if e and e.strip().isdigit() else None


def sdp_direction(body):
    """The direction attribute of the first audio stream (default
    sendrecv), and the connection address."""
    text = body.decode("utf-8", "replace")
    audio = text.split("m=audio", 1)
    if len(audio) < 2:
        raise Fail("SDP has no audio stream: %r" % text[:200])
    m = re.search(r"^a=(sendrecv|sendonly|recvonly|inactive)\s*$",
                  audio[1], re.M)
    return m.group(1) if m else "sendrecv"


def make_sdp(rtp_port, version, direction):
    return ("v=0\r\n"
            "o=- 4711 %d IN IP4 %s\r\n"
            "s=-\r\n"
            "c=IN IP4 %s\r\n"
            "t=0 0\r\n"
            "m=audio %d RTP/AVP 0\r\n"
            "a=rtpmap:0 PCMU/8000\r\n"
            "a=ptime:20\r\n"
            "a=%s\r\n" % (version, HOST, HOST, rtp_port, direction))


class SrcRequest(kh.Request):
    """kar_harness's Request, sent from another local address: the Via
    sent-by names that address."""

    def __init__(self, src, method, ruri, transport, lport, **kw):
        super().__init__(method, ruri, transport, lport, **kw)
        old = ("%s:%d;" % (HOST, lport)).encode()
        new = ("%s:%d;" % (src, lport)).encode()
        self.data = self.data.replace(old, new, 1)


def request_from(src, sip_port, method, user, timeout=kh.ANSWER_TIMEOUT,
                 **kw):
    """One request over UDP from a socket bound to src; its final
    answer or None."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        try:
            s.bind((src, 0))
        except OSError as e:
            raise Fail("cannot bind a UDP socket to %s (%s)" % (src, e))
        ruri = "sip:%s@%s:%d" % (user, HOST, sip_port)
        req = SrcRequest(src, method, ruri, "udp", s.getsockname()[1],
                         **kw)
        vlog("  >> udp from %s\n%s" % (src, kh.indent(
            req.data.decode("utf-8", "replace"))))
        s.sendto(req.data, (HOST, sip_port))
        got = kh.SipClient(sip_port)._collect(
            lambda t: kh.udp_recv(s, t), req, timeout, 0.0)
        return got[0] if got else None
    finally:
        s.close()


def notify(sip_port, event, user="alice", src=HOST, substate=True,
           extra=(), body=""):
    """Out-of-dialog NOTIFY Event: <event> from src; the final answer."""
    hdrs = [("Event", event)]
    if substate:
        hdrs.append(SUBSTATE)
    hdrs += list(extra)
    if src == HOST:
        return kh.SipClient(sip_port).request(
            "udp", "NOTIFY", user, extra=hdrs, body=body)
    return request_from(src, sip_port, "NOTIFY", user, extra=hdrs,
                        body=body)


class Notifier:
    """One NOTIFY from a socket kept open, so that the very same bytes
    can be sent again (a UDP retransmission: same branch, Call-ID,
    CSeq), as a server does when the 200 got lost."""

    def __init__(self, sip_port, event, user="alice"):
        self.sip_port = sip_port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((HOST, 0))
        self.req = kh.Request(
            "NOTIFY", "sip:%s@%s:%d" % (user, HOST, sip_port), "udp",
            self.sock.getsockname()[1], extra=[("Event", event), SUBSTATE])

    def send(self):
        """Send (again); the final answer or None."""
        vlog("  >> udp NOTIFY\n%s" % kh.indent(
            self.req.data.decode("utf-8", "replace")))
        self.sock.sendto(self.req.data, (HOST, self.sip_port))
        got = kh.SipClient(self.sip_port)._collect(
            lambda t: kh.udp_recv(self.sock, t), self.req,
            kh.ANSWER_TIMEOUT, 0.0)
        return got[0] if got else None

    def close(self):
        self.sock.close()


def same_answer(first, again, what):
    """A retransmission's answer: the first one's status and To tag."""
    if first is None:
        raise Fail("no first answer to compare (previous check failed)")
    if again is None:
        raise Fail("%s: no answer to the retransmission, the first got %s"
                   % (what, first.short()))
    if again.status != first.status or again.to_tag != first.to_tag:
        raise Fail("%s: the retransmission got %s (To tag %s), the first "
                   "%s (To tag %s)" % (what, again.short(), again.to_tag,
                                       first.short(), first.to_tag))


def expect_status(resp, status, what):
    if resp is None:
        raise Fail("%s: no answer within %.1f s, expected %d"
                   % (what, kh.ANSWER_TIMEOUT, status))
    if resp.status != status:
        raise Fail("%s: got %s, expected %d" % (what, resp.short(), status))


# ---------------------------------------------------------------------
# A UDP endpoint that receives requests and responses

class Endpoint:
    """A UDP socket on loopback; messages that a wait did not ask for
    are kept (bounded) for later waits."""

    BACKLOG = 200

    def __init__(self, src=HOST):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((src, 0))
        self.addr = src
        self.port = self.sock.getsockname()[1]
        self.backlog = []

    def close(self):
        self.sock.close()

    def send(self, data, addr):
        vlog("  >> udp %s:%d -> %s:%d\n%s" % (
            self.addr, self.port, addr[0], addr[1],
            kh.indent(data.decode("utf-8", "replace"))))
        self.sock.sendto(data, addr)

    def _recv(self, timeout):
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data, src = self.sock.recvfrom(65535)
        except socket.timeout:
            return None
        try:
            msg = SipMsg(data)
        except ValueError as e:
            raise Fail("unparsable SIP message (%s): %r" % (e, data[:200]))
        msg.src = src
        vlog("  << udp %s:%d from %s:%d\n%s" % (
            self.addr, self.port, src[0], src[1],
            kh.indent(data.decode("utf-8", "replace"))))
        return msg

    def wait(self, pred, timeout):
        """The first message (kept or new) for which pred holds, or None
        after timeout."""
        for i, m in enumerate(self.backlog):
            if pred(m):
                del self.backlog[i]
                return m
        for m in kh.received(self._recv, timeout):
            if pred(m):
                return m
            self.on_other(m)
        return None

    def on_other(self, m):
        self.backlog.append(m)
        del self.backlog[:-self.BACKLOG]

    def reply(self, req, status, reason, extra=(), body=b"",
              to_tag=None):
        """A response to req, sent back where it came from."""
        lines = ["SIP/2.0 %d %s" % (status, reason)]
        lines += ["Via: %s" % v for v in req.hdrs("via")]
        lines.append("From: %s" % req.hdr("from"))
        to = req.hdr("to")
        if to_tag and ";tag=" not in to.lower().replace(" ", ""):
            to += ";tag=" + to_tag
        lines.append("To: %s" % to)
        lines.append("Call-ID: %s" % req.hdr("call-id"))
        lines.append("CSeq: %s" % req.cseq())
        lines += ["%s: %s" % kv for kv in extra]
        lines.append("Content-Length: %d" % len(body))
        data = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        self.send(data, req.src)


class Registrar(Endpoint):
    """Answers every REGISTER 200 OK (Contact echoed, Expires) and
    remembers each REGISTER once (retransmissions have the same
    branch)."""

    def __init__(self):
        super().__init__(HOST)
        self.seen = {}          # top Via -> REGISTER
        self.order = []         # REGISTERs in arrival order

    def _handle(self, m):
        if m.method != "REGISTER":
            return False
        exp = contact_expires(m)
        extra = []
        if exp:
            extra = [("Contact", c) for c in m.hdrs("contact")]
            extra.append(("Expires", str(exp)))
        self.reply(m, 200, "OK", extra, to_tag="reg" + kh.rand_hex(8))
        via = m.hdr("via") or ""      # top Via: its branch
        if via not in self.seen:
            self.seen[via] = m
            m.expires = exp
            m.when = time.monotonic()
            self.order.append(m)
            return True
        return False

    def serve_until(self, event, limit):
        """Answer REGISTERs until event is set (at most limit s)."""
        deadline = time.monotonic() + limit
        while not event.is_set() and time.monotonic() < deadline:
            self.serve(0.1)

    def wait_registered(self):
        """Answer REGISTERs until one registers (expires > 0); Fail if
        none does within REG_WAIT."""
        got = self.serve(REG_WAIT, lambda new: any(m.expires for m in new))
        if not any(m.expires for m in got):
            raise Fail("no REGISTER at the test's registrar 127.0.0.1:%d "
                       "within %.0f s" % (self.port, REG_WAIT))

    def serve(self, window, stop=None):
        """Answer REGISTERs for up to window seconds; return the new
        ones.  stop(new) may end the wait early."""
        new = []
        for m in kh.received(self._recv, window):
            if self._handle(m):
                new.append(m)
                if stop and stop(new):
                    break
        return new


class Caller(Endpoint):
    """The remote party of a call: places an INVITE (PCMU offer), ACKs
    the 200, answers re-INVITEs, hangs up."""

    def __init__(self, sip_port):
        super().__init__(HOST)
        self.sip_port = sip_port
        # media sink, so that baresip's RTP lands on an open port
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind((HOST, 0))
        self.rtp_port = self.rtp.getsockname()[1]
        self.call_id = kh.rand_hex(20) + "@" + HOST
        self.ftag = kh.rand_hex(10)
        self.cseq = 1
        self.to_hdr = None
        self.target = None
        self.sdp_version = 1
        self.ok = None

    def close(self):
        super().close()
        self.rtp.close()

    def on_other(self, m):
        # baresip's retransmitted 200 to our INVITE: ACK it again
        if (self.ok and m.status == 200 and m.cseq_method() == "INVITE"
                and m.cseq_num() == 1):
            self.ack()
            return
        # a stray BYE (e.g. baresip hung up): answer it
        if m.method == "BYE":
            self.reply(m, 200, "OK")
        super().on_other(m)

    def _request(self, method, cseq, extra=(), body=""):
        ruri = self.target or "sip:alice@%s:%d" % (HOST, self.sip_port)
        lines = [
            "%s %s SIP/2.0" % (method, ruri),
            "Via: SIP/2.0/UDP %s:%d;rport;branch=z9hG4bK%s"
            % (HOST, self.port, kh.rand_hex()),
            "Max-Forwards: 70",
            "From: <sip:bob@%s>;tag=%s" % (HOST, self.ftag),
            "To: %s" % (self.to_hdr or "<sip:alice@%s>" % HOST),
            "Call-ID: %s" % self.call_id,
            "CSeq: %d %s" % (cseq, method),
            "Contact: <sip:bob@%s:%d>" % (HOST, self.port),
            "User-Agent: kar_events",
        ]
        lines += ["%s: %s" % kv for kv in extra]
        b = body.encode()
        lines.append("Content-Length: %d" % len(b))
        data = ("\r\n".join(lines) + "\r\n\r\n").encode() + b
        self.send(data, (HOST, self.sip_port))

    def invite(self):
        self._request("INVITE", 1, [("Content-Type", "application/sdp")],
                      make_sdp(self.rtp_port, self.sdp_version, "sendrecv"))

    def wait_invite_response(self, pred, timeout):
        return self.wait(lambda m: m.status is not None
                         and m.cseq_method() == "INVITE"
                         and m.cseq_num() == 1
                         and m.hdr("call-id") == self.call_id
                         and pred(m), timeout)

    def established(self, ok):
        """Take the dialog from the 200 OK and ACK it."""
        self.ok = ok
        self.to_hdr = ok.hdr("to")
        contact = ok.hdr("contact")
        if contact:
            self.target = uri_of(contact)
        self.ack()

    def ack(self):
        self._request("ACK", 1)

    def wait_reinvite(self, timeout):
        return self.wait(lambda m: m.method == "INVITE"
                         and m.hdr("call-id") == self.call_id, timeout)

    def answer_reinvite(self, req):
        """200 OK with an SDP answer mirroring the offer's direction."""
        d = sdp_direction(req.body)
        answer = {"sendonly": "recvonly", "recvonly": "sendonly"}.get(d, d)
        self.sdp_version += 1
        self.reply(req, 200, "OK",
                   [("Contact", "<sip:bob@%s:%d>" % (HOST, self.port)),
                    ("Content-Type", "application/sdp")],
                   make_sdp(self.rtp_port, self.sdp_version,
                            answer).encode())
        return d

    def wait_ack(self, req, timeout):
        return self.wait(lambda m: m.method == "ACK"
                         and m.hdr("call-id") == self.call_id
                         and m.cseq_num() == req.cseq_num(), timeout)

    def bye(self, timeout=kh.ANSWER_TIMEOUT):
        self.cseq += 1
        cseq = self.cseq
        self._request("BYE", cseq)
        return self.wait(lambda m: m.status is not None
                         and m.status >= 200
                         and m.cseq_method() == "BYE"
                         and m.cseq_num() == cseq, timeout)


# ---------------------------------------------------------------------
# baresip with accounts of the test's choosing

class EvBaresip(kh.Baresip):
    """kar_harness's Baresip, with its own accounts file and
    net_interface 127.0.0.1 (local address, SDP and RTP on loopback)."""

    def __init__(self, binary, module, conf_lines, keep, account):
        super().__init__(binary, module,
                         ["net_interface\t\t%s" % HOST] + list(conf_lines),
                         keep)
        self.account = account

    def _write_files(self):
        super()._write_files()
        with open(os.path.join(self.dir, "accounts"), "w") as f:
            f.write(self.account + "\n")
        kh.log("accounts: %s" % self.account)


def log_lines(bs, *words):
    """Log lines containing every word."""
    return [ln for ln in bs.log_text().splitlines()
            if all(w in ln for w in words)]


def stats(ctrl):
    data = kh.ctrl_ok(ctrl, "kar_stats", "json")
    try:
        st = json.loads(data)
    except ValueError as e:
        raise Fail("kar_stats json is not JSON (%s): %r" % (e, data))
    if not isinstance(st, dict):
        raise Fail("kar_stats json is not an object: %r" % data)
    return st


def check_counts(st, want):
    bad = []
    for path, v in want.items():
        got = kh.stats_value(st, path)
        if got != v:
            bad.append("%s = %r (expected %r)" % (path, got, v))
    if bad:
        raise Fail("; ".join(bad) + " in " + json.dumps(st))


def actions_want(**nonzero):
    """All action counters: the named ones, the rest 0."""
    want = {"actions." + a: 0 for a in ACTIONS}
    for k, v in nonzero.items():
        want["actions." + k.replace("_", "-")] = v
    return want


class Run(kh.Scenario):
    """One baresip run: start, checks, clean shutdown, cleanup."""

    TAIL = 60

    def __init__(self, runner, args, label, conf, account):
        super().__init__(runner, label,
                         EvBaresip(args.baresip, args.module, conf,
                                   args.keep, account))

    def started(self):
        kh.log("%s: baresip in %s, SIP %s:%d, ctrl_tcp %s:%d" % (
            self.label, self.bs.dir, HOST, self.bs.sip_port, HOST,
            self.bs.ctrl_port))

    def finish(self, registrar=None):
        """Clean shutdown check; the log is complete afterwards.  A UA
        that registered unregisters on SIGTERM and waits for the answer
        (longer than kar_harness's grace period): the registrar keeps
        answering meanwhile."""
        self.runner.guard = None
        if self.bs.proc is not None:
            stop = threading.Event()
            th = None
            if registrar is not None:
                th = threading.Thread(target=registrar.serve_until,
                                      args=(stop, kh.STOP_TIMEOUT * 2))
                th.start()
            try:
                self.check("clean_shutdown", kh.t_shutdown, self.bs)
            finally:
                stop.set()
                if th is not None:
                    th.join(kh.STOP_TIMEOUT * 2 + 1)
        if self.ctrl:
            self.ctrl.close()
            self.ctrl = None


# ---------------------------------------------------------------------
# default: MWI, check-sync 'event', talk/hold without remote control

def run_default(args, runner):
    reg = Registrar()
    run = Run(runner, args, "default", [],
              "<sip:alice@%s:%d>;regint=600" % (HOST, reg.port))
    st = {}
    try:
        if not run.start():
            return
        bs, ctrl, port = run.bs, run.ctrl, run.bs.sip_port

        def register_initial():
            reg.wait_registered()
        run.check("register_initial", register_initial)
        kh.ctrl_ok(ctrl, "kar_stats", "reset")

        def mwi():
            ctrl.drain()
            resp = notify(port, "message-summary", extra=[MWI_CT],
                          body=MWI_BODY)
            expect_status(resp, 200, "NOTIFY message-summary")
            ev = ctrl.wait_event(lambda e: e.get("type") == "MWI_NOTIFY",
                                 EVENT_WAIT)
            if ev is None:
                raise Fail("no MWI_NOTIFY event on ctrl_tcp within %.0f s"
                           % EVENT_WAIT)
            prm = ev.get("param") or ""
            missing = [c for c in ("Messages-Waiting: yes",) + MWI_COUNTS
                       if c not in prm]
            if missing:
                raise Fail("MWI_NOTIFY param lacks %s: %r"
                           % (", ".join(missing), ev))
            if "alice" not in (ev.get("accountaor") or ""):
                raise Fail("MWI_NOTIFY for %r, expected alice"
                           % ev.get("accountaor"))
        run.check("mwi_event_with_counts", mwi)

        def mwi_malformed():
            ctrl.drain()
            resp = notify(port, "message-summary", extra=[MWI_CT],
                          body=MWI_BAD_BODY)
            expect_status(resp, 400, "NOTIFY with a malformed summary")
            ev = ctrl.wait_event(lambda e: e.get("type") == "MWI_NOTIFY",
                                 NO_EVENT_WAIT)
            if ev is not None:
                raise Fail("400, but an MWI_NOTIFY event came: %r" % ev)
        run.check("mwi_malformed_400_no_event", mwi_malformed)

        def checksync_event():
            ctrl.drain()
            resp = notify(port, "check-sync", substate=False)
            expect_status(resp, 200, "NOTIFY check-sync")
            got = reg.serve(QUIET_WAIT)
            if got:
                raise Fail("check_sync 'event', yet %d REGISTER(s) came "
                           "within %.0f s" % (len(got), QUIET_WAIT))
            # module events exist from 1.1 on; 1.0 has the log line only
            if kh.baresip_version() < (1, 1):
                return
            ev = ctrl.wait_event(lambda e: e.get("type") == "MODULE" and (
                e.get("param") or "").startswith(
                    "keepalive_responder,check-sync,"), EVENT_WAIT)
            if ev is None:
                raise Fail("no MODULE event keepalive_responder,check-sync "
                           "on ctrl_tcp within %.0f s" % EVENT_WAIT)
        run.check("checksync_event_no_register", checksync_event)

        def checksync_reboot():
            resp = notify(port, "check-sync;reboot=true", substate=False)
            expect_status(resp, 200, "NOTIFY check-sync;reboot=true")
        run.check("checksync_reboot_200", checksync_reboot)

        def not_accepted(pkg):
            def check():
                resp = notify(port, pkg)
                expect_status(resp, 489, "NOTIFY %s (remote control off)"
                              % pkg)
                toks = resp.tokens("allow-events")
                if pkg in toks:
                    raise Fail("489, but Allow-Events lists %s: %r"
                               % (pkg, resp.hdrs("allow-events")))
            return check
        run.check("talk_remote_off_489", not_accepted("talk"))
        run.check("hold_remote_off_489", not_accepted("hold"))

        def counts():
            st["json"] = s = stats(ctrl)
            want = {"events.message-summary": 2, "events.check-sync": 2,
                    "events.other": 2, "events.keep-alive": 0,
                    "methods.NOTIFY.answered": 3,
                    "methods.NOTIFY.rejected": 3,
                    "methods.NOTIFY.untrusted": 0}
            want.update(actions_want(mwi=1, mwi_malformed=1,
                                     check_sync=2))
            check_counts(s, want)
        run.check("stats_counts", counts)

        run.finish(reg)

        def log_checksync():
            lines = log_lines(bs, "[check-sync]")
            if not lines:
                raise Fail("no [check-sync] line in baresip.log")
            if any("re-registering" in ln for ln in lines):
                raise Fail("check_sync 'event' logged re-registering: %r"
                           % lines)
        run.check("log_checksync_line", log_checksync)

        def log_reboot():
            lines = log_lines(bs, "[check-sync]", "reboot=true")
            if not lines:
                raise Fail("no [check-sync] line naming reboot=true: %r"
                           % log_lines(bs, "[check-sync]"))
            if not any(re.search(r"reported only|not acted on", ln)
                       for ln in lines):
                raise Fail("the reboot=true line does not say it is "
                           "reported only: %r" % lines)
        run.check("log_checksync_reboot_reported_only", log_reboot)
    finally:
        run.cleanup()
        reg.close()


# ---------------------------------------------------------------------
# reregister: check-sync makes every registering UA REGISTER again

def run_reregister(args, runner):
    reg = Registrar()
    run = Run(runner, args, "reregister",
              ["keepalive_responder_check_sync\treregister"],
              "<sip:alice@%s:%d>;regint=600" % (HOST, reg.port))
    try:
        if not run.start():
            return
        ctrl, port = run.ctrl, run.bs.sip_port

        def register_initial():
            reg.wait_registered()
            # late retransmissions of it must not count as new below
            reg.serve(0.6)
        run.check("register_initial", register_initial)
        kh.ctrl_ok(ctrl, "kar_stats", "reset")

        def checksync_reregister():
            resp = notify(port, "check-sync", substate=False)
            expect_status(resp, 200, "NOTIFY check-sync")
            got = reg.serve(REREG_WAIT, lambda new: any(
                m.expires for m in new))
            if not any(m.expires for m in got):
                raise Fail("no new REGISTER within %.0f s of check-sync "
                           "(seen: %r)" % (REREG_WAIT, [
                               (m.first_line(), m.expires) for m in got]))
            # baresip 1.0's ua_register() first removes the old binding
            # (expires 0, old Call-ID), then registers anew: the last
            # REGISTER must leave alice registered
            tail = reg.serve(0.5)
            last = (got + tail)[-1]
            if not last.expires:
                raise Fail("the last REGISTER after check-sync has "
                           "expires %r: alice ends up unregistered"
                           % last.expires)
        run.check("checksync_reregister", checksync_reregister)

        def counts():
            want = {"events.check-sync": 1, "methods.NOTIFY.answered": 1}
            want.update(actions_want(check_sync=1, reregister=1))
            check_counts(stats(ctrl), want)
        run.check("stats_counts", counts)

        run.finish(reg)

        def log_rereg():
            if not log_lines(run.bs, "[check-sync]", "re-registering"):
                raise Fail("no '[check-sync] ... re-registering' line: %r"
                           % log_lines(run.bs, "[check-sync]"))
        run.check("log_checksync_reregistering", log_rereg)
    finally:
        run.cleanup()
        reg.close()


# ---------------------------------------------------------------------
# remote: talk and hold on a real call, trusted and untrusted

def run_remote(args, runner):
    run = Run(runner, args, "remote",
              ["keepalive_responder_remote_control\tyes",
               "keepalive_responder_trusted\t%s" % HOST] + AUDIO_CONF,
              "<sip:alice@%s>;regint=0;answermode=manual" % HOST)
    caller = None
    try:
        if not run.start():
            return
        ctrl, port = run.ctrl, run.bs.sip_port
        kh.ctrl_ok(ctrl, "kar_stats", "reset")
        state = {}

        def no_call(pkg):
            def check():
                expect_status(notify(port, pkg), 481,
                              "NOTIFY %s with no call" % pkg)
            return check
        run.check("talk_no_call_481", no_call("talk"))
        run.check("hold_no_call_481", no_call("hold"))

        caller = Caller(port)

        def rings():
            caller.invite()
            r = caller.wait_invite_response(lambda m: m.status == 180,
                                            RING_WAIT)
            if r is None:
                raise Fail("no 180 Ringing to the INVITE within %.0f s"
                           % RING_WAIT)
            r = caller.wait_invite_response(lambda m: m.status >= 200,
                                            NO_ANSWER_WAIT)
            if r is not None:
                raise Fail("answered %s without talk (answermode=manual)"
                           % r.short())
            state["ringing"] = True
        run.check("invite_rings", rings)

        def talk_untrusted():
            if not state.get("ringing"):
                raise Fail("no ringing call (previous check failed)")
            resp = notify(port, "talk", src=UNTRUSTED)
            expect_status(resp, 481, "NOTIFY talk from %s" % UNTRUSTED)
            r = caller.wait_invite_response(lambda m: m.status >= 200,
                                            NO_ANSWER_WAIT)
            if r is not None:
                raise Fail("talk from untrusted %s answered the call: %s"
                           % (UNTRUSTED, r.short()))
            check_counts(stats(ctrl), {"methods.NOTIFY.untrusted": 1,
                                       "actions.talk": 0})
        run.check("talk_untrusted_not_acted", talk_untrusted)

        def talk_answers():
            if not state.get("ringing"):
                raise Fail("no ringing call (previous check failed)")
            ctrl.drain()
            resp = notify(port, "talk")
            r = caller.wait_invite_response(lambda m: m.status >= 200,
                                            ANSWER_WAIT)
            expect_status(resp, 200, "NOTIFY talk from %s" % HOST)
            if r is None:
                raise Fail("NOTIFY talk got 200, but the INVITE got no "
                           "final answer within %.0f s" % ANSWER_WAIT)
            if r.status != 200:
                raise Fail("the INVITE got %s, expected 200" % r.short())
            if not r.body.startswith(b"v=0"):
                raise Fail("200 OK without an SDP answer: %r" % r.body[:80])
            caller.established(r)
            ev = ctrl.wait_event(
                lambda e: e.get("type") == "CALL_ESTABLISHED", EVENT_WAIT)
            if ev is None:
                raise Fail("200 OK sent and ACKed, but no CALL_ESTABLISHED"
                           " event on ctrl_tcp within %.0f s" % EVENT_WAIT)
            state["call"] = True
        run.check("talk_answers_call", talk_answers)

        def need_call():
            if not state.get("call"):
                raise Fail("no established call (previous check failed)")

        def talk_nothing_to_do():
            need_call()
            expect_status(notify(port, "talk"), 481,
                          "NOTIFY talk on an established, unheld call")
        run.check("talk_established_481", talk_nothing_to_do)

        def hold_untrusted():
            need_call()
            resp = notify(port, "hold", src=UNTRUSTED)
            expect_status(resp, 481, "NOTIFY hold from %s" % UNTRUSTED)
            r = caller.wait_reinvite(NO_ANSWER_WAIT)
            if r is not None:
                caller.answer_reinvite(r)
                raise Fail("hold from untrusted %s sent a re-INVITE (%s)"
                           % (UNTRUSTED, sdp_direction(r.body)))
        run.check("hold_untrusted_not_acted", hold_untrusted)

        def reinvite_after(pkg, dirs, what):
            need_call()
            resp = notify(port, pkg)
            r = caller.wait_reinvite(REINVITE_WAIT)
            if r is not None:
                d = caller.answer_reinvite(r)
            expect_status(resp, 200, "NOTIFY %s" % pkg)
            if r is None:
                raise Fail("no re-INVITE within %.0f s after %s"
                           % (REINVITE_WAIT, pkg))
            if d not in dirs:
                raise Fail("re-INVITE offers a=%s, expected %s (%s)"
                           % (d, " or ".join(dirs), what))
            if caller.wait_ack(r, kh.ANSWER_TIMEOUT) is None:
                raise Fail("no ACK to our 200 OK to the re-INVITE")
        run.check("hold_sends_reinvite", reinvite_after,
                  "hold", ("sendonly", "inactive"), "hold")

        def hold_again():
            need_call()
            expect_status(notify(port, "hold"), 481,
                          "NOTIFY hold on a held call")
        run.check("hold_on_held_call_481", hold_again)

        run.check("talk_resumes", reinvite_after,
                  "talk", ("sendrecv",), "resume")

        def hangup():
            need_call()
            ctrl.drain()
            r = caller.bye()
            if r is None or r.status != 200:
                raise Fail("BYE got %s" % (r.short() if r else "no answer"))
            state["call"] = False
            ev = ctrl.wait_event(
                lambda e: e.get("type") == "CALL_CLOSED", EVENT_WAIT)
            if ev is None:
                raise Fail("BYE answered, but no CALL_CLOSED event on "
                           "ctrl_tcp within %.0f s" % EVENT_WAIT)
        run.check("call_bye", hangup)

        def no_call_after():
            expect_status(notify(port, "talk"), 481,
                          "NOTIFY talk after the call ended")
            expect_status(notify(port, "hold"), 481,
                          "NOTIFY hold after the call ended")
        run.check("talk_hold_after_bye_481", no_call_after)

        def counts():
            # talk: no-call, untrusted, answer, established(481), resume,
            # after bye = 6; hold: no-call, untrusted, hold, held(481),
            # after bye = 5.  Untrusted ones are counted as packages too.
            want = {"events.talk": 6, "events.hold": 5,
                    "methods.NOTIFY.untrusted": 2,
                    "methods.NOTIFY.answered": 3,
                    "methods.NOTIFY.rejected": 6}
            want.update(actions_want(talk=2, hold=1, no_call=6))
            check_counts(stats(ctrl), want)
        run.check("stats_counts", counts)

        run.finish()
    finally:
        if caller is not None:
            caller.close()
        run.cleanup()


# ---------------------------------------------------------------------
# retransmit: a retransmitted talk/hold NOTIFY gets the first answer

def run_retransmit(args, runner):
    """The behaviour contract: a retransmitted request gets an identical
    answer (same status, same To tag).  The module answers NOTIFY
    statelessly, so a UDP retransmission of talk/hold reaches it again;
    servers retransmit when the 200 got lost, and the call has moved on
    meanwhile (answered and not yet ACKed, established, held)."""
    run = Run(runner, args, "retransmit",
              ["keepalive_responder_remote_control\tyes",
               "keepalive_responder_trusted\t%s" % HOST] + AUDIO_CONF,
              "<sip:alice@%s>;regint=0;answermode=manual" % HOST)
    caller = talk = hold = None
    try:
        if not run.start():
            return
        ctrl, port = run.ctrl, run.bs.sip_port
        caller = Caller(port)
        state = {}

        def answered():
            caller.invite()
            if caller.wait_invite_response(lambda m: m.status == 180,
                                           RING_WAIT) is None:
                raise Fail("no 180 Ringing within %.0f s" % RING_WAIT)
            state["talk"] = resp = talk.send()
            expect_status(resp, 200, "NOTIFY talk")
            r = caller.wait_invite_response(lambda m: m.status >= 200,
                                            ANSWER_WAIT)
            if r is None or r.status != 200:
                raise Fail("the INVITE got %s, expected 200"
                           % (r.short() if r else "no final answer"))
            state["ok"] = r
        talk = Notifier(port, "talk")
        run.check("talk_answers_call", answered)

        def talk_again_before_ack():
            if "ok" not in state:
                raise Fail("no answered call (previous check failed)")
            same_answer(state.get("talk"), talk.send(),
                        "talk retransmitted before the ACK")
        run.check("talk_retransmit_before_ack_same_answer",
                  talk_again_before_ack)

        def established():
            if "ok" not in state:
                raise Fail("no answered call (previous check failed)")
            ctrl.drain()
            caller.established(state["ok"])
            if ctrl.wait_event(lambda e: e.get("type") ==
                               "CALL_ESTABLISHED", EVENT_WAIT) is None:
                raise Fail("no CALL_ESTABLISHED event within %.0f s"
                           % EVENT_WAIT)
            state["call"] = True
        run.check("call_established", established)

        def talk_again_after_ack():
            if not state.get("call"):
                raise Fail("no established call (previous check failed)")
            same_answer(state.get("talk"), talk.send(),
                        "talk retransmitted after the ACK")
        run.check("talk_retransmit_after_ack_same_answer",
                  talk_again_after_ack)

        def held():
            if not state.get("call"):
                raise Fail("no established call (previous check failed)")
            state["hold"] = resp = hold.send()
            r = caller.wait_reinvite(REINVITE_WAIT)
            if r is not None:
                caller.answer_reinvite(r)
                caller.wait_ack(r, kh.ANSWER_TIMEOUT)
            expect_status(resp, 200, "NOTIFY hold")
            if r is None:
                raise Fail("no re-INVITE within %.0f s" % REINVITE_WAIT)
        hold = Notifier(port, "hold")
        run.check("hold_sends_reinvite", held)

        def hold_again():
            if not state.get("call"):
                raise Fail("no established call (previous check failed)")
            same_answer(state.get("hold"), hold.send(),
                        "hold retransmitted")
            r = caller.wait_reinvite(NO_ANSWER_WAIT)
            if r is not None:
                caller.answer_reinvite(r)
                raise Fail("the retransmitted hold sent another re-INVITE"
                           " (a=%s)" % sdp_direction(r.body))
        run.check("hold_retransmit_same_answer", hold_again)

        def hangup():
            if not state.get("call"):
                raise Fail("no established call (previous check failed)")
            r = caller.bye()
            if r is None or r.status != 200:
                raise Fail("BYE got %s" % (r.short() if r else "no answer"))
        run.check("call_bye", hangup)

        run.finish()
    finally:
        for x in (caller, talk, hold):
            if x is not None:
                x.close()
        run.cleanup()


# ---------------------------------------------------------------------
# refused loads

def run_refused(args, runner, label, conf, words):
    run = Run(runner, args, label, conf, "<sip:alice@%s>;regint=0" % HOST)
    try:
        if not run.start():
            return
        ctrl, port = run.ctrl, run.bs.sip_port

        def options_stock():
            resp = kh.SipClient(port).request("udp", "OPTIONS", None)
            kh.stock_expect("options_nouser")(resp, {})
        run.check("options_stock", options_stock)

        def no_command():
            ok, data = ctrl.command("kar_stats", "json")
            if ok:
                raise Fail("kar_stats answers: the module is loaded: %r"
                           % data)
        run.check("no_kar_stats_command", no_command)

        def talk_stock():
            # without the module, baresip's core answers talk itself
            expect_status(notify(port, "talk"), 481, "NOTIFY talk")
        run.check("talk_stock_481", talk_stock)

        run.finish()

        def warning():
            lines = log_lines(run.bs, "keepalive_responder", *words)
            if not lines:
                raise Fail("no log line naming %s; keepalive_responder "
                           "lines: %r" % (" and ".join(words), log_lines(
                               run.bs, "keepalive_responder")))
        run.check("log_warning", warning)
    finally:
        run.cleanup()


# ---------------------------------------------------------------------

def run_all(args, runner):
    run_default(args, runner)
    run_reregister(args, runner)
    run_remote(args, runner)
    run_retransmit(args, runner)
    run_refused(args, runner, "refuse",
                ["keepalive_responder_remote_control\tyes"],
                ("keepalive_responder_remote_control",
                 "keepalive_responder_trusted"))
    run_refused(args, runner, "refuse_events",
                ["keepalive_responder_events\tkeep-alive,talk"],
                ("talk", "keepalive_responder_remote_control"))


def main():
    return kh.script_main("Integration test of keepalive_responder's event "
                          "packages against the real baresip.", run_all)


if __name__ == "__main__":
    sys.exit(main())
