
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * The storage interface's operations (ngx_http_attachments_storage.h):
 * each is logged and handed to the storage's kind; an operation a kind
 * finishes later wakes its request through this module's context.  Also
 * what every kind shares: a key's path under the root, public keys, the
 * temporary area (".tmp/<uuid>" under the root) uploads wait in, and the
 * Content-Disposition of a download.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <sys/file.h>

#include "ngx_http_attachments_sign.h"
#include "ngx_http_attachments_input.h"
#include "ngx_http_attachments_metrics.h"
#include "ngx_http_attachments_storage.h"


#define NGX_HTTP_ATTACHMENTS_TMP  ".tmp/"
#define NGX_HTTP_ATTACHMENTS_TUS  ".tus/"


typedef struct {
    ngx_http_attachments_storage_op_t  *op;     /* under way */
    ngx_uint_t                          mark;   /* a streamed download's */
} ngx_http_attachments_storage_ctx_t;


static ngx_int_t ngx_http_attachments_storage_start(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op, ngx_uint_t method,
    ngx_http_attachments_storage_op_pt handler);
static void ngx_http_attachments_storage_count(
    ngx_http_attachments_storage_op_t *op, ngx_int_t rc);
static const char *ngx_http_attachments_storage_method(
    ngx_http_attachments_storage_op_t *op);
static void ngx_http_attachments_storage_wake(ngx_http_request_t *r);
static ngx_int_t ngx_http_attachments_storage_add_variables(
    ngx_conf_t *cf);
static ngx_int_t ngx_http_attachments_storage_url_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);


/*
 * A module for its request context (the operation a request awaits) and
 * $attachments_storage_url
 */

static ngx_http_module_t  ngx_http_attachments_storage_module_ctx = {
    ngx_http_attachments_storage_add_variables, /* preconfiguration */
    NULL,                                  /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_attachments_storage_module = {
    NGX_MODULE_V1,
    &ngx_http_attachments_storage_module_ctx, /* module context */
    NULL,                                  /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_str_t  ngx_http_attachments_storage_url_name =
    ngx_string("attachments_storage_url");


static ngx_int_t
ngx_http_attachments_storage_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var;

    var = ngx_http_add_variable(cf, &ngx_http_attachments_storage_url_name,
                                NGX_HTTP_VAR_NOCACHEABLE);
    if (var == NULL) {
        return NGX_ERROR;
    }

    var->get_handler = ngx_http_attachments_storage_url_variable;

    return NGX_OK;
}


/*
 * In the subrequest of an operation sent to an address the store gave
 * (a drive's upload URL): that address, for "proxy_pass
 * $attachments_storage_url"
 */

static ngx_int_t
ngx_http_attachments_storage_url_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_attachments_storage_op_t   *op;
    ngx_http_attachments_storage_ctx_t  *ctx;

    ctx = r->parent ? ngx_http_get_module_ctx(r->parent,
                                          ngx_http_attachments_storage_module)
                    : NULL;
    op = ctx ? ctx->op : NULL;

    if (op == NULL || op->url.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = op->url.data;
    v->len = op->url.len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


ngx_http_attachments_storage_t *
ngx_http_attachments_storage_lookup(ngx_array_t *storages, ngx_str_t *name)
{
    ngx_uint_t                        i;
    ngx_http_attachments_storage_t  **sp;

    sp = storages->elts;

    for (i = 0; i < storages->nelts; i++) {
        if (sp[i]->name.len == name->len
            && ngx_strncmp(sp[i]->name.data, name->data, name->len) == 0)
        {
            return sp[i];
        }
    }

    return NULL;
}


ngx_int_t
ngx_http_attachments_storage_create(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    return ngx_http_attachments_storage_start(r, op, NGX_HTTP_PUT,
                                              op->storage->kind->create);
}


/* also without a request (the collector, a request's cleanup) */

ngx_int_t
ngx_http_attachments_storage_delete(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    return ngx_http_attachments_storage_start(r, op, NGX_HTTP_DELETE,
                                              op->storage->kind->delete);
}


/* a second name, op->target, for the blob of op->key */

ngx_int_t
ngx_http_attachments_storage_publish(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    if (op->storage->public.len == 0) {
        return NGX_DECLINED;
    }

    return ngx_http_attachments_storage_start(r, op, NGX_HTTP_COPY,
                                              op->storage->kind->publish);
}


ngx_int_t
ngx_http_attachments_storage_health(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    return ngx_http_attachments_storage_start(r, op, NGX_HTTP_HEAD,
                                              op->storage->kind->health);
}


ngx_int_t
ngx_http_attachments_storage_serve(ngx_http_request_t *r,
    ngx_http_attachments_link_t *link)
{
    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "attachments storage \"%V\": serve \"%V\"",
                   &link->storage->name, &link->key);

    return link->storage->kind->serve(r, link);
}


ngx_int_t
ngx_http_attachments_storage_presign(ngx_http_request_t *r,
    ngx_http_attachments_link_t *link, ngx_str_t *url)
{
    return link->storage->kind->presign(r, link, url);
}


/* NGX_DECLINED: the storage's kind takes no direct uploads */

ngx_int_t
ngx_http_attachments_storage_upload_url(ngx_http_request_t *r,
    ngx_http_attachments_link_t *link, off_t size, ngx_str_t *checksum,
    ngx_str_t *url)
{
    if (link->storage->kind->upload_url == NULL) {
        return NGX_DECLINED;
    }

    return link->storage->kind->upload_url(r, link, size, checksum, url);
}


/* HEAD of op->key: op->length, and op->stored when op->checksum asks */

ngx_int_t
ngx_http_attachments_storage_check(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    ngx_str_null(&op->stored);
    op->length = -1;

    return ngx_http_attachments_storage_start(r, op, NGX_HTTP_HEAD,
                                              op->storage->kind->check);
}


/* GET of op->key (its first op->range bytes, or all) into op->head, op->sha */

ngx_int_t
ngx_http_attachments_storage_read(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    op->head.len = 0;
    op->received = 0;

    return ngx_http_attachments_storage_start(r, op, NGX_HTTP_GET,
                                              op->storage->kind->read);
}


/*
 * A drive's folder op->key, in the folder op->parent (empty: the root):
 * found or made, its id in op->parent
 */

ngx_int_t
ngx_http_attachments_storage_folder(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    return ngx_http_attachments_storage_start(r, op, NGX_HTTP_MKCOL,
                                              op->storage->kind->folder);
}


/* a step of an upload in parts: NGX_DECLINED, the kind makes none */

ngx_int_t
ngx_http_attachments_storage_multipart(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    ngx_str_null(&op->etag);

    return ngx_http_attachments_storage_start(r, op,
               (op->multipart == NGX_HTTP_ATTACHMENTS_MP_START)
               ? NGX_HTTP_POST : NGX_HTTP_PUT,
               op->storage->kind->multipart);
}


/* an operation handed to the storage's kind; NGX_DECLINED: it has none */

static ngx_int_t
ngx_http_attachments_storage_start(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op, ngx_uint_t method,
    ngx_http_attachments_storage_op_pt handler)
{
    ngx_int_t  rc;

    if (handler == NULL) {
        return NGX_DECLINED;
    }

    op->method = method;

    rc = handler(r, op);

    ngx_http_attachments_storage_count(op, rc);

    ngx_log_debug5(NGX_LOG_DEBUG_HTTP, op->log, 0,
                   "attachments storage \"%V\": %s \"%V\": %i, status %ui",
                   &op->storage->name,
                   ngx_http_attachments_storage_method(op), &op->key, rc,
                   op->status);

    return rc;
}


/* an operation that ended, now or (NGX_AGAIN) later, for the metrics */

static void
ngx_http_attachments_storage_count(ngx_http_attachments_storage_op_t *op,
    ngx_int_t rc)
{
    ngx_http_attachments_op_e  what;

    if (rc == NGX_AGAIN || rc == NGX_DECLINED) {
        return;
    }

    switch (op->method) {

    case NGX_HTTP_PUT:
    case NGX_HTTP_POST:
        what = NGX_HTTP_ATTACHMENTS_OP_CREATE;
        break;

    case NGX_HTTP_DELETE:
        what = NGX_HTTP_ATTACHMENTS_OP_DELETE;
        break;

    case NGX_HTTP_COPY:
        what = NGX_HTTP_ATTACHMENTS_OP_PUBLISH;
        break;

    case NGX_HTTP_MKCOL:
        what = NGX_HTTP_ATTACHMENTS_OP_FOLDER;
        break;

    case NGX_HTTP_GET:
        what = NGX_HTTP_ATTACHMENTS_OP_READ;
        break;

    default:
        what = op->key.len ? NGX_HTTP_ATTACHMENTS_OP_CHECK
                           : NGX_HTTP_ATTACHMENTS_OP_HEALTH;
    }

    ngx_http_attachments_metrics_storage(&op->storage->kind->name, what,
                                         rc != NGX_OK
                                         || !ngx_http_attachments_op_done(op));
}


/* an operation by the name of its HTTP counterpart, for the log */

static const char *
ngx_http_attachments_storage_method(ngx_http_attachments_storage_op_t *op)
{
    switch (op->method) {

    case NGX_HTTP_PUT:
        return "PUT";

    case NGX_HTTP_DELETE:
        return "DELETE";

    case NGX_HTTP_COPY:
        return "COPY";

    case NGX_HTTP_GET:
        return "GET";

    case NGX_HTTP_POST:
        return "POST";

    case NGX_HTTP_MKCOL:
        return "MKCOL";

    default:
        return "HEAD";
    }
}


/* a kind's operation ends later: the request sleeps until it does */

void
ngx_http_attachments_storage_wait(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    ngx_http_attachments_storage_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_storage_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_attachments_storage_ctx_t));
        if (ctx == NULL) {
            /* the operation is under way: its end still wakes nothing */
            return;
        }

        ngx_http_set_ctx(r, ctx, ngx_http_attachments_storage_module);
    }

    op->status = 0;
    op->uncertain = 0;
    ctx->op = op;
    r->write_event_handler = ngx_http_attachments_storage_wake;
}


/*
 * A request's mark (a download a kind streams from its store, and how it
 * goes: ngx_http_attachments_proxy_stream()), kept in this module's
 * context, which an internal redirect clears: marked after it
 */

ngx_int_t
ngx_http_attachments_storage_mark(ngx_http_request_t *r, ngx_uint_t mark)
{
    ngx_http_attachments_storage_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_storage_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_attachments_storage_ctx_t));
        if (ctx == NULL) {
            return NGX_ERROR;
        }

        ngx_http_set_ctx(r, ctx, ngx_http_attachments_storage_module);
    }

    ctx->mark = mark;

    return NGX_OK;
}


ngx_uint_t
ngx_http_attachments_storage_marked(ngx_http_request_t *r)
{
    ngx_http_attachments_storage_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_storage_module);

    return ctx ? ctx->mark : 0;
}


/* the request is woken by its subrequest: its operation may have ended */

static void
ngx_http_attachments_storage_wake(ngx_http_request_t *r)
{
    ngx_http_attachments_storage_op_t   *op;
    ngx_http_attachments_storage_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_storage_module);
    op = ctx ? ctx->op : NULL;

    if (op == NULL || op->status == 0) {
        return;
    }

    ctx->op = NULL;
    r->write_event_handler = ngx_http_request_empty_handler;

    ngx_http_attachments_storage_done(r, op);
}


/* the end of an operation that answered NGX_AGAIN; r is NULL without one */

void
ngx_http_attachments_storage_done(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    ngx_uint_t  level;

    if (op->step) {
        /* the kind goes on with its operation */
        op->handler(r, op);
        return;
    }

    if (op->storage->kind->answered) {
        op->storage->kind->answered(op);
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, op->log, 0,
                   "attachments storage \"%V\": \"%V\" done, status %ui",
                   &op->storage->name, &op->key, op->status);

    ngx_http_attachments_storage_count(op, NGX_OK);

    if (!ngx_http_attachments_op_done(op)) {
        /* an object asked about that is not there is an answer, and so is
           an upload in parts gone when it is aborted */
        level = (op->status == NGX_HTTP_NOT_FOUND
                 && ((op->method == NGX_HTTP_HEAD && op->key.len)
                     || (op->method == NGX_HTTP_DELETE && op->upload_id.len)))
                ? NGX_LOG_INFO : NGX_LOG_ERR;

        ngx_log_error(level, op->log, 0,
                      "attachments: %s \"%V\" in %V storage \"%V\": %ui",
                      ngx_http_attachments_storage_method(op), &op->key,
                      &op->storage->kind->name, &op->storage->name,
                      op->status);
    }

    op->handler(r, op);
}


/* "root/key", NUL-terminated, into path (NGX_MAX_PATH bytes) */

ngx_int_t
ngx_http_attachments_storage_path(u_char *path, ngx_log_t *log,
    ngx_http_attachments_storage_t *s, ngx_str_t *key)
{
    u_char  *p;

    if (!ngx_http_attachments_key_safe(key->data, key->len)
        || s->root.len + 1 + key->len + 1 > NGX_MAX_PATH)
    {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "attachments: refusing storage key \"%V\"", key);
        return NGX_ERROR;
    }

    p = ngx_cpymem(path, s->root.data, s->root.len);
    *p++ = '/';
    p = ngx_cpymem(p, key->data, key->len);
    *p = '\0';

    return NGX_OK;
}


/* the key a private key has in the public area; both may be one */

ngx_int_t
ngx_http_attachments_storage_public_key(ngx_pool_t *pool, ngx_str_t *key,
    ngx_str_t *public_key)
{
    u_char  *p, *start;

    start = ngx_pnalloc(pool,
                        sizeof(NGX_HTTP_ATTACHMENTS_PUBLIC) - 1 + key->len);
    if (start == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(start, NGX_HTTP_ATTACHMENTS_PUBLIC,
                   sizeof(NGX_HTTP_ATTACHMENTS_PUBLIC) - 1);
    p = ngx_cpymem(p, key->data, key->len);

    public_key->data = start;
    public_key->len = p - start;

    return NGX_OK;
}


/* 1: a key of the public area */

ngx_uint_t
ngx_http_attachments_storage_is_public(u_char *key, size_t len)
{
    return len >= sizeof(NGX_HTTP_ATTACHMENTS_PUBLIC) - 1
           && ngx_strncmp(key, NGX_HTTP_ATTACHMENTS_PUBLIC,
                          sizeof(NGX_HTTP_ATTACHMENTS_PUBLIC) - 1) == 0;
}


/* the temporary an upload's blob id waits in, NUL-terminated */

ngx_int_t
ngx_http_attachments_storage_tmp(ngx_pool_t *pool,
    ngx_http_attachments_storage_t *s, u_char *id, ngx_str_t *path)
{
    u_char  *p;

    path->len = s->root.len + 1 + sizeof(NGX_HTTP_ATTACHMENTS_TMP) - 1
                + NGX_HTTP_ATTACHMENTS_UUID_LEN;
    path->data = ngx_pnalloc(pool, path->len + 1);
    if (path->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(path->data, s->root.data, s->root.len);
    *p++ = '/';
    p = ngx_cpymem(p, NGX_HTTP_ATTACHMENTS_TMP,
                   sizeof(NGX_HTTP_ATTACHMENTS_TMP) - 1);
    p = ngx_cpymem(p, id, NGX_HTTP_ATTACHMENTS_UUID_LEN);
    *p = '\0';

    return NGX_OK;
}


/* an upload's temporary gone, or already gone: NGX_OK */

ngx_int_t
ngx_http_attachments_storage_drop_tmp(ngx_log_t *log,
    ngx_http_attachments_storage_t *s, u_char *id)
{
    ngx_err_t  err;
    ngx_str_t  key;
    u_char     tmp[sizeof(NGX_HTTP_ATTACHMENTS_TMP) - 1
                   + NGX_HTTP_ATTACHMENTS_UUID_LEN];
    u_char     path[NGX_MAX_PATH];

    if (s->root.len == 0) {
        return NGX_OK;
    }

    key.data = tmp;
    key.len = ngx_cpymem(ngx_cpymem(tmp, NGX_HTTP_ATTACHMENTS_TMP,
                                    sizeof(NGX_HTTP_ATTACHMENTS_TMP) - 1),
                         id, NGX_HTTP_ATTACHMENTS_UUID_LEN)
              - tmp;

    if (ngx_http_attachments_storage_path(path, log, s, &key) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_delete_file(path) == NGX_FILE_ERROR) {
        err = ngx_errno;

        if (err != NGX_ENOENT) {
            ngx_log_error(NGX_LOG_ERR, log, err,
                          "attachments gc: " ngx_delete_file_n " \"%s\" "
                          "failed; the row waits for the next run", path);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * A resumable upload's bytes ("root/.tus/<id>"), or with a suffix its
 * state, NUL-terminated: they outlive requests, so they are kept apart
 * from the temporaries the collector sweeps.
 */

ngx_int_t
ngx_http_attachments_storage_tus(ngx_pool_t *pool,
    ngx_http_attachments_storage_t *s, u_char *id, const char *suffix,
    ngx_str_t *path)
{
    u_char  *p;
    size_t   n;

    n = ngx_strlen(suffix);

    path->len = s->root.len + 1 + sizeof(NGX_HTTP_ATTACHMENTS_TUS) - 1
                + NGX_HTTP_ATTACHMENTS_UUID_LEN + n;
    path->data = ngx_pnalloc(pool, path->len + 1);
    if (path->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(path->data, s->root.data, s->root.len);
    *p++ = '/';
    p = ngx_cpymem(p, NGX_HTTP_ATTACHMENTS_TUS,
                   sizeof(NGX_HTTP_ATTACHMENTS_TUS) - 1);
    p = ngx_cpymem(p, id, NGX_HTTP_ATTACHMENTS_UUID_LEN);
    p = ngx_cpymem(p, suffix, n);
    *p = '\0';

    return NGX_OK;
}


/*
 * A resumable upload's files gone, or already gone: NGX_OK; NGX_BUSY while
 * a request holds the bytes' lock (it is appending to them).
 */

ngx_int_t
ngx_http_attachments_storage_drop_tus(ngx_log_t *log,
    ngx_http_attachments_storage_t *s, u_char *id)
{
    ngx_fd_t    fd;
    ngx_int_t   rc;
    ngx_str_t   data, state, fresh;
    ngx_pool_t *pool;

    if (s->root.len == 0) {
        return NGX_OK;
    }

    pool = ngx_create_pool(512, log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    rc = NGX_ERROR;

    if (ngx_http_attachments_storage_tus(pool, s, id, "", &data) != NGX_OK
        || ngx_http_attachments_storage_tus(pool, s, id, ".state", &state)
           != NGX_OK
        || ngx_http_attachments_storage_tus(pool, s, id, ".state.new", &fresh)
           != NGX_OK)
    {
        goto done;
    }

    fd = ngx_open_file(data.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd != NGX_INVALID_FILE && flock(fd, LOCK_EX|LOCK_NB) == -1) {
        ngx_close_file(fd);
        rc = NGX_BUSY;
        goto done;
    }

    rc = NGX_OK;

    if ((ngx_delete_file(fresh.data) == NGX_FILE_ERROR
         && ngx_errno != NGX_ENOENT)
        || (ngx_delete_file(state.data) == NGX_FILE_ERROR
            && ngx_errno != NGX_ENOENT)
        || (ngx_delete_file(data.data) == NGX_FILE_ERROR
            && ngx_errno != NGX_ENOENT))
    {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      ngx_delete_file_n " \"%V\" failed", &data);
        rc = NGX_ERROR;
    }

    if (fd != NGX_INVALID_FILE) {
        ngx_close_file(fd);
    }

done:

    ngx_destroy_pool(pool);

    return rc;
}


/*
 * Temporaries of uploads that died with their worker have no row: those
 * untouched for longer than grace go.  Never one younger than a few
 * seconds, whatever the grace: an upload makes its temporary, then locks
 * it, and another worker's sweep must not fall in between.
 */

#define NGX_HTTP_ATTACHMENTS_TMP_FRESH  3

void
ngx_http_attachments_storage_sweep_tmp(ngx_log_t *log,
    ngx_http_attachments_storage_t *s, time_t grace)
{
    u_char     *p;
    ngx_fd_t    fd;
    ngx_str_t   name;
    ngx_dir_t   dir;
    u_char      path[NGX_MAX_PATH];

    if (s->root.len == 0
        || s->root.len + 1 + sizeof(NGX_HTTP_ATTACHMENTS_TMP)
           + NGX_HTTP_ATTACHMENTS_UUID_LEN >= NGX_MAX_PATH)
    {
        return;
    }

    p = ngx_cpymem(path, s->root.data, s->root.len);
    *p++ = '/';
    p = ngx_cpymem(p, NGX_HTTP_ATTACHMENTS_TMP,
                   sizeof(NGX_HTTP_ATTACHMENTS_TMP) - 2);
    *p = '\0';

    name.data = path;
    name.len = p - path;

    if (ngx_open_dir(&name, &dir) != NGX_OK) {
        return;
    }

    *p++ = '/';

    while (ngx_read_dir(&dir) == NGX_OK) {

        if (ngx_de_namelen(&dir) != NGX_HTTP_ATTACHMENTS_UUID_LEN) {
            continue;
        }

        ngx_memcpy(p, ngx_de_name(&dir), NGX_HTTP_ATTACHMENTS_UUID_LEN);
        p[NGX_HTTP_ATTACHMENTS_UUID_LEN] = '\0';

        if (ngx_de_info(path, &dir) == NGX_FILE_ERROR
            || !ngx_de_is_file(&dir)
            || ngx_de_mtime(&dir)
               > ngx_time() - ngx_max(grace, NGX_HTTP_ATTACHMENTS_TMP_FRESH))
        {
            continue;
        }

        /* an upload in progress holds its temporaries' locks */

        fd = ngx_open_file(path, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
        if (fd == NGX_INVALID_FILE) {
            continue;
        }

        if (flock(fd, LOCK_EX|LOCK_NB) == -1) {
            ngx_close_file(fd);
            continue;
        }

        if (ngx_delete_file(path) == NGX_FILE_ERROR) {
            ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                          "attachments gc: " ngx_delete_file_n
                          " \"%s\" failed", path);
            ngx_close_file(fd);
            continue;
        }

        ngx_close_file(fd);

        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "attachments gc: stale temporary \"%s\" removed", path);
    }

    (void) ngx_close_dir(&dir);
}


ngx_int_t
ngx_http_attachments_disposition_value(ngx_pool_t *pool, ngx_str_t *filename,
    ngx_str_t *value)
{
    value->data = ngx_pnalloc(pool,
                      NGX_HTTP_ATTACHMENTS_DISPOSITION_LEN(filename->len));
    if (value->data == NULL) {
        return NGX_ERROR;
    }

    value->len = ngx_http_attachments_disposition(value->data, filename);

    return NGX_OK;
}
