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

-- Usage (DESIGN.md, section 6) is kept as counters, changed by the
-- triggers below in the very transaction that changes a file, so a quota
-- check or GET /usage reads two rows whether the organization has ten
-- files or ten million.  An organization's row (user_id '') counts all its
-- ready, undeleted files, private and public, and the bytes of
-- external_usage; a user's row the private ones they uploaded.
CREATE TABLE IF NOT EXISTS attachments.usage_counters (
    organization_id  text        NOT NULL,
    user_id          text        NOT NULL,
    used_bytes       bigint      NOT NULL DEFAULT 0,
    PRIMARY KEY (organization_id, user_id)
);

-- Bytes the application keeps elsewhere that count against an
-- organization (its logo, its employees' avatars: an avatar counts for the
-- organization, not its owner).  One row per item, which the application
-- inserts, updates or deletes as the data changes.
CREATE TABLE IF NOT EXISTS attachments.external_usage (
    organization_id  text        NOT NULL,
    item             text        NOT NULL,
    bytes            bigint      NOT NULL CHECK (bytes >= 0),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, item)
);

-- Resumable uploads (tus, docs/uploads.md) in progress: their bytes wait
-- in the storage's .tus/ area, and the length they announced counts
-- against the quotas from their creation until they end (finished,
-- terminated or expired), so that an upload allowed at its start is not
-- refused at its end.
CREATE TABLE IF NOT EXISTS attachments.tus_uploads (
    id               uuid        PRIMARY KEY,
    organization_id  text        NOT NULL,
    user_id          text        NOT NULL,
    entity_type      text        NOT NULL,
    entity_id        text        NOT NULL,
    storage          text        NOT NULL,
    length           bigint      NOT NULL CHECK (length >= 0),
    file_name        text        NOT NULL,
    declared_type    text,
    category         text,
    tags             jsonb,
    custom_fields    jsonb,
    visibility       text        NOT NULL DEFAULT 'private'
                     CHECK (visibility IN ('private', 'public')),
    metadata         text        NOT NULL DEFAULT '',  -- Upload-Metadata
    created_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL,
    gc_claimed_at    timestamptz
);

CREATE INDEX IF NOT EXISTS tus_uploads_expires
    ON attachments.tus_uploads (expires_at);

-- a direct upload (docs/uploads.md): the client PUTs the bytes to the
-- store itself; the row reserves the size as a resumable upload's does,
-- and the file's pending row (same id) guards the object's key
ALTER TABLE attachments.tus_uploads
    ADD COLUMN IF NOT EXISTS direct boolean NOT NULL DEFAULT false;

-- a resumable upload into s3 goes up in parts as it comes: the store's
-- upload in parts (under the key its file will have) and the parts' ETags;
-- an upload that ends unfinished leaves the abort to the collector (a
-- stray name with the upload's id)
ALTER TABLE attachments.tus_uploads
    ADD COLUMN IF NOT EXISTS store_key text,
    ADD COLUMN IF NOT EXISTS store_file uuid,
    ADD COLUMN IF NOT EXISTS store_upload text,
    ADD COLUMN IF NOT EXISTS parts text[] NOT NULL DEFAULT '{}';

ALTER TABLE attachments.stray_names
    ADD COLUMN IF NOT EXISTS upload_id text;

-- the folders of cloud drives (docs/storages.md): a folder path, under a
-- drive storage's root, is made once and its id remembered here, so an
-- upload into it costs no request to the drive; a row whose folder was
-- deleted on the drive is dropped and the folder made again
CREATE TABLE IF NOT EXISTS attachments.folder_cache (
    storage          text        NOT NULL,
    path             text        NOT NULL,
    folder_id        text        NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (storage, path)
);

CREATE OR REPLACE FUNCTION attachments.count_usage(
    p_org text, p_user text, p_delta bigint)
RETURNS void
LANGUAGE sql
AS $$
    INSERT INTO attachments.usage_counters AS c
            (organization_id, user_id, used_bytes)
        VALUES (p_org, p_user, p_delta)
        ON CONFLICT (organization_id, user_id)
        DO UPDATE SET used_bytes = c.used_bytes + excluded.used_bytes
$$;

-- a row's part of its organization's and its uploader's usage, before and
-- after; counters whose part did not change are not touched (not locked)
CREATE OR REPLACE FUNCTION attachments.files_usage()
RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    v_old_org   bigint := 0;
    v_old_user  bigint := 0;
    v_new_org   bigint := 0;
    v_new_user  bigint := 0;
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.state = 'ready' AND OLD.deleted_at IS NULL
    THEN
        v_old_org := OLD.size;
        v_old_user := CASE WHEN OLD.visibility = 'private'
                           THEN OLD.size ELSE 0 END;
    END IF;

    IF TG_OP <> 'DELETE' AND NEW.state = 'ready' AND NEW.deleted_at IS NULL
    THEN
        v_new_org := NEW.size;
        v_new_user := CASE WHEN NEW.visibility = 'private'
                           THEN NEW.size ELSE 0 END;
    END IF;

    -- the usual update: the same organization and uploader, one delta each
    IF TG_OP = 'UPDATE' AND OLD.organization_id = NEW.organization_id
       AND OLD.uploaded_by = NEW.uploaded_by
    THEN
        v_new_org := v_new_org - v_old_org;
        v_new_user := v_new_user - v_old_user;
        v_old_org := 0;
        v_old_user := 0;
    END IF;

    /*
     * The organization's counter first, even for a change of the user's
     * alone (a publish): whoever holds a user's counter holds their
     * organization's, so two writers never wait for each other in turn.
     */

    IF v_old_org <> 0 OR v_old_user <> 0 THEN
        PERFORM attachments.count_usage(OLD.organization_id, '', -v_old_org);
    END IF;

    IF v_old_user <> 0 THEN
        PERFORM attachments.count_usage(OLD.organization_id, OLD.uploaded_by,
                                        -v_old_user);
    END IF;

    IF v_new_org <> 0 OR v_new_user <> 0 THEN
        PERFORM attachments.count_usage(NEW.organization_id, '', v_new_org);
    END IF;

    IF v_new_user <> 0 THEN
        PERFORM attachments.count_usage(NEW.organization_id, NEW.uploaded_by,
                                        v_new_user);
    END IF;

    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION attachments.external_usage_count()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.bytes <> 0 THEN
        PERFORM attachments.count_usage(OLD.organization_id, '', -OLD.bytes);
    END IF;

    IF TG_OP <> 'DELETE' AND NEW.bytes <> 0 THEN
        PERFORM attachments.count_usage(NEW.organization_id, '', NEW.bytes);
    END IF;

    RETURN NULL;
END
$$;

-- a resumable upload's announced length, from its creation to its end
CREATE OR REPLACE FUNCTION attachments.tus_usage()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM attachments.count_usage(OLD.organization_id, '', -OLD.length);

        IF OLD.visibility = 'private' THEN
            PERFORM attachments.count_usage(OLD.organization_id, OLD.user_id,
                                            -OLD.length);
        END IF;

    ELSE
        PERFORM attachments.count_usage(NEW.organization_id, '', NEW.length);

        IF NEW.visibility = 'private' THEN
            PERFORM attachments.count_usage(NEW.organization_id, NEW.user_id,
                                            NEW.length);
        END IF;
    END IF;

    RETURN NULL;
END
$$;

-- what the counters should hold, computed from the rows: the
-- reconciliation query (attachments-fsck reports where they differ)
CREATE OR REPLACE VIEW attachments.usage AS
    SELECT organization_id, user_id, sum(bytes)::bigint AS used_bytes
      FROM (SELECT organization_id, '' AS user_id, size AS bytes
              FROM attachments.files
             WHERE deleted_at IS NULL AND state = 'ready'
            UNION ALL
            SELECT organization_id, uploaded_by, size
              FROM attachments.files
             WHERE deleted_at IS NULL AND state = 'ready'
               AND visibility = 'private'
            UNION ALL
            SELECT organization_id, '', bytes
              FROM attachments.external_usage
            UNION ALL
            SELECT organization_id, '', length
              FROM attachments.tus_uploads
            UNION ALL
            SELECT organization_id, user_id, length
              FROM attachments.tus_uploads
             WHERE visibility = 'private') u
     GROUP BY organization_id, user_id;

CREATE OR REPLACE VIEW attachments.usage_drift AS
    SELECT coalesce(u.organization_id, c.organization_id) AS organization_id,
           coalesce(u.user_id, c.user_id) AS user_id,
           coalesce(c.used_bytes, 0) AS counted_bytes,
           coalesce(u.used_bytes, 0) AS used_bytes
      FROM attachments.usage u
      FULL JOIN attachments.usage_counters c
        ON c.organization_id = u.organization_id AND c.user_id = u.user_id
     WHERE coalesce(c.used_bytes, 0) <> coalesce(u.used_bytes, 0);

-- sets the counters to what the rows say, with writers held off meanwhile;
-- returns how many were wrong.  Run by this file when the counters are
-- new (an upgrade), and by an operator after attachments-fsck reported
-- drift (say, rows changed with the triggers disabled).  The tables are
-- taken in the order writers take them (external_usage, files,
-- tus_uploads, then the counters; finish_upload() and finish_tus() too); an application's transaction that
-- writes files and then external_usage meanwhile may end one of the two
-- with "deadlock detected": run it again.
CREATE OR REPLACE FUNCTION attachments.usage_reconcile()
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    v_fixed  bigint;
BEGIN
    LOCK TABLE attachments.external_usage, attachments.files,
               attachments.tus_uploads, attachments.usage_counters
          IN SHARE ROW EXCLUSIVE MODE;

    WITH d AS (SELECT * FROM attachments.usage_drift),
         fix AS (
        INSERT INTO attachments.usage_counters AS c
                (organization_id, user_id, used_bytes)
            SELECT organization_id, user_id, used_bytes FROM d
            ON CONFLICT (organization_id, user_id)
            DO UPDATE SET used_bytes = excluded.used_bytes
            RETURNING 1)
    SELECT count(*) INTO v_fixed FROM fix;

    RETURN v_fixed;
END
$$;

-- TRUNCATE fires no row trigger: the counters are made again after it
CREATE OR REPLACE FUNCTION attachments.usage_truncated()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM attachments.usage_reconcile();
    RETURN NULL;
END
$$;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger
                    WHERE tgname = 'files_usage'
                      AND tgrelid = 'attachments.files'::regclass)
    THEN
        -- the counters start from the rows, in the transaction that makes
        -- the triggers: no change falls between
        CREATE TRIGGER files_usage
            AFTER INSERT OR DELETE
               OR UPDATE OF state, deleted_at, visibility, size,
                            organization_id, uploaded_by
            ON attachments.files
            FOR EACH ROW EXECUTE FUNCTION attachments.files_usage();

        CREATE TRIGGER external_usage_count
            AFTER INSERT OR UPDATE OR DELETE ON attachments.external_usage
            FOR EACH ROW EXECUTE FUNCTION attachments.external_usage_count();

        CREATE TRIGGER files_usage_truncated
            AFTER TRUNCATE ON attachments.files
            FOR EACH STATEMENT EXECUTE FUNCTION attachments.usage_truncated();

        CREATE TRIGGER external_usage_truncated
            AFTER TRUNCATE ON attachments.external_usage
            FOR EACH STATEMENT EXECUTE FUNCTION attachments.usage_truncated();

        PERFORM attachments.usage_reconcile();
    END IF;

    IF NOT EXISTS (SELECT 1 FROM pg_trigger
                    WHERE tgname = 'tus_usage'
                      AND tgrelid = 'attachments.tus_uploads'::regclass)
    THEN
        CREATE TRIGGER tus_usage
            AFTER INSERT OR DELETE ON attachments.tus_uploads
            FOR EACH ROW EXECUTE FUNCTION attachments.tus_usage();

        CREATE TRIGGER tus_usage_truncated
            AFTER TRUNCATE ON attachments.tus_uploads
            FOR EACH STATEMENT EXECUTE FUNCTION attachments.usage_truncated();

        PERFORM attachments.usage_reconcile();
    END IF;
END
$$;

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


-- The human-readable name of a record, for the folder routes of drive
-- storages ($attachments_record_name in attachments_route): an order's
-- number and customer, say.  Asked in the same round trip as authorize()
-- when a request may store a file (an upload, a new version, a resumable
-- or direct upload).  The default is the record's id; replace the body
-- (keeping the signature) to name records from the application's own
-- tables; the organization is given because two organizations' records
-- may share an id.  NULL or an empty name falls back to the id.  Made only
-- where it is missing, so running this file again keeps the application's
-- body.

DO $do$
BEGIN
    IF to_regprocedure('attachments.record_label(text, text, text)') IS NULL
    THEN
        CREATE FUNCTION attachments.record_label(p_org text,
                                                 p_entity_type text,
                                                 p_entity_id text)
        RETURNS text
        LANGUAGE sql STABLE
        AS $$ SELECT p_entity_id $$;
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
    v_rows      bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('attachments.quota'),
                                  hashtext(p_org));

    -- the rows first, the counters second, as usage_reconcile() takes
    -- them: locked here, they are the collector's no more either; rows
    -- it took already (claimed: their blobs are being deleted) are no
    -- upload to finish
    UPDATE attachments.files SET updated_at = now()
     WHERE id = ANY (p_ids) AND state = 'pending' AND gc_claimed_at IS NULL;

    GET DIAGNOSTICS v_rows = ROW_COUNT;

    IF v_rows <> cardinality(p_ids) THEN
        RETURN 'gone';
    END IF;

    SELECT coalesce(sum(size), 0),
           coalesce(sum(size) FILTER (WHERE visibility = 'private'), 0)
      INTO v_org_new, v_user_new
      FROM attachments.files
     WHERE id = ANY (p_ids) AND state = 'pending';

    -- the counters as they are: whatever adds to them (another upload,
    -- the application's external_usage, a restore) locks the
    -- organization's first, as this does, and waits for this to commit
    PERFORM attachments.count_usage(p_org, '', 0);

    SELECT q.max_bytes, coalesce(c.used_bytes, 0) INTO v_limit, v_used
      FROM attachments.quotas q
      LEFT JOIN attachments.usage_counters c
        ON c.organization_id = q.organization_id AND c.user_id = ''
     WHERE q.organization_id = p_org AND q.user_id = '';

    IF FOUND AND v_used + v_org_new > v_limit THEN
        RETURN 'organization';
    END IF;

    SELECT q.max_bytes, coalesce(c.used_bytes, 0) INTO v_limit, v_used
      FROM attachments.quotas q
      LEFT JOIN attachments.usage_counters c
        ON c.organization_id = q.organization_id AND c.user_id = p_user
     WHERE q.organization_id = p_org AND q.user_id = p_user;

    IF FOUND AND v_used + v_user_new > v_limit THEN
        RETURN 'user';
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

-- A resumable upload begins: its length is reserved against the quotas
-- (the row's trigger counts it) under the organization's quota lock, then
-- checked; a length that does not fit is no upload.  The row goes in
-- before the counters are read, in the order usage_reconcile() takes the
-- tables.  'ok', 'organization' or 'user'.
CREATE OR REPLACE FUNCTION attachments.tus_create(
    p_id uuid, p_org text, p_user text, p_type text, p_entity text,
    p_storage text, p_length bigint, p_name text, p_declared text,
    p_category text, p_tags jsonb, p_fields jsonb, p_visibility text,
    p_metadata text, p_ttl integer)
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    v_limit  bigint;
    v_used   bigint;
    v_over   text;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('attachments.quota'),
                                  hashtext(p_org));

    INSERT INTO attachments.tus_uploads (id, organization_id, user_id,
            entity_type, entity_id, storage, length, file_name,
            declared_type, category, tags, custom_fields, visibility,
            metadata, expires_at)
        VALUES (p_id, p_org, p_user, p_type, p_entity, p_storage, p_length,
                p_name, p_declared, p_category, p_tags, p_fields,
                coalesce(p_visibility, 'private'), coalesce(p_metadata, ''),
                now() + p_ttl * interval '1 second');

    SELECT q.max_bytes, coalesce(c.used_bytes, 0) INTO v_limit, v_used
      FROM attachments.quotas q
      LEFT JOIN attachments.usage_counters c
        ON c.organization_id = q.organization_id AND c.user_id = ''
     WHERE q.organization_id = p_org AND q.user_id = '';

    IF FOUND AND v_used > v_limit THEN
        v_over := 'organization';
    END IF;

    IF v_over IS NULL AND coalesce(p_visibility, 'private') = 'private' THEN
        SELECT q.max_bytes, coalesce(c.used_bytes, 0) INTO v_limit, v_used
          FROM attachments.quotas q
          LEFT JOIN attachments.usage_counters c
            ON c.organization_id = q.organization_id AND c.user_id = p_user
         WHERE q.organization_id = p_org AND q.user_id = p_user;

        IF FOUND AND v_used > v_limit THEN
            v_over := 'user';
        END IF;
    END IF;

    IF v_over IS NOT NULL THEN
        DELETE FROM attachments.tus_uploads WHERE id = p_id;
        RETURN v_over;
    END IF;

    RETURN 'ok';
END
$$;

-- A direct upload begins: its file's row goes in pending with the key the
-- client will PUT to, leased until the upload expires (past the URL's
-- expiry), so that whatever lands there unconfirmed is the collector's;
-- then the upload's row reserves the size as tus_create() does.  The
-- quota lock first, as finish_upload() takes it before the rows.
CREATE OR REPLACE FUNCTION attachments.direct_create(
    p_id uuid, p_org text, p_user text, p_type text, p_entity text,
    p_storage text, p_length bigint, p_name text, p_ext text,
    p_declared text, p_category text, p_tags jsonb, p_fields jsonb,
    p_visibility text, p_ttl integer, p_key text, p_sha256 text)
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    v_verdict  text;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('attachments.quota'),
                                  hashtext(p_org));

    INSERT INTO attachments.files (id, lineage_id, organization_id,
            entity_type, entity_id, storage, storage_key, file_name,
            file_ext, content_type, declared_type, size, sha256, category,
            tags, custom_fields, visibility, uploaded_by, state, lease_until)
        VALUES (p_id, p_id, p_org, p_type, p_entity, p_storage, p_key,
                p_name, p_ext, 'application/octet-stream', p_declared,
                p_length, p_sha256, p_category, coalesce(p_tags, '[]'),
                coalesce(p_fields, '{}'), coalesce(p_visibility, 'private'),
                p_user, 'pending', now() + p_ttl * interval '1 second');

    v_verdict := attachments.tus_create(p_id, p_org, p_user, p_type,
                     p_entity, p_storage, p_length, p_name, p_declared,
                     p_category, p_tags, p_fields, p_visibility, '', p_ttl);

    IF v_verdict <> 'ok' THEN
        DELETE FROM attachments.files WHERE id = p_id;
        RETURN v_verdict;
    END IF;

    UPDATE attachments.tus_uploads SET direct = true WHERE id = p_id;

    RETURN 'ok';
END
$$;

-- A direct upload's object checked out (size, SHA-256, sniffed type): the
-- pending row takes the type, and the upload ends in the transaction that
-- makes the file ready, as a resumable one does.  'gone' when the row or
-- the upload is not there any more (confirmed, cancelled, claimed).
CREATE OR REPLACE FUNCTION attachments.finish_direct(
    p_id uuid, p_type text, p_org text, p_user text, p_request_id text,
    p_client text, p_audit boolean DEFAULT true)
RETURNS text
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('attachments.quota'),
                                  hashtext(p_org));

    UPDATE attachments.files SET content_type = p_type
     WHERE id = p_id AND organization_id = p_org AND state = 'pending'
       AND gc_claimed_at IS NULL;

    IF NOT FOUND THEN
        RETURN 'gone';
    END IF;

    RETURN attachments.finish_tus(p_id, ARRAY[p_id], p_org, p_user,
                                  p_request_id, p_client, 'upload', p_audit);
END
$$;

-- A resumable upload's last bytes are in and its file row is pending: the
-- upload ends, its reservation with it, and finish_upload() makes the
-- file ready, in one transaction.  The file's row is locked first, then
-- the upload's, then the counters, as usage_reconcile() takes them.
-- 'gone' when the upload or the row is not there (terminated, expired,
-- claimed by the collector meanwhile).
CREATE OR REPLACE FUNCTION attachments.finish_tus(
    p_tus uuid, p_ids uuid[], p_org text, p_user text, p_request_id text,
    p_client text, p_action text DEFAULT 'upload',
    p_audit boolean DEFAULT true)
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    v_rows     bigint;
    v_verdict  text;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('attachments.quota'),
                                  hashtext(p_org));

    UPDATE attachments.files SET updated_at = now()
     WHERE id = ANY (p_ids) AND state = 'pending' AND gc_claimed_at IS NULL;

    GET DIAGNOSTICS v_rows = ROW_COUNT;

    IF v_rows <> cardinality(p_ids) THEN
        RETURN 'gone';
    END IF;

    -- a refusal undoes the end: the upload stays, reserved, to try again
    BEGIN
        DELETE FROM attachments.tus_uploads
         WHERE id = p_tus AND organization_id = p_org AND user_id = p_user
           AND gc_claimed_at IS NULL;

        IF NOT FOUND THEN
            RETURN 'gone';
        END IF;

        v_verdict := attachments.finish_upload(p_ids, p_org, p_user,
                                               p_request_id, p_client,
                                               p_action, p_audit);

        IF v_verdict <> 'ok' THEN
            RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = v_verdict;
        END IF;

    EXCEPTION WHEN raise_exception THEN
        RETURN SQLERRM;
    END;

    RETURN 'ok';
END
$$;
