-- Warden audit schema v1 for PostgreSQL. See docs/audit.md ("Setting up PostgreSQL").
-- Run by the schema owner; ${schema} is the schema the tables are created in.
CREATE TABLE audit_record (
    instance_id  varchar(64)  NOT NULL,
    seq          bigint       NOT NULL,
    record_id    varchar(64)  NOT NULL,
    kind         varchar(16)  NOT NULL,
    event        varchar(256),
    at           timestamptz  NOT NULL,
    session_id   varchar(256),
    ref_id       varchar(256),
    ref_seq      bigint,
    subject      varchar(256),
    issuer       varchar(256),
    repository   varchar(256),
    actor        varchar(256),
    target       varchar(256),
    client_addr  varchar(256),
    verdict      varchar(256),
    sqlstate     varchar(256),
    body         bytea        NOT NULL,
    prev_hash    bytea        NOT NULL,
    hash         bytea        NOT NULL,
    PRIMARY KEY (instance_id, seq)
);
CREATE INDEX audit_record_at ON audit_record (at);
CREATE INDEX audit_record_subject ON audit_record (subject);
CREATE INDEX audit_record_ref ON audit_record (ref_id);
CREATE TABLE audit_checkpoint (
    instance_id  varchar(64)  NOT NULL,
    number       bigint       NOT NULL,
    seq          bigint       NOT NULL,
    head_hash    bytea        NOT NULL,
    created_at   timestamptz  NOT NULL,
    key_id       varchar(64)  NOT NULL,
    body         bytea        NOT NULL,
    signature    bytea        NOT NULL,
    PRIMARY KEY (instance_id, number)
);
-- The shortest retention that pruning may apply, whatever Warden's config says; only the owner changes it.
CREATE TABLE audit_policy (
    id            int PRIMARY KEY CHECK (id = 1),
    min_retention interval NOT NULL
);
INSERT INTO audit_policy VALUES (1, interval '2555 days');

-- Audit rows are append-only: UPDATE, DELETE and TRUNCATE are rejected for every role, the owner
-- included, except the DELETE that audit_prune() performs after checking the chain's prune record.
CREATE FUNCTION audit_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'audit_record'
       AND current_setting('warden.audit_prune', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit rows are append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME
        USING ERRCODE = '42501';
END
$$;
CREATE TRIGGER audit_record_append_only BEFORE UPDATE OR DELETE ON audit_record
    FOR EACH ROW EXECUTE FUNCTION audit_reject_change();
CREATE TRIGGER audit_record_no_truncate BEFORE TRUNCATE ON audit_record
    FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change();
CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE ON audit_checkpoint
    FOR EACH ROW EXECUTE FUNCTION audit_reject_change();
CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON audit_checkpoint
    FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change();

-- Retention pruning: removes the records of one chain before p_first_kept, only when the chain holds
-- a prune record for exactly that position and every removed record is older than the policy's
-- minimum retention. Runs with the owner's rights; the application role may only EXECUTE it.
CREATE FUNCTION audit_prune(p_instance varchar, p_first_kept bigint) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = ${schema}, pg_temp AS $$
DECLARE
    n bigint;
    young bigint;
    min_ret interval;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM audit_record
                   WHERE instance_id = p_instance AND kind = 'prune' AND ref_seq = p_first_kept) THEN
        RAISE EXCEPTION 'no prune record in chain % authorises removing the records before %', p_instance, p_first_kept
            USING ERRCODE = '42501';
    END IF;
    SELECT min_retention INTO min_ret FROM audit_policy WHERE id = 1;
    SELECT count(*) INTO young FROM audit_record
        WHERE instance_id = p_instance AND seq < p_first_kept AND at >= now() - min_ret;
    IF young > 0 THEN
        RAISE EXCEPTION '% audit records before % are younger than the minimum retention %', young, p_first_kept, min_ret
            USING ERRCODE = '42501';
    END IF;
    PERFORM set_config('warden.audit_prune', 'on', true);
    DELETE FROM audit_record WHERE instance_id = p_instance AND seq < p_first_kept;
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM set_config('warden.audit_prune', 'off', true);
    RETURN n;
END
$$;
REVOKE ALL ON FUNCTION audit_prune(varchar, bigint) FROM PUBLIC;
REVOKE ALL ON audit_record, audit_checkpoint, audit_policy FROM PUBLIC;
