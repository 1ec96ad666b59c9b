
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * The folders of drive storages (yandex_disk): people browse a drive, so a
 * file goes into a folder named for its record, from a route per entity
 * type ("attachments_route sale Sales/SO-$attachments_record_name;"), and
 * keeps its key, "<folder>/<uuid>-<name>", as a file in s3 does.  Before
 * the first file goes into a folder, the drive makes it (every folder of
 * its path) and attachments.folder_cache remembers its id, so the next
 * files cost no request to the drive.  A folder is made by the request that
 * claimed its row in the cache, one level after the other, so that two
 * uploads never make two folders of a name (a drive may hold both).  The
 * storage saying the folder is gone (deleted by a person) drops it, and
 * the folders around it, from the cache, and it is made again, once per
 * file.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_sign.h"
#include "ngx_http_attachments_input.h"
#include "ngx_http_attachments_pg.h"
#include "ngx_http_attachments_sql.h"
#include "ngx_http_attachments_storage.h"
#include "ngx_http_attachments_module.h"
#include "ngx_http_attachments_request.h"
#include "ngx_http_attachments_undo.h"
#include "ngx_http_attachments_folders.h"


/* the longest file name after "<uuid>-" on a drive: 218 of 255 */
#define NGX_HTTP_ATTACHMENTS_DRIVE_NAME_MAX  200


typedef struct {
    ngx_str_t                        entity_type;  /* "default": the rest */
    ngx_http_complex_value_t         folder;
} ngx_http_attachments_folder_route_t;


typedef struct {
    ngx_array_t                     *routes;
} ngx_http_attachments_folders_conf_t;


/* a folder being had for a blob, one folder of its path after the other */
typedef struct {
    ngx_http_attachments_upload_t           *up;
    ngx_http_attachments_blob_t             *blob;
    ngx_str_t                                path;
    ngx_str_t                                level;    /* path's first... */
    ngx_str_t                                parent;   /* level's parent */
    ngx_uint_t                               waits;    /* for another maker */
    unsigned                                 again:1;  /* from the top */
    ngx_event_t                              wait;
    ngx_http_attachments_folder_handler_pt   handler;
} ngx_http_attachments_folder_t;


static ngx_int_t ngx_http_attachments_folders_add_variables(ngx_conf_t *cf);
static void *ngx_http_attachments_folders_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_attachments_folders_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static char *ngx_http_attachments_route_conf(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_attachments_record_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_attachments_folder_run(ngx_http_request_t *r,
    ngx_http_attachments_folder_t *f, ngx_http_attachments_pg_stmt_t *stmt,
    ngx_str_t *path, ngx_str_t *id, ngx_http_attachments_pg_handler_pt handler);
static void ngx_http_attachments_folder_forgotten(
    ngx_http_attachments_pg_query_t *q);
static void ngx_http_attachments_folder_looked_up(
    ngx_http_attachments_pg_query_t *q);
static void ngx_http_attachments_folder_next(ngx_http_request_t *r,
    ngx_http_attachments_folder_t *f);
static void ngx_http_attachments_folder_claimed(
    ngx_http_attachments_pg_query_t *q);
static void ngx_http_attachments_folder_waited(ngx_event_t *ev);
static void ngx_http_attachments_folder_cleanup(void *data);
static void ngx_http_attachments_folder_made(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
static void ngx_http_attachments_folder_recorded(
    ngx_http_attachments_pg_query_t *q);
static void ngx_http_attachments_folder_released(
    ngx_http_attachments_pg_query_t *q);
static ngx_int_t ngx_http_attachments_folder_id(ngx_http_request_t *r,
    ngx_http_attachments_pg_query_t *q, ngx_str_t *id);
static void ngx_http_attachments_folder_end(ngx_http_request_t *r,
    ngx_http_attachments_folder_t *f, ngx_uint_t status);


static ngx_command_t  ngx_http_attachments_folders_commands[] = {

    { ngx_string("attachments_route"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_attachments_route_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_attachments_folders_module_ctx = {
    ngx_http_attachments_folders_add_variables, /* preconfiguration */
    NULL,                                  /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_attachments_folders_create_loc_conf, /* create location conf */
    ngx_http_attachments_folders_merge_loc_conf   /* merge location conf */
};


ngx_module_t  ngx_http_attachments_folders_module = {
    NGX_MODULE_V1,
    &ngx_http_attachments_folders_module_ctx, /* module context */
    ngx_http_attachments_folders_commands, /* module directives */
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


static ngx_str_t  ngx_http_attachments_record_name =
    ngx_string("attachments_record_name");


static ngx_int_t
ngx_http_attachments_folders_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var;

    var = ngx_http_add_variable(cf, &ngx_http_attachments_record_name,
                                NGX_HTTP_VAR_NOCACHEABLE);
    if (var == NULL) {
        return NGX_ERROR;
    }

    var->get_handler = ngx_http_attachments_record_variable;

    return NGX_OK;
}


static void *
ngx_http_attachments_folders_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_attachments_folders_conf_t  *fcf;

    fcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_attachments_folders_conf_t));
    if (fcf == NULL) {
        return NULL;
    }

    fcf->routes = NGX_CONF_UNSET_PTR;

    return fcf;
}


/* a level's routes replace the ones above, as a whole (like error_page) */

static char *
ngx_http_attachments_folders_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_attachments_folders_conf_t *prev = parent;
    ngx_http_attachments_folders_conf_t *conf = child;

    ngx_conf_merge_ptr_value(conf->routes, prev->routes, NULL);

    return NGX_CONF_OK;
}


/* attachments_route <entity_type>|default <folder template> */

static char *
ngx_http_attachments_route_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_attachments_folders_conf_t *fcf = conf;

    ngx_str_t                            *value;
    ngx_uint_t                            i;
    ngx_http_compile_complex_value_t      ccv;
    ngx_http_attachments_folder_route_t  *rt;

    value = cf->args->elts;

    if (!(value[1].len == 7 && ngx_strncmp(value[1].data, "default", 7) == 0)
        && !ngx_http_attachments_entity_type_valid(value[1].data,
                                                   value[1].len))
    {
        return "needs an entity type ([a-z][a-z0-9_]{0,62}) or \"default\"";
    }

    if (value[2].len == 0 || value[2].data[0] == '/'
        || value[2].data[value[2].len - 1] == '/')
    {
        return "needs a folder path without a leading or trailing \"/\"";
    }

    if (fcf->routes == NGX_CONF_UNSET_PTR) {
        fcf->routes = ngx_array_create(cf->pool, 4,
                                  sizeof(ngx_http_attachments_folder_route_t));
        if (fcf->routes == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    rt = fcf->routes->elts;

    for (i = 0; i < fcf->routes->nelts; i++) {
        if (rt[i].entity_type.len == value[1].len
            && ngx_strncmp(rt[i].entity_type.data, value[1].data,
                           value[1].len)
               == 0)
        {
            return "is duplicate for this entity type";
        }
    }

    rt = ngx_array_push(fcf->routes);
    if (rt == NULL) {
        return NGX_CONF_ERROR;
    }

    rt->entity_type = value[1];

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[2];
    ccv.complex_value = &rt->folder;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * $attachments_record_name: what attachments.record_label() named the
 * record, made one folder name (ngx_http_attachments_folder_name()); the
 * record's id when nothing is left
 */

static ngx_int_t
ngx_http_attachments_record_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                      *p;
    ngx_http_attachments_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);

    if (ctx == NULL || ctx->route.entity_id.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, NGX_HTTP_ATTACHMENTS_FOLDER_NAME_MAX);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v->len = ngx_http_attachments_folder_name(p, ctx->record.data,
                                              ctx->record.len);
    v->data = p;

    if (v->len == 0) {
        v->data = ctx->route.entity_id.data;
        v->len = ctx->route.entity_id.len;
    }

    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


/*
 * The key of b on a drive: its entity type's route (or the default one)
 * and "/<uuid>-<name>"; NGX_DECLINED, not a drive or no route, the key is
 * attachments_key's.  The variables see the file being keyed.
 */

ngx_int_t
ngx_http_attachments_folder_key(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up, ngx_http_attachments_blob_t *b)
{
    u_char                               *p;
    size_t                                ext;
    ngx_str_t                             folder, name, *type;
    ngx_uint_t                            i;
    ngx_http_attachments_folder_route_t  *rt, *found;
    ngx_http_attachments_folders_conf_t  *fcf;

    fcf = ngx_http_get_module_loc_conf(r, ngx_http_attachments_folders_module);

    if (up->storage->kind->folder == NULL || fcf->routes == NULL) {
        return NGX_DECLINED;
    }

    type = &up->ctx->route.entity_type;
    rt = fcf->routes->elts;
    found = NULL;

    for (i = 0; i < fcf->routes->nelts; i++) {
        if (rt[i].entity_type.len == type->len
            && ngx_strncmp(rt[i].entity_type.data, type->data, type->len)
               == 0)
        {
            found = &rt[i];
            break;
        }

        if (rt[i].entity_type.len == 7
            && ngx_strncmp(rt[i].entity_type.data, "default", 7) == 0)
        {
            found = &rt[i];
        }
    }

    if (found == NULL) {
        return NGX_DECLINED;
    }

    if (ngx_http_complex_value(r, &found->folder, &folder) != NGX_OK) {
        return NGX_ERROR;
    }

    /*
     * drives take names of 255 characters at most: a long name keeps its
     * start and its extension (the key's name is ASCII)
     */

    name = b->key_name;
    ext = 0;

    if (name.len > NGX_HTTP_ATTACHMENTS_DRIVE_NAME_MAX) {
        /* an extension of at most 32 characters, its dot included */

        for (ext = 1; ext <= 32 && ext < name.len; ext++) {
            if (name.data[name.len - ext] == '.') {
                break;
            }
        }

        if (ext > 32 || ext == name.len) {
            ext = 0;
        }
    }

    b->key.len = folder.len + 1 + NGX_HTTP_ATTACHMENTS_UUID_LEN + 1
                 + ngx_min(name.len, NGX_HTTP_ATTACHMENTS_DRIVE_NAME_MAX);
    b->key.data = ngx_pnalloc(r->pool, b->key.len);
    if (b->key.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(b->key.data, folder.data, folder.len);
    *p++ = '/';
    p = ngx_cpymem(p, b->id, NGX_HTTP_ATTACHMENTS_UUID_LEN);
    *p++ = '-';

    if (name.len > NGX_HTTP_ATTACHMENTS_DRIVE_NAME_MAX) {
        p = ngx_cpymem(p, name.data, NGX_HTTP_ATTACHMENTS_DRIVE_NAME_MAX - ext);
        ngx_memcpy(p, name.data + name.len - ext, ext);

    } else {
        ngx_memcpy(p, name.data, name.len);
    }

    return NGX_OK;
}


/*
 * b's folder on the drive: from the cache, or had one folder of its path
 * after the other (the cached one dropped first when it went).  NGX_AGAIN:
 * handler is called; NGX_DECLINED: the key has no folder, or the storage
 * no folders.
 */

ngx_int_t
ngx_http_attachments_folder_resolve(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up, ngx_http_attachments_blob_t *b,
    ngx_http_attachments_folder_handler_pt handler)
{
    u_char                         *p;
    ngx_pool_cleanup_t             *cln;
    ngx_http_attachments_folder_t  *f;

    /* the folder: the key up to its last "/" */

    for (p = b->key.data + b->key.len; p > b->key.data && p[-1] != '/'; p--) {
        /* void */
    }

    if (up->storage->kind->folder == NULL || p == b->key.data) {
        return NGX_DECLINED;
    }

    f = ngx_pcalloc(r->pool, sizeof(ngx_http_attachments_folder_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (f == NULL || cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_attachments_folder_cleanup;
    cln->data = f;

    f->up = up;
    f->blob = b;
    f->handler = handler;
    f->path.data = b->key.data;
    f->path.len = p - 1 - b->key.data;
    f->level.data = b->key.data;

    f->wait.handler = ngx_http_attachments_folder_waited;
    f->wait.data = f;
    f->wait.log = r->connection->log;

    ngx_str_null(&b->parent);

    if (b->refolder) {
        return ngx_http_attachments_folder_run(r, f,
                                        &ngx_http_attachments_sql_folder_forget,
                                        &f->path, NULL,
                                        ngx_http_attachments_folder_forgotten);
    }

    return ngx_http_attachments_folder_run(r, f,
                                        &ngx_http_attachments_sql_folder_lookup,
                                        &f->path, NULL,
                                        ngx_http_attachments_folder_looked_up);
}


/* a statement on a folder, with its id if given: NGX_AGAIN or NGX_ERROR */

static ngx_int_t
ngx_http_attachments_folder_run(ngx_http_request_t *r,
    ngx_http_attachments_folder_t *f, ngx_http_attachments_pg_stmt_t *stmt,
    ngx_str_t *path, ngx_str_t *id, ngx_http_attachments_pg_handler_pt handler)
{
    ngx_http_attachments_pg_query_t  *q;

    q = ngx_http_attachments_statement(r, f->up->ctx, stmt, handler);

    if (q == NULL
        || ngx_http_attachments_pg_param(r->pool, q, &f->up->storage->name)
           != NGX_OK
        || ngx_http_attachments_pg_param(r->pool, q, path) != NGX_OK
        || (id && ngx_http_attachments_pg_param(r->pool, q, id) != NGX_OK))
    {
        return NGX_ERROR;
    }

    q->data = f;

    return ngx_http_attachments_run_through(r, q);
}


static void
ngx_http_attachments_folder_forgotten(ngx_http_attachments_pg_query_t *q)
{
    ngx_http_attachments_folder_t  *f = q->data;

    ngx_http_request_t  *r;

    r = f->up->request;

    if (q->rc != NGX_OK) {
        ngx_http_attachments_folder_end(r, f, NGX_HTTP_SERVICE_UNAVAILABLE);
        return;
    }

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "attachments: the folder \"%V\" is not in storage \"%V\" "
                  "any more: making it again", &f->path,
                  &f->up->storage->name);

    ngx_http_attachments_folder_next(r, f);
}


static void
ngx_http_attachments_folder_looked_up(ngx_http_attachments_pg_query_t *q)
{
    ngx_http_attachments_folder_t  *f = q->data;

    ngx_http_request_t  *r;

    r = f->up->request;

    if (q->rc != NGX_OK) {
        ngx_http_attachments_folder_end(r, f, NGX_HTTP_SERVICE_UNAVAILABLE);
        return;
    }

    if (PQntuples(q->result) == 0) {
        ngx_http_attachments_folder_next(r, f);
        return;
    }

    ngx_http_attachments_folder_end(r, f,
        ngx_http_attachments_folder_id(r, q, &f->blob->parent));
}


/* the next folder of the path: claimed, or known, or being made */

static void
ngx_http_attachments_folder_next(ngx_http_request_t *r,
    ngx_http_attachments_folder_t *f)
{
    u_char  *p, *last;

    last = f->path.data + f->path.len;

    if (f->level.len == f->path.len) {
        /* the last folder of the path is had */
        f->blob->parent = f->parent;
        ngx_http_attachments_folder_end(r, f, 0);
        return;
    }

    p = f->level.data + f->level.len + (f->level.len ? 1 : 0);
    p = ngx_strlchr(p, last, '/');
    f->level.len = (p ? p : last) - f->path.data;

    if (ngx_http_attachments_folder_run(r, f,
                                        &ngx_http_attachments_sql_folder_claim,
                                        &f->level, NULL,
                                        ngx_http_attachments_folder_claimed)
        != NGX_AGAIN)
    {
        ngx_http_attachments_folder_end(r, f, NGX_HTTP_SERVICE_UNAVAILABLE);
    }
}


static void
ngx_http_attachments_folder_claimed(ngx_http_attachments_pg_query_t *q)
{
    ngx_http_attachments_folder_t  *f = q->data;

    ngx_int_t                           rc;
    ngx_uint_t                          status;
    ngx_http_request_t                 *r;
    ngx_http_attachments_storage_op_t  *op;

    r = f->up->request;

    if (q->rc != NGX_OK) {
        ngx_http_attachments_folder_end(r, f, NGX_HTTP_SERVICE_UNAVAILABLE);
        return;
    }

    /*
     * no row: another request's claim came in while this one waited on
     * it, later than the statement's snapshot; it is seen when asked again
     */

    if (PQntuples(q->result) == 0 || (PQgetlength(q->result, 0, 0) == 0
                                      && PQgetvalue(q->result, 0, 1)[0]
                                         != 't'))
    {
        /* another request makes it: asked again in a moment, for 10 s */

        if (++f->waits > 200) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "attachments: the folder \"%V\" of storage "
                          "\"%V\" was not made by another request in 10 s",
                          &f->level, &f->up->storage->name);
            ngx_http_attachments_folder_end(r, f,
                                            NGX_HTTP_SERVICE_UNAVAILABLE);
            return;
        }

        ngx_add_timer(&f->wait, 50);
        return;
    }

    if (PQgetlength(q->result, 0, 0)) {
        /* made already: the next one */
        status = ngx_http_attachments_folder_id(r, q, &f->parent);

        if (status) {
            ngx_http_attachments_folder_end(r, f, status);
            return;
        }

        f->waits = 0;
        ngx_http_attachments_folder_next(r, f);
        return;
    }

    /* this request's to make */

    op = &f->up->op;

    ngx_memzero(op, sizeof(ngx_http_attachments_storage_op_t));

    op->storage = f->up->storage;
    op->key = f->level;
    op->parent = f->parent;
    op->log = r->connection->log;
    op->handler = ngx_http_attachments_folder_made;
    op->data = f;

    rc = ngx_http_attachments_storage_folder(r, op);

    if (rc == NGX_AGAIN) {
        ngx_http_run_posted_requests(r->connection);
        return;
    }

    if (rc != NGX_OK) {
        op->status = NGX_HTTP_BAD_GATEWAY;
    }

    ngx_http_attachments_folder_made(r, op);
}


/* another maker had the claim: the same folder claimed again */

static void
ngx_http_attachments_folder_waited(ngx_event_t *ev)
{
    ngx_http_attachments_folder_t  *f = ev->data;

    ngx_http_request_t  *r;
    u_char              *p;

    r = f->up->request;

    /* back to the level before, so that next() claims this one again */

    for (p = f->level.data + f->level.len;
         p > f->level.data && *--p != '/';
         /* void */)
    {
        /* void */
    }

    f->level.len = p - f->level.data;

    ngx_http_attachments_folder_next(r, f);
}


static void
ngx_http_attachments_folder_cleanup(void *data)
{
    ngx_http_attachments_folder_t  *f = data;

    if (f->wait.timer_set) {
        ngx_del_timer(&f->wait);
    }
}


static void
ngx_http_attachments_folder_made(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    ngx_http_attachments_folder_t  *f = op->data;

    if (!ngx_http_attachments_op_done(op) || op->parent.len == 0) {
        /* the claim goes, for the next upload to make it */

        if (op->gone && !f->blob->refolder) {
            f->blob->refolder = 1;
            f->again = 1;
        }

        if (ngx_http_attachments_folder_run(r, f,
                                    &ngx_http_attachments_sql_folder_release,
                                    &f->level, NULL,
                                    ngx_http_attachments_folder_released)
            != NGX_AGAIN)
        {
            ngx_http_attachments_folder_end(r, f,
                                            NGX_HTTP_SERVICE_UNAVAILABLE);
        }

        return;
    }

    f->parent = op->parent;

    if (ngx_http_attachments_folder_run(r, f,
                                        &ngx_http_attachments_sql_folder_made,
                                        &f->level, &f->parent,
                                        ngx_http_attachments_folder_recorded)
        != NGX_AGAIN)
    {
        ngx_http_attachments_folder_end(r, f, NGX_HTTP_SERVICE_UNAVAILABLE);
    }
}


static void
ngx_http_attachments_folder_recorded(ngx_http_attachments_pg_query_t *q)
{
    ngx_http_attachments_folder_t  *f = q->data;

    ngx_http_request_t  *r;

    r = f->up->request;

    if (q->rc != NGX_OK || PQntuples(q->result) != 1) {
        /* the claim was taken over meanwhile: that maker's folder counts */
        ngx_http_attachments_folder_end(r, f, NGX_HTTP_SERVICE_UNAVAILABLE);
        return;
    }

    ngx_http_attachments_folder_next(r, f);
}


static void
ngx_http_attachments_folder_released(ngx_http_attachments_pg_query_t *q)
{
    ngx_http_attachments_folder_t  *f = q->data;

    ngx_http_request_t  *r;

    r = f->up->request;

    if (q->rc == NGX_OK && f->again) {
        /*
         * a folder above was cached but is gone: the path forgotten and
         * had again from the top, once
         */
        f->again = 0;
        f->level.len = 0;
        ngx_str_null(&f->parent);

        if (ngx_http_attachments_folder_run(r, f,
                                        &ngx_http_attachments_sql_folder_forget,
                                        &f->path, NULL,
                                        ngx_http_attachments_folder_forgotten)
            == NGX_AGAIN)
        {
            return;
        }
    }

    ngx_http_attachments_folder_end(r, f, NGX_HTTP_SERVICE_UNAVAILABLE);
}


/* the first column of q's row, a folder id, into the request's pool */

static ngx_int_t
ngx_http_attachments_folder_id(ngx_http_request_t *r,
    ngx_http_attachments_pg_query_t *q, ngx_str_t *id)
{
    id->len = PQgetlength(q->result, 0, 0);
    id->data = ngx_pnalloc(r->pool, id->len);

    if (id->data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(id->data, PQgetvalue(q->result, 0, 0), id->len);

    return 0;
}


static void
ngx_http_attachments_folder_end(ngx_http_request_t *r,
    ngx_http_attachments_folder_t *f, ngx_uint_t status)
{
    ngx_connection_t  *c;

    /* the handler may finalize r */
    c = r->connection;

    if (status) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "attachments: the folder \"%V\" of storage \"%V\" "
                      "could not be had: %ui", &f->path,
                      &f->up->storage->name, status);
    }

    f->handler(r, f->up, status);
    ngx_http_run_posted_requests(c);
}
