
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * Uploads, committed: once the body is in (ngx_http_attachments_upload.c),
 * all or nothing (docs/upload.md):
 *
 *   1. rows inserted "pending";
 *   2. blobs created in the active storage through the storage interface
 *      (local: renamed to their keys, directories fsync'd; s3: PUT from the
 *      temporary file);
 *   3. attachments.finish_upload(): quotas checked under a per-organization
 *      lock, rows "ready", audit rows, in one transaction.
 *
 * Any failure before 3 commits deletes the blobs (and, after 1, the rows)
 * through ngx_http_attachments_undo.c; a crash leaves temporary files and
 * pending rows for the collector.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_attachments_input.h"
#include "ngx_http_attachments_json.h"
#include "ngx_http_attachments_pg.h"
#include "ngx_http_attachments_sql.h"
#include "ngx_http_attachments_storage.h"
#include "ngx_http_attachments_module.h"
#include "ngx_http_attachments_request.h"
#include "ngx_http_attachments_object.h"
#include "ngx_http_attachments_undo.h"
#include "ngx_http_attachments_folders.h"
#include "ngx_http_attachments_commit.h"


static void ngx_http_attachments_upload_inserted(
    ngx_http_attachments_pg_query_t *q);
static ngx_int_t ngx_http_attachments_upload_keys(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up, PGresult *res);
static void ngx_http_attachments_upload_renew(ngx_event_t *ev);
static void ngx_http_attachments_upload_renewed(
    ngx_http_attachments_pg_query_t *q);
static void ngx_http_attachments_upload_create(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up);
static void ngx_http_attachments_upload_foldered(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up, ngx_uint_t status);
static void ngx_http_attachments_upload_created(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
static void ngx_http_attachments_upload_commit(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up);
static void ngx_http_attachments_upload_finished(
    ngx_http_attachments_pg_query_t *q);
static ngx_int_t ngx_http_attachments_upload_rows(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up, ngx_str_t *rows);


static ngx_str_t  ngx_http_attachments_public =
    ngx_string(NGX_HTTP_ATTACHMENTS_PUBLIC);


/*
 * The body is in and every blob has its key: the rows go in "pending"
 * first.  From here on the request finishes what it started, client or
 * not.
 */

void
ngx_http_attachments_commit(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up)
{
    ngx_str_t                         rows;
    ngx_http_attachments_ctx_t       *ctx;
    ngx_http_attachments_pg_query_t  *q;

    ctx = up->ctx;

    if (ngx_http_attachments_upload_rows(r, up, &rows) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    q = ngx_http_attachments_statement(r, ctx,
                                       up->version
                                       ? &ngx_http_attachments_sql_version
                                       : &ngx_http_attachments_sql_upload,
                                       ngx_http_attachments_upload_inserted);
    if (q == NULL
        || ngx_http_attachments_pg_param(r->pool, q, &up->storage->name)
           != NGX_OK
        || ngx_http_attachments_pg_param(r->pool, q, &rows) != NGX_OK
        || ngx_http_attachments_pg_param(r->pool, q,
                                         up->category.data ? &up->category
                                                           : NULL)
           != NGX_OK
        || ngx_http_attachments_pg_param(r->pool, q,
                                         up->tags.data ? &up->tags : NULL)
           != NGX_OK
        || ngx_http_attachments_pg_param(r->pool, q,
                                         up->custom_fields.data
                                         ? &up->custom_fields : NULL)
           != NGX_OK
        || ngx_http_attachments_pg_param(r->pool, q,
                                         up->visibility.data
                                         ? &up->visibility : NULL)
           != NGX_OK
        || (up->version
            && (ngx_http_attachments_pg_param(r->pool, q,
                                              &ctx->route.file_id)
                != NGX_OK
                || ngx_http_attachments_pg_param(r->pool, q,
                                         up->storage->public.len
                                         ? &ngx_http_attachments_public
                                         : NULL)
                   != NGX_OK)))
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "attachments upload: inserting %ui pending row(s)",
                   up->blobs.nelts);

    if (ngx_http_attachments_run_through(r, q) == NGX_AGAIN) {
        up->phase = NGX_HTTP_ATTACHMENTS_INSERTING;
        return;
    }

    ngx_http_attachments_upload_refuse(up, NGX_HTTP_SERVICE_UNAVAILABLE,
                                       "unavailable",
                                       "the database is unavailable");

    ngx_http_finalize_request(r,
        ngx_http_attachments_upload_answer(r, up, up->status));
}


static void
ngx_http_attachments_upload_inserted(ngx_http_attachments_pg_query_t *q)
{
    char                             *constraint;
    ngx_http_request_t               *r;
    ngx_http_attachments_ctx_t       *ctx;
    ngx_http_attachments_upload_t    *up;

    r = q->data;
    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);
    up = ctx->upload;

    if (q->rc == NGX_DECLINED
        && ngx_strcmp(PQresultErrorField(q->result, PG_DIAG_SQLSTATE),
                      "23505") == 0)
    {
        constraint = PQresultErrorField(q->result, PG_DIAG_CONSTRAINT_NAME);

        if (up->version && constraint
            && ngx_strcmp(constraint, "files_lineage_id_doc_version_key") == 0
            && up->tries++ < NGX_HTTP_ATTACHMENTS_VERSION_TRIES)
        {
            /* another version of the document took the number: the next */
            ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "attachments upload: version number taken, again");
            ngx_http_attachments_commit(r, up);
            return;
        }

        /* attachments_key made a key that a file has already */
        ngx_http_attachments_finish(r,
            ngx_http_attachments_send_error(r, NGX_HTTP_CONFLICT, "conflict",
                "the storage key is taken; attachments_key needs "
                "$attachments_uuid"));
        return;
    }

    if (ngx_http_attachments_failed(r, q, 0)) {
        return;
    }

    if ((ngx_uint_t) PQntuples(q->result) != up->blobs.nelts) {
        /* the file a version was sent for is not there (any more) */
        ngx_http_attachments_upload_refuse(up, NGX_HTTP_NOT_FOUND,
                                           "not_found",
                                           "no such record or file");
        ngx_http_attachments_upload_abort(r, up);
        return;
    }

    /* a version inherits its document's visibility, and so its key */

    if (ngx_http_attachments_upload_keys(r, up, q->result) != NGX_OK) {
        ngx_http_attachments_upload_refuse(up,
            NGX_HTTP_INTERNAL_SERVER_ERROR, "internal_error",
            "the request failed; the error log says why");
        ngx_http_attachments_upload_abort(r, up);
        return;
    }

    /* the rows are the upload's while it renews its lease on them */

    if (ngx_http_attachments_upload_ids(r, up, &up->ids) != NGX_OK) {
        ngx_http_attachments_upload_refuse(up,
            NGX_HTTP_INTERNAL_SERVER_ERROR, "internal_error",
            "the request failed; the error log says why");
        ngx_http_attachments_upload_abort(r, up);
        return;
    }

    up->lease.handler = ngx_http_attachments_upload_renew;
    up->lease.data = up;
    up->lease.log = r->connection->log;
    up->lease.cancelable = 1;

    ngx_add_timer(&up->lease, NGX_HTTP_ATTACHMENTS_LEASE * 1000 / 3);

    up->next = 0;
    ngx_http_attachments_upload_create(r, up);
}


/*
 * The lease on the pending rows, and the temporaries' times, renewed while
 * the upload commits: a slow store or a quota lock held long makes nobody
 * take them for the leftovers of a crash.
 */

static void
ngx_http_attachments_upload_renew(ngx_event_t *ev)
{
    ngx_http_attachments_upload_t     *up;
    ngx_http_attachments_pg_query_t   *q;
    ngx_http_attachments_main_conf_t  *amcf;

    up = ev->data;

    ngx_http_attachments_upload_touch(up);

    amcf = ngx_http_get_module_main_conf(up->request,
                                         ngx_http_attachments_module);

    q = ngx_http_attachments_pg_query(up->request->pool, ev->log,
                                      amcf->database,
                                      &ngx_http_attachments_sql_lease);
    if (q != NULL
        && ngx_http_attachments_pg_param(up->request->pool, q, &up->ids)
           == NGX_OK)
    {
        q->handler = ngx_http_attachments_upload_renewed;
        q->data = up;

        (void) ngx_http_attachments_pg_run(q);
    }

    ngx_add_timer(ev, NGX_HTTP_ATTACHMENTS_LEASE * 1000 / 3);
}


/* a row no longer pending is seen again by finish_upload(), which refuses */

static void
ngx_http_attachments_upload_renewed(ngx_http_attachments_pg_query_t *q)
{
    ngx_http_attachments_upload_t  *up = q->data;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, q->log, 0,
                   "attachments upload: lease renewed, %i, %d row(s)",
                   q->rc, q->rc == NGX_OK ? PQntuples(q->result) : -1);

    if (q->rc == NGX_OK
        && (ngx_uint_t) PQntuples(q->result) != up->blobs.nelts)
    {
        ngx_log_error(NGX_LOG_WARN, q->log, 0,
                      "attachments: an upload's rows %V are not all "
                      "pending any more", &up->ids);
    }
}


/* each blob's key as its row has it */

static ngx_int_t
ngx_http_attachments_upload_keys(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up, PGresult *res)
{
    int                           row;
    ngx_str_t                     key;
    ngx_uint_t                    i;
    ngx_http_attachments_blob_t  *b;

    b = up->blobs.elts;

    for (row = 0; row < PQntuples(res); row++) {

        for (i = 0; i < up->blobs.nelts; i++) {
            if (ngx_strncmp(b[i].id, PQgetvalue(res, row, 0),
                            NGX_HTTP_ATTACHMENTS_UUID_LEN)
                == 0)
            {
                break;
            }
        }

        if (i == up->blobs.nelts) {
            return NGX_ERROR;
        }

        key.data = (u_char *) PQgetvalue(res, row, 1);
        key.len = ngx_strlen(key.data);

        if (key.len == b[i].key.len
            && ngx_strncmp(key.data, b[i].key.data, key.len) == 0)
        {
            continue;
        }

        b[i].key.data = ngx_pstrdup(r->pool, &key);
        if (b[i].key.data == NULL) {
            return NGX_ERROR;
        }

        b[i].key.len = key.len;
    }

    return NGX_OK;
}


/*
 * The blobs go into the storage one after the other (up->next), each from
 * its temporary file: at once (local) or once the store answered (s3).
 * Any refusal or failure undoes the ones already there.
 */

static void
ngx_http_attachments_upload_create(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up)
{
    ngx_int_t                     rc;
    ngx_http_attachments_blob_t  *b;

    for ( ;; ) {
        if (up->next == up->blobs.nelts) {
            /* what temporary files are left are not needed any more */
            ngx_http_attachments_upload_remove(up);
            ngx_http_attachments_upload_commit(r, up);
            return;
        }

        b = (ngx_http_attachments_blob_t *) up->blobs.elts + up->next;

        if (b->parent.len == 0 && b->upload_id.len == 0) {
            /* a drive's file goes into its folder, had first */

            rc = ngx_http_attachments_folder_resolve(r, up, b,
                                        ngx_http_attachments_upload_foldered);

            if (rc == NGX_AGAIN) {
                return;
            }

            if (rc == NGX_ERROR) {
                ngx_http_attachments_upload_unavailable(r, up);
                return;
            }
        }

        ngx_http_attachments_upload_op(up, b,
                                       ngx_http_attachments_upload_created);
        up->op.parent = b->parent;

        /* a resumable upload sent in parts is completed, not put */
        up->op.upload_id = b->upload_id;
        up->op.etags = b->etags;

        rc = ngx_http_attachments_storage_create(r, &up->op);

        if (rc == NGX_AGAIN) {
            ngx_http_run_posted_requests(r->connection);
            return;
        }

        if (rc != NGX_OK) {
            ngx_http_attachments_upload_unavailable(r, up);
            return;
        }

        if (!ngx_http_attachments_op_done(&up->op)) {
            ngx_http_attachments_upload_created(r, &up->op);
            return;
        }

        b->created = 1;
        up->next++;
    }
}


static void
ngx_http_attachments_upload_foldered(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up, ngx_uint_t status)
{
    if (status) {
        ngx_http_attachments_upload_unavailable(r, up);
        return;
    }

    ngx_http_attachments_upload_create(r, up);
}


static void
ngx_http_attachments_upload_created(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    ngx_http_attachments_blob_t    *b;
    ngx_http_attachments_upload_t  *up;

    up = op->data;
    b = (ngx_http_attachments_blob_t *) up->blobs.elts + up->next;

    if (op->gone && !b->refolder) {
        /* the cached folder was deleted on the drive: made again, once */
        b->refolder = 1;
        ngx_str_null(&b->parent);
        ngx_http_attachments_upload_create(r, up);
        return;
    }

    if (op->status == NGX_HTTP_CONFLICT) {
        /* a blob of another file has the key: it stays as it is */
        ngx_http_attachments_upload_refuse(up, NGX_HTTP_CONFLICT, "conflict",
            "the storage key is taken; attachments_key needs "
            "$attachments_uuid");
        ngx_http_attachments_upload_abort(r, up);
        return;
    }

    if (op->status >= 400 && op->status < 500 && b->upload_id.len) {
        /* the upload in parts is gone (aborted) or refused for good (it
           is the collector's to abort): the bytes go up whole */
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "attachments: the completion of \"%V\" was refused "
                      "(%ui); sending the file whole", &b->key, op->status);
        ngx_str_null(&b->upload_id);
        ngx_http_attachments_upload_create(r, up);
        return;
    }

    if (!ngx_http_attachments_op_done(op)) {
        /* unknown whether it is there: a delete makes sure it is not */
        b->created = op->uncertain;

        ngx_http_attachments_upload_unavailable(r, up);
        return;
    }

    b->created = 1;
    up->next++;

    ngx_http_attachments_upload_create(r, up);
}


/* the blobs are in place: finish_upload() makes them files, or refuses */

static void
ngx_http_attachments_upload_commit(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up)
{
    ngx_str_t                         ids, action;
    ngx_http_attachments_pg_query_t  *next;

    if (up->version) {
        ngx_str_set(&action, "version");

    } else {
        ngx_str_set(&action, "upload");
    }

    /* a resumable upload ends in the transaction that makes its file */

    next = ngx_http_attachments_statement(r, up->ctx,
                                          up->tus.len
                                          ? &ngx_http_attachments_sql_finish_tus
                                          : &ngx_http_attachments_sql_finish,
                                          ngx_http_attachments_upload_finished);

    if (next == NULL
        || ngx_http_attachments_upload_ids(r, up, &ids) != NGX_OK
        || ngx_http_attachments_pg_param(r->pool, next, &ids) != NGX_OK
        || ngx_http_attachments_pg_param(r->pool, next, &action) != NGX_OK
        || (up->tus.len
            && ngx_http_attachments_pg_param(r->pool, next, &up->tus)
               != NGX_OK))
    {
        ngx_http_attachments_upload_refuse(up,
            NGX_HTTP_INTERNAL_SERVER_ERROR, "internal_error",
            "the request failed; the error log says why");
        ngx_http_attachments_upload_abort(r, up);
        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "attachments upload: finishing %V", &ids);

    if (ngx_http_attachments_run_through(r, next) == NGX_AGAIN) {
        up->phase = NGX_HTTP_ATTACHMENTS_FINISHING;
        return;
    }

    /* the blobs go; the pending rows too, if the database is back */
    ngx_http_attachments_upload_unavailable(r, up);
}


static void
ngx_http_attachments_upload_finished(ngx_http_attachments_pg_query_t *q)
{
    int                               n;
    char                             *result;
    ngx_http_request_t               *r;
    ngx_http_attachments_ctx_t       *ctx;
    ngx_http_attachments_upload_t    *up;

    r = q->data;
    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);
    up = ctx->upload;

    /* committed or not: the collector will know from the rows */
    if (ngx_http_attachments_failed(r, q, 0)) {
        return;
    }

    n = PQntuples(q->result);
    result = n ? PQgetvalue(q->result, 0, NGX_HTTP_ATTACHMENTS_COLS) : "";

    if (up->lease.timer_set) {
        ngx_del_timer(&up->lease);
    }

    if (ngx_strcmp(result, "gone") == 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      up->tus.len
                      ? "attachments: the pending rows %V of an upload in "
                        "progress, or its resumable upload, were taken or "
                        "ended meanwhile"
                      : "attachments: the collector took the pending rows %V "
                        "of an upload in progress", &up->ids);
        ngx_http_attachments_upload_unavailable(r, up);
        return;
    }

    if (ngx_strcmp(result, "ok") != 0) {

        ngx_http_attachments_upload_refuse(up,
            NGX_HTTP_ATTACHMENTS_INSUFFICIENT_STORAGE, "quota_exceeded",
            ngx_strcmp(result, "user") == 0
            ? "the upload does not fit the user's quota"
            : "the upload does not fit the organization's quota");

        ngx_http_attachments_upload_abort(r, up);
        return;
    }

    up->phase = NGX_HTTP_ATTACHMENTS_STORED;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "attachments upload: %d file(s) stored", n);

    ngx_http_attachments_finish(r,
        ngx_http_attachments_send_files(r, ctx,
                                        up->answer ? up->answer
                                                   : NGX_HTTP_CREATED,
                                        q->result, n));
}


/* $8 of the upload statement: the files as a JSON array of records */

static ngx_int_t
ngx_http_attachments_upload_rows(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up, ngx_str_t *rows)
{
    char                         *text;
    json_t                       *a, *o;
    ngx_uint_t                    i;
    ngx_http_attachments_blob_t  *b;

    a = json_array();
    b = up->blobs.elts;

    for (i = 0; a && i < up->blobs.nelts; i++) {
        o = json_pack("{s:s%,s:s%,s:s%,s:s%,s:s%,s:s%,s:I,s:s%}",
                      "id", b[i].id, (size_t) NGX_HTTP_ATTACHMENTS_UUID_LEN,
                      "key", b[i].key.data, b[i].key.len,
                      "name", b[i].name.data, b[i].name.len,
                      "ext", b[i].ext.data, b[i].ext.len,
                      "type", b[i].type.data, b[i].type.len,
                      "declared", b[i].declared.data
                                  ? (char *) b[i].declared.data : "",
                      b[i].declared.len,
                      "size", (json_int_t) b[i].size,
                      "sha256", b[i].sha256, (size_t) 64);

        if (json_array_append_new(a, o) != 0) {
            json_decref(a);
            return NGX_ERROR;
        }
    }

    if (a == NULL) {
        return NGX_ERROR;
    }

    text = json_dumps(a, JSON_COMPACT);
    json_decref(a);

    if (text == NULL) {
        return NGX_ERROR;
    }

    rows->len = ngx_strlen(text);
    rows->data = ngx_pnalloc(r->pool, rows->len);

    if (rows->data) {
        ngx_memcpy(rows->data, text, rows->len);
    }

    free(text);

    return rows->data ? NGX_OK : NGX_ERROR;
}
