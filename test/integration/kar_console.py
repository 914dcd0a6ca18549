#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
"""
kar_console.py -- the module's commands typed at baresip's console.

ctrl_tcp and "baresip -e" are covered by kar_probe.py; this starts the
real baresip with its stdio console module on a pseudo-terminal (stdio.so
needs a terminal) and types the commands as a user would, then checks
what baresip prints and that the mode really changed on the wire.

How CTest runs it (test/integration/CMakeLists.txt):

    kar_console.py --baresip /usr/bin/baresip \\
        --module build/keepalive_responder.so

Last line: "N passed, M failed"; exit status 0 only when nothing failed.
"""

import argparse
import os
import pty
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import kar_harness as kh                                # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--baresip", default="/usr/bin/baresip")
    ap.add_argument("--module", required=True)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    kh.BARESIP = args.baresip

    runner = kh.Runner()
    master, slave = pty.openpty()
    bs = kh.Baresip(args.baresip, args.module,
                    ["module\t\t\tstdio.so"], args.keep, stdin=slave)
    try:
        bs.start()
        os.close(slave)
        slave = None
        con = kh.Console(master, bs.logpath)
        sip = kh.SipClient(bs.sip_port)

        def bob(mode):
            kh.check_sip(sip, "options_bob", "udp", mode)

        def check(name, ok, why):
            if not ok:
                raise kh.Fail(why)

        runner.run("console_query", lambda: check(
            "q", con.command("/kar_exclusive", "mode: shared"),
            "no 'mode: shared' in %r" % con.seen[-300:]))
        runner.run("console_on", lambda: check(
            "on", con.command("/kar_exclusive on", "mode: exclusive"),
            "no 'mode: exclusive' in %r" % con.seen[-300:]))
        runner.run("console_on_takes_effect", bob, "exclusive")
        runner.run("console_toggle", lambda: check(
            "t", con.command("/kar_exclusive toggle", "mode: shared"),
            "no 'mode: shared' in %r" % con.seen[-300:]))
        runner.run("console_toggle_takes_effect", bob, "shared")
        runner.run("console_stats", lambda: check(
            "s", con.command("/kar_stats", "OPTIONS"),
            "no counters table in %r" % con.seen[-300:]))
        runner.run("console_stats_json", lambda: check(
            "j", con.command("/kar_stats json", '"methods"'),
            "no JSON object in %r" % con.seen[-300:]))
        runner.run("console_bad_argument", lambda: check(
            "b", con.command("/kar_exclusive maybe", "usage:"),
            "no usage line in %r" % con.seen[-300:]))
    except Exception as e:                              # noqa: BLE001
        runner.fail("console_run", "%s: %s\n%s" % (
            type(e).__name__, e, bs.log_tail()))
    finally:
        if slave is not None:
            os.close(slave)
        bs.cleanup()
        os.close(master)
    print("%d passed, %d failed" % (runner.passed, runner.failed),
          flush=True)
    return 1 if runner.failed else 0


if __name__ == "__main__":
    sys.exit(main())
