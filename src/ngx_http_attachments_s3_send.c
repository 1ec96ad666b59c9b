
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * Requests to an S3 bucket, signed in their headers (SigV4,
 * ngx_http_attachments_sigv4.c): PUT, DELETE, HEAD and GET of objects,
 * and the steps of an upload in parts (CreateMultipartUpload, UploadPart,
 * CompleteMultipartUpload, AbortMultipartUpload), sent through the cloud
 * kinds' client (ngx_http_attachments_cloud.c): a subrequest through
 * "proxy=", or without a request (the collector) the module's own client.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <openssl/evp.h>

#include "ngx_http_attachments_sign.h"
#include "ngx_http_attachments_sigv4.h"
#include "ngx_http_attachments_storage.h"
#include "ngx_http_attachments_cloud.h"
#include "ngx_http_attachments_s3_send.h"


/* a request to the bucket, signed in its headers */
typedef struct {
    ngx_str_t                        method;
    ngx_str_t                        path;      /* "/bucket/key" or "/key" */
    ngx_str_t                        query;     /* canonical */
    ngx_keyval_t                     headers[6];
    ngx_uint_t                       n;
} ngx_http_attachments_s3_signed_t;


static ngx_int_t ngx_http_attachments_s3_sign(ngx_pool_t *pool,
    ngx_http_attachments_storage_op_t *op,
    ngx_http_attachments_s3_signed_t *sg);
static ngx_int_t ngx_http_attachments_s3_query(ngx_pool_t *pool,
    ngx_http_attachments_storage_op_t *op, ngx_str_t *query);
static void ngx_http_attachments_s3_wire(
    ngx_http_attachments_storage_op_t *op, ngx_str_t *query);


static u_char  ngx_http_attachments_s3_empty[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";



/*
 * "/bucket/key" or, on the bucket's own host, "/key"; not escaped.  A key
 * read back from the database is held to the rules a local one is: no
 * "..", no empty segment, no control character (only the bucket's HEAD
 * has none).
 */

ngx_int_t
ngx_http_attachments_s3_path(ngx_pool_t *pool, ngx_http_attachments_s3_t *s,
    ngx_str_t *key, ngx_str_t *path)
{
    u_char  *p;

    if (key->len && !ngx_http_attachments_key_safe(key->data, key->len)) {
        ngx_log_error(NGX_LOG_ERR, pool->log, 0,
                      "attachments: refusing storage key \"%V\"", key);
        return NGX_ERROR;
    }

    path->len = 1 + (s->virtual_host ? 0 : s->bucket.len + 1) + key->len;
    path->data = ngx_pnalloc(pool, path->len);
    if (path->data == NULL) {
        return NGX_ERROR;
    }

    p = path->data;
    *p++ = '/';

    if (!s->virtual_host) {
        p = ngx_cpymem(p, s->bucket.data, s->bucket.len);
        *p++ = '/';
    }

    ngx_memcpy(p, key->data, key->len);

    return NGX_OK;
}


/* op's method, path and headers, signed now */

static ngx_int_t
ngx_http_attachments_s3_sign(ngx_pool_t *pool,
    ngx_http_attachments_storage_op_t *op, ngx_http_attachments_s3_signed_t *sg)
{
    ngx_str_t                             *auth;
    ngx_http_attachments_s3_t             *s;
    ngx_http_attachments_sigv4_request_t   rq;

    s = op->storage->data;
    auth = &sg->headers[2].value;

    ngx_memzero(&rq, sizeof(ngx_http_attachments_sigv4_request_t));

    if (ngx_http_attachments_s3_path(pool, s, &op->key, &rq.path) != NGX_OK
        || ngx_http_attachments_s3_query(pool, op, &rq.query) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (op->method == NGX_HTTP_PUT) {
        ngx_str_set(&rq.method, "PUT");

        /* a part is sent from the middle of a file not hashed by parts */
        rq.payload = op->multipart ? (u_char *) "UNSIGNED-PAYLOAD"
                                   : op->sha256;

    } else if (op->method == NGX_HTTP_POST) {
        ngx_str_set(&rq.method, "POST");
        rq.payload = op->sha256 ? op->sha256 : ngx_http_attachments_s3_empty;

    } else {
        if (op->method == NGX_HTTP_DELETE) {
            ngx_str_set(&rq.method, "DELETE");

        } else if (op->method == NGX_HTTP_GET) {
            ngx_str_set(&rq.method, "GET");

        } else {
            ngx_str_set(&rq.method, "HEAD");
            rq.checksum_mode = op->checksum;
        }

        rq.payload = ngx_http_attachments_s3_empty;
    }

    rq.host = s->cloud.host;
    rq.now = ngx_time();

    /* the x-amz-date value follows the signature: rq is on the stack */

    auth->len = ngx_http_attachments_sigv4_authorization(NULL, &s->sigv4, &rq);
    auth->data = ngx_pnalloc(pool, auth->len + 16);
    if (auth->data == NULL) {
        return NGX_ERROR;
    }

    auth->len = ngx_http_attachments_sigv4_authorization(auth->data,
                                                         &s->sigv4, &rq);
    if (auth->len == 0) {
        ngx_log_error(NGX_LOG_ERR, op->log, 0,
                      "attachments: SigV4 signing failed for \"%V\"",
                      &op->key);
        return NGX_ERROR;
    }

    ngx_str_set(&sg->headers[0].key, "x-amz-date");
    sg->headers[0].value.data = ngx_cpymem(auth->data + auth->len, rq.date,
                                           16) - 16;
    sg->headers[0].value.len = 16;
    ngx_str_set(&sg->headers[1].key, "x-amz-content-sha256");
    sg->headers[1].value.data = rq.payload;
    sg->headers[1].value.len = ngx_strlen(rq.payload) == 16 ? 16 : 64;
    ngx_str_set(&sg->headers[2].key, "Authorization");
    sg->n = 3;

    if (rq.checksum_mode) {
        ngx_str_set(&sg->headers[sg->n].key, "x-amz-checksum-mode");
        ngx_str_set(&sg->headers[sg->n].value, "ENABLED");
        sg->n++;
    }

    /* a range is no part of what is signed */

    if (op->method == NGX_HTTP_GET && op->range) {
        ngx_str_set(&sg->headers[sg->n].key, "Range");
        sg->headers[sg->n].value.data = ngx_pnalloc(pool,
                                            sizeof("bytes=0-") + NGX_OFF_T_LEN);
        if (sg->headers[sg->n].value.data == NULL) {
            return NGX_ERROR;
        }

        sg->headers[sg->n].value.len =
            ngx_sprintf(sg->headers[sg->n].value.data, "bytes=0-%O",
                        op->range - 1)
            - sg->headers[sg->n].value.data;
        sg->n++;
    }

    if (op->body.len) {
        ngx_str_set(&sg->headers[sg->n].key, "Content-Type");
        ngx_str_set(&sg->headers[sg->n].value, "application/xml");
        sg->n++;
    }

    sg->method = rq.method;
    sg->path = rq.path;
    sg->query = rq.query;

    return NGX_OK;
}


/*
 * The canonical query of an upload in parts (its arguments sorted,
 * escaped), also the one sent: "uploads=", "partNumber=N&uploadId=ID",
 * "uploadId=ID"; empty for the rest
 */

static ngx_int_t
ngx_http_attachments_s3_query(ngx_pool_t *pool,
    ngx_http_attachments_storage_op_t *op, ngx_str_t *query)
{
    u_char  *p;
    size_t   n;

    ngx_str_null(query);

    if (op->multipart == NGX_HTTP_ATTACHMENTS_MP_START) {
        ngx_str_set(query, "uploads=");
        return NGX_OK;
    }

    if (op->upload_id.len == 0) {
        return NGX_OK;
    }

    n = ngx_http_attachments_aws_escape(NULL, op->upload_id.data,
                                        op->upload_id.len, 0);

    query->data = ngx_pnalloc(pool, sizeof("partNumber=&uploadId=")
                                    + NGX_INT_T_LEN + n);
    if (query->data == NULL) {
        return NGX_ERROR;
    }

    p = query->data;

    if (op->multipart == NGX_HTTP_ATTACHMENTS_MP_PART) {
        p = ngx_sprintf(p, "partNumber=%ui&", op->part);
    }

    p = ngx_cpymem(p, "uploadId=", 9);
    p += ngx_http_attachments_aws_escape(p, op->upload_id.data,
                                         op->upload_id.len, 0);
    query->len = p - query->data;

    return NGX_OK;
}


/* the query as SDKs send it: "?uploads", signed as "uploads=" */

static void
ngx_http_attachments_s3_wire(ngx_http_attachments_storage_op_t *op,
    ngx_str_t *query)
{
    if (op->multipart == NGX_HTTP_ATTACHMENTS_MP_START) {
        ngx_str_set(query, "uploads");
    }
}


/*
 * CompleteMultipartUpload's body, from op->etags, and its SHA-256 (the
 * body is signed)
 */

ngx_int_t
ngx_http_attachments_s3_complete_body(ngx_pool_t *pool,
    ngx_http_attachments_storage_op_t *op)
{
    u_char        *p;
    size_t         len;
    ngx_str_t     *etag;
    ngx_uint_t     i;
    unsigned int   n;
    u_char         md[EVP_MAX_MD_SIZE];

    etag = op->etags->elts;
    len = sizeof("<CompleteMultipartUpload></CompleteMultipartUpload>");

    for (i = 0; i < op->etags->nelts; i++) {
        len += sizeof("<Part><PartNumber></PartNumber><ETag></ETag></Part>")
               + NGX_INT_T_LEN + etag[i].len;
    }

    op->body.data = ngx_pnalloc(pool, len);
    op->sha256 = ngx_pnalloc(pool, 64);
    if (op->body.data == NULL || op->sha256 == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(op->body.data, "<CompleteMultipartUpload>", 25);

    for (i = 0; i < op->etags->nelts; i++) {
        /* an ETag is a quoted hex string: no markup to escape */
        p = ngx_sprintf(p, "<Part><PartNumber>%ui</PartNumber>"
                           "<ETag>%V</ETag></Part>", i + 1, &etag[i]);
    }

    p = ngx_cpymem(p, "</CompleteMultipartUpload>", 26);
    op->body.len = p - op->body.data;

    if (EVP_Digest(op->body.data, op->body.len, md, &n, EVP_sha256(), NULL)
        != 1)
    {
        return NGX_ERROR;
    }

    (void) ngx_hex_dump(op->sha256, md, 32);

    return NGX_OK;
}


/*
 * What a step of an upload in parts answered in its body: START, the
 * upload's id; a completion, an error in a 200 (S3 answers so when it
 * fails after it began to answer).  NGX_ERROR: op->status is made 502.
 */

ngx_int_t
ngx_http_attachments_s3_answered_parts(ngx_http_attachments_storage_op_t *op)
{
    u_char  *p, *last, *end;

    p = op->head.data;
    last = p + op->head.len;

    if (op->multipart != NGX_HTTP_ATTACHMENTS_MP_START) {
        /* a completion succeeded only if its answer says so */
        if (ngx_strlcasestrn(p, last, (u_char *) "<Error>", 6) != NULL
            || ngx_strlcasestrn(p, last,
                                (u_char *) "<CompleteMultipartUploadResult",
                                29)
               == NULL)
        {
            goto failed;
        }

        return NGX_OK;
    }

    p = ngx_strlcasestrn(p, last, (u_char *) "<UploadId>", 9);
    if (p == NULL) {
        goto failed;
    }

    p += 10;
    end = ngx_strlchr(p, last, '<');

    if (end == NULL || end == p || end - p > 1024) {
        goto failed;
    }

    /* in op->head, which the caller keeps */
    op->upload_id.data = p;
    op->upload_id.len = end - p;

    return NGX_OK;

failed:

    ngx_log_error(NGX_LOG_ERR, op->log, 0,
                  "attachments: the store's answer to an upload in parts "
                  "of \"%V\" says no: \"%*s\"", &op->key,
                  (size_t) ngx_min(op->head.len, 200), op->head.data);

    op->status = NGX_HTTP_BAD_GATEWAY;

    return NGX_ERROR;
}


/*
 * Sends op (a PUT, a DELETE, a HEAD, a GET, a step of an upload in parts)
 * signed now: through the storage's proxy= location with r, through the
 * module's own client (op->pool) without
 */

ngx_int_t
ngx_http_attachments_s3_send(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    ngx_http_attachments_s3_t             *s;
    ngx_http_attachments_s3_signed_t       sg;
    ngx_http_attachments_cloud_request_t   rq;

    s = op->storage->data;

    if (ngx_http_attachments_s3_sign(r ? r->pool : op->pool, op, &sg)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    rq.method = sg.method;
    rq.path = sg.path;
    rq.args = sg.query;
    rq.headers = sg.headers;
    rq.n = sg.n;

    ngx_http_attachments_s3_wire(op, &rq.args);

    return ngx_http_attachments_cloud_send(r, &s->cloud, op, &rq);
}
