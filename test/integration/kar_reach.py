#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
"""
kar_reach.py -- reachability: the share of incoming calls that reach
the endpoint while the network and the server misbehave, with the
module and with stock baresip, side by side.

The set-up, all of it made by the test and gone when it ends:

  * three network namespaces joined by veth pairs, nothing on the
    host's interfaces: "ep" (this script's inner run, both endpoints,
    192.0.2.10), "nat" (the router: 192.0.2.1 on the private side,
    198.51.100.2 on the public side, nftables masquerade fully-random,
    so that a flushed binding gets a new public port) and "srv"
    (Kamailio on 198.51.100.1, the caller on .3, scanners on .4);
  * Debian's Kamailio as registrar and proxy: usrloc in memory
    (db_mode 0), nat_uac_test + fix_nated_register (the contact is
    the NAT's public address and port), nathelper pinging every
    registered contact with OPTIONS every 2 s, lookup("location") and
    t_relay() for calls (record-routed, fix_nated_contact on the
    answers), and a trunk: numbers 1NNN go to alice's contact, 2NNN to
    bob's, with the number kept as the Request-URI user;
  * two baresips behind the one NAT, each one account registered with
    regint 3600 and ;answermode=auto: alice WITH the module
    (keepalive_responder_watch reregister, keepalive_responder_trusted
    198.51.100.1), bob STOCK; every fault hits both alike;
  * the caller: a small UAC of this script (--caller, in "srv") calls
    alice and bob through Kamailio once a second each (half a second
    apart): INVITE with an SDP offer; a 200 is ACKed and the call ended
    with a BYE at once, both through Kamailio.  A call is "delivered"
    when the endpoint's 200 comes within CALL_BOUND (5 s) of the
    INVITE, else "lost" (another final answer: 480 not registered,
    408 when Kamailio's transaction timed out; or none); one JSON line
    per call with its wall time, its final answer and its BYE's.  Not
    sipp: sipp counts failed calls, but a call's own outcome with
    whatever final answer (or none), bounded, with its time, needs an
    optional <recv> per status and its error trace; this UAC is made
    of the harness's SIP messages.

The faults, one after the other, each followed by a quiet period:

  1 rebind    conntrack -F in "nat": the endpoints' next packets leave
              from new public ports; Kamailio's contacts are stale.
  2 restart   Kamailio stopped and started again: its location table
              is empty.
  3 pathloss  nftables in "nat" drops every packet from Kamailio to
              the endpoints for PATH s, then lets them pass again.
  4 scan      svwar straight at each endpoint from the NAT's private
              side: OPTIONS and INVITE, long and compact form, a
              dictionary of 31 names with alice and bob after the
              module's enumeration limit, each scan from its own
              address.
  5 relayed   svwar -m INVITE against Kamailio with that dictionary
              (relayed to alice and bob with its User-Agent), svwar
              -m INVITE over the trunk's numbers of each account, and
              2 x keepalive_responder_enum_limit calls to unknown
              numbers of each account from a plain UAC.
  6 drain     /kar_drain on over ctrl_tcp for DRAIN s, then off (the
              module only; bob's calls go on as before).

An endpoint whose last three calls at the end of a quiet period were
all lost is restarted (it registers again) before the next fault, so
that every fault starts with both reachable; its calls during the
restart are left out.  Stock bob needs it after faults 1 and 2.

Per fault and endpoint: calls delivered / placed in the fault's window
(from CALL_BOUND before the fault to CALL_BOUND before the next one),
the longest run of lost calls, and the recovery: from the end of the
fault (the flush, Kamailio answering again, the path back, the last
scan, drain off) to the first delivered call placed after the last
lost one ("no loss", "never" when none was delivered after it).
"Lost" during drain means what it means elsewhere: an INVITE that got
no 200 from the endpoint; drain answers Kamailio's OPTIONS 503 (counted
on the wire in "nat" and by the module) and must leave calls alone.

What the run checks (each a named check; the run FAILS otherwise):

  module  no call lost outside the fault windows (the baseline and
          every quiet period after a fault's end + GOAL); after faults
          1 to 3 the first delivered call within GOAL (factor 3 x the
          2 s probe interval + a REGISTER round trip and the next
          call: 8 s) x KAR_TIME_SCALE + 1 s of the fault's end; scans
          (4, 5) and drain (6) cost no call; drain answered probes 503
          on the wire and the module counted them drained.
  both    no call lost in the baseline (the set-up works).
  stock   as measured on Debian 12 (so that the checks can fail):
          after faults 1 and 2 not one call delivered for the rest of
          the window (until its next REGISTER: 3600 s); path loss
          costs it calls and it is back within the same bound as the
          module once the path is; scans and drain cost it no call.

Forms: the short one (default, CTest reachability_short: a baseline
of 15 s, each fault once, path loss 12 s, drain 10 s, quiet periods of
15 s; about 3.5 minutes) and the long one (--long: a baseline of
120 s, every fault three times, path loss 30 s, drain 20 s, quiet
periods of 90 s; about 35 minutes).  --report DIR writes the report
there: reachability.md (the tables, the command, the versions and the
machine), reachability.png (gnuplot: one mark per call per endpoint,
delivered or lost, fault windows shaded), calls.json and faults.json.

How CTest runs it (test/integration/CMakeLists.txt,
reachability_short, label reachability):

    kar_reach.py --baresip /usr/bin/baresip \\
        --module build/keepalive_responder.so

and the long form by hand:

    test/integration/kar_reach.py --baresip /usr/bin/baresip \\
        --module build/keepalive_responder.so --long --report DIR

Needs root (network namespaces, nftables, conntrack), kamailio, svwar
(sipvicious), conntrack, nft, nsenter and, for the plot, gnuplot
(scripts/deps installs them); without them it FAILS rather than skips.
The script runs itself again in a new network namespace ("ep",
unshare -n) whose output it relays; "nat" and "srv" are held by two
processes of that run (unshare -n sleep, killed with it), so they
vanish with it.  Every wait and loop is bounded (KAR_TIME_SCALE
stretches the bounds), every program is stopped by PID, also on
failure, SIGTERM or Ctrl-C.  Output: the table, one line per check,
then "N passed, M failed".
"""

import argparse
import ctypes
import json
import os
import re
import select
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True         # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kar_harness as kh                                # noqa: E402
import kar_enum as ke                                   # noqa: E402
import kar_servers as ks                                # noqa: E402
import kar_watch as kw                                  # noqa: E402
from kar_harness import Fail                            # noqa: E402

S = kh.TIME_SCALE

# Addresses: RFC 5737 documentation ranges only
EP_ADDR = "192.0.2.10"          # both endpoints
NAT_IN = "192.0.2.1"            # the NAT, private side (the gateway)
SCAN_FIRST = 21                 # direct scanners: 192.0.2.21 and up
NAT_OUT = "198.51.100.2"        # the NAT, public side
KAM_ADDR = "198.51.100.1"       # Kamailio
CALLER_ADDR = "198.51.100.3"    # the caller
SCANNER_ADDR = "198.51.100.4"   # relayed scans and the trunk's dialler
KAM_PORT = 5060
CALLER_PORT = 5070
MEDIA_PORT = 40000              # the caller's SDP: RTP lands here

MODULE, STOCK = "module", "stock"
USER = {MODULE: "alice", STOCK: "bob"}
TRUNK = {MODULE: "1", STOCK: "2"}   # the trunk's number prefixes

PING = 2                # nathelper natping_interval, s
FACTOR = 3              # keepalive_responder_watch_factor's default
REGINT = 3600
# the goal: a lost prober is noticed factor x interval after its last
# probe, the REGISTER takes a round trip, and the next call comes
# within a call interval
GOAL = FACTOR * PING + 2.0
GOAL_CHECK = GOAL * S + 1.0
CALL_EVERY = 1.0        # per account
CALL_BOUND = 5.0 * S    # a call's 200 must come within this
BYE_BOUND = 4.0 * S     # the BYE's answer, else recorded as None
T1 = 0.5                # SIP timer T1: first retransmission
FR_TIMER_MS = int(2000 * S)      # Kamailio: no answer at all -> 408
FR_INV_TIMER_MS = int(4000 * S)  # ... no final answer after a 1xx
STALE_LAST = 3          # an endpoint whose last 3 calls were lost
POLL = 0.2
LIMIT = ke.ENUM_LIMIT

SHORT = dict(name="short", rounds=1, baseline=15, quiet=15, path=12,
             drain=10)
LONG = dict(name="long", rounds=3, baseline=120, quiet=90, path=30,
            drain=20)

KINDS = ("rebind", "restart", "pathloss", "scan", "relayed", "drain")
LABEL = {           # on the plot
    "rebind": "1 rebind", "restart": "2 restart", "pathloss": "3 path",
    "scan": "4 scan", "relayed": "5 relayed", "drain": "6 drain",
}
TITLE = {
    "rebind": "1 NAT rebinding",
    "restart": "2 registrar restart",
    "pathloss": "3 path loss",
    "scan": "4 scanner at the endpoint",
    "relayed": "5 scanner through the server",
    "drain": "6 drain (module only)",
}

# direct scans: (name, svwar arguments; ke.DICT is the dictionary)
DIRECT_SCANS = [
    ("options", ["-m", "OPTIONS", "-d", ke.DICT]),
    ("options_compact", ["-c", "-m", "OPTIONS", "-d", ke.DICT]),
    ("invite", ["-m", "INVITE", "-d", ke.DICT]),
    ("invite_compact", ["-c", "-m", "INVITE", "-d", ke.DICT]),
]

KAM_MODULES = ("tm", "sl", "rr", "pv", "xlog", "kex", "textops",
               "siputils", "usrloc", "registrar", "nathelper")

# Registrar (NAT-aware, pinging), proxy and trunk.  bflag 6: the
# contact is behind a NAT, 7: nathelper pings it with SIP.  Each
# REGISTER is logged with its wall time.
KAMAILIO = """\
modparam("tm", "fr_timer", %(fr)d)
modparam("tm", "fr_inv_timer", %(fr_inv)d)
modparam("usrloc", "db_mode", 0)
modparam("usrloc", "nat_bflag", 6)
modparam("registrar", "max_expires", 7200)
modparam("registrar", "received_avp", "$avp(RECEIVED)")
modparam("nathelper", "received_avp", "$avp(RECEIVED)")
modparam("nathelper", "natping_interval", %(ping)d)
modparam("nathelper", "ping_nated_only", 1)
modparam("nathelper", "sipping_bflag", 7)
modparam("nathelper", "sipping_from", "sip:pinger@%(host)s")
modparam("nathelper", "sipping_method", "OPTIONS")

request_route {
    if (is_method("REGISTER")) {
        if (nat_uac_test("18")) {
            fix_nated_register();
            setbflag(6);
            setbflag(7);
        }
        xlog("L_ALERT", "KAR-REG $TV(Sn) $fU $si:$sp [$hdr(Expires)] $ct\\n");
        if (!save("location"))
            sl_reply_error();
        exit;
    }
    if (has_totag()) {
        # ACK and BYE of a call: Kamailio record-routed it
        if (loose_route()) {
            t_relay();
            exit;
        }
        if (is_method("ACK") && t_check_trans())
            t_relay();
        else if (!is_method("ACK"))
            sl_send_reply("404", "No Dialog");
        exit;
    }
    if (is_method("CANCEL") || is_method("ACK")) {
        if (t_check_trans())
            t_relay();
        exit;
    }
    if (!is_method("INVITE")) {
        sl_send_reply("405", "Calls Only");
        exit;
    }
    $var(user) = $rU;
    if ($var(user) == "alice" || $var(user) == "bob") {
        if (!lookup("location")) {
            sl_send_reply("480", "Not Registered");
            exit;
        }
    } else if ($var(user) =~ "^[12][0-9]+$") {
        # the trunk: the number to the account's contact, kept
        if ($var(user) =~ "^1")
            $var(aor) = "sip:alice@%(host)s";
        else
            $var(aor) = "sip:bob@%(host)s";
        if (!lookup("location", "$var(aor)")) {
            sl_send_reply("480", "Not Registered");
            exit;
        }
        $rU = $var(user);
    } else {
        sl_send_reply("404", "Not Found");
        exit;
    }
    record_route();
    t_on_reply("NAT");
    if (!t_relay())
        sl_reply_error();
    exit;
}

onreply_route[NAT] {
    if (isbflagset(6))
        fix_nated_contact();
}
"""

# nftables in "nat": masquerade with a random port per new binding;
# "loss" is where the path-loss rule goes (flushed to end it); the
# drain's 503s on the wire, from the module endpoint's port, counted
NFT = """\
table ip kar_nat {
    chain post {
        type nat hook postrouting priority 100; policy accept;
        oifname "nat1" masquerade fully-random
    }
}
table inet kar_filter {
    counter drain503 { }
    chain loss {
    }
    chain forward {
        type filter hook forward priority 0; policy accept;
        jump loss
    }
}
"""
# "SIP/2.0 503" at the start of the UDP payload
SIP_503 = "0x5349502f322e3020353033"


# ---------------------------------------------------------------------
# Helpers

sh = kw.sh          # run a command (bounded): its stdout, or Fail


def die_with_parent():
    """preexec_fn: SIGKILL when the process that started it dies
    (prctl PR_SET_PDEATHSIG), so that a namespace holder never
    outlives a run killed with SIGKILL."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)


def ns_inode(pid):
    try:
        return os.readlink("/proc/%d/ns/net" % pid)
    except OSError:
        return None


class Net:
    """The namespaces "nat" and "srv", each held by a process of its
    own (unshare -n sleep), and this process's own, "ep"; the veth
    pairs between them, addresses, routes and nftables."""

    def __init__(self, life):
        self.life = int(life)
        self.holders = {}

    def cmd(self, name):
        """The command prefix that runs a program in namespace name
        (nsenter execs it: its PID is the program's)."""
        if name == "ep":
            return []
        return ["nsenter", "--net=/proc/%d/ns/net"
                % self.holders[name].pid, "--"]

    def run(self, name, *cmd):
        return sh(*(self.cmd(name) + list(cmd)))

    def up(self):
        mine = ns_inode(os.getpid())
        links = sh("ip", "-o", "link", "show").splitlines()
        if len(links) != 1 or ": lo:" not in links[0]:
            # never touch the host's interfaces: "ep" must be a fresh
            # namespace of our own (run_outer's unshare -n), lo alone
            raise Fail("not in a fresh network namespace (links: %s)"
                       % ", ".join(ln.split(":")[1].strip()
                                   for ln in links))
        for name in ("nat", "srv"):
            self.holders[name] = subprocess.Popen(
                ["unshare", "-n", "sleep", str(self.life)],
                stdin=subprocess.DEVNULL, preexec_fn=die_with_parent)
        for name, p in self.holders.items():
            kh.poll_until(lambda: ns_inode(p.pid) not in (None, mine)
                          or p.poll() is not None, 5.0 * S, 0.02)
            if ns_inode(p.pid) in (None, mine):
                raise Fail("unshare -n for %s: no namespace (status %r)"
                           % (name, p.poll()))
        nat = str(self.holders["nat"].pid)
        srv = str(self.holders["srv"].pid)
        # ep: ours
        self.run("ep", "ip", "link", "set", "lo", "up")
        self.run("ep", "ip", "link", "add", "ep0", "type", "veth", "peer",
                 "name", "nat0", "netns", nat)
        self.run("ep", "ip", "addr", "add", EP_ADDR + "/24", "dev", "ep0")
        self.run("ep", "ip", "link", "set", "ep0", "up")
        self.run("ep", "ip", "route", "add", "default", "via", NAT_IN)
        # nat: the router
        self.run("nat", "ip", "link", "set", "lo", "up")
        self.run("nat", "ip", "link", "add", "nat1", "type", "veth",
                 "peer", "name", "srv0", "netns", srv)
        self.run("nat", "ip", "addr", "add", NAT_IN + "/24", "dev",
                 "nat0")
        for i in range(scanners_needed()):
            self.run("nat", "ip", "addr", "add", scanner_src(i) + "/24",
                     "dev", "nat0")
        self.run("nat", "ip", "addr", "add", NAT_OUT + "/24", "dev",
                 "nat1")
        self.run("nat", "ip", "link", "set", "nat0", "up")
        self.run("nat", "ip", "link", "set", "nat1", "up")
        # /proc/sys/net is the writer's namespace's (no procps needed)
        self.run("nat", "sh", "-c",
                 "echo 1 > /proc/sys/net/ipv4/ip_forward")
        nft = subprocess.run(self.cmd("nat") + ["nft", "-f", "-"],
                             input=NFT, capture_output=True, text=True,
                             timeout=10 * S)
        if nft.returncode != 0:
            raise Fail("nft -f: %s" % nft.stderr.strip())
        # srv: Kamailio, the caller and the scanner; no route to the
        # private side
        self.run("srv", "ip", "link", "set", "lo", "up")
        for a in (KAM_ADDR, CALLER_ADDR, SCANNER_ADDR):
            self.run("srv", "ip", "addr", "add", a + "/24", "dev", "srv0")
        self.run("srv", "ip", "link", "set", "srv0", "up")

    def down(self):
        for p in self.holders.values():
            if p.poll() is None:
                p.kill()
            try:
                p.wait(5.0)
            except subprocess.TimeoutExpired:
                pass
        self.holders = {}

    def drain_503s(self):
        out = self.run("nat", "nft", "list", "counter", "inet",
                       "kar_filter", "drain503")
        m = re.search(r"packets (\d+)", out)
        return int(m.group(1)) if m else None

    def count_503s_from(self, port):
        self.run("nat", "nft", "add", "rule", "inet", "kar_filter",
                 "forward", "iifname", "nat0", "ip", "saddr", EP_ADDR,
                 "udp", "sport", str(port), "@th,64,88", SIP_503,
                 "counter", "name", "drain503")

    def path_loss(self, on):
        if on:
            self.run("nat", "nft", "add", "rule", "inet", "kar_filter",
                     "loss", "iifname", "nat1", "ip", "saddr", KAM_ADDR,
                     "drop")
        else:
            self.run("nat", "nft", "flush", "chain", "inet", "kar_filter",
                     "loss")

    def conntrack_flush(self):
        self.run("nat", "conntrack", "-F")


def planned(form):
    """About how long a form's measurement takes, s (a bound for the
    caller and the namespace holders, not a promise)."""
    per_round = ((form["quiet"] * len(KINDS) + form["path"]
                  + form["drain"]) * S + 180.0)
    return form["baseline"] * S + form["rounds"] * per_round


def scanners_needed():
    return LONG["rounds"] * len(DIRECT_SCANS) * 2


def scanner_src(i):
    return "192.0.2.%d" % (SCAN_FIRST + i)


# ---------------------------------------------------------------------
# The caller (--caller, run in "srv")

SDP = ("v=0\r\no=- 1 1 IN IP4 %(a)s\r\ns=-\r\nc=IN IP4 %(a)s\r\n"
       "t=0 0\r\nm=audio %(p)d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")


def header_line(data, name):
    """The first header line name: ... of a request's bytes."""
    for ln in data.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")[1:]:
        if ln.split(":", 1)[0].strip().lower() == name:
            return ln
    return None


def uri_of(value):
    m = re.search(r"<([^>]*)>", value or "")
    return m.group(1) if m else (value or "").split(";")[0].strip()


class Call:
    """One call's state in the caller."""

    def __init__(self, acct, placed, req):
        self.acct = acct
        self.placed = placed
        self.req = req
        self.seen_1xx = False
        self.final = None
        self.t_final = None
        self.outcome = None
        self.ack = None         # the ACK to the 2xx (sent again on a
        self.bye = None         # retransmitted 2xx), the BYE
        self.bye_status = None
        self.bye_sent = None
        self.next_tx = placed + T1
        self.tx_gap = T1
        self.done = False       # written out
        self.forget = placed + CALL_BOUND + BYE_BOUND + 8.0

    def record(self):
        return {"acct": self.acct, "placed": round(self.placed, 3),
                "final": self.final,
                "t_final": self.t_final and round(self.t_final, 3),
                "outcome": self.outcome, "bye": self.bye_status}


def in_dialog(call, resp, method, cseq):
    """ACK or BYE within the call that resp (a 2xx) set up: to its
    Contact, through its Record-Route (reversed: we are the UAC)."""
    req = call.req
    routes = []
    for v in resp.hdrs("record-route"):
        routes += re.findall(r"<[^>]*>", v)
    routes.reverse()
    lport = CALLER_PORT
    lines = ["%s %s SIP/2.0" % (method, uri_of(resp.hdr("contact"))),
             "Via: SIP/2.0/UDP %s:%d;rport;branch=z9hG4bK%s"
             % (kh.HOST, lport, kh.rand_hex()),
             "Max-Forwards: 70",
             header_line(req.data, "from"),
             "To: %s" % resp.hdr("to"),
             "Call-ID: %s" % req.call_id,
             "CSeq: %d %s" % (cseq, method)]
    if routes:
        lines.append("Route: %s" % ", ".join(routes))
    lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def cancel_for(req):
    keep = [header_line(req.data, n) for n in ("via", "max-forwards",
                                               "from", "to", "call-id")]
    ruri = req.data.split(b" ", 2)[1].decode()
    text = ("CANCEL %s SIP/2.0\r\n" % ruri
            + "".join(ln + "\r\n" for ln in keep if ln)
            + "CSeq: %s CANCEL\r\nContent-Length: 0\r\n\r\n"
            % req.cseq.split()[0])
    return text.encode()


def answer_200(raw):
    """A 200 to a request baresip sends within a call (a BYE)."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    keep = [ln for ln in head.split("\r\n")[1:]
            if ln.split(":", 1)[0].strip().lower()
            in ("via", "v", "from", "f", "to", "t", "call-id", "i",
                "cseq")]
    return ("SIP/2.0 200 OK\r\n" + "".join(ln + "\r\n" for ln in keep)
            + "Content-Length: 0\r\n\r\n").encode()


def caller_main(a):
    """Call each account through Kamailio every CALL_EVERY s until
    a.duration is over or SIGTERM; one JSON line per call in a.out."""
    kh.HOST = a.src
    stop = [False]

    def on_term(signum, frame):
        stop[0] = True
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    kam = (a.kamailio_addr, KAM_PORT)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((a.src, CALLER_PORT))
    media = []
    for p in (MEDIA_PORT, MEDIA_PORT + 1):
        m = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        m.bind((a.src, p))
        media.append(m)
    accounts = a.accounts.split(",")
    t0 = time.time()
    end = t0 + a.duration
    hard_end = end + CALL_BOUND + BYE_BOUND + 10.0
    due = {acct: t0 + i * CALL_EVERY / len(accounts)
           for i, acct in enumerate(accounts)}
    calls = {}
    sdp = SDP % {"a": a.src, "p": MEDIA_PORT}
    with open(a.out, "a") as out:
        def write(c):
            if not c.done:
                c.done = True
                out.write(json.dumps(c.record()) + "\n")
                out.flush()

        for _ in range(int((a.duration + 60) * 1000)):
            now = time.time()
            if now > hard_end:
                break
            placing = not stop[0] and now < end
            if not placing and all(c.done for c in calls.values()):
                break
            for acct in accounts:
                if placing and now >= due[acct]:
                    due[acct] += CALL_EVERY
                    if due[acct] < now:        # we were late: no burst
                        due[acct] = now + CALL_EVERY
                    req = kh.Request(
                        "INVITE", "sip:%s@%s:%d" % (acct, kam[0], kam[1]),
                        "udp", CALLER_PORT, body=sdp,
                        extra=[("Contact", "<sip:caller@%s:%d>"
                                % (a.src, CALLER_PORT)),
                               ("Content-Type", "application/sdp")])
                    c = Call(acct, now, req)
                    calls[req.call_id] = c
                    sock.sendto(req.data, kam)
            for cid, c in list(calls.items()):
                if c.outcome is None:
                    if now >= c.placed + CALL_BOUND:
                        # no final answer in time (final stays None)
                        c.outcome = "lost"
                        c.t_final = now
                        if c.seen_1xx:
                            sock.sendto(cancel_for(c.req), kam)
                        write(c)
                    elif not c.seen_1xx and now >= c.next_tx:
                        sock.sendto(c.req.data, kam)
                        c.tx_gap = min(2 * c.tx_gap, 4.0)
                        c.next_tx = now + c.tx_gap
                elif c.bye is not None and not c.done:
                    if now >= c.bye_sent + BYE_BOUND:
                        write(c)            # the BYE unanswered: None
                    elif now >= c.next_tx:
                        sock.sendto(c.bye, kam)
                        c.tx_gap = min(2 * c.tx_gap, 4.0)
                        c.next_tx = now + c.tx_gap
                if now > c.forget:
                    write(c)
                    del calls[cid]
            r, _, _ = select.select([sock] + media, [], [], 0.05)
            for s in r:
                raw, _ = s.recvfrom(65535)
                if s is not sock:
                    continue                    # media: dropped
                caller_input(sock, kam, calls, raw, write)
        for c in calls.values():
            write(c)
    sock.close()
    for m in media:
        m.close()
    return 0


def caller_input(sock, kam, calls, raw, write):
    if not raw.startswith(b"SIP/2.0 "):
        # a request within a call (baresip's BYE): 200
        if raw.startswith(b"BYE "):
            sock.sendto(answer_200(raw), kam)
        return
    try:
        resp = kh.Response(raw)
    except ValueError:
        return
    c = calls.get(resp.hdr("call-id"))
    if c is None:
        return
    num, _, method = resp.cseq().partition(" ")
    method = method.strip()
    now = time.time()
    if method == "INVITE":
        if resp.status < 200:
            c.seen_1xx = True
        elif resp.status < 300:
            if c.ack is None:
                c.ack = in_dialog(c, resp, "ACK", int(num))
                c.bye = in_dialog(c, resp, "BYE", int(num) + 1)
                c.final = resp.status
                c.t_final = now
                late = now > c.placed + CALL_BOUND or c.outcome == "lost"
                c.outcome = c.outcome or ("lost" if late else "delivered")
                sock.sendto(c.ack, kam)
                sock.sendto(c.bye, kam)
                c.bye_sent = now
                c.tx_gap = T1
                c.next_tx = now + T1
            else:
                sock.sendto(c.ack, kam)         # our ACK got lost
        else:
            sock.sendto(ks.ack_for(c.req, resp), kam)
            if c.outcome is None:
                c.final = resp.status
                c.t_final = now
                c.outcome = "lost"
                write(c)
    elif method == "BYE" and resp.status >= 200:
        if c.bye_status is None:
            c.bye_status = resp.status
            write(c)


def dial_main(a):
    """The trunk: INVITEs to a.numbers from a.src through Kamailio;
    prints {number: final status} as JSON."""
    kh.HOST = a.src
    numbers = []
    for part in a.numbers.split(","):
        lo, _, hi = part.partition("-")
        numbers += [str(n) for n in range(int(lo), int(hi or lo) + 1)]
    print(json.dumps(ks.dial(KAM_PORT, a.src, numbers, a.kamailio_addr)),
          flush=True)
    return 0


# ---------------------------------------------------------------------
# The run (inner, in "ep")

def read_calls(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        pass            # a line being written
    except OSError:
        pass
    return out


def location(kam):
    """{user: [(contact address, received)]} from Kamailio's ul.dump."""
    out = {}
    aor = None
    addr = None
    for line in (kam.rpc("ul.dump") or "").splitlines():
        line = line.strip()
        m = re.match(r"AoR:\s*(\S+)", line)
        if m:
            aor = m.group(1).split("@")[0]
            out.setdefault(aor, [])
            continue
        m = re.match(r"Address:\s*(\S+)", line)
        if m:
            addr = m.group(1)
            continue
        m = re.match(r"Received:\s*(.*)", line)
        if m and aor is not None:
            out[aor].append((addr, m.group(1).strip()))
    return out


def registers(kam, user, since=0.0):
    """(wall time, source, expires) of each REGISTER of user that
    Kamailio logged after the wall time since."""
    out = []
    for m in re.finditer(r"KAR-REG (\d+\.\d+) (\S+) (\S+) \[([^]]*)\] "
                         r"(.*)", kam.log_text()):
        t = float(m.group(1))
        if m.group(2) != user or t <= since:
            continue
        exp = re.search(r";\s*expires=(\d+)", m.group(5), re.I)
        exp = exp.group(1) if exp else m.group(4).strip()
        out.append((t, m.group(3), int(exp) if exp.isdigit() else None))
    return out


class Endpoint:
    """One baresip, alice with the module or bob without."""

    def __init__(self, args, role):
        self.role = role
        self.user = USER[role]
        conf = []
        module = None
        if role == MODULE:
            module = args.module
            # baresip takes a key's first line: --conf comes first
            conf = list(args.conf or []) + [
                "keepalive_responder_watch\treregister",
                "keepalive_responder_trusted\t%s" % KAM_ADDR]
        self.bs = kh.Baresip(args.baresip, module, conf, args.keep)
        self.bs.account = "<sip:%s@%s:%d>;regint=%d%s" % (
            self.user, KAM_ADDR, KAM_PORT, REGINT, ke.AUTO_ANSWER)
        self.ctrl = None

    def start(self):
        self.bs.start()
        # ctrl_tcp passes every call's events on: the module's
        # connection is read as the run goes (Reach.wait()); the stock
        # endpoint needs none
        if self.role == MODULE:
            self.ctrl = kh.Ctrl(self.bs.ctrl_port)

    def stop(self):
        if self.ctrl:
            self.ctrl.close()
            self.ctrl = None
        return self.bs.stop()


class Reach(kh.Scenario):
    """Kamailio in "srv", alice (module) and bob (stock) here, the
    caller; the faults one after the other; the record."""

    TAIL = 60

    def __init__(self, runner, args, net, folder, form):
        self.eps = {MODULE: Endpoint(args, MODULE),
                    STOCK: Endpoint(args, STOCK)}
        super().__init__(runner, "reach", self.eps[MODULE].bs)
        self.others.append(self.eps[STOCK].bs)
        self.args = args
        self.net = net
        self.folder = folder
        self.form = form
        self.kam = None
        self.caller = None
        self.calls_path = os.path.join(folder, "calls.jsonl")
        self.dictionary = None
        self.faults = []        # one dict per fault, in order
        self.resets = []        # (role, t0, t1)
        self.t_begin = None     # the first call
        self.t_stop = None      # the caller told to stop
        self.scans_done = 0
        self.svwar_runs = 0
        self.lock = threading.Lock()

    # -- set-up

    def start_kamailio(self):
        def cfg(port, folder):
            return KAMAILIO % {"host": KAM_ADDR, "ping": PING,
                               "fr": FR_TIMER_MS,
                               "fr_inv": FR_INV_TIMER_MS}
        self.kam = kh.Kamailio(self.args.kamailio, self.args.kamcmd,
                               KAM_MODULES, cfg, self.args.keep,
                               origin="test/integration/kar_reach.py",
                               host=KAM_ADDR, wrap=self.net.cmd("srv"))
        self.kam.port = KAM_PORT
        self.others.append(self.kam)
        self.kam.start(same_port=True)

    def start_endpoints(self):
        for role in (MODULE, STOCK):
            self.eps[role].start()
        self.ctrl = self.eps[MODULE].ctrl
        self.net.count_503s_from(self.eps[MODULE].bs.sip_port)

    def registered(self):
        """Both in Kamailio's location table, each contact with the
        NAT's public address as its source."""
        loc = {}

        def both():
            loc.clear()
            loc.update(location(self.kam))
            return all(any(NAT_OUT in r for _, r in loc.get(u, []))
                       for u in USER.values())
        if not kh.poll_until(both, 10.0 * S, POLL):
            raise Fail("not both registered through the NAT within "
                       "%.0f s: %r" % (10.0 * S, loc))
        print("     registered: %s" % "; ".join(
            "%s %s" % (u, loc[u]) for u in sorted(loc)), flush=True)

    def watch_regular(self):
        """The module learnt Kamailio's 2 s rhythm (4 probes)."""
        p = kw.wait_state(self.ctrl, "OPTIONS", "regular",
                          (6 * PING + 4.0) * S, KAM_ADDR)
        ivl = p.get("interval_ms")
        if not kh.is_int(ivl) or not 0.75 * PING * 1000 <= ivl <= \
                1.25 * PING * 1000:
            raise Fail("regular with interval_ms %r, Kamailio pings "
                       "every %d s" % (ivl, PING))
        print("     the module's watch: %s regular, %d ms"
              % (KAM_ADDR, ivl), flush=True)

    def start_caller(self):
        duration = planned(self.form) + 600.0 * S
        cmd = self.net.cmd("srv") + [
            sys.executable, os.path.abspath(__file__), "--caller",
            "--src", CALLER_ADDR, "--kamailio-addr", KAM_ADDR,
            "--accounts", ",".join(USER[r] for r in (MODULE, STOCK)),
            "--out", self.calls_path, "--duration", "%.0f" % duration]
        self.caller = kh.spawn(cmd, self.folder,
                               os.path.join(self.folder, "caller.log"))
        self.t_begin = time.time()
        # the first calls of each account
        kh.poll_until(lambda: len(read_calls(self.calls_path)) >= 2
                      or self.caller.poll() is not None,
                      CALL_BOUND + 5.0, POLL)
        if len(read_calls(self.calls_path)) >= 2:
            return
        if self.caller.poll() is not None:
            raise Fail("the caller exited with %r: %s" % (
                self.caller.returncode, kh.log_tail(os.path.join(
                    self.folder, "caller.log"), 10)))
        raise Fail("the caller recorded no call within %.0f s"
                   % (CALL_BOUND + 5.0))

    def stop_caller(self):
        if self.caller is not None:
            if self.t_stop is None:
                self.t_stop = time.time()
            kh.stop_process(self.caller, CALL_BOUND + BYE_BOUND + 5.0)

    # -- while it runs

    def alive(self):
        """Why the run cannot go on, or None."""
        for role, ep in self.eps.items():
            if not ep.bs.alive():
                return "%s's baresip exited (%r)" % (
                    role, ep.bs.proc and ep.bs.proc.returncode)
        if not self.kam.alive():
            return "Kamailio exited"
        if self.caller.poll() is not None:
            return "the caller exited (%r): %s" % (
                self.caller.returncode, kh.log_tail(
                    os.path.join(self.folder, "caller.log"), 10))
        return None

    def wait(self, seconds):
        """Sleep seconds, checking every POLL that all still run."""
        end = time.monotonic() + seconds
        for _ in range(int(seconds / POLL) + 2):
            why = self.alive()
            if why:
                raise Fail(why)
            # the call events ctrl_tcp sends, read and forgotten
            self.eps[MODULE].ctrl.drain(0.01)
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(POLL, left))

    def stale(self):
        """The endpoints whose latest STALE_LAST settled calls were all
        lost."""
        calls = read_calls(self.calls_path)
        out = []
        for role, u in USER.items():
            mine = sorted((c for c in calls if c["acct"] == u),
                          key=lambda c: c["placed"])[-STALE_LAST:]
            if len(mine) == STALE_LAST and all(
                    c["outcome"] != "delivered" for c in mine):
                out.append(role)
        return out

    def reset(self, role):
        """Restart an endpoint that stays unreachable: it registers
        again.  Returns when it began."""
        ep = self.eps[role]
        t0 = time.time()
        ep.stop()
        ep.start()
        if not kh.poll_until(lambda: any(
                e for _, _, e in registers(self.kam, ep.user, t0)),
                10.0 * S, POLL):
            raise Fail("%s did not register again within %.0f s"
                       % (ep.user, 10.0 * S))
        if role == MODULE:
            self.ctrl = ep.ctrl
            self.net.count_503s_from(ep.bs.sip_port)
            self.watch_regular()
        print("     %s restarted to register again (%.1f s)"
              % (role, time.time() - t0), flush=True)
        return t0

    def measure(self):
        """The baseline, then each fault and its quiet period."""
        f = self.form
        quiet = max(f["quiet"] * S, GOAL_CHECK + 5.0)
        self.wait(f["baseline"] * S)
        for rnd in range(f["rounds"]):
            for kind in KINDS:
                fault = {"kind": kind, "round": rnd + 1, "notes": {}}
                print("     %s (round %d)" % (TITLE[kind], rnd + 1),
                      flush=True)
                why = self.alive()
                if why:
                    raise Fail(why)
                getattr(self, "f_" + kind)(fault)
                self.faults.append(fault)
                self.wait(quiet)
                self.after(fault)
                began = [(role, self.reset(role))
                         for role in self.stale()]
                if began:
                    # their calls are left out from CALL_BOUND before
                    # the restart until the next fault's window begins
                    # (CALL_BOUND before that fault)
                    self.wait(CALL_BOUND + 2.0)
                    self.resets += [(role, t0, time.time() - CALL_BOUND)
                                    for role, t0 in began]

    def after(self, fault):
        """What the module did, read once the quiet period is over."""
        t0 = fault["start"]
        fault["notes"]["registers"] = {
            role: [round(t - t0, 2) for t, _, e in registers(
                self.kam, USER[role], t0) if e]
            for role in (MODULE, STOCK)}
        before = fault["notes"].pop("before", None)
        if before is not None:
            # the public ports Kamailio knew before and after the flush
            now = location(self.kam)
            fault["notes"]["contact port at Kamailio"] = {
                u: "%s -> %s" % (
                    ",".join(r.rsplit(":", 1)[-1] for r in before.get(u, [])),
                    ",".join(r.rsplit(":", 1)[-1] for _, r in now.get(u, [])))
                for u in sorted(USER.values())}

    # -- the faults

    def f_rebind(self, fault):
        fault["notes"]["before"] = {
            u: [r for _, r in v] for u, v in location(self.kam).items()}
        fault["start"] = time.time()
        self.net.conntrack_flush()
        fault["end"] = time.time()

    def f_restart(self, fault):
        fault["start"] = time.time()
        self.kam.stop()
        self.kam.start(same_port=True)
        fault["end"] = time.time()

    def f_pathloss(self, fault):
        fault["start"] = time.time()
        self.net.path_loss(True)
        try:
            self.wait(self.form["path"] * S)
        finally:
            self.net.path_loss(False)
        fault["end"] = time.time()

    def f_scan(self, fault):
        fault["start"] = time.time()
        found = {}
        for name, sargs in DIRECT_SCANS:
            results = {}
            threads = []
            for role in (MODULE, STOCK):
                src = scanner_src(self.scans_done)
                self.scans_done += 1
                port = self.eps[role].bs.sip_port
                t = threading.Thread(target=self.svwar, args=(
                    results, role, sargs, port, src, EP_ADDR, "nat"))
                t.start()
                threads.append(t)
            for t in threads:
                t.join(ke.SVWAR_TIMEOUT + 10.0)
            for role in (MODULE, STOCK):
                found["%s %s" % (name, role)] = results.get(role)
        fault["svwar"] = found
        fault["notes"]["scans listing the user"] = {
            role: "%d of %d" % (sum(
                1 for k, v in found.items() if k.endswith(" " + role)
                and isinstance(v, list) and USER[role] in v),
                len(DIRECT_SCANS)) for role in (MODULE, STOCK)}
        fault["end"] = time.time()

    def svwar(self, results, role, sargs, port, src, host, ns):
        """One svwar run into results[role]: the users it listed, or
        what went wrong (a scan that ends in an error is recorded, not
        a failure: the calls are what is measured)."""
        sv = ke.Svwar(sargs, port, src, self.dictionary, host=host,
                      wrap=self.net.cmd(ns))
        try:
            sv.run()
            results[role] = sorted(sv.found())
        except Fail as e:
            results[role] = "error: %s" % str(e).splitlines()[0]
        with self.lock:
            self.svwar_runs += 1
            name = "svwar-%02d.log" % self.svwar_runs
        with open(os.path.join(self.folder, name), "w") as f:
            f.write(" ".join(shlex.quote(a) for a in sv.cmd[-8:])
                    + "\n" + sv.out)

    def f_relayed(self, fault):
        fault["start"] = time.time()
        found = {}
        res = {}
        self.svwar(res, "names", ["-m", "INVITE", "-d", ke.DICT],
                   KAM_PORT, SCANNER_ADDR, KAM_ADDR, "srv")
        found["names via Kamailio"] = res["names"]
        for role in (MODULE, STOCK):
            first = int(TRUNK[role]) * 1000
            self.svwar(res, role, ["-m", "INVITE", "-e", "%d-%d"
                                   % (first, first + 2 * LIMIT - 1)],
                       KAM_PORT, SCANNER_ADDR, KAM_ADDR, "srv")
            found["trunk numbers %s" % role] = res[role]
        fault["svwar"] = found
        fault["notes"]["listed via Kamailio"] = {
            "names": found["names via Kamailio"],
            "numbers": {role: len([n for n in found[
                "trunk numbers %s" % role] if n.isdigit()])
                if isinstance(found["trunk numbers %s" % role], list)
                else found["trunk numbers %s" % role]
                for role in (MODULE, STOCK)}}
        # a plain UAC (no scanner User-Agent) dials 2 x limit unknown
        # numbers of each account
        parts = ["%d-%d" % (int(TRUNK[r]) * 1000 + 100,
                            int(TRUNK[r]) * 1000 + 99 + 2 * LIMIT)
                 for r in (MODULE, STOCK)]
        out = sh(*(self.net.cmd("srv") + [
            sys.executable, os.path.abspath(__file__), "--dial",
            "--src", SCANNER_ADDR, "--kamailio-addr", KAM_ADDR,
            "--numbers", ",".join(parts)]))
        try:
            got = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise Fail("--dial printed %r" % out)
        answers = {}
        for role in (MODULE, STOCK):
            mine = [v for k, v in got.items() if k.startswith(TRUNK[role])]
            answers[role] = {str(s): mine.count(s) for s in set(mine)}
            answers[role]["unanswered"] = 2 * LIMIT - len(mine)
        fault["notes"]["trunk answers"] = answers
        fault["end"] = time.time()

    def f_drain(self, fault):
        ctrl = self.eps[MODULE].ctrl
        st0 = kw.stats(ctrl)
        w0 = self.net.drain_503s()
        fault["start"] = time.time()
        kh.ctrl_ok(ctrl, "kar_drain", "on")
        try:
            self.wait(self.form["drain"] * S)
        finally:
            kh.ctrl_ok(ctrl, "kar_drain", "off")
        fault["end"] = time.time()
        st1 = kw.stats(ctrl)
        w1 = self.net.drain_503s()
        # after: do 503s stop?
        self.wait(2 * PING + 1.0)
        w2 = self.net.drain_503s()
        key = "methods.OPTIONS.drained"
        fault["notes"]["drain"] = {
            "module drained OPTIONS": (kh.stats_value(st1, key) or 0)
            - (kh.stats_value(st0, key) or 0),
            "503 on the wire": (w1 or 0) - (w0 or 0),
            "503 on the wire after off": (w2 or 0) - (w1 or 0),
            "drain after": kh.stats_value(kw.stats(ctrl), "drain")}

    # -- the whole run

    def go(self):
        runner = self.runner
        if not self.check("kamailio_start", self.start_kamailio):
            return False
        if not self.check("endpoints_start", self.start_endpoints):
            return False
        self.runner.guard = self.bs.dead
        if not self.check("registered_through_nat", self.registered):
            return False
        if not self.check("watch_regular", self.watch_regular):
            return False
        if not self.check("caller_start", self.start_caller):
            return False
        ok = self.check("measure", self.measure)
        self.stop_caller()
        runner.guard = None
        return ok


# ---------------------------------------------------------------------
# Analysis

def windows(faults, t_begin, t_end):
    """(name, start, end) of the baseline and each fault's window:
    from CALL_BOUND before the fault to CALL_BOUND before the next."""
    out = []
    starts = [f["start"] - CALL_BOUND for f in faults] + [t_end]
    out.append(("baseline", t_begin, starts[0]))
    for i, f in enumerate(faults):
        out.append((i, starts[i], starts[i + 1]))
    return out


def excluded(call, role, resets):
    """Is call one of role's calls left out for a restart?"""
    for r, t0, t1 in resets:
        if r == role and t0 - CALL_BOUND <= call["placed"] < t1:
            return True
    return False


def metrics(calls, lo, hi, t_end):
    """delivered, placed, longest lost run, recovery (s after t_end;
    0.0 when nothing was lost; None: never), lost outside (calls lost
    after t_end + GOAL_CHECK), for the calls placed in [lo, hi)."""
    mine = sorted((c for c in calls if lo <= c["placed"] < hi),
                  key=lambda c: c["placed"])
    delivered = sum(1 for c in mine if c["outcome"] == "delivered")
    run = longest = 0
    last_lost = None
    for c in mine:
        if c["outcome"] == "delivered":
            run = 0
        else:
            run += 1
            longest = max(longest, run)
            last_lost = c
    rec = 0.0
    if last_lost is not None:
        rec = None
        for c in mine:
            if c["placed"] > last_lost["placed"] and \
                    c["outcome"] == "delivered":
                rec = max(0.0, c["placed"] - t_end)
                break
    outside = [c for c in mine if c["outcome"] != "delivered"
               and t_end is not None and c["placed"] > t_end + GOAL_CHECK]
    return {"delivered": delivered, "placed": len(mine),
            "longest": longest, "recovery": rec, "outside": outside}


def analyse(calls, faults, resets, t_begin, t_end):
    """Per window and endpoint: metrics()."""
    rows = []
    for name, lo, hi in windows(faults, t_begin, t_end):
        f = faults[name] if name != "baseline" else None
        row = {"window": name, "fault": f, "lo": lo, "hi": hi}
        for role, u in USER.items():
            mine = [c for c in calls if c["acct"] == u
                    and not excluded(c, role, resets)]
            end = f["end"] if f else lo - GOAL_CHECK
            row[role] = metrics(mine, lo, hi, end)
        rows.append(row)
    return rows


def fmt_rec(m):
    """A window's recovery as the tables show it."""
    if m["delivered"] == m["placed"]:
        return "no loss"
    if m["recovery"] is None:
        return "never"
    return "%.1f s" % m["recovery"]


def fmt_row(m):
    return "%d / %d" % (m["delivered"], m["placed"])


def tables(rows):
    """The Markdown tables: per fault kind (all its rounds), then per
    fault as it happened."""
    out = ["| fault | module: delivered / placed | longest lost run | "
           "recovery | stock: delivered / placed | longest lost run | "
           "recovery |", "|---|---|---|---|---|---|---|"]
    groups = [("baseline (no fault)", [r for r in rows
                                       if r["window"] == "baseline"])]
    for kind in KINDS:
        groups.append((TITLE[kind], [r for r in rows if r["fault"]
                                     and r["fault"]["kind"] == kind]))
    for title, rs in groups:
        if not rs:
            continue
        cells = [title]
        for role in (MODULE, STOCK):
            d = sum(r[role]["delivered"] for r in rs)
            p = sum(r[role]["placed"] for r in rs)
            pct = " (%.1f %%)" % (100.0 * d / p) if p else ""
            cells.append("%d / %d%s" % (d, p, pct))
            cells.append(", ".join(str(r[role]["longest"]) for r in rs))
            cells.append("—" if title.startswith("baseline") else
                         ", ".join(fmt_rec(r[role]) for r in rs))
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def detail(rows, t0):
    out = ["| # | fault | round | start (s) | length (s) | module | "
           "stock | notes |", "|---|---|---|---|---|---|---|---|"]
    for i, r in enumerate(rows):
        f = r["fault"]
        if f is None:
            continue
        cells = [str(i), TITLE[f["kind"]], str(f["round"]),
                 "%.1f" % (f["start"] - t0),
                 "%.1f" % (f["end"] - f["start"])]
        for role in (MODULE, STOCK):
            m = r[role]
            cells.append("%s, run %d, rec. %s" % (
                fmt_row(m), m["longest"], fmt_rec(m)))
        cells.append(json.dumps(f["notes"], sort_keys=True)
                     .replace("|", "/"))
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def plot(folder, calls, faults, resets, t0, t_end):
    """reachability.png with gnuplot: None, or why not."""
    gp = shutil.which("gnuplot")
    if not gp:
        return "no gnuplot (scripts/deps installs gnuplot-nox)"
    lanes = {USER[MODULE]: 1, USER[STOCK]: 0}
    with open(os.path.join(folder, "delivered.dat"), "w") as d, \
            open(os.path.join(folder, "lost.dat"), "w") as lost:
        for c in calls:
            y = lanes.get(c["acct"])
            if y is None:
                continue
            if c["outcome"] == "delivered":
                d.write("%.3f %d\n" % (c["placed"] - t0, y))
            else:
                lost.write("%.3f %.2f\n" % (c["placed"] - t0, y + 0.2))
    span = t_end - t0
    width = 1600 if span < 600 else 2600
    lines = ['set terminal pngcairo size %d,440 font "sans,10"' % width,
             'set output "%s"' % os.path.join(folder, "reachability.png"),
             'set title "a call to each endpoint every second, by the time '
             'it was placed; shaded: the fault (dark), the recovery goal '
             'after it (light), an endpoint restarted (grey)"',
             'set xlabel "seconds since the first call"',
             'set xrange [0:%.0f]' % span, 'set yrange [-0.7:1.9]',
             'set ytics ("stock" 0, "module" 1)', 'set grid xtics',
             'set key bottom right horizontal']
    n = 0
    for f in faults:
        x0 = f["start"] - t0
        x1 = max(f["end"] - t0, x0 + 1.0)
        for a, b, color in ((x0, x1, "#f0b860"),
                            (x1, x1 + GOAL, "#f8e4c0")):
            n += 1
            lines.append('set object %d rect from %.2f,graph 0 to %.2f,'
                         'graph 1 fc rgb "%s" fs solid 0.5 noborder '
                         'behind' % (n, a, b, color))
        lines.append('set label %d "%s" at %.2f,graph 0.95 font ",8"'
                     % (n, LABEL[f["kind"]], x0))
    for role, r0, r1 in resets:
        n += 1
        y = 1 if role == MODULE else 0
        lines.append('set object %d rect from %.2f,%.2f to %.2f,%.2f '
                     'fc rgb "#b0b0b0" fs solid 0.6 noborder behind'
                     % (n, r0 - t0, y - 0.4, max(r1, r0 + 1.0) - t0,
                        y + 0.5))
    lines.append('plot "%s" using 1:2 title "delivered" with points pt 7 '
                 'ps 0.35 lc rgb "#1a9850", "%s" using 1:2 title "lost" '
                 'with points pt 2 ps 0.6 lc rgb "#d73027"'
                 % (os.path.join(folder, "delivered.dat"),
                    os.path.join(folder, "lost.dat")))
    script = os.path.join(folder, "reachability.gp")
    with open(script, "w") as f:
        f.write("\n".join(lines) + "\n")
    r = subprocess.run([gp, script], capture_output=True, text=True,
                       timeout=60)
    if r.returncode != 0:
        return "gnuplot: %s" % r.stderr.strip()[-300:]
    return None


def versions(args):
    def first_line(cmd):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True,
                               timeout=10)
            return (r.stdout or r.stderr).strip().splitlines()[0]
        except (OSError, subprocess.TimeoutExpired, IndexError):
            return "?"
    libre = first_line(["sh", "-c", "dpkg-query -W -f '${Package} "
                        "${Version}\\n' 'libre[0-9]*' 2>/dev/null | "
                        "grep -v 'libre2-'"])
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.*)", f.read())
            cpu = m.group(1) if m else "?"
    except OSError:
        pass
    try:
        with open("/etc/debian_version") as f:
            deb = f.read().strip()
    except OSError:
        deb = "?"
    return {
        "baresip": "%d.%d.%d" % kh.baresip_version(),
        "baresip package": first_line(["dpkg-query", "-W", "-f",
                                       "${Version}", "baresip-core"]),
        "libre": libre,
        "kamailio": first_line([args.kamailio, "-v"]),
        "sipvicious": first_line(["dpkg-query", "-W", "-f", "${Version}",
                                  "sipvicious"]),
        "debian": deb, "kernel": os.uname().release,
        "nproc": str(os.cpu_count()), "cpu": cpu,
        "python": sys.version.split()[0],
        "KAR_TIME_SCALE": "%g" % S,
    }


def report(args, run, rows, calls):
    """Write the report into args.report; returns the tables."""
    t0 = run.t_begin
    t_end = run.t_stop
    text = tables(rows)
    if not args.report:
        return text
    folder = args.report
    os.makedirs(folder, exist_ok=True)
    why = plot(folder, calls, run.faults, run.resets, t0, t_end)
    v = versions(args)
    f = run.form
    lines = [
        "# Reachability: %s form" % f["name"], "",
        "Written by `test/integration/kar_reach.py` on %s UTC."
        % time.strftime("%Y-%m-%d %H:%M", time.gmtime(t0)), "",
        "Command:", "", "    " + args.origin_cmd, "",
        "Run: %.0f s of calls (%d calls), baseline %d s, %d round(s) of "
        "the six faults, quiet %d s after each, path loss %d s, drain "
        "%d s; probe interval %d s, watch factor %d, goal %.0f s "
        "(checked with %.1f s)." % (
            t_end - t0, len(calls), f["baseline"], f["rounds"],
            max(f["quiet"] * S, GOAL_CHECK + 5.0), f["path"] * S,
            f["drain"] * S, PING, FACTOR, GOAL, GOAL_CHECK), "",
        "| | |", "|---|---|"]
    lines += ["| %s | %s |" % kv for kv in v.items()]
    lines += ["", "## Per fault and endpoint", "",
              "Recovery: from the end of the fault to the first delivered "
              "call placed after the last lost one (one value per round; "
              "0.0 s: that call was placed before the fault ended).", "",
              text, "",
              "## Each fault", "", detail(rows, t0), ""]
    if run.resets:
        lines += ["Restarted to register again: " + ", ".join(
            "%s at %.0f s (its calls from %.0f s before that until the "
            "next fault's window left out)" % (r, a - t0, CALL_BOUND)
            for r, a, b in run.resets) + ".", ""]
    lines += ["![timeline](reachability.png)" if why is None
              else "No plot: %s" % why, ""]
    with open(os.path.join(folder, "reachability.md"), "w") as fh:
        fh.write("\n".join(lines))
    for name in sorted(os.listdir(run.folder)):
        if name.startswith("svwar-"):
            os.makedirs(os.path.join(folder, "svwar"), exist_ok=True)
            shutil.copy(os.path.join(run.folder, name),
                        os.path.join(folder, "svwar", name))
    with open(os.path.join(folder, "calls.json"), "w") as fh:
        json.dump(calls, fh)
    with open(os.path.join(folder, "faults.json"), "w") as fh:
        json.dump({"faults": run.faults, "resets": run.resets,
                   "t_begin": t0, "t_stop": t_end}, fh, indent=1)
    print("     report written to %s" % folder, flush=True)
    return text


# ---------------------------------------------------------------------
# Checks on the record

def checks(runner, run, rows):
    fault_rows = [r for r in rows if r["fault"] is not None]
    base = rows[0]

    def check(name, fn):
        runner.run(name, fn)

    def module_outside():
        # the baseline's window "ends" before it begins: all its losses
        # are outside
        lost = [c for r in rows for c in r[MODULE]["outside"]]
        if lost:
            raise Fail("%d call(s) lost outside the fault windows: %s"
                       % (len(lost), ", ".join(
                           "%.1f s (%s)" % (c["placed"] - run.t_begin,
                                            c["final"])
                           for c in lost[:10])))
    check("module_no_loss_outside_faults", module_outside)

    def recovery(role, kinds):
        def fn():
            bad = []
            for r in fault_rows:
                if r["fault"]["kind"] not in kinds:
                    continue
                rec = r[role]["recovery"]
                if rec is None or rec > GOAL_CHECK:
                    bad.append("%s round %d: %s" % (
                        r["fault"]["kind"], r["fault"]["round"],
                        fmt_rec(r[role])))
            if bad:
                raise Fail("recovery later than %.1f s: %s"
                           % (GOAL_CHECK, "; ".join(bad)))
        return fn
    check("module_recovers_within_goal",
          recovery(MODULE, ("rebind", "restart", "pathloss")))

    def no_loss(role, kinds):
        def fn():
            bad = ["%s round %d: %d of %d lost" % (
                r["fault"]["kind"], r["fault"]["round"],
                r[role]["placed"] - r[role]["delivered"], r[role]["placed"])
                for r in fault_rows if r["fault"]["kind"] in kinds
                and r[role]["delivered"] != r[role]["placed"]]
            if bad:
                raise Fail("; ".join(bad))
        return fn
    check("module_scanners_cost_no_call",
          no_loss(MODULE, ("scan", "relayed")))
    check("module_drain_costs_no_call", no_loss(MODULE, ("drain",)))

    def drained():
        for r in fault_rows:
            if r["fault"]["kind"] != "drain":
                continue
            d = r["fault"]["notes"].get("drain", {})
            if not d.get("module drained OPTIONS") or \
                    not d.get("503 on the wire") or \
                    d.get("503 on the wire after off") or \
                    d.get("drain after") is not False:
                raise Fail("drain round %d: %r" % (r["fault"]["round"],
                                                   d))
    check("module_drain_answers_probes_503", drained)

    def stock_baseline():
        m = base[STOCK]
        if m["placed"] == 0 or m["delivered"] != m["placed"]:
            raise Fail("stock baseline: %s delivered" % fmt_row(m))
        m = base[MODULE]
        if m["placed"] == 0 or m["delivered"] != m["placed"]:
            raise Fail("module baseline: %s delivered" % fmt_row(m))
    check("baseline_both_reachable", stock_baseline)

    def stock_unreachable():
        bad = []
        for r in fault_rows:
            f = r["fault"]
            if f["kind"] not in ("rebind", "restart"):
                continue
            calls = [c for c in read_calls(run.calls_path)
                     if c["acct"] == USER[STOCK]
                     and f["end"] + CALL_BOUND <= c["placed"] < r["hi"]
                     and not excluded(c, STOCK, run.resets)]
            got = [c for c in calls if c["outcome"] == "delivered"]
            if not calls or got:
                bad.append("%s round %d: %d of %d delivered after it"
                           % (f["kind"], f["round"], len(got),
                              len(calls)))
        if bad:
            raise Fail("stock was expected unreachable until its next "
                       "REGISTER: " + "; ".join(bad))
    check("stock_unreachable_after_rebind_and_restart", stock_unreachable)

    def stock_path():
        for r in fault_rows:
            if r["fault"]["kind"] != "pathloss":
                continue
            m = r[STOCK]
            if m["delivered"] == m["placed"]:
                raise Fail("path loss round %d cost stock no call: the "
                           "fault did not bite" % r["fault"]["round"])
            if m["recovery"] is None or m["recovery"] > GOAL_CHECK:
                raise Fail("stock after path loss round %d: recovery %s"
                           % (r["fault"]["round"], fmt_rec(m)))
    check("stock_path_loss_costs_calls_then_back", stock_path)
    check("stock_scanners_cost_no_call",
          no_loss(STOCK, ("scan", "relayed")))
    check("stock_drain_window_no_loss", no_loss(STOCK, ("drain",)))


# ---------------------------------------------------------------------
# Entry points

def run_inner(args, runner):
    kh.HOST = EP_ADDR           # the endpoints' address, in "ep"
    form = LONG if args.long else SHORT
    folder = tempfile.mkdtemp(prefix="kar_reach.")
    net = Net(planned(form) + 1200.0 * S)
    run = None
    try:
        if not runner.run("namespaces", net.up):
            return None
        run = Reach(runner, args, net, folder, form)
        run.dictionary = ke.write_dictionary(folder)
        with open(run.dictionary) as f:
            names = f.read().split()
        names.insert(20, "bob")
        with open(run.dictionary, "w") as f:
            f.write("\n".join(names) + "\n")
        if not run.go():
            return None
        calls = read_calls(run.calls_path)
        rows = analyse(calls, run.faults, run.resets, run.t_begin,
                       run.t_stop)
        print(report(args, run, rows, calls), flush=True)
        checks(runner, run, rows)
        run.check("module_clean_shutdown", kh.t_shutdown, run.bs)
    finally:
        if run is not None:
            run.stop_caller()
            for ep in run.eps.values():
                ep.stop()
            run.cleanup()
        net.down()
        if args.keep:
            print("kept %s" % folder, file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return None


def run_outer(args, runner):
    for tool in ("unshare", "nsenter", "ip", "nft", "conntrack", "svwar"):
        if not shutil.which(tool):
            raise Fail("no %s (scripts/deps installs it)" % tool)
    for tool in (args.kamailio, args.kamcmd):
        if not os.access(tool, os.X_OK):
            raise Fail("not executable: %s (scripts/deps installs "
                       "kamailio)" % tool)
    if args.report and not shutil.which("gnuplot"):
        raise Fail("no gnuplot for the report (scripts/deps installs "
                   "gnuplot-nox)")
    if os.geteuid() != 0:
        raise Fail("needs root: network namespaces, nftables, conntrack")
    extra = ["--origin-cmd", " ".join(
        shlex.quote(a) for a in [os.path.relpath(sys.argv[0])]
        + sys.argv[1:])]
    for line in args.conf or []:
        extra += ["--conf", line]
    if args.long:
        extra.append("--long")
    if args.report:
        extra += ["--report", os.path.abspath(args.report)]
    kh.relay_run(kh.netns_argv(__file__, args, extra), runner, "netns",
                 60.0 * S, " (no network namespace?)")
    return None


def run_all(args, runner):
    if args.in_netns:
        return run_inner(args, runner)
    return run_outer(args, runner)


def more_args(ap):
    ap.add_argument("--kamailio", default=shutil.which("kamailio")
                    or "/usr/sbin/kamailio")
    ap.add_argument("--kamcmd", default=shutil.which("kamcmd")
                    or "/usr/sbin/kamcmd")
    ap.add_argument("--long", action="store_true",
                    help="the long form: every fault three times, about "
                    "35 minutes")
    ap.add_argument("--report", metavar="DIR",
                    help="write reachability.md, reachability.png, "
                    "calls.json and faults.json there")
    ap.add_argument("--conf", action="append", metavar="LINE",
                    help="a config line for the module's baresip, before "
                    "the run's own (baresip takes a key's first line); "
                    "e.g. 'keepalive_responder_watch_factor 2'")
    ap.add_argument("--in-netns", action="store_true",
                    help=argparse.SUPPRESS)
    ap.add_argument("--origin-cmd", default="", help=argparse.SUPPRESS)


def helper_main(argv):
    """--caller and --dial, the programs run in "srv"."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--caller", action="store_true")
    ap.add_argument("--dial", action="store_true")
    ap.add_argument("--src", required=True)
    ap.add_argument("--kamailio-addr", required=True)
    ap.add_argument("--accounts")
    ap.add_argument("--out")
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--numbers")
    a = ap.parse_args(argv)
    if a.caller:
        return caller_main(a)
    return dial_main(a)


def main():
    if "--caller" in sys.argv[1:] or "--dial" in sys.argv[1:]:
        return helper_main(sys.argv[1:])
    return kh.script_main(__doc__.split("\n")[1].strip(), run_all,
                          more_args)


if __name__ == "__main__":
    sys.exit(main())
