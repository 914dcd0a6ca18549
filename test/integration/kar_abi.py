#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
"""
kar_abi.py -- a module built for another baresip generation refuses to
load, with one warning naming both.

baresip checks nothing when it loads a module, and a module built on the
project's baresip 1.0 declarations would load into 1.1 (and emit
FALLBACK_OK where it means MWI_NOTIFY).  This builds the module for the
generation that is *not* the one under test (1.1 where baresip 1.0 runs,
1.0 where 1.1 runs) with the project's declarations, starts the real
baresip with it and checks that:

  * the log has exactly one line of the module's, a warning naming the
    version it was built for and the baresip it found;
  * the module is not loaded (no kar_stats command, stock answers);
  * the module built for this baresip (--module) does load: the check
    above can tell the two apart.

    kar_abi.py --baresip /usr/bin/baresip --module build/keepalive_responder.so
        --cmake cmake --src . --work build/test/abi

Last line: "N passed, M failed"; exit status 0 only when nothing failed.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kar_harness as kh                                 # noqa: E402

# The other generation of the two the project declares itself
OTHER = {(1, 0): "1.1.0", (1, 1): "1.0.0"}
BUILD_TIMEOUT = 300


def build_other(args, version):
    """Configure and build the module for baresip <version>."""
    if os.path.isdir(args.work):
        shutil.rmtree(args.work)
    for cmd in ([args.cmake, "-S", args.src, "-B", args.work,
                 "-DKAR_TESTS=OFF", "-DKAR_BARESIP_VERSION=" + version],
                [args.cmake, "--build", args.work]):
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=BUILD_TIMEOUT)
        if p.returncode:
            raise kh.Fail("%s: exit %d\n%s" % (" ".join(cmd), p.returncode,
                                             kh.indent(p.stdout.decode())))
    mod = os.path.join(args.work, kh.MODNAME + ".so")
    if not os.path.isfile(mod):
        raise kh.Fail("the build left no %s" % mod)
    return mod


def module_lines(bs):
    with open(bs.logpath, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    # baresip colours warnings: drop the escape sequences
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    # the module's own lines (baresip adds one of its own on a refusal)
    return [ln for ln in text.splitlines()
            if ln.startswith("keepalive_responder:")]


def run_one(args, runner, label, module, loads, built):
    bs = kh.Baresip(args.baresip, module, [], args.keep)
    try:
        if not runner.run("%s_start" % label, bs.start):
            return
        runner.guard = bs.dead
        ctrl = kh.Ctrl(bs.ctrl_port)
        sip = kh.SipClient(bs.sip_port)

        def command():
            ok, data = ctrl.command("kar_stats", "json")
            if ok != loads:
                raise kh.Fail("kar_stats %s: %r" % (
                    "fails" if loads else "answers", data[:80]))
        runner.run("%s_%s" % (label, "loaded" if loads else "not_loaded"),
                   command)

        def answers():
            # loaded: the module's 200; refused: the stock answer
            for tp in ("udp", "tcp"):
                kh.check_sip(sip, "options_nouser", tp,
                             "shared" if loads else "stock")
        runner.run("%s_options_nouser" % label, answers)
        ctrl.close()
        runner.guard = None
        runner.run("%s_clean_shutdown" % label, kh.t_shutdown, bs)

        lines = module_lines(bs)

        def log():
            if loads:
                if not any("for baresip " in ln for ln in lines):
                    raise kh.Fail("no start-up line: %r" % lines)
                if any("not loaded" in ln for ln in lines):
                    raise kh.Fail("refused itself: %r" % lines)
                return
            if len(lines) != 1:
                raise kh.Fail("%d lines of the module's, expected one "
                              "warning: %r" % (len(lines), lines))
            running = "baresip %s" % (
                "1.0" if kh.baresip_version()[:2] == (1, 0) else "1.1")
            want = ("built for baresip %s" % built, "this is " + running,
                    "with libre ", "not loaded")
            missing = [w for w in want if w not in lines[0]]
            if missing:
                raise kh.Fail("the warning lacks %r: %r"
                              % (missing, lines[0]))
        runner.run("%s_log" % label, log)
    finally:
        bs.cleanup()


def run_all(args, runner):
    gen = kh.baresip_version()[:2]
    if gen not in OTHER:
        raise kh.Fail("baresip %d.%d: the project declares only 1.0 and "
                      "1.1, so no module of another generation can be "
                      "built here" % gen)
    other = OTHER[gen]
    mod = build_other(args, other)
    run_one(args, runner, "other_generation", mod, False, other)
    run_one(args, runner, "this_generation", args.module, True, None)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--baresip", default="/usr/bin/baresip")
    ap.add_argument("--module", required=True,
                    help="the module built for this baresip")
    ap.add_argument("--cmake", default="cmake")
    ap.add_argument("--src", required=True, help="the project's tree")
    ap.add_argument("--work", required=True, help="build folder to use")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    kh.BARESIP = args.baresip

    runner = kh.Runner()
    kh.run_checked(args, runner, lambda a, r: r.run(
        "abi_guard", run_all, a, r))
    return kh.finish(runner)


if __name__ == "__main__":
    sys.exit(main())
