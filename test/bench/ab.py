#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
"""ab.py -- one feature's CPU cost, A/B in alternating segments.

bench.py measures each row in its own baresip processes, one row after
the other; on a shared or virtual machine the CPU per request then
moves by more between processes and minutes than a small feature
costs.  This sends the same sipp load in alternating segments (ABBA
order) and reads the responder's schedstat run time around each one:

  sdp    one baresip with the module; Accept: application/sdp (the 200
         carries the capability SDP) against Accept: text/plain
         (bodiless 200)

Features that need another config (the probe watch) cannot alternate
in one process: bench.py measures those rows side by side (PAIRS).

    test/bench/ab.py sdp \\
        --module test/bench/.build/module/keepalive_responder.so

Prints every segment and per rate the medians and their ratio (B/A).
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import kar_harness as kh                                # noqa: E402

BASE_CONF = ["keepalive_responder_rate\t0",
             "keepalive_responder_log\t\tnone"]

# variant: (A, B) as (label, extra config lines, Accept) per side; sides
# with the same config share one baresip
VARIANTS = {
    "sdp": (("bare", [], "text/plain"),
            ("sdp", [], "application/sdp")),
}


def cpu_ns(pid):
    ns = 0
    for t in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
            ns += int(f.read().split()[0])
    return ns


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("variant", choices=sorted(VARIANTS))
    ap.add_argument("--module", required=True)
    ap.add_argument("--baresip", default="/usr/bin/baresip")
    ap.add_argument("--rates", default="1000,4000")
    ap.add_argument("--seconds", type=float, default=5.0,
                    help="length of one segment")
    ap.add_argument("--pairs", type=int, default=8)
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="kar-ab.")
    with open(os.path.join(HERE, "scenarios", "options_nouser.xml")) as f:
        scen = f.read()
    if "Accept: application/sdp" not in scen:
        sys.exit("options_nouser.xml no longer sends Accept: application/sdp")

    sides = VARIANTS[args.variant]
    procs = {}          # config (tuple) -> Baresip
    files = {}
    for label, conf, accept in sides:
        files[label] = os.path.join(work, label + ".xml")
        with open(files[label], "w") as f:
            f.write(scen.replace("Accept: application/sdp",
                                 "Accept: " + accept))
        if tuple(conf) not in procs:
            procs[tuple(conf)] = kh.Baresip(args.baresip, args.module,
                                            BASE_CONF + conf, False)
    out = {}
    try:
        pin = len(os.sched_getaffinity(0)) >= 2
        for bs in procs.values():
            bs.start()
            if pin:
                subprocess.run(["taskset", "-pc", "1", str(bs.proc.pid)],
                               stdout=subprocess.DEVNULL, check=True)

        def segment(side, rate):
            label, conf, _ = side
            bs = procs[tuple(conf)]
            n = int(rate * args.seconds)
            cmd = ["sipp", "-sf", files[label], "-i", kh.HOST,
                   "-p", str(kh.pick_ports()[0]),
                   "%s:%d" % (kh.HOST, bs.sip_port), "-m", str(n),
                   "-r", str(rate), "-rp", "1000", "-nostdin",
                   "-timer_resol", "1", "-buff_size", "4194304",
                   "-timeout", "%ds" % (args.seconds + 30),
                   "-timeout_error"]
            if pin:
                cmd = ["taskset", "-c", "0"] + cmd
            c0 = cpu_ns(bs.proc.pid)
            rc = subprocess.run(cmd, cwd=work, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL).returncode
            us = (cpu_ns(bs.proc.pid) - c0) / n / 1000.0
            print("%5d/s %-4s %7.1f us/req%s" % (
                rate, label, us, "" if rc == 0 else "  (sipp rc %d)" % rc),
                flush=True)
            return us

        for rate in (int(x) for x in args.rates.split(",")):
            for i in range(args.pairs):
                order = sides if i % 2 == 0 else sides[::-1]
                for side in order:
                    out.setdefault((rate, side[0]), []).append(
                        segment(side, rate))
    finally:
        for bs in procs.values():
            bs.cleanup()
        shutil.rmtree(work, ignore_errors=True)

    (la, _, _), (lb, _, _) = sides
    for rate in sorted({r for r, _ in out}):
        a, b = out[(rate, la)], out[(rate, lb)]
        print("%d/s: %s median %.1f us, %s %.1f us: %.2fx (pairs %s)" % (
            rate, la, statistics.median(a), lb, statistics.median(b),
            statistics.median(b) / statistics.median(a),
            " ".join("%.2f" % (y / x) for x, y in zip(a, b))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
