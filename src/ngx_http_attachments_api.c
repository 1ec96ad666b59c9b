
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * ngx_http_attachments_api_module: the API's router on an
 * "attachments_api" location.
 *
 * Access phase: identity from attachments_user / attachments_org, the route
 * (400 and 404 before the database), then attachments.authorize() through
 * the pool.  Content phase: the route's handler (files, upload, publish).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_conf.h"
#include "ngx_http_attachments_input.h"
#include "ngx_http_attachments_json.h"
#include "ngx_http_attachments_metrics.h"
#include "ngx_http_attachments_pg.h"
#include "ngx_http_attachments_sql.h"
#include "ngx_http_attachments_module.h"
#include "ngx_http_attachments_request.h"
#include "ngx_http_attachments_undo.h"
#include "ngx_http_attachments_files.h"
#include "ngx_http_attachments_upload.h"
#include "ngx_http_attachments_publish.h"
#include "ngx_http_attachments_tus.h"
#include "ngx_http_attachments_tus_store.h"
#include "ngx_http_attachments_direct.h"
#include "ngx_http_attachments_api.h"


#define NGX_HTTP_ATTACHMENTS_ACCESS_WAITING  1
#define NGX_HTTP_ATTACHMENTS_ACCESS_ALLOWED  2
#define NGX_HTTP_ATTACHMENTS_ACCESS_REFUSED  3


/* kept with the request's pool: an internal redirect clears its contexts */
typedef struct {
    ngx_http_request_t              *request;
    ngx_http_attachments_ctx_t      *ctx;
    ngx_uint_t                       method;   /* error_page makes it GET */
} ngx_http_attachments_api_count_t;


typedef struct {
    ngx_flag_t                       api;
    ngx_str_t                        prefix;
} ngx_http_attachments_api_loc_conf_t;


static ngx_int_t ngx_http_attachments_api_init(ngx_conf_t *cf);
static void *ngx_http_attachments_api_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_attachments_api_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static char *ngx_http_attachments_api(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_attachments_access_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_attachments_access_start(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx);
static ngx_int_t ngx_http_attachments_access_end(ngx_http_request_t *r,
    ngx_int_t rc);
static ngx_int_t ngx_http_attachments_method(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, char **allow);
static void ngx_http_attachments_authorized(
    ngx_http_attachments_pg_query_t *q);
static ngx_int_t ngx_http_attachments_api_handler(ngx_http_request_t *r);
static void ngx_http_attachments_api_count(void *data);
static ngx_uint_t ngx_http_attachments_api_direct(ngx_http_request_t *r);
static ngx_http_attachments_endpoint_e ngx_http_attachments_api_endpoint(
    ngx_http_request_t *r, ngx_uint_t method, ngx_http_attachments_ctx_t *ctx);


static ngx_command_t  ngx_http_attachments_api_commands[] = {

    { ngx_string("attachments_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_attachments_api,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_attachments_api_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_attachments_api_init,         /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_attachments_api_create_loc_conf, /* create location conf */
    ngx_http_attachments_api_merge_loc_conf   /* merge location conf */
};


ngx_module_t  ngx_http_attachments_api_module = {
    NGX_MODULE_V1,
    &ngx_http_attachments_api_module_ctx,  /* module context */
    ngx_http_attachments_api_commands,     /* module directives */
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


static void *
ngx_http_attachments_api_create_loc_conf(ngx_conf_t *cf)
{
    /*
     * set by ngx_pcalloc():
     *
     *     aacf->api = 0;
     *     aacf->prefix = { 0, NULL };
     */

    return ngx_pcalloc(cf->pool, sizeof(ngx_http_attachments_api_loc_conf_t));
}


/* the API needs what ngx_http_attachments_module configures, merged first */

static char *
ngx_http_attachments_api_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_attachments_api_loc_conf_t *conf = child;

    ngx_http_core_loc_conf_t          *clcf;
    ngx_http_attachments_loc_conf_t   *alcf;
    ngx_http_attachments_main_conf_t  *amcf;

    if (!conf->api) {
        return NGX_CONF_OK;
    }

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_attachments_module);
    alcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_attachments_module);

    if (alcf->keys == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"attachments_api\" requires "
                           "\"attachments_signing_key\"");
        return NGX_CONF_ERROR;
    }

    if (amcf->database == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"attachments_api\" requires "
                           "\"attachments_database\"");
        return NGX_CONF_ERROR;
    }

    if (amcf->storages.nelts == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"attachments_api\" requires an "
                           "\"attachments_storage\"");
        return NGX_CONF_ERROR;
    }

    if (alcf->user == NULL || alcf->org == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"attachments_api\" requires \"attachments_user\" "
                           "and \"attachments_org\"");
        return NGX_CONF_ERROR;
    }

    /* with "satisfy any", another access module could skip authorize() */

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->satisfy != NGX_HTTP_SATISFY_ALL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"attachments_api\" cannot be used with "
                           "\"satisfy any\"");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* attachments_api: this prefix location serves DESIGN.md, section 3 */

static char *
ngx_http_attachments_api(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_attachments_api_loc_conf_t *aacf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    if (aacf->api) {
        return "is duplicate";
    }

    if (ngx_http_attachments_conf_location(cf, "attachments_api",
                                           &aacf->prefix)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    aacf->api = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_attachments_api_handler;

    return NGX_CONF_OK;
}


/*
 * The access handler runs last in the access phase: after auth_request
 * and the like have set the variables identity comes from.  Handlers run
 * from the end of the array, so it goes first.
 */

static ngx_int_t
ngx_http_attachments_api_init(ngx_conf_t *cf)
{
    ngx_array_t                *a;
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    a = &cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers;

    h = ngx_array_push(a);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h = a->elts;
    ngx_memmove(&h[1], &h[0], (a->nelts - 1) * sizeof(ngx_http_handler_pt));
    h[0] = ngx_http_attachments_access_handler;

    return NGX_OK;
}


/* access phase */

static ngx_int_t
ngx_http_attachments_access_handler(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t                   *cln;
    ngx_http_attachments_api_count_t     *count;
    ngx_http_attachments_ctx_t           *ctx;
    ngx_http_attachments_api_loc_conf_t  *aacf;

    aacf = ngx_http_get_module_loc_conf(r, ngx_http_attachments_api_module);

    if (!aacf->api) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_attachments_ctx_t));
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_http_set_ctx(r, ctx, ngx_http_attachments_module);

        /* counted when the request ends, whoever answered it */

        cln = ngx_pool_cleanup_add(r->pool,
                                   sizeof(ngx_http_attachments_api_count_t));
        if (cln == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        cln->handler = ngx_http_attachments_api_count;
        count = cln->data;
        count->request = r;
        count->ctx = ctx;
        count->method = r->method;

        return ngx_http_attachments_access_start(r, ctx);
    }

    switch (ctx->access) {

    case NGX_HTTP_ATTACHMENTS_ACCESS_WAITING:
        return NGX_AGAIN;

    case NGX_HTTP_ATTACHMENTS_ACCESS_ALLOWED:
        return NGX_OK;

    default:
        return ngx_http_attachments_access_end(r,
                   ngx_http_attachments_refused(r, ctx->refused));
    }
}


static ngx_int_t
ngx_http_attachments_access_start(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx)
{
    char                                 *allow;
    ngx_int_t                             rc;
    ngx_str_t                             path;
    ngx_table_elt_t                      *h;
    ngx_http_attachments_pg_query_t      *q;
    ngx_http_attachments_loc_conf_t      *alcf;
    ngx_http_attachments_api_loc_conf_t  *aacf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_attachments_module);
    aacf = ngx_http_get_module_loc_conf(r, ngx_http_attachments_api_module);

    if (ngx_http_complex_value(r, alcf->user, &ctx->user) != NGX_OK
        || ngx_http_complex_value(r, alcf->org, &ctx->org) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->user.len == 0 || ctx->org.len == 0) {
        return ngx_http_attachments_access_end(r,
                   ngx_http_attachments_send_error(r, NGX_HTTP_UNAUTHORIZED,
                       "unauthenticated", "no user or organization"));
    }

    if (!ngx_http_attachments_utf8_valid(ctx->user.data, ctx->user.len)
        || !ngx_http_attachments_utf8_valid(ctx->org.data, ctx->org.len))
    {
        return ngx_http_attachments_access_end(r,
                   ngx_http_attachments_send_error(r, NGX_HTTP_BAD_REQUEST,
                       "invalid_request",
                       "user and organization must be UTF-8 text"));
    }

    if (r->uri.len < aacf->prefix.len
        || ngx_strncmp(r->uri.data, aacf->prefix.data,
                       aacf->prefix.len) != 0)
    {
        return ngx_http_attachments_access_end(r,
                   ngx_http_attachments_refused(r, NGX_HTTP_NOT_FOUND));
    }

    path.data = r->uri.data + aacf->prefix.len;
    path.len = r->uri.len - aacf->prefix.len;

    rc = ngx_http_attachments_route(path.data, path.len, &ctx->route);

    if (rc == NGX_ERROR) {
        return ngx_http_attachments_access_end(r,
                   ngx_http_attachments_send_error(r, NGX_HTTP_BAD_REQUEST,
                                                   "invalid_request",
                                                   ctx->route.error));
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_attachments_access_end(r,
                   ngx_http_attachments_refused(r, NGX_HTTP_NOT_FOUND));
    }

    if (ngx_http_attachments_method(r, ctx, &allow) != NGX_OK) {
        h = ngx_http_attachments_add_header(r, "Allow", allow);
        if (h == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_attachments_access_end(r,
                   ngx_http_attachments_send_error(r, NGX_HTTP_NOT_ALLOWED,
                       "method_not_allowed", "method not allowed here"));
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "attachments api: route %ui, \"%s\" by \"%V\"",
                   ctx->route.kind, ctx->action, &ctx->user);

    if (ctx->route.kind == NGX_HTTP_ATTACHMENTS_ROUTE_USAGE
        || r->method == NGX_HTTP_OPTIONS)
    {
        /* the caller's own numbers, or what the server speaks: no record */
        ctx->access = NGX_HTTP_ATTACHMENTS_ACCESS_ALLOWED;
        return NGX_OK;
    }

    q = ngx_http_attachments_statement(r, ctx,
                                       &ngx_http_attachments_sql_authorize,
                                       ngx_http_attachments_authorized);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_attachments_run(r, q);

    if (rc != NGX_AGAIN) {
        return ngx_http_attachments_access_end(r, rc);
    }

    ctx->access = NGX_HTTP_ATTACHMENTS_ACCESS_WAITING;

    return NGX_AGAIN;
}


/* the access phase answered the request itself */

static ngx_int_t
ngx_http_attachments_access_end(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_http_finalize_request(r, rc);
    return NGX_DONE;
}


static ngx_int_t
ngx_http_attachments_method(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, char **allow)
{
    ngx_uint_t  methods;

    switch (ctx->route.kind) {

    case NGX_HTTP_ATTACHMENTS_ROUTE_FILES:
        methods = NGX_HTTP_GET|NGX_HTTP_POST;
        *allow = "GET, POST";
        break;

    case NGX_HTTP_ATTACHMENTS_ROUTE_USAGE:
        methods = NGX_HTTP_GET;
        *allow = "GET";
        break;

    case NGX_HTTP_ATTACHMENTS_ROUTE_VERSIONS:
        methods = NGX_HTTP_GET|NGX_HTTP_POST;
        *allow = "GET, POST";
        break;

    case NGX_HTTP_ATTACHMENTS_ROUTE_PUBLISH:
        methods = NGX_HTTP_POST;
        *allow = "POST";
        break;

    case NGX_HTTP_ATTACHMENTS_ROUTE_FILE:
        methods = NGX_HTTP_GET|NGX_HTTP_PATCH|NGX_HTTP_DELETE;
        *allow = "GET, PATCH, DELETE";
        break;

    case NGX_HTTP_ATTACHMENTS_ROUTE_UPLOADS:
        methods = NGX_HTTP_POST|NGX_HTTP_OPTIONS;
        *allow = "POST, OPTIONS";
        break;

    case NGX_HTTP_ATTACHMENTS_ROUTE_UPLOAD:
        methods = NGX_HTTP_HEAD|NGX_HTTP_PATCH|NGX_HTTP_POST|NGX_HTTP_DELETE
                  |NGX_HTTP_OPTIONS;
        *allow = "HEAD, PATCH, POST, DELETE, OPTIONS";
        break;

    default: /* NGX_HTTP_ATTACHMENTS_ROUTE_CONTENT */
        methods = NGX_HTTP_GET|NGX_HTTP_HEAD;
        *allow = "GET, HEAD";
        break;
    }

    if (ctx->route.kind == NGX_HTTP_ATTACHMENTS_ROUTE_UPLOADS
        || ctx->route.kind == NGX_HTTP_ATTACHMENTS_ROUTE_UPLOAD)
    {
        /* a resumable upload is an upload from its start to its end */
        if (!(r->method & methods)) {
            return NGX_DECLINED;
        }

        ctx->action = "upload";
        ctx->naming = 1;
        return NGX_OK;
    }

    if (!(r->method & methods)) {
        return NGX_DECLINED;
    }

    switch (r->method) {

    case NGX_HTTP_PATCH:
        ctx->action = "update";
        break;

    case NGX_HTTP_POST:
        /* a new version changes a file; a first upload adds one */
        ctx->action = (ctx->route.kind == NGX_HTTP_ATTACHMENTS_ROUTE_FILES)
                      ? "upload" : "update";
        ctx->naming = (ctx->route.kind != NGX_HTTP_ATTACHMENTS_ROUTE_PUBLISH);
        break;

    case NGX_HTTP_DELETE:
        ctx->action = "delete";
        break;

    default:
        ctx->action = "read";
    }

    return NGX_OK;
}


static void
ngx_http_attachments_authorized(ngx_http_attachments_pg_query_t *q)
{
    char                        *verdict;
    ngx_http_request_t          *r;
    ngx_connection_t            *c;
    ngx_http_attachments_ctx_t  *ctx;

    r = q->data;
    c = r->connection;
    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);

    r->read_event_handler = ngx_http_block_reading;
    ctx->access = NGX_HTTP_ATTACHMENTS_ACCESS_REFUSED;

    if (q->rc == NGX_ERROR) {
        ctx->refused = NGX_HTTP_SERVICE_UNAVAILABLE;

    } else if (q->rc != NGX_OK || PQntuples(q->result) != 1) {
        ctx->refused = NGX_HTTP_INTERNAL_SERVER_ERROR;

    } else {
        verdict = PQgetvalue(q->result, 0, 0);

        if (ngx_strcmp(verdict, "allow") == 0) {
            ctx->access = NGX_HTTP_ATTACHMENTS_ACCESS_ALLOWED;

            /* an upload's record name, for the folder routes of drives */

            if (PQnfields(q->result) > 1 && !PQgetisnull(q->result, 0, 1)) {
                ctx->record.len = PQgetlength(q->result, 0, 1);
                ctx->record.data = ngx_pnalloc(r->pool, ctx->record.len);

                if (ctx->record.data == NULL) {
                    ctx->access = NGX_HTTP_ATTACHMENTS_ACCESS_REFUSED;
                    ctx->refused = NGX_HTTP_INTERNAL_SERVER_ERROR;

                } else {
                    ngx_memcpy(ctx->record.data, PQgetvalue(q->result, 0, 1),
                               ctx->record.len);
                }
            }

        } else if (ngx_strcmp(verdict, "deny") == 0) {
            ctx->refused = NGX_HTTP_FORBIDDEN;

        } else {
            ctx->refused = NGX_HTTP_NOT_FOUND;
        }
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "attachments authorize \"%s\": %ui %ui",
                   ctx->action, ctx->access, ctx->refused);

    ngx_http_core_run_phases(r);
    ngx_http_run_posted_requests(c);
}


/* content phase */

static ngx_int_t
ngx_http_attachments_api_handler(ngx_http_request_t *r)
{
    ngx_int_t                    rc;
    ngx_http_attachments_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);

    if (ctx == NULL || ctx->access != NGX_HTTP_ATTACHMENTS_ACCESS_ALLOWED) {
        /* subrequests skip the access phase: they get nothing */
        return ngx_http_attachments_refused(r, NGX_HTTP_FORBIDDEN);
    }

    switch (ctx->route.kind) {

    case NGX_HTTP_ATTACHMENTS_ROUTE_FILES:
        if (r->method == NGX_HTTP_POST) {
            return ngx_http_attachments_upload(r, ctx);
        }

        rc = ngx_http_attachments_list(r, ctx);
        break;

    case NGX_HTTP_ATTACHMENTS_ROUTE_USAGE:
        rc = ngx_http_attachments_usage(r, ctx);
        break;

    case NGX_HTTP_ATTACHMENTS_ROUTE_VERSIONS:
        if (r->method == NGX_HTTP_POST) {
            return ngx_http_attachments_upload(r, ctx);
        }

        rc = ngx_http_attachments_versions(r, ctx);
        break;

    case NGX_HTTP_ATTACHMENTS_ROUTE_PUBLISH:
        rc = ngx_http_attachments_publish(r, ctx);
        break;

    case NGX_HTTP_ATTACHMENTS_ROUTE_CONTENT:
        rc = ngx_http_attachments_file(r, ctx, "download");
        break;

    case NGX_HTTP_ATTACHMENTS_ROUTE_UPLOADS:
    case NGX_HTTP_ATTACHMENTS_ROUTE_UPLOAD:
        rc = ngx_http_attachments_api_direct(r)
             ? ngx_http_attachments_direct(r, ctx)
             : ngx_http_attachments_tus(r, ctx);
        break;

    default: /* NGX_HTTP_ATTACHMENTS_ROUTE_FILE */

        if (r->method == NGX_HTTP_PATCH) {
            return ngx_http_attachments_patch(r);
        }

        rc = (r->method == NGX_HTTP_DELETE)
             ? ngx_http_attachments_delete(r, ctx)
             : ngx_http_attachments_file(r, ctx, "url_issued");
    }

    if (rc == NGX_AGAIN) {
        /* the statement's handler finalizes the request */
        r->main->count++;
        return NGX_DONE;
    }

    return rc;
}


/*
 * The request's pool is going: its endpoint and status for the metrics,
 * and an upload's outcome with the bytes of its files.
 */

static void
ngx_http_attachments_api_count(void *data)
{
    ngx_http_attachments_api_count_t *count = data;

    off_t                             bytes;
    ngx_uint_t                        i, status;
    ngx_http_request_t               *r;
    ngx_http_attachments_ctx_t       *ctx;
    ngx_http_attachments_blob_t      *blob;
    ngx_http_attachments_upload_t    *up;
    ngx_http_attachments_endpoint_e   ep;

    r = count->request;
    ctx = count->ctx;

    status = r->err_status ? r->err_status : r->headers_out.status;

    if (status == 0
        || (r->connection->error && status == NGX_HTTP_BAD_REQUEST))
    {
        /*
         * nothing was answered, or the body could not be read (HTTP/1.1
         * says 400 then): the client went away first
         */
        status = NGX_HTTP_CLIENT_CLOSED_REQUEST;
    }

    ep = ngx_http_attachments_api_endpoint(r, count->method, ctx);

    ngx_http_attachments_metrics_api(ep, status);

    if (ep != NGX_HTTP_ATTACHMENTS_EP_UPLOAD
        && ep != NGX_HTTP_ATTACHMENTS_EP_NEW_VERSION)
    {
        return;
    }

    /* the receiver's state begins with the upload's */
    up = ctx->upload;
    bytes = 0;

    if (up) {
        blob = up->blobs.elts;

        for (i = 0; i < up->blobs.nelts; i++) {
            bytes += blob[i].size;
        }
    }

    ngx_http_attachments_metrics_upload(status, bytes);
}


/*
 * Under .../uploads, a POST or DELETE that does not speak tus is a direct
 * upload's (a tus POST to an upload's URL would be nothing: 412)
 */

static ngx_uint_t
ngx_http_attachments_api_direct(ngx_http_request_t *r)
{
    return (r->method & (NGX_HTTP_POST|NGX_HTTP_DELETE))
           && ngx_http_attachments_tus_header(r, "Tus-Resumable") == NULL;
}


static ngx_http_attachments_endpoint_e
ngx_http_attachments_api_endpoint(ngx_http_request_t *r, ngx_uint_t method,
    ngx_http_attachments_ctx_t *ctx)
{
    ngx_uint_t  post;

    post = (method == NGX_HTTP_POST);

    if (ctx->action == NULL) {
        /* refused before its route and method were known good */
        return NGX_HTTP_ATTACHMENTS_EP_UNROUTED;
    }

    switch (ctx->route.kind) {

    case NGX_HTTP_ATTACHMENTS_ROUTE_FILES:
        return post ? NGX_HTTP_ATTACHMENTS_EP_UPLOAD
                    : NGX_HTTP_ATTACHMENTS_EP_LIST;

    case NGX_HTTP_ATTACHMENTS_ROUTE_USAGE:
        return NGX_HTTP_ATTACHMENTS_EP_USAGE;

    case NGX_HTTP_ATTACHMENTS_ROUTE_VERSIONS:
        return post ? NGX_HTTP_ATTACHMENTS_EP_NEW_VERSION
                    : NGX_HTTP_ATTACHMENTS_EP_VERSIONS;

    case NGX_HTTP_ATTACHMENTS_ROUTE_PUBLISH:
        return NGX_HTTP_ATTACHMENTS_EP_PUBLISH;

    case NGX_HTTP_ATTACHMENTS_ROUTE_CONTENT:
        return NGX_HTTP_ATTACHMENTS_EP_CONTENT;

    case NGX_HTTP_ATTACHMENTS_ROUTE_UPLOADS:
    case NGX_HTTP_ATTACHMENTS_ROUTE_UPLOAD:

        if (ngx_http_attachments_api_direct(r)) {
            return (method == NGX_HTTP_DELETE)
                   ? NGX_HTTP_ATTACHMENTS_EP_DIRECT_DELETE
                   : (ctx->route.kind == NGX_HTTP_ATTACHMENTS_ROUTE_UPLOADS)
                   ? NGX_HTTP_ATTACHMENTS_EP_DIRECT_CREATE
                   : NGX_HTTP_ATTACHMENTS_EP_DIRECT_CONFIRM;
        }

        switch (method) {

        case NGX_HTTP_POST:
            return NGX_HTTP_ATTACHMENTS_EP_TUS_CREATE;

        case NGX_HTTP_HEAD:
            return NGX_HTTP_ATTACHMENTS_EP_TUS_HEAD;

        case NGX_HTTP_PATCH:
            return NGX_HTTP_ATTACHMENTS_EP_TUS_PATCH;

        case NGX_HTTP_DELETE:
            return NGX_HTTP_ATTACHMENTS_EP_TUS_DELETE;

        default:
            return NGX_HTTP_ATTACHMENTS_EP_TUS_OPTIONS;
        }

    default: /* NGX_HTTP_ATTACHMENTS_ROUTE_FILE */

        switch (method) {

        case NGX_HTTP_PATCH:
            return NGX_HTTP_ATTACHMENTS_EP_UPDATE;

        case NGX_HTTP_DELETE:
            return NGX_HTTP_ATTACHMENTS_EP_DELETE;

        default:
            return NGX_HTTP_ATTACHMENTS_EP_GET;
        }
    }
}
