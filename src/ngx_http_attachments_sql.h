
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * Every statement the module sends to PostgreSQL.
 *
 * Each action is one statement, so its change and its audit_log row commit
 * together without a transaction held open across events.  Statements on a
 * parent record share their first seven parameters:
 *
 *     $1 organization  $2 entity_type  $3 entity_id  $4 user
 *     $5 request id    $6 client address  $7 audit (attachments_audit)
 */


#ifndef _NGX_HTTP_ATTACHMENTS_SQL_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_SQL_H_INCLUDED_


#include "ngx_http_attachments_pg.h"


/*
 * An upload's lease on its pending rows, in seconds: made by the insert,
 * renewed by the upload a third of the lease before it ends
 */
#define NGX_HTTP_ATTACHMENTS_LEASE  60


/* columns of a file row as statements return it */
enum {
    NGX_HTTP_ATTACHMENTS_COL_ID = 0,
    NGX_HTTP_ATTACHMENTS_COL_ENTITY_TYPE,
    NGX_HTTP_ATTACHMENTS_COL_ENTITY_ID,
    NGX_HTTP_ATTACHMENTS_COL_ORG,
    NGX_HTTP_ATTACHMENTS_COL_FILE_NAME,
    NGX_HTTP_ATTACHMENTS_COL_FILE_EXT,
    NGX_HTTP_ATTACHMENTS_COL_CONTENT_TYPE,
    NGX_HTTP_ATTACHMENTS_COL_SIZE,
    NGX_HTTP_ATTACHMENTS_COL_SHA256,
    NGX_HTTP_ATTACHMENTS_COL_CATEGORY,
    NGX_HTTP_ATTACHMENTS_COL_TAGS,
    NGX_HTTP_ATTACHMENTS_COL_CUSTOM_FIELDS,
    NGX_HTTP_ATTACHMENTS_COL_DOC_VERSION,
    NGX_HTTP_ATTACHMENTS_COL_VISIBILITY,
    NGX_HTTP_ATTACHMENTS_COL_UPLOADED_BY,
    NGX_HTTP_ATTACHMENTS_COL_CREATED_AT,    /* microseconds since the epoch */
    NGX_HTTP_ATTACHMENTS_COL_UPDATED_AT,
    NGX_HTTP_ATTACHMENTS_COL_STORAGE,
    NGX_HTTP_ATTACHMENTS_COL_STORAGE_KEY,
    NGX_HTTP_ATTACHMENTS_COLS
};


/*
 * authorize: $1 user $2 org $3 entity_type $4 entity_id $5 action
 *     -> 'allow', 'deny' (the parent is readable) or 'hidden'
 * list: common, $8 limit $9 cursor time $10 cursor id $11 category $12 tag
 *     -> up to limit + 1 file rows, newest first
 * file: common, $8 file id, $9 audit action ('url_issued' or 'download')
 * update: common, $8 file id, $9 tags $10 custom_fields (jsonb or NULL),
 *     $11 whether to set category, $12 category
 * delete: common, $8 file id -> the id when a file was deleted
 */
extern ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_authorize;
extern ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_list;
extern ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_file;
extern ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_update;
extern ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_delete;

/*
 * upload: common, $8 storage, $9 files (jsonb records: id, key, name, ext,
 *     type, declared, size, sha256), $10 category, $11 tags, $12
 *     custom_fields, $13 visibility -> the pending rows' ids and keys
 * finish: common, $8 ids (uuid[]), $9 audit action ('upload' or
 *     'version') -> file rows (NULL when refused) with finish_upload()'s
 *     verdict after the file columns
 * abort: common, $8 ids -> pending rows removed
 * lease: $1 ids -> the ids of those still pending, their lease renewed
 * usage: common (no record) -> used and limit bytes of org and user; no
 *     row when the user is no member of the organization
 */
extern ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_upload;
extern ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_finish;
extern ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_abort;
extern ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_lease;
extern ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_usage;

/*
 * gc_claim: $1 retention, $2 grace (seconds), $3 batch size -> id,
 *     storage, storage_key, 'deleted' or 'pending' of the rows claimed;
 *     and NULL, storage, storage_key, 'stray' of the stray names taken
 * gc_done: $1 ids (uuid[]) whose blobs are gone -> rows purged or removed,
 *     audited; $2 ids whose blobs stayed -> claims released for the next run
 */
/*
 * version: as upload, $14 the file the new version follows (its lineage;
 *     metadata not sent is inherited), $15 the public area's key prefix
 *     (NULL: the storage has none; a public document's version is then
 *     private) -> the pending row's id and key, none if the file is not
 *     visible
 * versions: common, $8 file id -> every visible version, newest first
 */
extern ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_version;
extern ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_versions;

/*
 * publish_check: common, $8 file id -> the file row, and whether the
 *     organization is over its quota after the file columns
 * publish: common, $8 file id, $9 its key, $10 its public key -> the file
 *     row, public (the private key a stray name); none if it changed
 *     meanwhile
 * publish_recheck: common, $8 file id, $9 the public key, $10 the storage
 *     -> one row: the file row as it is now (NULL columns if it is not
 *     visible), and whether a row's key is the public key after them
 */
extern ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_publish_check;
extern ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_publish;
extern ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_publish_recheck;

extern ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_gc_claim;
extern ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_gc_done;

/* public: $1 storage, $2 key -> content type and name of a visible public
 *     file, no row otherwise */
extern ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_public;

/*
 * Resumable uploads (tus): common parameters, $8 the upload's id.
 * tus_create: $9 storage, $10 length, $11 file name, $12 declared type
 *     ('' none), $13 category, $14 tags, $15 custom_fields (NULL: none),
 *     $16 visibility, $17 Upload-Metadata as sent, $18 seconds to expiry
 *     -> 'ok', 'organization' or 'user' (the length does not fit)
 * tus_get: -> the caller's unexpired upload on that record: storage,
 *     length, file name, declared type, category, tags, custom_fields,
 *     visibility, metadata, expiry (Unix time); no row otherwise
 * tus_delete: -> its id if it was the caller's and is gone now
 * finish_tus: as finish, $10 the upload ended with it (its reservation
 *     released in the same transaction)
 * tus_expired: $1 at most -> uploads expired, claimed: id, storage
 * tus_purge: $1 ids whose bytes are gone -> removed; $2 ids kept -> their
 *     claims released
 * tus_known: $1 ids -> those that are uploads
 */
extern ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_tus_create;
extern ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_tus_get;
extern ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_tus_delete;
extern ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_finish_tus;
extern ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_tus_expired;
extern ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_tus_purge;
extern ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_tus_known;

/*
 * A resumable upload sent in parts ($8 its id):
 * tus_multipart: $9 the key, $10 the store's upload id, $11 the storage,
 *     $12 the file's id (in the key)
 *     -> its id, if the upload took it (else the collector aborts it)
 * tus_part: $9 the part's number, $10 its ETag -> its id if recorded
 * tus_abandon: $9 the store's upload id, $10 the key, $11 seconds the
 *     abort waits -> a row if it was the upload's (its abort is then the
 *     collector's)
 */
extern ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_tus_multipart;
extern ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_tus_part;
extern ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_tus_abandon;

/*
 * Direct uploads ($8 the upload's id, also its file's):
 * direct_create: $9 storage, $10 size, $11 name, $12 extension,
 *     $13 declared type, $14 category, $15 tags, $16 custom_fields,
 *     $17 visibility, $18 seconds it lasts, $19 key, $20 SHA-256 (hex)
 *     -> 'ok', 'organization' or 'user'
 * direct_get: -> storage, key, size, sha256, name, declared type
 * direct_end: -> storage, key of the upload the caller ended, if it was
 *     theirs and unconfirmed
 * finish_direct: $9 the sniffed type -> as finish
 */
extern ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_direct_create;
extern ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_direct_get;
extern ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_direct_end;
extern ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_finish_direct;

/* health: -> one row */
extern ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_health;

/* the folder cache of drives: lookup -> folder_id; claim -> folder_id,
   mine; made -> one row; release, forget */
extern ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_folder_lookup;
extern ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_folder_claim;
extern ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_folder_made;
extern ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_folder_release;
extern ngx_http_attachments_pg_stmt_t  ngx_http_attachments_sql_folder_forget;


#endif /* _NGX_HTTP_ATTACHMENTS_SQL_H_INCLUDED_ */
