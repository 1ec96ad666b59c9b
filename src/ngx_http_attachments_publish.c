
/*
 * POST …/files/{id}/publish: a private file moves to its storage's public
 * area ("public/" under the root, served unsigned from the storage's
 * public= prefix) and counts against its organization only.
 *
 * The blob is linked under its public key first, the row changed second,
 * the private name removed last: a crash in between leaves a second name
 * of the blob, never a row without one.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_module.h"
#include "ngx_http_attachments_json.h"
#include "ngx_http_attachments_sql.h"
#include "ngx_http_attachments_api.h"


#define NGX_HTTP_ATTACHMENTS_PUBLIC  "public/"


typedef struct {
    ngx_http_attachments_storage_t  *storage;
    ngx_str_t                        key;
    ngx_str_t                        public_key;
    ngx_str_t                        path;
    ngx_str_t                        public_path;
} ngx_http_attachments_publish_t;


static void ngx_http_attachments_publish_checked(
    ngx_http_attachments_pg_query_t *q);
static void ngx_http_attachments_publish_done(
    ngx_http_attachments_pg_query_t *q);
static ngx_int_t ngx_http_attachments_publish_path(ngx_http_request_t *r,
    ngx_http_attachments_storage_t *storage, ngx_str_t *key, ngx_str_t *path);


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
    ngx_str_t                          name;
    PGresult                          *res;
    ngx_http_request_t                *r;
    ngx_http_attachments_ctx_t        *ctx;
    ngx_http_attachments_publish_t    *pb;
    ngx_http_attachments_pg_query_t   *next;

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
            ngx_http_attachments_send_json(r, NGX_HTTP_OK,
                ngx_http_attachments_file_json(r, ctx, res, 0)));
        return;
    }

    if (PQgetvalue(res, 0, NGX_HTTP_ATTACHMENTS_COLS)[0] == 't') {
        ngx_http_attachments_finish(r,
            ngx_http_attachments_send_error(r, 507, "quota_exceeded",
                "the organization is over its quota"));
        return;
    }

    pb = ngx_pcalloc(r->pool, sizeof(ngx_http_attachments_publish_t));
    if (pb == NULL) {
        ngx_http_attachments_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    name.data = (u_char *) PQgetvalue(res, 0, NGX_HTTP_ATTACHMENTS_COL_STORAGE);
    name.len = ngx_strlen(name.data);
    pb->storage = ngx_http_attachments_storage_by_name(r, &name);

    if (pb->storage == NULL || pb->storage->public.len == 0) {
        ngx_http_attachments_finish(r,
            ngx_http_attachments_send_error(r, NGX_HTTP_CONFLICT,
                "no_public_area",
                "the file's storage has no public= area"));
        return;
    }

    pb->key.data = (u_char *) PQgetvalue(res, 0,
                                         NGX_HTTP_ATTACHMENTS_COL_STORAGE_KEY);
    pb->key.len = ngx_strlen(pb->key.data);

    pb->public_key.len = sizeof(NGX_HTTP_ATTACHMENTS_PUBLIC) - 1
                         + pb->key.len;
    pb->public_key.data = ngx_pnalloc(r->pool, pb->public_key.len);

    if (pb->public_key.data == NULL
        || ngx_http_attachments_publish_path(r, pb->storage, &pb->key,
                                             &pb->path) != NGX_OK)
    {
        ngx_http_attachments_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_memcpy(ngx_cpymem(pb->public_key.data, NGX_HTTP_ATTACHMENTS_PUBLIC,
                          sizeof(NGX_HTTP_ATTACHMENTS_PUBLIC) - 1),
               pb->key.data, pb->key.len);

    if (ngx_http_attachments_publish_path(r, pb->storage, &pb->public_key,
                                          &pb->public_path) != NGX_OK)
    {
        ngx_http_attachments_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    next = ngx_http_attachments_file_statement(r, ctx,
                                           &ngx_http_attachments_sql_publish,
                                           ngx_http_attachments_publish_done);
    if (next == NULL
        || ngx_http_attachments_pg_param(r->pool, next, &pb->key) != NGX_OK
        || ngx_http_attachments_pg_param(r->pool, next, &pb->public_key)
           != NGX_OK)
    {
        ngx_http_attachments_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* a second name first: the row can only ever point at a blob */

    if (ngx_create_full_path(pb->public_path.data, 0755) != 0
        || (link((char *) pb->path.data, (char *) pb->public_path.data) == -1
            && ngx_errno != NGX_EEXIST))
    {
        ngx_log_error(NGX_LOG_CRIT, r->connection->log, ngx_errno,
                      "attachments: link() \"%V\" to \"%V\" failed",
                      &pb->path, &pb->public_path);
        ngx_http_attachments_finish(r,
            ngx_http_attachments_refused(r, NGX_HTTP_SERVICE_UNAVAILABLE));
        return;
    }

    ctx->publish = pb;

    /* the move is finished whether the client stays or not */

    if (ngx_http_attachments_run_through(r, next) != NGX_AGAIN) {
        /* not published: the second name goes */
        (void) ngx_delete_file(pb->public_path.data);
        ngx_http_attachments_finish(r,
            ngx_http_attachments_refused(r, NGX_HTTP_SERVICE_UNAVAILABLE));
    }
}


static void
ngx_http_attachments_publish_done(ngx_http_attachments_pg_query_t *q)
{
    ngx_uint_t                       status;
    ngx_http_request_t              *r;
    ngx_http_attachments_ctx_t      *ctx;
    ngx_http_attachments_publish_t  *pb;

    r = q->data;
    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);
    pb = ctx->publish;

    status = ngx_http_attachments_result(r, q, 1);

    if (status == NGX_HTTP_SERVICE_UNAVAILABLE) {
        /* committed or not, nobody knows: both names stay */
        ngx_http_attachments_finish(r, ngx_http_attachments_refused(r, status));
        return;
    }

    if (status) {
        /* not published: the second name goes */
        (void) ngx_delete_file(pb->public_path.data);

        ngx_http_attachments_finish(r, status == NGX_HTTP_NOT_FOUND
            ? ngx_http_attachments_send_error(r, NGX_HTTP_CONFLICT,
                  "conflict", "the file changed meanwhile")
            : ngx_http_attachments_refused(r, status));
        return;
    }

    if (ngx_delete_file(pb->path.data) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, ngx_errno,
                      ngx_delete_file_n " \"%V\" failed", &pb->path);
    }

    ngx_http_attachments_finish(r,
        ngx_http_attachments_send_json(r, NGX_HTTP_OK,
            ngx_http_attachments_file_json(r, ctx, q->result, 0)));
}


static ngx_int_t
ngx_http_attachments_publish_path(ngx_http_request_t *r,
    ngx_http_attachments_storage_t *storage, ngx_str_t *key, ngx_str_t *path)
{
    u_char  *p;

    if (!ngx_http_attachments_key_safe(key->data, key->len)) {
        return NGX_ERROR;
    }

    path->len = storage->root.len + 1 + key->len;
    path->data = ngx_pnalloc(r->pool, path->len + 1);
    if (path->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(path->data, storage->root.data, storage->root.len);
    *p++ = '/';
    p = ngx_cpymem(p, key->data, key->len);
    *p = '\0';

    return NGX_OK;
}
