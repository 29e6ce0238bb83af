#!/usr/bin/env bash
# Every CUDA, cuBLAS, cuDNN and NCCL call of the CUDA backend is checked
# where it is made, and every kernel launch is followed by its check
# (docs/cuda.md, "Errors"). A source check, so that it holds without a GPU:
#  - a library call whose status is dropped (a statement that starts with
#    the call, also after `if (...)`, `else` or `(void)`) fails it, except
#    cudaGetLastError(), which clears an error already reported, and the
#    error-string functions;
#  - a kernel launch (<<<...>>>) without SYK_LAUNCHED after it in the same
#    function fails it.
# Usage: tests/test_cuda_calls_checked.sh [FILE...] (default: the backend).
set -euo pipefail
src=${SYRE_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
if [ $# -eq 0 ]; then set -- "$src"/src/backend/cuda/*.c "$src"/src/backend/cuda/*.cu; fi
python3 - "$@" <<'EOF'
import re, sys

call = re.compile(r'\b((?:cuda|cublas|cudnn|nccl)[A-Z]\w*)\s*\(')
ok_names = {'cudaGetLastError', 'cudaGetErrorString', 'cudnnGetErrorString', 'ncclGetErrorString'}


def dropped(before):
    """Whether a call preceded by `before` starts a statement (its value unused)."""
    b = before.rstrip()
    if b == '' or b.endswith((';', '{', '}', 'else', ':')):
        return True
    if b.endswith('(void)'):
        return True
    if b.endswith(')'):  # `if (x) call(...)`, or a cast such as (size_t)call(...)
        depth, k = 0, len(b) - 1
        while k >= 0:
            depth += {')': 1, '(': -1}.get(b[k], 0)
            if depth == 0:
                break
            k -= 1
        return re.search(r'\b(if|while|for)\s*$', b[:k]) is not None
    return False


bad = []
for path in sys.argv[1:]:
    text = open(path).read()
    # Comments and strings out, line numbers kept.
    text = re.sub(r'/\*.*?\*/', lambda m: '\n' * m.group(0).count('\n'), text, flags=re.S)
    text = re.sub(r'//[^\n]*', '', text)
    text = re.sub(r'"(?:\\.|[^"\\\n])*"', '""', text)  # string literals (messages name calls)
    lines = text.split('\n')
    for m in call.finditer(text):
        name = m.group(1)
        line_no = text.count('\n', 0, m.start())
        if name in ok_names or lines[line_no].lstrip().startswith('#'):
            continue
        if dropped(text[:m.start()]):
            bad.append(f'{path}:{line_no + 1}: the status of {name} is dropped: {lines[line_no].strip()}')
    for i, line in enumerate(lines):
        if '<<<' not in line or line.lstrip().startswith('#define'):
            continue
        if line.rstrip().endswith('}') and '{' in line:  # a one-line function
            region = [line]
        else:  # to the end of the enclosing function
            j = next((k for k in range(i + 1, len(lines)) if lines[k].startswith('}')), len(lines) - 1)
            region = lines[i:j + 1]
        if not any('SYK_LAUNCHED' in l for l in region):
            bad.append(f'{path}:{i + 1}: a kernel launch without SYK_LAUNCHED after it: {line.strip()}')
for b in bad:
    print(b)
print(f'{len(bad)} unchecked call(s) in {len(sys.argv) - 1} file(s)')
sys.exit(1 if bad else 0)
EOF
