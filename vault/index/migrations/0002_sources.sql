-- Schema 2: remember the source file each version was imported from, so
-- re-importing an unchanged file costs a stat, not a read (like restic's
-- parent snapshot). The key is a MAC of the folder and the absolute path;
-- the fingerprint (size, times, inode) is sealed.
CREATE TABLE sources (
    key        BLOB PRIMARY KEY,
    file_id    BLOB NOT NULL REFERENCES files(id),
    version_id BLOB NOT NULL REFERENCES versions(id),
    sealed     BLOB NOT NULL
) STRICT;
