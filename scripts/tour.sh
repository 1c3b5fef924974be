#!/usr/bin/env bash
# A guided tour of the coffer CLI on a fresh demo vault: what `make run`
# shows without a display (`make tour`).
set -euo pipefail
COFFER=${1:-bin/coffer}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CORPUS=$ROOT/testdata/corpus
DEMO=$(mktemp -d "${TMPDIR:-/tmp}/coffer-demo.XXXXXX")
VAULT=$DEMO/vault
export COFFER_PASSPHRASE="demo copper lantern orbit"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@" || echo "(exit code $?)"; }

echo "Coffer tour. Demo vault: $VAULT   passphrase: \"$COFFER_PASSPHRASE\""
step "$COFFER" init --vault "$VAULT" --user ann@example.com --name "Ann Trader"
for c in public internal confidential restricted; do
  step "$COFFER" folder create --vault "$VAULT" "${c^}" --class "$c"
done
step "$COFFER" import --vault "$VAULT" --folder Public "$ROOT/assets/demo/welcome.md"
step "$COFFER" import --vault "$VAULT" --folder Internal "$ROOT/assets/demo/q3-positions.csv"
step "$COFFER" import --vault "$VAULT" --folder Confidential "$ROOT/assets/demo/term-sheet.txt"

# The headline first: every page shown carries its viewer's name and a
# trace code, and the code leads back to the viewer.
echo
echo "Every page Coffer shows is watermarked with the viewer and a trace code of its own:"
printf '\n\033[1m$ %s\033[0m\n' "$COFFER preview --vault $VAULT Internal/q3-positions.csv --out $DEMO/page.png"
PREVIEW=$("$COFFER" preview --vault "$VAULT" Internal/q3-positions.csv --out "$DEMO/page.png" 2>&1) || true
echo "$PREVIEW"
CODE=$(grep -oE '[0-9A-Z]{5}-[0-9A-Z]{5}' <<<"$PREVIEW" | tail -1 || true)
echo "Look at $DEMO/page.png: the watermark (name, device, time, $CODE) is in the pixels."
if [ -n "$CODE" ]; then
  echo "A photo of that screen or a leaked PNG names its viewer:"
  step "$COFFER" trace --vault "$VAULT" "$CODE"
fi
echo "A confidential page never leaves the app, not even as a picture (exit 3, audited):"
step "$COFFER" preview --vault "$VAULT" Confidential/term-sheet.txt --out "$DEMO/term-sheet.png"
echo "Nor as a copy:"
step "$COFFER" export --vault "$VAULT" Confidential/term-sheet.txt --out "$DEMO/term-sheet.txt"

if [ -d "$CORPUS" ]; then
  step "$COFFER" import --vault "$VAULT" --folder Internal "$CORPUS"/xlsx/*.xlsx "$CORPUS"/text/*
  step "$COFFER" import --vault "$VAULT" --folder Confidential "$CORPUS"/pdf/*.pdf
  step "$COFFER" import --vault "$VAULT" --folder Restricted "$CORPUS"/img/*
fi
step "$COFFER" ls --vault "$VAULT"
step "$COFFER" ls --vault "$VAULT" --folder Internal
echo "desk,instrument,notional_musd,pnl_musd" > "$DEMO/q3-positions.csv"
echo "rates,UST 10Y,275,2.0" >> "$DEMO/q3-positions.csv"
step "$COFFER" import --vault "$VAULT" --folder Internal "$DEMO/q3-positions.csv"
step "$COFFER" versions --vault "$VAULT" Internal/q3-positions.csv
step "$COFFER" restore --vault "$VAULT" Internal/q3-positions.csv --version 1
echo "An internal document may leave, stamped with a trace code of its own:"
step "$COFFER" export --vault "$VAULT" Internal/q3-positions.csv --out "$DEMO/positions-export.csv"
step "$COFFER" check --vault "$VAULT"
step "$COFFER" audit --vault "$VAULT"
echo
echo "Nothing in $VAULT is readable without the passphrase; try: grep -r NIGHTINGALE $VAULT"
echo "Open it in the desktop app: $COFFER gui --vault $VAULT   (passphrase: $COFFER_PASSPHRASE)"
echo "Sync between devices and a guest's access are in the desktop demo: make run (with a display)."
echo "Remove the demo with: rm -rf $DEMO"
