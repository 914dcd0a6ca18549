#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
"""
kar_config.py -- integration test of keepalive_responder's config
contract and log contract against the real baresip (Debian 12's
baresip-core 1.0.0).

For each case it starts baresip with the module and the case's config
lines in a fresh temporary folder (kar_harness.py: SIP on
127.0.0.1, ctrl_tcp, one local UA alice), sends real SIP over loopback
and reads baresip's log after stopping it.

Bad values (one baresip each): the log has one line naming the key and
the value, and the module is not loaded: OPTIONS sip:127.0.0.1:P gets
stock baresip's answer and /kar_stats is an unknown command.  The keys:
keepalive_responder_exclusive maybe, _events a,,b, _events naming talk
without remote control, _log bogus, _rate -1 / abc / 4294967296,
_trusted 300.1.1.1 / 10.0.0.0/33, _check_sync never, _remote_control
perhaps, _drop_ua with an empty item, and remote control without a
trusted list (that warning names both keys).

Good values: keepalive_responder_rate 0 (unlimited: a burst of 200
NOTIFY keep-alive probes all answered); keepalive_responder_drop_ua none (no scanner
filter, so User-Agent: friendly-scanner gets 200);
keepalive_responder_trusted 127.0.0.1,::1,10.0.0.0/8 (127.0.0.1 gets the
module's 200, 127.0.0.2 the stock answer); remote control on with talk
also named in keepalive_responder_events.

Log contract: with keepalive_responder_log unhandled, 200 NOTIFY
keep-alive probes sent at once give at most 12 module lines (a bucket of 10
lines, one more per second); one more request 1.5 s later is logged
after a "N log lines suppressed" line, and lines + N = requests; with
keepalive_responder_log none there are no per-request lines at all.

How CTest runs it (test/integration/CMakeLists.txt):

    kar_config.py --baresip /usr/bin/baresip \\
        --module build/keepalive_responder.so

Output: one line per check ("ok   name" or "FAIL name: why"), then, last
and alone on its line, "N passed, M failed".  Exit status 0 only when
nothing failed.  Python 3 standard library only; all traffic stays in
127.0.0.0/8, every wait and loop is bounded, and every baresip is
stopped by its PID.
"""

import json
import os
import re
import socket
import sys
import time

sys.dont_write_bytecode = True         # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kar_harness as kh                                # noqa: E402

ANSI = re.compile(r"\x1b\[[0-9;]*m")
# a per-request line of the module: "keepalive_responder: METHOD URI from"
REQ_LINE = re.compile(r"keepalive_responder: \S+ \S+ from (\S+?):(\d+)")
SUPPRESSED = re.compile(r"keepalive_responder: (\d+) log lines? suppressed")
START_LINE = re.compile(r"keepalive_responder: for baresip \d+\.\d+\.\d+ "
                        r"\(.*\); (shared|exclusive) mode")

K = "keepalive_responder_"

# (case name, config lines, words the warning line must contain)
BAD = [
    ("exclusive_maybe", [K + "exclusive maybe"],
     [K + "exclusive", "maybe"]),
    ("events_empty_item", [K + "events a,,b"], [K + "events", "a,,b"]),
    ("events_talk_without_remote_control",
     [K + "events keep-alive,talk"], [K + "events", "keep-alive,talk"]),
    ("log_bogus", [K + "log bogus"], [K + "log", "bogus"]),
    ("sdp_sometimes", [K + "sdp sometimes"], [K + "sdp", "sometimes"]),
    ("rate_negative", [K + "rate -1"], [K + "rate", "-1"]),
    ("rate_not_a_number", [K + "rate abc"], [K + "rate", "abc"]),
    ("rate_too_big", [K + "rate 4294967296"], [K + "rate", "4294967296"]),
    ("trusted_bad_address", [K + "trusted 300.1.1.1"],
     [K + "trusted", "300.1.1.1"]),
    ("trusted_bad_prefix", [K + "trusted 10.0.0.0/33"],
     [K + "trusted", "10.0.0.0/33"]),
    ("check_sync_never", [K + "check_sync never"],
     [K + "check_sync", "never"]),
    ("remote_control_perhaps", [K + "remote_control perhaps"],
     [K + "remote_control", "perhaps"]),
    ("drop_ua_empty_item", [K + "drop_ua friendly-scanner,,sipcli"],
     [K + "drop_ua", "friendly-scanner,,sipcli"]),
    ("watch_on", [K + "watch on"], [K + "watch", "on"]),
    ("watch_factor_too_small", [K + "watch_factor 1"],
     [K + "watch_factor", "1"]),
    ("watch_factor_too_big", [K + "watch_factor 21"],
     [K + "watch_factor", "21"]),
    ("watch_factor_not_a_number", [K + "watch_factor 3.5"],
     [K + "watch_factor", "3.5"]),
    # not a bad value but a refused combination: the warning names both
    ("remote_control_without_trusted", [K + "remote_control yes"],
     [K + "remote_control", K + "trusted"]),
    ("watch_reregister_without_trusted", [K + "watch reregister"],
     [K + "watch", "reregister", K + "trusted"]),
]


# ---------------------------------------------------------------------
# Helpers

class Case:
    """One baresip with the module and some config lines."""

    def __init__(self, args, conf):
        self.bs = kh.Baresip(args.baresip, args.module, conf, args.keep)
        self.ctrl = None
        self.log = None              # lines, ANSI stripped, after stop()

    def start(self):
        self.bs.start()
        self.mark = os.path.getsize(self.bs.logpath)
        self.ctrl = kh.Ctrl(self.bs.ctrl_port)

    def stop(self):
        """Stop baresip (by PID) and read its whole log."""
        if self.ctrl:
            self.ctrl.close()
            self.ctrl = None
        self.bs.stop()
        try:
            with open(self.bs.logpath, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except OSError:
            text = ""
        self.log = [ANSI.sub("", line) for line in text.splitlines()]
        return self.log

    def log_after_mark(self):
        """The log's lines written since start() returned."""
        with open(self.bs.logpath, "rb") as f:
            f.seek(self.mark)
            text = f.read().decode("utf-8", "replace")
        return [ANSI.sub("", line) for line in text.splitlines()]

    def cleanup(self):
        if self.ctrl:
            self.ctrl.close()
            self.ctrl = None
        self.bs.cleanup()


def burst(port, n, src="127.0.0.1", wait=2.0):
    """n out-of-dialog NOTIFY keep-alive probes from one socket, sent
    within about 50 ms (chunks of 20: all at once would overflow the
    sockets' receive buffers, and the kernel, not the module, would drop
    some); returns (number of final answers, the socket's port).  Every
    baresip generation's stack rejects them (481), so the module answers
    and "unhandled" logs them everywhere (baresip 1.1 answers user-less
    OPTIONS itself)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        s.bind((src, 0))
        lport = s.getsockname()[1]
        reqs = [kh.Request("NOTIFY", "sip:127.0.0.1:%d" % port, "udp",
                           lport, extra=[("Event", "keep-alive")])
                for _ in range(n)]
        for i, r in enumerate(reqs):
            s.sendto(r.data, (kh.HOST, port))
            if i % 20 == 19:
                time.sleep(0.005)
        ids = {r.call_id for r in reqs}
        got = set()
        deadline = time.monotonic() + wait
        for _ in range(10 * n):
            if len(got) == n:
                break
            raw = kh.udp_recv(s, deadline - time.monotonic())
            if raw is None:
                break
            try:
                resp = kh.Response(raw)
            except ValueError:
                continue
            if resp.status >= 200 and resp.hdr("call-id") in ids:
                got.add(resp.hdr("call-id"))
        return len(got), lport
    finally:
        s.close()


def module_loaded(case):
    ok, data = case.ctrl.command("kar_stats", "json")
    if not ok:
        raise kh.Fail("kar_stats failed (module not loaded?): %r" % data)
    try:
        return json.loads(data)
    except ValueError as e:
        raise kh.Fail("kar_stats json is not JSON (%s): %r" % (e, data))


def module_not_loaded(case):
    resp = kh.options_from(case.bs.sip_port, "127.0.0.1")
    kh.stock_expect("options_nouser")(resp, {})
    ok, data = case.ctrl.command("kar_stats", "json")
    if ok:
        raise kh.Fail("kar_stats answers: the module is loaded (%r)"
                      % data[:80])


def warning_names(log, words):
    lines = [line for line in log if "keepalive_responder" in line]
    for line in lines:
        if all(w in line for w in words):
            return
    raise kh.Fail("no log line names %s; the module's lines: %r"
                  % (" and ".join(repr(w) for w in words), lines[:6]))


def no_module_warning(log):
    bad = [line for line in log
           if re.search(r"keepalive_responder: .*(bad |needs |too long|"
                        r"unreadable|not laid out)", line)
           or line.startswith("module keepalive_responder")]
    if bad:
        raise kh.Fail("warnings: %r" % bad[:4])
    if not any(START_LINE.search(line) for line in log):
        raise kh.Fail("no start-up line of the module in the log")


# ---------------------------------------------------------------------
# Cases

def run_case(args, runner, name, conf, body):
    """Start baresip with conf, run body(case) (which runs checks),
    stop and clean up whatever happens."""
    case = Case(args, conf)
    failed = runner.failed
    try:
        if not runner.run("%s_start" % name, case.start):
            return
        runner.guard = case.bs.dead
        body(case)
    finally:
        runner.guard = None
        try:
            case.stop()
        finally:
            if runner.failed > failed:
                sys.stdout.flush()
                print("--- %s: config lines %r; tail of baresip.log ---\n%s"
                      "\n---" % (name, conf, case.bs.log_tail(25)),
                      file=sys.stderr, flush=True)
            case.cleanup()


def bad_case(args, runner, name, conf, words):
    def body(case):
        runner.run("%s_not_loaded" % name, module_not_loaded, case)
        log = case.stop()
        runner.guard = None
        runner.run("%s_warning_names_key_and_value" % name,
                   warning_names, log, words)
    run_case(args, runner, name, conf, body)


def good_rate_zero_log_unhandled(args, runner):
    name = "rate_0_log_unhandled"
    conf = [K + "rate 0", K + "log unhandled"]
    n = 200

    def body(case):
        port = case.bs.sip_port
        st = {}

        def loaded():
            module_loaded(case)
        runner.run("%s_loaded" % name, loaded)

        def unlimited():
            got, st["lport"] = burst(port, n)
            st["answered"] = got
            if got != n:
                raise kh.Fail("%d of %d probes answered at once; rate 0 "
                              "is unlimited" % (got, n))
        runner.run("rate_0_unlimited_%d_at_once" % n, unlimited)

        time.sleep(1.5)
        last = {}

        def one_more():
            got, last["lport"] = burst(port, 1)
            if got != 1:
                raise kh.Fail("no answer to the probe 1.5 s later")
        runner.run("log_unhandled_one_more_answered", one_more)

        case.stop()
        runner.guard = None

        def burst_lines():
            # at most the bucket (10) and what it earned meanwhile
            lines = [m for m in (REQ_LINE.search(line)
                                 for line in case.log_after_mark())
                     if m and int(m.group(2)) == st.get("lport")]
            if not 1 <= len(lines) <= 12:
                raise kh.Fail("%d module lines for %d requests at once, "
                              "expected 1..12" % (len(lines), n))
        runner.run("log_unhandled_burst_at_most_12_lines", burst_lines)

        def suppressed():
            after = case.log_after_mark()
            req = [(i, m) for i, m in enumerate(
                REQ_LINE.search(line) for line in after) if m]
            sup = [(i, int(m.group(1))) for i, m in enumerate(
                SUPPRESSED.search(line) for line in after) if m]
            ours = [i for i, m in req
                    if int(m.group(2)) == last.get("lport")]
            if not ours:
                raise kh.Fail("the request 1.5 s later was not logged; "
                              "module lines: %r" % [
                                  line for line in after
                                  if "keepalive_responder" in line][-4:])
            if not sup:
                raise kh.Fail("no \"log lines suppressed\" line")
            i_last = ours[-1]
            if not any(i == i_last - 1 for i, _ in sup):
                raise kh.Fail("the suppressed line does not come just "
                              "before the later request's line")
            # every request the module answered was logged or counted
            # as suppressed
            want = st.get("answered", n) + 1
            total = len(req) + sum(c for _, c in sup)
            if total != want:
                raise kh.Fail("%d lines + %d suppressed = %d, expected %d "
                              "(requests answered)" % (
                                  len(req), sum(c for _, c in sup),
                                  total, want))
        runner.run("log_unhandled_suppressed_count_later", suppressed)
    run_case(args, runner, name, conf, body)


def good_log_none(args, runner):
    name = "log_none"
    conf = [K + "log none", K + "rate 0"]

    def body(case):
        port = case.bs.sip_port

        def loaded():
            module_loaded(case)
        runner.run("%s_loaded" % name, loaded)

        def traffic():
            got, _ = burst(port, 30)
            if got != 30:
                raise kh.Fail("%d of 30 probes answered" % got)
            sip = kh.SipClient(port)
            kh.check_sip(sip, "foo", "udp", "shared")
            kh.check_sip(sip, "options_bob", "udp", "shared")
        runner.run("%s_requests_answered" % name, traffic)

        log = case.stop()
        runner.guard = None

        def silent():
            lines = [line for line in log
                     if REQ_LINE.search(line) or SUPPRESSED.search(line)]
            if lines:
                raise kh.Fail("%d per-request lines, e.g. %r"
                              % (len(lines), lines[:2]))
        runner.run("log_none_no_request_lines", silent)
        runner.run("%s_no_warning" % name, no_module_warning, log)
    run_case(args, runner, name, conf, body)


def good_drop_ua_empty(args, runner):
    name = "drop_ua_empty"
    conf = [K + "drop_ua none"]

    def body(case):
        def scanner_answered():
            resp = kh.options_from(case.bs.sip_port, "127.0.0.1",
                                extra=[("User-Agent", "friendly-scanner")])
            kh.module_200()(resp, {})
            st = module_loaded(case)
            d = kh.stats_value(st, "methods.OPTIONS.dropped-scanner")
            if d != 0:
                raise kh.Fail("dropped-scanner = %r, expected 0" % d)
        runner.run("drop_ua_empty_scanner_gets_200", scanner_answered)
        log = case.stop()
        runner.guard = None
        runner.run("%s_no_warning" % name, no_module_warning, log)
    run_case(args, runner, name, conf, body)


def good_trusted(args, runner):
    name = "trusted_v4_v6_cidr"
    conf = [K + "trusted 127.0.0.1,::1,10.0.0.0/8"]

    def body(case):
        port = case.bs.sip_port

        def trusted():
            kh.module_200()(kh.options_from(port, "127.0.0.1"), {})
        runner.run("%s_127.0.0.1_gets_200" % name, trusted)

        def untrusted():
            kh.stock_expect("options_nouser")(
                kh.options_from(port, "127.0.0.2"), {})
            st = module_loaded(case)
            u = kh.stats_value(st, "methods.OPTIONS.untrusted")
            if u != 1:
                raise kh.Fail("methods.OPTIONS.untrusted = %r, expected 1"
                              % u)
        runner.run("%s_127.0.0.2_passed_to_stock" % name, untrusted)

        def scanner_still_dropped():
            resp = kh.options_from(port, "127.0.0.1", timeout=kh.SILENCE_WAIT,
                                extra=[("User-Agent", "friendly-scanner")])
            kh.no_answer(resp, {})
        runner.run("%s_default_drop_ua_active" % name,
                   scanner_still_dropped)
        log = case.stop()
        runner.guard = None
        runner.run("%s_no_warning" % name, no_module_warning, log)

        def three():
            if not any("3 trusted" in line for line in log):
                raise kh.Fail("start-up line does not say 3 trusted: %r"
                              % [line for line in log
                                 if START_LINE.search(line)])
        runner.run("%s_three_entries" % name, three)
    run_case(args, runner, name, conf, body)


def good_remote_control_talk(args, runner):
    """Remote control on, with talk named in the events list as well:
    docs/events.md refuses talk/hold in the list only *without* remote
    control."""
    name = "events_talk_with_remote_control"
    conf = [K + "trusted 127.0.0.1", K + "remote_control yes",
            K + "events keep-alive,talk"]

    def body(case):
        def loaded():
            module_loaded(case)
        runner.run("%s_loaded" % name, loaded)
        log = case.stop()
        runner.guard = None
        runner.run("%s_no_warning" % name, no_module_warning, log)
    run_case(args, runner, name, conf, body)


def run_all(args, runner):
    for name, conf, words in BAD:
        bad_case(args, runner, name, conf, words)
    good_rate_zero_log_unhandled(args, runner)
    good_log_none(args, runner)
    good_drop_ua_empty(args, runner)
    good_trusted(args, runner)
    good_remote_control_talk(args, runner)


def main():
    return kh.script_main("Config and log contract of keepalive_responder on "
                          "the real baresip.", run_all)


if __name__ == "__main__":
    sys.exit(main())
