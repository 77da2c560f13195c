-- Warden audit schema v2 for PostgreSQL: records are stored in blocks, one row per commit of the
-- writer (see docs/audit.md, "Storage"). Run by the schema owner; ${schema} is the schema. The v1
-- rows are moved into blocks by the migration before audit_record is dropped.
CREATE TABLE audit_block (
    instance_id  varchar(64)  NOT NULL,
    first_seq    bigint       NOT NULL,
    last_seq     bigint       NOT NULL,
    min_at       timestamptz  NOT NULL,
    max_at       timestamptz  NOT NULL,
    prune_to     bigint,
    records      bytea        NOT NULL,
    PRIMARY KEY (instance_id, first_seq)
);
CREATE INDEX audit_block_max_at ON audit_block (max_at);
CREATE INDEX audit_block_prune ON audit_block (instance_id, prune_to) WHERE prune_to IS NOT NULL;
-- Blocks are TOASTed; lz4 (PostgreSQL 14+, when built with it) compresses them several times faster
-- than the default pglz, which matters because every commit of the writer stores one.
DO $$
BEGIN
    EXECUTE 'ALTER TABLE audit_block ALTER COLUMN records SET COMPRESSION lz4';
EXCEPTION WHEN OTHERS THEN
    NULL; -- older PostgreSQL, or no lz4: the default compression stays
END
$$;

-- Blocks are append-only like the v1 rows: UPDATE, DELETE and TRUNCATE are rejected for every role,
-- the owner included, except the DELETE that audit_prune() performs.
CREATE OR REPLACE FUNCTION audit_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'audit_block'
       AND current_setting('warden.audit_prune', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit rows are append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME
        USING ERRCODE = '42501';
END
$$;
CREATE TRIGGER audit_block_append_only BEFORE UPDATE OR DELETE ON audit_block
    FOR EACH ROW EXECUTE FUNCTION audit_reject_change();
CREATE TRIGGER audit_block_no_truncate BEFORE TRUNCATE ON audit_block
    FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change();

-- Retention pruning: removes the blocks of one chain that end before p_first_kept, only when the
-- chain holds a prune record for exactly that position (a block whose prune_to names it) and every
-- removed block is older than the policy's minimum retention. Runs with the owner's rights; the
-- application role may only EXECUTE it.
CREATE OR REPLACE FUNCTION audit_prune(p_instance varchar, p_first_kept bigint) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = ${schema}, pg_temp AS $$
DECLARE
    n bigint;
    young bigint;
    min_ret interval;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM audit_block
                   WHERE instance_id = p_instance AND prune_to = p_first_kept) THEN
        RAISE EXCEPTION 'no prune record in chain % authorises removing the records before %', p_instance, p_first_kept
            USING ERRCODE = '42501';
    END IF;
    SELECT min_retention INTO min_ret FROM audit_policy WHERE id = 1;
    SELECT count(*) INTO young FROM audit_block
        WHERE instance_id = p_instance AND last_seq < p_first_kept AND max_at >= now() - min_ret;
    IF young > 0 THEN
        RAISE EXCEPTION '% audit blocks before % are younger than the minimum retention %', young, p_first_kept, min_ret
            USING ERRCODE = '42501';
    END IF;
    PERFORM set_config('warden.audit_prune', 'on', true);
    SELECT COALESCE(SUM(last_seq - first_seq + 1), 0) INTO n FROM audit_block
        WHERE instance_id = p_instance AND last_seq < p_first_kept;
    DELETE FROM audit_block WHERE instance_id = p_instance AND last_seq < p_first_kept;
    PERFORM set_config('warden.audit_prune', 'off', true);
    RETURN n;
END
$$;
REVOKE ALL ON FUNCTION audit_prune(varchar, bigint) FROM PUBLIC;
REVOKE ALL ON audit_block FROM PUBLIC;

-- audit_record_v: the records of every block, one row each, unpacked with plain SQL so that auditors
-- and scripts can read them without Warden (docs/audit.md, "Reading records with SQL"). Read-only.
-- A block (audit_block.records) is the format byte 0x01 followed by one frame per record, all
-- integers big-endian; p below is a frame's 0-based offset:
--   p+0 seq int64 | p+8 at int64 (µs since 1970) | p+16 type uint8 | p+17 len int32 |
--   p+21 body (len bytes) | p+21+len prev_hash (32) | p+53+len hash (32) | next frame at p+85+len
-- The block is copied out of TOAST once (the OFFSET 0 subquery), so reading a frame is a slice of
-- memory rather than a new decompression. "walk" starts from a pseudo-frame of length 0 ending
-- just after the format byte and follows the length fields; a frame whose header or length does not
-- fit in the block ends the walk (audit verify reports such a block), so malformed bytes make rows
-- missing, never an error. Filters on instance_id reach the table; other filters apply after unpacking.
CREATE VIEW audit_record_v AS
SELECT a.instance_id, f.seq, f.at, f.kind, f.body, f.prev_hash, f.hash
FROM audit_block a
CROSS JOIN LATERAL (SELECT a.records || ''::bytea AS r OFFSET 0) b
CROSS JOIN LATERAL (
    WITH RECURSIVE walk (p, len) AS (
        SELECT -84::bigint, 0 WHERE substring(b.r FROM 1 FOR 1) = '\x01'::bytea
        UNION ALL
        SELECT n.p, CASE WHEN n.len >= 0 AND n.p + 85 + n.len <= octet_length(b.r) THEN n.len END
        FROM walk w
        CROSS JOIN LATERAL (
            SELECT w.p + 85 + w.len AS p,
                   CASE WHEN w.p + 85 + w.len + 85 <= octet_length(b.r) THEN ('x' || encode(
                       substring(b.r FROM (w.p + 85 + w.len + 18)::int FOR 4), 'hex'))::bit(32)::int END AS len
        ) n
        WHERE w.len IS NOT NULL AND w.p + 85 + w.len < octet_length(b.r)
    ), frame (p, len) AS MATERIALIZED (
        SELECT p::int, len FROM walk WHERE p > 0 AND len IS NOT NULL
    )
    SELECT ('x' || encode(substring(b.r FROM p + 1 FOR 8), 'hex'))::bit(64)::bigint AS seq,
           timestamptz 'epoch' + (m.micros / 1000000) * interval '1 second'
               + (m.micros % 1000000) * interval '1 microsecond' AS at,
           (ARRAY['statement', 'outcome', 'session', 'lifecycle', 'prune', 'approval', 'recording'])
               [get_byte(b.r, p + 16)] AS kind,
           substring(b.r FROM p + 22 FOR len) AS body,
           substring(b.r FROM p + 22 + len FOR 32) AS prev_hash,
           substring(b.r FROM p + 54 + len FOR 32) AS hash
    FROM frame
    CROSS JOIN LATERAL (SELECT ('x' || encode(substring(b.r FROM p + 9 FOR 8), 'hex'))::bit(64)::bigint AS micros) m
) f;
REVOKE ALL ON audit_record_v FROM PUBLIC;
