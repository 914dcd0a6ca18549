#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 keepalive_responder developers
"""
layers.py -- the module's files call one another one way only.

From the module's object files (nm), which file calls which:

  * no two files call each other, and no chain of calls comes back to
    the file it started from (docs/design.md, "Layers");
  * headers are looked up in hdr.c alone: no other file calls libre's
    header lookups (sip_msg_hdr*, hash_list on the message's headers).

First it checks itself on two objects it compiles, which call each
other and look up a header: both rules must fail there.

    layers.py --cc cc OBJECTS...   (CMake may pass a ;-list)

Prints the call graph; exits 1 when a rule is broken.
"""

import argparse
import os
import subprocess
import sys
import tempfile

LOOKUPS = {"sip_msg_hdr", "sip_msg_hdr_apply", "sip_msg_hdr_count",
           "sip_msg_hdr_has_value", "sip_msg_xhdr", "sip_msg_xhdr_apply",
           "sip_msg_xhdr_count", "sip_msg_xhdr_has_value", "hash_list"}
HDR_FILE = "hdr"


def name_of(path):
    """hdr.c.o, hdr.o -> hdr"""
    return os.path.basename(path).split(".")[0]


def symbols(path):
    out = subprocess.run(["nm", path], check=True, capture_output=True,
                         text=True).stdout
    defined, used = set(), set()
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3 and f[1] in "TDBRC":
            defined.add(f[2])
        elif len(f) == 2 and f[0] == "U":
            used.add(f[1])
    return defined, used


def graph(objects):
    """{file: set of files it calls}, {file: libre lookups it calls}"""
    defs, uses = {}, {}
    for o in objects:
        d, u = symbols(o)
        n = name_of(o)
        uses[n] = u
        for s in d:
            defs[s] = n
    calls = {n: set() for n in uses}
    lookups = {}
    for n, u in uses.items():
        for s in u:
            if s in defs and defs[s] != n:
                calls[n].add(defs[s])
        lk = u & LOOKUPS
        if lk:
            lookups[n] = lk
    return calls, lookups


def cycles(calls):
    """Strongly connected components of more than one file (Tarjan)"""
    index, low, stack, on, found = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(calls.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(calls):
        if v not in index:
            visit(v)
    return found


def problems(objects):
    calls, lookups = graph(objects)
    bad = ["calls go round: %s" % " -> ".join(c) for c in cycles(calls)]
    bad += ["%s looks up headers itself (%s): hdr.c's job"
            % (n, ", ".join(sorted(s))) for n, s in sorted(lookups.items())
            if n != HDR_FILE]
    return calls, bad


def selftest(cc):
    """Two files that call each other and look up a header: both rules
    must say so, or this check could not fail."""
    src = {
        "a.c": "struct sip_msg;\n"
               "void *sip_msg_hdr(const struct sip_msg *m, int id);\n"
               "int b(int);\nint a(int x) { sip_msg_hdr(0, 0);"
               " return x ? b(x - 1) : 0; }\n",
        "b.c": "int a(int);\nint b(int x) { return x ? a(x - 1) : 1; }\n",
    }
    with tempfile.TemporaryDirectory() as d:
        objs = []
        for name, text in src.items():
            c = os.path.join(d, name)
            with open(c, "w") as f:
                f.write(text)
            o = c + ".o"
            subprocess.run([cc, "-c", c, "-o", o], check=True)
            objs.append(o)
        _, bad = problems(objs)
    return (any("calls go round: a -> b" in p for p in bad) and
            any(p.startswith("a looks up headers") for p in bad))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cc", default="cc")
    ap.add_argument("objects", nargs="+")
    args = ap.parse_args()

    if not selftest(args.cc):
        print("FAIL: the check does not see a loop it made itself")
        return 1

    objects = [o for arg in args.objects for o in arg.split(";") if o]
    calls, bad = problems(objects)
    for n in sorted(calls):
        print("%-20s -> %s" % (n, ", ".join(sorted(calls[n])) or "-"))
    if len(calls) < 10:
        bad.append("only %d files: not the module's objects" % len(calls))
    for p in bad:
        print("FAIL: " + p)
    print("%d files, %s" % (len(calls), "ok" if not bad else
                            "%d problems" % len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
