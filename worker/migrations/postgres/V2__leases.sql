-- Replicas sharing the work: each worker process that opens the store for writing registers
-- itself and beats a heartbeat; each account's lease says which replica syncs it now, until
-- when, and the last schedule slot it was synced in.
CREATE TABLE replicas (
    id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid BIGINT NOT NULL,
    started_at TEXT NOT NULL,
    heartbeat_ms BIGINT NOT NULL,
    lease_ttl_ms BIGINT NOT NULL
);

CREATE TABLE leases (
    connection_id TEXT PRIMARY KEY,
    holder TEXT,
    expires_ms BIGINT NOT NULL DEFAULT 0,
    slot TEXT,
    done_slot TEXT,
    -- How many times the lease was taken over from a replica that stopped beating.
    takeovers BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX leases_by_holder ON leases(holder);

ALTER TABLE runs ADD COLUMN replica_id TEXT;
