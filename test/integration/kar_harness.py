#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
"""
kar_harness.py -- the library every integration test and the benchmark
import (this folder and test/bench put it on sys.path).

It runs the real baresip in a fresh temporary folder with a generated
config (SIP on 127.0.0.1, ctrl_tcp, one local UA alice without
registration) and talks to it:

  * ports: port_free(), pick_ports() (below the ephemeral range);
  * SIP: Request builds a request (long, compact or odd-case header
    names), Response parses an answer, SipClient sends over UDP or TCP
    (TcpReader frames the stream) and collects the final answers,
    options_from() sends one OPTIONS from a given local address;
  * ctrl_tcp: Ctrl runs commands and keeps the events aside;
  * Baresip: the process (config and accounts writer, start with a
    bounded wait for readiness, stop by PID with SIGTERM then SIGKILL);
  * the probes (REQ), what stock baresip answers per generation (STOCK)
    and what the module answers per mode (EXPECT), with the checks on
    answers they are made of (expect(), caps_sdp() ...);
  * Runner and script_main(): named checks printed "ok   name" or
    "FAIL name: why", the closing "N passed, M failed" line, SIGTERM (a
    CTest timeout) unwinding through the scripts' finally blocks.

Python 3 standard library only; all traffic stays on 127.0.0.1 and every
wait and loop is bounded (KAR_TIME_SCALE stretches the bounds).
harness_selftest.py tests this library itself.
"""

import argparse
import atexit
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import uuid

HOST = "127.0.0.1"
# baresip's own modules; a source-built baresip has them in its prefix
STOCK_MODDIR = os.environ.get("KAR_STOCK_MODDIR",
                              "/usr/lib/baresip/modules")
MODNAME = "keepalive_responder"

# Every wait is bounded.  The bounds are far above what an idle machine
# needs (answers on loopback take milliseconds) so that a busy 2-core
# machine passes; under valgrind or ASan baresip runs 3 to 30 times
# slower, and the tests that run it so set KAR_TIME_SCALE.  A hang still
# fails, at the step that waited.
TIME_SCALE = max(1.0, float(os.environ.get("KAR_TIME_SCALE") or 1))
START_TIMEOUT = 20.0 * TIME_SCALE   # baresip must be ready within this
STOP_TIMEOUT = 10.0 * TIME_SCALE    # SIGTERM grace period before SIGKILL
ANSWER_TIMEOUT = 2.0 * TIME_SCALE   # for an answer that must come
SILENCE_WAIT = 0.5 * TIME_SCALE     # how long "no answer" is waited for
EXTRA_WAIT = 0.3 * TIME_SCALE       # window for a second answer
CTRL_TIMEOUT = 3.0 * TIME_SCALE

CAPABILITY_HEADERS = ("allow", "accept", "accept-encoding",
                      "accept-language", "allow-events")
# what no answer of the module carries (docs/design.md, Answers)
NOT_HEADERS = ("supported", "server")
ACCEPTED_EVENTS = ("keep-alive", "check-sync", "message-summary")
COUNTER_KEYS = ("answered", "drained", "passed", "rejected",
                "dropped-rate", "dropped-scanner", "untrusted")

MWI_BODY = ("Messages-Waiting: yes\r\n"
            "Message-Account: sip:alice@127.0.0.1\r\n"
            "Voice-Message: 2/8 (0/2)\r\n")
# No Messages-Waiting line: RFC 3842 makes it mandatory
MWI_BAD_BODY = "this is not a message summary\r\n"

# RFC 3261 7.3.3 and the IANA registry: compact form -> long name
COMPACT = {
    "a": "accept-contact", "b": "referred-by", "c": "content-type",
    "d": "request-disposition", "e": "content-encoding", "f": "from",
    "i": "call-id", "j": "reject-contact", "k": "supported",
    "l": "content-length", "m": "contact", "n": "identity-info",
    "o": "event", "r": "refer-to", "s": "subject", "t": "to",
    "u": "allow-events", "v": "via", "x": "session-expires",
    "y": "identity",
}

verbose = False


def log(msg):
    if verbose:
        print(msg, flush=True)


def indent(text, prefix="    | "):
    return "\n".join(prefix + line for line in text.splitlines())


class Fail(Exception):
    """A check did not hold; the message says what was seen."""


class Interrupted(BaseException):
    """SIGTERM (e.g. a CTest timeout): unwind, clean up, report."""


def on_sigterm(signum, frame):
    raise Interrupted()


# ---------------------------------------------------------------------
# Ports

def port_free(port):
    """True if port is free on HOST for both UDP and TCP."""
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def pick_ports():
    """SIP port P (P and P+1 free: baresip binds TLS on P+1) and a ctrl
    port Q.  Chosen below the ephemeral range so that our own client
    sockets cannot take them between this check and baresip's bind."""
    low = 10000
    high = 32000
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            eph = int(f.read().split()[0])
        if eph - 3 > low + 1000:
            high = eph - 3
    except (OSError, ValueError, IndexError):
        pass
    for _ in range(200):
        p = random.randrange(low, high)
        q = random.randrange(low, high)
        if q in (p, p + 1):
            continue
        if port_free(p) and port_free(p + 1) and port_free(q):
            return p, q
    raise RuntimeError("no free ports found in %d..%d" % (low, high))


# ---------------------------------------------------------------------
# SIP messages

def canon(name):
    """Header name as compared: lower case, compact forms expanded."""
    n = name.strip().lower()
    return COMPACT.get(n, n)


class Response:
    """A parsed SIP response."""

    def __init__(self, raw):
        self.raw = raw
        head, sep, body = raw.partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("no end of headers")
        lines = head.decode("utf-8", "replace").split("\r\n")
        m = re.match(r"SIP/2\.0 (\d{3}) ?(.*)$", lines[0])
        if not m:
            raise ValueError("bad status line %r" % lines[0])
        self.status = int(m.group(1))
        self.reason = m.group(2)
        self.headers = []
        for line in lines[1:]:
            if line[:1] in (" ", "\t") and self.headers:
                # folded continuation line (RFC 3261 7.3.1)
                n, v = self.headers[-1]
                self.headers[-1] = (n, v + " " + line.strip())
                continue
            name, colon, value = line.partition(":")
            if not colon:
                raise ValueError("bad header line %r" % line)
            self.headers.append((canon(name), value.strip()))
        clen = self.hdr("content-length")
        if clen is not None:
            body = body[:int(clen)]
        self.body = body

    def hdrs(self, name):
        n = canon(name)
        return [v for (k, v) in self.headers if k == n]

    def hdr(self, name):
        v = self.hdrs(name)
        return v[0] if v else None

    def has(self, name):
        return bool(self.hdrs(name))

    def tokens(self, name):
        """Comma-separated values of every header of that name, lower
        case (Allow, Allow-Events, Supported ...)."""
        out = []
        for v in self.hdrs(name):
            out += [t.strip().lower() for t in v.split(",") if t.strip()]
        return out

    @property
    def to_tag(self):
        v = self.hdr("to") or ""
        if "<" in v:
            v = v[v.find(">") + 1:]
        for p in v.split(";")[1:]:
            k, _, val = p.partition("=")
            if k.strip().lower() == "tag":
                return val.strip()
        return None

    def cseq(self):
        return (self.hdr("cseq") or "").strip()

    def short(self):
        return "%d %s" % (self.status, self.reason)


def rand_hex(n=16):
    return uuid.uuid4().hex[:n]


class Request:
    """One SIP request: the bytes and the identifiers to match answers.

    style: "long" (normal header names), "compact" (v: f: t: i: o: l:)
    or "oddcase" (long names in odd letter case)."""

    def __init__(self, method, ruri, transport, lport, extra=(),
                 body="", to_tag=None, style="long"):
        self.method = method
        self.branch = "z9hG4bK" + rand_hex()
        self.call_id = rand_hex(20) + "@" + HOST
        self.cseq = "%d %s" % (random.randrange(1, 10000), method)
        ftag = rand_hex(10)
        to = "<%s>" % ruri
        if to_tag:
            to += ";tag=" + to_tag
        names = {
            "long": {},
            "compact": {"Via": "v", "From": "f", "To": "t",
                        "Call-ID": "i", "Event": "o",
                        "Content-Length": "l", "Content-Type": "c"},
            "oddcase": {"Via": "VIA", "From": "from", "To": "tO",
                        "Call-ID": "call-ID", "CSeq": "cseq",
                        "Max-Forwards": "MAX-forwards", "Event": "EVENT",
                        "Subscription-State": "subscription-STATE",
                        "Content-Length": "content-LENGTH",
                        "Content-Type": "CONTENT-type"},
        }[style]
        hdrs = [
            ("Via", "SIP/2.0/%s %s:%d;rport;branch=%s"
             % (transport.upper(), HOST, lport, self.branch)),
            ("Max-Forwards", "70"),
            ("From", "<sip:prober@%s>;tag=%s" % (HOST, ftag)),
            ("To", to),
            ("Call-ID", self.call_id),
            ("CSeq", self.cseq),
        ]
        hdrs += list(extra)
        bbody = body.encode()
        hdrs.append(("Content-Length", str(len(bbody))))
        text = "%s %s SIP/2.0\r\n" % (method, ruri)
        for n, v in hdrs:
            text += "%s: %s\r\n" % (names.get(n, n), v)
        self.data = text.encode() + b"\r\n" + bbody

    def matches(self, resp):
        """Is resp an answer to this request (Call-ID and CSeq)?"""
        return (resp.hdr("call-id") == self.call_id
                and " ".join(resp.cseq().split()) == self.cseq)


class SipClient:
    """Sends requests to baresip at HOST:port and collects answers."""

    def __init__(self, port):
        self.port = port

    def ruri(self, user):
        if user:
            return "sip:%s@%s:%d" % (user, HOST, self.port)
        return "sip:%s:%d" % (HOST, self.port)

    def request(self, transport, method, user=None, **kw):
        """Send one request; return its final answer or None."""
        answers = self.exchange(transport, method, user, sends=1,
                                timeout=kw.pop("timeout", ANSWER_TIMEOUT),
                                linger=0.0, **kw)
        return answers[0][0] if answers[0] else None

    def exchange(self, transport, method, user=None, sends=1,
                 timeout=ANSWER_TIMEOUT, linger=0.0, **kw):
        """Send the same request bytes `sends` times (a retransmission,
        same branch) from one socket.  After each send, wait up to
        `timeout` for a final answer and then `linger` more seconds for
        any further final answer.  Returns a list (one per send) of
        lists of final answers."""
        ruri = kw.pop("ruri", None) or self.ruri(user)
        # Request writes 127.0.0.1 into Via; with rport the answer goes
        # to the real source address anyway
        src = kw.pop("src", HOST)
        if transport == "udp":
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((src, 0))
            req = Request(method, ruri, transport, s.getsockname()[1],
                          **kw)
            log("  >> %s %s\n%s" % (transport, method,
                                    indent(req.data.decode("utf-8",
                                                           "replace"))))
            if transport == "tcp":
                s.settimeout(timeout)
                s.connect((HOST, self.port))
                reader = TcpReader(s)
            out = []
            for _ in range(sends):
                if transport == "udp":
                    s.sendto(req.data, (HOST, self.port))
                    got = self._collect(lambda t: udp_recv(s, t), req,
                                        timeout, linger)
                else:
                    s.sendall(req.data)
                    got = self._collect(reader.recv, req, timeout, linger)
                out.append(got)
            return out
        finally:
            s.close()

    def _collect(self, recv, req, timeout, linger):
        """Final answers to req: the first within timeout, then any more
        within linger.  Provisional and foreign answers are skipped."""
        got = []
        for raw in received(recv, timeout, 100):
            resp = parse_answer(raw)
            if req.matches(resp) and resp.status >= 200:
                got.append(resp)
                break
        if got and linger > 0:
            for raw in received(recv, linger, 100):
                resp = parse_answer(raw)
                if req.matches(resp) and resp.status >= 200:
                    got.append(resp)
        return got


def received(recv, timeout, most=10000):
    """Yield what recv(seconds left) returns until it returns None or
    timeout is over (at most `most` items)."""
    deadline = time.monotonic() + timeout
    for _ in range(most):
        left = deadline - time.monotonic()
        if left <= 0:
            return
        item = recv(left)
        if item is None:
            return
        yield item


def parse_answer(raw):
    """The Response in raw (logged); Fail if unparsable."""
    try:
        resp = Response(raw)
    except ValueError as e:
        raise Fail("unparsable answer (%s): %r" % (e, raw[:200]))
    log("  << %s\n%s" % (resp.short(), indent(raw.decode("utf-8",
                                                         "replace"))))
    return resp


def udp_recv(s, timeout):
    s.settimeout(max(timeout, 0.001))
    try:
        data, _ = s.recvfrom(65535)
        return data
    except socket.timeout:
        return None


class TcpReader:
    """SIP messages from a TCP stream, framed by Content-Length."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.eof = False

    def recv(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            # keep-alive CRLFs (RFC 5626) may precede a message
            self.buf = self.buf.lstrip(b"\r\n")
            msg = self._frame()
            if msg is not None:
                return msg
            left = deadline - time.monotonic()
            if left <= 0 or self.eof:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return None
            except OSError:
                self.eof = True
                return None
            if not chunk:
                self.eof = True
            self.buf += chunk
            if len(self.buf) > 1 << 20:
                raise Fail("more than 1 MiB of TCP data without a message")

    def _frame(self):
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = self.buf[:end].decode("utf-8", "replace")
        m = re.search(r"^(?:content-length|l)[ \t]*:[ \t]*(\d+)", head,
                      re.I | re.M)
        if not m:
            raise Fail("TCP answer without Content-Length: %r" % head)
        total = end + 4 + int(m.group(1))
        if len(self.buf) < total:
            return None
        msg, self.buf = self.buf[:total], self.buf[total:]
        return msg


# ---------------------------------------------------------------------
# ctrl_tcp

class CtrlError(Exception):
    pass


class Ctrl:
    """ctrl_tcp client: netstrings of JSON, answers matched by token,
    events (which share the connection) kept aside."""

    def __init__(self, port):
        self.sock = socket.create_connection((HOST, port), CTRL_TIMEOUT)
        self.buf = b""
        self.events = []
        self.seq = 0

    def close(self):
        self.sock.close()

    def _netstring(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            colon = self.buf.find(b":")
            if colon > 10 or (colon < 0 and len(self.buf) > 10):
                raise CtrlError("bad netstring: %r" % self.buf[:40])
            if colon >= 0:
                n = int(self.buf[:colon])       # ValueError if not digits
                if len(self.buf) >= colon + n + 2:
                    payload = self.buf[colon + 1:colon + 1 + n]
                    if self.buf[colon + 1 + n:colon + 2 + n] != b",":
                        raise CtrlError("netstring without ','")
                    self.buf = self.buf[colon + 2 + n:]
                    return payload
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return None
            if not chunk:
                raise CtrlError("ctrl_tcp closed the connection")
            self.buf += chunk

    def _message(self, timeout):
        payload = self._netstring(timeout)
        if payload is None:
            return None
        log("  ctrl << %s" % payload.decode("utf-8", "replace"))
        msg = json.loads(payload.decode("utf-8"))
        if msg.get("event"):
            self.events.append(msg)
        return msg

    def command(self, command, params=""):
        """Run a command; return (ok, data)."""
        self.seq += 1
        token = "t%d" % self.seq
        req = {"command": command, "token": token}
        if params:
            req["params"] = params
        payload = json.dumps(req).encode()
        log("  ctrl >> %s" % payload.decode())
        self.sock.sendall(b"%d:%s," % (len(payload), payload))
        deadline = time.monotonic() + CTRL_TIMEOUT
        for _ in range(1000):
            msg = self._message(max(deadline - time.monotonic(), 0))
            if msg is None:
                break
            if msg.get("response") and msg.get("token") == token:
                return bool(msg.get("ok")), msg.get("data") or ""
        raise CtrlError("no answer to %r within %.0f s"
                        % (command, CTRL_TIMEOUT))

    def drain(self, timeout=0.2):
        """Read whatever is pending (events), then forget old events."""
        for _ in range(1000):
            if self._message(timeout) is None:
                break
        self.events = []

    def wait_event(self, pred, timeout):
        deadline = time.monotonic() + timeout
        for _ in range(1000):
            for ev in self.events:
                if pred(ev):
                    return ev
            left = deadline - time.monotonic()
            if left <= 0 or self._message(left) is None:
                break
        for ev in self.events:
            if pred(ev):
                return ev
        return None


# ---------------------------------------------------------------------
# baresip process

def log_tail(path, n):
    """The last n lines of a process's log file ("" if unreadable)."""
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return ""
    return "\n".join(lines[-n:])


def write_baresip_files(folder, sip_port, module, conf_lines,
                        ctrl_port=None, account_params="",
                        origin="kar_harness.py", account=None):
    """baresip's config and accounts in folder: SIP on HOST:sip_port,
    the stock modules, the module at path module (None: stock baresip),
    ctrl_tcp on ctrl_port (None: none), one UA alice without
    registration (or the accounts line account), conf_lines last.
    Returns the config lines."""
    # module_path points at a folder of symlinks: 1.0.0 loads
    # module_path + "/" + name, so an absolute module path in a
    # "module" line does not work
    moddir = os.path.join(folder, "modules")
    os.makedirs(moddir, exist_ok=True)
    for name in sorted(os.listdir(STOCK_MODDIR)):
        if name.endswith(".so") and name != MODNAME + ".so":
            dst = os.path.join(moddir, name)
            if not os.path.lexists(dst):
                os.symlink(os.path.join(STOCK_MODDIR, name), dst)
    if module:
        dst = os.path.join(moddir, MODNAME + ".so")
        if os.path.lexists(dst):
            os.unlink(dst)
        os.symlink(os.path.abspath(module), dst)

    lines = [
        "# generated by " + origin,
        "poll_method\t\tepoll",
        "sip_listen\t\t%s:%d" % (HOST, sip_port),
        "module_path\t\t%s" % moddir,
        # An audio codec makes the stock OPTIONS-to-UA SDP realistic;
        # the 200 with SDP needs no module at all (no codec leaves
        # only telephone-event in the offer).
        "module\t\t\tg711.so",
    ]
    if module:
        lines.append("module\t\t\t%s.so" % MODNAME)
    # account.so before ctrl_tcp.so: once ctrl_tcp accepts, the UA
    # exists.  No stdio/cons: CI has no stdin.
    lines.append("module_app\t\taccount.so")
    if ctrl_port is not None:
        lines += ["module_app\t\tctrl_tcp.so",
                  "ctrl_tcp_listen\t\t%s:%d" % (HOST, ctrl_port)]
    lines += conf_lines
    with open(os.path.join(folder, "config"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(folder, "accounts"), "w") as f:
        f.write((account or "<sip:alice@%s>;regint=0%s" % (
            HOST, account_params)) + "\n")
    return lines


def spawn(cmd, cwd, logpath, stdin=subprocess.DEVNULL):
    """Start cmd in cwd in a session of its own (so that a signal to
    our process group does not reach it), stdout and stderr appended to
    logpath.  Returns the Popen."""
    log("starting: %s" % " ".join(cmd))
    with open(logpath, "ab") as logf:
        return subprocess.Popen(cmd, cwd=cwd, stdin=stdin, stdout=logf,
                                stderr=subprocess.STDOUT,
                                start_new_session=True)


def stop_process(proc, timeout):
    """Stop a Popen by PID: SIGTERM, up to timeout for it to exit, then
    SIGKILL and up to timeout again.  Returns its exit status (None if
    it would not die)."""
    if proc.poll() is None:
        proc.terminate()
        await_exit(proc, timeout)
    return proc.returncode


def await_exit(proc, timeout, kill_wait=None):
    """After a signal to stop: up to timeout for proc to exit, then
    SIGKILL (status -9) and up to kill_wait (default timeout) again.
    Only waits: a second SIGTERM would make baresip exit at once.
    Returns its exit status (None if it would not die)."""
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        try:
            proc.wait(timeout if kill_wait is None else kill_wait)
        except subprocess.TimeoutExpired:
            pass            # unkillable (D state): nothing left to do
    return proc.returncode


def proc_tree(root):
    """root and its descendants by /proc (Kamailio forks its workers)."""
    ppids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                # "pid (comm) state ppid ...": comm may hold spaces
                st = f.read().rsplit(")", 1)[1].split()
            ppids[int(d)] = int(st[1])
        except (OSError, IndexError, ValueError):
            pass
    kids = {}
    for pid, ppid in ppids.items():
        kids.setdefault(ppid, []).append(pid)
    out, todo = [], [root]
    while todo and len(out) < 1000:
        p = todo.pop()
        if p in ppids or p == root:
            out.append(p)
            todo.extend(kids.get(p, []))
    return out


# Debian's Kamailio; its config for one UDP worker on HOST
KAM_MODDIR = "/usr/lib/x86_64-linux-gnu/kamailio/modules"


def kamailio_cfg(origin, port, modules, rest, debug=-1, host=None):
    """A Kamailio config: one UDP worker on host:port (default HOST),
    no TCP, no DNS, the modules (names without .so) loaded, then rest
    (modparams and routes).  origin says what wrote it and why."""
    head = ["#!KAMAILIO", "# generated by " + origin,
            "debug=%d" % debug, "log_stderror=yes", "fork=yes",
            "children=1", "disable_tcp=yes", "disable_sctp=yes",
            "auto_aliases=no", "dns=no", "rev_dns=no",
            "use_dns_cache=no",
            "listen=udp:%s:%d" % (host or HOST, port),
            'mpath="%s"' % KAM_MODDIR, ""]
    head += ['loadmodule "%s.so"' % m for m in modules]
    return "\n".join(head) + "\n\n" + rest


class TempProcess:
    """A program run in a temporary folder of its own, its stdout and
    stderr in logpath there; cleanup() stops it and removes the folder
    unless keep (idempotent: also atexit)."""

    TAIL = 30                   # log_tail's default line count

    def __init__(self, prefix, logname, keep):
        self.keep = keep
        self.proc = None
        self.dir = tempfile.mkdtemp(prefix=prefix)
        self.logpath = os.path.join(self.dir, logname)
        atexit.register(self.cleanup)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_size(self):
        try:
            return os.path.getsize(self.logpath)
        except OSError:
            return 0

    def log_text(self, mark=0):
        try:
            with open(self.logpath, "rb") as f:
                f.seek(mark)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, n=None):
        return log_tail(self.logpath, n or self.TAIL)

    def cleanup(self):
        try:
            self.stop()
        finally:
            if self.dir is not None:
                if self.keep:
                    print("kept %s" % self.dir, file=sys.stderr)
                else:
                    shutil.rmtree(self.dir, ignore_errors=True)
                self.dir = None


class Kamailio(TempProcess):
    """Debian's Kamailio in the foreground in a temporary folder: one
    UDP worker on HOST, the ctl module on a unix socket there (kamcmd),
    stdout and stderr in kamailio.log.  cfg(port, folder) returns the
    modparams and routes; ctl and the modules listed are loaded.
    start() again after stop() runs a new Kamailio in the same folder
    (the log goes on), on a new port unless same_port.  host: the
    address it listens on (default HOST); wrap: a command that runs it
    and execs it in the same process (e.g. nsenter --net=... --: the
    PID stays Kamailio's), so that it is stopped by PID all the same."""

    START = 10.0 * TIME_SCALE   # answers on its ctl socket within this
    STOP = 5.0 * TIME_SCALE

    def __init__(self, binary, kamcmd, modules, cfg, keep,
                 origin="kar_harness.py", host=None, wrap=()):
        self.binary = binary
        self.kamcmd = kamcmd
        self.modules = tuple(modules)
        self.cfg = cfg
        self.origin = origin
        self.host = host
        self.wrap = list(wrap)
        self.pids = []
        self.port = None
        super().__init__("kar_kamailio.", "kamailio.log", keep)
        self.sock = os.path.join(self.dir, "kamailio_ctl")

    def start(self, same_port=False):
        for _ in range(3):
            if not (same_port and self.port):
                self.port = pick_ports()[0]
            rest = ('modparam("ctl", "binrpc", "unix:%s")\n' % self.sock
                    + self.cfg(self.port, self.dir))
            with open(os.path.join(self.dir, "kamailio.cfg"), "w") as f:
                f.write(kamailio_cfg(self.origin, self.port,
                                     ("ctl",) + self.modules, rest,
                                     debug=1, host=self.host))
            if os.path.exists(self.sock):
                os.unlink(self.sock)
            mark = self.log_size()
            cmd = self.wrap + [
                self.binary, "-f", os.path.join(self.dir, "kamailio.cfg"),
                "-DD", "-E", "-m", "32", "-M", "8", "-Y", self.dir,
                "-P", os.path.join(self.dir, "kamailio.pid"),
                "-w", self.dir]
            self.proc = spawn(cmd, self.dir, self.logpath)
            deadline = time.monotonic() + self.START
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                if os.path.exists(self.sock) and self.rpc("core.version"):
                    self.pids = proc_tree(self.proc.pid)
                    return
                time.sleep(0.1)
            self.stop()
            if "Address already in use" not in self.log_text(mark):
                raise RuntimeError("Kamailio did not start:\n%s"
                                   % self.log_tail())
        raise RuntimeError("Kamailio: ports kept being taken")

    def rpc(self, *cmd):
        """kamcmd's output, or None."""
        try:
            r = subprocess.run([self.kamcmd, "-s", "unix:" + self.sock]
                               + list(cmd), capture_output=True,
                               text=True, timeout=3 * TIME_SCALE)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return r.stdout if r.returncode == 0 else None

    def stop(self, kill=False):
        """Stop by PID: the main process (SIGTERM then SIGKILL, or
        SIGKILL at once), then any worker left."""
        if self.proc is None:
            return
        pids = set(self.pids) | set(proc_tree(self.proc.pid))
        pids.discard(self.proc.pid)
        if kill and self.proc.poll() is None:
            self.proc.kill()
        stop_process(self.proc, self.STOP)
        for pid in sorted(pids):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass            # gone already, as it should be
        self.pids = []


def poll_until(fn, timeout, poll=0.05):
    """Call fn() every poll s until it returns something true, for at
    most timeout s and timeout / poll + 2 calls: its last value."""
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / poll) + 1):
        v = fn()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(poll)
    return fn()


def wait_log(path, pred, mark=0, timeout=ANSWER_TIMEOUT, poll=0.05):
    """Poll the file at path from offset mark until pred(line) holds
    for a line: (that line, time.time() when seen), or (None, None)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(path, "rb") as f:
                f.seek(mark)
                text = f.read().decode("utf-8", "replace")
        except OSError:
            text = ""
        for line in text.splitlines():
            if pred(line):
                return line, time.time()
        if time.monotonic() >= deadline:
            return None, None
        time.sleep(poll)


class Baresip(TempProcess):
    """One baresip process in its own temporary folder."""

    TAIL = 40

    def __init__(self, binary, module, conf_lines, keep, extra_args=(),
                 stdin=subprocess.DEVNULL):
        self.binary = binary
        self.stdin = stdin              # a pty for console tests
        self.module = module            # None: stock baresip
        self.conf_lines = list(conf_lines)
        self.extra_args = list(extra_args)
        self.sip_port = self.ctrl_port = None
        self.account_params = ""        # more ;params of the account
        self.account = None             # a whole accounts line instead
        super().__init__("kar_harness.", "baresip.log", keep)

    def _write_files(self):
        lines = write_baresip_files(
            self.dir, self.sip_port, self.module, self.conf_lines,
            ctrl_port=self.ctrl_port, account_params=self.account_params,
            account=self.account)
        log("config:\n" + indent("\n".join(lines)))

    def start(self):
        """Start and wait until ready; retry with other ports when a
        port got taken in between (parallel test runs)."""
        for _ in range(3):
            self.sip_port, self.ctrl_port = pick_ports()
            self._write_files()
            self.proc = spawn([self.binary, "-f", self.dir]
                              + self.extra_args, self.dir, self.logpath,
                              self.stdin)
            mark = self.log_size()
            err = self._wait_ready()
            if err is None:
                return
            self.stop()
            if "Address already in use" not in self.log_text(mark):
                raise RuntimeError(err)
        raise RuntimeError("ports kept being taken; gave up")

    def _wait_ready(self):
        """None when ctrl_tcp accepts and SIP answers, else why not."""
        deadline = time.monotonic() + START_TIMEOUT
        ctrl_ok = False
        sip = SipClient(self.sip_port)
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return "baresip exited with status %d during start-up" \
                    % self.proc.returncode
            if not ctrl_ok:
                try:
                    socket.create_connection((HOST, self.ctrl_port),
                                             0.2).close()
                    ctrl_ok = True
                except OSError:
                    time.sleep(0.1)
                    continue
            try:
                if sip.request("udp", "OPTIONS", None, timeout=0.3):
                    return None
            except (OSError, Fail):
                time.sleep(0.1)
        return "not ready within %.0f s (ctrl_tcp %s)" % (
            START_TIMEOUT, "accepting" if ctrl_ok else "not accepting")

    def dead(self):
        """Why baresip is not running, or None while it runs."""
        if self.alive():
            return None
        return "baresip is not running (exit status %r)" % (
            self.proc and self.proc.returncode)

    def terminate(self):
        """SIGTERM, then a connection to ctrl_tcp opened and closed.
        libre's signal handler only notes the signal, and its main loop
        acts on it before each wait for events: a signal that comes
        after that check is acted on at the next event or timer.
        Natively the window is a few instructions; under valgrind, which
        delivers a signal at the next system call (the wait itself),
        baresip sat out up to 32 s (a transaction's timer) before it
        began to stop.  The connection is that event."""
        self.proc.terminate()
        if self.ctrl_port:
            try:
                socket.create_connection((HOST, self.ctrl_port),
                                         1.0).close()
            except OSError:
                pass            # ctrl_tcp not loaded or gone already

    def stop(self, timeout=None):
        """Stop by PID: SIGTERM (terminate()), then SIGKILL after
        timeout (default STOP_TIMEOUT).  Returns exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.terminate()
            await_exit(self.proc, timeout or STOP_TIMEOUT)
        return self.proc.returncode

    def cores(self):
        if self.dir is None:
            return []
        return [n for n in os.listdir(self.dir) if n.startswith("core")]


class Scenario:
    """One baresip run among a script's checks (named label.name): the
    runner's guard while baresip runs; cleanup() stops baresip and the
    others (TempProcesses, e.g. Kamailios), shows their logs' tails if
    a check of this run failed, and removes their folders."""

    TAIL = 40

    def __init__(self, runner, label, bs):
        self.runner = runner
        self.label = label
        self.bs = bs
        self.others = []
        self.ctrl = None
        self.failed_before = runner.failed

    def check(self, name, fn, *a):
        return self.runner.run("%s.%s" % (self.label, name), fn, *a)

    def started(self):
        """More of the start check, once ctrl_tcp is connected."""

    def start(self):
        def start():
            self.bs.start()
            self.ctrl = Ctrl(self.bs.ctrl_port)
            self.started()
        if not self.check("start", start):
            return False
        self.runner.guard = self.bs.dead
        return True

    def release(self):
        """Before baresip stops: the runner's guard off (its exit is
        no failure now), ctrl_tcp closed."""
        self.runner.guard = None
        if self.ctrl:
            self.ctrl.close()
            self.ctrl = None

    def cleanup(self):
        self.release()
        # baresip first: registered with one of the others (a Kamailio
        # registrar), it un-REGISTERs as it stops, and with nobody left
        # to answer it would wait to be killed after STOP_TIMEOUT
        for p in [self.bs] + self.others:
            p.stop()
        procs = self.others + [self.bs]
        if self.runner.failed > self.failed_before:
            sys.stdout.flush()
            for p in procs:
                print("--- tail of the %s run's %s ---\n%s\n---"
                      % (self.label, os.path.basename(p.logpath),
                         p.log_tail(self.TAIL)), file=sys.stderr)
        for p in procs:
            p.cleanup()


# ---------------------------------------------------------------------
# Console

CONSOLE_TIMEOUT = 5.0 * TIME_SCALE    # for what a typed command prints


class Console:
    """baresip's console (stdio.so on a pseudo-terminal): keys go to
    the terminal (fd: its master side); what baresip prints goes to
    its stdout, which the harness sends to the log file (logpath)."""

    def __init__(self, fd, logpath):
        self.fd = fd
        self.logpath = logpath
        self.seen = b""

    def wait_for(self, needle, mark, timeout=None):
        """Read the log from mark until needle shows up (bounded: by
        default CONSOLE_TIMEOUT)."""
        deadline = time.monotonic() + (timeout or CONSOLE_TIMEOUT)
        while time.monotonic() < deadline:
            with open(self.logpath, "rb") as f:
                f.seek(mark)
                self.seen = f.read()
            if needle.encode() in self.seen:
                return True
            time.sleep(0.05)
        return False

    def command(self, line, needle):
        """Type a command; True when its answer names needle."""
        mark = os.path.getsize(self.logpath)
        os.write(self.fd, (line + "\n").encode())
        return self.wait_for(needle, mark)


# ---------------------------------------------------------------------
# Checks on answers.  Each takes (response, request kwargs) and raises
# Fail; expect() chains them.

def expect(status, *checks):
    def check(resp, kw):
        if resp is None:
            raise Fail("no answer within %.1f s, expected %d"
                       % (ANSWER_TIMEOUT, status))
        if resp.status != status:
            raise Fail("got %s, expected %d" % (resp.short(), status))
        for c in checks:
            c(resp, kw)
    return check


def no_answer(resp, kw):
    if resp is not None:
        raise Fail("got %s, expected no answer (dropped)" % resp.short())


def sdp_body(resp, kw):
    ct = (resp.hdr("content-type") or "").lower()
    if not ct.startswith("application/sdp"):
        raise Fail("Content-Type %r, expected application/sdp" % ct)
    if not resp.body.startswith(b"v=0"):
        raise Fail("body is not SDP: %r" % resp.body[:60])


def has_contact(resp, kw):
    if not resp.has("contact"):
        raise Fail("no Contact header (the core's answer has one)")


def no_body(resp, kw):
    if resp.body:
        raise Fail("has a body of %d bytes: %r"
                   % (len(resp.body), resp.body[:60]))
    if resp.hdr("content-length") != "0":
        raise Fail("Content-Length %r, expected 0"
                   % resp.hdr("content-length"))
    if resp.has("content-type"):
        raise Fail("has Content-Type %r with no body"
                   % resp.hdr("content-type"))


def capability_headers(resp, kw):
    missing = [h for h in CAPABILITY_HEADERS if not resp.has(h)]
    if missing:
        raise Fail("missing header(s) %s" % ", ".join(missing))
    extra = [h for h in NOT_HEADERS if resp.has(h)]
    if extra:
        raise Fail("has header(s) %s" % ", ".join(extra))


def no_allow(resp, kw):
    if resp.has("allow"):
        raise Fail("has Allow %r, expected none" % resp.hdr("allow"))


def allow_without_method(resp, kw):
    toks = resp.tokens("allow")
    if not toks:
        raise Fail("no Allow header (or an empty one)")
    if kw["method"].lower() in toks:
        raise Fail("Allow %r lists the rejected method %s"
                   % (resp.hdrs("allow"), kw["method"]))


def allow_events(resp, kw):
    toks = resp.tokens("allow-events")
    missing = [e for e in ACCEPTED_EVENTS if e not in toks]
    if missing:
        raise Fail("Allow-Events %r lacks %s"
                   % (resp.hdrs("allow-events"), ", ".join(missing)))


def reason_has(word):
    def check(resp, kw):
        if word.lower() not in resp.reason.lower():
            raise Fail("reason %r does not name %s" % (resp.reason, word))
    return check


def sdp_lines(body):
    return body.decode("utf-8", "replace").split("\r\n")


def caps_sdp(resp, kw):
    """The module's capability SDP (RFC 3264 9): application/sdp, the
    length right, every m= line on port 0, o= and c= on the address
    the request went to, no Contact (no call behind it)."""
    sdp_body(resp, kw)
    if int(resp.hdr("content-length") or -1) != len(resp.body):
        raise Fail("Content-Length %r for a body of %d bytes"
                   % (resp.hdr("content-length"), len(resp.body)))
    lines = sdp_lines(resp.body)
    if lines[-1] != "" or lines[2:5] != ["s=-", "c=IN IP4 " + HOST,
                                         "t=0 0"]:
        raise Fail("SDP session lines %r" % lines[:5])
    if not re.match(r"o=- \d+ \d+ IN IP4 %s$" % re.escape(HOST),
                    lines[1]):
        raise Fail("SDP origin %r" % lines[1])
    media = [ln for ln in lines if ln.startswith("m=")]
    if not media or not re.match(r"m=audio 0 [A-Z/]+ \d", media[0]):
        raise Fail("SDP media lines %r" % media)
    for ln in media:
        if ln.split()[1] != "0":
            raise Fail("SDP media line %r: port is not 0" % ln)
    if resp.has("contact"):
        raise Fail("has Contact %r (the core's answer)"
                   % resp.hdr("contact"))


def module_200(*more):
    """The module's own 200 to OPTIONS: the RFC 3261 11.2 headers and
    the capability SDP."""
    return expect(200, caps_sdp, capability_headers, *more)


def module_200_bare(*more):
    """The module's own 200 to OPTIONS without a body (Accept rules it
    out, or keepalive_responder_sdp no)."""
    return expect(200, no_body, capability_headers, *more)


# ---------------------------------------------------------------------
# Requests (keyword arguments of SipClient.request)

SUBSTATE = ("Subscription-State", "active")
MWI_CT = ("Content-Type", "application/simple-message-summary")

REQ = {
    "options_alice": dict(method="OPTIONS", user="alice"),
    "options_nouser": dict(method="OPTIONS", user=None),
    "options_bob": dict(method="OPTIONS", user="bob"),
    "notify_keepalive": dict(
        method="NOTIFY", user="alice",
        extra=[("Event", "keep-alive"), SUBSTATE]),
    "notify_keepalive_nosubstate": dict(
        method="NOTIFY", user="alice", extra=[("Event", "keep-alive")]),
    "notify_keepalive_nouser": dict(
        method="NOTIFY", user=None,
        extra=[("Event", "keep-alive"), SUBSTATE]),
    "notify_checksync": dict(
        method="NOTIFY", user="alice", extra=[("Event", "check-sync")]),
    "notify_mwi": dict(
        method="NOTIFY", user="alice",
        extra=[("Event", "message-summary"), SUBSTATE, MWI_CT],
        body=MWI_BODY),
    "notify_mwi_malformed": dict(
        method="NOTIFY", user="alice",
        extra=[("Event", "message-summary"), SUBSTATE, MWI_CT],
        body=MWI_BAD_BODY),
    "notify_presence": dict(
        method="NOTIFY", user="alice",
        extra=[("Event", "presence"), SUBSTATE]),
    "notify_no_event": dict(
        method="NOTIFY", user="alice", extra=[SUBSTATE]),
    "notify_in_dialog": dict(
        method="NOTIFY", user="alice", to_tag="xyz",
        extra=[("Event", "keep-alive"), SUBSTATE]),
    "publish": dict(method="PUBLISH", user=None,
                    extra=[("Event", "presence")]),
    "foo": dict(method="FOO", user=None),
    "notify_compact": dict(
        method="NOTIFY", user="alice", style="compact",
        extra=[("Event", "keep-alive")]),
    "notify_oddcase": dict(
        method="NOTIFY", user="alice", style="oddcase",
        extra=[("Event", "keep-alive"), SUBSTATE]),
    # A scanner User-Agent blocks its source (enum_ban): from an address
    # of its own, so that the other requests of the run still pass
    "options_scanner": dict(
        method="OPTIONS", user=None, timeout=SILENCE_WAIT, src="127.0.0.9",
        extra=[("User-Agent", "friendly-scanner")]),
}

# What stock baresip answers, per generation (major, minor), as measured
# on each with kar_probe.py --stock.  integration_stock asserts the
# table of the baresip under test; a baresip without one fails there.
STOCK_1_0 = {
        "options_alice": expect(200, sdp_body, has_contact),
        "options_nouser": expect(404),
        "options_bob": expect(404),
        "notify_keepalive": expect(481),
        "notify_keepalive_nosubstate": expect(400),
        "notify_keepalive_nouser": expect(481),
        "notify_checksync": expect(400),
        "notify_mwi": expect(481),
        "notify_mwi_malformed": expect(481),
        "notify_presence": expect(481),
        "notify_no_event": expect(489),
        "notify_in_dialog": expect(481),
        "publish": expect(501, no_allow),
        "foo": expect(501, no_allow),
        # the stack reads both spellings: 400 (no Subscription-State
        # in the compact one), 481 for the odd-case one
        "notify_compact": expect(400),
        "notify_oddcase": expect(481),
        "options_scanner": expect(404),
}
STOCK = {
    (1, 0): STOCK_1_0,
    # 1.1 routes an IPv4 OPTIONS to any user, or none, to the account
    # that does not register (its fallback): 200 with SDP as for alice
    (1, 1): dict(STOCK_1_0,
                 options_nouser=expect(200, sdp_body, has_contact),
                 options_bob=expect(200, sdp_body, has_contact),
                 options_scanner=expect(200, sdp_body, has_contact)),
    # source builds, measured with KAR_STOCK_MODDIR at their prefix
    (3, 24): STOCK_1_0,
    (4, 10): STOCK_1_0,
}

# A request the module passes on gets what the stock baresip under test
# answers: its STOCK row
PASS = "pass"


# The baresip under test (--baresip); the scripts that import this one
# set it too
BARESIP = "/usr/bin/baresip"
_versions = {}


def baresip_version(binary=None):
    """(major, minor, patch) of the baresip that binary runs, from its
    banner (a wrapper such as baresip-valgrind runs the real one)."""
    binary = binary or BARESIP
    if binary not in _versions:
        try:
            out = subprocess.run(
                [binary, "-h"], stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                timeout=START_TIMEOUT).stdout
        except (OSError, subprocess.TimeoutExpired) as e:
            raise Fail("%s -h: %s" % (binary, e))
        m = re.search(rb"baresip v(\d+)\.(\d+)\.(\d+)", out)
        if not m:
            raise Fail("%s -h printed no baresip version" % binary)
        _versions[binary] = tuple(int(x) for x in m.groups())
    return _versions[binary]


def stock_table():
    """The stock answers of the baresip under test, by generation."""
    v = baresip_version()
    if v[:2] not in STOCK:
        raise Fail("no measured stock answers for baresip %d.%d.%d "
                   "(known: %s): measure them with --stock and add them"
                   % (v + (", ".join("%d.%d" % g for g in STOCK),)))
    return STOCK[v[:2]]


def stock_expect(name):
    """The check of what stock baresip answers to REQ[name]."""
    return stock_table()[name]


def expectation(mode, name):
    """The check of the answer to REQ[name] in this mode."""
    if mode == "stock":
        return stock_expect(name)
    want = EXPECT[mode][name]
    return stock_expect(name) if want is PASS else want

# Expected answers per mode.  A name missing from a mode is not sent.
EXPECT = {
    "shared": {
        "options_alice": PASS,
        "options_nouser": module_200(),
        "options_bob": PASS,
        "notify_keepalive": expect(200, no_body),
        "notify_keepalive_nosubstate": expect(200, no_body),
        "notify_keepalive_nouser": expect(200, no_body),
        "notify_checksync": expect(200, no_body),
        "notify_mwi": expect(200, no_body),
        "notify_mwi_malformed": expect(400),
        "notify_presence": expect(489, allow_events),
        "notify_no_event": PASS,
        "notify_in_dialog": PASS,
        "publish": PASS,
        "foo": PASS,
        "notify_compact": expect(200, no_body),
        "notify_oddcase": expect(200, no_body),
        "options_scanner": no_answer,
    },
    "exclusive": {
        "options_alice": module_200(),
        "options_nouser": module_200(),
        "options_bob": module_200(),
        "notify_keepalive": expect(200, no_body),
        "notify_keepalive_nosubstate": expect(200, no_body),
        "notify_keepalive_nouser": expect(200, no_body),
        "notify_checksync": expect(200, no_body),
        "notify_mwi": expect(200, no_body),
        "notify_mwi_malformed": expect(400),
        "notify_presence": expect(489, allow_events),
        "notify_no_event": expect(400, reason_has("Event")),
        "notify_in_dialog": PASS,
        "publish": expect(405, allow_without_method),
        "foo": expect(405, allow_without_method),
        "notify_compact": expect(200, no_body),
        "notify_oddcase": expect(200, no_body),
        "options_scanner": no_answer,
    },
}


# ---------------------------------------------------------------------
# Test runner

class Runner:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.guard = None       # returns why no test can pass, or None
        self.steps = []         # the checks under way, outermost first
        self.stopped_in = None  # where an interruption found it

    def run(self, name, fn, *args):
        why = self.guard and self.guard()
        if why:
            self.fail(name, why)
            return False
        self.steps.append(name)
        try:
            fn(*args)
        except (KeyboardInterrupt, Interrupted):
            if self.stopped_in is None:
                self.stopped_in = " > ".join(self.steps)
            raise
        except Fail as e:
            self.fail(name, str(e))
        except Exception as e:
            # socket errors, ctrl_tcp trouble, odd JSON: a failure of
            # this check, not a reason to stop the others
            self.fail(name, "%s: %s" % (type(e).__name__, e))
            if verbose:
                traceback.print_exc()
        else:
            self.passed += 1
            print("ok   %s" % name, flush=True)
            return True
        finally:
            self.steps.pop()
        return False

    def fail(self, name, why):
        self.failed += 1
        print("FAIL %s: %s" % (name, why), flush=True)


def check_sip(sip, name, transport, mode):
    kw = dict(REQ[name])
    resp = sip.request(transport, **kw)
    expectation(mode, name)(resp, kw)


def mode_word(data, want):
    if not re.search(r"\b%s\b" % want, data, re.I):
        raise Fail("answer %r does not say %r" % (data, want))


def ctrl_ok(ctrl, command, params=""):
    ok, data = ctrl.command(command, params)
    if not ok:
        raise Fail("%s %s: ok:false, %r" % (command, params, data))
    return data



# ---------------------------------------------------------------------
# Checks more than one script runs

def t_mwi_event(ctrl, sip):
    ctrl.drain()
    kw = dict(REQ["notify_mwi"])
    resp = sip.request("udp", **kw)
    expect(200)(resp, kw)
    ev = ctrl.wait_event(lambda e: e.get("type") == "MWI_NOTIFY", 2.0)
    if ev is None:
        raise Fail("no MWI_NOTIFY event on ctrl_tcp within 2 s")
    if "Messages-Waiting: yes" not in (ev.get("param") or ""):
        raise Fail("MWI_NOTIFY event param lacks the body: %r" % ev)
    if "alice" not in (ev.get("accountaor") or ""):
        raise Fail("MWI_NOTIFY event for %r, expected alice"
                   % ev.get("accountaor"))


def is_int(v):
    return type(v) is int         # not bool, not float


def stats_value(st, path):
    v = st
    for p in path.split("."):
        v = v.get(p) if isinstance(v, dict) else None
    return v


def t_shutdown(bs, timeout=None):
    """SIGTERM ends baresip cleanly (within timeout, default
    STOP_TIMEOUT): status 0, no core file."""
    was_alive = bs.alive()
    shutdown_verdict(bs, was_alive, bs.stop(timeout))


def begin_shutdown(bs):
    """t_shutdown in two halves, for a shutdown that waits out SIP
    timers while other runs go on: SIGTERM now; t_shutdown_end() judges
    it later.  Returns what t_shutdown_end() needs."""
    was_alive = bs.alive()
    if was_alive:
        bs.terminate()
    return was_alive, time.monotonic()


def t_shutdown_end(bs, begun, timeout=None):
    """The SIGTERM begin_shutdown() sent ended baresip cleanly within
    timeout of it (default STOP_TIMEOUT): status 0, no core file.  Only
    waits (a second SIGTERM would make baresip exit at once); SIGKILL
    after the timeout."""
    was_alive, t0 = begun
    status = None
    if bs.proc is not None:
        left = t0 + (timeout or STOP_TIMEOUT) - time.monotonic()
        status = await_exit(bs.proc, max(left, 0.0), STOP_TIMEOUT)
    shutdown_verdict(bs, was_alive, status)


def shutdown_verdict(bs, was_alive, status):
    """t_shutdown's judgement: baresip ran until the SIGTERM and exited
    with status 0, no core file."""
    cores = bs.cores()
    where = (" (core file(s) %s in %s%s)" % (
        ", ".join(cores), bs.dir, "" if bs.keep else "; use --keep")
        if cores else "")
    if not was_alive:
        raise Fail("baresip died during the run (status %r)%s"
                   % (status, where))
    if status != 0:
        raise Fail("baresip exited with status %r after SIGTERM%s"
                   % (status, where))
    if cores:
        raise Fail("core file(s) left%s" % where)


def t_rate_limit(bs, rate, n):
    """A burst of n OPTIONS from one source: about 2 x rate answered
    (the bucket's burst), the rest dropped silently and counted."""
    ctrl = Ctrl(bs.ctrl_port)
    try:
        ctrl_ok(ctrl, "kar_stats", "reset")
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind((HOST, 0))
            uri = SipClient(bs.sip_port).ruri(None)
            reqs = [Request("OPTIONS", uri, "udp", s.getsockname()[1])
                    for _ in range(n)]
            for r in reqs:
                s.sendto(r.data, (HOST, bs.sip_port))
            answered = set()
            deadline = time.monotonic() + 1.0
            for _ in range(10 * n):
                raw = udp_recv(s, deadline - time.monotonic())
                if raw is None:
                    break
                resp = Response(raw)
                if resp.status >= 200:
                    answered.add(resp.hdr("call-id"))
        finally:
            s.close()
        st = json.loads(ctrl_ok(ctrl, "kar_stats", "json"))
    finally:
        ctrl.close()
    got = len(answered)
    # start-up probes took a token or two; refill adds about one
    burst = 2 * rate
    if not burst - 3 <= got <= burst + 1:
        raise Fail("%d of %d answered, expected about %d (burst of rate "
                   "%d/s)" % (got, n, burst, rate))
    dropped = stats_value(st, "methods.OPTIONS.dropped-rate")
    if dropped != n - got:
        raise Fail("methods.OPTIONS.dropped-rate = %r, expected %d"
                   % (dropped, n - got))


# ---------------------------------------------------------------------
# Scripts on this harness

def options_from(port, src, extra=(), user=None, timeout=ANSWER_TIMEOUT):
    """One OPTIONS from a socket bound to src; its final answer or None."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind((src, 0))
        ruri = ("sip:%s@127.0.0.1:%d" % (user, port) if user
                else "sip:127.0.0.1:%d" % port)
        # Request writes 127.0.0.1 into Via; with rport the answer
        # goes to the real source address anyway
        req = Request("OPTIONS", ruri, "udp", s.getsockname()[1],
                         extra=extra)
        s.sendto(req.data, (HOST, port))
        deadline = time.monotonic() + timeout
        for _ in range(100):
            raw = udp_recv(s, deadline - time.monotonic())
            if raw is None:
                return None
            try:
                resp = Response(raw)
            except ValueError:
                continue
            if req.matches(resp) and resp.status >= 200:
                return resp
        return None
    finally:
        s.close()


def netns_argv(script, args, extra=()):
    """The command that runs script (a test script) again in a new
    network namespace, unshare -n (-r too when not root), with args'
    --baresip, --module, --kamailio, --kamcmd, --keep and -v, then
    extra.  relay_run() runs it."""
    cmd = ["unshare", "-n"]
    if os.geteuid() != 0:
        cmd.append("-r")
    cmd += [sys.executable, os.path.abspath(script), "--in-netns",
            "--baresip", args.baresip, "--module", args.module,
            "--kamailio", args.kamailio, "--kamcmd", args.kamcmd]
    cmd += list(extra)
    if args.keep:
        cmd.append("--keep")
    if args.verbose:
        cmd.append("-v")
    return cmd


def relay_run(cmd, runner, name, grace, hint=""):
    """Run cmd, a test script's run of its own (e.g. in a network
    namespace: unshare -n ...), relay its output, and add the checks
    its closing "N passed, M failed" line counts to runner's.  No
    such line, or a failing exit status with no failed check, is a
    failure of check name.  When we are interrupted (SIGTERM: a CTest
    timeout) it gets SIGTERM too and grace seconds to clean up."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    last = ""
    try:
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            # the closing line (a "kept" note may follow it)
            if re.match(r"\d+ passed, \d+ failed", line):
                last = line
        proc.wait(grace)
    finally:
        # our SIGTERM (a CTest timeout): the inner run cleans up
        stop_process(proc, grace)
    m = re.match(r"(\d+) passed, (\d+) failed", last)
    if not m:
        runner.fail(name, "%s ... exited with status %r and no result "
                    "line%s" % (" ".join(cmd[:2]), proc.returncode, hint))
        return
    runner.passed += int(m.group(1))
    runner.failed += int(m.group(2))
    if proc.returncode and not int(m.group(2)):
        runner.fail(name, "inner run exited with status %d"
                    % proc.returncode)


def run_checked(args, runner, fn):
    """Check the binaries, then return fn(args, runner).  An interruption
    or a harness bug counts as a failure, never as a pass (then None)."""
    if args.module and not os.path.isfile(args.module):
        runner.fail("module_file", "no such file: %s" % args.module)
    elif not os.access(args.baresip, os.X_OK):
        runner.fail("baresip_binary", "not executable: %s" % args.baresip)
    else:
        try:
            return fn(args, runner)
        except (KeyboardInterrupt, Interrupted) as e:
            # a hang that only the caller's timeout ended: say where
            runner.fail("interrupted", "%s during %s" % (
                type(e).__name__, runner.stopped_in or "the set-up"))
        except Exception as e:      # a harness bug must not hide as a pass
            runner.fail("harness", "%s: %s" % (type(e).__name__, e))
            if verbose:
                traceback.print_exc()
    return None


def script_main(description, run_all, more_args=None):
    """main() of a test script on this harness: --baresip, --module,
    --keep, -v and what more_args(parser) adds; run_all(args, runner)
    runs guarded by run_checked, SIGTERM (a CTest timeout) unwinds
    through the scripts' finally blocks, and the closing line is
    printed.  Returns the exit status."""
    global verbose, BARESIP
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--baresip", default="/usr/bin/baresip",
                    help="baresip executable (default %(default)s)")
    ap.add_argument("--module", required=True, metavar="PATH",
                    help="the built keepalive_responder.so")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary folders")
    ap.add_argument("-v", "--verbose", action="store_true")
    if more_args:
        more_args(ap)
    args = ap.parse_args()
    BARESIP = args.baresip
    verbose = args.verbose
    signal.signal(signal.SIGTERM, on_sigterm)

    runner = Runner()
    run_checked(args, runner, run_all)
    return finish(runner)


def finish(runner):
    """The closing line CTest and CI read; the exit status."""
    print("%d passed, %d failed" % (runner.passed, runner.failed),
          flush=True)
    return 1 if runner.failed else 0
