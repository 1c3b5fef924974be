#!/usr/bin/env bash
# `make run`: builds a demo vault (a folder of each class, sample documents
# from assets/demo and ../shared/corpus) and opens it in the desktop app.
# Without a display it falls back to the command-line tour.
set -euo pipefail
COFFER=${1:-bin/coffer}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CORPUS=${COFFER_CORPUS:-$ROOT/../shared/corpus}
DEMO=${COFFER_DEMO:-${TMPDIR:-/tmp}/coffer-demo}
VAULT=$DEMO/vault
INBOX=$DEMO/inbox
PASS="demo passphrase"

if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ "$(uname)" = Linux ]; then
  echo "No display (DISPLAY is not set): running the command-line tour instead."
  echo "On a desktop, 'make run' opens the window; under Xvfb: Xvfb :1 & DISPLAY=:1 make run"
  exec "$ROOT/scripts/tour.sh" "$COFFER"
fi

if [ ! -e "$VAULT/coffer.json" ]; then
  echo "Making a demo vault in $VAULT …"
  export COFFER_PASSPHRASE=$PASS
  rm -rf "$DEMO"
  "$COFFER" init --vault "$VAULT" --user ann@example.com --name "Ann Trader" >/dev/null
  for f in Public:public Internal:internal Confidential:confidential Restricted:restricted; do
    "$COFFER" folder create --vault "$VAULT" "${f%%:*}" --class "${f#*:}" >/dev/null
    mkdir -p "$INBOX/${f%%:*}"
  done
  add() { folder=$1; shift; "$COFFER" import --vault "$VAULT" --folder "$folder" "$@" >/dev/null; }
  add Public "$ROOT/assets/demo/welcome.md"
  add Internal "$ROOT/assets/demo/q3-positions.csv"
  add Confidential "$ROOT/assets/demo/term-sheet.txt"
  if [ -d "$CORPUS" ]; then
    add Public "$CORPUS"/text/glib-README.md "$CORPUS"/img/debian-logo-256.png
    add Internal "$CORPUS"/xlsx/*.xlsx "$CORPUS"/text/debian-releases.csv
    add Confidential "$CORPUS"/pdf/*.pdf
    add Restricted "$CORPUS"/text/Apache-2.0.txt "$CORPUS"/img/debian-preview.jpg
  fi
  unset COFFER_PASSPHRASE
fi

cat <<MSG

  Coffer demo vault: $VAULT
  Passphrase:        $PASS

  Try: open Confidential → a PDF (watermarked, trace code in the status bar),
  press Ctrl+C or Ctrl+S there (refused and audited), Save a copy from
  Internal, Versions… , Tools → Audit trail, and drop a file into
  $INBOX/<Folder>/ to have it imported.
  Start over with: rm -rf $DEMO

MSG
exec "$COFFER" gui --vault "$VAULT" --inbox "$INBOX"
