#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
"""
kar_watch.py -- the probe watch against real probers: Kamailio probes
the real baresip with the module, stops, and comes back.

Every prober here is Debian's Kamailio on loopback, probing once a
second (its shortest timer), so that the module learns an interval of
about 1 s and a loss is due 3 s (keepalive_responder_watch_factor, 3 by
default) after the last probe:

  options     dispatcher (ds_ping_interval 1, ds_probing_mode 1) probes
              with OPTIONS.  The prober 127.0.0.1 OPTIONS becomes
              regular with an interval of about 1 s (/kar_watch json);
              Kamailio is killed by PID; probe-lost comes no earlier
              than 3 x interval and no later than 3 x interval + 1 s
              after the last probe Kamailio saw answered (its log), in
              baresip's log with the source and the interval, and from
              baresip 1.1 on as a MODULE event on ctrl_tcp; /kar_watch
              json says lost; Kamailio again: probe-back; /kar_stats
              json counts it (watch, actions); /kar_watch reset forgets
              every prober.
  notify      the same with NOTIFY Event: keep-alive, which Kamailio
              sends from an rtimer route with uac_req_send() (nathelper
              cannot: its SIP ping carries no Event header).
  off         keepalive_responder_watch off: Kamailio probes, no prober
              is listed, and when it stops no probe-lost comes.
  dialog      OPTIONS with a To tag (in a dialog) from 127.0.0.2, once
              a second, make no prober; an untagged one from there
              does.
  shutdown    baresip registered at Kamailio (registrar, usrloc) and
              probed by nathelper (natping_interval 1, OPTIONS);
              Kamailio is killed as baresip gets SIGTERM: baresip waits
              for the answer to its un-REGISTER for longer than the
              loss would take, and logs no probe-lost.

With --netns (CTest integration_watch_netns) it runs itself again in a
private network namespace (unshare -n; as another user than root,
unshare -r -n) and plays the loss as a lost NAT binding looks from the
endpoint: Kamailio as registrar with nathelper pinging the registered
contact with OPTIONS every second, baresip registered with regint 3600
(no refresh during the test), keepalive_responder_watch reregister and
keepalive_responder_trusted 127.0.0.1.  Once the prober is regular an
nftables rule drops Kamailio's OPTIONS to baresip (its answers to
REGISTER still pass); baresip's REGISTER must reach Kamailio (an xlog
line) between 2 x and 3 x interval + 3 s after the rule, exactly once.
The control run, keepalive_responder_watch off, sends no REGISTER in
the same window.  Without a namespace (no root, no user namespaces, no
ip or nft) the test FAILS rather than skips: CI runs as root, and a
skipped check would pass there unseen.

How CTest runs it (test/integration/CMakeLists.txt):

    kar_watch.py --baresip /usr/bin/baresip \\
        --module build/keepalive_responder.so [--netns]

Output: "ok   name" / "FAIL name: why" per check, then "N passed, M
failed"; exit status 0 only when nothing failed.  Loopback only, free
ports, every wait bounded (KAR_TIME_SCALE stretches the bounds), both
programs stopped by PID (Kamailio's workers too), also on failure.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import kar_harness as kh                                # noqa: E402
from kar_harness import Fail, HOST                      # noqa: E402

S = kh.TIME_SCALE
PING = 1                # every prober's timer, s (Kamailio's shortest)
FACTOR = 3              # keepalive_responder_watch_factor's default
REGULAR_WAIT = 10.0 * S     # 4 probes and the start-up, generously
LATE_SLACK = 1.0 * S        # a loss no later than factor x ivl + this
EARLY_SLACK = 0.25          # ... and no earlier than factor x ivl - this
REREG_SLACK = 3.0 * S       # the REGISTER after a loss, within this more
POLL = 0.2

# A reply Kamailio received (the answer to a probe), stamped with its
# clock: the test and Kamailio share the machine's wall clock
REPLY_LOG = ('onreply_route {\n'
             '    xlog("L_ALERT", "KAR-REPLY $TV(Sn) $rs $rm\\n");\n'
             '}\n')

DISPATCHER = """\
modparam("dispatcher", "list_file", "%(dir)s/dispatcher.list")
modparam("dispatcher", "ds_ping_method", "OPTIONS")
modparam("dispatcher", "ds_ping_from", "sip:dispatcher@%(host)s")
modparam("dispatcher", "ds_ping_interval", %(ping)d)
modparam("dispatcher", "ds_probing_mode", 1)

request_route {
    sl_send_reply("404", "Not Here");
}
"""

# NOTIFY Event: keep-alive on a 1 s timer, through tm (uac)
NOTIFIER = """\
modparam("rtimer", "timer", "name=ka;interval=%(ping)d;mode=1;")
modparam("rtimer", "exec", "timer=ka;route=KEEPALIVE")

route[KEEPALIVE] {
    $uac_req(all) = $null;
    $uac_req(method) = "NOTIFY";
    $uac_req(ruri) = "sip:%(host)s:%(dest)d";
    $uac_req(furi) = "sip:keepalive@%(host)s";
    $uac_req(turi) = "sip:%(host)s:%(dest)d";
    $uac_req(hdrs) = "Event: keep-alive\\r\\nSubscription-State: active\\r\\n";
    uac_req_send();
}

request_route {
    sl_send_reply("404", "Not Here");
}
"""

# A registrar whose nathelper pings every registered contact with
# OPTIONS once a second (bflag 6: behind NAT, 7: ping with SIP)
REGISTRAR = """\
modparam("usrloc", "db_mode", 0)
modparam("usrloc", "nat_bflag", 6)
modparam("registrar", "max_expires", 7200)
modparam("nathelper", "natping_interval", %(ping)d)
modparam("nathelper", "ping_nated_only", 1)
modparam("nathelper", "sipping_bflag", 7)
modparam("nathelper", "sipping_from", "sip:pinger@%(host)s")
modparam("nathelper", "sipping_method", "OPTIONS")

request_route {
    if (is_method("REGISTER")) {
        xlog("L_ALERT", "KAR-REGISTER $TV(Sn) $ci $cs [$hdr(Expires)] $ct\\n");
        setbflag(6);
        setbflag(7);
        if (!save("location"))
            sl_reply_error();
        exit;
    }
    sl_send_reply("404", "Not Here");
}
"""

KINDS = {
    "OPTIONS": (("tm", "sl", "pv", "xlog", "dispatcher"), DISPATCHER),
    "NOTIFY": (("tm", "sl", "rr", "pv", "xlog", "rtimer", "uac"),
               NOTIFIER),
    "REGISTRAR": (("tm", "sl", "pv", "xlog", "kex", "textops", "usrloc",
                   "registrar", "nathelper"), REGISTRAR),
}


def kamailio(args, what, dest_port):
    """A Kamailio (not started) that probes HOST:dest_port as KINDS[what]
    says."""
    modules, body = KINDS[what]

    def cfg(port, folder):
        if what == "OPTIONS":
            with open(os.path.join(folder, "dispatcher.list"), "w") as f:
                f.write("1 sip:%s:%d 0 0\n" % (HOST, dest_port))
        return body % {"host": HOST, "dir": folder, "ping": PING,
                       "dest": dest_port} + REPLY_LOG
    return kh.Kamailio(args.kamailio, args.kamcmd, modules, cfg, args.keep,
                       origin="test/integration/kar_watch.py")


# ---------------------------------------------------------------------
# What the module shows

def watch_json(ctrl):
    data = kh.ctrl_ok(ctrl, "kar_watch", "json")
    try:
        w = json.loads(data)
    except ValueError as e:
        raise Fail("/kar_watch json is not JSON (%s): %r" % (e, data))
    if not isinstance(w, dict) or not isinstance(w.get("probers"), list):
        raise Fail("/kar_watch json has no list \"probers\": %r" % data)
    return w


def prober(w, kind, source=HOST):
    for p in w["probers"]:
        if p.get("source") == source and p.get("kind") == kind:
            return p
    return None


def wait_state(ctrl, kind, state, timeout, source=HOST):
    """The prober once in state (polling /kar_watch json); else Fail."""
    seen = [None]

    def in_state():
        seen[0] = prober(watch_json(ctrl), kind, source)
        return seen[0] is not None and seen[0].get("state") == state
    if not kh.poll_until(in_state, timeout, POLL):
        raise Fail("prober %s %s not %s within %.0f s: %r"
                   % (source, kind, state, timeout, seen[0]))
    return seen[0]


def regular_interval(ctrl, kind):
    """Wait until the prober is regular; its interval in s (about
    PING)."""
    p = wait_state(ctrl, kind, "regular", REGULAR_WAIT)
    ivl = p.get("interval_ms")
    if not kh.is_int(ivl) or not 0.8 * PING * 1000 <= ivl <= 1.25 * PING \
            * 1000:
        raise Fail("regular with interval_ms %r, Kamailio probes every "
                   "%d s" % (ivl, PING))
    return ivl / 1000.0


def stats(ctrl):
    data = kh.ctrl_ok(ctrl, "kar_stats", "json")
    try:
        return json.loads(data)
    except ValueError as e:
        raise Fail("/kar_stats json is not JSON (%s): %r" % (e, data))


def check_stats(ctrl, want):
    st = stats(ctrl)
    bad = ["%s = %r (expected %r)" % (k, kh.stats_value(st, k), v)
           for k, v in want.items() if kh.stats_value(st, k) != v]
    if bad:
        raise Fail("; ".join(bad) + " in " + json.dumps(st))


def names_interval(text, ivl):
    """Does text state the interval ivl (s), in s or ms?"""
    for m in re.finditer(r"(\d+(?:\.\d+)?)\s*(ms|s)\b", text):
        v = float(m.group(1)) / (1000.0 if m.group(2) == "ms" else 1.0)
        if 0.7 * ivl <= v <= 1.4 * ivl:
            return True
    return False


def event_line(word, source=HOST):
    return lambda ln: word in ln and source in ln


def wait_news(bs, ctrl, word, mark, timeout):
    """probe-lost / probe-back: the wall time it was first seen (the
    MODULE event from baresip 1.1 on, else the log line) and the log
    line.  Fail if either does not come, or says too little."""
    t_ev = None
    if kh.baresip_version() >= (1, 1):
        want = "keepalive_responder,%s," % word
        ev = ctrl.wait_event(lambda e: e.get("type") == "MODULE" and
                             (e.get("param") or "").startswith(want),
                             timeout)
        if ev is None:
            raise Fail("no MODULE event %s... on ctrl_tcp within %.1f s"
                       % (want, timeout))
        t_ev = time.time()
        if HOST not in ev.get("param"):
            raise Fail("MODULE event %r does not name the source %s"
                       % (ev, HOST))
    line, t_log = kh.wait_log(bs.logpath, event_line(word), mark,
                              timeout if t_ev is None else 2.0 * S)
    if line is None:
        raise Fail("no log line with %s and %s within %.1f s"
                   % (word, HOST, timeout))
    return (t_ev or t_log), line


def last_reply(kam, mark, method):
    """Wall time of the last answer to method Kamailio logged after
    mark."""
    t = None
    for m in re.finditer(r"KAR-REPLY (\d+\.\d+) (\d+) (\S+)",
                         kam.log_text(mark)):
        if m.group(3) == method and m.group(2) == "200":
            t = float(m.group(1))
    if t is None:
        raise Fail("Kamailio logged no 200 to its %s probes" % method)
    return t


def news_in_log(bs, word, mark=0):
    try:
        with open(bs.logpath, "rb") as f:
            f.seek(mark)
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return []
    return [ln for ln in text.splitlines() if word in ln]


# ---------------------------------------------------------------------
# Scenarios

class Run(kh.Scenario):
    """One baresip with the module (conf lines), ctrl_tcp, cleanup."""

    def __init__(self, runner, args, label, conf, account=None):
        super().__init__(runner, label,
                         kh.Baresip(args.baresip, args.module, conf,
                                    args.keep))
        self.args = args
        self.bs.account = account

    def started(self):
        # the harness's readiness OPTIONS came from HOST too
        kh.ctrl_ok(self.ctrl, "kar_watch", "reset")
        kh.ctrl_ok(self.ctrl, "kar_stats", "reset")

    def kamailio(self, what, dest=None):
        kam = kamailio(self.args, what, dest or self.bs.sip_port)
        self.others.append(kam)
        return kam

    def start_registered(self):
        """A Kamailio registrar, then baresip with an account there: the
        Kamailio, or None.  Kamailio first: the account names its port,
        and nathelper pings whatever registered."""
        k = self.kamailio("REGISTRAR", 1)
        if not self.check("kamailio_start", k.start):
            return None
        self.bs.account = "<sip:alice@%s:%d>;regint=3600" % (HOST, k.port)
        if not self.start():
            return None
        return k


def run_lost_back(args, runner, kind):
    """Kamailio probes with kind; lost when it dies, back when it
    returns."""
    what = kind.lower()
    run = Run(runner, args, what, [])
    try:
        if not run.start():
            return
        bs, ctrl = run.bs, run.ctrl
        kam = run.kamailio(kind)
        if not run.check("kamailio_start", kam.start):
            return
        ivl = [None]
        t_kill = [None]
        kmark = kam.log_size()

        def regular():
            ivl[0] = regular_interval(ctrl, kind)
            print("     regular, interval %.3f s" % ivl[0], flush=True)
        if not run.check("regular", regular):
            return

        def lost():
            ctrl.drain()
            mark = os.path.getsize(bs.logpath)
            kam.stop(kill=True)
            t_kill[0] = time.time()
            t_last = last_reply(kam, kmark, kind)
            due = FACTOR * ivl[0]
            t_seen, line = wait_news(bs, ctrl, "probe-lost", mark,
                                     due + LATE_SLACK + 2.0 * S)
            took = t_seen - t_last
            print("     probe-lost %.2f s after the last probe (due "
                  "after %.2f s): %s" % (took, due, line.strip()),
                  flush=True)
            if took > due + LATE_SLACK:
                raise Fail("probe-lost %.2f s after the last probe, due "
                           "after %.2f s (+%.1f s)" % (took, due,
                                                       LATE_SLACK))
            if took < due - EARLY_SLACK:
                raise Fail("probe-lost already %.2f s after the last "
                           "probe, due after %.2f s" % (took, due))
            if not names_interval(line, ivl[0]):
                raise Fail("log line does not state the interval "
                           "%.2f s: %r" % (ivl[0], line))
            p = prober(watch_json(ctrl), kind)
            if p is None or p.get("state") != "lost" or \
                    p.get("losses") != 1:
                raise Fail("/kar_watch json shows %r, expected lost with "
                           "losses 1" % p)
        if not run.check("lost", lost):
            return

        def once():
            # reported once per silence: nothing more after another
            # factor x interval
            time.sleep(FACTOR * ivl[0] + 0.5)
            n = len(news_in_log(bs, "probe-lost"))
            if n != 1:
                raise Fail("%d probe-lost log lines, expected 1" % n)
        run.check("lost_once", once)

        def back():
            ctrl.drain()
            mark = os.path.getsize(bs.logpath)
            kam.start()
            _, line = wait_news(bs, ctrl, "probe-back", mark,
                                REGULAR_WAIT)
            print("     %s" % line.strip(), flush=True)
            p = prober(watch_json(ctrl), kind)
            if p is None or p.get("state") != "regular":
                raise Fail("/kar_watch json shows %r after probe-back, "
                           "expected regular" % p)
        if not run.check("back", back):
            return

        run.check("counters", check_stats, ctrl, {
            "watch.losses": 1, "watch.lost": 0,
            "actions.probe-lost": 1, "actions.probe-back": 1})

        def text_listing():
            out = kh.ctrl_ok(ctrl, "kar_watch")
            if not re.search(r"%s\s+%s\s+regular" % (re.escape(HOST),
                                                     kind), out):
                raise Fail("/kar_watch does not list %s %s regular: %r"
                           % (HOST, kind, out))
        run.check("listing", text_listing)

        def reset():
            kam.stop()
            kh.ctrl_ok(ctrl, "kar_watch", "reset")
            w = watch_json(ctrl)
            if w["probers"]:
                raise Fail("probers left after reset: %r" % w["probers"])
            summ = w.get("summary") or {}
            if any(summ.get(k) for k in ("learning", "regular", "lost",
                                         "losses")):
                raise Fail("summary after reset: %r" % summ)
            check_stats(ctrl, {"watch.losses": 0, "watch.regular": 0})
        run.check("reset_forgets", reset)
    finally:
        run.cleanup()


def run_off(args, runner):
    """keepalive_responder_watch off: nothing listed, nothing lost."""
    run = Run(runner, args, "off", ["keepalive_responder_watch\toff"])
    try:
        if not run.start():
            return
        bs, ctrl = run.bs, run.ctrl
        kam = run.kamailio("OPTIONS")
        if not run.check("kamailio_start", kam.start):
            return

        def unwatched():
            time.sleep(5 * PING + 0.5)
            answered = kh.stats_value(stats(ctrl),
                                      "methods.OPTIONS.answered")
            if not answered or answered < 3:
                raise Fail("module answered %r of Kamailio's probes"
                           % answered)
            ok, data = ctrl.command("kar_watch", "json")
            if ok:
                w = json.loads(data)
                if w.get("probers"):
                    raise Fail("watch off, yet probers listed: %r"
                               % w["probers"])
        run.check("nothing_listed", unwatched)

        def silent():
            ctrl.drain()
            kam.stop(kill=True)
            time.sleep(FACTOR * PING + 2.0 * S)
            lines = news_in_log(bs, "probe-lost")
            if lines:
                raise Fail("watch off, yet %r" % lines)
            if any("probe-" in (e.get("param") or "")
                   for e in ctrl.events):
                raise Fail("watch off, yet events %r" % ctrl.events)
            st = stats(ctrl)
            if kh.stats_value(st, "actions.probe-lost"):
                raise Fail("actions.probe-lost %r"
                           % kh.stats_value(st, "actions.probe-lost"))
        run.check("no_loss", silent)
    finally:
        run.cleanup()


def run_dialog(args, runner):
    """OPTIONS in a dialog (a To tag) are no server's probes: 127.0.0.2
    sends them once a second and is never listed; its untagged OPTIONS
    after are (so the check can fail)."""
    run = Run(runner, args, "dialog", [])
    src = "127.0.0.2"
    try:
        if not run.start():
            return
        c = kh.SipClient(run.bs.sip_port)

        def unlisted():
            for i in range(4):
                if i:
                    time.sleep(PING)
                if not c.request("udp", "OPTIONS", None, src=src,
                                 to_tag="dlg-%d" % i):
                    raise Fail("tagged OPTIONS %d unanswered" % i)
            p = prober(watch_json(run.ctrl), "OPTIONS", src)
            if p is not None:
                raise Fail("OPTIONS in a dialog made a prober: %r" % p)
        run.check("in_dialog_not_a_prober", unlisted)

        def listed():
            if not c.request("udp", "OPTIONS", None, src=src):
                raise Fail("OPTIONS unanswered")
            if prober(watch_json(run.ctrl), "OPTIONS", src) is None:
                raise Fail("an out-of-dialog OPTIONS from %s is not "
                           "listed either" % src)
        run.check("out_of_dialog_listed", listed)
    finally:
        run.cleanup()


def run_shutdown(args, runner):
    """A lingering shutdown (an un-REGISTER nobody answers) raises no
    probe-lost."""
    run = Run(runner, args, "shutdown", [])
    try:
        k = run.start_registered()
        if k is None:
            return
        bs, ctrl = run.bs, run.ctrl
        if not run.check("regular", regular_interval, ctrl, "OPTIONS"):
            return

        def no_loss():
            t0 = time.monotonic()
            k.stop(kill=True)
            bs.proc.terminate()
            window = FACTOR * PING + 1.0 + 1.0 * S
            try:
                bs.proc.wait(window)
                lingered = time.monotonic() - t0
            except subprocess.TimeoutExpired:
                lingered = None
            lines = news_in_log(bs, "probe-lost")
            if lines:
                raise Fail("probe-lost while shutting down: %r" % lines)
            if lingered is not None and lingered < FACTOR * PING + 0.5:
                raise Fail("baresip exited %.2f s after SIGTERM, before "
                           "a loss would be due: nothing was tested"
                           % lingered)
            print("     baresip still shutting down after %.1f s, no "
                  "probe-lost" % window, flush=True)
        run.check("no_loss_on_shutdown", no_loss)
    finally:
        run.cleanup()


# ---------------------------------------------------------------------
# The network namespace

def sh(*cmd):
    r = subprocess.run(cmd, capture_output=True, text=True,
                       timeout=10 * S)
    if r.returncode != 0:
        raise Fail("%s: status %d: %s" % (" ".join(cmd), r.returncode,
                                          (r.stderr or r.stdout).strip()))
    return r.stdout


def registers(kam, mark):
    """(wall time, Call-ID, CSeq, expires) of each REGISTER Kamailio
    logged after mark; expires from the Contact, else the header."""
    out = []
    for m in re.finditer(r"KAR-REGISTER (\d+\.\d+) (\S+) (\d+) "
                         r"\[([^]]*)\] (.*)", kam.log_text(mark)):
        exp = re.search(r";\s*expires=(\d+)", m.group(5), re.I)
        exp = exp.group(1) if exp else m.group(4).strip()
        out.append((float(m.group(1)), m.group(2), m.group(3),
                    int(exp) if exp.isdigit() else None))
    return out


def bound(kam):
    """Is alice's contact in Kamailio's location table?"""
    out = kam.rpc("ul.dump") or ""
    return bool(re.search(r"AoR: alice\b", out)) and bool(
        re.search(r"Address: sip:alice[^@\s]*@%s:" % re.escape(HOST), out))


def run_nat_loss(args, runner, watch):
    """The registrar's probes stop reaching baresip (an nftables rule):
    with watch reregister baresip REGISTERs again; with watch off it
    does not."""
    label = "nat_" + watch
    # only lo in the namespace: baresip must be told to take it
    run = Run(runner, args, label, [
        "net_interface\t\t%s" % HOST,
        "keepalive_responder_watch\t%s" % watch,
        "keepalive_responder_trusted\t%s" % HOST])
    try:
        k = run.start_registered()
        if k is None:
            return
        bs, ctrl = run.bs, run.ctrl

        def registered():
            deadline = time.monotonic() + 5.0 * S
            while not registers(k, 0):
                if time.monotonic() > deadline:
                    raise Fail("no REGISTER reached Kamailio")
                time.sleep(POLL)
        if not run.check("registered", registered):
            return
        if watch != "off":
            if not run.check("regular", regular_interval, ctrl,
                             "OPTIONS"):
                return
        else:
            # the same time as the watched run needs to learn
            time.sleep(4 * PING + 0.5)

        def drop_probes():
            # inet table, output hook: Kamailio's OPTIONS to baresip,
            # told by the first bytes of the UDP payload; baresip's
            # requests and Kamailio's answers pass
            sh("nft", "add", "table", "inet", "kar")
            sh("nft", "add", "chain", "inet", "kar", "out",
               "{ type filter hook output priority 0 ; }")
            sh("nft", "add", "rule", "inet", "kar", "out", "ip", "saddr",
               HOST, "udp", "sport", str(k.port), "udp", "dport",
               str(bs.sip_port), "@th,64,56", "0x4f5054494f4e53",
               "counter", "drop")
        if not run.check("drop_probes", drop_probes):
            return
        t_drop = time.time()
        mark = k.log_size()
        window = FACTOR * PING + REREG_SLACK

        def reregister():
            deadline = time.monotonic() + window + 1.0
            while time.monotonic() < deadline and not registers(k, mark):
                time.sleep(POLL)
            time.sleep(1.0)         # a second one would be a fault
            got = registers(k, mark)
            dropped = re.search(r"packets (\d+)",
                                sh("nft", "list", "chain", "inet", "kar",
                                   "out"))
            if not dropped or int(dropped.group(1)) == 0:
                raise Fail("the rule dropped no probe: %r" % dropped)
            if watch == "off":
                if got:
                    raise Fail("watch off, yet REGISTER(s) %r" % got)
                print("     no REGISTER within %.1f s (%s probes "
                      "dropped)" % (window + 1.0, dropped.group(1)),
                      flush=True)
                return
            if not got:
                raise Fail("no REGISTER within %.1f s of the drop"
                           % (window + 1.0))
            # baresip re-registers with a new Call-ID and unregisters
            # the old one (expires 0): one refresh is what counts
            fresh = [g for g in got if g[3] != 0]
            took = got[0][0] - t_drop
            print("     REGISTER %.2f s after the drop (%s probes "
                  "dropped): %r" % (took, dropped.group(1), got),
                  flush=True)
            if len(fresh) != 1:
                raise Fail("%d REGISTERs that register, expected 1: %r"
                           % (len(fresh), got))
            if not (FACTOR - 1) * PING - EARLY_SLACK <= took <= window:
                raise Fail("REGISTER %.2f s after the drop, expected "
                           "%d..%.1f s" % (took, FACTOR - 1, window))
            check_stats(ctrl, {"watch.losses": 1,
                               "actions.probe-lost": 1})
            time.sleep(1.0)
            if not bound(k):
                raise Fail("alice is no longer in Kamailio's location "
                           "table after the re-REGISTER: %r"
                           % k.rpc("ul.dump"))
        run.check("reregister" if watch != "off" else "no_register",
                  reregister)
    finally:
        run.cleanup()


def in_netns(args, runner):
    def lo_up():
        sh("ip", "link", "set", "lo", "up")
        sh("nft", "list", "ruleset")
    if not runner.run("netns_loopback", lo_up):
        return
    run_nat_loss(args, runner, "reregister")
    run_nat_loss(args, runner, "off")


def netns_outer(args, runner):
    """Run this script again in a new network namespace and relay its
    output.  A failure to get one is a failure, not a skip."""
    for tool in ("unshare", "ip", "nft"):
        if not shutil.which(tool):
            runner.fail("netns_tools", "no %s (scripts/deps installs "
                        "util-linux, iproute2, nftables)" % tool)
            return None
    kh.relay_run(kh.netns_argv(__file__, args), runner, "netns", 30 * S,
                 " (no network namespace?)")
    return None


def run_all(args, runner):
    for tool in (args.kamailio, args.kamcmd):
        if not os.access(tool, os.X_OK):
            runner.fail("tools", "not executable: %s (scripts/deps "
                        "installs kamailio)" % tool)
            return None
    if args.netns:
        return netns_outer(args, runner)
    if args.in_netns:
        return in_netns(args, runner)
    scenarios = {
        "options": lambda: run_lost_back(args, runner, "OPTIONS"),
        "notify": lambda: run_lost_back(args, runner, "NOTIFY"),
        "off": lambda: run_off(args, runner),
        "dialog": lambda: run_dialog(args, runner),
        "shutdown": lambda: run_shutdown(args, runner),
    }
    for name in (args.only.split(",") if args.only else scenarios):
        scenarios[name]()
    return None


def more_args(ap):
    ap.add_argument("--kamailio", default=shutil.which("kamailio")
                    or "/usr/sbin/kamailio")
    ap.add_argument("--kamcmd", default=shutil.which("kamcmd")
                    or "/usr/sbin/kamcmd")
    ap.add_argument("--netns", action="store_true",
                    help="the NAT-loss scenario in a network namespace")
    ap.add_argument("--only", metavar="LIST",
                    help="options,notify,off,shutdown (default: all)")
    ap.add_argument("--in-netns", action="store_true",
                    help=argparse_hidden())


def argparse_hidden():
    import argparse
    return argparse.SUPPRESS


def main():
    return kh.script_main(__doc__.split("\n")[1], run_all, more_args)


if __name__ == "__main__":
    sys.exit(main())
