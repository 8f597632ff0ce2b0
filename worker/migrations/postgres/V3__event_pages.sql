-- Event pages: a page of CloudTrail events keeps its full records together, as one zstd frame;
-- each event row keeps its summary and where its record is. Events stored before keep their
-- record in `raw`. No foreign key from a row to its page: the writer inserts both in one
-- transaction, and a key check would cost a lookup per event.
CREATE TABLE event_pages (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    connection_id TEXT NOT NULL,
    region TEXT NOT NULL,
    records BYTEA NOT NULL
);
-- The frame is compressed already: out of line without a second compression attempt
-- (postgresql.org/docs/current/storage-toast.html, EXTERNAL).
ALTER TABLE event_pages ALTER COLUMN records SET STORAGE EXTERNAL;

ALTER TABLE events
    ALTER COLUMN raw DROP NOT NULL,
    ADD COLUMN page_id BIGINT,
    ADD COLUMN page_index INTEGER,
    ADD CONSTRAINT events_record_in_one_place CHECK ((raw IS NULL) = (page_id IS NOT NULL));
