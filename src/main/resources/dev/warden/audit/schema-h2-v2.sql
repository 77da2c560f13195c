-- Warden audit schema v2 for the embedded H2 store: records are stored in blocks, one row per
-- commit of the writer (see docs/audit.md, "Storage"). The v1 rows are moved into blocks by the
-- migration before audit_record is dropped.
CREATE TABLE audit_block (
    instance_id  VARCHAR(64)  NOT NULL,
    first_seq    BIGINT       NOT NULL,
    last_seq     BIGINT       NOT NULL,
    min_at       TIMESTAMP(6) WITH TIME ZONE NOT NULL,
    max_at       TIMESTAMP(6) WITH TIME ZONE NOT NULL,
    prune_to     BIGINT,
    records      BINARY VARYING NOT NULL,
    PRIMARY KEY (instance_id, first_seq)
);
CREATE INDEX audit_block_max_at ON audit_block (max_at);
