#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
"""
kar_enum.py -- the enumeration guard of keepalive_responder against a
real scanner (Debian's sipvicious, svwar) and the real baresip.

A source that sends requests to keepalive_responder_enum_limit distinct
Request-URI users that match no local UA within 60 s (default 8), or
one request with a scanner User-Agent, is blocked for
keepalive_responder_enum_ban seconds: that request and every later one
from it are dropped silently (while blocked, before libre decodes them)
and counted as dropped-scanner, but for what belongs to a local UA's
dialog;
/kar_stats json says how many sources are "blocked".

Every baresip here runs with one local UA alice that answers calls
itself (;answermode=auto), so that a scanner that gets through finds
her.  Checked, each a named check:

  * control: svwar run against stock baresip (no module) and against
    the module with keepalive_responder_enum_limit 0 lists alice: what
    svwar prints when it finds a user is known, so the checks below can
    fail (svwar's OPTIONS scan finds her only where stock baresip
    answers an unknown user with 404 -- not on 1.1, which answers any
    user);
  * svwar from 127.0.0.3, OPTIONS and INVITE, compact and long form,
    a dictionary of 30 names with alice after the limit, and a numeric
    range, each against a fresh baresip in shared and in exclusive mode
    (keepalive_responder_drop_ua none: the User-Agent filter would stop
    svwar by its name first): svwar lists no user; /kar_stats json
    "blocked" >= 1 and dropped-scanner >= 1, also under "other" (the
    datagrams dropped before decoding); the scanner source gets no
    answer to a plain OPTIONS any more, another source does;
  * the limit itself: 12 distinct unknown users from one source get
    exactly the first limit - 1 answers; requests to alice, requests
    without a user part, in-dialog requests to alice and a trusted
    source (keepalive_responder_trusted) are never blocked however many
    (tagged requests to unknown users do count: integration_servers);
  * a scanner User-Agent blocks its source: a plain OPTIONS after it
    goes unanswered;
  * while a scanner is blocked, a prober on 127.0.0.2 (OPTIONS once
    every 0.2 s) gets every answer and a call to alice from 127.0.0.4
    (sipp's uac scenario) completes;
  * a call the stack took before its source got blocked ends normally:
    sipp calls alice from 127.0.0.12, the same address then reaches the
    limit, and the call's BYE, sent after the block, is answered 200
    (the module swallows no request of a local UA's dialog);
  * unloading the module with a block in force (rmmod) gives the stock
    answers back, to the blocked source too (nothing of the module is
    left on the socket), and after loading it again (insmod) the module
    answers; clean shutdown.

How CTest runs it (test/integration/CMakeLists.txt, integration_enum):

    kar_enum.py --baresip /usr/bin/baresip \\
        --module build/keepalive_responder.so

Needs svwar (Debian package sipvicious) and sipp (sip-tester);
scripts/deps installs both.  All traffic stays on 127.0.0.0/8; every
svwar and sipp run is bounded in time (KAR_TIME_SCALE stretches the
bounds) and stopped by PID when it overruns.  Output: one line per
check, then "N passed, M failed".  Sixteen short baresip runs, about
a minute.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True         # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kar_harness as kh                                # noqa: E402

SCANNER_SRC = "127.0.0.3"
PROBER_SRC = "127.0.0.2"
CALLER_SRC = "127.0.0.4"
UA_SCANNER_SRC = "127.0.0.5"
TRUSTED_SRC = "127.0.0.6"
LIMIT_SRC = "127.0.0.7"
NOUSER_SRC = "127.0.0.8"
DIALOG_SRC = "127.0.0.9"
ALICE_SRC = "127.0.0.10"
OTHER_SRC = "127.0.0.11"
BLOCKED_CALL_SRC = "127.0.0.12"

ENUM_LIMIT = 8                  # the module's default
AUTO_ANSWER = ";answermode=auto"
NO_UA_FILTER = "keepalive_responder_drop_ua\tnone"
EXCLUSIVE = "keepalive_responder_exclusive\tyes"
# a scanner name of the default list svwar does not send, so that the
# User-Agent block can be shown in a run where svwar meets the
# enumeration guard only
UA_FILTER_SIPCLI = "keepalive_responder_drop_ua\tsipcli"

SVWAR_TIMEOUT = 60.0 * kh.TIME_SCALE
SVWAR_QUIET = "%d" % max(2, int(2 * kh.TIME_SCALE))  # --maximumtime
# svwar's socket timeout (3 s, no option): how long it waits for the
# answer to its first request, and for more answers once it has sent
# its last.  Straight to baresip on loopback an answer takes
# milliseconds; through a proxy it may take the proxy's transaction
# timeout (kar_servers.py's scans through Kamailio keep svwar's own).
SVWAR_WAIT = 1.0 * kh.TIME_SCALE
SIPP_TIMEOUT = 30.0 * kh.TIME_SCALE

# svwar: (name, arguments; DICT stands for the dictionary file)
DICT = "@dict"
SCANS = [
    ("options_dict", ["-m", "OPTIONS", "-d", DICT]),
    ("options_dict_compact", ["-c", "-m", "OPTIONS", "-d", DICT]),
    ("options_range_compact", ["-c", "-m", "OPTIONS", "-e", "100-299"]),
    ("invite_dict", ["-m", "INVITE", "-d", DICT]),
    ("invite_range_compact", ["-c", "-m", "INVITE", "-e", "100-299"]),
]
# A 200 to a compact INVITE gets lost in svwar 0.3.3 (it looks for a
# long "from" header to ACK it), so the controls run the scans that can
# find alice: the dictionary ones in long form
CONTROL_SCANS = ("options_dict", "invite_dict")


def write_dictionary(folder):
    """30 names, alice the 20th: after the limit (svwar's own first
    request, to a random user, counts too)."""
    names = ["%s%d" % (w, i) for i, w in enumerate(
        ("bob", "carol", "dave", "eve", "frank", "grace", "heidi",
         "ivan", "judy", "mallory", "niaj", "olivia", "peggy", "rupert",
         "sybil", "trent", "ursula", "victor", "walter", "xavier",
         "yvonne", "zoe", "admin", "test", "operator", "sales", "support",
         "info", "office"))]
    names.insert(19, "alice")
    path = os.path.join(folder, "users.txt")
    with open(path, "w") as f:
        f.write("\n".join(names) + "\n")
    return path


# svwar 0.3.3 parses -b (the address to bind) but never hands it to its
# scanner, which then sends from 127.0.0.1 whatever -b says.  This runs
# Debian's svwar with -b honoured: the binding address becomes the
# scanner's default before its main() runs; so does a socket timeout
# other than its own (SVWAR_WAIT), when given.
SVWAR_BIND = r"""
import sys
sys.path.insert(0, sys.argv.pop(1))
wait = sys.argv.pop(2)
from importlib.metadata import distribution
main = [e for e in distribution("sipvicious").entry_points
        if e.name == "sipvicious_svwar"][0].load()
scanner = sys.modules[main.__module__].TakeASip.__init__
names = scanner.__code__.co_varnames
if names[2] != "bindingip" or names[11] != "socktimeout":
    sys.exit("svwar: no bindingip, socktimeout arguments where expected")
defaults = list(scanner.__defaults__)
defaults[1] = sys.argv[1]
if wait:
    defaults[10] = float(wait)
scanner.__defaults__ = tuple(defaults)
sys.argv = ["svwar", "-b"] + sys.argv[1:]
sys.exit(main())
"""


def svwar_python():
    """The Python svwar runs with (its #! line) and the folder it runs
    from (Debian installs sipvicious there, off Python's path)."""
    path = shutil.which("svwar")
    if not path:
        raise kh.Fail("svwar not found (scripts/deps installs it)")
    with open(path, "rb") as f:
        line = f.readline().decode("utf-8", "replace")
    if not line.startswith("#!"):
        raise kh.Fail("%s has no #! line" % path)
    return line[2:].split()[0], os.path.dirname(os.path.realpath(path))


class Svwar:
    """One bounded svwar run and what it printed: from src to
    host:port (host default kh.HOST); wait: its socket timeout (default
    its own); wrap: a command it runs under (e.g. nsenter --net=... --,
    which execs it in the same process)."""

    def __init__(self, args, port, src, dictionary, wait=None, host=None,
                 wrap=()):
        python, folder = svwar_python()
        # a port of its own (svwar takes 5060 by default): answers a
        # baresip still resends to an earlier svwar never reach this one
        self.cmd = list(wrap) + [python, "-c", SVWAR_BIND, folder, src,
                                 "%g" % wait if wait else "", "-p",
                                 str(port), "-P", str(kh.pick_ports()[0]),
                                 "--maximumtime", SVWAR_QUIET]
        self.cmd += [dictionary if a == DICT else a for a in args]
        self.cmd.append(host or kh.HOST)
        self.out = ""
        self.rc = None

    def run(self):
        kh.log("running: " + " ".join(self.cmd))
        p = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT,
                             start_new_session=True)
        try:
            out, _ = p.communicate(timeout=SVWAR_TIMEOUT)
        except BaseException:
            # overrun, SIGTERM or ^C: svwar goes too, by its PID
            kh.stop_process(p, 3.0)
            p.communicate()
            raise kh.Fail("svwar did not finish within %.0f s: %s"
                          % (SVWAR_TIMEOUT, " ".join(self.cmd)))
        self.out = out.decode("utf-8", "replace")
        self.rc = p.returncode
        kh.log(kh.indent(self.out))
        if self.rc != 0 or "Traceback" in self.out:
            raise kh.Fail("svwar exited with %r:\n%s"
                          % (self.rc, kh.indent(self.out[-800:])))
        return self

    def found(self):
        """The users svwar reports: rows of its result table and its
        "extension 'X' exists" / "probably exists" lines."""
        users = set()
        for line in self.out.splitlines():
            m = re.match(r"\|\s*(\S+)\s*\|\s*(\S+)\s*\|\s*$", line)
            if m and m.group(1) != "Extension":
                users.add(m.group(1))
            m = re.search(r"extension '([^']*)' (exists|probably)", line)
            if m:
                users.add(m.group(1))
        return users


def stats(ctrl):
    data = kh.ctrl_ok(ctrl, "kar_stats", "json")
    try:
        return json.loads(data)
    except ValueError as e:
        raise kh.Fail("kar_stats json is not JSON (%s): %r" % (e, data))


def scanner_drops(st):
    """dropped-scanner summed over the methods, and under "other"."""
    meths = st.get("methods") or {}
    total = sum(v.get("dropped-scanner", 0) for v in meths.values()
                if isinstance(v, dict))
    return total, kh.stats_value(st, "methods.other.dropped-scanner")


def t_blocked(ctrl, at_least=1):
    """/kar_stats json: "blocked" >= at_least, dropped-scanner counted,
    also under "other" (dropped before decoding)."""
    st = stats(ctrl)
    blocked = st.get("blocked")
    if not kh.is_int(blocked):
        raise kh.Fail("kar_stats json has no integer \"blocked\": %r"
                      % sorted(st))
    if blocked < at_least:
        raise kh.Fail("blocked = %d, expected >= %d" % (blocked, at_least))
    total, other = scanner_drops(st)
    if total < 1:
        raise kh.Fail("no dropped-scanner counted: %r" % st.get("methods"))
    if not kh.is_int(other) or other < 1:
        raise kh.Fail("methods.other.dropped-scanner = %r, expected >= 1 "
                      "(datagrams of a blocked source)" % other)
    return st


def send_from(port, src, method="OPTIONS", user=None, extra=(),
              to_tag=None, timeout=kh.ANSWER_TIMEOUT):
    """One request from a socket bound to src; its final answer or
    None."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind((src, 0))
        ruri = ("sip:%s@%s:%d" % (user, kh.HOST, port) if user
                else "sip:%s:%d" % (kh.HOST, port))
        req = kh.Request(method, ruri, "udp", s.getsockname()[1],
                         extra=extra, to_tag=to_tag)
        s.sendto(req.data, (kh.HOST, port))
        deadline = time.monotonic() + timeout
        for _ in range(100):
            raw = kh.udp_recv(s, deadline - time.monotonic())
            if raw is None:
                return None
            try:
                resp = kh.Response(raw)
            except ValueError:
                continue
            if req.matches(resp) and resp.status >= 200:
                return resp
        return None
    finally:
        s.close()


def t_silenced(port, src):
    resp = send_from(port, src, timeout=kh.SILENCE_WAIT)
    if resp is not None:
        raise kh.Fail("%s, blocked, got %s to a plain OPTIONS"
                      % (src, resp.short()))


def t_answered(port, src, mode):
    resp = send_from(port, src)
    kh.expectation(mode, "options_nouser")(resp, {})


# svwar 0.3.3 never ACKs a 200 to a compact INVITE.  Where the fallback
# account answers every INVITE (1.1), baresip resends each 200 for
# 64 x T1 (32 s), then sends a BYE that goes unanswered as long, and its
# graceful shutdown waits for both, with the module or without (stock
# baresip 1.1 took 27 s to stop after the same scan).  Such a run's
# shutdown goes on while the runs after it do (run_all).
SIP_TIMERS_STOP = (2 * 32.0 + 10.0) * kh.TIME_SCALE


def lingers(name, sargs):
    """Does baresip's shutdown after this scan wait out SIP timers?"""
    return (name.startswith("invite") and "-c" in sargs
            and fallback_takes_all())


class Run(kh.Scenario):
    """One baresip run (mode stock, shared or exclusive; conf lines),
    alice answering calls herself.  Unlike kh.Scenario's, its checks
    keep the whole names they are given (no label. prefix) and its
    start is no check of its own: a baresip that does not start raises
    out of the script (a harness failure).  finish() is the clean
    shutdown check, label_clean_shutdown."""

    def __init__(self, runner, args, label, mode, conf):
        lines = list(conf)
        if mode == "exclusive":
            lines.append(EXCLUSIVE)
        bs = kh.Baresip(args.baresip,
                        args.module if mode != "stock" else None,
                        lines, args.keep)
        bs.account_params = AUTO_ANSWER
        super().__init__(runner, label, bs)

    def check(self, name, fn, *a):
        return self.runner.run(name, fn, *a)

    def start(self):
        """Start baresip, connect ctrl_tcp, guard the runner; raises
        when baresip does not start."""
        self.bs.start()
        self.ctrl = kh.Ctrl(self.bs.ctrl_port)
        self.runner.guard = self.bs.dead

    def finish(self, timeout=None):
        """The clean shutdown check (within timeout, default
        kh.STOP_TIMEOUT), ctrl_tcp closed first."""
        self.release()
        self.check(self.label + "_clean_shutdown", kh.t_shutdown, self.bs,
                   timeout)

    def finish_later(self):
        """SIGTERM now, ctrl_tcp closed first; finish_begun() is the
        clean shutdown check."""
        self.release()
        self.begun = kh.begin_shutdown(self.bs)
        self.own_failed = self.runner.failed - self.failed_before

    def finish_begun(self, timeout=None):
        """The clean shutdown check of finish_later()'s SIGTERM (within
        timeout of it, default kh.STOP_TIMEOUT)."""
        # cleanup() shows the logs for this run's failures, not for
        # those of the runs in between
        self.failed_before = self.runner.failed - self.own_failed
        self.check(self.label + "_clean_shutdown", kh.t_shutdown_end,
                   self.bs, self.begun, timeout)


def options_reveal():
    """Can svwar's OPTIONS scan find alice on stock baresip?  Only where
    an unknown user gets another answer than alice (1.1 answers 200 to
    any user: STOCK in kar_harness.py)."""
    return kh.baresip_version()[:2] != (1, 1)


def fallback_takes_all():
    """Does stock baresip give every user to a UA (1.1's fallback
    account)?  Then every INVITE rings, and svwar lists every name it
    tries, its own random one too: it cannot tell alice from a guess."""
    return not options_reveal()


def check_listed(sv):
    """What a guarded scan may list: nothing where unknown users get
    another answer than alice; where the fallback account answers every
    user, at most the limit - 1 names tried before the block, alice
    (20th in the dictionary) not among them."""
    found = sv.found()
    if not found:
        return
    if (fallback_takes_all() and "alice" not in found
            and len(found) <= ENUM_LIMIT - 1):
        return
    raise kh.Fail("svwar listed %s:\n%s" % (
        ", ".join(sorted(found)), kh.indent(sv.out[-600:])))


# ---------------------------------------------------------------------
# Runs

def run_controls(args, runner, dictionary):
    """svwar finds alice where nothing guards her."""
    for label, mode, conf in (
            ("stock", "stock", []),
            ("enum_limit_0", "shared", [NO_UA_FILTER,
                                       "keepalive_responder_enum_limit\t0"])):
        run = Run(runner, args, "control_" + label, mode, conf)
        try:
            run.start()
            port = run.bs.sip_port
            for name, sargs in SCANS:
                if name not in CONTROL_SCANS:
                    continue
                if name.startswith("options") and not options_reveal():
                    continue

                def control():
                    sv = Svwar(sargs, port, SCANNER_SRC, dictionary,
                               SVWAR_WAIT).run()
                    found = sv.found()
                    # with a fallback account: alice among every name
                    want = ("alice" in found and len(found) >= ENUM_LIMIT
                            if fallback_takes_all() else found == {"alice"})
                    if not want:
                        raise kh.Fail("svwar listed %r, expected alice:\n%s"
                                      % (sorted(found),
                                         kh.indent(sv.out[-600:])))
                run.check("control_%s_%s_finds_alice" % (label, name),
                          control)
            run.finish()
        finally:
            run.cleanup()


def run_scan(args, runner, dictionary, mode, name, sargs):
    """One scan against a fresh baresip.  A run whose shutdown lingers
    (lingers()) is returned still shutting down: the caller checks and
    cleans it up.  Else None."""
    tag = "svwar_%s_%s" % (mode, name)
    run = Run(runner, args, tag, mode, [NO_UA_FILTER])
    handed = None
    try:
        run.start()
        port = run.bs.sip_port

        def scan():
            check_listed(Svwar(sargs, port, SCANNER_SRC, dictionary,
                               SVWAR_WAIT).run())
        run.check(tag + "_lists_no_user", scan)
        run.check(tag + "_blocked", t_blocked, run.ctrl)
        run.check(tag + "_scanner_silenced", t_silenced, port, SCANNER_SRC)
        run.check(tag + "_others_answered", t_answered, port, OTHER_SRC,
                  mode)
        if lingers(name, sargs):
            run.finish_later()
            handed = run
        else:
            run.finish()
    finally:
        if handed is None:
            run.cleanup()
    return handed


def burst_users(port, src, users, extra=()):
    """OPTIONS to each user from one socket, in order; the users whose
    request got a final answer."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind((src, 0))
        reqs = {}
        for u in users:
            r = kh.Request("OPTIONS", "sip:%s@%s:%d" % (u, kh.HOST, port),
                           "udp", s.getsockname()[1], extra=extra)
            reqs[r.call_id] = (u, r)
            s.sendto(r.data, (kh.HOST, port))
        got = set()
        deadline = time.monotonic() + kh.ANSWER_TIMEOUT
        for _ in range(10 * len(users)):
            raw = kh.udp_recv(s, deadline - time.monotonic())
            if raw is None:
                break
            try:
                resp = kh.Response(raw)
            except ValueError:
                continue
            u, r = reqs.get(resp.hdr("call-id"), (None, None))
            if r and r.matches(resp) and resp.status >= 200:
                got.add(u)
        return got
    finally:
        s.close()


def run_limits(args, runner):
    """The limit, what never counts, the User-Agent block."""
    users = ["u%02d" % i for i in range(12)]
    run = Run(runner, args, "limits", "shared", [UA_FILTER_SIPCLI])
    try:
        run.start()
        ctrl, port = run.ctrl, run.bs.sip_port

        def limit():
            got = burst_users(port, LIMIT_SRC, users)
            want = set(users[:ENUM_LIMIT - 1])
            if got != want:
                raise kh.Fail("answered %s, expected the first %d (%s)"
                              % (sorted(got), ENUM_LIMIT - 1, sorted(want)))
            t_silenced(port, LIMIT_SRC)
        run.check("limit_answers_first_limit_minus_1", limit)

        def never(src, label, send):
            for i in range(3 * ENUM_LIMIT):
                if send(src, i) is None:
                    raise kh.Fail("%s: request %d unanswered"
                                  % (label, i + 1))
            t_answered(port, src, "shared")

        run.check("local_ua_user_never_blocked", never, ALICE_SRC,
                  "OPTIONS to alice",
                  lambda src, i: send_from(port, src, user="alice"))
        run.check("no_user_part_never_blocked", never, NOUSER_SRC,
                  "OPTIONS without user",
                  lambda src, i: send_from(port, src))
        # A To tag makes a dialog only with a local UA: tagged requests
        # to unknown users count (integration_servers)
        run.check("in_dialog_never_blocked", never, DIALOG_SRC,
                  "in-dialog NOTIFY to alice, distinct dialogs",
                  lambda src, i: send_from(
                      port, src, "NOTIFY", "alice",
                      extra=[("Event", "keep-alive")], to_tag="dlg%d" % i))
        run.check("stats_blocked_one", t_blocked, ctrl)

        def ua_block():
            resp = send_from(port, UA_SCANNER_SRC,
                             extra=[("User-Agent", "sipcli/1.0")],
                             timeout=kh.SILENCE_WAIT)
            if resp is not None:
                raise kh.Fail("scanner User-Agent answered: %s"
                              % resp.short())
            t_silenced(port, UA_SCANNER_SRC)
            st = stats(ctrl)
            if st.get("blocked") != 2:
                raise kh.Fail("blocked = %r, expected 2" % st.get("blocked"))
        run.check("scanner_user_agent_blocks_source", ua_block)
        run.finish()
    finally:
        run.cleanup()

    # a trusted source is never blocked: with trusted set to it alone
    run = Run(runner, args, "trusted", "shared",
              ["keepalive_responder_trusted\t%s,%s" % (kh.HOST, TRUSTED_SRC)])
    try:
        run.start()
        port = run.bs.sip_port

        def trusted_src():
            got = burst_users(port, TRUSTED_SRC, users)
            if got != set(users):
                raise kh.Fail("trusted source: %d of %d answered"
                              % (len(got), len(users)))
            t_answered(port, TRUSTED_SRC, "shared")
        run.check("trusted_source_never_blocked", trusted_src)
        run.finish()
    finally:
        run.cleanup()


class Prober(threading.Thread):
    """OPTIONS sip:host from PROBER_SRC every 0.2 s until stopped."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.stopped = threading.Event()
        self.sent = self.answered = 0
        self.bad = []

    def run(self):
        for _ in range(10000):
            if self.stopped.is_set():
                break
            self.sent += 1
            resp = send_from(self.port, PROBER_SRC)
            if resp is not None and resp.status == 200:
                self.answered += 1
            else:
                self.bad.append(resp.short() if resp else "no answer")
            self.stopped.wait(0.2)


def sipp_call(port, src=CALLER_SRC, pause_ms=0, during=None):
    """One call to alice from src with sipp's uac scenario: INVITE, 200,
    ACK, a pause of pause_ms, BYE, 200.  during() runs while the call
    lasts."""
    lport = kh.pick_ports()[0]
    cmd = ["sipp", "-sn", "uac", "-s", "alice", "-i", src,
           "-p", str(lport), "%s:%d" % (kh.HOST, port), "-m", "1",
           "-d", str(pause_ms),
           "-nostdin", "-timeout", "%ds" % int(SIPP_TIMEOUT),
           "-timeout_error"]
    folder = tempfile.mkdtemp(prefix="kar_enum.sipp.")
    try:
        p = subprocess.Popen(cmd, cwd=folder, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE,
                             start_new_session=True)
        try:
            if during:
                during()
            _, err = p.communicate(timeout=SIPP_TIMEOUT + 10)
        except BaseException:
            kh.stop_process(p, 3.0)
            p.communicate()
            raise kh.Fail("sipp did not finish within %.0f s"
                          % (SIPP_TIMEOUT + 10))
        if p.returncode != 0:
            raise kh.Fail("sipp uac call to alice: exit status %d: %s"
                          % (p.returncode,
                             err.decode("utf-8", "replace")[-400:]))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_blocked_call(args, runner):
    """A call taken before its source got blocked ends normally."""
    users = ["b%02d" % i for i in range(ENUM_LIMIT)]
    run = Run(runner, args, "blocked_call", "shared", [NO_UA_FILTER])
    try:
        run.start()
        bs, ctrl, port = run.bs, run.ctrl, run.bs.sip_port

        def block():
            # the call is up: alice answered and sipp's ACK came
            line, _ = kh.wait_log(bs.logpath, lambda t: re.search(
                r"Call established: sip:\S*@" +
                re.escape(BLOCKED_CALL_SRC), t), 0, SIPP_TIMEOUT)
            if line is None:
                raise kh.Fail("the call from %s was not established"
                              % BLOCKED_CALL_SRC)
            got = burst_users(port, BLOCKED_CALL_SRC, users)
            if len(got) != ENUM_LIMIT - 1:
                raise kh.Fail("%d of %d unknown users answered, expected %d"
                              % (len(got), len(users), ENUM_LIMIT - 1))
            t_silenced(port, BLOCKED_CALL_SRC)
            t_blocked(ctrl)

        def call():
            sipp_call(port, BLOCKED_CALL_SRC, int(8000 * kh.TIME_SCALE),
                      block)
        run.check("blocked_call_bye_answered", call)
        run.finish()
    finally:
        run.cleanup()


def module_commands():
    """(unload, load) commands and the module's name for them: baresip's
    rmmod/insmod, which 1.0, 1.1 and 4.x have (kar_probe.py uses them
    too; 1.1 has no module_unload)."""
    return "rmmod", "insmod", kh.MODNAME


def run_coexist(args, runner, dictionary):
    """A prober and a call while a scanner is blocked; unload and load
    the module with the block in force."""
    run = Run(runner, args, "coexist", "shared", [NO_UA_FILTER])
    prober = None
    try:
        run.start()
        ctrl, port = run.ctrl, run.bs.sip_port
        prober = Prober(port)
        prober.start()

        def scan():
            check_listed(Svwar(SCANS[0][1], port, SCANNER_SRC,
                               dictionary, SVWAR_WAIT).run())
        run.check("coexist_svwar_lists_no_user", scan)
        run.check("coexist_scanner_blocked", t_blocked, ctrl)
        run.check("coexist_call_to_alice", sipp_call, port)
        # the scanner keeps knocking while the prober probes
        run.check("coexist_scanner_still_silenced", t_silenced, port,
                  SCANNER_SRC)
        prober.stopped.set()
        prober.join(kh.ANSWER_TIMEOUT + 1)

        def prober_ok():
            if prober.sent < 5:
                raise kh.Fail("only %d probes sent" % prober.sent)
            if prober.bad:
                raise kh.Fail("%d of %d probes not answered 200: %s"
                              % (len(prober.bad), prober.sent,
                                 ", ".join(prober.bad[:5])))
        run.check("coexist_prober_every_answer", prober_ok)

        unload, load, name = module_commands()

        def unloaded():
            kh.ctrl_ok(ctrl, unload, name)
            ok, data = ctrl.command("kar_stats", "json")
            if ok:
                raise kh.Fail("kar_stats still answers after %s" % unload)
            # nothing of the module is left before libre: the blocked
            # source gets the stock answer
            resp = send_from(port, SCANNER_SRC)
            kh.expectation("stock", "options_nouser")(resp, {})
        run.check("coexist_unload_with_block_stock_answers", unloaded)

        def reloaded():
            kh.ctrl_ok(ctrl, load, name)
            t_answered(port, OTHER_SRC, "shared")
            t_answered(port, PROBER_SRC, "shared")
        run.check("coexist_load_again_module_answers", reloaded)
        run.finish()
    finally:
        if prober is not None:
            prober.stopped.set()
        run.cleanup()


def run_all(args, runner):
    for tool in ("svwar", "sipp"):
        if not shutil.which(tool):
            raise kh.Fail("%s not found (scripts/deps installs it)" % tool)
    folder = tempfile.mkdtemp(prefix="kar_enum.")
    stopping = []       # runs whose shutdown lingers, still under way
    try:
        dictionary = write_dictionary(folder)
        scans = [(mode, name, sargs) for mode in ("shared", "exclusive")
                 for name, sargs in SCANS]
        # the scans whose shutdown lingers first: it waits out its SIP
        # timers while the other runs go on (an idle baresip; its
        # strays go to its own svwar's port), checked at the end
        for mode, name, sargs in scans:
            if lingers(name, sargs):
                stopping.append(run_scan(args, runner, dictionary, mode,
                                         name, sargs))
        run_controls(args, runner, dictionary)
        for mode, name, sargs in scans:
            if not lingers(name, sargs):
                run_scan(args, runner, dictionary, mode, name, sargs)
        run_limits(args, runner)
        run_blocked_call(args, runner)
        run_coexist(args, runner, dictionary)
        for run in stopping:
            run.finish_begun(SIP_TIMERS_STOP)
    finally:
        for run in stopping:
            run.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(kh.script_main(
        "The enumeration guard of keepalive_responder against svwar and "
        "the real baresip.", run_all))
