#!/bin/sh
# `npm test`: the strict type check and the mocha suite side by side (the type check needs one
# core, mocha the other), then both results; the exit status fails if either failed. Arguments
# go to mocha (e.g. `npm test -- --grep flip`).
set -u
mkdir -p .cache
tsc --noEmit --incremental --tsBuildInfoFile .cache/tsc.tsbuildinfo > .cache/tsc.log 2>&1 &
tsc_pid=$!
mocha 'test/**/*.test.ts' --ignore 'test/integration/**' "$@"
mocha_status=$?
wait "$tsc_pid"
tsc_status=$?
if [ "$tsc_status" -eq 0 ]; then
  echo "tsc --noEmit: no type errors"
else
  echo "tsc --noEmit failed (exit $tsc_status):"
  cat .cache/tsc.log
fi
[ "$tsc_status" -eq 0 ] && [ "$mocha_status" -eq 0 ]
