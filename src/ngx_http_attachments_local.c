
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * The "local" storage kind: a directory whose blobs arrive as temporary
 * files, are renamed to their keys with the directory fsync'd, are served
 * by internal redirect to the storage's internal location (sendfile,
 * ranges and conditional requests are nginx's own), and are downloaded
 * through signed URLs that point back at nginx's attachments_download
 * location.  Public files are second names of their blobs in the public
 * area (NGX_HTTP_ATTACHMENTS_PUBLIC under the root).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_sign.h"
#include "ngx_http_attachments_conf.h"
#include "ngx_http_attachments_json.h"
#include "ngx_http_attachments_storage.h"
#include "ngx_http_attachments_local.h"


/* the path a URL is signed for, on the stack when no longer */
#define NGX_HTTP_ATTACHMENTS_PATH_BUFFER  512


static char *ngx_http_attachments_local_conf(ngx_conf_t *cf,
    ngx_http_attachments_storage_t *s, ngx_str_t *value, ngx_uint_t n);
static ngx_int_t ngx_http_attachments_local_create(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
static ngx_int_t ngx_http_attachments_local_delete(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
static ngx_int_t ngx_http_attachments_local_serve(ngx_http_request_t *r,
    ngx_http_attachments_link_t *link);
static ngx_int_t ngx_http_attachments_local_publish(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
static ngx_int_t ngx_http_attachments_local_health(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
static ngx_int_t ngx_http_attachments_local_headers(ngx_http_request_t *r,
    ngx_http_attachments_grant_t *g);
static ngx_int_t ngx_http_attachments_local_join(ngx_pool_t *pool,
    ngx_str_t *a, ngx_str_t *b, ngx_str_t *out);


ngx_http_attachments_storage_kind_t  ngx_http_attachments_local_kind = {
    ngx_string("local"),
    ngx_http_attachments_local_conf,
    NULL,
    ngx_http_attachments_local_create,
    ngx_http_attachments_local_delete,
    ngx_http_attachments_local_publish,
    ngx_http_attachments_local_health,
    ngx_http_attachments_local_serve,
    ngx_http_attachments_local_sign,
    1,
    NULL,                                  /* no direct uploads */
    NULL,
    NULL,
    NULL,                                  /* no uploads in parts */
    NULL,
    NULL                                   /* no folders to make */
};


/* local root=<dir> internal=<uri> [public=<uri>] */

static char *
ngx_http_attachments_local_conf(ngx_conf_t *cf,
    ngx_http_attachments_storage_t *s, ngx_str_t *value, ngx_uint_t n)
{
    ngx_str_t   v;
    ngx_uint_t  i;

    for (i = 3; i < n; i++) {

        if (ngx_http_attachments_conf_param(&value[i], "root", &s->root)) {
            if (s->root.len == 0
                || ngx_conf_full_name(cf->cycle, &s->root, 0) != NGX_OK)
            {
                goto invalid;
            }

            continue;
        }

        if (ngx_http_attachments_conf_param(&value[i], "internal", &v)
            || ngx_http_attachments_conf_param(&value[i], "public", &v))
        {
            if (ngx_http_attachments_conf_prefix(cf, &value[i], "URI prefix",
                                                 value[i].data[0] == 'i'
                                                 ? &s->internal : &s->public)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        goto invalid;
    }

    if (s->root.len == 0 || s->internal.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "local storage \"%V\" needs \"root=\" and "
                           "\"internal=\"", &s->name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", &value[i]);
    return NGX_CONF_ERROR;
}


/*
 * The temporary file linked to its key, never over a blob that has it
 * already (another file's, kept for its restore, or a crashed upload's);
 * the directory's entry made durable.  The temporary name goes with the
 * upload's other temporaries.
 */

static ngx_int_t
ngx_http_attachments_local_create(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    u_char     *slash;
    ngx_fd_t    fd;
    ngx_err_t   err;
    u_char      path[NGX_MAX_PATH];

    if (ngx_http_attachments_storage_path(path, op->log, op->storage,
                                          &op->key)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_create_full_path(path, NGX_HTTP_ATTACHMENTS_DIR_ACCESS) != 0) {
        ngx_log_error(NGX_LOG_CRIT, op->log, ngx_errno,
                      ngx_create_dir_n " for \"%s\" failed", path);
        return NGX_ERROR;
    }

    if (link((char *) op->file.data, (char *) path) == -1) {
        err = ngx_errno;

        if (err == NGX_EEXIST) {
            ngx_log_error(NGX_LOG_ERR, op->log, 0,
                          "attachments: \"%s\" exists: not replaced", path);
            op->status = NGX_HTTP_CONFLICT;
            return NGX_OK;
        }

        ngx_log_error(NGX_LOG_CRIT, op->log, err,
                      "attachments: link() \"%V\" to \"%s\" failed",
                      &op->file, path);
        return NGX_ERROR;
    }

    slash = (u_char *) strrchr((char *) path, '/');
    *slash = '\0';

    fd = ngx_open_file(path, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd != NGX_INVALID_FILE) {
        (void) fsync(fd);
        ngx_close_file(fd);
    }

    op->status = NGX_HTTP_CREATED;

    return NGX_OK;
}


/* also without a request (the collector); a blob already gone is done */

static ngx_int_t
ngx_http_attachments_local_delete(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    ngx_err_t   err;
    u_char      path[NGX_MAX_PATH];

    if (ngx_http_attachments_storage_path(path, op->log, op->storage,
                                          &op->key)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_delete_file(path) == NGX_FILE_ERROR) {
        err = ngx_errno;

        if (err != NGX_ENOENT) {
            ngx_log_error(NGX_LOG_ERR, op->log, err,
                          "attachments: " ngx_delete_file_n " \"%s\" failed",
                          path);
            return NGX_ERROR;
        }
    }

    op->status = NGX_HTTP_NO_CONTENT;

    return NGX_OK;
}


/*
 * A second name for the blob, in the public area: the row can then only
 * ever point at a blob.
 */

static ngx_int_t
ngx_http_attachments_local_publish(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    ngx_err_t        err;
    ngx_file_info_t  fi, ti;
    u_char           from[NGX_MAX_PATH], to[NGX_MAX_PATH];

    if (ngx_http_attachments_storage_path(from, op->log, op->storage,
                                          &op->key)
        != NGX_OK
        || ngx_http_attachments_storage_path(to, op->log, op->storage,
                                             &op->target)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    op->existed = 0;

    if (ngx_create_full_path(to, NGX_HTTP_ATTACHMENTS_DIR_ACCESS) == 0
        && link((char *) from, (char *) to) == 0)
    {
        op->status = NGX_HTTP_CREATED;
        return NGX_OK;
    }

    err = ngx_errno;

    /*
     * The name is there: this blob's (a publish of the same file got there
     * first, and may already have removed the private name), or another
     * file's, which it keeps.
     */

    if ((err == NGX_EEXIST || err == NGX_ENOENT)
        && ngx_file_info(to, &ti) == NGX_FILE_ERROR)
    {
        err = ngx_errno;

        if (err == NGX_ENOENT && ngx_file_info(from, &fi) == NGX_FILE_ERROR
            && ngx_errno == NGX_ENOENT)
        {
            /* neither name: the row has lost its blob, a retry cannot help */
            ngx_log_error(NGX_LOG_CRIT, op->log, 0,
                          "attachments: the blob \"%s\" is missing", from);
            op->status = NGX_HTTP_NOT_FOUND;
            return NGX_OK;
        }

    } else if (err == NGX_EEXIST || err == NGX_ENOENT) {
        op->existed = 1;

        if (ngx_file_info(from, &fi) == NGX_FILE_ERROR
            || (fi.st_dev == ti.st_dev
                && ngx_file_uniq(&fi) == ngx_file_uniq(&ti)))
        {
            op->status = NGX_HTTP_OK;
            return NGX_OK;
        }

        ngx_log_error(NGX_LOG_ERR, op->log, 0,
                      "attachments: \"%s\" is another blob than \"%s\"",
                      to, from);
        op->status = NGX_HTTP_CONFLICT;
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_CRIT, op->log, err,
                  "attachments: link() \"%s\" to \"%s\" failed", from, to);
    op->status = NGX_HTTP_SERVICE_UNAVAILABLE;

    return NGX_OK;
}


/* the blob, by internal redirect, with the file's name and type */

static ngx_int_t
ngx_http_attachments_local_serve(ngx_http_request_t *r,
    ngx_http_attachments_link_t *link)
{
    ngx_http_attachments_grant_t  g;

    ngx_memzero(&g, sizeof(ngx_http_attachments_grant_t));

    g.filename = link->filename;
    g.type = link->type;

    return ngx_http_attachments_local_send(r, link->storage, &link->key, &g);
}


/*
 * Hands a granted download to the storage's internal location, with the
 * granted Content-Type and Content-Disposition.
 */

ngx_int_t
ngx_http_attachments_local_send(ngx_http_request_t *r,
    ngx_http_attachments_storage_t *storage, ngx_str_t *key,
    ngx_http_attachments_grant_t *g)
{
    ngx_str_t  uri;

    if (ngx_http_attachments_local_headers(r, g) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_attachments_local_join(r->pool, &storage->internal, key,
                                        &uri)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "attachments download \"%V\"", &uri);

    return ngx_http_internal_redirect(r, &uri, NULL);
}


static ngx_int_t
ngx_http_attachments_local_headers(ngx_http_request_t *r,
    ngx_http_attachments_grant_t *g)
{
    ngx_table_elt_t  *h;

    if (g->type.len) {
        r->headers_out.content_type = g->type;
        r->headers_out.content_type_len = g->type.len;
        r->headers_out.content_type_lowcase = NULL;
    }

    /* what the bytes are was decided at upload: browsers must not guess */

    if (ngx_http_attachments_add_header(r, "X-Content-Type-Options",
                                        "nosniff")
        == NULL)
    {
        return NGX_ERROR;
    }

    /* always "attachment": an uploaded HTML file must never render inline */

    h = ngx_http_attachments_add_header(r, "Content-Disposition", NULL);
    if (h == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_attachments_disposition_value(r->pool, &g->filename,
                                                  &h->value);
}


/*
 * The signed URL of link under the first of link->keys: link->base (empty:
 * relative) and the storage's attachments_download location.  Written
 * into link->buffer when it surely fits, as a list's hundred URLs are:
 * one pass, nothing allocated.
 */

ngx_int_t
ngx_http_attachments_local_sign(ngx_http_request_t *r,
    ngx_http_attachments_link_t *link, ngx_str_t *url)
{
    u_char                           *p;
    size_t                            n;
    ngx_http_attachments_key_t       *k;
    ngx_http_attachments_grant_t      g;
    ngx_http_attachments_storage_t   *storage;
    u_char                            sig[NGX_HTTP_ATTACHMENTS_SIG_LEN];
    u_char                            path[NGX_HTTP_ATTACHMENTS_PATH_BUFFER];

    storage = link->storage;

    if (link->keys == NULL || storage->download.len == 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "attachments: cannot sign for storage \"%V\": %s",
                      &storage->name,
                      link->keys ? "no attachments_download location"
                                 : "no attachments_signing_key");
        return NGX_ERROR;
    }

    if (!ngx_http_attachments_key_safe(link->key.data, link->key.len)) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "attachments: refusing to sign unsafe key \"%V\"",
                      &link->key);
        return NGX_DECLINED;
    }

    k = link->keys->elts;

    ngx_str_set(&g.method, "GET");
    g.key_id = k[0].id;
    g.filename = link->filename;
    g.type = link->type;
    g.expires = link->expires ? link->expires : ngx_time() + link->ttl;

    /* the path signed: the download location's prefix and the key */

    g.path.len = storage->download.len + link->key.len;

    if (g.path.len <= sizeof(path)) {
        g.path.data = path;

    } else {
        g.path.data = ngx_pnalloc(r->pool, g.path.len);
        if (g.path.data == NULL) {
            return NGX_ERROR;
        }
    }

    ngx_memcpy(ngx_cpymem(g.path.data, storage->download.data,
                          storage->download.len),
               link->key.data, link->key.len);

    if (ngx_http_attachments_sign(k[0].mac, &g, sig) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "attachments: cannot sign \"%V\": control characters",
                      &g.path);
        return NGX_DECLINED;
    }

    n = link->base.len
        + ngx_http_attachments_url_max(&storage->download, &link->key, &g);

    if (n <= link->buffer.len) {
        p = link->buffer.data;

    } else {
        n = link->base.len
            + ngx_http_attachments_url(NULL, &storage->download, &link->key,
                                       &g, sig);

        p = ngx_pnalloc(r->pool, n);
        if (p == NULL) {
            return NGX_ERROR;
        }
    }

    url->data = p;

    p = ngx_cpymem(p, link->base.data, link->base.len);
    p += ngx_http_attachments_url(p, &storage->download, &link->key, &g, sig);

    url->len = p - url->data;
    link->expires = g.expires;

    return NGX_OK;
}


/* the root can take new blobs */

static ngx_int_t
ngx_http_attachments_local_health(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    u_char  *root;

    root = ngx_pnalloc(r->pool, op->storage->root.len + 1);
    if (root == NULL) {
        return NGX_ERROR;
    }

    (void) ngx_cpystrn(root, op->storage->root.data,
                       op->storage->root.len + 1);

    if (access((char *) root, W_OK|X_OK) == -1) {
        ngx_log_error(NGX_LOG_ERR, op->log, ngx_errno,
                      "attachments: storage \"%V\": access(\"%s\") failed",
                      &op->storage->name, root);
        op->status = NGX_HTTP_SERVICE_UNAVAILABLE;

    } else {
        op->status = NGX_HTTP_OK;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_attachments_local_join(ngx_pool_t *pool, ngx_str_t *a, ngx_str_t *b,
    ngx_str_t *out)
{
    out->len = a->len + b->len;
    out->data = ngx_pnalloc(pool, out->len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ngx_cpymem(out->data, a->data, a->len), b->data, b->len);

    return NGX_OK;
}
