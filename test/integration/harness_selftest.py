#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
"""
harness_selftest.py -- tests of kar_harness.py itself, the library the
integration tests and the benchmark stand on: a harness bug would make
them pass or fail for the wrong reason.

Covered: the SIP request builder and the answer parser (header forms,
folding, Content-Length, To tag, matching), TCP framing, port picking,
the config and accounts writer, the ctrl_tcp client against a fake
server, the runner's counting, the answer checks, the version probe,
and process start/stop with their bounded waits (a process that ignores
SIGTERM, one that dies at start-up; with --baresip, the real one).

    harness_selftest.py [--baresip /usr/bin/baresip] [unittest args]

Python 3 standard library only (unittest); loopback only.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kar_harness as kh                                  # noqa: E402

BARESIP = None          # --baresip: also start and stop the real one


def response(status_line, headers, body=b""):
    head = status_line + "\r\n" + "".join("%s\r\n" % h for h in headers)
    return head.encode() + b"\r\n" + body


class RequestTest(unittest.TestCase):
    def parse(self, req):
        head, _, body = req.data.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        return lines[0], [ln.split(":", 1)[0] for ln in lines[1:]], \
            dict((ln.split(":", 1)[0].lower(), ln.split(":", 1)[1].strip())
                 for ln in lines[1:]), body

    def test_long_form(self):
        req = kh.Request("OPTIONS", "sip:127.0.0.1:5060", "udp", 4000,
                         extra=[("Accept", "text/plain")], body="abc")
        first, names, h, body = self.parse(req)
        self.assertEqual(first, "OPTIONS sip:127.0.0.1:5060 SIP/2.0")
        self.assertEqual(names[:6], ["Via", "Max-Forwards", "From", "To",
                                     "Call-ID", "CSeq"])
        self.assertEqual(names[-1], "Content-Length")
        self.assertEqual(h["content-length"], "3")
        self.assertEqual(body, b"abc")
        self.assertEqual(h["accept"], "text/plain")
        self.assertEqual(h["via"], "SIP/2.0/UDP 127.0.0.1:4000;rport;"
                         "branch=" + req.branch)
        self.assertTrue(req.branch.startswith("z9hG4bK"))
        self.assertEqual(h["to"], "<sip:127.0.0.1:5060>")
        self.assertEqual(h["cseq"], req.cseq)
        self.assertTrue(req.cseq.endswith(" OPTIONS"))

    def test_fresh_identifiers(self):
        a = kh.Request("OPTIONS", "sip:x@127.0.0.1", "udp", 1)
        b = kh.Request("OPTIONS", "sip:x@127.0.0.1", "udp", 1)
        self.assertNotEqual(a.branch, b.branch)
        self.assertNotEqual(a.call_id, b.call_id)

    def test_compact_and_oddcase(self):
        c = kh.Request("NOTIFY", "sip:a@127.0.0.1", "tcp", 1,
                       extra=[("Event", "keep-alive")], style="compact")
        _, names, _, _ = self.parse(c)
        self.assertEqual(set(names), {"v", "Max-Forwards", "f", "t", "i",
                                      "CSeq", "o", "l"})
        self.assertIn(b"v: SIP/2.0/TCP ", c.data)
        o = kh.Request("NOTIFY", "sip:a@127.0.0.1", "udp", 1,
                       extra=[("Event", "keep-alive")], style="oddcase")
        _, names, _, _ = self.parse(o)
        self.assertIn("tO", names)
        self.assertIn("EVENT", names)
        self.assertIn("content-LENGTH", names)

    def test_to_tag(self):
        r = kh.Request("NOTIFY", "sip:a@127.0.0.1", "udp", 1, to_tag="xyz")
        self.assertEqual(self.parse(r)[2]["to"], "<sip:a@127.0.0.1>;tag=xyz")

    def test_matches(self):
        req = kh.Request("OPTIONS", "sip:127.0.0.1", "udp", 1)
        n, m = req.cseq.split()
        ok = kh.Response(response("SIP/2.0 200 OK", [
            "Call-ID: " + req.call_id, "CSeq: %s   %s" % (n, m),
            "Content-Length: 0"]))
        self.assertTrue(req.matches(ok))
        other = kh.Response(response("SIP/2.0 200 OK", [
            "Call-ID: " + req.call_id, "CSeq: %d %s" % (int(n) + 1, m),
            "Content-Length: 0"]))
        self.assertFalse(req.matches(other))


class ResponseTest(unittest.TestCase):
    def test_parse(self):
        r = kh.Response(response("SIP/2.0 489 Bad Event", [
            "v: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKx",
            "To: <sip:a@127.0.0.1>;tag=abc;x=y",
            "Allow-Events: keep-alive,",
            " check-sync",          # folded continuation
            "u: message-summary",   # compact Allow-Events
            "l: 4"], b"1234extra"))
        self.assertEqual(r.status, 489)
        self.assertEqual(r.reason, "Bad Event")
        self.assertEqual(r.short(), "489 Bad Event")
        self.assertEqual(r.to_tag, "abc")
        self.assertEqual(r.tokens("allow-events"),
                         ["keep-alive", "check-sync", "message-summary"])
        self.assertTrue(r.has("VIA"))
        self.assertEqual(r.hdr("content-length"), "4")
        self.assertEqual(r.body, b"1234")    # Content-Length bounds it
        self.assertIsNone(r.hdr("contact"))

    def test_to_tag_inside_uri_is_not_the_tag(self):
        r = kh.Response(response("SIP/2.0 200 OK", [
            "To: <sip:a@127.0.0.1;tag=uri>", "Content-Length: 0"]))
        self.assertIsNone(r.to_tag)

    def test_bad(self):
        for raw in (b"SIP/2.0 200 OK\r\nTo: x\r\n",           # no end
                    b"HTTP/1.1 200 OK\r\n\r\n",
                    b"SIP/2.0 200 OK\r\nno colon\r\n\r\n"):
            with self.assertRaises(ValueError, msg=raw):
                kh.Response(raw)


class TcpReaderTest(unittest.TestCase):
    def test_framing(self):
        a, b = socket.socketpair()
        try:
            m1 = response("SIP/2.0 200 OK", ["Content-Length: 3"], b"abc")
            m2 = response("SIP/2.0 404 Not Found", ["l: 4"], b"wxyz")
            # keep-alive CRLFs first, the second message cut in its body
            a.sendall(b"\r\n\r\n" + m1 + m2[:-2])
            r = kh.TcpReader(b)
            self.assertEqual(r.recv(1.0), m1)
            self.assertIsNone(r.recv(0.1))       # incomplete: waits
            a.sendall(m2[-2:])
            self.assertEqual(r.recv(1.0), m2)
            a.close()
            self.assertIsNone(r.recv(1.0))
            self.assertTrue(r.eof)
        finally:
            a.close()
            b.close()

    def test_no_content_length(self):
        a, b = socket.socketpair()
        try:
            a.sendall(response("SIP/2.0 200 OK", ["To: x"]))
            with self.assertRaises(kh.Fail):
                kh.TcpReader(b).recv(1.0)
        finally:
            a.close()
            b.close()


class FakeUas(threading.Thread):
    """A UDP SIP server: to each request a provisional, an answer to
    another request, then its final answer (486)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((kh.HOST, 0))
        self.sock.settimeout(5)
        self.port = self.sock.getsockname()[1]

    def run(self):
        try:
            while True:
                data, src = self.sock.recvfrom(65535)
                head = data.decode().split("\r\n")
                ids = [h for h in head
                       if h.lower().startswith(("call-id:", "cseq:"))]
                for status, hdrs in ((100, ids), (200, [
                        "Call-ID: other", ids[1]]), (486, ids)):
                    self.sock.sendto(response("SIP/2.0 %d X" % status,
                                              hdrs + ["l: 0"]), src)
        except OSError:
            return


class SipClientTest(unittest.TestCase):
    def test_final_answer_of_this_request(self):
        uas = FakeUas()
        uas.start()
        try:
            sip = kh.SipClient(uas.port)
            self.assertEqual(sip.ruri("bob"),
                             "sip:bob@127.0.0.1:%d" % uas.port)
            resp = sip.request("udp", "OPTIONS", "bob")
            self.assertEqual(resp.status, 486)
            got = sip.exchange("udp", "OPTIONS", sends=2, linger=0.2)
            self.assertEqual([[a.status for a in g] for g in got],
                             [[486], [486]])
            resp = kh.options_from(uas.port, "127.0.0.2")
            self.assertEqual(resp.status, 486)
        finally:
            uas.sock.close()

    def test_silence_is_bounded(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind((kh.HOST, 0))        # bound, never answers
            t0 = time.monotonic()
            self.assertIsNone(kh.SipClient(s.getsockname()[1]).request(
                "udp", "OPTIONS", timeout=0.3))
            self.assertLess(time.monotonic() - t0, 2.0 * kh.TIME_SCALE)
        finally:
            s.close()


class PortTest(unittest.TestCase):
    def test_port_free(self):
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            s = socket.socket(socket.AF_INET, kind)
            try:
                s.bind((kh.HOST, 0))
                port = s.getsockname()[1]
                self.assertFalse(kh.port_free(port))
            finally:
                s.close()
            self.assertTrue(kh.port_free(port))

    def test_pick_ports(self):
        # below the ephemeral range, where our own clients' ports are
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            eph = int(f.read().split()[0])
        high = eph - 3 if eph - 3 > 11000 else 32000
        for _ in range(20):
            p, q = kh.pick_ports()
            self.assertNotIn(q, (p, p + 1))
            for port in (p, p + 1, q):
                self.assertTrue(10000 <= port <= high, port)
        # free when picked (other processes may take them later)
        self.assertTrue(all(kh.port_free(x) for x in (p, p + 1, q)))


class ConfigTest(unittest.TestCase):
    def test_files(self):
        moddir = tempfile.mkdtemp()
        fake = os.path.join(moddir, "mod.so")
        open(fake, "w").close()
        for name in ("g711.so", "keepalive_responder.so", "account.so"):
            open(os.path.join(moddir, name), "w").close()
        old = kh.STOCK_MODDIR
        kh.STOCK_MODDIR = moddir
        bs = kh.Baresip("/bin/true", fake, ["x_key 1", "y_key two"], False)
        try:
            bs.sip_port, bs.ctrl_port = 12000, 13000
            bs.account_params = ";x=1"
            bs._write_files()
            with open(os.path.join(bs.dir, "config")) as f:
                conf = [ln.split(None, 1) for ln in f.read().splitlines()
                        if not ln.startswith("#")]
            conf = [(k, v) for k, v in conf]
            self.assertIn(("sip_listen", "127.0.0.1:12000"), conf)
            self.assertIn(("ctrl_tcp_listen", "127.0.0.1:13000"), conf)
            self.assertIn(("module", "keepalive_responder.so"), conf)
            self.assertEqual(conf[-2:], [("x_key", "1"), ("y_key", "two")])
            mods = os.path.join(bs.dir, "modules")
            self.assertIn(("module_path", mods), conf)
            # the built module, not the stock folder's one of that name
            self.assertEqual(
                os.readlink(os.path.join(mods, "keepalive_responder.so")),
                fake)
            self.assertEqual(os.readlink(os.path.join(mods, "g711.so")),
                             os.path.join(moddir, "g711.so"))
            with open(os.path.join(bs.dir, "accounts")) as f:
                self.assertEqual(f.read(),
                                 "<sip:alice@127.0.0.1>;regint=0;x=1\n")
            # stock: no module line, no module link
            st = kh.Baresip("/bin/true", None, [], False)
            st.sip_port, st.ctrl_port = 12000, 13000
            st._write_files()
            with open(os.path.join(st.dir, "config")) as f:
                self.assertNotIn("keepalive_responder", f.read())
            self.assertFalse(os.path.lexists(os.path.join(
                st.dir, "modules", "keepalive_responder.so")))
            st.cleanup()
        finally:
            kh.STOCK_MODDIR = old
            d = bs.dir
            bs.cleanup()
            self.assertFalse(os.path.exists(d))
            for n in os.listdir(moddir):
                os.unlink(os.path.join(moddir, n))
            os.rmdir(moddir)


class FakeCtrl(threading.Thread):
    """A ctrl_tcp server: an event before each answer, then the answer
    split in two writes."""

    def __init__(self):
        super().__init__(daemon=True)
        self.lsock = socket.socket()
        self.lsock.bind((kh.HOST, 0))
        self.lsock.listen(1)
        self.port = self.lsock.getsockname()[1]
        self.got = []

    @staticmethod
    def ns(obj):
        p = json.dumps(obj).encode()
        return b"%d:%s," % (len(p), p)

    def run(self):
        c, _ = self.lsock.accept()
        c.settimeout(5)
        buf = b""
        with c:
            while True:
                chunk = c.recv(4096)
                if not chunk:
                    return
                buf += chunk
                colon = buf.find(b":")
                n = int(buf[:colon])
                if len(buf) < colon + n + 2:
                    continue
                req = json.loads(buf[colon + 1:colon + 1 + n])
                buf = buf[colon + 2 + n:]
                self.got.append(req)
                if req["command"] == "silent":
                    continue
                ev = self.ns({"event": True, "type": "X", "param": "p"})
                ans = self.ns({"response": True, "ok": req["command"] ==
                               "good", "data": req.get("params", ""),
                               "token": req["token"]})
                c.sendall(ev + ans[:5])
                time.sleep(0.05)
                c.sendall(ans[5:])


class CtrlTest(unittest.TestCase):
    def test_commands_and_events(self):
        srv = FakeCtrl()
        srv.start()
        ctrl = kh.Ctrl(srv.port)
        try:
            self.assertEqual(ctrl.command("good", "a b"), (True, "a b"))
            self.assertEqual(ctrl.command("bad"), (False, ""))
            self.assertEqual(kh.ctrl_ok(ctrl, "good", "x"), "x")
            with self.assertRaises(kh.Fail):
                kh.ctrl_ok(ctrl, "bad")
            self.assertEqual([r["command"] for r in srv.got],
                             ["good", "bad", "good", "bad"])
            self.assertEqual(len({r["token"] for r in srv.got}), 4)
            self.assertNotIn("params", srv.got[1])
            self.assertEqual(len(ctrl.events), 4)
            self.assertEqual(ctrl.wait_event(
                lambda e: e["type"] == "X", 0.1)["param"], "p")
            self.assertIsNone(ctrl.wait_event(
                lambda e: e["type"] == "Y", 0.1))
            ctrl.drain(0.05)
            self.assertEqual(ctrl.events, [])
            # no answer: a bounded wait, then an error
            old = kh.CTRL_TIMEOUT
            kh.CTRL_TIMEOUT = 0.3
            try:
                t0 = time.monotonic()
                with self.assertRaises(kh.CtrlError):
                    ctrl.command("silent")
                self.assertLess(time.monotonic() - t0, 2.0 * kh.TIME_SCALE)
            finally:
                kh.CTRL_TIMEOUT = old
        finally:
            ctrl.close()
            srv.lsock.close()


class ConsoleTest(unittest.TestCase):
    def test_keys_in_answer_out(self):
        master, slave = os.openpty()
        fd, logpath = tempfile.mkstemp()
        os.close(fd)

        def echo():
            # the "baresip": reads a line from its terminal, prints to
            # its log what it got
            with os.fdopen(slave, "rb", buffering=0) as term:
                line = term.readline()
            with open(logpath, "ab") as log:
                log.write(b"got " + line.strip() + b"\n")
        t = threading.Thread(target=echo, daemon=True)
        t.start()
        old = kh.CONSOLE_TIMEOUT
        kh.CONSOLE_TIMEOUT = 0.5
        try:
            con = kh.Console(master, logpath)
            self.assertTrue(con.command("/kar_stats", "got /kar_stats"))
            t.join(2.0)
            t0 = time.monotonic()
            self.assertFalse(con.command("/more", "got /more"))
            self.assertLess(time.monotonic() - t0, 2.0 * kh.TIME_SCALE)
        finally:
            kh.CONSOLE_TIMEOUT = old
            os.close(master)
            os.unlink(logpath)


class ChecksTest(unittest.TestCase):
    def ok(self, status, *hdrs, body=b""):
        return kh.Response(response("SIP/2.0 %d X" % status, list(hdrs) + [
            "Content-Length: %d" % len(body)], body))

    def test_expect(self):
        kh.expect(200)(self.ok(200), {})
        for resp in (None, self.ok(404)):
            with self.assertRaises(kh.Fail):
                kh.expect(200)(resp, {})
        with self.assertRaises(kh.Fail):
            kh.expect(200, kh.no_body)(self.ok(200, body=b"x"), {})
        with self.assertRaises(kh.Fail):
            kh.no_answer(self.ok(200), {})
        kh.no_answer(None, {})

    def test_allow(self):
        r = self.ok(405, "Allow: INVITE, OPTIONS")
        kh.allow_without_method(r, {"method": "FOO"})
        with self.assertRaises(kh.Fail):
            kh.allow_without_method(r, {"method": "options"})

    def test_caps_sdp(self):
        sdp = ("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n"
               "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\n")
        good = self.ok(200, "Content-Type: application/sdp",
                       body=sdp.encode())
        kh.caps_sdp(good, {})
        bad = self.ok(200, "Content-Type: application/sdp",
                      body=sdp.replace("audio 0", "audio 4000").encode())
        with self.assertRaises(kh.Fail):
            kh.caps_sdp(bad, {})
        with self.assertRaises(kh.Fail):
            kh.caps_sdp(self.ok(200, "Content-Type: application/sdp",
                                "Contact: <sip:a@127.0.0.1>",
                                body=sdp.encode()), {})

    def test_expectation_pass_is_stock(self):
        old = kh._versions.get(kh.BARESIP)
        kh._versions[kh.BARESIP] = (1, 0, 0)
        try:
            # shared passes OPTIONS bob on: stock 1.0 answers 404
            kh.expectation("shared", "options_bob")(self.ok(404), {})
            with self.assertRaises(kh.Fail):
                kh.expectation("shared", "options_bob")(self.ok(200), {})
            kh._versions[kh.BARESIP] = (9, 9, 0)
            with self.assertRaises(kh.Fail):
                kh.stock_table()
        finally:
            if old is None:
                del kh._versions[kh.BARESIP]
            else:
                kh._versions[kh.BARESIP] = old


class RunnerTest(unittest.TestCase):
    def test_counts(self):
        r = kh.Runner()

        def boom():
            raise OSError("x")

        def fail():
            raise kh.Fail("no")
        with open(os.devnull, "w") as null:
            old, sys.stdout = sys.stdout, null
            try:
                self.assertTrue(r.run("a", lambda: None))
                self.assertFalse(r.run("b", fail))
                self.assertFalse(r.run("c", boom))
                r.guard = lambda: "gone"
                called = []
                self.assertFalse(r.run("d", called.append, 1))
                self.assertEqual(called, [])
                self.assertEqual((r.passed, r.failed), (1, 3))
                self.assertEqual(kh.finish(r), 1)
                self.assertEqual(kh.finish(kh.Runner()), 0)
            finally:
                sys.stdout = old


def script(text):
    """An executable shell script in a fresh folder."""
    d = tempfile.mkdtemp()
    path = os.path.join(d, "fake")
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + text)
    os.chmod(path, 0o755)
    return path


class ProcessTest(unittest.TestCase):
    def test_version(self):
        fake = script('echo "baresip v7.8.9 Copyright"\n')
        self.assertEqual(kh.baresip_version(fake), (7, 8, 9))
        with self.assertRaises(kh.Fail):
            kh.baresip_version(script("echo hello\n"))

    def test_stop_kills_what_ignores_sigterm(self):
        old = kh.STOP_TIMEOUT
        kh.STOP_TIMEOUT = 0.5
        bs = kh.Baresip("/bin/true", None, [], False)
        try:
            bs.proc = subprocess.Popen(
                [sys.executable, "-c",
                 "import signal, time\n"
                 "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                 "print('ready', flush=True)\n"
                 "time.sleep(60)\n"],
                stdout=subprocess.PIPE, start_new_session=True)
            bs.proc.stdout.readline()        # SIGTERM is ignored now
            self.assertTrue(bs.alive())
            self.assertIsNone(bs.dead())
            t0 = time.monotonic()
            status = bs.stop()
            self.assertLess(time.monotonic() - t0, 3.0 * kh.TIME_SCALE)
            self.assertEqual(status, -signal.SIGKILL)
            self.assertFalse(bs.alive())
            self.assertIn("not running", bs.dead())
        finally:
            kh.STOP_TIMEOUT = old
            bs.proc.stdout.close()
            bs.cleanup()

    def test_start_of_a_dying_binary_fails_fast(self):
        bs = kh.Baresip(script("echo dying; exit 3\n"), None, [], False)
        try:
            t0 = time.monotonic()
            with self.assertRaisesRegex(RuntimeError, "status 3"):
                bs.start()
            self.assertLess(time.monotonic() - t0, 5.0 * kh.TIME_SCALE)
            self.assertIn("dying", bs.log_tail())
        finally:
            bs.cleanup()

    def test_real_baresip(self):
        if not BARESIP:
            self.skipTest("--baresip not given")
        bs = kh.Baresip(BARESIP, None, [], False)
        try:
            bs.start()
            resp = kh.SipClient(bs.sip_port).request("udp", "OPTIONS",
                                                     "alice")
            self.assertIsNotNone(resp)
            self.assertEqual(resp.status, 200)
            ctrl = kh.Ctrl(bs.ctrl_port)
            try:
                ok, data = ctrl.command("nosuchcommand_x")
                self.assertFalse(ok)
            finally:
                ctrl.close()
            self.assertEqual(bs.stop(), 0)
            self.assertEqual(bs.cores(), [])
        finally:
            d = bs.dir
            bs.cleanup()
            self.assertFalse(os.path.exists(d))


if __name__ == "__main__":
    if "--baresip" in sys.argv:
        i = sys.argv.index("--baresip")
        BARESIP = sys.argv[i + 1]
        kh.BARESIP = BARESIP
        del sys.argv[i:i + 2]
    unittest.main(verbosity=2)
