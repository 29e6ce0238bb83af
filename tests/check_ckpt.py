#!/usr/bin/env python3
"""Checks that a safetensors checkpoint is whole: the header length fits,
the header is a JSON object, every tensor's data range lies inside the file,
the ranges tile the data section exactly (no missing tail), and the training
metadata is present. Exit 0 if whole, 1 (with the reason) if not.
usage: check_ckpt.py FILE"""
import json, struct, sys


def check(path):
    b = open(path, "rb").read()
    if len(b) < 8:
        return "shorter than 8 bytes"
    (hlen,) = struct.unpack("<Q", b[:8])
    if 8 + hlen > len(b):
        return "header length %d beyond the file (%d bytes)" % (hlen, len(b))
    try:
        h = json.loads(b[8:8 + hlen].decode())
    except ValueError as e:
        return "header is not JSON (%s)" % e
    meta = h.pop("__metadata__", {})
    for k in ("epoch", "batch", "graph_step", "optimizer_steps", "done"):
        if k not in meta:
            return "metadata lacks %s" % k
    data = len(b) - 8 - hlen
    ranges = sorted(tuple(t["data_offsets"]) for t in h.values())
    pos = 0
    for lo, hi in ranges:
        if lo != pos or hi < lo:
            return "tensor data ranges do not tile the data section"
        pos = hi
    if pos != data:
        return "data section has %d bytes, tensors need %d" % (data, pos)
    return None


if __name__ == "__main__":
    why = check(sys.argv[1])
    if why:
        print("%s: NOT WHOLE: %s" % (sys.argv[1], why))
        sys.exit(1)
