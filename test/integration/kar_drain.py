#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
"""
kar_drain.py -- integration test of keepalive_responder's drain (README.md
and docs/operations.md: a drained endpoint answers its probes 503 so
that probers take it out of rotation) against the real baresip
(Debian 12's baresip-core 1.0.0).

It uses kar_harness.py (baresip in a temporary folder, SIP on
127.0.0.1, ctrl_tcp, one local UA alice) with these runs:

  main      drain switched over ctrl_tcp in both modes: every probe kind
            (OPTIONS to alice / no user / bob, NOTIFY keep-alive with and
            without Subscription-State, compact and odd-case names) over
            UDP and TCP gets 503 + Retry-After: 300, a retransmission the
            same bytes; MWI, check-sync, other packages, no Event,
            in-dialog requests, PUBLISH/FOO and scanners are answered as
            without drain; an INVITE still rings; counters ("drained",
            "drain":true|false); the log line of each change; drain off
            restores the module's usual answers.
  start     keepalive_responder_drain yes, _drain_retry 60, a trusted
            list and rate 5: drained from the start, Retry-After: 60, an
            untrusted source gets the stack's answers, the rate limit
            still drops.
  e         baresip -e "/kar_drain on".
  console   /kar_drain typed at the console (stdio.so on a pty).
  bad       keepalive_responder_drain maybe, _drain_retry 0 / 86401 /
            abc / -5: one warning naming key and value, module not
            loaded.
  shutdown  alice registers at the test's registrar, which holds back
            its answer to the un-REGISTER for SHUTDOWN_HOLD seconds:
            baresip keeps its SIP stack that long after SIGTERM (then
            after "quit" over ctrl_tcp, a second run).  OPTIONS without
            user, sent one after the other from before the stop until
            baresip is gone: never a 200 after the stop began, at least
            one 503, and baresip exits 0.

How CTest runs it (test/integration/CMakeLists.txt):

    kar_drain.py --baresip /usr/bin/baresip \\
        --module build/keepalive_responder.so

Output: "ok   name" / "FAIL name: why" per check, then "N passed, M
failed".  Exit status 0 only when nothing failed.  Python 3 standard
library only; loopback only, every wait bounded, every baresip stopped
by its PID.
"""

import os
import pty
import re
import signal
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import kar_harness as kh                                # noqa: E402
import kar_config as kc                                 # noqa: E402
import kar_events as ke                                 # noqa: E402

Fail = kh.Fail
K = "keepalive_responder_"

SHUTDOWN_HOLD = 1.5     # registrar's delay of the un-REGISTER answer
PROBE_GAP = 0.01        # between shutdown probes (stays under rate 50)
GONE_AFTER = 3          # unanswered probes in a row: the stack is gone

# Probe kinds the drain answers 503 (kar_harness's REQ names)
DRAINED = ("options_alice", "options_nouser", "options_bob",
           "notify_keepalive", "notify_keepalive_nosubstate",
           "notify_keepalive_nouser", "notify_compact", "notify_oddcase")

# Answered as without drain (kar_harness's EXPECT of the mode)
UNTOUCHED = ("notify_checksync", "notify_mwi", "notify_mwi_malformed",
             "notify_presence", "notify_no_event", "notify_in_dialog",
             "publish", "foo", "options_scanner")


def drained(retry):
    def check(resp, kw):
        kh.expect(503)(resp, kw)
        if resp.reason != "Service Unavailable":
            raise Fail("reason %r" % resp.reason)
        got = resp.hdrs("retry-after")
        if got != [str(retry)]:
            raise Fail("Retry-After %r, expected [%r]" % (got, str(retry)))
        if not resp.to_tag:
            raise Fail("no To tag")
    return check


def probe(sip, name, transport, **over):
    kw = dict(kh.REQ[name])
    kw.update(over)
    return sip.request(transport, **kw), kw


def check_drained(sip, name, transport, retry=300):
    resp, kw = probe(sip, name, transport)
    drained(retry)(resp, kw)


def check_untouched(sip, name, transport, mode):
    resp, kw = probe(sip, name, transport)
    kh.expectation(mode, name)(resp, kw)


def drain_word(data, want):
    if not re.search(r"drain: %s\b" % want, data):
        raise Fail("answer %r does not say 'drain: %s'" % (data, want))


def set_drain(ctrl, word):
    drain_word(kh.ctrl_ok(ctrl, "kar_drain", word), word)
    drain_word(kh.ctrl_ok(ctrl, "kar_drain"), word)


def t_retransmit(sip, name):
    """The same request bytes twice: one 503 each, byte-identical."""
    kw = dict(kh.REQ[name])
    got = sip.exchange("udp", sends=2, linger=kh.EXTRA_WAIT, **kw)
    if [len(g) for g in got] != [1, 1]:
        raise Fail("answers per send %r, expected one each"
                   % [[r.short() for r in g] for g in got])
    a, b = got[0][0], got[1][0]
    drained(300)(a, kw)
    if a.raw != b.raw:
        raise Fail("answers differ:\n%s\n--- vs ---\n%s" % (
            kh.indent(a.raw.decode("utf-8", "replace")),
            kh.indent(b.raw.decode("utf-8", "replace"))))


def t_in_dialog_options(sip):
    """An in-dialog OPTIONS is the dialog owner's: never the drain's."""
    resp = sip.request("udp", "OPTIONS", "alice", to_tag="dlg-drain")
    if resp is not None and resp.status == 503:
        raise Fail("in-dialog OPTIONS drained: %s" % resp.short())


def t_invite_rings(port):
    """Calls are never touched: an INVITE to alice rings (180), no 503;
    then CANCEL ends it."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind((kh.HOST, 0))
        lport = s.getsockname()[1]
        sdp = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
               "c=IN IP4 127.0.0.1\r\nt=0 0\r\n"
               "m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
        ruri = "sip:alice@%s:%d" % (kh.HOST, port)
        inv = kh.Request("INVITE", ruri, "udp", lport, body=sdp, extra=[
            ("Contact", "<sip:prober@%s:%d>" % (kh.HOST, lport)),
            ("Content-Type", "application/sdp")])
        s.sendto(inv.data, (kh.HOST, port))
        seen = []
        deadline = time.monotonic() + kh.ANSWER_TIMEOUT
        while time.monotonic() < deadline:
            raw = kh.udp_recv(s, deadline - time.monotonic())
            if raw is None:
                break
            resp = kh.Response(raw)
            if not inv.matches(resp):
                continue
            seen.append(resp.status)
            if resp.status == 180 or resp.status >= 200:
                break
        # CANCEL: same branch, Call-ID, From, CSeq number
        text = inv.data.decode().split("\r\n\r\n")[0].split("\r\n")
        cancel = [text[0].replace("INVITE", "CANCEL", 1)]
        for line in text[1:]:
            name = line.split(":", 1)[0].lower()
            if name in ("via", "from", "to", "call-id", "max-forwards"):
                cancel.append(line)
            elif name == "cseq":
                cancel.append(line.replace("INVITE", "CANCEL"))
        cancel.append("Content-Length: 0")
        s.sendto(("\r\n".join(cancel) + "\r\n\r\n").encode(),
                 (kh.HOST, port))
        time.sleep(0.2)
    finally:
        s.close()
    if 503 in seen:
        raise Fail("INVITE answered 503 while draining (%r)" % seen)
    if 180 not in seen:
        raise Fail("INVITE did not ring while draining (%r)" % seen)


def t_counts(ctrl, sip, mode):
    kh.ctrl_ok(ctrl, "kar_stats", "reset")
    for name in ("options_nouser", "options_nouser", "options_alice",
                 "notify_keepalive"):
        check_drained(sip, name, "udp")
    check_untouched(sip, "notify_checksync", "udp", mode)
    check_untouched(sip, "notify_presence", "udp", mode)
    st = ke.stats(ctrl)
    ke.check_counts(st, {
        "drain": True, "mode": mode,
        "methods.OPTIONS.drained": 3, "methods.OPTIONS.answered": 0,
        "methods.OPTIONS.rejected": 0, "methods.OPTIONS.passed": 0,
        "methods.NOTIFY.drained": 1, "methods.NOTIFY.answered": 1,
        "methods.NOTIFY.rejected": 1, "events.keep-alive": 1,
        "events.check-sync": 1, "events.other": 1,
    })
    text = kh.ctrl_ok(ctrl, "kar_stats")
    if "drained" not in text or "drain on" not in text:
        raise Fail("kar_stats text lacks 'drained' / 'drain on': %r"
                   % text)


def t_log_line(bs, word, n):
    """The log says each change: at least n lines 'drain <word>'."""
    lines = ke.log_lines(bs, "keepalive_responder: drain %s" % word)
    if len(lines) < n:
        raise Fail("%d log line(s) 'keepalive_responder: drain %s', "
                   "expected %d" % (len(lines), word, n))


def t_undrained(sip, mode, transport):
    """After drain off: the module's usual answers again."""
    for name in ("options_nouser", "options_bob", "notify_keepalive"):
        check_untouched(sip, name, transport, mode)


# ---------------------------------------------------------------------
# Runs

class Run(ke.Run):
    """kar_events' run, with a default account, extra command-line
    arguments and a console on stdin."""

    def __init__(self, runner, args, label, conf, account=None,
                 extra_args=(), stdin=None):
        super().__init__(runner, args, label, conf,
                         account or "<sip:alice@%s>;regint=0" % kh.HOST)
        self.bs.extra_args = list(extra_args)
        if stdin is not None:
            self.bs.stdin = stdin


def run_main(args, runner):
    run = Run(runner, args, "main", [])
    try:
        if not run.start():
            return
        ctrl, bs = run.ctrl, run.bs
        sip = kh.SipClient(bs.sip_port)
        run.check("query_off", drain_word,
                  kh.ctrl_ok(ctrl, "kar_drain"), "off")

        def bogus():
            ok, data = ctrl.command("kar_drain", "maybe")
            if ok or "usage" not in data:
                raise Fail("kar_drain maybe: ok=%r, %r" % (ok, data))
            drain_word(kh.ctrl_ok(ctrl, "kar_drain"), "off")
        run.check("bogus_argument", bogus)

        for mode in ("shared", "exclusive"):
            m = mode[:4]
            kh.mode_word(kh.ctrl_ok(ctrl, "kar_exclusive",
                                    "on" if mode == "exclusive" else
                                    "off"), mode)
            run.check("%s.drain_on" % m, set_drain, ctrl, "on")
            for tp in ("udp", "tcp"):
                for name in DRAINED:
                    run.check("%s.%s.%s_503" % (m, tp, name),
                              check_drained, sip, name, tp)
                for name in UNTOUCHED:
                    run.check("%s.%s.%s_untouched" % (m, tp, name),
                              check_untouched, sip, name, tp, mode)
            run.check("%s.retransmit_identical_options" % m,
                      t_retransmit, sip, "options_nouser")
            run.check("%s.retransmit_identical_notify" % m,
                      t_retransmit, sip, "notify_keepalive")
            run.check("%s.in_dialog_options_untouched" % m,
                      t_in_dialog_options, sip)
            run.check("%s.counters" % m, t_counts, ctrl, sip, mode)
            run.check("%s.drain_off" % m, set_drain, ctrl, "off")

            def json_off():
                st = ke.stats(ctrl)
                if st.get("drain") is not False:
                    raise Fail('"drain": %r after off' % st.get("drain"))
            run.check("%s.json_drain_false" % m, json_off)
            for tp in ("udp", "tcp"):
                run.check("%s.%s.undrained" % (m, tp), t_undrained, sip,
                          mode, tp)

        def drain_events():
            for word in ("on", "off"):
                ctrl.drain()
                kh.ctrl_ok(ctrl, "kar_drain", word)
                # module events exist from 1.1 on; 1.0 logs only
                if kh.baresip_version() < (1, 1):
                    continue
                want = "keepalive_responder,drain," + word
                ev = ctrl.wait_event(lambda e: e.get("type") == "MODULE"
                                     and e.get("param") == want,
                                     2 * kh.TIME_SCALE)
                if ev is None:
                    raise Fail("no MODULE event %r on ctrl_tcp" % want)
        run.check("module_event_on_off", drain_events)

        kh.ctrl_ok(ctrl, "kar_exclusive", "off")
        kh.ctrl_ok(ctrl, "kar_drain", "on")
        run.check("invite_rings_while_draining", t_invite_rings,
                  bs.sip_port)
        # on twice: one change, one line
        kh.ctrl_ok(ctrl, "kar_drain", "on")
        kh.ctrl_ok(ctrl, "kar_drain", "off")
        run.runner.guard = None
        run.check("clean_shutdown", kh.t_shutdown, bs)
        run.check("log_line_on", t_log_line, bs, "on", 4)
        run.check("log_line_off", t_log_line, bs, "off", 4)

        def one_line_per_change():
            # the SIGTERM of clean_shutdown drained once more
            lines = ke.log_lines(bs, "keepalive_responder: drain on")
            n = len([ln for ln in lines if "shutting down" not in ln])
            if n != 4 or len(lines) != 5:
                raise Fail("%d 'drain on' lines for 4 changes, %d in all "
                           "(expected 4 and 5)" % (n, len(lines)))
        run.check("log_line_per_change_only", one_line_per_change)
    finally:
        run.cleanup()


def run_start(args, runner):
    """keepalive_responder_drain yes at start, with the guard."""
    conf = [K + "drain yes", K + "drain_retry 60",
            K + "trusted 127.0.0.1", K + "rate 5"]
    run = Run(runner, args, "start", conf)
    try:
        if not run.start():
            return
        ctrl, bs = run.ctrl, run.bs
        run.check("query_on", drain_word, kh.ctrl_ok(ctrl, "kar_drain"),
                  "on")

        def untrusted():
            # 127.0.0.2 is not trusted: the stack answers, as always
            kh.stock_expect("options_nouser")(
                kh.options_from(bs.sip_port, "127.0.0.2"), {})
            resp = kh.options_from(bs.sip_port, "127.0.0.2", user="alice")
            kh.expect(200, kh.sdp_body)(resp, {})
        run.check("untrusted_gets_stack_answer", untrusted)

        def scanner():
            resp = kh.options_from(bs.sip_port, "127.0.0.3", extra=[
                ("User-Agent", "friendly-scanner")],
                timeout=kh.SILENCE_WAIT)
            kh.no_answer(resp, {})
        run.check("scanner_dropped", scanner)

        def trusted():
            resp = kh.options_from(bs.sip_port, "127.0.0.1")
            drained(60)(resp, {})
        run.check("trusted_503_retry_60", trusted)

        def json_true():
            st = ke.stats(ctrl)
            if st.get("drain") is not True:
                raise Fail('"drain": %r' % st.get("drain"))
        run.check("json_drain_true", json_true)
        # the rate limit applies to drained probes as to the others
        run.check("rate_limit", kh.t_rate_limit, bs, 5, 30)

        def start_line():
            if not ke.log_lines(bs, "keepalive_responder:", "drain on",
                                "retry 60 s"):
                raise Fail("no start-up line with 'drain on (retry 60 s)'")
        run.check("start_line", start_line)
    finally:
        run.cleanup()


def run_e(args, runner):
    run = Run(runner, args, "e", [], extra_args=["-e", "/kar_drain on"])
    try:
        if not run.start():
            return
        sip = kh.SipClient(run.bs.sip_port)
        run.check("query_on", drain_word,
                  kh.ctrl_ok(run.ctrl, "kar_drain"), "on")
        run.check("options_503", check_drained, sip, "options_nouser",
                  "udp")
    finally:
        run.cleanup()


def run_console(args, runner):
    master, slave = pty.openpty()
    run = Run(runner, args, "console", ["module\t\t\tstdio.so"],
              stdin=slave)
    try:
        ok = run.start()
        os.close(slave)
        slave = None
        if not ok:
            return
        con = kh.Console(master, run.bs.logpath)
        sip = kh.SipClient(run.bs.sip_port)

        def typed(line, needle):
            if not con.command(line, needle):
                raise Fail("no %r after %r in %r"
                           % (needle, line, con.seen[-300:]))
        run.check("query", typed, "/kar_drain", "drain: off")
        run.check("on", typed, "/kar_drain on", "drain: on")
        run.check("on_takes_effect", check_drained, sip, "options_alice",
                  "udp")
        run.check("off", typed, "/kar_drain off", "drain: off")
        run.check("off_takes_effect", check_untouched, sip,
                  "options_nouser", "udp", "shared")
        run.check("bad_argument", typed, "/kar_drain perhaps", "usage:")
    finally:
        if slave is not None:
            os.close(slave)
        run.cleanup()
        os.close(master)


BAD = [
    ("drain_maybe", [K + "drain maybe"], [K + "drain", "maybe"]),
    ("drain_retry_0", [K + "drain_retry 0"], [K + "drain_retry", "'0'"]),
    ("drain_retry_86401", [K + "drain_retry 86401"],
     [K + "drain_retry", "86401"]),
    ("drain_retry_abc", [K + "drain_retry abc"],
     [K + "drain_retry", "abc"]),
    ("drain_retry_negative", [K + "drain_retry -5"],
     [K + "drain_retry", "-5"]),
]


def run_bad(args, runner):
    for name, conf, words in BAD:
        kc.bad_case(args, runner, "bad." + name, conf, words)


class HoldingRegistrar(ke.Registrar):
    """Answers a REGISTER at once, an un-REGISTER (expires 0) only
    after `hold` seconds: baresip keeps its SIP stack until then."""

    def __init__(self, hold):
        super().__init__()
        self.hold = hold
        self.unreg_at = None

    def _handle(self, m):
        if m.method == "REGISTER" and not ke.contact_expires(m):
            if self.unreg_at is None:
                self.unreg_at = time.monotonic()
            if time.monotonic() - self.unreg_at < self.hold:
                return False            # retransmissions come again
        return super()._handle(m)


def shutdown_probes(bs, stop):
    """OPTIONS without user one after the other; stop() after the first
    answer.  Returns (time of the stop, [(sent, status or None)])."""
    results = []
    t_stop = None
    misses = 0
    deadline = time.monotonic() + SHUTDOWN_HOLD + 10
    while time.monotonic() < deadline:
        sent = time.monotonic()
        try:
            resp = kh.options_from(bs.sip_port, "127.0.0.1", timeout=0.3)
        except OSError:
            resp = None
        results.append((sent, resp.status if resp else None))
        if t_stop is None and resp is not None:
            # between two probes: every probe from here on was sent
            # after the stop began
            stop()
            t_stop = time.monotonic()
        if t_stop is not None:
            misses = misses + 1 if resp is None else 0
            if misses >= GONE_AFTER and not bs.alive():
                break
        time.sleep(PROBE_GAP)
    return t_stop, results


def t_shutdown_drain(t_stop, results, bs):
    if t_stop is None:
        raise Fail("baresip never answered a probe before the stop")
    after = [st for (sent, st) in results if sent > t_stop]
    summary = "answers after the stop: %r" % compress(after)
    if 200 in after:
        raise Fail("a 200 after the shutdown began; " + summary)
    if 503 not in after:
        raise Fail("no 503 during the shutdown; " + summary)
    bad = [st for st in after if st not in (503, None)]
    if bad:
        raise Fail("unexpected answers %r; %s" % (bad, summary))
    print("     %s" % summary, flush=True)


def compress(seq):
    """[503, 503, None] -> [(503, 2), (None, 1)]"""
    out = []
    for v in seq:
        if out and out[-1][0] == v:
            out[-1] = (v, out[-1][1] + 1)
        else:
            out.append((v, 1))
    return out


def run_shutdown(args, runner, how):
    reg = HoldingRegistrar(SHUTDOWN_HOLD)
    run = Run(runner, args, "shutdown_" + how, [K + "rate 0"],
              account="<sip:alice@%s:%d>;regint=600" % (kh.HOST, reg.port))
    stop_reg = threading.Event()
    th = None
    try:
        if not run.start():
            return
        bs = run.bs

        def registered():
            got = reg.serve(ke.REG_WAIT, lambda new: any(
                m.expires for m in new))
            if not any(m.expires for m in got):
                raise Fail("no REGISTER at the test's registrar")
        if not run.check("registered", registered):
            return
        th = threading.Thread(target=reg.serve_until,
                              args=(stop_reg, SHUTDOWN_HOLD + 15))
        th.start()
        run.check("before_stop_200", lambda: kh.expect(200)(
            kh.options_from(bs.sip_port, "127.0.0.1"), {}))

        def stop():
            if how == "sigterm":
                bs.proc.send_signal(signal.SIGTERM)
            else:
                # quit runs ua_stop_all() before ctrl_tcp answers
                try:
                    run.ctrl.command("quit")
                except (kh.CtrlError, OSError):
                    pass        # the answer may not make it out
        run.runner.guard = None
        t_stop, results = shutdown_probes(bs, stop)
        run.check("no_200_and_503_seen", t_shutdown_drain, t_stop,
                  results, bs)

        def unregister_held():
            if reg.unreg_at is None:
                raise Fail("no un-REGISTER reached the registrar")
        run.check("unregister_seen", unregister_held)

        def exited():
            try:
                status = bs.proc.wait(kh.STOP_TIMEOUT)
            except Exception:                       # noqa: BLE001
                raise Fail("baresip still running after the shutdown")
            if status != 0:
                raise Fail("exit status %r" % status)
            if bs.cores():
                raise Fail("core file(s) %r" % bs.cores())
        run.check("exit_0", exited)

        def logged():
            if not ke.log_lines(bs, "keepalive_responder: drain on "
                                "(shutting down)"):
                raise Fail("no 'drain on (shutting down)' log line")
        run.check("log_line", logged)
    finally:
        stop_reg.set()
        if th is not None:
            th.join(SHUTDOWN_HOLD + 16)
        run.cleanup()
        reg.close()


def run_all(args, runner):
    run_main(args, runner)
    run_start(args, runner)
    run_e(args, runner)
    run_console(args, runner)
    run_bad(args, runner)
    run_shutdown(args, runner, "sigterm")
    run_shutdown(args, runner, "quit")


def main():
    return kh.script_main(__doc__.split("\n")[1], run_all)


if __name__ == "__main__":
    sys.exit(main())
