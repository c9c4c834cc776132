#!/usr/bin/env bash
# test.sh - set up and run every test: the C unit tests under ASan and UBSan, the fuzzers for a
# while over their seed corpora, the Python unit and integration tests against real CPython
# processes of every version present, and a from-source wheel build. FUZZ_SECONDS sets the fuzzing
# time per target (default 60). Under CI=true a test whose tool is missing fails instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
scripts/setup-dev.sh

echo "== C unit tests (ASan + UBSan)"
rm -rf build/asan
meson setup build/asan -Dpython=false -Dtests=true -Db_sanitize=address,undefined -Dbuildtype=debug >/dev/null
meson test -C build/asan --print-errorlogs

echo "== fuzzers"
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
if command -v clang-14 >/dev/null; then
  rm -rf build/fuzz
  CC=clang-14 meson setup build/fuzz -Dpython=false -Dfuzz=true -Db_sanitize=address,undefined \
    -Dbuildtype=debugoptimized -Db_lundef=false >/dev/null
  ninja -C build/fuzz >/dev/null
  mkdir -p build/fuzz/corpus/image build/fuzz/corpus/linetable
  cp tests/data/images/*.img tests/fuzz/corpus/image/* build/fuzz/corpus/image/
  cp tests/fuzz/corpus/linetable/* build/fuzz/corpus/linetable/ 2>/dev/null || true
  for target in image:fuzz_image_walk linetable:fuzz_linetable; do
    corpus=${target%%:*} exe=${target##*:}
    echo "-- $exe for ${FUZZ_SECONDS}s"
    build/fuzz/$exe -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=4096 -max_len=131072 \
      -print_final_stats=1 build/fuzz/corpus/$corpus 2>build/fuzz/$exe.log || { tail -50 build/fuzz/$exe.log; exit 1; }
    grep -E "stat::number_of_executed_units" build/fuzz/$exe.log || true
  done
elif [ "${CI:-}" = true ]; then
  echo "clang-14 is missing: the fuzzers cannot run"; exit 1
else
  echo "skipped: clang-14 is missing (apt-get install clang-14 libclang-rt-14-dev)"
fi

echo "== wheel from source"
rm -rf build/wheel
python -m pip wheel -q --no-deps -w build/wheel .
python -m venv build/wheel/venv
build/wheel/venv/bin/pip install -q build/wheel/loopscope-*.whl
build/wheel/venv/bin/loopscope --version
# the dashboard's page and modules are in the wheel
build/wheel/venv/bin/python -c "from loopscope.server import assets; a = assets.load(); assert '/' in a and '/js/main.js' in a, sorted(a)"

echo "== Python tests"
python -m pytest -q tests
