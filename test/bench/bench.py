#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
"""keepalive_responder benchmark: the driver behind test/bench/run.

Drives each responder with sipp over loopback UDP, one responder at a
time, each on its own free port and in its own temporary folder:

  stock            stock baresip 1.0, OPTIONS to the UA (sip:alice@...)
  shared-options   baresip + module, shared mode, OPTIONS with no user,
                   bodiless 200 (keepalive_responder_sdp no)
  shared-options-nowatch  as shared-options, keepalive_responder_watch
                   off (the probe watch is on by default): the watch's
                   cost per probe is the ratio of the two
  shared-options-sdp  the same, 200 with the capability SDP (default)
  shared-notify    baresip + module, shared mode, NOTIFY Event: keep-alive
  exclusive        baresip + module, exclusive mode, OPTIONS to the UA
                   (bodiless 200)
  drop-rate        baresip + module, rate limit 1/s: OPTIONS dropped
  drop-scanner     baresip + module, User-Agent: friendly-scanner: dropped
                   after decoding (sipp's address trusted, so not blocked)
  drop-blocked     baresip + module, OPTIONS from a source the module
                   blocked before the run (one scanner User-Agent): the
                   datagram dropped by its UDP helper before decoding
  floor-stateful   bare libre responder (floor/floor.c), sip_treply
  floor            bare libre responder, sip_reply (the reference)
  floor-notify     the same, answering NOTIFY Event: keep-alive
  floor-recv       bare libre UDP socket, every datagram discarded: what
                   receiving one costs a libre program (no SIP decoding)
  kamailio         Kamailio 5.6, options_reply, tlsf, children=1

and measures, per responder:

  * server CPU per request at fixed rates (median of --repeats runs), from
    the process tree's /proc/<pid>/task/*/schedstat run time (ns; the
    same time /proc/<pid>/stat reports in 10 ms ticks as utime+stime,
    which the CSV also carries as cpu_us_stat);
  * the highest clean rate: rates tried in ascending order until sipp
    sees a failure, a retransmission or an unexpected message (each rate
    gets a second try before it counts as unclean), then two bisection
    steps; "sipp-bound" when sipp itself could not reach the rate;
  * instructions per request: callgrind, counters zeroed once the
    responder is ready, an idle window dumped, then --cg-count requests
    at --cg-rate dumped; (load - idle rate x load time) / requests;
  * peak RSS (VmHWM) and RSS after --mem-count requests at --mem-rate;

and, for the ratios too small to resolve between rows measured one
after the other (PAIRS: the probe watch on against off, a blocked
source's datagram against the floor's answer), the two responders side
by side: started together, pinned to the same CPU, each sent the same
load by its own sipp at the same time, --segments times; the ratio is
the median of the segments' ratios.

Each responder is started fresh for every run (a stateful responder
would otherwise carry the previous run's 32 s transactions into the
next).  Every process started is stopped by PID (SIGTERM, then SIGKILL),
also on failure; their PIDs are also written to --pidfile for the
calling shell's trap.

Prints one table with each figure's ratio to the stateless floor doing
the same request, writes the figures as CSV (--out), the table as text
(--table) and a gnuplot PNG of CPU per request against rate (--plot).
"""

import argparse
import csv
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SCEN = os.path.join(HERE, "scenarios")
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

# ports, SIP messages, the baresip config, Kamailio's config, stopping
import kar_harness as kh                                # noqa: E402

HOST = kh.HOST
CLK_TCK = os.sysconf("SC_CLK_TCK")

READY_TIMEOUT = 15.0         # responder answers its probe within this
READY_TIMEOUT_VG = 180.0     # ... under valgrind
STOP_TIMEOUT = 10.0


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------
# responders

class Spec:
    """What to start and what to send it."""

    def __init__(self, name, label, kind, scenario, service="alice",
                 conf=(), floor_args=(), ref="floor", expect="200",
                 answers=True, request="OPTIONS", block=False):
        self.name = name
        self.label = label
        self.kind = kind              # baresip | module | floor | kamailio
        self.scenario = scenario      # file in scenarios/
        self.service = service        # sipp -s: Request-URI user
        self.conf = list(conf)        # extra baresip config lines
        self.floor_args = list(floor_args)
        self.ref = ref                # the floor row its ratios use
        self.expect = expect          # readiness: module | stock | 200
        self.answers = answers        # False: the module drops these
        self.request = request
        self.block = block            # block sipp's source before use


MODULE_CONF = ["keepalive_responder_rate\t0",
               "keepalive_responder_log\t\tnone"]
# The bodiless OPTIONS answer, as the rows measured it before the
# capability SDP (and as the floor and Kamailio answer)
BARE_CONF = MODULE_CONF + ["keepalive_responder_sdp\tno"]

SPECS = [
    Spec("stock", "stock baresip 1.0 (OPTIONS to UA)", "baresip",
         "options_user.xml", expect="stock", request="OPTIONS alice"),
    Spec("shared-options", "module shared (OPTIONS no user)", "module",
         "options_nouser.xml", conf=BARE_CONF, expect="module",
         request="OPTIONS no user"),
    Spec("shared-options-nowatch", "module shared, probe watch off",
         "module", "options_nouser.xml",
         conf=BARE_CONF + ["keepalive_responder_watch\toff"],
         expect="module", request="OPTIONS no user"),
    Spec("shared-options-sdp", "module, OPTIONS with capability SDP",
         "module", "options_nouser.xml", conf=MODULE_CONF,
         expect="module-sdp", request="OPTIONS no user, 200 + SDP"),
    Spec("shared-notify", "module shared (NOTIFY keep-alive)", "module",
         "notify_keepalive.xml", conf=MODULE_CONF, expect="module",
         ref="floor-notify", request="NOTIFY keep-alive"),
    Spec("exclusive", "module exclusive (OPTIONS to UA)", "module",
         "options_user.xml", expect="module",
         conf=BARE_CONF + ["keepalive_responder_exclusive\tyes"],
         request="OPTIONS alice"),
    Spec("drop-rate", "module, rate-limited: dropped", "module",
         "options_nouser_send.xml", expect="module", answers=False,
         conf=["keepalive_responder_rate\t1",
               "keepalive_responder_log\t\tnone",
               "keepalive_responder_sdp\tno"],
         request="OPTIONS no user"),
    # A scanner User-Agent also blocks its source, after which the
    # module drops its datagrams before decoding (drop-blocked); a
    # trusted source is never blocked, so sipp's address is trusted here
    # and every request is decoded and dropped after, as this row has
    # always measured
    Spec("drop-scanner", "module, scanner UA: dropped", "module",
         "options_scanner_send.xml", expect="module", answers=False,
         conf=BARE_CONF + ["keepalive_responder_trusted\t" + HOST],
         request="OPTIONS no user"),
    Spec("drop-blocked", "module, datagram from a blocked source",
         "module", "options_nouser_send.xml", conf=BARE_CONF,
         expect="module", answers=False, block=True,
         request="OPTIONS no user, source blocked"),
    Spec("floor-stateful", "floor: libre sip_treply (stateful)", "floor",
         "options_nouser.xml", request="OPTIONS no user"),
    Spec("floor", "floor: libre sip_reply (stateless)", "floor",
         "options_nouser.xml", floor_args=["-s"], request="OPTIONS no user"),
    Spec("floor-notify", "floor: libre sip_reply, NOTIFY", "floor",
         "notify_keepalive.xml", floor_args=["-s"], ref="floor-notify",
         request="NOTIFY keep-alive"),
    Spec("floor-recv", "floor: libre UDP receive only, discarded",
         "floor", "options_nouser_send.xml", floor_args=["-r"],
         expect="ready-line", answers=False,
         request="OPTIONS no user, not decoded"),
    Spec("kamailio", "Kamailio 5.6 options_reply", "kamailio",
         "options_nouser.xml", request="OPTIONS no user"),
]


# Ratios too small to show between rows measured one after the other:
# measured side by side (measure_pair), at the rates up to PAIR_RATE_MAX
# (two responders and two sipps share the two CPUs), each the median of
# the segments' ratios, with its goal (None: shown, no goal)
PAIRS = [("shared-options", "shared-options-nowatch", 1.05),
         ("drop-blocked", "floor", 0.2),
         # what the drop adds to libre's bare receive: no goal
         ("drop-blocked", "floor-recv", None)]
PAIR_RATE_MAX = 4000


# ---------------------------------------------------------------------
# process bookkeeping: everything started is stopped by PID

class Registry:
    def __init__(self, pidfile):
        self.pidfile = pidfile
        self.pids = set()
        self.lock = threading.Lock()    # side-by-side runs: two threads

    def _write(self):
        if not self.pidfile:
            return
        tmp = self.pidfile + ".tmp"
        with open(tmp, "w") as f:
            f.write("".join("%d\n" % p for p in sorted(self.pids)))
        os.replace(tmp, self.pidfile)

    def add(self, *pids):
        with self.lock:
            self.pids.update(p for p in pids if p)
            self._write()

    def remove(self, *pids):
        with self.lock:
            self.pids.difference_update(pids)
            self._write()


REG = None


def proc_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read().rsplit(")", 1)[1].split()
        return st[0] != "Z"
    except OSError:
        return False


def stop_pids(pids, timeout=STOP_TIMEOUT):
    """SIGTERM each PID, wait, SIGKILL what is left."""
    pids = [p for p in pids if p]
    for p in pids:
        try:
            os.kill(p, signal.SIGTERM)
        except OSError:
            pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(proc_alive(p) for p in pids):
        time.sleep(0.05)
    for p in pids:
        if proc_alive(p):
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass


# ---------------------------------------------------------------------
# /proc measurements

def cpu_of(pids):
    """(ns from schedstat, ns from stat utime+stime) over pids."""
    ns_sched = 0
    ticks = 0
    for p in pids:
        try:
            with open("/proc/%d/stat" % p) as f:
                st = f.read().rsplit(")", 1)[1].split()
            ticks += int(st[11]) + int(st[12])
        except (OSError, IndexError, ValueError):
            continue
        try:
            for t in os.listdir("/proc/%d/task" % p):
                with open("/proc/%d/task/%s/schedstat" % (p, t)) as f:
                    ns_sched += int(f.read().split()[0])
        except (OSError, IndexError, ValueError):
            pass
    return ns_sched, ticks * 1e9 / CLK_TCK


def sys_busy_ns():
    """CPU time the whole machine spent busy (all CPUs), from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return (sum(v[:8]) - idle) * 1e9 / CLK_TCK


def self_ns():
    t = os.times()
    return (t.user + t.system + t.children_user + t.children_system) * 1e9


def mem_of(pids):
    """(VmRSS, VmHWM) in KiB, summed over pids."""
    rss = hwm = 0
    for p in pids:
        try:
            with open("/proc/%d/status" % p) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
                    elif line.startswith("VmHWM:"):
                        hwm += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            pass
    return rss, hwm


# ---------------------------------------------------------------------
# ports and the readiness probe

def pick_port():
    """A port P with P and P+1 free on UDP and TCP (baresip binds TLS
    on P+1)."""
    return kh.pick_ports()[0]


def probe(port, spec, timeout):
    """Send the spec's request once; its final answer (a kh.Response)
    or None."""
    if spec.scenario.startswith("notify"):
        kw = dict(method="NOTIFY", user=spec.service,
                  extra=[("Event", "keep-alive")])
    elif spec.scenario.startswith("options_user"):
        kw = dict(method="OPTIONS", user=spec.service,
                  extra=[("Accept", "application/sdp")])
    else:
        kw = dict(method="OPTIONS", user=None,
                  extra=[("Accept", "application/sdp")])
    try:
        return kh.SipClient(port).request("udp", timeout=timeout, **kw)
    except (OSError, kh.Fail):
        return None


def answer_ok(spec, ans):
    """Does the probe's answer show the intended responder answered?"""
    if not ans:
        return False, "no answer"
    if ans.status != 200:
        return False, "answer %d" % ans.status
    body = ans.body.decode("utf-8", "replace")
    if spec.expect == "module":
        # the module's 200: RFC 3261 11.2 headers (OPTIONS), no body
        if spec.scenario.startswith("notify"):
            ok = not body.strip()
        else:
            ok = ans.has("allow") and not body.strip()
        return bool(ok), "" if ok else "200 is not the module's"
    if spec.expect == "module-sdp":
        # the module's capability SDP: port 0, no call behind it
        ok = (ans.has("allow") and not ans.has("contact") and
              body.startswith("v=0") and "\r\nm=audio 0 " in body)
        return bool(ok), "" if ok else "200 without the module's SDP"
    if spec.expect == "stock":
        ok = "v=0" in body
        return bool(ok), "" if ok else "200 without SDP"
    return True, ""


# ---------------------------------------------------------------------
# starting a responder

class Running:
    """One responder process (tree) in its own temporary folder."""

    def __init__(self, spec, tools, workroot, valgrind=None):
        self.spec = spec
        self.tools = tools
        self.valgrind = valgrind      # list of valgrind args, or None
        self.dir = tempfile.mkdtemp(prefix="%s." % spec.name, dir=workroot)
        self.proc = None
        self.port = None
        self.pids = []

    def _cmd(self):
        t, sp, d = self.tools, self.spec, self.dir
        if sp.kind in ("baresip", "module"):
            kh.write_baresip_files(
                d, self.port, t.module if sp.kind == "module" else None,
                sp.conf, origin="test/bench/bench.py")
            return [t.baresip, "-f", d]
        if sp.kind == "floor":
            return [t.floor, "-a", HOST, "-p", str(self.port)] + sp.floor_args
        if sp.kind == "kamailio":
            cfg = os.path.join(d, "kamailio.cfg")
            with open(cfg, "w") as f:
                f.write(kh.kamailio_cfg(
                    "test/bench/bench.py: answer OPTIONS like a "
                    "keep-alive responder, nothing else", self.port,
                    ("pv", "sl", "siputils"), KAMAILIO_ROUTE))
            return [t.kamailio, "-f", cfg, "-DD", "-E", "-x", "tlsf",
                    "-m", "64", "-M", "8", "-Y", d, "-P",
                    os.path.join(d, "kamailio.pid"), "-w", d]
        raise ValueError(sp.kind)

    def start(self):
        for attempt in range(3):
            self.port = pick_port()
            for n in os.listdir(self.dir):
                p = os.path.join(self.dir, n)
                if os.path.isdir(p) and not os.path.islink(p):
                    shutil.rmtree(p)
            cmd = self._cmd()
            if self.valgrind:
                cmd = ["valgrind"] + self.valgrind + cmd
            if self.tools.server_cpu is not None:
                cmd = ["taskset", "-c", str(self.tools.server_cpu)] + cmd
            self.proc = kh.spawn(cmd, self.dir,
                                 os.path.join(self.dir, "server.log"))
            REG.add(self.proc.pid)
            err = self._wait_ready()
            if err is None and self.spec.block:
                err = self._block_source()
                if err:
                    self.stop()
                    raise RuntimeError("%s: %s" % (self.spec.name, err))
            if err is None:
                self.pids = kh.proc_tree(self.proc.pid)
                REG.add(*self.pids)
                return
            self.stop()
            if "Address already in use" not in self.log_tail() and \
               "bind" not in self.log_tail().lower():
                raise RuntimeError("%s: %s\n%s" % (self.spec.name, err,
                                                   self.log_tail()))
            log("%s: port %d taken, retrying" % (self.spec.name, self.port))
        raise RuntimeError("%s: could not start" % self.spec.name)

    def _wait_ready(self):
        limit = READY_TIMEOUT_VG if self.valgrind else READY_TIMEOUT
        ptime = 2.0 if self.valgrind else 0.3
        deadline = time.monotonic() + limit
        why = "no answer"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return "exited with status %d at start-up" % \
                    self.proc.returncode
            if self.spec.expect == "ready-line":
                # answers nothing: ready once it says so
                if re.search(r"^ready %d " % self.port, self.log_tail(),
                             re.M):
                    return None
                time.sleep(0.1)
                continue
            ans = probe(self.port, self.spec, ptime)
            ok, why = answer_ok(self.spec, ans)
            if ok:
                return None
            if ans:         # answered, but not as expected yet (no UA)
                time.sleep(0.1)
        return "not ready within %.0f s (%s)" % (limit, why)

    def _block_source(self):
        """Get sipp's source address (HOST) blocked: one OPTIONS with a
        scanner User-Agent.  None once a plain OPTIONS from it goes
        unanswered, else why not (a module without the block)."""
        wait = 3.0 if self.valgrind else 1.0
        for extra in ([("User-Agent", "friendly-scanner")], []):
            ans = kh.options_from(self.port, HOST, extra=extra,
                                  timeout=wait)
            if ans is not None:
                return ("source %s not blocked: %s answered %s"
                        % (HOST, "scanner" if extra else "plain OPTIONS",
                           ans.short()))
        return None

    def log_tail(self, n=30):
        try:
            with open(os.path.join(self.dir, "server.log"), "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
            return "\n".join(lines[-n:])
        except OSError:
            return ""

    def refresh_pids(self):
        if self.proc and self.proc.poll() is None:
            new = kh.proc_tree(self.proc.pid)
            REG.add(*new)
            self.pids = sorted(set(self.pids) | set(new))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is None:
            return
        pids = sorted(set(self.pids) | {self.proc.pid})
        # the main process first: kamailio stops its own workers
        kh.stop_process(self.proc, STOP_TIMEOUT)
        stop_pids(pids, 3.0)
        REG.remove(*pids)

    def cleanup(self, keep=False):
        self.stop()
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)


KAMAILIO_ROUTE = """\
request_route {
    if (method == "OPTIONS") {
        options_reply();
        exit;
    }
    if (method == "NOTIFY") {
        sl_send_reply("200", "OK");
        exit;
    }
    sl_send_reply("501", "Not Implemented");
}
"""


# ---------------------------------------------------------------------
# sipp

class SippResult:
    def __init__(self):
        self.rc = None
        self.ok = 0
        self.failed = 0
        self.retrans = 0
        self.timeouts = 0
        self.unexpected = 0
        self.rate = 0.0
        self.wall = 0.0
        self.error = ""

    def clean(self, count, answered=True):
        """No failure, retransmission, timeout or unexpected message.
        For requests the responder drops (answered=False) an answer
        that does get through (rate limit refill) is no failure."""
        if not (self.rc == 0 and self.ok == count and not self.failed):
            return False
        if not answered:
            return True
        return not (self.retrans or self.timeouts or self.unexpected)

    def brief(self):
        return ("rc=%s ok=%d failed=%d retrans=%d timeouts=%d"
                " unexpected=%d rate=%.0f/s" % (
                    self.rc, self.ok, self.failed, self.retrans,
                    self.timeouts, self.unexpected, self.rate))


def run_sipp(tools, spec, port, count, rate, workdir):
    r = SippResult()
    statf = os.path.join(workdir, "sipp-stat.csv")
    errf = os.path.join(workdir, "sipp-err.log")
    for f in (statf, errf):
        if os.path.exists(f):
            os.unlink(f)
    # bounded: the sending time, the last receive timeout, a margin
    limit = int(count / rate) + 40
    cmd = ["sipp", "-sf", os.path.join(SCEN, spec.scenario),
           # sipp's own port: a free one (with -p 0 sipp takes 5060,
           # where other programs on the machine may probe)
           "-s", spec.service, "-i", HOST, "-p", str(pick_port()),
           "%s:%d" % (HOST, port), "-m", str(count), "-r", str(rate),
           "-rp", "1000", "-nostdin", "-trace_stat", "-stf", statf,
           "-fd", "3600", "-trace_err", "-error_file", errf,
           # 1 ms timer: no 10 ms bursts that overflow the responder's
           # default socket buffer; sipp's own buffers big enough
           "-timer_resol", "1", "-buff_size", "4194304",
           "-timeout", "%ds" % limit, "-timeout_error"]
    if tools.sipp_cpu is not None:
        cmd = ["taskset", "-c", str(tools.sipp_cpu)] + cmd
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, cwd=workdir, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, start_new_session=True)
    REG.add(p.pid)
    try:
        _, err = p.communicate(timeout=limit + 20)
    except subprocess.TimeoutExpired:
        stop_pids([p.pid], 3.0)
        _, err = p.communicate()
        r.error = "sipp killed after %d s" % (limit + 20)
    except BaseException:
        # interrupted (SIGTERM, ^C): sipp goes too
        stop_pids([p.pid], 3.0)
        raise
    REG.remove(p.pid)
    r.wall = time.monotonic() - t0
    r.rc = p.returncode
    if err and not r.error:
        text = "\n".join(
            ln for ln in err.decode("utf-8", "replace").splitlines()
            if ln.strip() and not ln.startswith("Resolving remote host"))
        r.error = text.strip()[-300:]
    try:
        with open(statf) as f:
            rows = [ln.rstrip("\n").split(";") for ln in f if ln.strip()]
        head, last = rows[0], rows[-1]
        val = dict(zip(head, last))

        def num(k):
            try:
                return float(val.get(k, "0") or 0)
            except ValueError:
                return 0.0
        r.ok = int(num("SuccessfulCall(C)"))
        r.failed = int(num("FailedCall(C)"))
        r.retrans = int(num("Retransmissions(C)"))
        r.timeouts = int(num("FailedTimeoutOnRecv(C)") +
                         num("FailedMaxUDPRetrans(C)"))
        r.unexpected = int(num("OutOfCallMsgs(C)") + num("DeadCallMsgs(C)")
                           + num("FailedUnexpectedMessage(C)"))
        r.rate = num("CallRate(C)")
    except (OSError, IndexError):
        r.error = (r.error + " no sipp statistics").strip()
    return r


# ---------------------------------------------------------------------
# one measured run

def settle(pids, limit=3.0):
    """Wait until the responder's CPU stops moving (it may still be
    working off its socket queue when sipp is done)."""
    last = cpu_of(pids)[0]
    quiet = 0
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and quiet < 2:
        time.sleep(0.1)
        now = cpu_of(pids)[0]
        quiet = quiet + 1 if now - last < 200000 else 0   # < 0.2 ms
        last = now


def measure(tools, spec, count, rate, workroot, idle_s=0.5):
    """Start a fresh responder, send count requests at rate; return a
    dict of figures."""
    run = Running(spec, tools, workroot)
    try:
        run.start()
        pids = run.pids
        rss_idle, _ = mem_of(pids)
        c0 = cpu_of(pids)
        time.sleep(idle_s)
        c1 = cpu_of(pids)
        idle_ns_per_s = (c1[0] - c0[0]) / idle_s if idle_s else 0.0
        t0 = time.monotonic()
        b0, o0 = sys_busy_ns(), self_ns()
        s = run_sipp(tools, spec, run.port, count, rate, run.dir)
        run.refresh_pids()
        settle(run.pids)
        t1 = time.monotonic()
        c2 = cpu_of(run.pids)
        b1, o1 = sys_busy_ns(), self_ns()
        # what else kept the machine busy meanwhile (other jobs), as a
        # share of all CPUs: total busy - responder - sipp and ourselves
        ncpu = os.cpu_count() or 1
        other = (b1 - b0) - (c2[0] - c1[0]) - (o1 - o0)
        other_pct = max(0.0, 100.0 * other / ((t1 - t0) * 1e9 * ncpu))
        rss, hwm = mem_of(run.pids)
        alive = run.alive()
        busy_ns = (c2[0] - c1[0]) - idle_ns_per_s * (t1 - t0)
        res = {
            "cpu_us": max(busy_ns, 0) / count / 1e3,
            "cpu_us_stat": (c2[1] - c1[1]) / count / 1e3,
            "idle_us_per_s": idle_ns_per_s / 1e3,
            "rss_idle_kib": rss_idle, "rss_kib": rss, "hwm_kib": hwm,
            "sipp": s, "clean": s.clean(count, spec.answers) and alive,
            "alive": alive, "port": run.port, "other_pct": other_pct,
        }
        if not alive:
            s.error = (s.error + " responder died:\n" +
                       run.log_tail()).strip()
        return res
    finally:
        run.cleanup(keep=tools.keep)


def measure_pair(tools, spa, spb, count, rate, segments, workroot):
    """spa and spb side by side: both started together and pinned to the
    same CPU, each sent count requests at rate by its own sipp at the
    same time, CPU read over the same window.  The CPU per request of
    one process moves between minutes by more than a small feature
    costs; two processes measured together see the same machine.
    Returns per segment (a us/req, b us/req, clean)."""
    runs = [Running(spa, tools, workroot), Running(spb, tools, workroot)]
    try:
        for r in runs:
            r.start()
        # what each spends idle (timers), subtracted as measure() does
        c0 = [cpu_of(r.pids)[0] for r in runs]
        time.sleep(1.0)
        idle = [cpu_of(r.pids)[0] - c for r, c in zip(runs, c0)]
        out = []
        for i in range(segments):
            res = [None, None]

            def send(k):
                res[k] = run_sipp(tools, runs[k].spec, runs[k].port, count,
                                  rate, runs[k].dir)
            threads = [threading.Thread(target=send, args=(k,))
                       for k in ((0, 1) if i % 2 == 0 else (1, 0))]
            c0 = [cpu_of(r.pids)[0] for r in runs]
            t0 = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            for r in runs:
                settle(r.pids)
            wall = time.monotonic() - t0
            us = [max(cpu_of(r.pids)[0] - c - n * wall, 0) / count / 1e3
                  for r, c, n in zip(runs, c0, idle)]
            clean = all(s.clean(count, r.spec.answers) and r.alive()
                        for s, r in zip(res, runs))
            log("  %s | %s %d/s #%d: %.2f | %.2f us/req = %.3fx%s" % (
                spa.name, spb.name, rate, i + 1, us[0], us[1],
                us[0] / us[1] if us[1] else 0,
                "" if clean else "  (not clean: %s / %s)" % (
                    res[0].brief(), res[1].brief())))
            out.append((us[0], us[1], clean))
        return out
    finally:
        for r in runs:
            r.cleanup(keep=tools.keep)


# ---------------------------------------------------------------------
# callgrind

def cg_totals(path):
    """Ir of one callgrind dump."""
    with open(path) as f:
        for line in f:
            if line.startswith("summary:") or line.startswith("totals:"):
                return int(line.split()[1])
    return 0


def cg_dump(pids, tag, d, before):
    for p in pids:
        subprocess.run(["callgrind_control", "-d", tag, str(p)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=30)
    time.sleep(0.5)
    files = {}
    for n in os.listdir(d):
        m = re.match(r"cg\.(\d+)\.(\d+)$", n)
        if m and n not in before:
            files[n] = os.path.join(d, n)
    return files


def callgrind(tools, spec, count, rate, idle_s, workroot, annotate_to):
    vg = ["--tool=callgrind", "--trace-children=yes",
          "--callgrind-out-file=%s" % "cg.%p", "--dump-instr=no",
          "--collect-jumps=no", "--compress-strings=no"]
    run = Running(spec, tools, workroot, valgrind=vg)
    try:
        run.start()
        time.sleep(1.0 if spec.kind == "kamailio" else 0.2)
        run.refresh_pids()
        pids = run.pids
        for p in pids:
            subprocess.run(["callgrind_control", "-z", str(p)],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=30)
        t0 = time.monotonic()
        time.sleep(idle_s)
        idle_files = cg_dump(pids, "idle", run.dir, set())
        t1 = time.monotonic()
        idle = sum(cg_totals(f) for f in idle_files.values())
        s = run_sipp(tools, spec, run.port, count, rate, run.dir)
        settle(pids, 5.0)
        load_files = cg_dump(pids, "load", run.dir, set(idle_files))
        t2 = time.monotonic()
        load = sum(cg_totals(f) for f in load_files.values())
        idle_rate = idle / max(t1 - t0, 1e-3)
        instr = (load - idle_rate * (t2 - t1)) / count
        if annotate_to and load_files:
            big = max(load_files.values(), key=cg_totals)
            write_profile(annotate_to, big, spec, count, rate, instr)
        return {"instr": instr, "idle_ir_per_s": idle_rate, "sipp": s,
                "clean": s.clean(count, spec.answers), "load_ir": load}
    finally:
        run.cleanup(keep=tools.keep)


def cg_self(path):
    """Self (exclusive) Ir per function of one callgrind dump, and per
    object.  callgrind_annotate 3.19 books the cost of calls that were
    already under way when the counters were zeroed ("calls=0") as self
    cost of the caller, which puts everything in main(); this reads the
    file itself: a cost line right after "calls=" is a call's inclusive
    cost, any other cost line is self cost of the current function."""
    fn_self, ob_self = {}, {}
    ob = fn = "???"
    after_calls = False
    with open(path) as f:
        for line in f:
            c = line[:1]
            if c.isdigit() or c in "+-*":
                if after_calls:
                    after_calls = False
                    continue
                parts = line.split()
                if len(parts) < 2:
                    continue
                ir = int(parts[1])
                key = (ob, fn)
                fn_self[key] = fn_self.get(key, 0) + ir
                ob_self[ob] = ob_self.get(ob, 0) + ir
            elif line.startswith("ob="):
                ob = line[3:].strip()
            elif line.startswith("fn="):
                fn = line[3:].strip()
            elif line.startswith("calls="):
                after_calls = True
    return fn_self, ob_self


def write_profile(path, dump, spec, count, rate, instr):
    fn_self, ob_self = cg_self(dump)
    total = sum(ob_self.values()) or 1
    incl = subprocess.run(
        ["callgrind_annotate", "--inclusive=yes", "--threshold=99.5",
         dump], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        timeout=120).stdout.decode("utf-8", "replace")
    rows = [ln for ln in incl.splitlines()
            if re.match(r"^\s*[\d,]+ \(", ln) and "PROGRAM TOTALS" not in ln]
    with open(path, "w") as f:
        f.write("# %s: callgrind, %d requests at %d/s, load dump only\n"
                % (spec.name, count, rate))
        f.write("# %.0f Ir per request after the idle baseline;"
                " %d Ir in this dump\n\n" % (instr, total))
        f.write("## self Ir per object (per request)\n\n")
        for ob, ir in sorted(ob_self.items(), key=lambda x: -x[1]):
            if ir * 1000 < total:
                continue
            f.write("%10.0f  %5.1f%%  %s\n" % (ir / count, 100.0 * ir / total,
                                            ob))
        f.write("\n## self Ir per function, top 40 (per request)\n\n")
        for (ob, fn), ir in sorted(fn_self.items(),
                                   key=lambda x: -x[1])[:40]:
            f.write("%10.0f  %5.1f%%  %s  [%s]\n" % (
                ir / count, 100.0 * ir / total, fn, os.path.basename(ob)))
        f.write("\n## inclusive Ir (callgrind_annotate --inclusive=yes),"
                " top 60\n\n")
        for ln in rows[:60]:
            m = re.match(r"^\s*([\d,]+) \(\s*([\d.]+)%\)\s+(.*)$", ln)
            if not m:
                continue
            ir = int(m.group(1).replace(",", ""))
            f.write("%10.0f  %5.1f%%  %s\n" % (ir / count, float(m.group(2)),
                                            m.group(3)))


# ---------------------------------------------------------------------
# highest clean rate

def clean_rate(tools, spec, ladder, count, seconds, workroot):
    """The highest rate at which a run of count requests (at most
    seconds long) sees no failure, retransmission or unexpected message.
    Ascending from ladder[0] until unclean (each rate gets a second try),
    then two bisection steps; if ladder[0] is unclean already, halving
    down to ladder[0] / 4.  Returns (rate, note, trials)."""
    trials = []

    def trial(rate):
        n = max(300, min(count, int(rate * seconds)))
        for attempt in (1, 2):
            r = measure(tools, spec, n, rate, workroot, idle_s=0.0)
            s = r["sipp"]
            trials.append((rate, attempt, s.brief()))
            log("  clean-rate %s %d/s (%d requests) try %d: %s,"
                " other load %.0f%%" % (spec.name, rate, n, attempt,
                                        s.brief(), r["other_pct"]))
            if r["clean"]:
                if s.rate < 0.9 * rate:
                    return "sipp-bound", s.rate
                return "clean", s.rate
        return "unclean", s.rate

    best, bad, note = None, None, ""
    for rate in ladder:
        verdict, achieved = trial(rate)
        if verdict == "clean":
            best = rate
            continue
        if verdict == "sipp-bound":
            note = "sipp-bound at %d/s (sipp reached %.0f/s)" % (
                rate, achieved)
            bad = None
            break
        bad = rate
        break
    if best is None:
        # unclean at the first rung already: go down
        rate = ladder[0]
        for _ in range(2):
            rate //= 2
            verdict, _ = trial(rate)
            if verdict == "clean":
                best = rate
                break
            bad = rate
        if best is None:
            return 0, "unclean down to %d/s" % rate, trials
    if bad:
        lo, hi = best, bad
        for _ in range(2):
            mid = int(round((lo + hi) / 2 / 50.0)) * 50
            if mid <= lo or mid >= hi:
                break
            verdict, _ = trial(mid)
            if verdict == "clean":
                lo = mid
            else:
                hi = mid
        best = lo
        note = note or "unclean at %d/s" % hi
    elif not note:
        note = "clean at the top of the ladder"
    return best, note, trials


# ---------------------------------------------------------------------
# the whole run

def fmt_num(v, nd=1):
    if v is None:
        return "-"
    if v >= 100:
        return "%.0f" % v
    return ("%%.%df" % nd) % v


def fmt_ratio(v, ref):
    if v is None or not ref:
        return ""
    return "%.2f×" % (v / ref)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--module", help="keepalive_responder.so")
    ap.add_argument("--floor", help="floor responder binary")
    ap.add_argument("--replot", metavar="CSV", nargs="+",
                    help="only draw the plot (--plot) from CSVs written"
                    " earlier (later ones: other runs, labelled so), and"
                    " stop")
    ap.add_argument("--baresip", default="/usr/bin/baresip")
    ap.add_argument("--kamailio", default=shutil.which("kamailio") or "")
    ap.add_argument("--smoke", action="store_true",
                    help="small counts: does the harness work end to end?")
    ap.add_argument("--only", default="",
                    help="comma-separated responder names (default: all)")
    ap.add_argument("--no-kamailio", action="store_true")
    ap.add_argument("--no-callgrind", action="store_true")
    ap.add_argument("--skip", default="",
                    help="comma-separated parts to leave out: clean, cpu,"
                    " memory, callgrind")
    ap.add_argument("--rates", default=None, help="e.g. 1000,4000,16000")
    ap.add_argument("--count", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--segments", type=int, default=None,
                    help="side-by-side segments per pair and rate"
                    " (default 6; smoke 1)")
    ap.add_argument("--out", default=os.path.join(HERE, "results",
                                                   "latest.csv"))
    ap.add_argument("--table", default=None,
                    help="text table (default: OUT with .txt)")
    ap.add_argument("--plot", default=None,
                    help="PNG plot (default: OUT with .png)")
    ap.add_argument("--pidfile", default=None)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--keep", action="store_true",
                    help="keep the responders' temporary folders")
    ap.add_argument("--pin", default="auto",
                    help="CPU for the responder,CPU for sipp; 'no' to not "
                    "pin (default: 1,0 on a machine with 2+ CPUs)")
    args = ap.parse_args()

    global REG
    REG = Registry(args.pidfile)

    if args.replot:
        return replot(args.replot, args.plot or
                      os.path.splitext(args.replot[0])[0] + ".png")
    if not args.module or not args.floor:
        ap.error("--module and --floor are needed")

    smoke = args.smoke
    skip = set(x for x in args.skip.split(",") if x)
    if skip - {"clean", "cpu", "memory", "callgrind"}:
        ap.error("--skip: unknown part(s) %s" % ",".join(
            sorted(skip - {"clean", "cpu", "memory", "callgrind"})))
    if args.no_callgrind:
        skip.add("callgrind")
    rates = [int(x) for x in (args.rates or
                              ("200" if smoke else "1000,4000,16000"))
             .split(",")]
    count = args.count or (200 if smoke else 20000)
    repeats = args.repeats or (1 if smoke else 3)
    segments = args.segments or (1 if smoke else 6)
    ladder = [1000, 2000, 4000, 8000, 12000, 16000, 24000, 32000, 48000]
    ladder_s = 30.0
    cg_count, cg_rate, cg_idle = (100, 100, 1.0) if smoke else \
        (1500, 150, 5.0)
    mem_count, mem_rate = (400, 200) if smoke else (100000, 4000)

    class Tools:
        pass
    tools = Tools()
    tools.module = os.path.abspath(args.module)
    tools.floor = os.path.abspath(args.floor)
    tools.baresip = args.baresip
    tools.kamailio = args.kamailio
    tools.keep = args.keep
    tools.server_cpu = tools.sipp_cpu = None
    if args.pin == "auto":
        if len(os.sched_getaffinity(0)) >= 2 and shutil.which("taskset"):
            cpus = sorted(os.sched_getaffinity(0))
            tools.server_cpu, tools.sipp_cpu = cpus[1], cpus[0]
    elif args.pin != "no":
        a, b = args.pin.split(",")
        tools.server_cpu, tools.sipp_cpu = int(a), int(b)

    specs = list(SPECS)
    if args.only:
        want = set(args.only.split(","))
        unknown = want - {s.name for s in specs}
        if unknown:
            ap.error("unknown responder(s): %s" % ", ".join(sorted(unknown)))
        specs = [s for s in specs if s.name in want]
    skipped = []
    if args.no_kamailio or not (tools.kamailio and
                                os.access(tools.kamailio, os.X_OK)):
        if any(s.kind == "kamailio" for s in specs):
            skipped.append("kamailio (%s)" % (
                "--no-kamailio" if args.no_kamailio else "not installed"))
        specs = [s for s in specs if s.kind != "kamailio"]
    for f, what in ((tools.module, "module"), (tools.floor, "floor"),
                    (tools.baresip, "baresip")):
        if not os.access(f, os.R_OK):
            ap.error("%s not found: %s" % (what, f))

    workroot = args.workdir or tempfile.mkdtemp(prefix="kar-bench.")
    os.makedirs(workroot, exist_ok=True)
    started = time.monotonic()
    log("mode %s; rates %s; %d requests x %d; responders: %s; work %s;"
        " pinned responder=%s sipp=%s" % (
            "smoke" if smoke else "full", rates, count, repeats,
            ",".join(s.name for s in specs), workroot, tools.server_cpu,
            tools.sipp_cpu))

    res = {}          # name -> figures
    problems = []     # smoke/full: what went wrong
    cgdir = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(cgdir, exist_ok=True)

    for sp in specs:
        fig = res.setdefault(sp.name, {"cpu": {}, "samples": {},
                                       "clean_pts": {}, "notes": []})
        log("== %s: %s" % (sp.name, sp.label))
        try:
            # highest clean rate
            if not smoke and sp.answers and "clean" not in skip:
                cr, note, _ = clean_rate(tools, sp, ladder, count,
                                         ladder_s, workroot)
                fig["clean_rate"] = cr
                fig["clean_note"] = note
                log("  highest clean rate %s: %d/s (%s)" % (sp.name, cr,
                                                             note))
            # CPU per request at fixed rates
            for rate in ([] if "cpu" in skip else rates):
                cr = fig.get("clean_rate")
                if (not smoke and cr is not None and rate > 4000
                        and cr < rate / 2 and sp.answers):
                    fig["notes"].append("%d/s skipped (clean rate %d/s)"
                                        % (rate, cr))
                    continue
                # repeats runs; while other jobs took more than
                # QUIET_PCT of the machine during a run, up to repeats
                # more, and the quietest repeats runs count
                runs, i = [], 0
                while i < 2 * repeats:
                    quiet = [x for x in runs if x["other_pct"] <= QUIET_PCT]
                    if len(runs) >= repeats and (len(quiet) >= repeats
                                                 or smoke):
                        break
                    i += 1
                    r = measure(tools, sp, count, rate, workroot)
                    s = r["sipp"]
                    log("  %s %d/s #%d: %.2f us/req (stat %.1f), rss %d"
                        " KiB, hwm %d KiB, other load %.0f%%, %s%s" % (
                            sp.name, rate, i, r["cpu_us"],
                            r["cpu_us_stat"], r["rss_kib"], r["hwm_kib"],
                            r["other_pct"], s.brief(),
                            (" " + s.error) if s.error else ""))
                    runs.append(r)
                    if not r["alive"]:
                        problems.append("%s died at %d/s" % (sp.name, rate))
                    if smoke and not s.clean(count, False):
                        problems.append("%s at %d/s: sipp %s %s" % (
                            sp.name, rate, s.brief(), s.error))
                    elif smoke and not r["clean"]:
                        log("  warning: %s at %d/s: %s" % (
                            sp.name, rate, s.brief()))
                used = sorted(runs, key=lambda x: x["other_pct"])[:repeats]
                for r in used:
                    OTHER.append(r["other_pct"])
                    if rate == 4000 or (smoke and rate == rates[-1]):
                        fig.setdefault("hwm", []).append(r["hwm_kib"])
                vals = [r["cpu_us"] for r in used]
                stat_vals = [r["cpu_us_stat"] for r in used]
                fig["cpu"][rate] = statistics.median(vals)
                fig["samples"][rate] = (vals, stat_vals)
                fig["clean_pts"][rate] = all(r["clean"] for r in used)
                fig.setdefault("other", {})[rate] = [r["other_pct"]
                                                     for r in used]
            # memory after many requests
            cr = fig.get("clean_rate")
            if "memory" in skip:
                pass
            elif sp.answers and (smoke or cr is None or cr >= mem_rate / 2):
                r = measure(tools, sp, mem_count, mem_rate, workroot)
                fig["mem"] = (r["rss_idle_kib"], r["rss_kib"],
                              r["hwm_kib"], mem_count, mem_rate,
                              r["clean"])
                log("  %s memory: idle %d KiB, after %d at %d/s: %d KiB"
                    " (hwm %d), %s" % (sp.name, r["rss_idle_kib"],
                                       mem_count, mem_rate, r["rss_kib"],
                                       r["hwm_kib"], r["sipp"].brief()))
                if smoke and not r["sipp"].clean(mem_count, False):
                    problems.append("%s memory run: sipp %s" % (
                        sp.name, r["sipp"].brief()))
            elif sp.answers:
                fig["notes"].append("memory run skipped (clean rate %d/s)"
                                    % cr)
            # instructions per request
            do_cg = "callgrind" not in skip and (
                not smoke or sp.name in ("shared-options",
                                         "shared-options-sdp", "floor"))
            if do_cg:
                ann = os.path.join(cgdir, "callgrind-%s.txt" % sp.name)
                r = callgrind(tools, sp, cg_count, cg_rate, cg_idle,
                              workroot, ann)
                fig["instr"] = r["instr"]
                fig["instr_clean"] = r["clean"]
                log("  %s callgrind: %.0f Ir/request (idle %.0f Ir/s), %s"
                    % (sp.name, r["instr"], r["idle_ir_per_s"],
                       r["sipp"].brief()))
                if smoke and not r["sipp"].clean(cg_count, False):
                    problems.append("%s callgrind run: sipp %s" % (
                        sp.name, r["sipp"].brief()))
        except (RuntimeError, OSError, subprocess.SubprocessError) as e:
            problems.append("%s: %s" % (sp.name, e))
            log("  %s FAILED: %s" % (sp.name, e))

    # the small ratios, side by side
    pairs = {}        # (a, b) -> rate -> [(a us, b us, clean)]
    byname = {s.name: s for s in specs}
    for a, b, _ in ([] if "cpu" in skip else PAIRS):
        if a not in byname or b not in byname:
            continue
        for rate in [r for r in rates if r <= PAIR_RATE_MAX]:
            log("== %s | %s side by side, %d/s" % (a, b, rate))
            try:
                segs = measure_pair(tools, byname[a], byname[b], count,
                                    rate, segments, workroot)
                pairs.setdefault((a, b), {})[rate] = segs
                if smoke and not all(c for _, _, c in segs):
                    problems.append("%s | %s at %d/s: not clean" % (
                        a, b, rate))
            except (RuntimeError, OSError, subprocess.SubprocessError) as e:
                problems.append("%s | %s: %s" % (a, b, e))
                log("  %s | %s FAILED: %s" % (a, b, e))

    elapsed = time.monotonic() - started
    table = render(specs, res, rates, count, repeats, smoke, skipped,
                   cg_count, cg_rate, mem_count, mem_rate, elapsed, pairs)
    print(table)
    table_path = args.table or os.path.splitext(args.out)[0] + ".txt"
    with open(table_path, "w") as f:
        f.write(table)
    write_csv(args.out, specs, res, rates, count, repeats, cg_count,
              cg_rate, mem_count, mem_rate, pairs)
    plot_path = args.plot or os.path.splitext(args.out)[0] + ".png"
    perr = plot(plot_path, [(sp.name, sp.name, res[sp.name]["cpu"])
                            for sp in specs
                            if res.get(sp.name, {}).get("cpu")],
                rates, workroot)
    if perr and smoke and "not installed" in perr:
        log("plot skipped: %s" % perr)
    elif perr:
        problems.append("plot: %s" % perr)
    log("wrote %s, %s, %s" % (args.out, table_path, plot_path))

    # every responder must have produced figures
    for sp in specs:
        fig = res.get(sp.name, {})
        if not fig.get("cpu") and "cpu" not in skip:
            problems.append("%s produced no CPU figure" % sp.name)
    if not args.keep and not args.workdir:
        shutil.rmtree(workroot, ignore_errors=True)
    if problems:
        log("PROBLEMS:\n  " + "\n  ".join(problems))
        if smoke:
            print("bench smoke: 0 passed, 1 failed")
        return 1
    if smoke:
        print("bench smoke: %d responders measured in %.0f s" % (
            len(specs), elapsed))
    return 0


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


LOAD_START = loadavg()
OTHER = []      # other jobs' share of the machine during each CPU run
QUIET_PCT = 10.0


def ref_of(res, sp, key, rate=None):
    ref = res.get(sp.ref, {})
    if key == "cpu":
        return ref.get("cpu", {}).get(rate)
    if key == "hwm":
        return statistics.median(ref["hwm"]) if ref.get("hwm") else None
    return ref.get(key)


def pair_ratio(segs):
    """The median of the segments' ratios (a / b)."""
    r = [a / b for a, b, _ in segs if b]
    return statistics.median(r) if r else None


def render(specs, res, rates, count, repeats, smoke, skipped, cg_count,
           cg_rate, mem_count, mem_rate, elapsed, pairs):
    head = ["responder", "request"]
    head += ["CPU µs/req @%d/s" % r for r in rates]
    sf_rate = 4000 if 4000 in rates else rates[-1]
    sf = res.get("floor-stateful", {}).get("cpu", {}).get(sf_rate)
    if sf:
        head.append("@%d vs stateful floor" % sf_rate)
    head += ["clean rate /s", "instr/req", "peak RSS MiB",
             "RSS +%s req MiB" % ("{:,}".format(mem_count))]
    rows = []
    for sp in specs:
        fig = res.get(sp.name, {})
        row = [sp.name, sp.request]
        for rate in rates:
            v = fig.get("cpu", {}).get(rate)
            cell = fmt_num(v)
            if v is not None:
                if not fig["clean_pts"].get(rate, True):
                    cell += "*"
                rt = fmt_ratio(v, ref_of(res, sp, "cpu", rate))
                cell += " (%s)" % rt if rt else ""
            row.append(cell)
        if sf:
            v = fig.get("cpu", {}).get(sf_rate)
            row.append(fmt_ratio(v, sf) or "-")
        cr = fig.get("clean_rate")
        if cr is None:
            row.append("-" if sp.answers else "n/a")
        else:
            cell = "%d" % cr
            if "sipp-bound" in fig.get("clean_note", "") or \
                    "top of the ladder" in fig.get("clean_note", ""):
                cell = "≥%d" % cr
            rt = fmt_ratio(cr, ref_of(res, sp, "clean_rate"))
            row.append(cell + (" (%s)" % rt if rt else ""))
        v = fig.get("instr")
        cell = "-" if v is None else "%.1fk" % (v / 1000)
        rt = fmt_ratio(v, ref_of(res, sp, "instr"))
        row.append(cell + (" (%s)" % rt if rt else ""))
        hw = statistics.median(fig["hwm"]) if fig.get("hwm") else None
        cell = "-" if hw is None else "%.1f" % (hw / 1024)
        rt = fmt_ratio(hw, ref_of(res, sp, "hwm"))
        row.append(cell + (" (%s)" % rt if rt else ""))
        m = fig.get("mem")
        row.append("-" if not m else "%+.1f%s" % ((m[1] - m[0]) / 1024,
                                                  "" if m[5] else "*"))
        rows.append(row)
    widths = [max(len(str(r[i])) for r in rows + [head])
              for i in range(len(head))]
    lines = []
    lines.append("| " + " | ".join(h.ljust(w) for h, w in
                                   zip(head, widths)) + " |")
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        lines.append("| " + " | ".join(str(c).ljust(w) for c, w in
                                       zip(r, widths)) + " |")
    notes = [
        "",
        "%s run: %d requests per point, median of %d; ratios (×) to the"
        " stateless floor doing the same request (floor-notify for"
        " NOTIFY)." % ("smoke" if smoke else "full", count, repeats),
        "CPU: responder process tree, /proc/<pid>/task/*/schedstat run"
        " time over the run; * = sipp saw failures or retransmissions"
        " at that point.",
        "instr/req: callgrind, %d requests at %d/s, whole process, idle"
        " baseline subtracted. peak RSS: VmHWM after the 4000/s runs"
        " (kamailio: summed over its processes)." % (cg_count, cg_rate),
        "RSS +N: VmRSS after %d requests at %d/s minus VmRSS when ready"
        " (* = not clean)." % (mem_count, mem_rate),
        "clean rate: highest rate at which %d requests (at most 30 s)"
        " saw no sipp failure, retransmission or timeout." % count,
        "load average at start / end: %s / %s; other jobs' CPU during the"
        " CPU runs: median %.1f%%, max %.1f%% of the machine" % (
            LOAD_START, loadavg(),
            statistics.median(OTHER) if OTHER else 0,
            max(OTHER) if OTHER else 0),
    ]
    for sp in specs:
        fig = res.get(sp.name, {})
        extra = []
        if fig.get("clean_note"):
            extra.append("clean rate: " + fig["clean_note"])
        extra += fig.get("notes", [])
        if extra:
            notes.append("%s: %s" % (sp.name, "; ".join(extra)))
    if pairs:
        notes += ["", "Side by side (both responders pinned to one CPU,"
                  " each sent %d requests at the rate by its own sipp at"
                  " the same time; CPU µs/req per segment, idle"
                  " subtracted; ratio: median of the segments'):" % count]
        for (a, b), by_rate in sorted(pairs.items()):
            for rate, segs in sorted(by_rate.items()):
                notes.append("  %s / %s @%d/s: %.3f× (%s)%s" % (
                    a, b, rate, pair_ratio(segs) or 0,
                    ", ".join("%.1f/%.1f" % (x, y) for x, y, _ in segs),
                    "" if all(c for _, _, c in segs) else " not clean"))
    if skipped:
        notes.append("skipped: " + ", ".join(skipped))
    notes.append("took %.0f s" % elapsed)
    if not smoke:
        notes += [""] + goals(res, mem_count, pairs)
    return "\n".join(lines + notes) + "\n"


def goals(res, mem_count, pairs):
    """The performance goals against the figures of this run: the
    module within 1.2x the libre floor's instructions and 1.3x its CPU
    per request, at least 10x cheaper and 10x faster than stock
    baresip's core path, no dearer per request at high rates, memory
    flat, drops cheaper than answers, the capability SDP at most 1.1x
    the bodiless answer, the probe watch at most 1.05x the same answer
    without it and a blocked source's datagram at most 0.2x the floor's
    answer (both side by side), within 3x of Kamailio's CPU per
    request."""
    out = ["Performance goals (this run):"]

    def cpu(name, rate):
        return res.get(name, {}).get("cpu", {}).get(rate)

    def get(name, key):
        return res.get(name, {}).get(key)

    def verdict(label, value, limit, fmt, higher_ok=False):
        if value is None:
            out.append("  [ n/a ] %s: not measured" % label)
            return
        ok = value >= limit if higher_ok else value <= limit
        out.append("  [%s] %s: %s (goal %s %s)" % (
            " met " if ok else "NOT met", label, fmt % value,
            ">=" if higher_ok else "<=", fmt % limit))

    def ratio(a, b):
        return a / b if a is not None and b else None

    for mod, ref in (("shared-options", "floor"),
                     ("shared-notify", "floor-notify"),
                     ("exclusive", "floor")):
        verdict("instructions/request %s vs %s" % (mod, ref),
                ratio(get(mod, "instr"), get(ref, "instr")), 1.2, "%.2f×")
        verdict("CPU/request @4000 %s vs %s" % (mod, ref),
                ratio(cpu(mod, 4000), cpu(ref, 4000)), 1.3, "%.2f×")
    for mod in ("exclusive", "shared-options"):
        verdict("CPU/request @4000 stock / %s" % mod,
                ratio(cpu("stock", 4000), cpu(mod, 4000)), 10, "%.1f×",
                True)
        verdict("clean rate %s / stock" % mod,
                ratio(get(mod, "clean_rate"), get("stock", "clean_rate")),
                10, "%.1f×", True)
    for rate in (1000, 4000, 16000):
        verdict("CPU/request @%d shared-options-sdp / shared-options"
                % rate, ratio(cpu("shared-options-sdp", rate),
                              cpu("shared-options", rate)), 1.1, "%.2f×")
    verdict("instructions/request shared-options-sdp / shared-options",
            ratio(get("shared-options-sdp", "instr"),
                  get("shared-options", "instr")), 1.1, "%.2f×")
    # measured side by side: the watch looks every probe's source up
    # and fingerprints it; a blocked source's datagram is dropped before
    # decoding, a small part of what the floor spends answering one
    for a, b, limit in (p for p in PAIRS if p[2]):
        for rate in sorted(pairs.get((a, b), {})):
            verdict("CPU/request @%d %s / %s, side by side" % (rate, a, b),
                    pair_ratio(pairs[(a, b)][rate]), limit, "%.3f×")
    verdict("instructions/request shared-options / shared-options-nowatch",
            ratio(get("shared-options", "instr"),
                  get("shared-options-nowatch", "instr")), 1.05, "%.3f×")
    for mod in ("shared-options", "shared-options-nowatch",
                "shared-options-sdp", "shared-notify", "exclusive"):
        verdict("CPU/request @16000 / @1000 %s" % mod,
                ratio(cpu(mod, 16000), cpu(mod, 1000)), 1.5, "%.2f×")
        m = get(mod, "mem")
        verdict("RSS growth after %d requests at 4000/s %s" % (
            mem_count, mod), (m[1] - m[0]) / 1024 if m else None, 4.0,
            "%.2f MiB")
    for drop in ("drop-rate", "drop-scanner"):
        verdict("CPU/request @4000 %s / shared-options (answering)" % drop,
                ratio(cpu(drop, 4000), cpu("shared-options", 4000)), 1.0,
                "%.2f×")
        verdict("instructions/request %s / shared-options" % drop,
                ratio(get(drop, "instr"), get("shared-options", "instr")),
                1.0, "%.2f×")
    for rate in sorted(res.get("drop-blocked", {}).get("cpu", {})):
        verdict("CPU/request @%d drop-blocked / drop-scanner (after "
                "decoding)" % rate, ratio(cpu("drop-blocked", rate),
                                          cpu("drop-scanner", rate)),
                1.0, "%.2f×")
    for rate in sorted(res.get("drop-blocked", {}).get("cpu", {})):
        verdict("CPU/request @%d drop-blocked / floor-recv (libre's "
                "receive alone)" % rate, ratio(cpu("drop-blocked", rate),
                                               cpu("floor-recv", rate)),
                1.3, "%.2f×")
    verdict("instructions/request drop-blocked / floor",
            ratio(get("drop-blocked", "instr"), get("floor", "instr")),
            0.2, "%.2f×")
    for mod in ("shared-options", "exclusive", "shared-notify"):
        verdict("CPU/request @4000 %s / kamailio" % mod,
                ratio(cpu(mod, 4000), cpu("kamailio", 4000)), 3.0, "%.2f×")
    return out


def write_csv(path, specs, res, rates, count, repeats, cg_count, cg_rate,
              mem_count, mem_rate, pairs):
    cols = ["responder", "request", "metric", "rate", "count", "repeats",
            "value", "unit", "ref", "ratio", "clean", "samples",
            "samples_stat", "other_load_pct"]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for sp in specs:
            fig = res.get(sp.name, {})

            def row(metric, rate, cnt, rep, value, unit, ref, clean,
                    samples="", samples_stat="", other=""):
                ratio = "" if value is None or not ref else \
                    "%.3f" % (value / ref)
                w.writerow([sp.name, sp.request, metric, rate, cnt, rep,
                            "" if value is None else "%.3f" % value, unit,
                            sp.ref, ratio, clean, samples, samples_stat,
                            other])
            for rate in rates:
                v = fig.get("cpu", {}).get(rate)
                if v is None:
                    continue
                vals, stat_vals = fig["samples"][rate]
                row("cpu_per_request", rate, count, repeats, v, "us",
                    ref_of(res, sp, "cpu", rate),
                    int(fig["clean_pts"].get(rate, False)),
                    " ".join("%.3f" % x for x in vals),
                    " ".join("%.1f" % x for x in stat_vals),
                    " ".join("%.1f" % x
                             for x in fig.get("other", {}).get(rate, [])))
            if fig.get("clean_rate") is not None:
                row("highest_clean_rate", "", "", 1, fig["clean_rate"],
                    "req/s", ref_of(res, sp, "clean_rate"),
                    fig.get("clean_note", ""))
            if fig.get("instr") is not None:
                row("instructions_per_request", cg_rate, cg_count, 1,
                    fig["instr"], "Ir", ref_of(res, sp, "instr"),
                    int(fig.get("instr_clean", False)))
            if fig.get("hwm"):
                row("peak_rss", 4000, count, len(fig["hwm"]),
                    statistics.median(fig["hwm"]) / 1024, "MiB",
                    (ref_of(res, sp, "hwm") or 0) / 1024, "")
            if fig.get("mem"):
                m = fig["mem"]
                row("rss_idle", "", "", 1, m[0] / 1024, "MiB", None, "")
                row("rss_after_requests", m[4], m[3], 1, m[1] / 1024,
                    "MiB", None, int(m[5]))
                row("rss_growth", m[4], m[3], 1, (m[1] - m[0]) / 1024,
                    "MiB", None, int(m[5]))
        # side by side: value is a's median, ratio the segments' median
        byname = {sp.name: sp for sp in specs}
        for (a, b), by_rate in sorted(pairs.items()):
            for rate, segs in sorted(by_rate.items()):
                w.writerow([
                    a, byname[a].request, "cpu_per_request_side_by_side",
                    rate, count, len(segs),
                    "%.3f" % statistics.median(x for x, _, _ in segs),
                    "us", b, "%.3f" % (pair_ratio(segs) or 0),
                    int(all(c for _, _, c in segs)),
                    " ".join("%.3f/%.3f" % (x, y) for x, y, _ in segs),
                    "", ""])


def plot(path, series, rates, workroot):
    """gnuplot PNG of CPU per request against rate: one line per entry
    of series, (label, row name, {rate: us}); the row name picks the
    style, a run's second series of a row gets another dash type."""
    gp = shutil.which("gnuplot")
    if not gp:
        return "gnuplot not installed"
    style = {   # colour, dash type, point type
        "stock": ("#d62728", 1, 5), "shared-options": ("#1f77b4", 1, 7),
        "shared-options-sdp": ("#ff7f0e", 1, 10),
        "shared-notify": ("#17becf", 1, 9), "exclusive": ("#2ca02c", 1, 11),
        "drop-rate": ("#bcbd22", 3, 13), "drop-scanner": ("#8c564b", 3, 15),
        "floor-stateful": ("#7f7f7f", 2, 4), "floor": ("#000000", 2, 6),
        "floor-notify": ("#555555", 2, 8), "kamailio": ("#9467bd", 1, 2)}
    lines, seen = [], set()
    for i, (label, name, cpu) in enumerate(series):
        pts = sorted(cpu.items())
        if not pts:
            continue
        dat = os.path.join(workroot, "plot-%d.dat" % i)
        with open(dat, "w") as f:
            for rate, v in pts:
                f.write("%d %.4f\n" % (rate, max(v, 0.01)))
        colour, dash, point = style.get(name, ("#000000", 1, 1))
        if name in seen:
            dash = 4
        seen.add(name)
        lines.append("'%s' using 1:2 with linespoints lw 2 lc rgb '%s' "
                     "dt %d pt %d ps 1.3 title '%s'"
                     % (dat, colour, dash, point, label))
    if not lines:
        return "nothing to plot"
    script = "\n".join([
        "set terminal pngcairo size 1100,650 enhanced font 'Sans,11'",
        "set output '%s'" % path,
        "set title 'Responder CPU per request against request rate"
        " (loopback UDP, sipp)'",
        "set xlabel 'requests per second'",
        "set ylabel 'CPU µs per request (log)'",
        "set logscale xy",
        "set xtics (%s)" % ", ".join("'%d' %d" % (r, r) for r in rates),
        "set xrange [%f:%f]" % (min(rates) / 1.5, max(rates) * 1.5),
        "set grid",
        "set key outside right top noenhanced",
        "plot " + ", ".join(lines),
    ]) + "\n"
    p = subprocess.run([gp], input=script.encode(), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    if p.returncode:
        return p.stderr.decode("utf-8", "replace")[-300:]
    return None


def replot(csv_paths, png):
    """The plot again, from the CPU rows of one or more CSVs: every
    responder of every CSV, in the order of SPECS.  Series of the
    second and later CSVs (a separate run, other load on the machine)
    are labelled with their file name."""
    series, rates = [], set()
    for i, path in enumerate(csv_paths):
        cpu = {}
        with open(path) as f:
            for row in csv.DictReader(f):
                if row["metric"] != "cpu_per_request" or not row["value"]:
                    continue
                rate = int(row["rate"])
                rates.add(rate)
                cpu.setdefault(row["responder"], {})[rate] = \
                    float(row["value"])
        order = [sp.name for sp in SPECS if sp.name in cpu]
        order += sorted(set(cpu) - set(order))
        for name in order:
            label = name if i == 0 else "%s (%s)" % (
                name, os.path.basename(path))
            series.append((label, name, cpu[name]))
    missing = [sp.name for sp in SPECS
               if not any(name == sp.name for _, name, _ in series)]
    if missing:
        log("plot: no CPU figures for %s" % ", ".join(missing))
    work = tempfile.mkdtemp(prefix="kar-bench-plot.")
    try:
        err = plot(png, series, sorted(rates), work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if err:
        log("plot: %s" % err)
        return 1
    log("wrote %s (%d series)" % (png, len(series)))
    return 0


def on_signal(sig, frame):
    raise SystemExit(128 + sig)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        rc = main()
    finally:
        if REG is not None and REG.pids:
            stop_pids(sorted(REG.pids), 3.0)
            REG.remove(*list(REG.pids))
    sys.exit(rc)
