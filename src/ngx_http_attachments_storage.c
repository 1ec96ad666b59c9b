
/*
 * Storages: the attachments_storage directive, the lookup by name, and the
 * "local" kind of the storage interface (ngx_http_attachments_module.h): a
 * directory whose blobs arrive as temporary files, are renamed to their
 * keys with the directory fsync'd, are served by internal redirect to the
 * storage's internal location, and are downloaded through signed URLs
 * that point back at nginx.  The "s3" kind is in ngx_http_attachments_s3.c.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_module.h"


static char *ngx_http_attachments_local_conf(ngx_conf_t *cf,
    ngx_http_attachments_storage_t *s, ngx_str_t *value, ngx_uint_t n);
static ngx_int_t ngx_http_attachments_local_create(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
static ngx_int_t ngx_http_attachments_local_delete(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
static ngx_int_t ngx_http_attachments_local_serve(ngx_http_request_t *r,
    ngx_http_attachments_link_t *link);
static ngx_int_t ngx_http_attachments_local_presign(ngx_http_request_t *r,
    ngx_http_attachments_link_t *link, ngx_str_t *url);
static ngx_int_t ngx_http_attachments_local_health(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
static ngx_int_t ngx_http_attachments_local_path(u_char *path,
    ngx_log_t *log, ngx_http_attachments_storage_t *s, ngx_str_t *key);


ngx_http_attachments_storage_kind_t  ngx_http_attachments_local_kind = {
    ngx_string("local"),
    ngx_http_attachments_local_conf,
    ngx_http_attachments_local_create,
    ngx_http_attachments_local_delete,
    ngx_http_attachments_local_serve,
    ngx_http_attachments_local_presign,
    ngx_http_attachments_local_health,
    1
};


static ngx_http_attachments_storage_kind_t  *ngx_http_attachments_kinds[] = {
    &ngx_http_attachments_local_kind,
    &ngx_http_attachments_s3_kind,
    NULL
};


/* attachments_storage <name> <kind> <parameters>… */

char *
ngx_http_attachments_storage(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_attachments_main_conf_t *amcf = conf;

    ngx_str_t                             *value;
    ngx_http_attachments_storage_t        *storage, **sp;
    ngx_http_attachments_storage_kind_t  **kind;

    value = cf->args->elts;

    if (ngx_http_attachments_lookup_storage(amcf, &value[1]) != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate storage \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    for (kind = ngx_http_attachments_kinds; *kind; kind++) {
        if ((*kind)->name.len == value[2].len
            && ngx_strncmp((*kind)->name.data, value[2].data, value[2].len)
               == 0)
        {
            break;
        }
    }

    if (*kind == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown storage type \"%V\" "
                           "(the supported types are \"local\" and \"s3\")",
                           &value[2]);
        return NGX_CONF_ERROR;
    }

    storage = ngx_pcalloc(cf->pool, sizeof(ngx_http_attachments_storage_t));
    if (storage == NULL) {
        return NGX_CONF_ERROR;
    }

    storage->name = value[1];
    storage->kind = *kind;

    if ((*kind)->conf(cf, storage, value, cf->args->nelts) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    sp = ngx_array_push(&amcf->storages);
    if (sp == NULL) {
        return NGX_CONF_ERROR;
    }

    *sp = storage;

    return NGX_CONF_OK;
}


ngx_http_attachments_storage_t *
ngx_http_attachments_lookup_storage(ngx_http_attachments_main_conf_t *amcf,
    ngx_str_t *name)
{
    ngx_uint_t                         i;
    ngx_http_attachments_storage_t   **sp;

    sp = amcf->storages.elts;

    for (i = 0; i < amcf->storages.nelts; i++) {
        if (sp[i]->name.len == name->len
            && ngx_strncmp(sp[i]->name.data, name->data, name->len) == 0)
        {
            return sp[i];
        }
    }

    return NULL;
}


ngx_http_attachments_storage_t *
ngx_http_attachments_storage_by_name(ngx_http_request_t *r, ngx_str_t *name)
{
    return ngx_http_attachments_lookup_storage(
               ngx_http_get_module_main_conf(r, ngx_http_attachments_module),
               name);
}


/* local root=<dir> internal=<uri> [public=<uri>] */

static char *
ngx_http_attachments_local_conf(ngx_conf_t *cf,
    ngx_http_attachments_storage_t *s, ngx_str_t *value, ngx_uint_t n)
{
    ngx_str_t   *prefix;
    ngx_uint_t   i;

    for (i = 3; i < n; i++) {

        if (ngx_strncmp(value[i].data, "root=", 5) == 0) {
            s->root.data = value[i].data + 5;
            s->root.len = value[i].len - 5;

            if (s->root.len == 0
                || ngx_conf_full_name(cf->cycle, &s->root, 0) != NGX_OK)
            {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "internal=", 9) == 0
            || ngx_strncmp(value[i].data, "public=", 7) == 0)
        {
            prefix = (value[i].data[0] == 'i') ? &s->internal : &s->public;
            prefix->data = (u_char *) ngx_strchr(value[i].data, '=') + 1;
            prefix->len = value[i].data + value[i].len - prefix->data;

            if (prefix->len < 2
                || prefix->data[0] != '/'
                || prefix->data[prefix->len - 1] != '/')
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"%*s\" must be a URI prefix that "
                                   "starts and ends with \"/\", not \"%V\"",
                                   value[i].data[0] == 'i' ? 9 : 7,
                                   value[i].data, prefix);
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


/* the temporary file renamed to its key; the directory's entry made durable */

static ngx_int_t
ngx_http_attachments_local_create(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    u_char    *slash;
    ngx_fd_t   fd;
    u_char     path[NGX_MAX_PATH];

    if (ngx_http_attachments_local_path(path, op->log, op->storage, &op->key)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_create_full_path(path, 0755) != 0) {
        ngx_log_error(NGX_LOG_CRIT, op->log, ngx_errno,
                      ngx_create_dir_n " for \"%s\" failed", path);
        return NGX_ERROR;
    }

    if (ngx_rename_file(op->file.data, path) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_CRIT, op->log, ngx_errno,
                      ngx_rename_file_n " \"%V\" to \"%s\" failed",
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

    if (ngx_http_attachments_local_path(path, op->log, op->storage, &op->key)
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


/* the blob, by internal redirect, with the file's name and type */

static ngx_int_t
ngx_http_attachments_local_serve(ngx_http_request_t *r,
    ngx_http_attachments_link_t *link)
{
    ngx_http_attachments_grant_t  g;

    ngx_memzero(&g, sizeof(ngx_http_attachments_grant_t));

    g.filename = link->filename;
    g.type = link->type;

    return ngx_http_attachments_serve(r, link->storage, &link->key, &g);
}


/* an absolute signed URL of the storage's attachments_download location */

static ngx_int_t
ngx_http_attachments_local_presign(ngx_http_request_t *r,
    ngx_http_attachments_link_t *link, ngx_str_t *url)
{
    u_char     *p;
    ngx_str_t   path;

    if (ngx_http_attachments_signed_url(r, link, &path) != NGX_OK) {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(r->pool, link->base.len + path.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    url->data = p;
    p = ngx_cpymem(p, link->base.data, link->base.len);
    p = ngx_cpymem(p, path.data, path.len);
    url->len = p - url->data;

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


/* "root/key", NUL-terminated, into path (NGX_MAX_PATH bytes) */

static ngx_int_t
ngx_http_attachments_local_path(u_char *path, ngx_log_t *log,
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
