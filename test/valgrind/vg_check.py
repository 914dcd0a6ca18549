#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
"""
vg_check.py -- run the integration harness with baresip under valgrind
memcheck and fail on memory errors attributable to keepalive_responder.

    vg_check.py run --logdir DIR -- COMMAND...
        Empties DIR, runs COMMAND (kar_probe.py with --baresip pointing at
        the baresip-valgrind wrapper) with KAR_VG_LOG_DIR=DIR, then checks
        every DIR/vg.PID.xml the wrapper's valgrind wrote.

    vg_check.py check FILE.xml...
        Checks valgrind XML files only.

    vg_check.py selftest DIR
        Checks the recorded files in DIR (testdata/): a module leak and a
        truncated file must fail, a leak elsewhere must pass.  Proves that
        the check can fail.

A valgrind error is the module's when a frame of any of its stacks lies in
keepalive_responder.so (the wrapper runs valgrind with
--keep-debuginfo=yes, so frames of the module are named even though
baresip unloads it before the leak check at exit) or in a source file
under modules/keepalive_responder/.  Failures:
  * "definitely lost" blocks allocated by the module (must be 0);
  * any other memcheck error (invalid read/write/free, uninitialised
    value, ...) with a frame in the module;
  * a valgrind run that did not finish (killed, crashed: its XML is
    incomplete), or no valgrind run at all (the check would prove
    nothing), or COMMAND failing.
Errors elsewhere (baresip, libre, other modules) are listed, not failed.

Output: one line per valgrind run, the module's errors with their stacks,
then "valgrind: N runs, module definitely lost: B bytes in K blocks,
M other module errors" and exit status 0 only when that is clean.
"""

import glob
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

MODULE_OBJ = "keepalive_responder.so"
MODULE_SRC = os.path.join("modules", "keepalive_responder")
RUN_TIMEOUT = 900      # the harness bounds itself; this is a backstop


def frames(err):
    """All frames of all stacks of an error."""
    for stack in err.findall("stack"):
        for fr in stack.findall("frame"):
            yield fr


def frame_text(fr):
    fn = fr.findtext("fn") or "???"
    obj = fr.findtext("obj") or "?"
    f, d, line = fr.findtext("file"), fr.findtext("dir"), fr.findtext("line")
    where = ("%s:%s" % (os.path.join(d or "", f), line)) if f else obj
    return "%s (%s)" % (fn, where)


def is_module_frame(fr):
    obj = fr.findtext("obj") or ""
    if os.path.basename(obj) == MODULE_OBJ:
        return True
    d = fr.findtext("dir") or ""
    return os.path.normpath(d).endswith(MODULE_SRC)


def leak_size(err):
    xw = err.find("xwhat")
    if xw is None:
        return 0, 0
    return (int(xw.findtext("leakedbytes") or 0),
            int(xw.findtext("leakedblocks") or 0))


def describe(err):
    xw = err.find("xwhat")
    text = xw.findtext("text") if xw is not None else err.findtext("what")
    lines = ["  %s: %s" % (err.findtext("kind"), text or "")]
    for i, stack in enumerate(err.findall("stack")):
        if i:
            lines.append("   and:")
        for fr in stack.findall("frame"):
            mark = ">" if is_module_frame(fr) else " "
            lines.append("   %s %s" % (mark, frame_text(fr)))
    return "\n".join(lines)


class Result:
    def __init__(self):
        self.runs = 0
        self.lost_bytes = 0
        self.lost_blocks = 0
        self.module_errors = 0
        self.broken = []

    @property
    def ok(self):
        return (self.runs > 0 and not self.broken and not self.lost_blocks
                and not self.module_errors)


def check_file(path, res, out):
    name = os.path.basename(path)
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as e:
        res.broken.append("%s: incomplete or unreadable (%s): valgrind "
                          "did not finish (killed or crashed?)" % (name, e))
        return
    states = [s.findtext("state") for s in root.findall("status")]
    if "FINISHED" not in states:
        res.broken.append("%s: valgrind run did not finish" % name)
        return
    res.runs += 1

    cmd = " ".join(x.text or "" for x in root.findall("./args/argv/*"))
    errors = root.findall("error")
    mine, other = [], []
    for err in errors:
        (mine if any(is_module_frame(f) for f in frames(err))
         else other).append(err)

    lost = [e for e in mine if e.findtext("kind") == "Leak_DefinitelyLost"]
    bad = [e for e in mine if not e.findtext("kind", "").startswith("Leak_")]
    b = sum(leak_size(e)[0] for e in lost)
    k = sum(leak_size(e)[1] for e in lost)
    res.lost_bytes += b
    res.lost_blocks += k
    res.module_errors += len(bad)

    print("%s: pid %s, %s; %d error(s), module: %d bytes in %d blocks "
          "definitely lost, %d other" % (
              name, root.findtext("pid"), cmd, len(errors), b, k, len(bad)),
          file=out)
    for err in lost + bad:
        print(describe(err), file=out)
    for err in other:
        print("  (not the module's) " + describe(err).lstrip(), file=out)


def check(paths, out=sys.stdout):
    res = Result()
    for p in sorted(paths):
        check_file(p, res, out)
    for b in res.broken:
        print("FAIL " + b, file=out)
    if not paths:
        print("FAIL no valgrind output: baresip never ran under valgrind",
              file=out)
    print("valgrind: %d run(s), module definitely lost: %d bytes in %d "
          "blocks, %d other module error(s)" % (
              res.runs, res.lost_bytes, res.lost_blocks, res.module_errors),
          file=out, flush=True)
    return res


def cmd_run(argv):
    if len(argv) < 4 or argv[0] != "--logdir" or argv[2] != "--":
        sys.exit("usage: vg_check.py run --logdir DIR -- COMMAND...")
    logdir, command = argv[1], argv[3:]
    shutil.rmtree(logdir, ignore_errors=True)
    os.makedirs(logdir)
    env = dict(os.environ, KAR_VG_LOG_DIR=os.path.abspath(logdir))
    print("running: %s" % " ".join(command), flush=True)
    try:
        rc = subprocess.run(command, env=env, timeout=RUN_TIMEOUT).returncode
    except subprocess.TimeoutExpired:
        rc = "timeout"
    res = check(glob.glob(os.path.join(logdir, "vg.*.xml")))
    if rc != 0:
        print("FAIL the integration run failed (status %s)" % rc)
    return 0 if res.ok and rc == 0 else 1


def cmd_selftest(argv):
    if len(argv) != 1:
        sys.exit("usage: vg_check.py selftest DIR")
    d = argv[0]
    cases = [("module-leak.xml", False), ("module-invalid-read.xml", False),
             ("truncated.xml", False), ("foreign-leak.xml", True)]
    failed = 0
    for name, want_ok in cases:
        with open(os.devnull, "w") as null:
            res = check([os.path.join(d, name)], out=null)
        good = res.ok == want_ok
        failed += not good
        print("%s %s: check %s (expected %s)" % (
            "ok  " if good else "FAIL", name, "passes" if res.ok else
            "fails", "pass" if want_ok else "failure"))
    res = check([os.path.join(d, "module-leak.xml")], out=open(os.devnull,
                                                                "w"))
    if (res.lost_bytes, res.lost_blocks) != (232, 2):
        print("FAIL module-leak.xml: %d bytes in %d blocks, expected 232 "
              "in 2" % (res.lost_bytes, res.lost_blocks))
        failed += 1
    return 1 if failed else 0


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sub, argv = sys.argv[1], sys.argv[2:]
    if sub == "run":
        return cmd_run(argv)
    if sub == "check":
        return 0 if check(argv).ok else 1
    if sub == "selftest":
        return cmd_selftest(argv)
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
