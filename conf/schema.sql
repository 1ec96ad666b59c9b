-- Copyright (C) 2026 The ngx_http_attachments_module authors

-- ngx_http_attachments_module: the database side.
--
-- psql "$CONNINFO" -f conf/schema.sql   (idempotent: safe to run again)
--
-- Everything lives in schema "attachments".  The module reads and writes
-- files, audit_log and quotas, and asks attachments.authorize() every
-- permission question; the membership/role/grant tables are the default
-- permission model behind authorize() and may be ignored by an application
-- that replaces its body (see the comment on the function).

CREATE SCHEMA IF NOT EXISTS attachments;

-- one row per stored version of a file
CREATE TABLE IF NOT EXISTS attachments.files (
    id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    lineage_id       uuid        NOT NULL,      -- id of doc_version 0
    doc_version      integer     NOT NULL DEFAULT 0 CHECK (doc_version >= 0),
    organization_id  text        NOT NULL,
    entity_type      text        NOT NULL
                     CHECK (entity_type ~ '^[a-z][a-z0-9_]{0,62}$'),
    entity_id        text        NOT NULL
                     CHECK (entity_id ~ '^[A-Za-z0-9_-]{1,128}$'),
    storage          text        NOT NULL,      -- attachments_storage name
    storage_key      text        NOT NULL,
    file_name        text        NOT NULL,
    file_ext         text        NOT NULL DEFAULT '',
    content_type     text        NOT NULL,      -- sniffed
    declared_type    text,                      -- what the client said
    size             bigint      NOT NULL CHECK (size >= 0),
    sha256           text        NOT NULL DEFAULT '',
    category         text,
    tags             jsonb       NOT NULL DEFAULT '[]'
                     CHECK (jsonb_typeof(tags) = 'array'),
    custom_fields    jsonb       NOT NULL DEFAULT '{}'
                     CHECK (jsonb_typeof(custom_fields) = 'object'),
    visibility       text        NOT NULL DEFAULT 'private'
                     CHECK (visibility IN ('private', 'public')),
    uploaded_by      text        NOT NULL,
    -- pending: the blob may be half written; only ready rows are visible
    state            text        NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'ready')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    deleted_at       timestamptz,               -- soft delete
    purged_at        timestamptz,               -- blob removed by the GC
    UNIQUE (lineage_id, doc_version)
);

-- a collector's claim on a row it is reaping (docs/directives.md,
-- attachments_gc_interval): two collectors never take the same row
ALTER TABLE attachments.files
    ADD COLUMN IF NOT EXISTS gc_claimed_at timestamptz;

-- names of blobs no row refers to any more (the private name of a file
-- just published): the collector removes them after the grace, so that a
-- crash between a publish and that removal leaves nothing behind
CREATE TABLE IF NOT EXISTS attachments.stray_names (
    storage          text        NOT NULL,
    storage_key      text        NOT NULL,
    since            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (storage, storage_key)
);

-- an upload's lease on its pending rows: renewed while it works, so the
-- collector leaves them alone however long it takes
ALTER TABLE attachments.files
    ADD COLUMN IF NOT EXISTS lease_until timestamptz;

-- a key is one file's until the collector purged it: a deleted file keeps
-- its blob, and its key, for as long as it can be restored
DROP INDEX IF EXISTS attachments.files_storage_key;

CREATE UNIQUE INDEX IF NOT EXISTS files_storage_key_unpurged
    ON attachments.files (storage, storage_key) WHERE purged_at IS NULL;

CREATE INDEX IF NOT EXISTS files_parent
    ON attachments.files (organization_id, entity_type, entity_id,
                          created_at DESC, id DESC)
    WHERE deleted_at IS NULL AND state = 'ready';

CREATE INDEX IF NOT EXISTS files_reap
    ON attachments.files (state, created_at) WHERE state = 'pending';

CREATE INDEX IF NOT EXISTS files_deleted
    ON attachments.files (deleted_at)
    WHERE deleted_at IS NOT NULL AND purged_at IS NULL;

CREATE TABLE IF NOT EXISTS attachments.audit_log (
    id               bigserial   PRIMARY KEY,
    at               timestamptz NOT NULL DEFAULT now(),
    action           text        NOT NULL CHECK (action IN (
                         'upload', 'url_issued', 'download', 'update',
                         'delete', 'publish', 'version', 'purge')),
    organization_id  text        NOT NULL,
    user_id          text,                      -- NULL for the GC
    entity_type      text,
    entity_id        text,
    file_id          uuid,
    bytes            bigint,
    request_id       text,
    client_addr      text,
    detail           jsonb
);

CREATE INDEX IF NOT EXISTS audit_log_file
    ON attachments.audit_log (file_id, at);

-- limits in bytes; user_id '' is the organization's own limit
CREATE TABLE IF NOT EXISTS attachments.quotas (
    organization_id  text        NOT NULL,
    user_id          text        NOT NULL DEFAULT '',
    max_bytes        bigint      NOT NULL CHECK (max_bytes >= 0),
    PRIMARY KEY (organization_id, user_id)
);

-- usage per the seed rules: an organization counts all its files, a user
-- the private files they uploaded
CREATE OR REPLACE VIEW attachments.usage AS
    SELECT organization_id, '' AS user_id, sum(size)::bigint AS used_bytes
      FROM attachments.files
     WHERE deleted_at IS NULL AND state = 'ready'
     GROUP BY organization_id
    UNION ALL
    SELECT organization_id, uploaded_by, sum(size)::bigint
      FROM attachments.files
     WHERE deleted_at IS NULL AND state = 'ready' AND visibility = 'private'
     GROUP BY organization_id, uploaded_by;


-- the default permission model

CREATE TABLE IF NOT EXISTS attachments.memberships (
    organization_id  text NOT NULL,
    user_id          text NOT NULL,
    role             text NOT NULL,
    PRIMARY KEY (organization_id, user_id)
);

CREATE TABLE IF NOT EXISTS attachments.role_permissions (
    role             text NOT NULL,
    permission       text NOT NULL
                     CHECK (permission IN ('add', 'view', 'change', 'delete')),
    PRIMARY KEY (role, permission)
);

CREATE TABLE IF NOT EXISTS attachments.record_grants (
    organization_id  text NOT NULL,
    entity_type      text NOT NULL,
    entity_id        text NOT NULL,
    user_id          text NOT NULL,
    grant_type       text NOT NULL CHECK (grant_type IN ('read', 'update')),
    PRIMARY KEY (organization_id, entity_type, entity_id, user_id, grant_type)
);

INSERT INTO attachments.role_permissions (role, permission) VALUES
    ('owner', 'add'), ('owner', 'view'), ('owner', 'change'),
    ('owner', 'delete'),
    ('editor', 'add'), ('editor', 'view'), ('editor', 'change'),
    ('viewer', 'view')
ON CONFLICT DO NOTHING;


-- The one question the module asks: may p_user of p_org perform p_action
-- ('read', 'upload', 'update', 'delete') on the files of a parent record?
--
-- The default answer: a member of the organization whose role has the
-- matching permission (read → view, upload → add, update → change,
-- delete → delete), or a member holding a grant on that very record
-- ('read' for read, 'update' for the other three).
--
-- To use the application's own tables, replace the body with
-- CREATE OR REPLACE FUNCTION keeping this signature and return type; the
-- module picks the new body up on its next query, no reload needed.  This
-- file makes the default only where none is: running it again (to
-- upgrade) keeps the application's body.  To go back to the default, drop
-- the function and run this file again.

DO $do$
BEGIN
    IF to_regprocedure(
           'attachments.authorize(text, text, text, text, text)') IS NULL
    THEN
        CREATE FUNCTION attachments.authorize(
            p_user text, p_org text, p_entity_type text, p_entity_id text,
            p_action text)
        RETURNS boolean
        LANGUAGE sql STABLE
        AS $$
            SELECT EXISTS (
                SELECT 1
                  FROM attachments.memberships m
                  LEFT JOIN attachments.role_permissions rp
                         ON rp.role = m.role
                        AND rp.permission = CASE p_action
                                                WHEN 'read'   THEN 'view'
                                                WHEN 'upload' THEN 'add'
                                                WHEN 'update' THEN 'change'
                                                WHEN 'delete' THEN 'delete'
                                            END
                  LEFT JOIN attachments.record_grants g
                         ON g.organization_id = m.organization_id
                        AND g.user_id = m.user_id
                        AND g.entity_type = p_entity_type
                        AND g.entity_id = p_entity_id
                        AND g.grant_type = CASE p_action
                                               WHEN 'read' THEN 'read'
                                               ELSE 'update'
                                           END
                 WHERE m.organization_id = p_org
                   AND m.user_id = p_user
                   AND (rp.role IS NOT NULL OR g.user_id IS NOT NULL)
            )
        $$;
    END IF;
END
$do$;


-- Whether p_user belongs to p_org: who may read the organization's usage
-- and quota (GET /usage).  An application that replaces authorize() to use
-- its own tables replaces this body too; it is made only where it is
-- missing, so running this file again keeps the application's body.

DO $do$
BEGIN
    IF to_regprocedure('attachments.member(text, text)') IS NULL THEN
        CREATE FUNCTION attachments.member(p_user text, p_org text)
        RETURNS boolean
        LANGUAGE sql STABLE
        AS $$
            SELECT EXISTS (
                SELECT 1 FROM attachments.memberships
                 WHERE organization_id = p_org AND user_id = p_user)
        $$;
    END IF;
END
$do$;


-- The last step of an upload or a new version (p_action 'upload' or
-- 'version', docs/upload.md): the pending rows p_ids
-- become ready if the organization's and the uploader's quotas still have
-- room, with their audit rows, all in the caller's transaction.  Returns
-- 'ok', or 'organization' / 'user' for the quota that is exceeded (the
-- rows stay pending for the caller to remove), or 'gone' when one of them
-- is not pending any more (the collector took it).  Uploads of one
-- organization pass one at a time, so two of them cannot both fit a limit
-- only one fits in.
DROP FUNCTION IF EXISTS attachments.finish_upload(uuid[], text, text, text,
                                                  text);
DROP FUNCTION IF EXISTS attachments.finish_upload(uuid[], text, text, text,
                                                  text, text);

CREATE OR REPLACE FUNCTION attachments.finish_upload(
    p_ids uuid[], p_org text, p_user text, p_request_id text,
    p_client text, p_action text DEFAULT 'upload',
    p_audit boolean DEFAULT true)
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    v_org_new   bigint;
    v_user_new  bigint;
    v_limit     bigint;
    v_used      bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('attachments.quota'),
                                  hashtext(p_org));

    -- rows the collector took are no upload to finish
    IF (SELECT count(*) FROM attachments.files
         WHERE id = ANY (p_ids) AND state = 'pending')
       <> cardinality(p_ids)
    THEN
        RETURN 'gone';
    END IF;

    SELECT coalesce(sum(size), 0),
           coalesce(sum(size) FILTER (WHERE visibility = 'private'), 0)
      INTO v_org_new, v_user_new
      FROM attachments.files
     WHERE id = ANY (p_ids) AND state = 'pending';

    SELECT max_bytes INTO v_limit
      FROM attachments.quotas
     WHERE organization_id = p_org AND user_id = '';

    IF FOUND THEN
        SELECT coalesce(sum(size), 0) INTO v_used
          FROM attachments.files
         WHERE organization_id = p_org AND state = 'ready'
           AND deleted_at IS NULL;

        IF v_used + v_org_new > v_limit THEN
            RETURN 'organization';
        END IF;
    END IF;

    SELECT max_bytes INTO v_limit
      FROM attachments.quotas
     WHERE organization_id = p_org AND user_id = p_user;

    IF FOUND THEN
        SELECT coalesce(sum(size), 0) INTO v_used
          FROM attachments.files
         WHERE organization_id = p_org AND uploaded_by = p_user
           AND visibility = 'private' AND state = 'ready'
           AND deleted_at IS NULL;

        IF v_used + v_user_new > v_limit THEN
            RETURN 'user';
        END IF;
    END IF;

    UPDATE attachments.files
       SET state = 'ready', updated_at = now()
     WHERE id = ANY (p_ids) AND state = 'pending';

    INSERT INTO attachments.audit_log (action, organization_id, user_id,
            entity_type, entity_id, file_id, bytes, request_id, client_addr)
        SELECT a.action, f.organization_id, p_user, f.entity_type,
               f.entity_id, f.id,
               CASE WHEN a.action = p_action THEN f.size END,
               p_request_id, p_client
          FROM attachments.files f,
               (VALUES (p_action), ('url_issued')) a (action)
         WHERE f.id = ANY (p_ids) AND p_audit;

    RETURN 'ok';
END
$$;
