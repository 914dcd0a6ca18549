#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
"""
kar_probe.py -- integration test of keepalive_responder against the real
baresip (Debian 12's baresip-core 1.0.0).

It starts baresip in a fresh temporary folder with a generated config
(SIP on 127.0.0.1, ctrl_tcp, one local UA alice without registration),
sends real SIP requests over loopback on UDP and TCP, drives the module's
commands over ctrl_tcp and checks every answer against what README.md's
table says (kar_harness.py's REQ, STOCK and EXPECT).  The harness, the
probes and their expected answers are kar_harness.py's, shared with the
other integration tests; this script is the checks of one run.

How CTest runs it (test/integration/CMakeLists.txt):

    kar_probe.py --baresip /usr/bin/baresip --stock
    kar_probe.py --baresip /usr/bin/baresip \\
        --module build/keepalive_responder.so --mode shared
    kar_probe.py --baresip /usr/bin/baresip \\
        --module build/keepalive_responder.so --mode exclusive \\
        --conf 'keepalive_responder_exclusive yes'

--stock checks what stock baresip answers (no module loaded), so that a
change of baresip's own behaviour shows up apart from module bugs.
--mode picks the expectation set; --conf lines go into baresip's config
(the exclusive run needs 'keepalive_responder_exclusive yes').

What is checked (each check is a named test case):
  * every probe in REQ over UDP and over TCP (a connection per probe)
    against the mode's column of EXPECT: OPTIONS to alice / no user /
    bob, out-of-dialog NOTIFY keep-alive, check-sync, message-summary
    (valid and malformed body), presence, no Event, in-dialog NOTIFY,
    PUBLISH and FOO, compact and odd-case header names, a scanner
    User-Agent;
  * module runs only: retransmissions (same bytes twice: one answer
    each, same status and To tag, ideally byte-identical), the MWI
    event on ctrl_tcp, kar_exclusive query/on/off/toggle/bogus,
    kar_stats reset/json/text with exact counts, rmmod and insmod;
    then clean shutdown (status 0 after SIGTERM, no core file);
  * module runs only, a second short baresip: "-e /kar_exclusive on"
    (off in the exclusive run, where on would prove nothing) switches
    the mode at start-up, and with keepalive_responder_rate 5 a burst
    of 30 OPTIONS gets about 2 x 5 answers, the rest dropped silently
    and counted.

Output: one line per check ("ok   name" or "FAIL name: why"), then, last
and alone on its line, "N passed, M failed".  Exit status 0 only when
nothing failed.  --keep leaves the temporary folder (config, baresip.log,
any core file) in place; -v prints the SIP and ctrl_tcp traffic.
"""

import argparse
import json
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kar_harness as kh                                  # noqa: E402
from kar_harness import (                                 # noqa: E402
    ACCEPTED_EVENTS, COUNTER_KEYS, EXPECT, EXTRA_WAIT, HOST, MODNAME, REQ,
    Baresip, Ctrl, Fail, Runner, SipClient, check_sip, ctrl_ok,
    expectation, finish, indent, is_int, log, mode_word, on_sigterm,
    run_checked, stats_value, stock_table, t_mwi_event, t_rate_limit,
    t_shutdown)


def set_mode(ctrl, sip, word):
    """kar_exclusive <word>; check the answer and OPTIONS bob."""
    param = {"exclusive": "on", "shared": "off"}[word]
    mode_word(ctrl_ok(ctrl, "kar_exclusive", param), word)
    mode_word(ctrl_ok(ctrl, "kar_exclusive"), word)
    check = expectation(word, "options_bob")
    for tp in ("udp", "tcp"):
        try:
            check(sip.request(tp, "OPTIONS", "bob"), {})
        except Fail as e:
            raise Fail("after kar_exclusive %s, OPTIONS bob over %s: %s"
                       % (param, tp, e))


def t_retransmit(sip, name, mode, state):
    """Same bytes twice (same branch): one answer each, same status and
    same To tag."""
    kw = dict(REQ[name])
    got = sip.exchange("udp", sends=2, linger=EXTRA_WAIT, **kw)
    for i, answers in enumerate(got):
        if len(answers) != 1:
            raise Fail("send %d got %d final answers: %s" % (
                i + 1, len(answers), [a.short() for a in answers]))
    a, b = got[0][0], got[1][0]
    state[name] = (a, b)
    expectation(mode, name)(a, kw)
    if a.status != b.status:
        raise Fail("status %d then %d" % (a.status, b.status))
    if not a.to_tag or a.to_tag != b.to_tag:
        raise Fail("To tag %r then %r" % (a.to_tag, b.to_tag))


def t_retransmit_identical(name, state):
    """Ideally the retransmission's answer is byte for byte the same."""
    if name not in state:
        raise Fail("no answers to compare (previous check failed)")
    a, b = state[name]
    if a.raw != b.raw:
        raise Fail("answers differ:\n%s\n--- vs ---\n%s" % (
            indent(a.raw.decode("utf-8", "replace")),
            indent(b.raw.decode("utf-8", "replace"))))


def t_stats(ctrl, sip, mode, state):
    ctrl_ok(ctrl, "kar_stats", "reset")
    sends = [("options_nouser", 3), ("notify_keepalive", 2),
             ("notify_presence", 1)]
    for name, n in sends:
        for _ in range(n):
            check_sip(sip, name, "udp", mode)
    data = ctrl_ok(ctrl, "kar_stats", "json")
    try:
        st = json.loads(data)
    except ValueError as e:
        raise Fail("kar_stats json data is not JSON (%s): %r" % (e, data))
    state["stats"] = st
    if not isinstance(st, dict):
        raise Fail("not a JSON object: %r" % data)
    bad = []
    if st.get("mode") != mode:
        bad.append("mode %r (expected %r)" % (st.get("mode"), mode))
    if st.get("drain") is not False:
        bad.append("drain %r (expected false)" % st.get("drain"))
    if not is_int(st.get("uptime")) or st["uptime"] < 0:
        bad.append("uptime %r" % st.get("uptime"))
    methods = st.get("methods")
    if not isinstance(methods, dict):
        raise Fail("no \"methods\" object: %r" % data)
    for m in ("OPTIONS", "NOTIFY", "other"):
        c = methods.get(m)
        if not isinstance(c, dict):
            bad.append("methods.%s missing" % m)
            continue
        for k in COUNTER_KEYS:
            if not is_int(c.get(k)):
                bad.append("methods.%s.%s = %r" % (m, k, c.get(k)))
    events = st.get("events")
    if not isinstance(events, dict):
        raise Fail("no \"events\" object: %r" % data)
    for k in ACCEPTED_EVENTS + ("other",):
        if not is_int(events.get(k)):
            bad.append("events.%s = %r" % (k, events.get(k)))
    if bad:
        raise Fail("shape: " + "; ".join(bad) + " in " + data)


def t_stats_counts(state, exact):
    st = state.get("stats")
    if st is None:
        raise Fail("no stats (previous check failed)")
    bad = []
    for path, want in exact.items():
        got = stats_value(st, path)
        if got != want:
            bad.append("%s = %r (expected %r)" % (path, got, want))
    if bad:
        raise Fail("; ".join(bad))


def t_stats_text(ctrl):
    data = ctrl_ok(ctrl, "kar_stats")
    if not data.strip():
        raise Fail("kar_stats printed nothing")
    if "OPTIONS" not in data:
        raise Fail("kar_stats text lacks OPTIONS: %r" % data)


def t_rmmod(ctrl, sip):
    """Unloading restores the stock chain."""
    ctrl.command("rmmod", MODNAME)
    ok, data = ctrl.command("kar_exclusive")
    if ok:
        raise Fail("kar_exclusive still answers after rmmod: %r" % data)
    for tp in ("udp", "tcp"):
        for name in ("options_nouser", "notify_keepalive"):
            check_sip(sip, name, tp, "stock")


def t_insmod(ctrl, sip, mode):
    """Loading it again works, with the configured start mode."""
    ctrl_ok(ctrl, "insmod", MODNAME)
    mode_word(ctrl_ok(ctrl, "kar_exclusive"), mode)
    for tp in ("udp", "tcp"):
        check_sip(sip, "options_nouser", tp, mode)
        check_sip(sip, "notify_keepalive", tp, mode)


def t_startup_command(bs, want):
    """-e "/kar_exclusive ..." ran at start-up: the mode is switched."""
    ctrl = Ctrl(bs.ctrl_port)
    try:
        mode_word(ctrl_ok(ctrl, "kar_exclusive"), want)
    finally:
        ctrl.close()
    check_sip(SipClient(bs.sip_port), "options_bob", "udp", want)


def run_second(args, runner, mode):
    """A second, short baresip: start-up command and rate limit."""
    # In an exclusive run, "on" would prove nothing: switch the other way
    want = "shared" if mode == "exclusive" else "exclusive"
    cmd = "/kar_exclusive %s" % ("off" if want == "shared" else "on")
    rate, n = 5, 30
    # first match wins in baresip's config: our rate line goes first
    bs = Baresip(args.baresip, args.module,
                 ["keepalive_responder_rate %d" % rate] + args.conf,
                 args.keep, extra_args=["-e", cmd])
    failed_before = runner.failed
    try:
        if not runner.run("second_start", bs.start):
            return
        runner.guard = bs.dead
        runner.run("startup_command_e", t_startup_command, bs, want)
        runner.run("rate_limit", t_rate_limit, bs, rate, n)
        runner.guard = None
        runner.run("second_clean_shutdown", t_shutdown, bs)
    finally:
        if runner.failed > failed_before:
            sys.stdout.flush()
            print("--- tail of the second run's baresip.log ---\n%s\n---"
                  % bs.log_tail(), file=sys.stderr)
        bs.cleanup()


# ---------------------------------------------------------------------

def run_all(args, runner):
    """The main run.  All probes come from 127.0.0.1, one source for the
    module's rate limit (default 50/s, burst 100): the main run sends
    about 60 SIP requests in a few seconds, well inside that budget."""
    mode = "stock" if args.stock else args.mode
    bs = Baresip(args.baresip, None if args.stock else args.module,
                 args.conf, args.keep)
    try:
        if not runner.run("baresip_start", bs.start):
            return bs
        log("baresip in %s, SIP %s:%d, ctrl_tcp %s:%d" % (
            bs.dir, HOST, bs.sip_port, HOST, bs.ctrl_port))
        # once baresip is gone, fail fast instead of timing out
        runner.guard = bs.dead
        sip = SipClient(bs.sip_port)
        ctrl = Ctrl(bs.ctrl_port)

        if mode != "stock":
            # the module's command exists and reports the start mode
            runner.run("module_loaded", lambda: mode_word(
                ctrl_ok(ctrl, "kar_exclusive"), mode))

        if mode == "stock":
            # the generation under test must have its table
            runner.run("stock_answers_known", stock_table)
        for name in REQ:
            if mode != "stock" and name not in EXPECT[mode]:
                continue
            for tp in ("udp", "tcp"):
                runner.run("%s[%s]" % (name, tp), check_sip,
                           sip, name, tp, mode)

        if mode != "stock":
            pairs = {}
            for name in ("options_nouser", "notify_keepalive"):
                runner.run("retransmit_%s[udp]" % name, t_retransmit,
                           sip, name, mode, pairs)
                runner.run("retransmit_%s_identical[udp]" % name,
                           t_retransmit_identical, name, pairs)

            runner.run("mwi_event", t_mwi_event, ctrl, sip)

            runner.run("ctrl_mode_query", lambda: mode_word(
                ctrl_ok(ctrl, "kar_exclusive"), mode))
            runner.run("ctrl_exclusive_on", set_mode, ctrl, sip,
                       "exclusive")
            runner.run("ctrl_exclusive_off", set_mode, ctrl, sip,
                       "shared")

            def toggle():
                mode_word(ctrl_ok(ctrl, "kar_exclusive", "toggle"),
                          "exclusive")
                mode_word(ctrl_ok(ctrl, "kar_exclusive"), "exclusive")
                mode_word(ctrl_ok(ctrl, "kar_exclusive", "toggle"),
                          "shared")
                mode_word(ctrl_ok(ctrl, "kar_exclusive"), "shared")
            runner.run("ctrl_exclusive_toggle", toggle)
            runner.run("ctrl_exclusive_restore", set_mode, ctrl, sip,
                       mode)

            def bogus():
                ok, data = ctrl.command("kar_exclusive", "bogus")
                if ok:
                    raise Fail("kar_exclusive bogus: ok:true, %r" % data)
                mode_word(ctrl_ok(ctrl, "kar_exclusive"), mode)
            runner.run("ctrl_exclusive_bogus", bogus)

            state = {}
            runner.run("stats_json_shape", t_stats, ctrl, sip, mode, state)
            runner.run("stats_json_counts", t_stats_counts, state, {
                "methods.OPTIONS.answered": 3,
                "methods.NOTIFY.answered": 2,
                "methods.NOTIFY.rejected": 1,
                "events.keep-alive": 2,
                "events.other": 1,
            })
            zero = {}
            for m in ("OPTIONS", "NOTIFY", "other"):
                for k in COUNTER_KEYS:
                    zero["methods.%s.%s" % (m, k)] = 0
            for k in ACCEPTED_EVENTS:
                zero["events." + k] = 0
            for k in ("methods.OPTIONS.answered", "methods.NOTIFY.answered",
                      "methods.NOTIFY.rejected", "events.keep-alive"):
                del zero[k]
            runner.run("stats_json_others_zero", t_stats_counts, state,
                       zero)
            runner.run("stats_text", t_stats_text, ctrl)

            runner.run("rmmod_restores_stock", t_rmmod, ctrl, sip)
            runner.run("insmod_again", t_insmod, ctrl, sip, mode)

        ctrl.close()
        runner.guard = None
        runner.run("clean_shutdown", t_shutdown, bs)
    finally:
        bs.stop()
        if runner.failed:
            sys.stdout.flush()
            print("--- tail of %s ---\n%s\n---"
                  % (bs.logpath, bs.log_tail()), file=sys.stderr)
    if mode != "stock":
        run_second(args, runner, mode)
    return bs


def main():
    ap = argparse.ArgumentParser(
        description="Integration probe of keepalive_responder against "
                    "the real baresip.")
    ap.add_argument("--baresip", default="/usr/bin/baresip",
                    help="baresip executable (default %(default)s)")
    which = ap.add_mutually_exclusive_group(required=True)
    which.add_argument("--module", metavar="PATH",
                       help="the built keepalive_responder.so")
    which.add_argument("--stock", action="store_true",
                       help="no module: check stock baresip's answers")
    ap.add_argument("--mode", choices=("shared", "exclusive"),
                    default="shared",
                    help="expectation set for the module (default "
                         "%(default)s)")
    ap.add_argument("--conf", action="append", default=[],
                    metavar="'KEY VALUE'",
                    help="extra config line (repeatable)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary folder")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    kh.verbose = args.verbose
    kh.BARESIP = args.baresip

    # SIGTERM (CTest timeout) unwinds through the finally blocks, which
    # stop baresip; the summary line is still printed
    signal.signal(signal.SIGTERM, on_sigterm)

    if (args.mode == "exclusive" and args.module and not any(
            c.split()[:2] == ["keepalive_responder_exclusive", "yes"]
            for c in args.conf)):
        print("note: --mode exclusive without --conf "
              "'keepalive_responder_exclusive yes'", file=sys.stderr)

    runner = Runner()
    bs = run_checked(args, runner, run_all)
    if bs is not None:
        bs.cleanup()
    return finish(runner)


if __name__ == "__main__":
    sys.exit(main())
