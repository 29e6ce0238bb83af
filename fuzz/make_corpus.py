#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora (fuzz/corpus/<target>/) from the real
data under data/: a few MNIST / Fashion-MNIST samples as raw and gzip IDX
pairs, CIFAR records and PNG / JPEG files made from CIFAR-10 images, a
training checkpoint in the layout sy_train_save writes, run-record CSVs and
command lines. Deterministic; each seed is a few KB. Run from the repository
root: python3 fuzz/make_corpus.py (PIL, if present, decodes the CIFAR JPEGs
for the CIFAR-binary seeds; without it those use MNIST pixels)."""
import gzip, json, os, struct, sys, zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "data")
OUT = os.path.join(ROOT, "fuzz", "corpus")


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rb") as f:
        return f.read()


def idx_pair(images, labels, k, gz):
    """First k samples of an IDX pair, re-headed; the fuzz_idx input layout."""
    n, rows, cols = struct.unpack(">III", images[4:16])
    lab = struct.pack(">II", 0x801, k) + labels[8:8 + k]
    img = struct.pack(">IIII", 0x803, k, rows, cols) + images[16:16 + k * rows * cols]
    if gz:
        lab, img = gzip.compress(lab, mtime=0), gzip.compress(img, mtime=0)
    return struct.pack("<H", len(lab)) + lab + img


def png(w, h, channels, pixels):
    def chunk(t, b):
        return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b) & 0xffffffff)
    ctype = {1: 0, 3: 2}[channels]
    raw = b"".join(b"\0" + pixels[y * w * channels:(y + 1) * w * channels] for y in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, ctype, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def safetensors(tensors, meta, crc=False):
    """crc: add syre's checksums (docs/cli.md): crc32 of each tensor's bytes
    and of the other metadata, keys and values each followed by a NUL."""
    meta = dict(meta)
    if crc:
        meta["crc32:__metadata__"] = "%08x" % zlib.crc32(b"".join(
            k.encode() + b"\0" + v.encode() + b"\0" for k, v in meta.items()))
    hdr, off, body = {"__metadata__": meta}, 0, b""
    for name, shape, vals in tensors:
        b = struct.pack("<%df" % len(vals), *vals)
        hdr[name] = {"dtype": "F32", "shape": shape, "data_offsets": [off, off + len(b)]}
        if crc:
            meta["crc32:" + name] = "%08x" % zlib.crc32(b)
        off += len(b)
        body += b
    h = json.dumps(hdr, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + body


def main():
    mi = read(os.path.join(DATA, "mnist", "t10k-images-idx3-ubyte"))
    ml = read(os.path.join(DATA, "mnist", "t10k-labels-idx1-ubyte"))
    fi = read(os.path.join(DATA, "fashion-mnist", "t10k-images-idx3-ubyte.gz"))
    fl = read(os.path.join(DATA, "fashion-mnist", "t10k-labels-idx1-ubyte.gz"))
    put("idx", "mnist-raw-2", idx_pair(mi, ml, 2, False))
    put("idx", "mnist-gz-3", idx_pair(mi, ml, 3, True))
    put("idx", "fashion-gz-2", idx_pair(fi, fl, 2, True))
    put("idx", "fashion-raw-1", idx_pair(fi, fl, 1, False))
    whole = idx_pair(mi, ml, 2, True)
    put("idx", "mnist-gz-cut", whole[:len(whole) - 9])  # gzip stream cut short

    # CIFAR records: label byte(s) + 3072 CHW bytes, from real CIFAR-10 images.
    jpgs = []
    for cls in sorted(os.listdir(os.path.join(DATA, "cifar10-jpeg", "test")))[:3]:
        d = os.path.join(DATA, "cifar10-jpeg", "test", cls)
        jpgs.append((cls, os.path.join(d, sorted(os.listdir(d))[0])))
    try:
        from PIL import Image
        chw = []
        for _, p in jpgs:
            im = Image.open(p).convert("RGB")
            b = im.tobytes()
            chw.append(bytes(b[3 * i + c] for c in range(3) for i in range(1024)))
    except ImportError:
        chw = [(mi[16 + 784 * k:16 + 784 * (k + 1)] * 4)[:3072] for k in range(3)]
    c10 = b"".join(bytes([k]) + chw[k] for k in range(2))
    put("cifar", "cifar10-2", b"\0" + c10)
    put("cifar", "cifar100-1", b"\1" + bytes([3, 42]) + chw[2])

    # Images: a real CIFAR JPEG, and PNGs (gray and RGB) of MNIST pixels.
    for cls, p in jpgs[:2]:
        put("image", "cifar-%s.jpg" % cls, b"\0" + read(p))
    digit = mi[16:16 + 784]
    put("image", "mnist-gray.png", b"\1" + png(28, 28, 1, digit))
    small = bytes(digit[(y * 2) * 28 + x * 2] for y in range(14) for x in range(14))
    put("image", "mnist-rgb.png", b"\0" + png(14, 14, 3, bytes(v for v in small for _ in range(3))))

    # Training checkpoints shaped like fuzz_safetensors' model (w [3,2], b [3], Adam + syre anchor).
    meta = {"epoch": "1", "batch": "2", "graph_step": "5", "optimizer_steps": "5", "done": "0"}
    w = [0.1 * i - 0.2 for i in range(6)]
    b = [0.01, -0.02, 0.03]
    st = [("w", [3, 2], w), ("b", [3], b), ("optim.exp_avg", [9], [0.001] * 9),
          ("optim.exp_avg_sq", [9], [1e-6] * 9), ("optim.anchor", [9], [0.05] * 9)]
    put("safetensors", "train-state", safetensors(st, meta))
    put("safetensors", "train-state-crc32", safetensors(st, meta, crc=True))
    put("safetensors", "params-only", safetensors(st[:2], {}))
    put("safetensors", "empty", safetensors([], {"note": "x"}))

    # Run records: metrics.csv files as runs write them, after a flag value.
    put("record", "ridge-csv", b"/data/mnist\0method,step,loss,acc\nsyre,0,0.5,0.25\nvanilla,10,0.25,0.5\n")
    put("record", "quoted-csv", b"a \"quoted\" dir,\n\0method,step,\"a,b\",loss\nsyre,1,,2\n")
    put("record", "empty-csv", b"\xc3\xa9\x01\0")

    # Command lines: experiment selector byte, then NUL-separated arguments.
    lines = [(0, ["--quick", "--seed", "3", "--method", "syre,vanilla"]),
             (1, ["--epochs=2", "--lr", "1e-3", "--gamma", "0.5", "--name", "r1", "--resume"]),
             (2, ["--method", "syre-ar", "--method", "wfix", "--eps", "0.1", "--threads", "2"]),
             (3, ["--batch", "64", "--sigma0", "0.01", "--quick=false", "--out", "runs"]),
             (4, ["fig3-right", "--data-dir", "data"])]
    for i, (e, args) in enumerate(lines):
        put("flags", "cmdline-%d" % i, bytes([e]) + b"\0".join(a.encode() for a in args))

    # The whole command line after "syre", NUL-separated (fuzz_cli).
    cli = {"list": ["list"], "help-quartic": ["help", "quartic"], "version": ["--version"],
           "run-quartic": ["run", "quartic", "--steps", "100", "--d", "16", "--method", "syre"],
           "reproduce": ["reproduce", "fig3-right", "--quick"], "run-help": ["run", "lowcap", "--help"]}
    for name, args in cli.items():
        put("cli", name, b"\0".join(a.encode() for a in args))


if __name__ == "__main__":
    sys.exit(main())
