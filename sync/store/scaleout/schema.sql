-- cofferd scale-out store, schema 1 (PostgreSQL). Ciphertext, signatures
-- and routing metadata only; object bodies live in the S3 bucket, under the
-- key each row of objects names. The same tables as the embedded store's
-- schema 4 (sync/store/embedded/schema.sql), in PostgreSQL's types.
CREATE TABLE coffer_meta (key TEXT PRIMARY KEY, value BYTEA NOT NULL);

CREATE TABLE coffer_log (idx BIGINT PRIMARY KEY, entry BYTEA NOT NULL);
CREATE TABLE coffer_log_hashes (idx BIGINT PRIMARY KEY, hash BYTEA NOT NULL);

CREATE TABLE coffer_objects (
    kind   SMALLINT NOT NULL,
    id     BYTEA NOT NULL,
    space  BYTEA NOT NULL,
    size   BIGINT NOT NULL,
    device BYTEA NOT NULL,
    file   BYTEA,
    parent BYTEA,
    seq    BIGINT NOT NULL DEFAULT 0,
    stored BIGINT NOT NULL,
    blob   TEXT NOT NULL, -- the object's key in the bucket
    PRIMARY KEY (kind, id)
);

-- seq is given under the event lock (lockEvents), in commit order: a
-- reader past seq n never sees an n-1 committed later.
CREATE TABLE coffer_events (
    seq    BIGINT PRIMARY KEY,
    kind   SMALLINT NOT NULL,
    id     BYTEA NOT NULL,
    space  BYTEA,
    file   BYTEA,
    parent BYTEA,
    log    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX coffer_events_space ON coffer_events(space, seq);
CREATE INDEX coffer_events_log ON coffer_events(seq) WHERE log > 0;

CREATE TABLE coffer_nonces (key TEXT NOT NULL, nonce TEXT NOT NULL, expires BIGINT NOT NULL, PRIMARY KEY (key, nonce));
CREATE INDEX coffer_nonces_expires ON coffer_nonces(expires);

CREATE TABLE coffer_devices (
    device     BYTEA PRIMARY KEY,
    last_seen  BIGINT NOT NULL DEFAULT 0,
    last_ip    TEXT NOT NULL DEFAULT '',
    os         TEXT NOT NULL DEFAULT '',
    audit_seq  BIGINT NOT NULL DEFAULT 0,
    audit_hash BYTEA,
    audit_flag TEXT NOT NULL DEFAULT ''
);

-- id is given under the audit lock, in commit order, as events' seq.
CREATE TABLE coffer_audit_batches (id BIGINT PRIMARY KEY, device BYTEA NOT NULL, ip TEXT NOT NULL, at BIGINT NOT NULL, details BYTEA, details_sig BYTEA);
CREATE TABLE coffer_audit (
    device  BYTEA NOT NULL,
    seq     BIGINT NOT NULL,
    at      BIGINT NOT NULL,
    action  TEXT NOT NULL,
    outcome TEXT NOT NULL,
    sealed  BYTEA NOT NULL,
    prev    BYTEA NOT NULL,
    hash    BYTEA NOT NULL,
    sig     BYTEA NOT NULL,
    batch   BIGINT NOT NULL REFERENCES coffer_audit_batches(id),
    PRIMARY KEY (device, seq)
);
CREATE INDEX coffer_audit_batch ON coffer_audit(batch, seq);

CREATE TABLE coffer_receipts (device BYTEA NOT NULL, ord TEXT NOT NULL, receipt BYTEA NOT NULL, received BIGINT NOT NULL, copies INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (device, ord));

CREATE TABLE coffer_pairings (id BYTEA PRIMARY KEY, email TEXT NOT NULL, request BYTEA NOT NULL, expires BIGINT NOT NULL, bundle BYTEA);
CREATE INDEX coffer_pairings_email ON coffer_pairings(email, expires);
