#!/bin/bash
# run-tests.sh PLUGIN_SO [TEST...]: runs inside the guest (see ../run-guest.sh); runs each guest
# test (default: every test_*.sh here) with a time limit and prints one PASS:/FAIL:/SKIP: line per
# test, prefixed with the layout, followed by its output. Exit status: the number of failures.
HERE=$(cd "$(dirname "$0")" && pwd)
export TOP_SRCDIR=$(cd "$HERE/../../.." && pwd)
export PLUGIN_SO=${1:?usage: run-tests.sh PLUGIN_SO [TEST...]}
shift
[ $# -gt 0 ] || set -- "$HERE"/test_*.sh
failed=0
for t in "$@"; do
  name=vm-$VM_LAYOUT/$(basename "$t" .sh)
  # A "# vm-layouts: ..." line limits a test to those layouts (Docker: v2 only).
  layouts=$(sed -n 's/^# vm-layouts: //p' "$t")
  [ -z "$layouts" ] || [[ " $layouts " == *" $VM_LAYOUT "* ]] || continue
  start=$(date +%s)
  timeout -k 5 "${VM_TEST_TIMEOUT:-150}" bash "$t" >"/tmp/vm-test.out" 2>&1
  rc=$?
  took=$(($(date +%s) - start))
  case $rc in
  0) echo "PASS: $name (${took} s)" ;;
  77) echo "SKIP: $name: $(grep -m1 '^SKIP:' /tmp/vm-test.out | sed 's/^SKIP: //')" ;;
  124 | 137) echo "FAIL: $name (time limit of ${VM_TEST_TIMEOUT:-150} s)"; failed=$((failed + 1)) ;;
  *) echo "FAIL: $name (exit $rc, ${took} s)"; failed=$((failed + 1)) ;;
  esac
  sed 's/^/    /' /tmp/vm-test.out
done
exit "$failed"
