-- Coffer local index, schema 1. A cache of what the signed objects say:
-- opaque IDs, times, sizes and ciphertext ("sealed" columns) only. Names are
-- looked up through keyed MACs ("name_mac"), never stored in the clear.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;

CREATE TABLE folders (
    id         BLOB PRIMARY KEY,          -- folder ID (random)
    object_id  BLOB NOT NULL,             -- the folder object
    name_mac   BLOB NOT NULL UNIQUE,      -- MAC of the NFC name
    sealed     BLOB NOT NULL,             -- sealed {name, class}
    epoch      INTEGER NOT NULL,          -- current key epoch
    created_at INTEGER NOT NULL           -- unix nanoseconds
) STRICT;

CREATE TABLE keyrings (
    object_id BLOB PRIMARY KEY,
    folder_id BLOB NOT NULL REFERENCES folders(id),
    epoch     INTEGER NOT NULL,
    UNIQUE (folder_id, epoch)
) STRICT;

CREATE TABLE files (
    id        BLOB PRIMARY KEY,           -- file ID (random, stable across versions)
    folder_id BLOB NOT NULL REFERENCES folders(id),
    name_mac  BLOB NOT NULL,
    head      BLOB,                       -- current version (manifest object ID)
    UNIQUE (folder_id, name_mac)
) STRICT;

CREATE TABLE versions (
    id         BLOB PRIMARY KEY,          -- manifest object ID
    file_id    BLOB NOT NULL REFERENCES files(id),
    seq        INTEGER NOT NULL,          -- 1, 2, 3 ... within the file
    parent     BLOB,                      -- manifest object ID or NULL
    size       INTEGER NOT NULL,          -- plaintext size
    created_at INTEGER NOT NULL,
    sealed     BLOB NOT NULL,             -- sealed {name, type, author, restored_from}
    UNIQUE (file_id, seq)
) STRICT;

CREATE TABLE chunks (
    id        BLOB PRIMARY KEY,           -- keyed hash of the plaintext
    folder_id BLOB NOT NULL REFERENCES folders(id),
    epoch     INTEGER NOT NULL,
    size      INTEGER NOT NULL            -- plaintext size
) STRICT;

CREATE TABLE version_chunks (
    version_id BLOB NOT NULL REFERENCES versions(id),
    idx        INTEGER NOT NULL,
    chunk_id   BLOB NOT NULL REFERENCES chunks(id),
    PRIMARY KEY (version_id, idx)
) STRICT, WITHOUT ROWID;
CREATE INDEX version_chunks_chunk ON version_chunks(chunk_id);

CREATE TABLE audit (
    seq        INTEGER PRIMARY KEY,       -- 1, 2, 3 ... per device
    at         INTEGER NOT NULL,          -- unix nanoseconds
    action     TEXT NOT NULL,             -- e.g. "export"
    outcome    TEXT NOT NULL,             -- "ok", "blocked", "failed"
    sealed     BLOB NOT NULL,             -- sealed event details (IDs, reason)
    prev       BLOB NOT NULL,             -- hash of the entry before (zeroes for the first)
    hash       BLOB NOT NULL,             -- hash of this entry (see audit.Entry)
    signer     BLOB NOT NULL,             -- device public key
    sig        BLOB NOT NULL              -- ed25519 signature of hash
) STRICT;
