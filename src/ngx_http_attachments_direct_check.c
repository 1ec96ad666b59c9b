
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * A direct upload confirmed or cancelled (docs/uploads.md): the object
 * checked through the storage (its size and SHA-256 by a HEAD, and the
 * store's checksum or a GET hashed as it passes; its type sniffed from its
 * first bytes), then the file ready; a failed check, or a cancellation,
 * ends the upload first and deletes the object only if it did.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <openssl/evp.h>

#include "ngx_http_attachments_json.h"
#include "ngx_http_attachments_pg.h"
#include "ngx_http_attachments_sql.h"
#include "ngx_http_attachments_storage.h"
#include "ngx_http_attachments_module.h"
#include "ngx_http_attachments_request.h"
#include "ngx_http_attachments_object.h"
#include "ngx_http_attachments_receive.h"
#include "ngx_http_attachments_upload.h"
#include "ngx_http_attachments_direct_check.h"


static void ngx_http_attachments_direct_checked(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
static void ngx_http_attachments_direct_read(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
static void ngx_http_attachments_direct_finished(
    ngx_http_attachments_pg_query_t *q);
static void ngx_http_attachments_direct_failed(ngx_http_request_t *r,
    ngx_http_attachments_direct_t *d, ngx_uint_t status, const char *code,
    const char *message);
static void ngx_http_attachments_direct_ended(
    ngx_http_attachments_pg_query_t *q);
static void ngx_http_attachments_direct_deleted(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
static void ngx_http_attachments_direct_start(ngx_http_request_t *r,
    ngx_http_attachments_direct_t *d, ngx_uint_t method,
    ngx_http_attachments_storage_handler_pt handler);


/* the SHA-256 as the store takes and tells it: base64 of the 32 bytes */

ngx_int_t
ngx_http_attachments_direct_checksum(ngx_http_request_t *r,
    ngx_http_attachments_direct_t *d)
{
    ngx_str_t                     raw;
    ngx_uint_t                    i;
    ngx_http_attachments_blob_t  *b;

    b = d->up.blobs.elts;

    raw.data = ngx_pnalloc(r->pool, 32);
    d->checksum.data = ngx_pnalloc(r->pool, ngx_base64_encoded_length(32));
    if (raw.data == NULL || d->checksum.data == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < 32; i++) {
        raw.data[i] = (u_char) ngx_hextoi(b->sha256 + 2 * i, 2);
    }

    raw.len = 32;
    ngx_encode_base64(&d->checksum, &raw);

    return NGX_OK;
}


/* a confirmation: the caller's own upload, on this record, or 404 */

void
ngx_http_attachments_direct_got(ngx_http_attachments_pg_query_t *q)
{
    ngx_str_t                          name, v;
    ngx_http_request_t                *r;
    ngx_http_attachments_ctx_t        *ctx;
    ngx_http_attachments_blob_t       *b;
    ngx_http_attachments_direct_t     *d;
    ngx_http_attachments_main_conf_t  *amcf;

    r = q->data;
    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_attachments_module);
    d = ctx->direct;
    b = d->up.blobs.elts;

    if (ngx_http_attachments_failed(r, q, 1)) {
        return;
    }

    name.data = (u_char *) PQgetvalue(q->result, 0, 0);
    name.len = PQgetlength(q->result, 0, 0);

    d->up.storage = ngx_http_attachments_storage_lookup(&amcf->storages,
                                                        &name);

    if (d->up.storage == NULL || PQgetlength(q->result, 0, 3) != 64) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "attachments: direct upload %V: storage \"%V\" is not "
                      "configured", &d->id, &name);
        ngx_http_attachments_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_memcpy(b->id, d->id.data, NGX_HTTP_ATTACHMENTS_UUID_LEN);
    ngx_memcpy(b->sha256, PQgetvalue(q->result, 0, 3), 64);

    b->size = ngx_atoof((u_char *) PQgetvalue(q->result, 0, 2),
                        PQgetlength(q->result, 0, 2));

    v.data = (u_char *) PQgetvalue(q->result, 0, 1);
    v.len = PQgetlength(q->result, 0, 1);
    b->key.data = ngx_pstrdup(r->pool, &v);
    b->key.len = v.len;

    v.data = (u_char *) PQgetvalue(q->result, 0, 4);
    v.len = PQgetlength(q->result, 0, 4);
    b->name.data = ngx_pstrdup(r->pool, &v);
    b->name.len = v.len;

    v.data = (u_char *) PQgetvalue(q->result, 0, 5);
    v.len = PQgetlength(q->result, 0, 5);
    b->declared.data = ngx_pstrdup(r->pool, &v);
    b->declared.len = v.len;

    if (b->key.data == NULL || b->name.data == NULL
        || (v.len && b->declared.data == NULL)
        || ngx_http_attachments_direct_checksum(r, d) != NGX_OK)
    {
        ngx_http_attachments_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* the store's own checksum, where it keeps one, spares a full read */

    d->op.checksum = 1;

    ngx_http_attachments_direct_start(r, d, NGX_HTTP_HEAD,
                                      ngx_http_attachments_direct_checked);
}


static void
ngx_http_attachments_direct_checked(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    ngx_http_attachments_blob_t    *b;
    ngx_http_attachments_direct_t  *d;

    d = op->data;
    b = d->up.blobs.elts;

    if (op->status == NGX_HTTP_NOT_FOUND) {
        ngx_http_attachments_finish(r,
            ngx_http_attachments_send_error(r, NGX_HTTP_CONFLICT,
                "not_uploaded", "nothing was PUT to the upload URL yet"));
        return;
    }

    if (!ngx_http_attachments_op_done(op)) {
        ngx_http_attachments_finish(r,
                                    ngx_http_attachments_send_unavailable(r));
        return;
    }

    if (op->length != b->size) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "attachments: direct upload %V is %O bytes, not %O",
                      &d->id, op->length, b->size);
        ngx_http_attachments_direct_failed(r, d,
            NGX_HTTP_ATTACHMENTS_UNPROCESSABLE, "size_mismatch",
            "the object is not of the size announced");
        return;
    }

    if (op->stored.len
        && (op->stored.len != d->checksum.len
            || ngx_strncmp(op->stored.data, d->checksum.data,
                           d->checksum.len) != 0))
    {
        ngx_http_attachments_direct_failed(r, d,
            NGX_HTTP_ATTACHMENTS_UNPROCESSABLE, "checksum_mismatch",
            "the object's SHA-256 is not the one announced");
        return;
    }

    d->op.head.data = d->head;
    d->op.head_size = NGX_HTTP_ATTACHMENTS_SNIFF;

    if (op->stored.len) {
        d->op.range = NGX_HTTP_ATTACHMENTS_SNIFF;

    } else {
        /* a store that keeps no checksum: every byte is read and hashed */

        d->sha = EVP_MD_CTX_new();
        if (d->sha == NULL
            || EVP_DigestInit_ex(d->sha, EVP_sha256(), NULL) != 1)
        {
            ngx_http_attachments_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        d->op.sha = d->sha;
    }

    ngx_http_attachments_direct_start(r, d, NGX_HTTP_GET,
                                      ngx_http_attachments_direct_read);
}


static void
ngx_http_attachments_direct_read(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    u_char                          md[EVP_MAX_MD_SIZE], hex[64];
    ngx_int_t                       rc;
    ngx_str_t                      *params[2];
    unsigned int                    n;
    ngx_http_attachments_blob_t    *b;
    ngx_http_attachments_direct_t  *d;

    d = op->data;
    b = d->up.blobs.elts;

    if (op->status == NGX_HTTP_NOT_FOUND) {
        /* there at the HEAD: the upload was cancelled meanwhile */
        ngx_http_attachments_finish(r,
            ngx_http_attachments_send_error(r, NGX_HTTP_CONFLICT, "conflict",
                "the upload was confirmed, cancelled or expired meanwhile"));
        return;
    }

    if (!ngx_http_attachments_op_done(op)) {
        ngx_http_attachments_finish(r,
                                    ngx_http_attachments_send_unavailable(r));
        return;
    }

    if (d->sha) {
        if (EVP_DigestFinal_ex(d->sha, md, &n) != 1) {
            ngx_http_attachments_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ngx_hex_dump(hex, md, 32);

        if (op->received != b->size) {
            ngx_http_attachments_direct_failed(r, d,
                NGX_HTTP_ATTACHMENTS_UNPROCESSABLE, "size_mismatch",
                "the object is not of the size announced");
            return;
        }

        if (ngx_memcmp(hex, b->sha256, 64) != 0) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "attachments: direct upload %V has SHA-256 %*s",
                          &d->id, (size_t) 64, hex);
            ngx_http_attachments_direct_failed(r, d,
                NGX_HTTP_ATTACHMENTS_UNPROCESSABLE, "checksum_mismatch",
                "the object's SHA-256 is not the one announced");
            return;
        }
    }

    /* the bytes are the ones announced: their type is what is left */

    if (ngx_http_attachments_receive_type(&d->up, d->conf,
                                          ngx_http_attachments_upload_magic(r),
                                          b, op->head.data, op->head.len)
        != NGX_OK)
    {
        if (d->up.status == 0) {
            ngx_http_attachments_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ngx_http_attachments_direct_failed(r, d, d->up.status, d->up.code,
                                           d->up.message);
        return;
    }

    params[0] = &d->id;
    params[1] = &b->type;

    rc = ngx_http_attachments_run_params(r, d->up.ctx,
                                    &ngx_http_attachments_sql_finish_direct,
                                    ngx_http_attachments_direct_finished,
                                    params, 2);
    if (rc != NGX_AGAIN) {
        ngx_http_attachments_finish(r, rc);
    }
}


static void
ngx_http_attachments_direct_finished(ngx_http_attachments_pg_query_t *q)
{
    int                             n;
    char                           *verdict;
    ngx_http_request_t             *r;
    ngx_http_attachments_ctx_t     *ctx;

    r = q->data;
    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);

    if (ngx_http_attachments_failed(r, q, 0)) {
        return;
    }

    n = PQntuples(q->result);
    verdict = n ? PQgetvalue(q->result, 0, NGX_HTTP_ATTACHMENTS_COLS) : "";

    if (ngx_strcmp(verdict, "ok") == 0) {
        ngx_http_attachments_finish(r,
            ngx_http_attachments_send_files(r, ctx, NGX_HTTP_CREATED,
                                            q->result, n));
        return;
    }

    /* the upload and its object stay: freed space lets it be confirmed */

    if (ngx_strcmp(verdict, "organization") == 0
        || ngx_strcmp(verdict, "user") == 0)
    {
        ngx_http_attachments_finish(r,
            ngx_http_attachments_send_error(r,
                NGX_HTTP_ATTACHMENTS_INSUFFICIENT_STORAGE, "quota_exceeded",
                verdict[0] == 'u'
                ? "the upload does not fit the user's quota"
                : "the upload does not fit the organization's quota"));
        return;
    }

    ngx_http_attachments_finish(r,
        ngx_http_attachments_send_error(r, NGX_HTTP_CONFLICT, "conflict",
            "the upload was confirmed, cancelled or expired meanwhile"));
}


/*
 * A failed check, or a DELETE (status 204): the upload ends first, and
 * only the request that ended it deletes the object, so that an upload
 * confirmed meanwhile keeps it.  The file's pending row stays behind as
 * the key's guard until the collector's turn.
 */

ngx_int_t
ngx_http_attachments_direct_fail(ngx_http_request_t *r,
    ngx_http_attachments_direct_t *d, ngx_uint_t status, const char *code,
    const char *message)
{
    ngx_str_t  *params[1];

    d->up.status = 0;
    (void) ngx_http_attachments_upload_refuse(&d->up, status, code, message);

    params[0] = &d->id;

    return ngx_http_attachments_run_params(r, d->up.ctx,
                                           &ngx_http_attachments_sql_direct_end,
                                           ngx_http_attachments_direct_ended,
                                           params, 1);
}


/* as ngx_http_attachments_direct_fail(), from a handler */

static void
ngx_http_attachments_direct_failed(ngx_http_request_t *r,
    ngx_http_attachments_direct_t *d, ngx_uint_t status, const char *code,
    const char *message)
{
    ngx_int_t  rc;

    rc = ngx_http_attachments_direct_fail(r, d, status, code, message);

    if (rc != NGX_AGAIN) {
        ngx_http_attachments_finish(r, rc);
    }
}


static void
ngx_http_attachments_direct_ended(ngx_http_attachments_pg_query_t *q)
{
    ngx_str_t                          name, key;
    ngx_http_request_t                *r;
    ngx_http_attachments_ctx_t        *ctx;
    ngx_http_attachments_blob_t       *b;
    ngx_http_attachments_direct_t     *d;
    ngx_http_attachments_main_conf_t  *amcf;

    r = q->data;
    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_attachments_module);
    d = ctx->direct;
    b = d->up.blobs.elts;

    if (ngx_http_attachments_failed(r, q, 0)) {
        return;
    }

    if (PQntuples(q->result) == 0) {
        ngx_http_attachments_finish(r,
            d->up.status == NGX_HTTP_NO_CONTENT
            ? ngx_http_attachments_refused(r, NGX_HTTP_NOT_FOUND)
            : ngx_http_attachments_send_error(r, NGX_HTTP_CONFLICT,
                  "conflict",
                  "the upload was confirmed, cancelled or expired "
                  "meanwhile"));
        return;
    }

    name.data = (u_char *) PQgetvalue(q->result, 0, 0);
    name.len = PQgetlength(q->result, 0, 0);
    key.data = (u_char *) PQgetvalue(q->result, 0, 1);
    key.len = PQgetlength(q->result, 0, 1);

    d->up.storage = ngx_http_attachments_storage_lookup(&amcf->storages,
                                                        &name);

    if (d->up.storage == NULL || key.len == 0) {
        /* no object to delete: the collector took the row already */
        ngx_http_attachments_direct_deleted(r, NULL);
        return;
    }

    b->key.data = ngx_pstrdup(r->pool, &key);
    b->key.len = key.len;

    if (b->key.data == NULL) {
        ngx_http_attachments_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_attachments_direct_start(r, d, NGX_HTTP_DELETE,
                                      ngx_http_attachments_direct_deleted);
}


/* the upload is over whatever the store said: the collector tries again */

static void
ngx_http_attachments_direct_deleted(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    ngx_http_attachments_ctx_t     *ctx;
    ngx_http_attachments_direct_t  *d;

    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);
    d = ctx->direct;

    if (op && !ngx_http_attachments_op_done(op)) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "attachments: the object of the ended direct upload "
                      "%V stays for the collector", &d->id);
    }

    if (d->up.status != NGX_HTTP_NO_CONTENT) {
        ngx_http_attachments_finish(r,
            ngx_http_attachments_send_error(r, d->up.status, d->up.code,
                                            d->up.message));
        return;
    }

    r->headers_out.status = NGX_HTTP_NO_CONTENT;
    r->header_only = 1;

    ngx_http_attachments_finish(r, ngx_http_send_header(r));
}


/*
 * d->op on the upload's object; handler is called when it ends, now or
 * later.  A store out of reach is a status of 503.
 */

static void
ngx_http_attachments_direct_start(ngx_http_request_t *r,
    ngx_http_attachments_direct_t *d, ngx_uint_t method,
    ngx_http_attachments_storage_handler_pt handler)
{
    ngx_int_t                     rc;
    ngx_http_attachments_blob_t  *b;

    b = d->up.blobs.elts;

    d->op.storage = d->up.storage;
    d->op.key = b->key;
    d->op.log = r->connection->log;
    d->op.handler = handler;
    d->op.data = d;

    switch (method) {

    case NGX_HTTP_HEAD:
        rc = ngx_http_attachments_storage_check(r, &d->op);
        break;

    case NGX_HTTP_GET:
        rc = ngx_http_attachments_storage_read(r, &d->op);
        break;

    default: /* NGX_HTTP_DELETE */
        rc = ngx_http_attachments_storage_delete(r, &d->op);
    }

    if (rc == NGX_AGAIN) {
        ngx_http_run_posted_requests(r->connection);
        return;
    }

    if (rc != NGX_OK) {
        d->op.status = NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    handler(r, &d->op);
}
