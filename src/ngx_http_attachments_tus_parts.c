
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * A resumable upload into a storage that takes uploads in parts (s3) goes
 * up as it comes: once a request has counted its bytes, every whole part
 * of 8 MB not sent yet goes from the upload's .tus/ file to the store's
 * upload in parts (made with the first, under the key its file will
 * have), one after the other, each recorded in the upload's row before
 * the next.  The end sends the rest as the last part; the commit
 * completes the upload in parts instead of putting the file.  An upload
 * of one part or less is put whole at its end, as before.
 *
 * Parts are sent while the request holds the upload's lock; one that
 * fails is sent again by a later request, and meanwhile the bytes stay
 * counted in the .tus/ file, so a failure here never loses any.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_pg.h"
#include "ngx_http_attachments_sql.h"
#include "ngx_http_attachments_storage.h"
#include "ngx_http_attachments_request.h"
#include "ngx_http_attachments_upload.h"
#include "ngx_http_attachments_tus_store.h"
#include "ngx_http_attachments_tus_parts.h"


typedef struct {
    ngx_http_attachments_tus_parts_pt    done;
    ngx_uint_t                           all;
    ngx_uint_t                           status;   /* of a step that failed */
    unsigned                             clear:1;  /* abandoned: forget it */
    unsigned                             given_up:1;
    unsigned                             restarted:1;
} ngx_http_attachments_tus_parts_ctx_t;


/* an upload in parts handed over for completion waits so long to be
   aborted: a completion takes minutes at most */
#define NGX_HTTP_ATTACHMENTS_TUS_COMPLETING  3600


static ngx_int_t ngx_http_attachments_tus_parts_next(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t);
static void ngx_http_attachments_tus_parts_step(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t, ngx_int_t rc);
static void ngx_http_attachments_tus_parts_started(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
static void ngx_http_attachments_tus_parts_sent(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
static void ngx_http_attachments_tus_parts_recorded(
    ngx_http_attachments_pg_query_t *q);
static ngx_int_t ngx_http_attachments_tus_parts_record(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t, ngx_http_attachments_pg_stmt_t *stmt,
    ngx_str_t *a, ngx_str_t *b);
static ngx_int_t ngx_http_attachments_tus_parts_abandon(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t, ngx_uint_t clear);
static ngx_int_t ngx_http_attachments_tus_parts_copy(ngx_pool_t *pool,
    ngx_str_t *dst, ngx_str_t *src);


/* the row's key, upload in parts, ETags and file id (col to col + 3) */

ngx_int_t
ngx_http_attachments_tus_parts_row(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t, PGresult *res, int col)
{
    u_char     *p, *last, *space;
    ngx_str_t   v, *etag;

    v.data = (u_char *) PQgetvalue(res, 0, col);
    v.len = PQgetlength(res, 0, col);

    if (ngx_http_attachments_tus_parts_copy(r->pool, &t->store_key, &v)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    v.data = (u_char *) PQgetvalue(res, 0, col + 1);
    v.len = PQgetlength(res, 0, col + 1);

    if (ngx_http_attachments_tus_parts_copy(r->pool, &t->store_upload, &v)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    v.data = (u_char *) PQgetvalue(res, 0, col + 3);
    v.len = PQgetlength(res, 0, col + 3);

    if (ngx_http_attachments_tus_parts_copy(r->pool, &t->store_file, &v)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    p = (u_char *) PQgetvalue(res, 0, col + 2);
    last = p + PQgetlength(res, 0, col + 2);

    while (p < last) {
        space = ngx_strlchr(p, last, ' ');
        if (space == NULL) {
            space = last;
        }

        etag = ngx_array_push(&t->etags);
        if (etag == NULL) {
            return NGX_ERROR;
        }

        v.data = p;
        v.len = space - p;

        if (ngx_http_attachments_tus_parts_copy(r->pool, etag, &v) != NGX_OK) {
            return NGX_ERROR;
        }

        p = space + 1;
    }

    return NGX_OK;
}


/*
 * The parts due (all: every byte, the end), sent.  NGX_OK: none is due,
 * or the storage takes no parts; NGX_AGAIN: done() is called when they
 * are sent or one failed; NGX_ERROR.
 */

ngx_int_t
ngx_http_attachments_tus_parts(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t, ngx_uint_t all,
    ngx_http_attachments_tus_parts_pt done)
{
    ngx_http_attachments_tus_parts_ctx_t  *pc;

    if (t->up.storage->kind->multipart == NULL
        || (all && t->store_upload.len == 0
            && t->length <= NGX_HTTP_ATTACHMENTS_TUS_PART))
    {
        return NGX_OK;
    }

    pc = t->parts;

    if (pc == NULL) {
        pc = ngx_pcalloc(r->pool, sizeof(ngx_http_attachments_tus_parts_ctx_t));
        if (pc == NULL) {
            return NGX_ERROR;
        }

        t->parts = pc;
    }

    pc->done = done;
    pc->all = all;
    pc->status = 0;

    if (pc->given_up) {
        return NGX_OK;
    }

    return ngx_http_attachments_tus_parts_next(r, t);
}


/* the next step: the upload in parts made, or the next part sent */

static ngx_int_t
ngx_http_attachments_tus_parts_next(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t)
{
    off_t                                  at, size;
    ngx_int_t                              rc;
    ngx_http_attachments_storage_op_t     *op;
    ngx_http_attachments_tus_parts_ctx_t  *pc;

    pc = t->parts;
    at = (off_t) t->etags.nelts * NGX_HTTP_ATTACHMENTS_TUS_PART;
    size = ngx_min(t->offset - at, NGX_HTTP_ATTACHMENTS_TUS_PART);

    if (pc->given_up || size <= 0
        || (!pc->all && size < NGX_HTTP_ATTACHMENTS_TUS_PART))
    {
        return NGX_OK;
    }

    op = &t->up.op;
    ngx_memzero(op, sizeof(ngx_http_attachments_storage_op_t));

    op->storage = t->up.storage;
    op->log = r->connection->log;
    op->data = t;

    if (t->store_upload.len == 0) {

        /*
         * the key the file will have, of an id of its own: another upload
         * in parts (the first lost, or handed over to a completion that
         * failed) never meets what the first left under its key
         */

        if (ngx_http_attachments_receive_uuid(t->blob->id) != NGX_OK
            || ngx_http_attachments_upload_key(r, &t->up, t->conf, t->blob)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        t->store_key = t->blob->key;
        t->store_file.data = ngx_pnalloc(r->pool,
                                         NGX_HTTP_ATTACHMENTS_UUID_LEN);
        if (t->store_file.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(t->store_file.data, t->blob->id,
                   NGX_HTTP_ATTACHMENTS_UUID_LEN);
        t->store_file.len = NGX_HTTP_ATTACHMENTS_UUID_LEN;

        op->multipart = NGX_HTTP_ATTACHMENTS_MP_START;
        op->handler = ngx_http_attachments_tus_parts_started;

    } else {
        op->multipart = NGX_HTTP_ATTACHMENTS_MP_PART;
        op->upload_id = t->store_upload;
        op->part = t->etags.nelts + 1;
        op->file = t->data;
        op->offset = at;
        op->size = size;
        op->handler = ngx_http_attachments_tus_parts_sent;
    }

    op->key = t->store_key;

    rc = ngx_http_attachments_storage_multipart(r, op);

    if (rc == NGX_AGAIN) {
        ngx_http_run_posted_requests(r->connection);
        return NGX_AGAIN;
    }

    if (rc == NGX_OK) {
        op->handler(r, op);
        return NGX_AGAIN;
    }

    return NGX_ERROR;
}


/*
 * After a step's end: the next, or the caller's turn.  At the end, the
 * upload in parts is handed over to its completion (the row forgets it,
 * so that a retry never completes it twice), or, refused for good, given
 * up: the file goes whole.
 */

static void
ngx_http_attachments_tus_parts_step(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t, ngx_int_t rc)
{
    ngx_http_attachments_tus_parts_ctx_t  *pc;

    pc = t->parts;

    if (rc == NGX_OK) {
        rc = ngx_http_attachments_tus_parts_next(r, t);

        if (rc == NGX_AGAIN) {
            return;
        }
    }

    if (pc->all && !pc->given_up
        && (rc == NGX_OK ? t->store_upload.len != 0
                         : ((pc->status >= 400 && pc->status < 500)
                            || pc->status == NGX_HTTP_NOT_IMPLEMENTED)))
    {
        if (rc != NGX_OK) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "attachments: the store refused an upload in "
                          "parts of \"%V\" (%ui); sending the file whole",
                          &t->store_key, pc->status);
        }

        pc->given_up = 1;

        if (t->store_upload.len == 0) {
            /* refused its making: nothing to hand over */
            rc = NGX_OK;

        } else if (ngx_http_attachments_tus_parts_abandon(r, t, rc != NGX_OK)
                   == NGX_OK)
        {
            return;

        } else {
            rc = NGX_ERROR;
        }
    }

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "attachments: the resumable upload %*s: a part of "
                      "\"%V\" was not sent; the bytes wait on disk",
                      (size_t) NGX_HTTP_ATTACHMENTS_UUID_LEN, t->id,
                      &t->store_key);
    }

    pc->done(r, t, rc);
}


static void
ngx_http_attachments_tus_parts_started(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    ngx_http_attachments_tus_t  *t = op->data;

    if (!ngx_http_attachments_op_done(op)
        || ngx_http_attachments_tus_parts_copy(r->pool, &t->store_upload,
                                               &op->upload_id)
           != NGX_OK)
    {
        ((ngx_http_attachments_tus_parts_ctx_t *) t->parts)->status =
                                                                   op->status;
        ngx_str_null(&t->store_upload);
        ngx_http_attachments_tus_parts_step(r, t, NGX_ERROR);
        return;
    }

    /* recorded before any part is sent: an abort must know it */

    if (ngx_http_attachments_tus_parts_record(r, t,
            &ngx_http_attachments_sql_tus_multipart, &t->store_key,
            &t->store_upload)
        != NGX_OK)
    {
        ngx_http_attachments_tus_parts_step(r, t, NGX_ERROR);
    }
}


static void
ngx_http_attachments_tus_parts_sent(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    u_char                                *p;
    ngx_str_t                              n, *etag;
    ngx_http_attachments_tus_t            *t = op->data;
    ngx_http_attachments_tus_parts_ctx_t  *pc;

    pc = t->parts;
    pc->status = op->status;

    if (op->status == NGX_HTTP_NOT_FOUND && !pc->restarted) {
        /* the store lost the upload in parts: a new one, from the start,
           once a request */
        pc->restarted = 1;

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "attachments: the upload in parts of \"%V\" is gone; "
                      "starting another", &t->store_key);

        if (ngx_http_attachments_tus_parts_abandon(r, t, 1) != NGX_OK) {
            ngx_http_attachments_tus_parts_step(r, t, NGX_ERROR);
        }

        return;
    }

    if (!ngx_http_attachments_op_done(op) || op->etag.len == 0
        || ngx_strlchr(op->etag.data, op->etag.data + op->etag.len, ' '))
    {
        ngx_http_attachments_tus_parts_step(r, t, NGX_ERROR);
        return;
    }

    etag = ngx_array_push(&t->etags);
    p = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (etag == NULL || p == NULL
        || ngx_http_attachments_tus_parts_copy(r->pool, etag, &op->etag)
           != NGX_OK)
    {
        ngx_http_attachments_tus_parts_step(r, t, NGX_ERROR);
        return;
    }

    /* counted once the row has it */
    t->etags.nelts--;

    n.data = p;
    n.len = ngx_sprintf(p, "%ui", op->part) - p;

    if (ngx_http_attachments_tus_parts_record(r, t,
            &ngx_http_attachments_sql_tus_part, &n, etag)
        != NGX_OK)
    {
        ngx_http_attachments_tus_parts_step(r, t, NGX_ERROR);
    }
}


/*
 * stmt with the upload's id, a and b (and the storage's name), run whether
 * the client stays or not
 */

static ngx_int_t
ngx_http_attachments_tus_parts_record(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t, ngx_http_attachments_pg_stmt_t *stmt,
    ngx_str_t *a, ngx_str_t *b)
{
    ngx_str_t                         id;
    ngx_http_attachments_pg_query_t  *q;

    id.data = t->id;
    id.len = NGX_HTTP_ATTACHMENTS_UUID_LEN;

    q = ngx_http_attachments_statement(r, t->up.ctx, stmt,
                                       ngx_http_attachments_tus_parts_recorded);

    if (q == NULL
        || ngx_http_attachments_pg_param(r->pool, q, &id) != NGX_OK
        || ngx_http_attachments_pg_param(r->pool, q, a) != NGX_OK
        || ngx_http_attachments_pg_param(r->pool, q, b) != NGX_OK
        || (stmt == &ngx_http_attachments_sql_tus_multipart
            && (ngx_http_attachments_pg_param(r->pool, q,
                                              &t->up.storage->name)
                != NGX_OK
                || ngx_http_attachments_pg_param(r->pool, q, &t->store_file)
                   != NGX_OK)))
    {
        return NGX_ERROR;
    }

    return (ngx_http_attachments_run_through(r, q) == NGX_AGAIN)
           ? NGX_OK : NGX_ERROR;
}


/*
 * The row forgets its upload in parts, whose abort becomes the
 * collector's: at once (clear: lost, or refused for good; t forgets it
 * too), or once its completion had the time (t keeps it for that)
 */

static ngx_int_t
ngx_http_attachments_tus_parts_abandon(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t, ngx_uint_t clear)
{
    u_char                                *p;
    ngx_str_t                              id, wait;
    ngx_http_attachments_pg_query_t       *q;
    ngx_http_attachments_tus_parts_ctx_t  *pc;

    pc = t->parts;
    pc->clear = clear;

    p = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    wait.data = p;
    wait.len = ngx_sprintf(p, "%d", clear ? 0
                                    : NGX_HTTP_ATTACHMENTS_TUS_COMPLETING)
               - p;

    id.data = t->id;
    id.len = NGX_HTTP_ATTACHMENTS_UUID_LEN;

    q = ngx_http_attachments_statement(r, t->up.ctx,
                                       &ngx_http_attachments_sql_tus_abandon,
                                       ngx_http_attachments_tus_parts_recorded);

    if (q == NULL
        || ngx_http_attachments_pg_param(r->pool, q, &id) != NGX_OK
        || ngx_http_attachments_pg_param(r->pool, q, &t->store_upload)
           != NGX_OK
        || ngx_http_attachments_pg_param(r->pool, q, &t->store_key) != NGX_OK
        || ngx_http_attachments_pg_param(r->pool, q, &wait) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return (ngx_http_attachments_run_through(r, q) == NGX_AGAIN)
           ? NGX_OK : NGX_ERROR;
}


static void
ngx_http_attachments_tus_parts_recorded(ngx_http_attachments_pg_query_t *q)
{
    ngx_http_request_t                    *r;
    ngx_http_attachments_tus_t            *t;
    ngx_http_attachments_tus_parts_ctx_t  *pc;

    r = q->data;
    t = ngx_http_attachments_tus_get(r);
    pc = t->parts;

    if (q->stmt == &ngx_http_attachments_sql_tus_abandon) {
        if (ngx_http_attachments_result(r, q, 1) != 0) {
            ngx_http_attachments_tus_parts_step(r, t, NGX_ERROR);
            return;
        }

        if (pc->clear) {
            ngx_str_null(&t->store_upload);
            ngx_str_null(&t->store_key);
            ngx_str_null(&t->store_file);
            t->etags.nelts = 0;
        }

        ngx_http_attachments_tus_parts_step(r, t, NGX_OK);
        return;
    }

    if (ngx_http_attachments_result(r, q, 1) != 0) {
        /* not the upload's (ended meanwhile): the collector aborts it */
        if (q->stmt == &ngx_http_attachments_sql_tus_multipart) {
            ngx_str_null(&t->store_upload);
        }

        ngx_http_attachments_tus_parts_step(r, t, NGX_ERROR);
        return;
    }

    if (q->stmt == &ngx_http_attachments_sql_tus_part) {
        t->etags.nelts++;
    }

    ngx_http_attachments_tus_parts_step(r, t, NGX_OK);
}


static ngx_int_t
ngx_http_attachments_tus_parts_copy(ngx_pool_t *pool, ngx_str_t *dst,
    ngx_str_t *src)
{
    dst->len = src->len;

    if (src->len == 0) {
        dst->data = NULL;
        return NGX_OK;
    }

    dst->data = ngx_pstrdup(pool, src);

    return dst->data ? NGX_OK : NGX_ERROR;
}
