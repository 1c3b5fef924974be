-- cofferd embedded store, schema 4 (SQLite; schema 1 lacked
-- audit_batches.details, devices.os and receipts; 3, receipts per order; 4,
-- receipts.copies). Ciphertext, signatures and routing metadata only; object
-- bodies live in the blob folder.
CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) STRICT;

CREATE TABLE log (idx INTEGER PRIMARY KEY, entry BLOB NOT NULL) STRICT;
CREATE TABLE log_hashes (idx INTEGER PRIMARY KEY, hash BLOB NOT NULL) STRICT;

CREATE TABLE objects (
    kind   INTEGER NOT NULL,
    id     BLOB NOT NULL,
    space  BLOB NOT NULL,
    size   INTEGER NOT NULL,
    device BLOB NOT NULL,
    file   BLOB,
    parent BLOB,
    seq    INTEGER NOT NULL DEFAULT 0,
    stored INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
) STRICT;

CREATE TABLE events (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    kind   INTEGER NOT NULL,
    id     BLOB NOT NULL,
    space  BLOB,
    file   BLOB,
    parent BLOB,
    log    INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX events_space ON events(space, seq);

CREATE TABLE nonces (key TEXT NOT NULL, nonce TEXT NOT NULL, expires INTEGER NOT NULL, PRIMARY KEY (key, nonce)) STRICT;
CREATE INDEX nonces_expires ON nonces(expires);

CREATE TABLE devices (
    device     BLOB PRIMARY KEY,
    last_seen  INTEGER NOT NULL DEFAULT 0,
    last_ip    TEXT NOT NULL DEFAULT '',
    os         TEXT NOT NULL DEFAULT '',
    audit_seq  INTEGER NOT NULL DEFAULT 0,
    audit_hash BLOB,
    audit_flag TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE TABLE audit_batches (id INTEGER PRIMARY KEY AUTOINCREMENT, device BLOB NOT NULL, ip TEXT NOT NULL, at INTEGER NOT NULL, details BLOB, details_sig BLOB) STRICT;
CREATE TABLE audit (
    device  BLOB NOT NULL,
    seq     INTEGER NOT NULL,
    at      INTEGER NOT NULL,
    action  TEXT NOT NULL,
    outcome TEXT NOT NULL,
    sealed  BLOB NOT NULL,
    prev    BLOB NOT NULL,
    hash    BLOB NOT NULL,
    sig     BLOB NOT NULL,
    batch   INTEGER NOT NULL REFERENCES audit_batches(id),
    PRIMARY KEY (device, seq)
) STRICT;

CREATE TABLE receipts (device BLOB NOT NULL, ord TEXT NOT NULL, receipt BLOB NOT NULL, received INTEGER NOT NULL, copies INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (device, ord)) STRICT;

CREATE TABLE pairings (id BLOB PRIMARY KEY, email TEXT NOT NULL, request BLOB NOT NULL, expires INTEGER NOT NULL, bundle BLOB) STRICT;
