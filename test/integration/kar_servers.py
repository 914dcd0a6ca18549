#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
"""
kar_servers.py -- own servers: the endpoint's registrar is never turned
against it.

keepalive_responder learns its "own servers": the source address of
every final answer to a REGISTER the stack sent (the registrar or
outbound proxy of each account) and the keepalive_responder_trusted
list; /kar_servers [json] lists them.  The enumeration guard never
blocks an own server and never counts the unknown users it relays; a
scanner User-Agent in a request it relays drops that request alone.  A
relayed request (more than one Via) with a scanner User-Agent never
blocks its source; a direct one (one Via) blocks it for
keepalive_responder_enum_ban.  A To tag exempts only requests to a local
UA.

Each run here is Debian's Kamailio on 127.0.0.1 (kar_harness.py's
Kamailio: one UDP worker) as registrar and proxy, and baresip with one
account, alice, registered there (regint 600, answermode auto):

  * REGISTER is saved (usrloc in memory); a request for alice is looked
    up and relayed; a request for any other user takes the "trunk": it
    is relayed to alice's registered contact with its Request-URI user
    kept, so baresip sees unknown users relayed by Kamailio (Kamailio's
    Via on top of the sender's).  fr_timer 1.5 s (x KAR_TIME_SCALE): a
    relayed request that gets no answer ends in a 408 from Kamailio;
  * the dispatcher probes sip:127.0.0.1:PORT where baresip listens with
    OPTIONS every second (ds_probing_mode 1); Kamailio logs each answer
    to a probe with its wall time (onreply_route) and each time it
    takes baresip down (event_route[dispatcher:dst-down]: a probe lost
    or not answered 2xx); kamcmd dispatcher.list gives its state.

Runs and checks (each a named check):

  stock    stock baresip in the same scenario (the control): a call
           Kamailio relays to alice (sipp's uac scenario) is answered,
           Kamailio's probes are answered, the trunk's requests to
           unknown numbers get baresip's 404;
  relay    the module:
           (a) /kar_servers json lists 127.0.0.1, UDP, why "registrar",
               alice's AOR, kept (expires_s) at least as long as the
               binding, "trusted" [], and the text form names it;
           (b) svwar (sipvicious; friendly-scanner, a scanner name of
               the default keepalive_responder_drop_ua) with OPTIONS and
               with INVITE against Kamailio, a dictionary of 30 names
               with alice 20th: svwar lists nobody, baresip counted the
               relayed scanner requests as dropped-scanner, "blocked" is
               0, the dispatcher never took baresip down during the
               scans, a probe after them is answered 200 and baresip is
               active, and a call Kamailio relays to alice is answered;
  trunk    the module, a fresh run:
           (a) as above;
           (c) the trunk dialled at 2 x keepalive_responder_enum_limit
               unknown numbers (INVITE, from one caller, through
               Kamailio): every one gets baresip's 404 (stock's answer),
               "blocked" is 0, the probes and a relayed call as in (b);
           (d) a direct svwar OPTIONS scan from 127.0.0.3 lists nobody
               and blocks 127.0.0.3 (a plain OPTIONS from there goes
               unanswered, "blocked" 1, dropped-scanner grows); then
               OPTIONS with a To tag to 12 unknown users from 127.0.0.13:
               the first limit - 1 are answered, the rest are not, and
               that source is blocked too ("blocked" 2).

Every run ends with a clean-shutdown check while Kamailio still answers
baresip's un-REGISTER.  Against a module that blocks Kamailio (no own
servers), (b) and (c) fail: Kamailio's probes go unanswered and the
relayed call gets Kamailio's 408.

How CTest runs it (test/integration/CMakeLists.txt, integration_servers):

    kar_servers.py --baresip /usr/bin/baresip \\
        --module build/keepalive_responder.so

Needs kamailio, svwar (sipvicious) and sipp (sip-tester); scripts/deps
installs them.  All traffic stays on 127.0.0.0/8, ports are free ones,
every wait is bounded (KAR_TIME_SCALE stretches the bounds), every
program is stopped by PID (Kamailio's workers too), also on failure.
Output: one line per check, then "N passed, M failed".  Three short
runs, about 25 s.
"""

import json
import os
import re
import shutil
import socket
import sys
import tempfile
import time

sys.dont_write_bytecode = True         # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kar_harness as kh                                # noqa: E402
import kar_enum as ke                                   # noqa: E402
import kar_watch as kw                                  # noqa: E402
from kar_harness import Fail, HOST                      # noqa: E402

S = kh.TIME_SCALE
PING = 1                # ds_ping_interval, s (Kamailio's shortest)
# tm: a request baresip does not answer ends in a 408 after this
FR_TIMER_MS = int(1500 * S)
REGINT = 600
LIMIT = ke.ENUM_LIMIT
TRUNK_SRC = "127.0.0.14"        # the caller dialling numbers
TAGGED_SRC = "127.0.0.13"       # tagged requests straight to baresip

REG_WAIT = 5.0 * S              # alice in Kamailio's location table
SERVERS_WAIT = 5.0 * S          # ... and in /kar_servers json
PROBE_WAIT = (3 * PING + 1.0) * S   # a probe answered after a moment
TRUNK_WAIT = FR_TIMER_MS / 1000.0 + kh.ANSWER_TIMEOUT  # the 408 too
POLL = 0.1

KAM_MODULES = ("tm", "sl", "pv", "xlog", "textops", "usrloc", "registrar",
               "dispatcher")

# Registrar, proxy for alice, the trunk to alice's contact for every
# other user, and the dispatcher probing baresip (its list is written
# again once baresip's port is known: dispatcher.reload)
KAMAILIO = """\
modparam("tm", "fr_timer", %(fr)d)
modparam("tm", "fr_inv_timer", %(fr_inv)d)
modparam("usrloc", "db_mode", 0)
modparam("dispatcher", "list_file", "%(dir)s/dispatcher.list")
modparam("dispatcher", "ds_ping_method", "OPTIONS")
modparam("dispatcher", "ds_ping_from", "sip:dispatcher@%(host)s")
modparam("dispatcher", "ds_ping_interval", %(ping)d)
modparam("dispatcher", "ds_probing_mode", 1)
modparam("dispatcher", "ds_probing_threshold", 1)
modparam("dispatcher", "ds_inactive_threshold", 1)

request_route {
    if (is_method("REGISTER")) {
        if (!save("location"))
            sl_reply_error();
        exit;
    }
    if (is_method("CANCEL")) {
        if (t_check_trans())
            t_relay();
        exit;
    }
    # an ACK to a negative answer ends here (tm absorbs it)
    if (is_method("ACK") && t_check_trans()) {
        t_relay();
        exit;
    }
    $var(user) = $rU;
    if ($var(user) == $null || $var(user) == "") {
        sl_send_reply("404", "No User");
        exit;
    }
    if (!lookup("location", "sip:alice@%(host)s")) {
        sl_send_reply("480", "Not Registered");
        exit;
    }
    # the trunk: another user goes to alice's contact, its user kept
    if ($var(user) != "alice")
        $rU = $var(user);
    if (!t_relay())
        sl_reply_error();
    exit;
}

onreply_route {
    if ($fU == "dispatcher")
        xlog("L_ALERT", "KAR-PROBE $TV(Sn) $rs\\n");
}

event_route[dispatcher:dst-down] {
    xlog("L_ALERT", "KAR-DS-DOWN $TV(Sn) $ru\\n");
}
"""


def kamailio(args):
    def cfg(port, folder):
        # a placeholder (the discard port, nothing listens) until
        # baresip's port is known
        write_dispatcher_list(folder, 9)
        return KAMAILIO % {"host": HOST, "dir": folder, "ping": PING,
                           "fr": FR_TIMER_MS, "fr_inv": 2 * FR_TIMER_MS}
    return kh.Kamailio(args.kamailio, args.kamcmd, KAM_MODULES, cfg,
                       args.keep, origin="test/integration/kar_servers.py")


def write_dispatcher_list(folder, port):
    with open(os.path.join(folder, "dispatcher.list"), "w") as f:
        f.write("1 sip:%s:%d 0 0\n" % (HOST, port))


def probes(kam, since=0.0):
    """(wall time, status) of every answer to a dispatcher probe
    Kamailio logged, those after the wall time since."""
    out = []
    for m in re.finditer(r"KAR-PROBE (\d+\.\d+) (\d+)", kam.log_text()):
        t = float(m.group(1))
        if t > since:
            out.append((t, int(m.group(2))))
    return out


def wait_probe(kam, since, want=None, timeout=PROBE_WAIT):
    """The first probe answer after since (of status want): (t, status);
    Fail when none comes within timeout."""
    deadline = time.monotonic() + timeout
    while True:
        for t, st in probes(kam, since):
            if want is None or st == want:
                return t, st
        if time.monotonic() >= deadline:
            raise Fail("no answer%s to Kamailio's probes within %.1f s "
                       "(answers since: %r)"
                       % (" %d" % want if want else "", timeout,
                          [st for _, st in probes(kam, since)]))
        time.sleep(POLL)


def downs(kam, port, since):
    """Wall times after since at which the dispatcher took baresip
    (sip:HOST:port) down: a probe unanswered or answered other than
    2xx (event_route[dispatcher:dst-down])."""
    return [float(m.group(1)) for m in re.finditer(
        r"KAR-DS-DOWN (\d+\.\d+) sip:%s:%d\b" % (re.escape(HOST), port),
        kam.log_text()) if float(m.group(1)) > since]


def ds_flags(kam, port):
    out = kam.rpc("dispatcher.list") or ""
    m = re.search(r"URI:\s*sip:%s:%d\s+FLAGS:\s*(\S+)"
                  % (re.escape(HOST), port), out)
    return m.group(1) if m else None


# ---------------------------------------------------------------------
# The trunk: INVITEs to numbers through Kamailio

def ack_for(req, resp):
    """The ACK to a non-2xx final answer to INVITE req (RFC 3261
    17.1.1.3): its Via, From, Call-ID, the answer's To."""
    head = req.data.split(b"\r\n\r\n", 1)[0].decode()
    lines = head.split("\r\n")
    ruri = lines[0].split()[1]
    keep = [ln for ln in lines[1:]
            if ln.split(":", 1)[0].lower() in ("via", "from", "call-id",
                                               "max-forwards")]
    num = req.cseq.split()[0]
    text = ("ACK %s SIP/2.0\r\n" % ruri + "".join(ln + "\r\n"
                                                  for ln in keep)
            + "To: %s\r\nCSeq: %s ACK\r\nContent-Length: 0\r\n\r\n"
            % (resp.hdr("to"), num))
    return text.encode()


def dial(kport, src, numbers, khost=HOST):
    """An INVITE to each number from one socket on src through Kamailio
    at khost:kport; {number: final status} (numbers without a final
    answer within TRUNK_WAIT are missing).  Non-2xx answers are
    ACKed."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind((src, 0))
        lport = s.getsockname()[1]
        reqs = {}
        for n in numbers:
            r = kh.Request("INVITE", "sip:%s@%s:%d" % (n, khost, kport),
                           "udp", lport,
                           extra=[("Contact", "<sip:trunk@%s:%d>"
                                   % (src, lport))])
            reqs[r.call_id] = (n, r)
            s.sendto(r.data, (khost, kport))
        got = {}
        deadline = time.monotonic() + TRUNK_WAIT
        for _ in range(20 * len(numbers)):
            if len(got) == len(numbers):
                break
            raw = kh.udp_recv(s, deadline - time.monotonic())
            if raw is None:
                break
            try:
                resp = kh.Response(raw)
            except ValueError:
                continue
            n, r = reqs.get(resp.hdr("call-id"), (None, None))
            if r is None or not r.matches(resp) or resp.status < 200:
                continue
            if resp.status >= 300:
                s.sendto(ack_for(r, resp), (khost, kport))
            got.setdefault(n, resp.status)
        return got
    finally:
        s.close()


def numbers():
    return ["%d" % (2000 + i) for i in range(2 * LIMIT)]


# the answer of baresip (either generation, stock or the module) to an
# unknown user when its one account registers: 1.1's fallback account
# takes only accounts that do not register
UNKNOWN_USER = 404


def t_trunk(kam, with_stats=None):
    got = dial(kam.port, TRUNK_SRC, numbers())
    bad = {n: got.get(n) for n in numbers()
           if got.get(n) != UNKNOWN_USER}
    if bad:
        raise Fail("%d of %d numbers did not get baresip's %d "
                   "(None: no answer; 408: Kamailio gave up): %s"
                   % (len(bad), len(numbers()), UNKNOWN_USER,
                      ", ".join("%s %s" % kv for kv in sorted(bad.items()))))
    print("     %d numbers through Kamailio, each answered %d"
          % (len(got), UNKNOWN_USER), flush=True)


# ---------------------------------------------------------------------
# What the module shows

def servers_json(ctrl):
    data = kh.ctrl_ok(ctrl, "kar_servers", "json")
    try:
        sv = json.loads(data)
    except ValueError as e:
        raise Fail("/kar_servers json is not JSON (%s): %r" % (e, data))
    if not isinstance(sv, dict) or not isinstance(sv.get("servers"), list):
        raise Fail("/kar_servers json has no list \"servers\": %r" % data)
    return sv


def registrar_entry(sv, aor):
    for s in sv["servers"]:
        if (isinstance(s, dict) and s.get("source") == HOST
                and s.get("why") == "registrar"
                and (s.get("aor") or "").strip("<>").lower() == aor):
            return s
    return None


def t_servers(ctrl, kport):
    """(a): Kamailio's address with why registrar and alice's AOR."""
    aor = "sip:alice@%s:%d" % (HOST, kport)
    deadline = time.monotonic() + SERVERS_WAIT
    while True:
        sv = servers_json(ctrl)       # Fail at once without the command
        s = registrar_entry(sv, aor)
        if s is not None:
            break
        if time.monotonic() >= deadline:
            raise Fail("/kar_servers json does not list %s as registrar "
                       "of %s within %.0f s: %s"
                       % (HOST, aor, SERVERS_WAIT, json.dumps(sv)))
        time.sleep(POLL)
    bad = []
    if s.get("transport") != "UDP":
        bad.append("transport %r" % s.get("transport"))
    ago = s.get("answered_s")
    if not kh.is_int(ago) or ago < 0:
        bad.append("answered_s %r" % ago)
        ago = 0
    # kept at least as long as the binding the answer granted (regint;
    # Kamailio grants what baresip asks): the registrar stays known
    # until the next refresh
    if (not kh.is_int(s.get("expires_s"))
            or s["expires_s"] < REGINT - ago - 5):
        bad.append("expires_s %r, less than the binding's %d s"
                   % (s.get("expires_s"), REGINT))
    if sv.get("trusted") != []:
        bad.append("trusted %r, expected [] (unset)" % sv.get("trusted"))
    if bad:
        raise Fail("; ".join(bad) + " in " + json.dumps(sv))
    text = kh.ctrl_ok(ctrl, "kar_servers")
    if HOST not in text or "registrar" not in text:
        raise Fail("/kar_servers does not name %s registrar: %r"
                   % (HOST, text))
    print("     %s" % json.dumps(s), flush=True)


def t_not_blocked(ctrl):
    st = ke.stats(ctrl)
    if st.get("blocked") != 0:
        raise Fail("blocked = %r, expected 0 (Kamailio is an own server)"
                   % st.get("blocked"))
    return st


def t_probed_after(kam, bport, since):
    """A probe after since answered 200, none answered otherwise or
    lost since (the dispatcher never took baresip down), the dispatcher
    sees baresip active."""
    t, _ = wait_probe(kam, since, 200)
    other = [st for _, st in probes(kam, since) if st != 200]
    if other:
        raise Fail("probes answered %r since" % other)
    down = downs(kam, bport, since)
    if down:
        raise Fail("the dispatcher took baresip down %d time(s) (probes "
                   "lost), %.1f s after the start of the scan"
                   % (len(down), down[0] - since))
    f = ds_flags(kam, bport)
    if f is None or not f.startswith("A"):
        raise Fail("dispatcher flags %r, expected active" % f)
    return t


# ---------------------------------------------------------------------
# Runs

class Run(kh.Scenario):
    """Kamailio (registrar, proxy, trunk, dispatcher) and baresip with
    alice registered there."""

    TAIL = 60

    def __init__(self, runner, args, label, module):
        super().__init__(runner, label,
                         kh.Baresip(args.baresip, module, [], args.keep))
        self.args = args
        self.kam = None

    def start_all(self):
        """Kamailio, then baresip with its account at Kamailio (the
        account names Kamailio's port), then the dispatcher pointed at
        baresip.  False when any of it failed."""
        self.kam = kamailio(self.args)
        self.others.append(self.kam)
        if not self.check("kamailio_start", self.kam.start):
            return False
        self.bs.account = "<sip:alice@%s:%d>;regint=%d%s" % (
            HOST, self.kam.port, REGINT, ke.AUTO_ANSWER)
        if not self.start():
            return False
        return self.check("registered_and_probed", self.registered)

    def registered(self):
        kam = self.kam
        deadline = time.monotonic() + REG_WAIT
        while not kw.bound(kam):
            if time.monotonic() >= deadline:
                raise Fail("alice not in Kamailio's location table within "
                           "%.0f s: %r" % (REG_WAIT, kam.rpc("ul.dump")))
            time.sleep(POLL)
        write_dispatcher_list(kam.dir, self.bs.sip_port)
        since = time.time()
        if kam.rpc("dispatcher.reload") is None:
            raise Fail("kamcmd dispatcher.reload failed")
        t, st = wait_probe(kam, since)
        print("     registered; first probe answered %d" % st, flush=True)

    def finish(self):
        """Clean shutdown while Kamailio answers the un-REGISTER."""
        self.runner.guard = None
        if self.bs.proc is not None:
            self.check("clean_shutdown", kh.t_shutdown, self.bs)


def t_call(kam):
    """A call Kamailio relays to alice is answered (sipp uac: INVITE,
    200, ACK, BYE, 200, all through Kamailio)."""
    ke.sipp_call(kam.port, ke.CALLER_SRC)


def run_stock(args, runner):
    """The control: stock baresip in the same scenario."""
    run = Run(runner, args, "stock", None)
    try:
        if not run.start_all():
            return
        kam = run.kam

        def probe_answered():
            t, st = wait_probe(kam, time.time())
            print("     stock answers Kamailio's probe %d" % st, flush=True)
        run.check("probe_answered", probe_answered)
        run.check("relayed_call_answered", t_call, kam)
        run.check("trunk_unknown_numbers_404", t_trunk, kam)
        run.finish()
    finally:
        run.cleanup()


def run_relay(args, runner, dictionary):
    """(a) and (b): svwar through Kamailio."""
    run = Run(runner, args, "relay", args.module)
    try:
        if not run.start_all():
            return
        kam, ctrl, bs = run.kam, run.ctrl, run.bs
        run.check("servers_lists_registrar", t_servers, ctrl, kam.port)

        scan = {}

        def svwar(method):
            def check():
                st0 = ke.stats(ctrl)
                if "t0" not in scan:
                    scan["t0"] = time.time()
                sv = ke.Svwar(["-m", method, "-d", ke.DICT], kam.port,
                              ke.SCANNER_SRC, dictionary).run()
                scan["t1"] = time.time()
                if sv.found():
                    raise Fail("svwar listed %s through Kamailio:\n%s"
                               % (", ".join(sorted(sv.found())),
                                  kh.indent(sv.out[-600:])))
                st = ke.stats(ctrl)
                d0, d1 = ke.scanner_drops(st0)[0], ke.scanner_drops(st)[0]
                if d1 <= d0:
                    raise Fail("dropped-scanner %d -> %d: the relayed "
                               "scanner requests were not dropped"
                               % (d0, d1))
                t_not_blocked(ctrl)
                print("     svwar %s: nothing listed, %d relayed scanner "
                      "requests dropped, blocked 0" % (method, d1 - d0),
                      flush=True)
            return check
        run.check("svwar_options_via_kamailio", svwar("OPTIONS"))
        run.check("svwar_invite_via_kamailio", svwar("INVITE"))

        def probes_after_scan():
            t0 = scan.get("t0", time.time())
            t1 = scan.get("t1", time.time())
            t = t_probed_after(kam, bs.sip_port, t0)
            if t <= t1:
                t = t_probed_after(kam, bs.sip_port, t1)
            print("     %d probes answered 200 during and after the "
                  "scans, flags %s" % (len(probes(kam, t0)),
                                       ds_flags(kam, bs.sip_port)),
                  flush=True)
        run.check("probes_answered_after_scan", probes_after_scan)
        run.check("relayed_call_answered_after_scan", t_call, kam)
        run.check("kamailio_not_blocked", t_not_blocked, ctrl)
        run.finish()
    finally:
        run.cleanup()


def run_trunk(args, runner, dictionary):
    """(a), (c) and (d)."""
    run = Run(runner, args, "trunk", args.module)
    try:
        if not run.start_all():
            return
        kam, ctrl, bs = run.kam, run.ctrl, run.bs
        port = bs.sip_port
        run.check("servers_lists_registrar", t_servers, ctrl, kam.port)

        def trunk():
            t0 = time.time()
            t_trunk(kam)
            t_not_blocked(ctrl)
            t_probed_after(kam, port, t0)
        run.check("trunk_2x_limit_numbers_answered", trunk)
        run.check("relayed_call_answered_after_trunk", t_call, kam)

        def direct_svwar():
            d0 = ke.scanner_drops(ke.stats(ctrl))[0]
            sv = ke.Svwar(["-m", "OPTIONS", "-d", ke.DICT], port,
                          ke.SCANNER_SRC, dictionary, ke.SVWAR_WAIT).run()
            if sv.found():
                raise Fail("svwar listed %s:\n%s" % (
                    ", ".join(sorted(sv.found())),
                    kh.indent(sv.out[-600:])))
            ke.t_silenced(port, ke.SCANNER_SRC)
            st = ke.t_blocked(ctrl)
            if st.get("blocked") != 1:
                raise Fail("blocked = %r, expected 1 (the scanner alone)"
                           % st.get("blocked"))
            d1 = ke.scanner_drops(st)[0]
            if d1 <= d0:
                raise Fail("dropped-scanner %d -> %d" % (d0, d1))
        run.check("direct_svwar_blocked", direct_svwar)

        def tagged():
            users = ["tag%02d" % i for i in range(12)]
            answered = []
            for i, u in enumerate(users):
                wait = (kh.ANSWER_TIMEOUT if i < LIMIT - 1
                        else kh.SILENCE_WAIT)
                resp = ke.send_from(port, TAGGED_SRC, user=u,
                                    to_tag="t" + kh.rand_hex(8),
                                    timeout=wait)
                if resp is not None:
                    answered.append(u)
            if answered != users[:LIMIT - 1]:
                raise Fail("answered %s, expected the first %d"
                           % (answered, LIMIT - 1))
            ke.t_silenced(port, TAGGED_SRC)
            st = ke.stats(ctrl)
            if st.get("blocked") != 2:
                raise Fail("blocked = %r, expected 2 (the two scanners)"
                           % st.get("blocked"))
        run.check("tagged_unknown_users_blocked_at_limit", tagged)

        def still_served():
            t_probed_after(kam, port, time.time())
        run.check("probes_answered_after_scanners", still_served)
        run.finish()
    finally:
        run.cleanup()


def run_all(args, runner):
    for tool in (args.kamailio, args.kamcmd):
        if not os.access(tool, os.X_OK):
            raise Fail("not executable: %s (scripts/deps installs "
                       "kamailio)" % tool)
    for tool in ("svwar", "sipp"):
        if not shutil.which(tool):
            raise Fail("%s not found (scripts/deps installs it)" % tool)
    folder = tempfile.mkdtemp(prefix="kar_servers.")
    try:
        dictionary = ke.write_dictionary(folder)
        run_stock(args, runner)
        run_relay(args, runner, dictionary)
        run_trunk(args, runner, dictionary)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def more_args(ap):
    ap.add_argument("--kamailio", default=shutil.which("kamailio")
                    or "/usr/sbin/kamailio")
    ap.add_argument("--kamcmd", default=shutil.which("kamcmd")
                    or "/usr/sbin/kamcmd")


if __name__ == "__main__":
    sys.exit(kh.script_main(__doc__.split("\n")[1].strip(), run_all,
                            more_args))
