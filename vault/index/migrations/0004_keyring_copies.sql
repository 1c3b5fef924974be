-- Schema 4: keyring objects of a folder epoch whose key another keyring
-- row holds already. A folder's key reaches a reader in more than one wrap
-- (a manager who reads a folder wraps its key to every reader, the owner
-- included); keyrings holds one row per folder and epoch, and the other
-- wraps are listed here so that they are known (reconcile took them for
-- lost at every unlock) and go with their folder.
CREATE TABLE keyring_copies (
    object_id BLOB PRIMARY KEY,
    folder_id BLOB NOT NULL REFERENCES folders(id),
    epoch     INTEGER NOT NULL
) STRICT;
