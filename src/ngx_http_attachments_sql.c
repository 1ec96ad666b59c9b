
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * The SQL text of every statement (see ngx_http_attachments_sql.h for the
 * parameters).  Parameters are typed text and cast here; nothing is ever
 * spliced into SQL.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_attachments_sql.h"


/* microseconds since the epoch: the module formats times itself */
#define EPOCH_US(col)                                                         \
    "(extract(epoch FROM " col ") * 1000000)::int8"

/* in the order of the NGX_HTTP_ATTACHMENTS_COL_* enum */
#define FILE_COLUMNS                                                          \
    "f.id, f.entity_type, f.entity_id, f.organization_id, f.file_name, "      \
    "f.file_ext, f.content_type, f.size, f.sha256, f.category, "              \
    "f.tags::text, f.custom_fields::text, f.doc_version, f.visibility, "      \
    "f.uploaded_by, " EPOCH_US("f.created_at") ", "                          \
    EPOCH_US("f.updated_at") ", f.storage, f.storage_key"

/* a file of this parent record that the API may show */
#define FILE_VISIBLE                                                          \
    "organization_id = $1 AND entity_type = $2 AND entity_id = $3 "           \
    "AND deleted_at IS NULL AND state = 'ready'"

/* only the newest visible version of a document */
#define NEWEST_VERSION                                                        \
    " AND NOT EXISTS (SELECT 1 FROM attachments.files n"                      \
    "   WHERE n.lineage_id = files.lineage_id"                                \
    "     AND n.doc_version > files.doc_version"                              \
    "     AND n.deleted_at IS NULL AND n.state = 'ready')"

/*
 * The uploads in parts of resumable uploads ended in d (their rows): the
 * collector aborts them, as stray names with the upload's id
 */
#define STRAY_UPLOADS                                                         \
    "INSERT INTO attachments.stray_names (storage, storage_key, upload_id)"   \
    " SELECT storage, store_key, store_upload FROM d"                         \
    "  WHERE store_upload IS NOT NULL"                                        \
    " ON CONFLICT (storage, storage_key)"                                     \
    " DO UPDATE SET upload_id = excluded.upload_id, since = now()"            \
    " RETURNING 1"

/* NGX_HTTP_ATTACHMENTS_LEASE from now */
#define LEASE_STRING(s)  #s
#define LEASE_SECONDS(s)  LEASE_STRING(s)
#define LEASE                                                                 \
    "now() + interval '" LEASE_SECONDS(NGX_HTTP_ATTACHMENTS_LEASE)            \
    " seconds'"

#define AUDIT_COLUMNS                                                         \
    "INSERT INTO attachments.audit_log (action, organization_id, user_id, "   \
    "    entity_type, entity_id, file_id, bytes, request_id, client_addr, "    \
    "    detail) "

#define AUDIT_VALUES(bytes)                                                   \
    "$1, $4, $2, $3, f.id, " bytes ", $5, $6, NULL "


ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_authorize = {
    0, "attachments_authorize",

    "SELECT CASE"
    " WHEN attachments.authorize($1, $2, $3, $4, $5) THEN 'allow'"
    " WHEN $5 <> 'read' AND attachments.authorize($1, $2, $3, $4, 'read')"
    "  THEN 'deny'"
    " ELSE 'hidden' END,"
    /* the record's name, for the folder routes of drives ($6: wanted) */
    " CASE WHEN $6 = 'name'"
    "  THEN coalesce(nullif(attachments.record_label($2, $3, $4), ''), $4)"
    " END",

    6
};


ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_list = {
    1, "attachments_list",

    "WITH f AS ("
    "  SELECT * FROM attachments.files"
    "   WHERE " FILE_VISIBLE NEWEST_VERSION
    "     AND ($9::text IS NULL"
    "          OR (created_at, id) < ($9::timestamp AT TIME ZONE 'UTC',"
    "                                 $10::uuid))"
    "     AND ($11::text IS NULL OR category = $11)"
    "     AND ($12::text IS NULL OR tags @> jsonb_build_array($12))"
    "   ORDER BY created_at DESC, id DESC"
    "   LIMIT $8::integer + 1),"
    " page AS ("
    "  SELECT id FROM f ORDER BY created_at DESC, id DESC LIMIT $8::integer),"
    " a AS ("
    AUDIT_COLUMNS
    "  SELECT 'url_issued', $1, $4, $2, $3, NULL, NULL, $5, $6,"
    "         jsonb_build_object('files', jsonb_agg(id))"
    "    FROM page WHERE $7::boolean HAVING count(*) > 0)"
    " SELECT " FILE_COLUMNS " FROM f ORDER BY f.created_at DESC, f.id DESC",

    12
};


ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_file = {
    2, "attachments_file",

    "WITH f AS ("
    "  SELECT * FROM attachments.files WHERE id = $8::uuid AND " FILE_VISIBLE
    "), a AS ("
    AUDIT_COLUMNS
    "  SELECT $9, " AUDIT_VALUES("CASE WHEN $9 = 'download' THEN f.size END")
    "    FROM f WHERE $7::boolean)"
    " SELECT " FILE_COLUMNS " FROM f",

    9
};


ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_update = {
    3, "attachments_update",

    "WITH f AS ("
    "  UPDATE attachments.files"
    "     SET tags = coalesce($9::jsonb, tags),"
    "         custom_fields = coalesce($10::jsonb, custom_fields),"
    "         category = CASE WHEN $11::boolean THEN $12 ELSE category END,"
    "         updated_at = now()"
    "   WHERE id = $8::uuid AND " FILE_VISIBLE
    "  RETURNING *"
    "), a AS ("
    AUDIT_COLUMNS
    "  SELECT x.action, " AUDIT_VALUES("NULL")
    "    FROM f, (VALUES ('update'), ('url_issued')) x (action)"
    "   WHERE $7::boolean)"
    " SELECT " FILE_COLUMNS " FROM f",

    12
};


ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_delete = {
    4, "attachments_delete",

    "WITH f AS ("
    "  UPDATE attachments.files"
    "     SET deleted_at = now(), updated_at = now()"
    "   WHERE id = $8::uuid AND " FILE_VISIBLE
    "  RETURNING *"
    "), a AS ("
    AUDIT_COLUMNS
    "  SELECT 'delete', " AUDIT_VALUES("f.size")
    "    FROM f WHERE $7::boolean)"
    " SELECT f.id FROM f",

    8
};


ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_upload = {
    5, "attachments_upload",

    "INSERT INTO attachments.files (id, lineage_id, organization_id,"
    "    entity_type, entity_id, storage, storage_key, file_name, file_ext,"
    "    content_type, declared_type, size, sha256, category, tags,"
    "    custom_fields, visibility, uploaded_by, state, lease_until)"
    " SELECT x.id, x.id, $1, $2, $3, $8, x.key, x.name, x.ext, x.type,"
    "        nullif(x.declared, ''), x.size, x.sha256, $10,"
    "        coalesce($11::jsonb, '[]'), coalesce($12::jsonb, '{}'),"
    "        coalesce($13, 'private'), $4, 'pending', " LEASE
    "   FROM jsonb_to_recordset($9::jsonb) AS x (id uuid, key text, name text,"
    "        ext text, type text, declared text, size bigint, sha256 text)"
    " RETURNING id, storage_key",

    13
};


ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_finish = {
    6, "attachments_finish",

    "WITH v AS (SELECT attachments.finish_upload($8::uuid[], $1, $4, $5, $6,"
    "                                            $9, $7::boolean) AS verdict)"
    " SELECT " FILE_COLUMNS ", v.verdict"
    "   FROM v LEFT JOIN attachments.files f"
    "     ON f.id = ANY ($8::uuid[]) AND v.verdict = 'ok'"
    "  ORDER BY array_position($8::uuid[], f.id)",

    9
};


ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_abort = {
    7, "attachments_abort",

    "DELETE FROM attachments.files"
    " WHERE id = ANY ($8::uuid[]) AND state = 'pending'"
    "   AND organization_id = $1",

    8
};


ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_lease = {
    17, "attachments_lease",

    "UPDATE attachments.files SET lease_until = " LEASE
    " WHERE id = ANY ($1::uuid[]) AND state = 'pending'"
    "   AND gc_claimed_at IS NULL"
    " RETURNING id",

    1
};


ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_usage = {
    8, "attachments_usage",

    "SELECT (SELECT coalesce(sum(used_bytes), 0)"
    "          FROM attachments.usage_counters"
    "         WHERE organization_id = $1 AND user_id = ''),"
    "       (SELECT max_bytes FROM attachments.quotas"
    "         WHERE organization_id = $1 AND user_id = ''),"
    "       (SELECT coalesce(sum(used_bytes), 0)"
    "          FROM attachments.usage_counters"
    "         WHERE organization_id = $1 AND user_id = $4),"
    "       (SELECT max_bytes FROM attachments.quotas"
    "         WHERE organization_id = $1 AND user_id = $4)"
    " WHERE attachments.member($4, $1)",

    7
};


/*
 * A claim lasts ten minutes: a collector that died mid-batch leaves rows
 * the next one takes again.
 */

ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_gc_claim = {
    9, "attachments_gc_claim",

    "WITH c AS ("
    "UPDATE attachments.files f SET gc_claimed_at = now()"
    " WHERE f.id IN ("
    "   SELECT id FROM attachments.files"
    "    WHERE purged_at IS NULL"
    "      AND (gc_claimed_at IS NULL"
    "           OR gc_claimed_at < now() - interval '10 minutes')"
    "      AND ((deleted_at IS NOT NULL"
    "            AND deleted_at <= now() - $1::integer * interval '1 second')"
    "           OR (state = 'pending' AND deleted_at IS NULL"
    "               AND coalesce(lease_until, created_at)"
    "                   <= now() - $2::integer * interval '1 second'))"
    "    ORDER BY coalesce(deleted_at, created_at)"
    "    LIMIT $3::integer"
    "      FOR UPDATE SKIP LOCKED)"
    " RETURNING f.id::text, f.storage, f.storage_key,"
    "   CASE WHEN f.deleted_at IS NOT NULL THEN 'deleted' ELSE 'pending' END"
    "), s AS ("
    "DELETE FROM attachments.stray_names n"
    " WHERE (n.storage, n.storage_key) IN ("
    "   SELECT storage, storage_key FROM attachments.stray_names x"
    "    WHERE since <= now() - $2::integer * interval '1 second'"
    /* an abort never touches the object a file may have under the key */
    "      AND (x.upload_id IS NOT NULL"
    "           OR NOT EXISTS (SELECT 1 FROM attachments.files r"
    "                       WHERE r.storage = x.storage"
    "                         AND r.storage_key = x.storage_key"
    "                         AND r.purged_at IS NULL))"
    "    LIMIT $3::integer"
    "      FOR UPDATE SKIP LOCKED)"
    " RETURNING NULL::text, n.storage, n.storage_key, 'stray', n.upload_id)"
    " SELECT *, NULL::text FROM c UNION ALL SELECT * FROM s",

    3
};


ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_gc_done = {
    10, "attachments_gc_done",

    "WITH d AS ("
    "  UPDATE attachments.files SET purged_at = now(), gc_claimed_at = NULL"
    "   WHERE id = ANY ($1::uuid[]) AND deleted_at IS NOT NULL"
    "     AND purged_at IS NULL"
    "  RETURNING *"
    "), p AS ("
    "  DELETE FROM attachments.files"
    "   WHERE id = ANY ($1::uuid[]) AND state = 'pending'"
    "     AND deleted_at IS NULL"
    "  RETURNING *"
    "), a AS ("
    "  INSERT INTO attachments.audit_log (action, organization_id,"
    "      entity_type, entity_id, file_id, bytes, detail)"
    "  SELECT 'purge', organization_id, entity_type, entity_id, id, size,"
    "         jsonb_build_object('was', 'deleted') FROM d"
    "  UNION ALL"
    "  SELECT 'purge', organization_id, entity_type, entity_id, id, size,"
    "         jsonb_build_object('was', 'pending') FROM p"
    "), k AS ("
    "  UPDATE attachments.files SET gc_claimed_at = NULL"
    "   WHERE id = ANY ($2::uuid[])"
    "  RETURNING 1)"
    " SELECT (SELECT count(*) FROM d), (SELECT count(*) FROM p)",

    2
};


/* a new version: the upload's row joins the lineage of file $13 */

ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_version = {
    11, "attachments_version",

    "INSERT INTO attachments.files (id, lineage_id, doc_version,"
    "    organization_id, entity_type, entity_id, storage, storage_key,"
    "    file_name, file_ext, content_type, declared_type, size, sha256,"
    "    category, tags, custom_fields, visibility, uploaded_by, state,"
    "    lease_until)"
    " SELECT x.id, b.lineage_id,"
    "        (SELECT max(doc_version) + 1 FROM attachments.files"
    "          WHERE lineage_id = b.lineage_id),"
    "        $1, $2, $3, $8,"
    "        CASE WHEN $13 IS NULL AND b.visibility = 'public'"
    "              AND $15 IS NOT NULL"
    "             THEN $15 || x.key ELSE x.key END,"
    "        x.name, x.ext, x.type,"
    "        nullif(x.declared, ''), x.size, x.sha256,"
    "        coalesce($10, b.category), coalesce($11::jsonb, b.tags),"
    "        coalesce($12::jsonb, b.custom_fields),"
    "        CASE WHEN $13 IS NOT NULL THEN $13"
    "             WHEN b.visibility = 'public' AND $15 IS NOT NULL"
    "             THEN 'public' ELSE 'private' END,"
    "        $4, 'pending', " LEASE
    "   FROM jsonb_to_recordset($9::jsonb) AS x (id uuid, key text, name text,"
    "        ext text, type text, declared text, size bigint, sha256 text),"
    "        attachments.files b"
    "  WHERE b.id = $14::uuid AND b.organization_id = $1"
    "    AND b.entity_type = $2 AND b.entity_id = $3"
    "    AND b.deleted_at IS NULL AND b.state = 'ready'"
    " RETURNING id, storage_key",

    15
};


ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_versions = {
    12, "attachments_versions",

    "WITH f AS ("
    "  SELECT v.* FROM attachments.files b JOIN attachments.files v"
    "    ON v.lineage_id = b.lineage_id"
    "   WHERE b.id = $8::uuid AND b.organization_id = $1"
    "     AND b.entity_type = $2 AND b.entity_id = $3"
    "     AND b.deleted_at IS NULL AND b.state = 'ready'"
    "     AND v.deleted_at IS NULL AND v.state = 'ready'),"
    " a AS ("
    AUDIT_COLUMNS
    "  SELECT 'url_issued', $1, $4, $2, $3, NULL, NULL, $5, $6,"
    "         jsonb_build_object('files', jsonb_agg(id))"
    "    FROM f WHERE $7::boolean HAVING count(*) > 0)"
    " SELECT " FILE_COLUMNS " FROM f ORDER BY f.doc_version DESC",

    8
};


ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_publish_check = {
    13, "attachments_publish_check",

    "SELECT " FILE_COLUMNS ","
    "       (SELECT coalesce(sum(used_bytes), 0)"
    "          FROM attachments.usage_counters"
    "         WHERE organization_id = $1 AND user_id = '')"
    "       > coalesce((SELECT max_bytes FROM attachments.quotas"
    "                    WHERE organization_id = $1 AND user_id = ''),"
    "                  9223372036854775807)"
    "  FROM attachments.files f"
    " WHERE f.id = $8::uuid AND f.organization_id = $1"
    "   AND f.entity_type = $2 AND f.entity_id = $3"
    "   AND f.deleted_at IS NULL AND f.state = 'ready'",

    8
};


ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_publish = {
    14, "attachments_publish",

    "WITH f AS ("
    "  UPDATE attachments.files"
    "     SET visibility = 'public', storage_key = $10, updated_at = now()"
    "   WHERE id = $8::uuid AND " FILE_VISIBLE
    "     AND visibility = 'private' AND storage_key = $9"
    "  RETURNING *"
    "), s AS ("
    "  INSERT INTO attachments.stray_names (storage, storage_key)"
    "  SELECT storage, $9 FROM f ON CONFLICT DO NOTHING"
    "), a AS ("
    AUDIT_COLUMNS
    "  SELECT x.action, " AUDIT_VALUES("CASE WHEN x.action = 'publish'"
                                      " THEN f.size END")
    "    FROM f, (VALUES ('publish'), ('url_issued')) x (action)"
    "   WHERE $7::boolean)"
    " SELECT " FILE_COLUMNS " FROM f",

    10
};


/*
 * After a publish that changed nothing: the file as it is now (NULL
 * columns when it is gone), and whether any row's key is the public one
 */

ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_publish_recheck = {
    16, "attachments_publish_recheck",

    "SELECT " FILE_COLUMNS ","
    "       EXISTS (SELECT 1 FROM attachments.files r"
    "                WHERE r.storage = $10 AND r.storage_key = $9)"
    "  FROM (SELECT 1) one"
    "  LEFT JOIN attachments.files f"
    "    ON f.id = $8::uuid AND f.organization_id = $1"
    "   AND f.entity_type = $2 AND f.entity_id = $3"
    "   AND f.deleted_at IS NULL AND f.state = 'ready'",

    10
};


/* a public file by its storage and key: what it is served as */

ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_public = {
    18, "attachments_public",

    "SELECT content_type, file_name FROM attachments.files"
    " WHERE storage = $1 AND storage_key = $2 AND visibility = 'public'"
    "   AND deleted_at IS NULL AND state = 'ready' AND purged_at IS NULL",

    2
};


/*
 * attachments_health: the database answers, and takes writes (a standby,
 * or a server made read-only, answers every upload 503)
 */

ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_health = {
    15, "attachments_health",

    "SELECT current_setting('transaction_read_only')",

    0
};


/* resumable uploads (tus) */

ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_tus_create = {
    19, "attachments_tus_create",

    "SELECT attachments.tus_create($8::uuid, $1, $4, $2, $3, $9,"
    "    $10::bigint, $11, nullif($12, ''), $13, $14::jsonb, $15::jsonb,"
    "    $16, $17, $18::integer)",

    18
};


ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_tus_get = {
    20, "attachments_tus_get",

    "SELECT storage, length, file_name, coalesce(declared_type, ''),"
    "    category, tags::text, custom_fields::text, visibility, metadata,"
    "    extract(epoch FROM expires_at)::bigint, coalesce(store_key, ''),"
    "    coalesce(store_upload, ''), array_to_string(parts, ' '),"
    "    coalesce(store_file::text, '')"
    "  FROM attachments.tus_uploads"
    " WHERE id = $8::uuid AND organization_id = $1 AND user_id = $4"
    "   AND entity_type = $2 AND entity_id = $3"
    "   AND expires_at > now() AND gc_claimed_at IS NULL AND NOT direct",

    8
};


ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_tus_delete = {
    21, "attachments_tus_delete",

    "WITH d AS ("
    "DELETE FROM attachments.tus_uploads"
    " WHERE id = $8::uuid AND organization_id = $1 AND user_id = $4"
    "   AND entity_type = $2 AND entity_id = $3 AND gc_claimed_at IS NULL"
    "   AND NOT direct"
    " RETURNING *"
    "), s AS (" STRAY_UPLOADS ")"
    " SELECT id FROM d",

    8
};


ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_finish_tus = {
    22, "attachments_finish_tus",

    "WITH v AS (SELECT attachments.finish_tus($10::uuid, $8::uuid[], $1, $4,"
    "                                         $5, $6, $9, $7::boolean)"
    "           AS verdict)"
    " SELECT " FILE_COLUMNS ", v.verdict"
    "   FROM v LEFT JOIN attachments.files f"
    "     ON f.id = ANY ($8::uuid[]) AND v.verdict = 'ok'"
    "  ORDER BY array_position($8::uuid[], f.id)",

    10
};


/* as the files' claim: ten minutes, then another collector takes them */

ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_tus_expired = {
    23, "attachments_tus_expired",

    "UPDATE attachments.tus_uploads SET gc_claimed_at = now()"
    " WHERE id IN ("
    "   SELECT id FROM attachments.tus_uploads"
    "    WHERE expires_at <= now()"
    "      AND (gc_claimed_at IS NULL"
    "           OR gc_claimed_at < now() - interval '10 minutes')"
    "    ORDER BY expires_at"
    "    LIMIT $1::integer"
    "      FOR UPDATE SKIP LOCKED)"
    " RETURNING id::text, storage",

    1
};


ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_tus_purge = {
    24, "attachments_tus_purge",

    "WITH d AS ("
    "  DELETE FROM attachments.tus_uploads WHERE id = ANY ($1::uuid[])"
    "  RETURNING *"
    "), s AS (" STRAY_UPLOADS
    "), k AS ("
    "  UPDATE attachments.tus_uploads SET gc_claimed_at = NULL"
    "   WHERE id = ANY ($2::uuid[])"
    "  RETURNING 1)"
    " SELECT (SELECT count(*) FROM d)",

    2
};


ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_tus_known = {
    25, "attachments_tus_known",

    "SELECT id::text FROM attachments.tus_uploads WHERE id = ANY ($1::uuid[])",

    1
};


ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_direct_create = {
    26, "attachments_direct_create",

    "SELECT attachments.direct_create($8::uuid, $1, $4, $2, $3, $9,"
    "    $10::bigint, $11, $12, nullif($13, ''), $14, $15::jsonb, $16::jsonb,"
    "    $17, $18::integer, $19, $20)",

    20
};


ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_direct_get = {
    27, "attachments_direct_get",

    "SELECT f.storage, f.storage_key, f.size, f.sha256, f.file_name,"
    "    coalesce(f.declared_type, '')"
    "  FROM attachments.tus_uploads u JOIN attachments.files f ON f.id = u.id"
    " WHERE u.id = $8::uuid AND u.organization_id = $1 AND u.user_id = $4"
    "   AND u.entity_type = $2 AND u.entity_id = $3 AND u.direct"
    "   AND u.expires_at > now() AND u.gc_claimed_at IS NULL"
    "   AND f.state = 'pending' AND f.gc_claimed_at IS NULL",

    8
};


/* the file's pending row stays: it guards the key until the URL expired */

ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_direct_end = {
    28, "attachments_direct_end",

    "DELETE FROM attachments.tus_uploads u"
    " WHERE id = $8::uuid AND organization_id = $1 AND user_id = $4"
    "   AND entity_type = $2 AND entity_id = $3 AND direct"
    "   AND expires_at > now() AND gc_claimed_at IS NULL"
    " RETURNING (SELECT f.storage FROM attachments.files f"
    "             WHERE f.id = u.id AND f.state = 'pending'),"
    "           (SELECT f.storage_key FROM attachments.files f"
    "             WHERE f.id = u.id AND f.state = 'pending')",

    8
};


ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_finish_direct = {
    29, "attachments_finish_direct",

    "WITH v AS (SELECT attachments.finish_direct($8::uuid, $9, $1, $4, $5,"
    "                                            $6, $7::boolean) AS verdict)"
    " SELECT " FILE_COLUMNS ", v.verdict"
    "   FROM v LEFT JOIN attachments.files p"
    "     ON p.id = $8::uuid AND v.verdict = 'ok'"
    /* the statement sees the row as it was before: the type as it is now */
    "   LEFT JOIN LATERAL jsonb_populate_record(NULL::attachments.files,"
    "       to_jsonb(p) || jsonb_build_object('content_type', $9::text)) f"
    "     ON p.id IS NOT NULL",

    9
};


/* a new upload in parts: the upload's, or, if it is gone, the collector's */

ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_tus_multipart = {
    30, "attachments_tus_multipart",

    "WITH u AS ("
    "UPDATE attachments.tus_uploads SET store_key = $9, store_upload = $10,"
    "       store_file = $12::uuid"
    " WHERE id = $8::uuid AND organization_id = $1 AND store_upload IS NULL"
    "   AND gc_claimed_at IS NULL"
    " RETURNING id"
    "), s AS ("
    "INSERT INTO attachments.stray_names (storage, storage_key, upload_id)"
    " SELECT $11, $9, $10 WHERE NOT EXISTS (SELECT 1 FROM u)"
    " ON CONFLICT (storage, storage_key)"
    " DO UPDATE SET upload_id = excluded.upload_id, since = now()"
    " RETURNING 1)"
    " SELECT id FROM u",

    12
};


ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_tus_part = {
    31, "attachments_tus_part",

    "UPDATE attachments.tus_uploads SET parts = parts || $10::text"
    " WHERE id = $8::uuid AND organization_id = $1"
    "   AND store_upload IS NOT NULL AND gc_claimed_at IS NULL"
    "   AND cardinality(parts) = $9::integer - 1"
    " RETURNING id",

    10
};


/*
 * An upload in parts the resumable upload gives up (lost by the store, or
 * about to be completed, so that a retry never completes it twice): no
 * longer the upload's; the collector aborts it
 */

ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_tus_abandon = {
    32, "attachments_tus_abandon",

    "WITH u AS ("
    "UPDATE attachments.tus_uploads"
    "   SET store_key = NULL, store_file = NULL, store_upload = NULL,"
    "       parts = '{}'"
    " WHERE id = $8::uuid AND organization_id = $1 AND store_upload = $9"
    " RETURNING storage"
    "), s AS ("
    "INSERT INTO attachments.stray_names (storage, storage_key, upload_id,"
    "    since)"
    " SELECT storage, $10, $9, now() + $11::integer * interval '1 second'"
    "   FROM u"
    " ON CONFLICT (storage, storage_key)"
    " DO UPDATE SET upload_id = excluded.upload_id, since = excluded.since"
    " RETURNING 1)"
    " SELECT 1 FROM u",

    11
};


/*
 * The folder cache of drive storages ($8 storage, $9 a folder's path): a
 * folder is made by whoever claims its row (an empty id; a claim older
 * than 30 seconds is a dead maker's, taken over), so that two makers never
 * both make it (a drive may hold two folders of one name); lookup: its id,
 * if made; claim: its id, or '' and whether the claim is this request's;
 * made: the id of the folder made under the claim ($10); release: the
 * claim given up; forget: the folder, every folder under it and every
 * folder above it, once the drive says it is not there (but the claims of
 * those being made again)
 */

ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_folder_lookup = {
    33, "attachments_folder_lookup",

    "SELECT folder_id FROM attachments.folder_cache"
    " WHERE storage = $8 AND path = $9 AND folder_id <> ''",

    9
};


ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_folder_claim = {
    34, "attachments_folder_claim",

    "WITH c AS ("
    "INSERT INTO attachments.folder_cache (storage, path, folder_id)"
    " VALUES ($8, $9, '')"
    " ON CONFLICT (storage, path) DO UPDATE SET created_at = now()"
    "  WHERE attachments.folder_cache.folder_id = ''"
    "    AND attachments.folder_cache.created_at"
    "        < now() - interval '30 seconds'"
    " RETURNING folder_id)"
    " SELECT folder_id, true FROM c"
    " UNION ALL"
    " SELECT folder_id, false FROM attachments.folder_cache"
    "  WHERE storage = $8 AND path = $9 AND NOT EXISTS (SELECT 1 FROM c)",

    9
};


ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_folder_made = {
    35, "attachments_folder_made",

    "UPDATE attachments.folder_cache SET folder_id = $10, created_at = now()"
    " WHERE storage = $8 AND path = $9 AND folder_id = ''"
    " RETURNING 1",

    10
};


ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_folder_release = {
    36, "attachments_folder_release",

    "DELETE FROM attachments.folder_cache"
    " WHERE storage = $8 AND path = $9 AND folder_id = ''",

    9
};


ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_folder_forget = {
    37, "attachments_folder_forget",

    "DELETE FROM attachments.folder_cache"
    " WHERE storage = $8 AND folder_id <> ''"
    "   AND (path = $9 OR left(path, length($9) + 1) = $9 || '/'"
    "        OR left($9, length(path) + 1) = path || '/')",

    9
};
