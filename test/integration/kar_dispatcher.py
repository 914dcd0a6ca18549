#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
"""
kar_dispatcher.py -- a real prober: Kamailio's dispatcher takes the
baresip endpoint out of rotation on /kar_drain on and back on off.

It starts the real baresip with the module (kar_harness.py) and
Kamailio (Debian's kamailio package) in the foreground on loopback, with
a config and a dispatcher list written into a temporary folder:
dispatcher probes its one destination, sip:127.0.0.1:PORT where baresip
listens, with OPTIONS every PING_INTERVAL seconds (ds_probing_mode 1:
always), and counts only 2xx as alive.  The destination's state is read
with kamcmd through Kamailio's ctl module on a unix socket in the folder
(dispatcher.list, the FLAGS field: A active, I inactive, P probing).

Checks:
  * the destination is active and stays so over a few probe intervals,
    and the module answered Kamailio's probes (stock baresip 1.0's 404 to
    OPTIONS sip:127.0.0.1:PORT would have marked it inactive);
  * after /kar_drain on (ctrl_tcp) it is inactive within two probe
    intervals, and the module counted the probes as drained;
  * after /kar_drain off it is active again within two probe intervals.

How CTest runs it (test/integration/CMakeLists.txt):

    kar_dispatcher.py --baresip /usr/bin/baresip \\
        --module build/keepalive_responder.so [--kamailio /usr/sbin/kamailio]

Output: "ok   name" / "FAIL name: why" per check, then "N passed, M
failed"; exit status 0 only when nothing failed.  Loopback only, free
ports, every wait bounded, both programs stopped by PID (Kamailio's
workers too), also on failure.
"""

import argparse
import json
import os
import re
import shutil
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import kar_harness as kh                                # noqa: E402

Fail = kh.Fail
HOST = kh.HOST
PING_INTERVAL = 1       # ds_ping_interval, seconds (Kamailio's minimum)
POLL = 0.1              # state polling period

# A dispatcher that probes one destination with OPTIONS and routes
# nothing
DISPATCHER_CFG = """\
modparam("dispatcher", "list_file", "%(dir)s/dispatcher.list")
modparam("dispatcher", "ds_ping_method", "OPTIONS")
modparam("dispatcher", "ds_ping_from", "sip:dispatcher@%(host)s")
modparam("dispatcher", "ds_ping_interval", %(interval)d)
modparam("dispatcher", "ds_probing_mode", 1)
modparam("dispatcher", "ds_probing_threshold", 1)
modparam("dispatcher", "ds_inactive_threshold", 1)

request_route {
    sl_send_reply("404", "Not Here");
}
"""


class Dispatcher(kh.Kamailio):
    """The harness's Kamailio with the dispatcher probing HOST:dest_port
    (its list written into the folder)."""

    def __init__(self, binary, kamcmd, dest_port, keep):
        super().__init__(binary, kamcmd, ("tm", "sl", "pv", "dispatcher"),
                         self._cfg, keep,
                         origin="test/integration/kar_dispatcher.py")
        self.dest_port = dest_port

    def _cfg(self, port, folder):
        with open(os.path.join(folder, "dispatcher.list"), "w") as f:
            f.write("# setid destination flags priority\n"
                    "1 sip:%s:%d 0 0\n" % (HOST, self.dest_port))
        return DISPATCHER_CFG % {"host": HOST, "dir": folder,
                                 "interval": PING_INTERVAL}

    def flags(self):
        """The destination's dispatcher FLAGS, or None."""
        out = self.rpc("dispatcher.list")
        if out is None:
            return None
        m = re.search(r"URI:\s*sip:%s:%d\s+FLAGS:\s*(\S+)"
                      % (re.escape(HOST), self.dest_port), out)
        return m.group(1) if m else None

    def wait_flags(self, pred, timeout):
        """(seconds until pred(flags) held, flags), or (None, last)."""
        t0 = time.monotonic()
        last = None
        while time.monotonic() - t0 <= timeout:
            last = self.flags()
            if last is not None and pred(last):
                return time.monotonic() - t0, last
            time.sleep(POLL)
        return None, last


def active(flags):
    return flags.startswith("A")


def inactive(flags):
    return flags.startswith("I")


def options_counts(ctrl):
    st = json.loads(kh.ctrl_ok(ctrl, "kar_stats", "json"))
    o = kh.stats_value(st, "methods.OPTIONS") or {}
    return o.get("answered"), o.get("drained")


def run_all(args, runner):
    bs = kh.Baresip(args.baresip, args.module, [], args.keep)
    kam = None
    ctrl = None
    limit = 2 * PING_INTERVAL
    try:
        if not runner.run("baresip_start", bs.start):
            return
        runner.guard = bs.dead
        ctrl = kh.Ctrl(bs.ctrl_port)
        kh.ctrl_ok(ctrl, "kar_stats", "reset")
        kam = Dispatcher(args.kamailio, args.kamcmd, bs.sip_port, args.keep)
        if not runner.run("kamailio_start", kam.start):
            return

        def sees_active():
            # a few probe intervals: probed, answered, still active
            time.sleep(3 * PING_INTERVAL + 0.5)
            f = kam.flags()
            if f is None or not active(f) or "P" not in f:
                raise Fail("destination flags %r, expected active and "
                           "probing" % f)
            answered, drained = options_counts(ctrl)
            if not answered or answered < 2 or drained:
                raise Fail("module answered %r / drained %r of "
                           "Kamailio's probes" % (answered, drained))
            print("     active, flags %s; module answered %d probes"
                  % (f, answered), flush=True)
        runner.run("dispatcher_sees_active", sees_active)

        def drain_on():
            kh.ctrl_ok(ctrl, "kar_drain", "on")
            took, f = kam.wait_flags(inactive, limit + 1.0)
            if took is None:
                raise Fail("still %r %.0f s after /kar_drain on"
                           % (f, limit + 1.0))
            if took > limit:
                raise Fail("inactive only after %.2f s (two probe "
                           "intervals: %d s)" % (took, limit))
            _, drained = options_counts(ctrl)
            if not drained:
                raise Fail("inactive, but the module drained no probe")
            print("     inactive after %.2f s, flags %s" % (took, f),
                  flush=True)
        runner.run("dispatcher_inactive_after_drain_on", drain_on)

        def drain_off():
            kh.ctrl_ok(ctrl, "kar_drain", "off")
            took, f = kam.wait_flags(active, limit + 1.0)
            if took is None:
                raise Fail("still %r %.0f s after /kar_drain off"
                           % (f, limit + 1.0))
            if took > limit:
                raise Fail("active only after %.2f s (two probe "
                           "intervals: %d s)" % (took, limit))
            print("     active again after %.2f s, flags %s" % (took, f),
                  flush=True)
        runner.run("dispatcher_active_after_drain_off", drain_off)
    finally:
        runner.guard = None
        if ctrl:
            ctrl.close()
        if runner.failed and kam is not None:
            print("--- tail of kamailio.log ---\n%s\n---" % kam.log_tail(),
                  file=sys.stderr)
        if kam is not None:
            kam.cleanup()
        if runner.failed:
            print("--- tail of baresip.log ---\n%s\n---" % bs.log_tail(),
                  file=sys.stderr)
        bs.cleanup()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--baresip", default="/usr/bin/baresip")
    ap.add_argument("--module", required=True)
    ap.add_argument("--kamailio", default=shutil.which("kamailio")
                    or "/usr/sbin/kamailio")
    ap.add_argument("--kamcmd", default=shutil.which("kamcmd")
                    or "/usr/sbin/kamcmd")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    kh.BARESIP = args.baresip
    kh.verbose = args.verbose
    signal.signal(signal.SIGTERM, kh.on_sigterm)
    runner = kh.Runner()
    for tool in (args.kamailio, args.kamcmd):
        if not os.access(tool, os.X_OK):
            runner.fail("tools", "not executable: %s (scripts/deps "
                        "installs kamailio)" % tool)
            return kh.finish(runner)
    kh.run_checked(args, runner, run_all)
    return kh.finish(runner)


if __name__ == "__main__":
    sys.exit(main())
