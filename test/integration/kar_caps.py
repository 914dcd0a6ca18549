#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
"""
kar_caps.py -- capability answers to OPTIONS against the real baresip.

The module's 200 to an OPTIONS carries an SDP of what baresip can do
(RFC 3261 11.2, RFC 3264 9) when the request's Accept admits
application/sdp, and no body otherwise.  Checked over UDP and TCP: no
Accept, application/sdp, application/*, */*, a list, text/plain only,
q=0, the most specific range deciding; a retransmission gets the same
bytes; the SDP names the same codecs, payload types and transport as
stock baresip's own answer to an OPTIONS for the UA (measured on the
same baresip in shared mode, where the core answers it), with port 0 and
no call behind it (exclusive mode to the UA); loading a codec module at
run time (insmod g722.so over ctrl_tcp) changes the SDP and unloading it
changes it back; a video codec with a source gives an m=video line; the
account's media encryption (mediaenc=srtp-mand) gives RTP/SAVP as in
baresip's own offer; keepalive_responder_sdp no leaves every answer
without a body; and over IPv6 (SIP on [::1], where the host has a global
IPv6 address) o= and c= name IP6 ::1.

How CTest runs it (test/integration/CMakeLists.txt):

    kar_caps.py --baresip /usr/bin/baresip \\
        --module build/keepalive_responder.so

Last line: "N passed, M failed"; exit status 0 only when nothing failed.
"""

import os
import re
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import kar_harness as kh                                # noqa: E402


CONF = ["keepalive_responder_rate\t0"]


def avp(resp, kw):
    """RTP/AVP: no media encryption configured"""
    for ln in kh.sdp_lines(resp.body):
        if ln.startswith("m=") and ln.split()[2] != "RTP/AVP":
            raise kh.Fail("transport of %r is not RTP/AVP" % ln)


SDP = kh.module_200(avp)
ANY = kh.module_200()
BARE = kh.module_200_bare()

# (case, Accept header values, body expected)
ACCEPTS = [
    ("no_accept", [], True),
    ("sdp", ["application/sdp"], True),
    ("sdp_case", ["Application/SDP"], True),
    ("application_any", ["application/*"], True),
    ("any", ["*/*"], True),
    ("list", ["text/plain, application/sdp;q=0.5"], True),
    ("two_headers", ["text/plain", "application/sdp"], True),
    ("text_plain", ["text/plain"], False),
    ("q0", ["application/sdp;q=0"], False),
    ("q0_beats_any", ["*/*, application/sdp;q=0.0"], False),
    ("any_q0_sdp", ["*/*;q=0, application/sdp"], True),
    ("mwi_only", ["application/simple-message-summary"], False),
]


def media(body):
    """The m= sections: (m= line, sorted a=rtpmap/a=fmtp lines), with
    the port left out (stock's is a real RTP port)."""
    out = []
    for ln in kh.sdp_lines(body):
        if ln.startswith("m="):
            f = ln.split()
            out.append([" ".join([f[0]] + f[2:]), []])
        elif out and (ln.startswith("a=rtpmap:")
                      or ln.startswith("a=fmtp:")):
            out[-1][1].append(ln)
    return [(m, sorted(a)) for m, a in out]


def options(sip, tp, user=None, accepts=(), sends=1):
    extra = [("Accept", a) for a in accepts]
    got = sip.exchange(tp, "OPTIONS", user, sends=sends, extra=extra)
    return [g[0] if g else None for g in got]


def run_accept(runner, sip):
    for tp in ("udp", "tcp"):
        for name, accepts, body in ACCEPTS:
            def check(tp=tp, accepts=accepts, body=body):
                resp = options(sip, tp, accepts=accepts)[0]
                (SDP if body else BARE)(resp, {})
            runner.run("accept_%s_%s" % (name, tp), check)


def run_same(runner, sip):
    def udp_tcp():
        a = options(sip, "udp")[0]
        b = options(sip, "tcp")[0]
        SDP(a, {})
        SDP(b, {})
        if a.body != b.body:
            raise kh.Fail("UDP and TCP bodies differ:\n%r\n%r"
                          % (a.body, b.body))
    runner.run("same_body_udp_tcp", udp_tcp)

    for tp in ("udp", "tcp"):
        def retransmit(tp=tp):
            a, b = options(sip, tp, sends=2)
            SDP(a, {})
            if b is None or a.raw != b.raw:
                raise kh.Fail("retransmission answered differently:\n"
                              "%r\n%r" % (a.raw, b and b.raw))
        runner.run("retransmit_identical_%s" % tp, retransmit)


def run_like_stock(runner, sip, ctrl, label, check_sdp=SDP):
    """The module's SDP offers what baresip's own answer offers."""
    def check():
        kh.ctrl_ok(ctrl, "kar_exclusive", "off")
        stock = options(sip, "udp", "alice")[0]
        kh.expect(200, kh.sdp_body, kh.has_contact)(stock, {})
        kh.ctrl_ok(ctrl, "kar_exclusive", "on")
        try:
            mod = options(sip, "udp", "alice")[0]
        finally:
            kh.ctrl_ok(ctrl, "kar_exclusive", "off")
        check_sdp(mod, {})
        if media(mod.body) != media(stock.body):
            raise kh.Fail("module %r\nstock  %r"
                          % (media(mod.body), media(stock.body)))
        if not any(ln.split()[1] != "0" for ln in
                   kh.sdp_lines(stock.body) if ln.startswith("m=")):
            raise kh.Fail("stock answer has no RTP port: not a call")
    runner.run("like_stock_%s" % label, check)


def run_insmod(runner, sip, ctrl):
    def check():
        before = options(sip, "udp")[0]
        SDP(before, {})
        if b"G722" in before.body:
            raise kh.Fail("G722 before insmod")
        kh.ctrl_ok(ctrl, "insmod", "g722")
        try:
            after = options(sip, "udp")[0]
            SDP(after, {})
            lines = kh.sdp_lines(after.body)
            if "a=rtpmap:9 G722/8000" not in lines:
                raise kh.Fail("no G722 after insmod: %r" % after.body)
            m = [ln for ln in lines if ln.startswith("m=audio")][0]
            if " 9 " not in m + " ":
                raise kh.Fail("m= line without 9: %r" % m)
            # The origin's version counts the rebuild
            if kh.sdp_lines(before.body)[1] == lines[1]:
                raise kh.Fail("o= unchanged: %r" % lines[1])
            again = options(sip, "tcp")[0]
            if again.body != after.body:
                raise kh.Fail("the next answer differs again")
        finally:
            ctrl.command("rmmod", "g722")
        gone = options(sip, "udp")[0]
        SDP(gone, {})
        if b"G722" in gone.body:
            raise kh.Fail("G722 still there after rmmod")
    runner.run("insmod_codec_changes_sdp", check)


HOST6 = "::1"


def options6(port, timeout=kh.ANSWER_TIMEOUT):
    """One OPTIONS over IPv6 UDP to [::1]:port; its final answer."""
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    try:
        s.bind((HOST6, 0))
        lport = s.getsockname()[1]
        req = kh.Request("OPTIONS", "sip:[%s]:%d" % (HOST6, port), "udp",
                         lport)
        req.data = req.data.replace(b"%s:%d" % (kh.HOST.encode(), lport),
                                    b"[%s]:%d" % (HOST6.encode(), lport))
        s.sendto(req.data, (HOST6, port))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            raw = kh.udp_recv(s, deadline - time.monotonic())
            if raw is None:
                return None
            resp = kh.Response(raw)
            if req.matches(resp) and resp.status >= 200:
                return resp
        return None
    finally:
        s.close()


class Baresip6(kh.Baresip):
    """SIP on [::1] only (needs a non-loopback IPv6 address on the
    host, as baresip 1.x opens no IPv6 socket otherwise)."""

    def _write_files(self):
        super()._write_files()
        path = os.path.join(self.dir, "config")
        with open(path) as f:
            text = f.read()
        text = re.sub(r"(?m)^sip_listen\t\t\S+$",
                      "sip_listen\t\t[%s]:%d" % (HOST6, self.sip_port),
                      text)
        with open(path, "w") as f:
            f.write(text)

    def _wait_ready(self):
        deadline = time.monotonic() + kh.START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return "baresip exited during start-up"
            try:
                socket.create_connection((kh.HOST, self.ctrl_port),
                                         0.2).close()
                if options6(self.sip_port, 0.3):
                    return None
            except OSError:
                pass
            time.sleep(0.1)
        return "not ready on [%s] within %.0f s" % (HOST6,
                                                    kh.START_TIMEOUT)


def has_ipv6():
    """A global IPv6 address besides ::1 (see Baresip6)."""
    try:
        with open("/proc/net/if_inet6") as f:
            return any(not ln.split()[0].startswith(("0000", "fe80"))
                       for ln in f)
    except OSError:
        return False


def run_ipv6(args, runner):
    if not has_ipv6():
        print("skip ipv6: no global IPv6 address on this host",
              flush=True)
        return
    bs = Baresip6(args.baresip, args.module, CONF, args.keep)
    try:
        bs.start()
        runner.guard = bs.dead

        def check():
            resp = options6(bs.sip_port)
            if resp is None or resp.status != 200:
                raise kh.Fail("answer %s" % (resp.short() if resp
                                              else "none"))
            kh.sdp_body(resp, {})
            lines = kh.sdp_lines(resp.body)
            if not re.match(r"o=- \d+ \d+ IN IP6 ::1$", lines[1]) or \
                    lines[3] != "c=IN IP6 ::1":
                raise kh.Fail("SDP origin/connection %r" % lines[1:4])
            if "m=audio 0 RTP/AVP 0 8 101" not in lines:
                raise kh.Fail("media %r" % resp.body)
            again = options6(bs.sip_port)
            if again is None or again.body != resp.body:
                raise kh.Fail("the next answer's body differs")
        runner.run("ipv6_c_and_o", check)
    finally:
        runner.guard = None
        bs.cleanup()


def with_baresip(args, runner, conf, fn, account_params=""):
    bs = kh.Baresip(args.baresip, args.module, CONF + conf, args.keep)
    bs.account_params = account_params
    ctrl = None
    try:
        bs.start()
        ctrl = kh.Ctrl(bs.ctrl_port)
        runner.guard = bs.dead
        fn(kh.SipClient(bs.sip_port), ctrl)
        if runner.failed:
            print("--- tail of %s ---\n%s\n---"
                  % (bs.logpath, bs.log_tail()), file=sys.stderr)
    finally:
        runner.guard = None
        if ctrl:
            ctrl.close()
        bs.cleanup()


def run_all(args, runner):
    def main_run(sip, ctrl):
        run_accept(runner, sip)
        run_same(runner, sip)
        run_like_stock(runner, sip, ctrl, "audio")
        run_insmod(runner, sip, ctrl)
    with_baresip(args, runner, [], main_run)

    # A video codec and a video source: baresip offers video too
    def video_run(sip, ctrl):
        def check():
            resp = options(sip, "udp")[0]
            SDP(resp, {})
            lines = kh.sdp_lines(resp.body)
            if not any(ln.startswith("m=video 0 RTP/AVP ")
                       for ln in lines):
                raise kh.Fail("no m=video line: %r" % resp.body)
            if "a=rtpmap:96 VP8/90000" not in lines:
                raise kh.Fail("no VP8 rtpmap: %r" % resp.body)
        runner.run("video_line", check)
        run_like_stock(runner, sip, ctrl, "video")
    with_baresip(args, runner, ["module\t\t\tvp8.so",
                                "module\t\t\tfakevideo.so"], video_run)

    # The account's media encryption decides the transport
    def srtp_run(sip, ctrl):
        def check():
            resp = options(sip, "udp")[0]
            ANY(resp, {})
            m = [ln for ln in kh.sdp_lines(resp.body)
                 if ln.startswith("m=")]
            if m != ["m=audio 0 RTP/SAVP 0 8 101"]:
                raise kh.Fail("media lines %r" % m)
        runner.run("srtp_transport", check)
        run_like_stock(runner, sip, ctrl, "srtp", ANY)
    with_baresip(args, runner, ["module\t\t\tsrtp.so"], srtp_run,
                 ";mediaenc=srtp-mand")

    def off_run(sip, ctrl):
        for tp in ("udp", "tcp"):
            runner.run("sdp_no_%s" % tp,
                       lambda tp=tp: BARE(options(sip, tp)[0], {}))
        runner.run("sdp_no_accept_sdp",
                   lambda: BARE(options(sip, "udp",
                                        accepts=["application/sdp"])[0],
                                {}))
    with_baresip(args, runner, ["keepalive_responder_sdp\tno"], off_run)

    run_ipv6(args, runner)


def main():
    return kh.script_main(__doc__.split("\n")[1], run_all)


if __name__ == "__main__":
    sys.exit(main())
