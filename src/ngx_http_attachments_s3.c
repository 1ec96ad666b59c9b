
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * The "s3" storage kind: S3-compatible object stores.  Its configuration;
 * its download URLs, SigV4 query-presigned GETs (ngx_http_attachments_
 * sigv4.c) that carry the file's name and type as response-content-
 * disposition and -type; and the PUTs, DELETEs and HEADs of objects, made
 * as subrequests to the internal location named by "proxy=", whose
 * proxy_pass reaches the endpoint without blocking (as auth_request
 * does), signed in their headers here; without a request (the collector)
 * through the module's own client (ngx_http_attachments_client.c).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_sign.h"
#include "ngx_http_attachments_sigv4.h"
#include "ngx_http_attachments_json.h"
#include "ngx_http_attachments_conf.h"
#include "ngx_http_attachments_storage.h"
#include "ngx_http_attachments_cloud.h"
#include "ngx_http_attachments_s3_send.h"
#include "ngx_http_attachments_s3.h"


#define NGX_HTTP_ATTACHMENTS_S3_SECRET_MAX  255


static char *ngx_http_attachments_s3_conf(ngx_conf_t *cf,
    ngx_http_attachments_storage_t *storage, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_attachments_s3_activate(ngx_conf_t *cf,
    ngx_http_attachments_storage_t *storage);
static ngx_int_t ngx_http_attachments_s3_create(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
static ngx_int_t ngx_http_attachments_s3_delete(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
static ngx_int_t ngx_http_attachments_s3_serve(ngx_http_request_t *r,
    ngx_http_attachments_link_t *link);
static ngx_int_t ngx_http_attachments_s3_url(ngx_http_request_t *r,
    ngx_http_attachments_link_t *link, ngx_str_t *url);
static ngx_int_t ngx_http_attachments_s3_upload_url(ngx_http_request_t *r,
    ngx_http_attachments_link_t *link, off_t size, ngx_str_t *checksum,
    ngx_str_t *url);
static ngx_int_t ngx_http_attachments_s3_presigned(ngx_http_request_t *r,
    ngx_http_attachments_link_t *link, ngx_http_attachments_presign_t *ps,
    ngx_str_t *url);
static ngx_int_t ngx_http_attachments_s3_object(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
static ngx_int_t ngx_http_attachments_s3_multipart(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
static ngx_int_t ngx_http_attachments_s3_answer_room(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
static void ngx_http_attachments_s3_answered(
    ngx_http_attachments_storage_op_t *op);
static ngx_int_t ngx_http_attachments_s3_health(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
static ngx_int_t ngx_http_attachments_s3_secret(ngx_conf_t *cf,
    ngx_http_attachments_s3_t *s3, ngx_str_t *value);


ngx_http_attachments_storage_kind_t  ngx_http_attachments_s3_kind = {
    ngx_string("s3"),
    ngx_http_attachments_s3_conf,
    ngx_http_attachments_s3_activate,
    ngx_http_attachments_s3_create,
    ngx_http_attachments_s3_delete,
    NULL,
    ngx_http_attachments_s3_health,
    ngx_http_attachments_s3_serve,
    ngx_http_attachments_s3_url,
    0,
    ngx_http_attachments_s3_upload_url,
    ngx_http_attachments_s3_object,
    ngx_http_attachments_s3_object,
    ngx_http_attachments_s3_multipart,
    ngx_http_attachments_s3_answered,
    NULL                                   /* keys, not folders */
};


/*
 * attachments_storage <name> s3 endpoint=<url> region=<r> bucket=<b>
 *     access_key=<id> (secret_file=<path> | secret_env=<VAR)
 *     [style=path|virtual] [proxy=<internal location> temp=<dir>]
 *     [ca=<file>]
 */

static char *
ngx_http_attachments_s3_conf(ngx_conf_t *cf,
    ngx_http_attachments_storage_t *storage, ngx_str_t *value, ngx_uint_t n)
{
    ngx_str_t                   v, endpoint, ca, *dst;
    ngx_int_t                   rc;
    ngx_uint_t                  i;
    ngx_http_attachments_s3_t  *s3;

    s3 = ngx_pcalloc(cf->pool, sizeof(ngx_http_attachments_s3_t));
    if (s3 == NULL) {
        return NGX_CONF_ERROR;
    }

    storage->data = s3;

    ngx_str_null(&endpoint);
    ngx_str_null(&ca);
    ngx_str_set(&s3->sigv4.service, "s3");

    for (i = 3; i < n; i++) {

        rc = ngx_http_attachments_cloud_param(cf, storage, &s3->cloud,
                                              &value[i], 0, &endpoint, &ca);
        if (rc == NGX_ERROR) {
            return NGX_CONF_ERROR;
        }

        if (rc == NGX_OK) {
            continue;
        }

        if (ngx_http_attachments_conf_param(&value[i], "region", &v)) {
            dst = &s3->sigv4.region;

        } else if (ngx_http_attachments_conf_param(&value[i], "bucket", &v)) {
            dst = &s3->bucket;

        } else if (ngx_http_attachments_conf_param(&value[i], "access_key",
                                                   &v))
        {
            dst = &s3->sigv4.access_key;

        } else if (ngx_http_attachments_conf_param(&value[i], "secret_file",
                                                   &v)
                   || ngx_http_attachments_conf_param(&value[i],
                                                      "secret_env", &v))
        {
            if (ngx_http_attachments_s3_secret(cf, s3, &value[i]) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            continue;

        } else if (ngx_http_attachments_conf_param(&value[i], "style", &v)) {
            if (v.len == 7 && ngx_strncmp(v.data, "virtual", 7) == 0) {
                s3->virtual_host = 1;

            } else if (!(v.len == 4 && ngx_strncmp(v.data, "path", 4) == 0)) {
                goto invalid;
            }

            continue;

        } else {
            goto invalid;
        }

        if (v.len == 0) {
            goto invalid;
        }

        *dst = v;
    }

    if (endpoint.len == 0 || s3->sigv4.region.len == 0
        || s3->bucket.len == 0 || s3->sigv4.access_key.len == 0
        || s3->sigv4.secret.len == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "s3 storage \"%V\" needs \"endpoint=\", "
                           "\"region=\", \"bucket=\", \"access_key=\" and "
                           "\"secret_file=\" or \"secret_env=\"",
                           &storage->name);
        return NGX_CONF_ERROR;
    }

    /* a bucket's own host is "bucket.endpoint" */

    if (ngx_http_attachments_cloud_endpoint(cf, &s3->cloud, storage,
                                            &endpoint,
                                            s3->virtual_host ? &s3->bucket
                                                             : NULL,
                                            &ca)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", &value[i]);
    return NGX_CONF_ERROR;
}


/* the active storage receives uploads through proxy=, from temp= */

static char *
ngx_http_attachments_s3_activate(ngx_conf_t *cf,
    ngx_http_attachments_storage_t *storage)
{
    ngx_http_attachments_s3_t  *s3;

    s3 = storage->data;

    if (s3->cloud.proxy.len == 0 || storage->root.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the s3 storage \"%V\" receives uploads and "
                           "needs \"proxy=\" (an internal location that "
                           "proxy_pass'es to its endpoint) and \"temp=\"",
                           &storage->name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* the secret is read once, by the master: from a file or the environment */

static ngx_int_t
ngx_http_attachments_s3_secret(ngx_conf_t *cf, ngx_http_attachments_s3_t *s3,
    ngx_str_t *value)
{
    char       *env;
    ngx_str_t   name, secret;

    env = NULL;

    name.data = (u_char *) ngx_strchr(value->data, '=') + 1;
    name.len = value->data + value->len - name.data;

    if (value->data[7] == 'e') {                /* secret_env= */
        env = getenv((char *) name.data);

        if (env == NULL || *env == '\0') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "the environment has no \"%V\"", &name);
            return NGX_ERROR;
        }

        secret.data = (u_char *) env;
        secret.len = ngx_strlen(env);

    } else {
        if (ngx_http_attachments_conf_secret(cf, "secret", &name,
                                             NGX_HTTP_ATTACHMENTS_SECRET_MAX,
                                             &secret)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (secret.len == 0
            || secret.len > NGX_HTTP_ATTACHMENTS_S3_SECRET_MAX)
        {
            ngx_explicit_memzero(secret.data, secret.len);
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "no usable secret in \"%V\"", &name);
            return NGX_ERROR;
        }
    }

    s3->sigv4.secret.data = ngx_pstrdup(cf->pool, &secret);
    if (s3->sigv4.secret.data == NULL) {
        return NGX_ERROR;
    }

    s3->sigv4.secret.len = secret.len;

    if ((u_char *) env != secret.data) {
        ngx_explicit_memzero(secret.data, secret.len);
    }

    return NGX_OK;
}


/* an absolute presigned GET for link, valid its ttl (7 days at most) */

static ngx_int_t
ngx_http_attachments_s3_url(ngx_http_request_t *r,
    ngx_http_attachments_link_t *link, ngx_str_t *url)
{
    ngx_http_attachments_presign_t  ps;

    ngx_memzero(&ps, sizeof(ngx_http_attachments_presign_t));

    /*
     * what a direct upload's client may have stored with the object is
     * not what its downloads say: no shared cache, no encoding
     */
    ngx_str_set(&ps.cache_control, "private");
    ngx_str_set(&ps.encoding, "identity");
    ps.type = link->type;

    if (ngx_http_attachments_disposition_value(r->pool, &link->filename,
                                               &ps.disposition)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_attachments_s3_presigned(r, link, &ps, url);
}


/*
 * A direct upload's PUT: the store itself holds the body to its length and
 * SHA-256 (the client must send both headers as signed)
 */

static ngx_int_t
ngx_http_attachments_s3_upload_url(ngx_http_request_t *r,
    ngx_http_attachments_link_t *link, off_t size, ngx_str_t *checksum,
    ngx_str_t *url)
{
    ngx_http_attachments_presign_t  ps;

    ngx_memzero(&ps, sizeof(ngx_http_attachments_presign_t));

    ps.checksum = *checksum;
    ps.length = size;

    return ngx_http_attachments_s3_presigned(r, link, &ps, url);
}


/* ps signed for link's key and ttl, as an absolute URL */

static ngx_int_t
ngx_http_attachments_s3_presigned(ngx_http_request_t *r,
    ngx_http_attachments_link_t *link, ngx_http_attachments_presign_t *ps,
    ngx_str_t *url)
{
    u_char                     *p;
    size_t                      n;
    ngx_http_attachments_s3_t  *s;

    s = link->storage->data;

    ps->host = s->cloud.host;
    ps->now = ngx_time();
    ps->expires = ngx_min(link->ttl, NGX_HTTP_ATTACHMENTS_SIGV4_EXPIRES_MAX);

    if (ngx_http_attachments_s3_path(r->pool, s, &link->key, &ps->path)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    n = ngx_http_attachments_presign(NULL, &s->sigv4, ps);

    url->data = ngx_pnalloc(r->pool,
                            s->cloud.scheme.len + s->cloud.host.len + n);
    if (url->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(url->data, s->cloud.scheme.data, s->cloud.scheme.len);
    p = ngx_cpymem(p, s->cloud.host.data, s->cloud.host.len);

    n = ngx_http_attachments_presign(p, &s->sigv4, ps);
    if (n == 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "attachments: SigV4 signing failed for \"%V\"",
                      &link->key);
        return NGX_ERROR;
    }

    url->len = p + n - url->data;
    link->expires = ps->now + ps->expires;

    return NGX_OK;
}


/* a PUT of the file, or the completion of the upload in parts it was */

static ngx_int_t
ngx_http_attachments_s3_create(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    if (op->upload_id.len) {
        op->method = NGX_HTTP_POST;

        if (ngx_http_attachments_s3_complete_body(r->pool, op) != NGX_OK
            || ngx_http_attachments_s3_answer_room(r, op) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return ngx_http_attachments_s3_send(r, op);
}


/* CreateMultipartUpload or UploadPart, through proxy= */

static ngx_int_t
ngx_http_attachments_s3_multipart(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    ngx_http_attachments_s3_t  *s3;

    s3 = op->storage->data;

    if (r == NULL || s3->cloud.proxy.len == 0) {
        return NGX_DECLINED;
    }

    if (op->multipart == NGX_HTTP_ATTACHMENTS_MP_START
        && ngx_http_attachments_s3_answer_room(r, op) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_attachments_s3_send(r, op);
}


/* where a step of an upload in parts keeps the XML the store answers */

static ngx_int_t
ngx_http_attachments_s3_answer_room(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    op->xml = 1;

    return ngx_http_attachments_cloud_answer_room(r->pool, op, 4096);
}


/* a 2xx of a step of an upload in parts is not all its answer says */

static void
ngx_http_attachments_s3_answered(ngx_http_attachments_storage_op_t *op)
{
    if (ngx_http_attachments_op_done(op)
        && (op->multipart == NGX_HTTP_ATTACHMENTS_MP_START
            || (op->upload_id.len && op->method == NGX_HTTP_POST)))
    {
        (void) ngx_http_attachments_s3_answered_parts(op);
    }
}


/*
 * A request's deletions are subrequests through proxy=; the collector's,
 * without a request, go through the module's own client (op->pool).
 */

static ngx_int_t
ngx_http_attachments_s3_delete(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    if (r == NULL && op->pool == NULL) {
        return NGX_DECLINED;
    }

    return ngx_http_attachments_s3_send(r, op);
}


/* HEAD or GET of an object, through proxy=: only a request checks one */

static ngx_int_t
ngx_http_attachments_s3_object(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    ngx_http_attachments_s3_t  *s3;

    s3 = op->storage->data;

    if (r == NULL || s3->cloud.proxy.len == 0) {
        return NGX_DECLINED;
    }

    return ngx_http_attachments_s3_send(r, op);
}


/* HEAD of the bucket, through proxy= */

static ngx_int_t
ngx_http_attachments_s3_health(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    ngx_http_attachments_s3_t  *s3;

    s3 = op->storage->data;

    if (s3->cloud.proxy.len == 0) {
        return NGX_DECLINED;
    }

    ngx_str_null(&op->key);

    return ngx_http_attachments_s3_send(r, op);
}


/* /content of a file in S3: 302 to a fresh presigned URL */

static ngx_int_t
ngx_http_attachments_s3_serve(ngx_http_request_t *r,
    ngx_http_attachments_link_t *link)
{
    ngx_str_t         url;
    ngx_table_elt_t  *h;

    if (ngx_http_attachments_s3_url(r, link, &url) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h = ngx_http_attachments_add_header(r, "Location", NULL);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->value = url;

    /* nginx's own 302 page, like return 302 */
    r->headers_out.location = h;

    return NGX_HTTP_MOVED_TEMPORARILY;
}
