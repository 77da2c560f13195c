-- Warden audit schema v1 for the embedded H2 store. See docs/audit.md.
CREATE TABLE audit_record (
    instance_id  VARCHAR(64)  NOT NULL,
    seq          BIGINT       NOT NULL,
    record_id    VARCHAR(64)  NOT NULL,
    kind         VARCHAR(16)  NOT NULL,
    event        VARCHAR(256),
    at           TIMESTAMP(6) WITH TIME ZONE NOT NULL,
    session_id   VARCHAR(256),
    ref_id       VARCHAR(256),
    ref_seq      BIGINT,
    subject      VARCHAR(256),
    issuer       VARCHAR(256),
    repository   VARCHAR(256),
    actor        VARCHAR(256),
    target       VARCHAR(256),
    client_addr  VARCHAR(256),
    verdict      VARCHAR(256),
    sqlstate     VARCHAR(256),
    body         BINARY VARYING NOT NULL,
    prev_hash    BINARY VARYING(32) NOT NULL,
    hash         BINARY VARYING(32) NOT NULL,
    PRIMARY KEY (instance_id, seq)
);
CREATE INDEX audit_record_at ON audit_record (at);
CREATE INDEX audit_record_ref ON audit_record (ref_id);
CREATE TABLE audit_checkpoint (
    instance_id  VARCHAR(64)  NOT NULL,
    number       BIGINT       NOT NULL,
    seq          BIGINT       NOT NULL,
    head_hash    BINARY VARYING(32) NOT NULL,
    created_at   TIMESTAMP(6) WITH TIME ZONE NOT NULL,
    key_id       VARCHAR(64)  NOT NULL,
    body         BINARY VARYING NOT NULL,
    signature    BINARY VARYING(64) NOT NULL,
    PRIMARY KEY (instance_id, number)
);
