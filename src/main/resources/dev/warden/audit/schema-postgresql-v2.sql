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
