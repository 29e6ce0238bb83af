#!/usr/bin/env python3
"""Doxygen input filter for include/syre/*.h (docs/Doxyfile).

The headers use plain C comments written for a person reading the header.
This turns them into Doxygen's without touching the files, keeping every line
where it is (so warnings point at the right line):
- the comment that opens a header describes the file (@file);
- a comment on its own line documents what follows it, up to the next blank
  line or comment: when that is several declarations (sy_tanh, sy_sigmoid, ...
  under one sentence; a struct's fields under one heading) they become one
  Doxygen member group sharing the comment;
- a comment after code on the same line documents that member or value;
  a comment above or after a line declaring several (`int a, b, c;`), which
  Doxygen would give to one name only, makes that line a member group so
  that every name shares it (not inside a group already: groups don't nest);
- "/* ---- Section ---- */" rulers stay plain comments (three dashes at
  least: "/* --seed ..." is a comment on a flag);
- placeholders such as <run> are text, not HTML tags.
"""
import re
import sys

RULER = re.compile(r"^\s*/\* -{3,}")
LEADING = re.compile(r"^(\s*)/\*(?!\*)")
TRAILING = re.compile(r"(\S.*?)\s+/\*(?![*<])")
PLACEHOLDER = re.compile(r"<([A-Za-z_][^<>]*)>")


def statements_after(lines, i):
    """Index of the last line of each declaration following line i, up to a
    blank line, a comment or the end of the enclosing braces."""
    ends, depth, pending = [], 0, False
    j = i - 1
    while j + 1 < len(lines):
        j += 1
        code = re.sub(r"/\*.*?\*/", "", lines[j]).strip()
        if not code or code.startswith("/*"):
            break
        if code.startswith("#"):
            while lines[j].rstrip().endswith("\\") and j + 1 < len(lines):
                j += 1
            if code.startswith("#define"):
                ends.append(j)
            continue
        for ch in code:
            if ch in "({[":
                depth += 1
            elif ch in ")}]":
                depth -= 1
                if depth < 0:
                    return ends
            elif ch == ";" and depth == 0:
                ends.append(j)
                pending = False
                continue
            pending = True
        if depth == 0 and code.endswith(",") and not pending:
            ends.append(j)
    return ends


def strip_comment(line):
    return re.sub(r"/\*.*?\*/", "", line).strip()


def declarators(code):
    """Names declared by one line of code ending in ';': 1 + its commas
    outside brackets (0 if it closes a bracket it did not open)."""
    if code.startswith("#") or not code.endswith(";"):
        return 1
    n, depth = 1, 0
    for ch in code:
        if ch in "({[":
            depth += 1
        elif ch in ")}]":
            depth -= 1
            if depth < 0:
                return 0
        elif ch == "," and depth == 0:
            n += 1
    return n


def main(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    out = list(lines)
    pre, post = [""] * (len(lines) + 1), [""] * len(lines)
    grouped = set()
    i = 0
    while i < len(lines):
        line = lines[i]
        m = LEADING.match(line)
        if m and not RULER.match(line):
            end = i
            while "*/" not in lines[end]:
                end += 1
            out[i] = LEADING.sub(r"\1/**", out[i], count=1)
            if i == 0:
                out[end] = out[end].replace("*/", "@file */", 1)
            else:
                ends = statements_after(lines, end + 1)
                if len(ends) > 1 or (ends == [end + 1] and declarators(strip_comment(lines[end + 1])) > 1):
                    grouped.update(range(i, ends[-1] + 1))
                    pre[i] += "/**@{*/"
                    # a macro's own line would swallow the marker
                    if lines[ends[-1]].lstrip().startswith("#") or lines[ends[-1] - 1].rstrip().endswith("\\"):
                        pre[ends[-1] + 1] = "/**@}*/" + pre[ends[-1] + 1]
                    else:
                        post[ends[-1]] += " /**@}*/"
            i = end + 1
            continue
        if not line.lstrip().startswith("/*"):
            out[i] = TRAILING.sub(r"\1 /**<", out[i], count=1)
            t = TRAILING.search(line)
            if t and i not in grouped and declarators(t.group(1).strip()) > 1:
                close = i  # the comment may go on over further lines
                while "*/" not in lines[close][t.end() if close == i else 0:]:
                    close += 1
                pre[i] += "/**@{*/"
                post[close] += " /**@}*/"
        i += 1
    for k, text in enumerate(out):
        if not text.lstrip().startswith("#include"):
            text = PLACEHOLDER.sub(r"\\<\1\\>", text)
        out[k] = pre[k] + text + post[k]
    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1])
