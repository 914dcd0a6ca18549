#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
"""
kar_run.py -- the README's run command (scripts/run) works as it says.

Starts scripts/run (which builds the module and starts the installed
baresip with it on the embedded default config) on free loopback ports,
its stdin a pseudo-terminal as a user's would be (so it loads the stdio
console), then checks what the README promises of it:

  * OPTIONS sip:127.0.0.1:PORT gets the module's 200;
  * an unsolicited MWI NOTIFY gets 200 and raises MWI_NOTIFY on ctrl_tcp;
  * check-sync gets 200 and, from baresip 1.1 on, raises a MODULE event
    (keepalive_responder,check-sync) on ctrl_tcp;
  * /kar_exclusive over ctrl_tcp answers "shared";
  * /help typed at the console lists the module's commands
    (/kar_exclusive, /kar_stats, /kar_drain);
  * SIGTERM to the script's process group stops baresip and removes the
    script's temporary folder.

    kar_run.py --script scripts/run --work build/test/run

Last line: "N passed, M failed"; exit status 0 only when nothing failed.
"""

import argparse
import os
import pty
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kar_harness as kh                                 # noqa: E402

BUILD_WAIT = 300 * kh.TIME_SCALE    # scripts/run builds the module first


def run_all(args, runner):
    sip_port, ctrl_port = kh.pick_ports()
    env = dict(os.environ,
               KAR_SIP_LISTEN="%s:%d" % (kh.HOST, sip_port),
               KAR_CTRL_LISTEN="%s:%d" % (kh.HOST, ctrl_port),
               KAR_BUILD_DIR=os.path.join(args.work, "build"))
    os.makedirs(args.work, exist_ok=True)
    logpath = os.path.join(args.work, "run.log")
    master, slave = pty.openpty()
    try:
        with open(logpath, "wb") as logf:
            proc = subprocess.Popen([args.script], stdin=slave,
                                    stdout=logf, stderr=subprocess.STDOUT,
                                    env=env, start_new_session=True)
    finally:
        os.close(slave)
    folder = []

    def log_text():
        with open(logpath, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def dead():
        if proc.poll() is not None:
            return "scripts/run exited with status %d:\n%s" % (
                proc.returncode, kh.indent(log_text()[-2000:]))
        return None

    try:
        def started():
            sip = kh.SipClient(sip_port)
            deadline = time.monotonic() + BUILD_WAIT
            while time.monotonic() < deadline:
                why = dead()
                if why:
                    raise kh.Fail(why)
                try:
                    if sip.request("udp", "OPTIONS", None, timeout=0.5):
                        break
                except OSError:
                    pass
                time.sleep(0.5)
            else:
                raise kh.Fail("no SIP answer on %d within %.0f s"
                              % (sip_port, BUILD_WAIT))
            m = re.search(r"config in (\S+)", log_text())
            if not m:
                raise kh.Fail("scripts/run did not name its folder")
            folder.append(m.group(1))
        if not runner.run("run_starts", started):
            return
        runner.guard = dead
        sip = kh.SipClient(sip_port)
        ctrl = kh.Ctrl(ctrl_port)

        runner.run("options_module_200", kh.check_sip, sip,
                   "options_nouser", "udp", "shared")
        runner.run("ctrl_mode_shared", lambda: kh.mode_word(
            kh.ctrl_ok(ctrl, "kar_exclusive"), "shared"))
        runner.run("mwi_event", kh.t_mwi_event, ctrl, sip)

        def checksync():
            ctrl.drain()
            kw = dict(kh.REQ["notify_checksync"])
            kh.expect(200)(sip.request("udp", **kw), kw)
            if kh.baresip_version() < (1, 1):
                return          # 1.0 has no module events: a log line
            ev = ctrl.wait_event(lambda e: e.get("type") == "MODULE" and (
                e.get("param") or "").startswith(
                    "keepalive_responder,check-sync,"), 2 * kh.TIME_SCALE)
            if ev is None:
                raise kh.Fail("no MODULE event keepalive_responder,"
                              "check-sync on ctrl_tcp")
        runner.run("checksync_event", checksync)
        ctrl.close()

        def console_help():
            con = kh.Console(master, logpath)
            mark = os.path.getsize(logpath)
            if not con.command("/help", "/kar_stats"):
                raise kh.Fail("no /kar_stats after /help in %r"
                              % con.seen[-600:])
            con.wait_for("/kar_drain", mark)   # the list may come in parts
            text = con.seen.decode("utf-8", "replace")
            if "not found" in text:
                raise kh.Fail("/help: %r" % text[-300:])
            for cmd in ("kar_exclusive", "kar_stats", "kar_drain"):
                # a line of the list starts with the command
                if not re.search(r"^\s*/%s\b" % cmd, text, re.M):
                    raise kh.Fail("/help lists no /%s line: %r"
                                  % (cmd, text[-1500:]))
        runner.run("console_help_lists_commands", console_help)
        runner.guard = None

        def stops():
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(kh.STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                raise kh.Fail("scripts/run still runs %.0f s after SIGTERM"
                              % kh.STOP_TIMEOUT)
            if folder and os.path.exists(folder[0]):
                raise kh.Fail("%s left behind" % folder[0])
        runner.run("sigterm_stops_and_cleans", stops)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        os.close(master)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--script", required=True, help="scripts/run")
    ap.add_argument("--work", required=True, help="folder to build in")
    ap.add_argument("--baresip", default="/usr/bin/baresip",
                    help="the baresip scripts/run starts (for its "
                         "version)")
    args = ap.parse_args()
    kh.BARESIP = args.baresip
    signal.signal(signal.SIGTERM, kh.on_sigterm)

    runner = kh.Runner()
    kh.run_checked(argparse.Namespace(module=None, baresip=args.baresip),
                   runner, lambda a, r: run_all(args, r))
    return kh.finish(runner)


if __name__ == "__main__":
    sys.exit(main())
