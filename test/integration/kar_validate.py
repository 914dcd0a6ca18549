#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
"""
kar_validate.py -- RFC 3261 8.2 validation of keepalive_responder against
the real baresip.

Requests that fail a check the module makes before it answers (unknown
Request-URI scheme, Require, CSeq method mismatch, broken Content-Length,
a message-summary body of the wrong type or encoding) are sent as raw
bytes over UDP and TCP, in shared and exclusive mode (switched over
ctrl_tcp), and must get the module's error answer wherever the module
answers, with Unsupported on a 420 and Accept/Accept-Encoding on a 415.
Where shared mode passes a request on, the answer must be the one stock
baresip gives: that is measured first on a stock baresip run (no module)
with the same bytes, not assumed.  Then: a retransmission gets the same
bytes, the counters say rejected (not answered), and well-formed
neighbours of each torture request still get their 200.

How CTest runs it (test/integration/CMakeLists.txt):

    kar_validate.py --baresip /usr/bin/baresip \\
        --module build/keepalive_responder.so

Last line: "N passed, M failed"; exit status 0 only when nothing failed.
"""

import json
import os
import random
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import kar_harness as kh                                # noqa: E402


HOST = kh.HOST
MWI_CT = "application/simple-message-summary"
MWI_BODY = kh.MWI_BODY

# The module's answers are counted, so the limiter stays out of the way
CONF = ["keepalive_responder_rate\t0"]


class Raw:
    """One request as raw bytes, every header chosen by the case.

    ruri: "{nouser}" / "{alice}" are filled in with the SIP port;
    cseq: the CSeq value (default "<n> <method>"); clens: the
    Content-Length values, one header each (default: the body's length);
    extra: more (name, value) header lines, in order."""

    def __init__(self, port, transport, lport, method, ruri, extra=(),
                 body="", clens=None, cseq=None, to_tag=None):
        self.call_id = kh.rand_hex(20) + "@" + HOST
        ruri = ruri.format(nouser="sip:%s:%d" % (HOST, port),
                           alice="sip:alice@%s:%d" % (HOST, port))
        to = "<sip:alice@%s:%d>" % (HOST, port)
        if to_tag:
            to += ";tag=" + to_tag
        bbody = body.encode()
        if clens is None:
            clens = [str(len(bbody))]
        hdrs = [
            ("Via", "SIP/2.0/%s %s:%d;rport;branch=z9hG4bK%s"
             % (transport.upper(), HOST, lport, kh.rand_hex())),
            ("Max-Forwards", "70"),
            ("From", "<sip:prober@%s>;tag=%s" % (HOST, kh.rand_hex(10))),
            ("To", to),
            ("Call-ID", self.call_id),
            ("CSeq", cseq or "%d %s" % (random.randrange(1, 10000),
                                        method)),
        ]
        hdrs += list(extra)
        hdrs += [("Content-Length", c) for c in clens]
        text = "%s %s SIP/2.0\r\n" % (method, ruri)
        text += "".join("%s: %s\r\n" % h for h in hdrs)
        self.data = text.encode() + b"\r\n" + bbody

    def matches(self, resp):
        return resp.hdr("call-id") == self.call_id and resp.status >= 200


def exchange(port, transport, case, sends=1, timeout=kh.ANSWER_TIMEOUT):
    """Send the case's bytes `sends` times from one socket (a
    retransmission); return the final answers, one slot per send."""
    kind = socket.SOCK_DGRAM if transport == "udp" else socket.SOCK_STREAM
    s = socket.socket(socket.AF_INET, kind)
    try:
        s.bind((HOST, 0))
        req = Raw(port, transport, s.getsockname()[1], **case["req"])
        kh.log("  >> %s\n%s" % (transport, kh.indent(
            req.data.decode("utf-8", "replace"))))
        if transport == "tcp":
            s.settimeout(timeout)
            s.connect((HOST, port))
            reader = kh.TcpReader(s)
        out = []
        for _ in range(sends):
            if transport == "udp":
                s.sendto(req.data, (HOST, port))
                recv = lambda t: kh.udp_recv(s, t)      # noqa: E731
            else:
                s.sendall(req.data)
                recv = reader.recv
            out.append(first_final(recv, req, timeout))
        return out
    finally:
        s.close()


def first_final(recv, req, timeout):
    for raw in kh.received(recv, timeout, 100):
        resp = kh.parse_answer(raw)
        if req.matches(resp):
            return resp
    return None


# ---------------------------------------------------------------------
# Checks on answers (besides the status)

def reason_has(word):
    def check(resp):
        if word.lower() not in resp.reason.lower():
            raise kh.Fail("reason %r does not name %s" % (resp.reason,
                                                          word))
    return check


def unsupported(*tags):
    def check(resp):
        got = resp.tokens("unsupported")
        if got != [t.lower() for t in tags]:
            raise kh.Fail("Unsupported %r, expected %r"
                          % (resp.hdrs("unsupported"), list(tags)))
    return check


def accepts(resp):
    if resp.tokens("accept") != [MWI_CT]:
        raise kh.Fail("Accept %r, expected %s" % (resp.hdrs("accept"),
                                                 MWI_CT))
    if resp.tokens("accept-encoding") != ["identity"]:
        raise kh.Fail("Accept-Encoding %r, expected identity"
                      % resp.hdrs("accept-encoding"))


def bodiless(resp):
    if resp.body or resp.hdr("content-length") != "0":
        raise kh.Fail("a body (Content-Length %r)"
                      % resp.hdr("content-length"))


def none_of(*names):
    def check(resp):
        for n in names:
            if resp.has(n):
                raise kh.Fail("has %s: %r" % (n, resp.hdrs(n)))
    return check


def to_tag(resp):
    if not resp.to_tag:
        raise kh.Fail("no To tag")


def err(status, *checks):
    """The module's error answer: stateless, To tag, no body."""
    return ("module", status, (to_tag, bodiless) + checks)


STOCK = ("stock",)


# ---------------------------------------------------------------------
# Cases.  "shared"/"exclusive": err(...) for the module's answer, STOCK
# for what stock baresip answers the same bytes, or ("module", 200, ())
# for a well-formed neighbour.  "tcp": False where the bytes make no TCP
# message (libre waits for a body that never comes).  "meth": the
# counters' method class.

def opt(ruri="{nouser}", **kw):
    return dict(method="OPTIONS", ruri=ruri, **kw)


def notify(event, ruri="{alice}", extra=(), **kw):
    return dict(method="NOTIFY", ruri=ruri,
                extra=[("Event", event),
                       ("Subscription-State", "active")] + list(extra),
                **kw)


REQUIRE2 = ("Require", "nothingSupportsThis, nothingSupportsThisEither")
OK = ("module", 200, ())

CASES = [
    # Request-URI scheme (RFC 3261 8.2.2.1; RFC 4475 3.3.1 unksm)
    ("scheme_unknown_nouser",
     opt("nobodyKnowsThisScheme:totallyopaquecontent"),
     err(416, reason_has("Scheme")), err(416, reason_has("Scheme"))),
    ("scheme_tel", opt("tel:+1-201-555-0123"), err(416), err(416)),
    # a user part a UA matches: shared passes it on to the core
    ("scheme_im_alice", opt("im:alice@%s" % HOST), STOCK, err(416)),
    ("scheme_uppercase_sip", opt("SIP:%s" % HOST), OK, OK),
    ("scheme_sips", opt("sips:%s" % HOST), OK, OK),
    ("scheme_notify_other_pkg", notify("presence", "tel:+1"),
     err(416), err(416)),

    # Require (8.2.2.3; RFC 4475 3.3.7 bext01)
    ("require_nouser", opt(extra=[REQUIRE2]),
     err(420, unsupported("nothingSupportsThis",
                          "nothingSupportsThisEither")),
     err(420, unsupported("nothingSupportsThis",
                          "nothingSupportsThisEither"))),
    ("require_two_headers",
     opt(extra=[("require", "100rel"), ("Require", "timer")]),
     err(420, unsupported("100rel", "timer")),
     err(420, unsupported("100rel", "timer"))),
    ("require_alice", opt("{alice}", extra=[("Require", "x-foo")]),
     STOCK, err(420, unsupported("x-foo"))),
    ("require_notify_keepalive",
     notify("keep-alive", extra=[("Require", "pref")]),
     err(420, unsupported("pref")), err(420, unsupported("pref"))),
    ("proxy_require_ignored",
     opt(extra=[("Proxy-Require", "nothingSupportsThis")]), OK, OK),

    # CSeq method (8.1.1.5; RFC 4475 3.4.1 mismatch01)
    ("cseq_invite", opt(cseq="8 INVITE"),
     err(400, reason_has("CSeq")), err(400, reason_has("CSeq"))),
    ("cseq_lowercase", opt(cseq="8 options"),
     err(400, reason_has("CSeq")), err(400, reason_has("CSeq"))),
    ("cseq_alice", opt("{alice}", cseq="8 INVITE"), STOCK,
     err(400, reason_has("CSeq"))),
    ("cseq_notify", notify("keep-alive", cseq="3 SUBSCRIBE"),
     err(400, reason_has("CSeq")), err(400, reason_has("CSeq"))),
    # the tail's 405 (exclusive); libre's 501 in shared mode
    ("cseq_unknown_method",
     dict(method="FOO", ruri="{nouser}", cseq="1 BAR"),
     STOCK, err(400, reason_has("CSeq"))),
    ("cseq_unknown_method_tel",
     dict(method="FOO", ruri="tel:+1"), STOCK, err(416)),

    # Content-Length (18.3, 20.14)
    ("clen_two_differing", opt(body="abcd", clens=["0", "4"]),
     err(400, reason_has("Content-Length")),
     err(400, reason_has("Content-Length"))),
    ("clen_two_same", opt(clens=["0", "0"]),
     err(400, reason_has("Content-Length")),
     err(400, reason_has("Content-Length"))),
    ("clen_compact_and_long", opt(clens=["0"], extra=[("l", "0")]),
     err(400, reason_has("Content-Length")),
     err(400, reason_has("Content-Length"))),
    # RFC 4475 3.1.2.8 ncl; libre reads it as 0 and frames TCP with 0
    ("clen_negative", opt(clens=["-999"]),
     err(400, reason_has("Content-Length")),
     err(400, reason_has("Content-Length"))),
    ("clen_alice_two", opt("{alice}", clens=["0", "0"]), STOCK,
     err(400, reason_has("Content-Length"))),
    ("clen_notify", notify("keep-alive", clens=["0", "0"]),
     err(400, reason_has("Content-Length")),
     err(400, reason_has("Content-Length"))),

    # Media the module must read (8.2.3): message-summary only
    ("mwi_text_plain",
     notify("message-summary", extra=[("Content-Type", "text/plain")],
            body=MWI_BODY),
     err(415, accepts), err(415, accepts)),
    ("mwi_no_type", notify("message-summary", body=MWI_BODY),
     err(415, accepts), err(415, accepts)),
    ("mwi_gzip",
     notify("message-summary", extra=[("Content-Type", MWI_CT),
                                      ("Content-Encoding", "gzip")],
            body=MWI_BODY),
     err(415, accepts), err(415, accepts)),
    ("mwi_ok_charset",
     notify("message-summary",
            extra=[("c", "Application/Simple-Message-Summary;"
                         " charset=utf-8")], body=MWI_BODY), OK, OK),
    # a body the module does not read is not looked at
    ("keepalive_with_body",
     notify("keep-alive", extra=[("Content-Type", "text/plain")],
            body="hello"), OK, OK),
    # in dialog: never the module's
    ("mwi_in_dialog_text_plain",
     notify("message-summary", extra=[("Content-Type", "text/plain")],
            body=MWI_BODY, to_tag="dlg1"), STOCK, STOCK),
]

# Datagram only: a TCP stream would wait for the promised body
UDP_ONLY = [
    ("clen_beyond_datagram", opt(clens=["500"]),
     err(400, reason_has("Content-Length")),
     err(400, reason_has("Content-Length"))),
    ("clen_beyond_datagram_mwi",
     notify("message-summary", extra=[("Content-Type", MWI_CT)],
            body=MWI_BODY, clens=["4000"]),
     err(400, reason_has("Content-Length")),
     err(400, reason_has("Content-Length"))),
]


def method_class(req):
    return req["method"] if req["method"] in ("OPTIONS", "NOTIFY") \
        else "other"


def all_cases():
    for name, req, shared, excl in CASES:
        for tp in ("udp", "tcp"):
            yield name, req, {"shared": shared, "exclusive": excl}, tp
    for name, req, shared, excl in UDP_ONLY:
        yield name, req, {"shared": shared, "exclusive": excl}, "udp"


def check_answer(resp, want, stock):
    """want: ("module", status, checks) or STOCK; stock: the status
    stock baresip gave the same bytes (None: no answer)."""
    if want[0] == "stock":
        got = resp.status if resp else None
        if got != stock:
            raise kh.Fail("got %s, stock baresip answers %s"
                          % (resp.short() if resp else "no answer",
                             stock))
        return
    _, status, checks = want
    if resp is None:
        raise kh.Fail("no answer, expected %d" % status)
    if resp.status != status:
        raise kh.Fail("got %s, expected %d" % (resp.short(), status))
    for c in checks:
        c(resp)


# ---------------------------------------------------------------------
# Runs

def measure_stock(args, runner):
    """Stock baresip's answers to the requests shared mode passes on."""
    stock = {}
    bs = kh.Baresip(args.baresip, None, [], args.keep)
    try:
        bs.start()
        for name, req, want, tp in all_cases():
            if want["shared"] != STOCK and want["exclusive"] != STOCK:
                continue
            resp = exchange(bs.sip_port, tp, {"req": req})[0]
            stock[(name, tp)] = resp.status if resp else None
            kh.log("stock %s/%s: %s" % (name, tp, stock[(name, tp)]))
    except Exception as e:                              # noqa: BLE001
        runner.fail("stock_run", "%s: %s\n%s" % (type(e).__name__, e,
                                                 bs.log_tail()))
    finally:
        bs.cleanup()
    return stock


def expected_counts(mode):
    """rejected/answered per method class the cases make in a mode."""
    counts = {}
    for name, req, want, tp in all_cases():
        w = want[mode]
        if w[0] != "module":
            continue
        key = (method_class(req), "answered" if w[1] < 300 else "rejected")
        counts[key] = counts.get(key, 0) + 1
    return counts


def run_mode(runner, bs, ctrl, mode, stock):
    kh.ctrl_ok(ctrl, "kar_exclusive", "on" if mode == "exclusive"
               else "off")
    kh.ctrl_ok(ctrl, "kar_stats", "reset")

    for name, req, want, tp in all_cases():
        runner.run("%s_%s_%s" % (mode, name, tp), lambda: check_answer(
            exchange(bs.sip_port, tp, {"req": req})[0], want[mode],
            stock.get((name, tp), "not measured")))

    def counters():
        st = json.loads(kh.ctrl_ok(ctrl, "kar_stats", "json"))
        bad = []
        for (meth, key), n in sorted(expected_counts(mode).items()):
            got = kh.stats_value(st, "methods.%s.%s" % (meth, key))
            if got != n:
                bad.append("%s.%s = %r (expected %d)" % (meth, key, got,
                                                         n))
        if bad:
            raise kh.Fail("; ".join(bad))
    runner.run("%s_counters" % mode, counters)

    # Stateless, derived from the request: the same bytes again
    def retransmit(tp, case):
        a, b = exchange(bs.sip_port, tp, {"req": case}, sends=2)
        if a is None or b is None:
            raise kh.Fail("answers %r, %r" % (a, b))
        if a.status < 400:
            raise kh.Fail("got %s, expected an error" % a.short())
        if a.raw != b.raw:
            raise kh.Fail("the retransmission got other bytes:\n%s\n%s"
                          % (kh.indent(a.raw.decode()),
                             kh.indent(b.raw.decode())))
    for tp in ("udp", "tcp"):
        runner.run("%s_retransmit_420_%s" % (mode, tp), retransmit, tp,
                   opt(extra=[REQUIRE2]))
        runner.run("%s_retransmit_416_%s" % (mode, tp), retransmit, tp,
                   opt("tel:+1"))
        runner.run("%s_retransmit_415_%s" % (mode, tp), retransmit, tp,
                   notify("message-summary", body=MWI_BODY))


def run_tcp_stream(runner, bs, mode):
    """Two Content-Length headers on TCP: libre frames the stream with
    the last one before the module sees anything.  The module answers
    the message as framed with 400; what the first header promised is
    then the start of the next message for libre, which the module
    does not try to repair."""
    def check():
        s = socket.create_connection((HOST, bs.sip_port),
                                     kh.ANSWER_TIMEOUT)
        try:
            lport = s.getsockname()[1]
            a = Raw(bs.sip_port, "tcp", lport, "OPTIONS", "{nouser}",
                    clens=["0", "4"], body="abcd")
            b = Raw(bs.sip_port, "tcp", lport, "OPTIONS", "{nouser}")
            s.sendall(a.data + b.data)
            reader = kh.TcpReader(s)
            ra = first_final(reader.recv, a, kh.ANSWER_TIMEOUT)
            rb = first_final(reader.recv, b, kh.ANSWER_TIMEOUT)
        finally:
            s.close()
        if ra is None or ra.status != 400:
            raise kh.Fail("first: %s, expected 400"
                          % (ra.short() if ra else "no answer"))
        if rb is None or rb.status != 200:
            raise kh.Fail("second on the same connection: %s, expected"
                          " 200" % (rb.short() if rb else "no answer"))
    runner.run("%s_tcp_two_clen_then_next" % mode, check)


def run_all(args, runner):
    stock = measure_stock(args, runner)
    bs = kh.Baresip(args.baresip, args.module, CONF, args.keep)
    ctrl = None
    try:
        bs.start()
        ctrl = kh.Ctrl(bs.ctrl_port)
        runner.guard = bs.dead
        for mode in ("shared", "exclusive"):
            run_mode(runner, bs, ctrl, mode, stock)
            run_tcp_stream(runner, bs, mode)
        if runner.failed:
            print("--- tail of %s ---\n%s\n---"
                  % (bs.logpath, bs.log_tail()), file=sys.stderr)
    finally:
        runner.guard = None
        if ctrl:
            ctrl.close()
        bs.cleanup()
    return bs


def main():
    return kh.script_main(__doc__.split("\n")[1], run_all)


if __name__ == "__main__":
    sys.exit(main())
