#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
"""ab_sdp.py -- the capability SDP's CPU cost, A/B in one baresip.

bench.py measures each row in its own baresip processes, one row after
the other; on a shared machine the CPU per request then moves by more
between processes and minutes than the SDP costs.  This runs one baresip
with the module and sends it the same sipp load in alternating segments,
with Accept: application/sdp (the 200 carries the capability SDP) and
Accept: text/plain (bodiless 200), reading the process's schedstat run
time around each segment.  Segments alternate in ABBA order.

    test/bench/ab_sdp.py \\
        --module test/bench/.build/module/keepalive_responder.so

Prints every segment and per rate the medians and their ratio.
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


def cpu_ns(pid):
    ns = 0
    for t in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
            ns += int(f.read().split()[0])
    return ns


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
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
    files = {"sdp": os.path.join(work, "sdp.xml"),
             "bare": os.path.join(work, "bare.xml")}
    with open(files["sdp"], "w") as f:
        f.write(scen)
    with open(files["bare"], "w") as f:
        f.write(scen.replace("Accept: application/sdp",
                             "Accept: text/plain"))

    bs = kh.Baresip(args.baresip, args.module,
                    ["keepalive_responder_rate\t0",
                     "keepalive_responder_log\t\tnone"], False)
    out = {}
    try:
        bs.start()
        pin = len(os.sched_getaffinity(0)) >= 2
        if pin:
            subprocess.run(["taskset", "-pc", "1", str(bs.proc.pid)],
                           stdout=subprocess.DEVNULL, check=True)

        def segment(name, rate):
            n = int(rate * args.seconds)
            cmd = ["sipp", "-sf", files[name], "-i", kh.HOST,
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
                rate, name, us, "" if rc == 0 else "  (sipp rc %d)" % rc),
                flush=True)
            return us

        for rate in (int(x) for x in args.rates.split(",")):
            for i in range(args.pairs):
                order = ("bare", "sdp") if i % 2 == 0 else ("sdp", "bare")
                for name in order:
                    out.setdefault((rate, name), []).append(
                        segment(name, rate))
    finally:
        bs.cleanup()
        shutil.rmtree(work, ignore_errors=True)

    for (rate, name) in sorted(out):
        if name != "bare":
            continue
        a, b = out[(rate, "bare")], out[(rate, "sdp")]
        print("%d/s: bodiless median %.1f us, with SDP %.1f us: %.2fx"
              " (pairs %s)" % (rate, statistics.median(a),
                               statistics.median(b),
                               statistics.median(b) / statistics.median(a),
                               " ".join("%.2f" % (y / x)
                                        for x, y in zip(a, b))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
