#!/usr/bin/env bash
# The C example under valgrind's memcheck: no invalid access, no definite or indirect leak.
#   scripts/valgrind.sh [AUDIO]     # default: an espeak-ng sentence
# valgrind cannot decode the AVX-512 instructions of a native whisper.cpp build, so the C
# library is built a second time into target/valgrind without native CPU flags. Under valgrind
# one transcription with tiny.en takes minutes on two cores; the test suite runs the full API
# checker (examples/c/check.c) under AddressSanitizer and LeakSanitizer instead.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
CARGO_TARGET_DIR=target/valgrind GGML_NATIVE=OFF cargo build --release --quiet -p stenograph-c
lib=$PWD/target/valgrind/release
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cc -O1 -g -Iinclude examples/c/transcribe.c -o "$dir/transcribe" -L"$lib" -Wl,-rpath,"$lib" -lstenograph
audio=${1:-}
if [ -z "$audio" ]; then
  audio="$dir/call.wav"
  espeak-ng -v en-us -s 140 -w "$audio" "Please call the customer back before noon tomorrow."
fi
printf 'plain text, not audio' >"$dir/notes.wav"
vg=(valgrind --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect
  --errors-for-leak-kinds=definite,indirect)
status=0
echo "== valgrind: a bad input (a clean failure, exit 1)"
set +e
"${vg[@]}" "$dir/transcribe" "$dir/notes.wav"
rc=$?
set -e
[ "$rc" -eq 1 ] || { echo "FAILED: exit $rc (99: valgrind found errors)"; status=1; }
echo "== valgrind: a transcription"
"${vg[@]}" "$dir/transcribe" "$audio" || { echo "FAILED: exit $? (99: valgrind found errors)"; status=1; }
[ "$status" -eq 0 ] && echo "valgrind: no errors, no definite or indirect leaks"
exit $status
