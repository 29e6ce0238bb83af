#!/usr/bin/env python3
"""Compare the tensors of two safetensors files (F32), standard library only.

usage: st_compare.py A B [--rtol R] [--atol T] [--exact] [--only PREFIX] [--skip PREFIX]

For every tensor of A (optionally only names starting with PREFIX, minus those
starting with a --skip prefix) B must have the same name and shape and
|a - b| <= atol + rtol * max|a| of that tensor, elementwise (--exact: bitwise
equal). Prints one line per tensor with the largest difference; exit 0 if all
agree, 1 otherwise, 2 on bad input."""
import json
import struct
import sys
from array import array


def load(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    head = json.loads(raw[8:8 + n])
    base = 8 + n
    out = {}
    for name, t in head.items():
        if name == "__metadata__":
            continue
        if t["dtype"] != "F32":
            sys.exit("%s: %s has dtype %s" % (path, name, t["dtype"]))
        b, e = t["data_offsets"]
        a = array("f")
        a.frombytes(raw[base + b:base + e])
        if sys.byteorder != "little":
            a.byteswap()
        out[name] = (tuple(t["shape"]), a)
    return out, head.get("__metadata__", {})


def main(argv):
    args, rtol, atol, exact, only, skip = [], 1e-5, 1e-7, False, "", []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--rtol": rtol = float(argv[i + 1]); i += 1
        elif a == "--atol": atol = float(argv[i + 1]); i += 1
        elif a == "--exact": exact = True
        elif a == "--only": only = argv[i + 1]; i += 1
        elif a == "--skip": skip.append(argv[i + 1]); i += 1
        else: args.append(a)
        i += 1
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    (A, _), (B, _) = load(args[0]), load(args[1])
    bad = 0
    names = [n for n in sorted(A) if n.startswith(only) and not any(n.startswith(s) for s in skip)]
    if not names:
        print("no tensors to compare", file=sys.stderr)
        return 2
    for name in names:
        sa, a = A[name]
        if name not in B:
            print("%s: missing in %s" % (name, args[1])); bad += 1; continue
        sb, b = B[name]
        if sa != sb:
            print("%s: shape %s vs %s" % (name, sa, sb)); bad += 1; continue
        scale = max((abs(x) for x in a), default=0.0)
        worst, ok = 0.0, True
        for x, y in zip(a, b):
            d = abs(x - y)
            worst = max(worst, d)
            if (exact and x != y and not (x != x and y != y)) or (not exact and not d <= atol + rtol * scale):
                ok = False
        print("%-40s %s max|diff| %.3g (max|a| %.3g)" % (name, "ok " if ok else "BAD", worst, scale))
        bad += not ok
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
