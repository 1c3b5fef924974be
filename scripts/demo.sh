#!/usr/bin/env bash
# `make run`: builds a demo vault (a folder of each class, sample documents
# from assets/demo and testdata/corpus) and opens it in the desktop app.
# Without a display it falls back to the command-line tour.
set -euo pipefail
COFFER=${1:-bin/coffer}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CORPUS=$ROOT/testdata/corpus
DEMO=${COFFER_DEMO:-${TMPDIR:-/tmp}/coffer-demo}
VAULT=$DEMO/vault
INBOX=$DEMO/inbox
PASS="demo copper lantern orbit"

if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ "$(uname)" = Linux ]; then
  echo "No display (DISPLAY is not set): running the command-line tour instead."
  echo "On a desktop, 'make run' opens the window; under Xvfb: Xvfb :1 & DISPLAY=:1 make run"
  exec "$ROOT/scripts/tour.sh" "$COFFER"
fi

# The demo organisation: a cofferd on loopback (its data in $DEMO/server),
# Ann's laptop vault (the one the window opens) and her desktop vault,
# both enrolled, so sync can be tried at once.
COFFERD=${COFFERD:-$(dirname "$COFFER")/cofferd}
PORT=${COFFER_DEMO_PORT:-18443}
SERVER=https://127.0.0.1:$PORT
DESKTOP=$DEMO/desktop
GUEST=$DEMO/guest
COMPLIANCE=$DEMO/compliance
start_server() {
  "$COFFERD" serve --data "$DEMO/server" --listen "127.0.0.1:$PORT" >"$DEMO/server.log" 2>&1 &
  SERVER_PID=$!
  trap 'kill $SERVER_PID 2>/dev/null' EXIT
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "cofferd did not start: see $DEMO/server.log"; exit 1
}

if [ ! -e "$VAULT/coffer.json" ]; then
  echo "Making a demo organisation in $DEMO (a server on $SERVER, two devices of Ann) …"
  export COFFER_PASSPHRASE=$PASS
  rm -rf "$DEMO"
  mkdir -p "$DEMO"
  start_server
  "$COFFERD" admin init --server "$SERVER" --bootstrap "$(cat "$DEMO/server/bootstrap-token")" \
    --key "$DEMO/admin.key" --org "Demo Capital" >/dev/null 2>&1
  CODE=$("$COFFERD" admin invite --server "$SERVER" --key "$DEMO/admin.key" --email ann@example.com --role manager | tail -1)
  "$COFFER" enroll --vault "$VAULT" --server "$SERVER" --invite "$CODE" --name "Ann Trader" --device-name "Ann's laptop" >/dev/null
  # The desktop asks to pair; the laptop approves the code it shows.
  "$COFFER" enroll --vault "$DESKTOP" --server "$SERVER" --invite "$CODE" --device-name "Ann's desktop" >"$DEMO/pairing.log" 2>&1 &
  PAIRING=$!
  for _ in $(seq 100); do
    PAIRCODE=$(grep -oE '[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}' "$DEMO/pairing.log" | head -1 || true)
    [ -n "$PAIRCODE" ] && break
    sleep 0.1
  done
  "$COFFER" device approve --vault "$VAULT" "$PAIRCODE" >/dev/null
  wait $PAIRING
  # Carol, compliance: she reads the organisation's audit trail and turns
  # a trace code off a photographed page into a name. She joins before
  # Ann's devices record anything, so that their entries name the
  # documents for her.
  CCODE=$("$COFFERD" admin invite --server "$SERVER" --key "$DEMO/admin.key" --email carol@example.com --role compliance | tail -1)
  "$COFFER" enroll --vault "$COMPLIANCE" --server "$SERVER" --invite "$CCODE" --name "Carol Compliance" --device-name "Carol's desk" >/dev/null
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
  "$COFFER" sync --vault "$VAULT" >/dev/null
  "$COFFER" sync --vault "$DESKTOP" >/dev/null
  # A consultant, Gail, may read the Confidential folder for 30 days: the
  # admin grants it, Ann's laptop wraps the folder's key to her.
  FOLDER=$("$COFFER" members --vault "$VAULT" Confidential --json | sed -n 's/.*"id":"\([0-9a-f]*\)".*/\1/p')
  GCODE=$("$COFFERD" admin guest --server "$SERVER" --key "$DEMO/admin.key" --email gail@consultants.example \
    --folders "$FOLDER" --expires 720h | tail -1)
  "$COFFER" enroll --vault "$GUEST" --server "$SERVER" --invite "$GCODE" --name "Gail Consultant" --device-name "Gail's laptop" >/dev/null
  "$COFFER" sync --vault "$VAULT" >/dev/null
  "$COFFER" sync --vault "$GUEST" >/dev/null
  unset COFFER_PASSPHRASE
else
  start_server
fi

cat <<MSG

  Coffer demo vault: $VAULT (Ann's laptop)
  Passphrase:        $PASS
  Organisation:      $SERVER (cofferd, data in $DEMO/server)
  Ann's desktop:     $DESKTOP, same passphrase: open it beside this window
                     with  $COFFER gui --vault $DESKTOP
                     or follow it with  COFFER_PASSPHRASE='$PASS' $COFFER sync --vault $DESKTOP --watch

  Carol (compliance): $COMPLIANCE, same passphrase: who saw a page, from the
                     trace code on it (status bar or photo):
                     COFFER_PASSPHRASE='$PASS' $COFFER trace --vault $COMPLIANCE --org CODE
                     and the whole trail:  $COFFER gui --vault $COMPLIANCE  (Tools menu)

  Gail (a guest):    $GUEST, same passphrase: she sees only Confidential, until
                     her grant ends:  $COFFER gui --vault $GUEST
  Admin key:         $DEMO/admin.key, same passphrase, for
                     $COFFERD admin devices --server $SERVER --key $DEMO/admin.key
                     $COFFERD admin wipe --server $SERVER --key $DEMO/admin.key --device ID --wait 10s

  Try: open Confidential → a PDF (watermarked, trace code in the status bar),
  press Ctrl+C or Ctrl+S there (refused, and recorded for compliance), Save a
  copy from Internal, Versions…, trace the code as Carol, and drop a file into
  $INBOX/<Folder>/ to have it imported: it reaches the desktop vault within
  a second (the status bar says when the laptop is synced).
  Start over with: rm -rf $DEMO

MSG
"$COFFER" gui --vault "$VAULT" --inbox "$INBOX"
