#!/usr/bin/env bash
# setup-dev.sh - make a working development environment from a fresh clone, idempotently:
# Debian packages (when run as root and missing), a virtualenv in .venv with the build and test
# tools, and loopscope installed into it in editable mode (C changes rebuild on import).
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: clang and its runtime for the fuzzers, strace for the syscall benchmark, Go's pprof
# and valgrind's callgrind_annotate for the export tests, chromium for the browser tests (tests/browser,
# driven by Playwright with executable_path=/usr/bin/chromium: `playwright install` needs network).
need_apt=()
command -v clang-14 >/dev/null || need_apt+=(clang-14)
[ -e /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a ] || need_apt+=(libclang-rt-14-dev)
command -v strace >/dev/null || need_apt+=(strace)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
# go tool pprof checks the pprof export; this machine kind ships Go in /usr/local/go
command -v go >/dev/null || [ -x /usr/local/go/bin/go ] || need_apt+=(golang-go)
command -v callgrind_annotate >/dev/null || need_apt+=(valgrind)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian packages: ${need_apt[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "setup: missing ${need_apt[*]} (install them with apt-get as root); tests that need them will say so"
  fi
fi

# The interpreter that runs loopscope itself: pyenv's 3.11 if there is one, else python3 (>= 3.9).
PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
  for candidate in "$HOME"/.pyenv/versions/3.11.*/bin/python3.11 python3; do
    if command -v "$candidate" >/dev/null; then PYTHON=$candidate; break; fi
  done
fi
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q "meson-python>=0.15" "meson>=1.1" ninja pytest py-spy jsonschema pyprof2calltree \
  playwright
# speedscope's JSON schema (tests/unit/test_exports.py), from npm into build/npm, not globally
if command -v npm >/dev/null; then
  [ -e build/npm/node_modules/speedscope/dist/release/file-format-schema.json ] ||
    npm install -s --prefix build/npm --no-audit --no-fund speedscope@1.25.0
else
  echo "setup: npm is missing: the speedscope export test will say so"
fi
# editable: `import loopscope` rebuilds the extension when a C file changed
PATH="$PWD/.venv/bin:$PATH" .venv/bin/python -m pip install -q --no-build-isolation -e .
echo "setup: ready (.venv/bin/loopscope)"
