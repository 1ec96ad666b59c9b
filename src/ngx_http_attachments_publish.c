
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * POST .../files/{id}/publish: a private file moves to its storage's
 * public area (served unsigned from the storage's public= prefix) and
 * counts against its organization only.
 *
 * The storage gives the blob its public name first, the row changes
 * second, the private name goes last: a crash in between leaves a second
 * name of the blob, never a row without one.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_json.h"
#include "ngx_http_attachments_sql.h"
#include "ngx_http_attachments_storage.h"
#include "ngx_http_attachments_module.h"
#include "ngx_http_attachments_request.h"
#include "ngx_http_attachments_object.h"
#include "ngx_http_attachments_publish.h"


/* a publish under way: the link it asked for, and how its update ended */
typedef struct {
    ngx_http_attachments_storage_op_t   op;
    ngx_uint_t                          status;
} ngx_http_attachments_publish_t;


static void ngx_http_attachments_publish_checked(
    ngx_http_attachments_pg_query_t *q);
static void ngx_http_attachments_publish_linked(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
static void ngx_http_attachments_publish_done(
    ngx_http_attachments_pg_query_t *q);
static void ngx_http_attachments_publish_rechecked(
    ngx_http_attachments_pg_query_t *q);
static void ngx_http_attachments_publish_drop(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op, ngx_str_t *key);
static void ngx_http_attachments_publish_nothing(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);


ngx_int_t
ngx_http_attachments_publish(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx)
{
    return ngx_http_attachments_run(r,
               ngx_http_attachments_file_statement(r, ctx,
                   &ngx_http_attachments_sql_publish_check,
                   ngx_http_attachments_publish_checked));
}


static void
ngx_http_attachments_publish_checked(ngx_http_attachments_pg_query_t *q)
{
    ngx_int_t                           rc;
    ngx_str_t                           name;
    PGresult                           *res;
    ngx_http_request_t                 *r;
    ngx_http_attachments_ctx_t         *ctx;
    ngx_http_attachments_publish_t     *pb;
    ngx_http_attachments_storage_t     *storage;
    ngx_http_attachments_storage_op_t  *op;

    r = q->data;
    res = q->result;
    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);

    if (ngx_http_attachments_failed(r, q, 1)) {
        return;
    }

    if (ngx_strcmp(PQgetvalue(res, 0, NGX_HTTP_ATTACHMENTS_COL_VISIBILITY),
                   "public") == 0)
    {
        /* already: the answer is the same */
        ngx_http_attachments_finish(r,
            ngx_http_attachments_send_file(r, ctx, NGX_HTTP_OK, res, 0));
        return;
    }

    if (PQgetvalue(res, 0, NGX_HTTP_ATTACHMENTS_COLS)[0] == 't') {
        ngx_http_attachments_finish(r,
            ngx_http_attachments_send_error(r,
                NGX_HTTP_ATTACHMENTS_INSUFFICIENT_STORAGE, "quota_exceeded",
                "the organization is over its quota"));
        return;
    }

    name.data = (u_char *) PQgetvalue(res, 0, NGX_HTTP_ATTACHMENTS_COL_STORAGE);
    name.len = ngx_strlen(name.data);
    storage = ngx_http_attachments_storage_by_name(r, &name);

    if (storage == NULL || storage->public.len == 0) {
        ngx_http_attachments_finish(r,
            ngx_http_attachments_send_error(r, NGX_HTTP_CONFLICT,
                "no_public_area",
                "the file's storage has no public= area"));
        return;
    }

    pb = ngx_pcalloc(r->pool, sizeof(ngx_http_attachments_publish_t));
    if (pb == NULL) {
        ngx_http_attachments_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    op = &pb->op;

    op->storage = storage;
    op->log = r->connection->log;
    op->handler = ngx_http_attachments_publish_linked;
    /* a copy: the row goes with the next statement's result */

    op->key.data = (u_char *) PQgetvalue(res, 0,
                                         NGX_HTTP_ATTACHMENTS_COL_STORAGE_KEY);
    op->key.len = ngx_strlen(op->key.data);
    op->key.data = ngx_pstrdup(r->pool, &op->key);

    if (op->key.data == NULL
        || ngx_http_attachments_storage_public_key(r->pool, &op->key,
                                                   &op->target)
           != NGX_OK)
    {
        ngx_http_attachments_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ctx->publish = pb;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "attachments publish: \"%V\" as \"%V\"",
                   &op->key, &op->target);

    /* a second name first: the row can only ever point at a blob */

    rc = ngx_http_attachments_storage_publish(r, op);

    if (rc == NGX_AGAIN) {
        ngx_http_run_posted_requests(r->connection);
        return;
    }

    if (rc == NGX_OK) {
        ngx_http_attachments_publish_linked(r, op);
        return;
    }

    ngx_http_attachments_finish(r,
        ngx_http_attachments_refused(r, rc == NGX_DECLINED
                                        ? NGX_HTTP_SERVICE_UNAVAILABLE
                                        : NGX_HTTP_INTERNAL_SERVER_ERROR));
}


/* the blob has its public name: the row follows */

static void
ngx_http_attachments_publish_linked(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    ngx_http_attachments_ctx_t       *ctx;
    ngx_http_attachments_pg_query_t  *next;

    if (op->status == NGX_HTTP_CONFLICT) {
        ngx_http_attachments_finish(r,
            ngx_http_attachments_send_error(r, NGX_HTTP_CONFLICT, "conflict",
                "another file has the public name of this one"));
        return;
    }

    if (!ngx_http_attachments_op_done(op)) {
        /* a blob missing under its row is no passing trouble */
        ngx_http_attachments_finish(r,
            ngx_http_attachments_refused(r, op->status == NGX_HTTP_NOT_FOUND
                                            ? NGX_HTTP_INTERNAL_SERVER_ERROR
                                            : NGX_HTTP_SERVICE_UNAVAILABLE));
        return;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);

    next = ngx_http_attachments_file_statement(r, ctx,
                                           &ngx_http_attachments_sql_publish,
                                           ngx_http_attachments_publish_done);

    /* the move is finished whether the client stays or not */

    if (next == NULL
        || ngx_http_attachments_pg_param(r->pool, next, &op->key) != NGX_OK
        || ngx_http_attachments_pg_param(r->pool, next, &op->target)
           != NGX_OK
        || ngx_http_attachments_run_through(r, next) != NGX_AGAIN)
    {
        /* not published: a second name this request made goes */
        if (!op->existed) {
            ngx_http_attachments_publish_drop(r, op, &op->target);
        }

        ngx_http_attachments_finish(r,
            ngx_http_attachments_refused(r, next
                                            ? NGX_HTTP_SERVICE_UNAVAILABLE
                                            : NGX_HTTP_INTERNAL_SERVER_ERROR));
    }
}


static void
ngx_http_attachments_publish_done(ngx_http_attachments_pg_query_t *q)
{
    ngx_uint_t                          status;
    ngx_http_request_t                 *r;
    ngx_http_attachments_ctx_t         *ctx;
    ngx_http_attachments_publish_t     *pb;
    ngx_http_attachments_pg_query_t    *next;

    r = q->data;
    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);
    pb = ctx->publish;

    status = ngx_http_attachments_result(r, q, 1);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "attachments publish: statement answered, %ui", status);

    if (status == NGX_HTTP_SERVICE_UNAVAILABLE) {
        /* committed or not, nobody knows: both names stay */
        ngx_http_attachments_finish(r, ngx_http_attachments_refused(r, status));
        return;
    }

    if (status == 0) {
        /* published by this request: the private name goes */
        ngx_http_attachments_publish_drop(r, &pb->op, &pb->op.key);

        ngx_http_attachments_finish(r,
            ngx_http_attachments_send_file(r, ctx, NGX_HTTP_OK, q->result, 0));
        return;
    }

    /*
     * Not by this request: another publish of the file may have won, the
     * file may have gone, or a row may hold the public key.  A fresh look
     * decides what the answer is and whether the public name may go.
     */

    pb->status = status;

    next = ngx_http_attachments_file_statement(r, ctx,
                                   &ngx_http_attachments_sql_publish_recheck,
                                   ngx_http_attachments_publish_rechecked);

    if (next == NULL
        || ngx_http_attachments_pg_param(r->pool, next, &pb->op.target)
           != NGX_OK
        || ngx_http_attachments_pg_param(r->pool, next, &pb->op.storage->name)
           != NGX_OK
        || ngx_http_attachments_run_through(r, next) != NGX_AGAIN)
    {
        /* unknown: the public name stays, for fsck or a retry to settle */
        ngx_http_attachments_finish(r,
            ngx_http_attachments_refused(r, NGX_HTTP_SERVICE_UNAVAILABLE));
    }
}


static void
ngx_http_attachments_publish_rechecked(ngx_http_attachments_pg_query_t *q)
{
    char                            *key;
    PGresult                        *res;
    ngx_uint_t                       status;
    ngx_http_request_t              *r;
    ngx_http_attachments_ctx_t      *ctx;
    ngx_http_attachments_publish_t  *pb;

    r = q->data;
    res = q->result;
    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);
    pb = ctx->publish;

    status = ngx_http_attachments_result(r, q, 1);

    if (status) {
        ngx_http_attachments_finish(r,
            ngx_http_attachments_refused(r, NGX_HTTP_SERVICE_UNAVAILABLE));
        return;
    }

    key = PQgetvalue(res, 0, NGX_HTTP_ATTACHMENTS_COL_STORAGE_KEY);

    if (!PQgetisnull(res, 0, NGX_HTTP_ATTACHMENTS_COL_ID)
        && ngx_strcmp(PQgetvalue(res, 0, NGX_HTTP_ATTACHMENTS_COL_VISIBILITY),
                      "public") == 0
        && ngx_strlen(key) == pb->op.target.len
        && ngx_strncmp(key, pb->op.target.data, pb->op.target.len) == 0)
    {
        /* a concurrent publish of the same file did it: the same answer */
        ngx_http_attachments_finish(r,
            ngx_http_attachments_send_file(r, ctx, NGX_HTTP_OK, res, 0));
        return;
    }

    /* a second name no row refers to, made by this request, goes */

    if (!pb->op.existed
        && PQgetvalue(res, 0, NGX_HTTP_ATTACHMENTS_COLS)[0] == 'f')
    {
        ngx_http_attachments_publish_drop(r, &pb->op, &pb->op.target);
    }

    ngx_http_attachments_finish(r, pb->status == NGX_HTTP_NOT_FOUND
        ? ngx_http_attachments_send_error(r, NGX_HTTP_CONFLICT,
              "conflict", "the file changed meanwhile")
        : ngx_http_attachments_refused(r, pb->status));
}


/*
 * The name of the blob that is not needed any more: done at once (local),
 * or left for the collector's reconciliation where it cannot be.
 */

static void
ngx_http_attachments_publish_drop(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op, ngx_str_t *key)
{
    op->key = *key;
    op->handler = ngx_http_attachments_publish_nothing;

    (void) ngx_http_attachments_storage_delete(NULL, op);
}


static void
ngx_http_attachments_publish_nothing(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
}
