-- Each event's raw record (1–2 KB of JSON) is compressed when stored out of line; LZ4 costs the
-- server a fraction of the CPU of the default pglz at a similar ratio for JSON text
-- (postgresql.org/docs/current/storage-toast.html, default_toast_compression). The setting
-- applies to values written from now on.
ALTER TABLE events ALTER COLUMN raw SET COMPRESSION lz4;
