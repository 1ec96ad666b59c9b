
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * An upload that cannot finish: its answer, and nothing of it left behind
 * (its blobs deleted from the storage, its pending rows removed, its
 * temporaries gone), at once or, for what a request cannot do, by the
 * collector.  Also what keeps an upload in progress from looking like the
 * leftovers of a crash: its temporaries touched.
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
#include "ngx_http_attachments_undo.h"


static void ngx_http_attachments_upload_delete(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up);
static void ngx_http_attachments_upload_deleted(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
static void ngx_http_attachments_upload_aborted(
    ngx_http_attachments_pg_query_t *q);


ngx_int_t
ngx_http_attachments_upload_refuse(ngx_http_attachments_upload_t *up,
    ngx_uint_t status, const char *code, const char *message)
{
    if (up->status == 0) {
        up->status = status;
        up->code = code;
        up->message = message;
    }

    return NGX_ERROR;
}


/*
 * The answer to a failed upload.  Its temporaries go now, not with the
 * request's pool: the rest of a refused body may take long to discard,
 * and a worker that exits meanwhile would leave them to the collector.
 * (Nothing is written to them after a refusal: the body filter stops
 * feeding the parser.)  Blobs already in the storage go with the pool.
 */

ngx_int_t
ngx_http_attachments_upload_answer(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up, ngx_int_t rc)
{
    json_t  *err;

    if (up->status == 0) {
        /* nginx's own refusal: client_max_body_size, a bad chunk, a timeout */
        if (rc != NGX_HTTP_REQUEST_ENTITY_TOO_LARGE) {
            return rc;
        }

        ngx_http_attachments_upload_refuse(up, rc, "body_too_large",
                                           "the body is over "
                                           "client_max_body_size");
    }

    if (up->phase != NGX_HTTP_ATTACHMENTS_FINISHING
        && up->phase != NGX_HTTP_ATTACHMENTS_STORED)
    {
        ngx_http_attachments_upload_remove(up);
    }

    /* the rest of the body is not read: no keepalive after it */
    r->keepalive = 0;
    r->lingering_close = 1;

    if (up->status == NGX_HTTP_SERVICE_UNAVAILABLE) {
        return ngx_http_attachments_send_unavailable(r);
    }

    err = json_pack("{s:s,s:s}", "code", up->code, "message",
                    up->message ? up->message : "");

    /* errors about one file name it */

    if (err && up->blob
        && (up->status == NGX_HTTP_UNSUPPORTED_MEDIA_TYPE
            || ngx_strcmp(up->code, "file_too_large") == 0))
    {
        json_object_set_new(err, "file",
                            json_stringn((char *) up->blob->name.data,
                                         up->blob->name.len));
    }

    return ngx_http_attachments_send_json(r, up->status,
                                          json_pack("{s:o}", "error", err));
}


void
ngx_http_attachments_upload_unavailable(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up)
{
    ngx_http_attachments_upload_refuse(up, NGX_HTTP_SERVICE_UNAVAILABLE,
                                       "unavailable",
                                       "the storage is unavailable");
    ngx_http_attachments_upload_abort(r, up);
}


void
ngx_http_attachments_upload_op(ngx_http_attachments_upload_t *up,
    ngx_http_attachments_blob_t *b,
    ngx_http_attachments_storage_handler_pt handler)
{
    ngx_memzero(&up->op, sizeof(ngx_http_attachments_storage_op_t));

    up->op.storage = up->storage;
    up->op.key = b->key;
    up->op.file = b->tmp;
    up->op.size = b->size;
    up->op.sha256 = b->sha256;
    up->op.log = up->request->connection->log;
    up->op.handler = handler;
    up->op.data = up;
}


/* nothing stays: blobs removed, then the pending rows; then the answer */

void
ngx_http_attachments_upload_abort(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up)
{
    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "attachments upload: aborting after phase %ui, %ui",
                   up->phase, up->status);

    up->phase = NGX_HTTP_ATTACHMENTS_ABORTING;

    if (up->lease.timer_set) {
        ngx_del_timer(&up->lease);
    }
    ngx_http_attachments_upload_remove(up);

    up->next = 0;
    ngx_http_attachments_upload_delete(r, up);
}


/* the blobs created are deleted one after the other, then the rows */

static void
ngx_http_attachments_upload_delete(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up)
{
    ngx_int_t                         rc;
    ngx_str_t                         ids;
    ngx_http_attachments_blob_t      *b;
    ngx_http_attachments_pg_query_t  *q;

    b = up->blobs.elts;

    for ( /* void */ ; up->next < up->blobs.nelts; up->next++) {

        if (!b[up->next].created) {
            continue;
        }

        ngx_http_attachments_upload_op(up, &b[up->next],
                                       ngx_http_attachments_upload_deleted);

        rc = ngx_http_attachments_storage_delete(r, &up->op);

        if (rc == NGX_AGAIN) {
            ngx_http_run_posted_requests(r->connection);
            return;
        }

        if (rc == NGX_OK) {
            b[up->next].created = 0;

        } else {
            up->kept = 1;
        }
    }

    if (up->kept) {
        /* the pending rows stay, so that the blobs are not forgotten */
        ngx_http_attachments_finish(r,
            ngx_http_attachments_upload_answer(r, up, up->status));
        return;
    }

    q = ngx_http_attachments_statement(r, up->ctx,
                                       &ngx_http_attachments_sql_abort,
                                       ngx_http_attachments_upload_aborted);
    if (q == NULL
        || ngx_http_attachments_upload_ids(r, up, &ids) != NGX_OK
        || ngx_http_attachments_pg_param(r->pool, q, &ids) != NGX_OK
        || ngx_http_attachments_run_through(r, q) != NGX_AGAIN)
    {
        /* the collector removes the pending rows */
        ngx_http_attachments_finish(r,
            ngx_http_attachments_upload_answer(r, up, up->status));
    }
}


static void
ngx_http_attachments_upload_deleted(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    ngx_http_attachments_blob_t    *b;
    ngx_http_attachments_upload_t  *up;

    up = op->data;
    b = (ngx_http_attachments_blob_t *) up->blobs.elts + up->next;

    if (ngx_http_attachments_op_done(op)
        || op->status == NGX_HTTP_NOT_FOUND)
    {
        b->created = 0;

    } else {
        up->kept = 1;
    }

    up->next++;

    ngx_http_attachments_upload_delete(r, up);
}


static void
ngx_http_attachments_upload_aborted(ngx_http_attachments_pg_query_t *q)
{
    ngx_http_request_t             *r;
    ngx_http_attachments_ctx_t     *ctx;
    ngx_http_attachments_upload_t  *up;

    r = q->data;
    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);
    up = ctx->upload;

    ngx_http_attachments_finish(r,
        ngx_http_attachments_upload_answer(r, up, up->status));
}


/* the ids as a PostgreSQL array literal: uuids need no quoting */

ngx_int_t
ngx_http_attachments_upload_ids(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up, ngx_str_t *ids)
{
    u_char                       *p;
    ngx_uint_t                    i;
    ngx_http_attachments_blob_t  *b;

    b = up->blobs.elts;

    ids->data = ngx_pnalloc(r->pool,
                            2 + up->blobs.nelts
                                * (NGX_HTTP_ATTACHMENTS_UUID_LEN + 1));
    if (ids->data == NULL) {
        return NGX_ERROR;
    }

    p = ids->data;
    *p++ = '{';

    for (i = 0; i < up->blobs.nelts; i++) {
        if (i) {
            *p++ = ',';
        }

        p = ngx_cpymem(p, b[i].id, NGX_HTTP_ATTACHMENTS_UUID_LEN);
    }

    *p++ = '}';
    ids->len = p - ids->data;

    return NGX_OK;
}


/* the temporary files, whatever became of the upload */

void
ngx_http_attachments_upload_remove(ngx_http_attachments_upload_t *up)
{
    ngx_uint_t                    i;
    ngx_http_attachments_blob_t  *b;

    b = up->blobs.elts;

    for (i = 0; i < up->blobs.nelts; i++) {
        if (b[i].fd != NGX_INVALID_FILE) {
            ngx_close_file(b[i].fd);
            b[i].fd = NGX_INVALID_FILE;
        }

        if (b[i].tmp.data && ngx_delete_file(b[i].tmp.data) == NGX_FILE_ERROR
            && ngx_errno != NGX_ENOENT)
        {
            ngx_log_error(NGX_LOG_CRIT, up->request->connection->log,
                          ngx_errno, ngx_delete_file_n " \"%V\" failed",
                          &b[i].tmp);
        }

        b[i].tmp.data = NULL;
    }
}


/*
 * The request ends with the upload unfinished (a client gone, a worker
 * exiting): blobs that can be deleted without a request are; the others
 * stay with their pending rows for the collector.
 */

void
ngx_http_attachments_upload_cleanup(void *data)
{
    ngx_http_attachments_upload_t  *up = data;

    ngx_uint_t                    i;
    ngx_http_attachments_blob_t  *b;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                   "attachments upload: request ends in phase %ui",
                   up->phase);

    if (up->lease.timer_set) {
        ngx_del_timer(&up->lease);
    }

    /* once finish_upload() was sent, the rows say whether blobs stay */

    if (up->phase != NGX_HTTP_ATTACHMENTS_FINISHING
        && up->phase != NGX_HTTP_ATTACHMENTS_STORED)
    {
        ngx_http_attachments_upload_remove(up);

        b = up->blobs.elts;

        for (i = 0; i < up->blobs.nelts; i++) {
            if (b[i].created) {
                ngx_http_attachments_upload_op(up, &b[i], NULL);
                up->op.log = ngx_cycle->log;
                (void) ngx_http_attachments_storage_delete(NULL, &up->op);
            }
        }
    }
}


/* every temporary of the upload still there is fresh again */

void
ngx_http_attachments_upload_touch(ngx_http_attachments_upload_t *up)
{
    ngx_uint_t                    i;
    ngx_http_attachments_blob_t  *b;

    b = up->blobs.elts;

    for (i = 0; i < up->blobs.nelts; i++) {
        if (b[i].fd != NGX_INVALID_FILE) {
            (void) futimens(b[i].fd, NULL);

        } else if (b[i].tmp.data) {
            (void) utimensat(AT_FDCWD, (char *) b[i].tmp.data, NULL, 0);
        }
    }
}
