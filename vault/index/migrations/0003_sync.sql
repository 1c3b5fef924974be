-- Schema 3: sync. The organisation's log as this device verified it (its
-- entries and tlog stored hashes); which objects the server acknowledged;
-- and lines: a file row is one line of a file's signed history. The main
-- line's row ID is the signed file ID (origin NULL); a conflict line's row
-- ID is its first version's manifest ID, origin the signed file ID, and its
-- display name (with "conflict", the device and the time) sealed in
-- sealed. versions.file_id is the line a version is listed under.
CREATE TABLE orglog (idx INTEGER PRIMARY KEY, entry BLOB NOT NULL) STRICT;
CREATE TABLE orglog_hashes (idx INTEGER PRIMARY KEY, hash BLOB NOT NULL) STRICT;
CREATE TABLE pushed (kind INTEGER NOT NULL, id BLOB NOT NULL, PRIMARY KEY (kind, id)) STRICT, WITHOUT ROWID;
ALTER TABLE files ADD COLUMN origin BLOB;
ALTER TABLE files ADD COLUMN sealed BLOB;
