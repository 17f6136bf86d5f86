#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 600) one after the other and
# prints, per target, the executions and the outcome (logs in fuzz/logs/).
set -uo pipefail
cd "$(dirname "$0")"
secs=${1:-600}
shift || true
targets=${*:-"actor_channel frame_splitter envelope_decode pld_validate legacy_decode dialog_machine testee_response case_and_capture_files"}
mkdir -p logs
for t in $targets; do
  RUSTC_BOOTSTRAP=1 cargo fuzz run -O "$t" -- -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 > "logs/$t.log" 2>&1
  rc=$?
  runs=$(grep -Eo "Done [0-9]+ runs in [0-9]+ second" "logs/$t.log" | tail -1)
  echo "$t: exit $rc, ${runs:-no summary (see logs/$t.log)}"
done
