
/*
 * The API's request flow on an "attachments_api" location.
 *
 * Access phase: identity from attachments_user / attachments_org, the route
 * (400 and 404 before the database), then attachments.authorize() through
 * the pool.  Content phase: the route's handler (files.c, upload.c), each
 * running statements through the helpers here.  While a statement runs the
 * request sleeps and the worker serves others; the statement's handler
 * wakes it.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_module.h"
#include "ngx_http_attachments_input.h"
#include "ngx_http_attachments_json.h"
#include "ngx_http_attachments_sql.h"
#include "ngx_http_attachments_api.h"


#define NGX_HTTP_ATTACHMENTS_ACCESS_WAITING  1
#define NGX_HTTP_ATTACHMENTS_ACCESS_ALLOWED  2
#define NGX_HTTP_ATTACHMENTS_ACCESS_REFUSED  3



static ngx_int_t ngx_http_attachments_access_start(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx);
static ngx_int_t ngx_http_attachments_access_end(ngx_http_request_t *r,
    ngx_int_t rc);
static ngx_int_t ngx_http_attachments_method(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, char **allow);
static void ngx_http_attachments_authorized(
    ngx_http_attachments_pg_query_t *q);

/* access phase */

ngx_int_t
ngx_http_attachments_access_handler(ngx_http_request_t *r)
{
    ngx_http_attachments_ctx_t       *ctx;
    ngx_http_attachments_loc_conf_t  *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_attachments_module);

    if (!alcf->api) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_attachments_ctx_t));
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_http_set_ctx(r, ctx, ngx_http_attachments_module);

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
    char                             *allow;
    ngx_int_t                         rc;
    ngx_str_t                         path;
    ngx_table_elt_t                  *h;
    ngx_http_attachments_pg_query_t  *q;
    ngx_http_attachments_loc_conf_t  *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_attachments_module);

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

    if (r->uri.len < alcf->api_prefix.len
        || ngx_strncmp(r->uri.data, alcf->api_prefix.data,
                       alcf->api_prefix.len) != 0)
    {
        return ngx_http_attachments_access_end(r,
                   ngx_http_attachments_refused(r, NGX_HTTP_NOT_FOUND));
    }

    path.data = r->uri.data + alcf->api_prefix.len;
    path.len = r->uri.len - alcf->api_prefix.len;

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

    if (ctx->route.kind == NGX_HTTP_ATTACHMENTS_ROUTE_USAGE) {
        /* the caller's own numbers: no record to ask about */
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

    default: /* NGX_HTTP_ATTACHMENTS_ROUTE_CONTENT */
        methods = NGX_HTTP_GET|NGX_HTTP_HEAD;
        *allow = "GET, HEAD";
        break;
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


ngx_int_t
ngx_http_attachments_refused(ngx_http_request_t *r, ngx_uint_t status)
{
    switch (status) {

    case NGX_HTTP_FORBIDDEN:
        return ngx_http_attachments_send_error(r, status, "forbidden",
                   "not allowed on the files of this record");

    case NGX_HTTP_NOT_FOUND:
        return ngx_http_attachments_send_error(r, status, "not_found",
                   "no such record or file");

    case NGX_HTTP_SERVICE_UNAVAILABLE:
        return ngx_http_attachments_send_unavailable(r);

    default:
        return ngx_http_attachments_send_error(r,
                   NGX_HTTP_INTERNAL_SERVER_ERROR, "internal_error",
                   "the request failed; the error log says why");
    }
}


/* content phase */

ngx_int_t
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

    default: /* NGX_HTTP_ATTACHMENTS_ROUTE_FILE */

        if (r->method == NGX_HTTP_PATCH) {
            r->request_body_in_single_buf = 1;

            rc = ngx_http_read_client_request_body(r,
                                                   ngx_http_attachments_patch);
            if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
                return rc;
            }

            return NGX_DONE;
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


ngx_http_attachments_pg_query_t *
ngx_http_attachments_statement(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, ngx_http_attachments_pg_stmt_t *stmt,
    ngx_http_attachments_pg_handler_pt handler)
{
    ngx_str_t                          action, request_id, audit;
    ngx_http_attachments_loc_conf_t   *alcf;
    ngx_http_variable_value_t         *vv;
    ngx_http_attachments_pg_query_t   *q;
    ngx_http_attachments_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_attachments_module);

    q = ngx_http_attachments_pg_query(r->pool, r->connection->log,
                                      amcf->database, stmt);
    if (q == NULL) {
        return NULL;
    }

    q->handler = handler;
    q->data = r;

    if (stmt == &ngx_http_attachments_sql_authorize) {
        action.data = (u_char *) ctx->action;
        action.len = ngx_strlen(ctx->action);

        if (ngx_http_attachments_pg_param(r->pool, q, &ctx->user) != NGX_OK
            || ngx_http_attachments_pg_param(r->pool, q, &ctx->org) != NGX_OK
            || ngx_http_attachments_pg_param(r->pool, q,
                                             &ctx->route.entity_type)
               != NGX_OK
            || ngx_http_attachments_pg_param(r->pool, q,
                                             &ctx->route.entity_id)
               != NGX_OK
            || ngx_http_attachments_pg_param(r->pool, q, &action) != NGX_OK)
        {
            return NULL;
        }

        return q;
    }

    vv = ngx_http_get_indexed_variable(r, amcf->request_id);

    if (vv == NULL || vv->not_found) {
        ngx_str_null(&request_id);

    } else {
        request_id.data = vv->data;
        request_id.len = vv->len;
    }

    if (ngx_http_attachments_pg_param(r->pool, q, &ctx->org) != NGX_OK
        || ngx_http_attachments_pg_param(r->pool, q, &ctx->route.entity_type)
           != NGX_OK
        || ngx_http_attachments_pg_param(r->pool, q, &ctx->route.entity_id)
           != NGX_OK
        || ngx_http_attachments_pg_param(r->pool, q, &ctx->user) != NGX_OK
        || ngx_http_attachments_pg_param(r->pool, q, &request_id) != NGX_OK
        || ngx_http_attachments_pg_param(r->pool, q,
                                         &r->connection->addr_text)
           != NGX_OK)
    {
        return NULL;
    }

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_attachments_module);

    if (alcf->audit) {
        ngx_str_set(&audit, "true");

    } else {
        ngx_str_set(&audit, "false");
    }

    if (ngx_http_attachments_pg_param(r->pool, q, &audit) != NGX_OK) {
        return NULL;
    }

    return q;
}


/*
 * NGX_AGAIN: the statement runs; otherwise the request was answered.  A
 * statement that could not be made (NULL) is a 500.
 */

ngx_int_t
ngx_http_attachments_run(ngx_http_request_t *r,
    ngx_http_attachments_pg_query_t *q)
{
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_attachments_pg_run(q) != NGX_AGAIN) {
        return ngx_http_attachments_send_unavailable(r);
    }

    /* a client that goes away frees its request; the statement goes on */
    r->read_event_handler = ngx_http_test_reading;

    return NGX_AGAIN;
}


/*
 * For a statement the request sees through whether its client stays or
 * not, because other steps hang on its outcome (uploads, publishing):
 * NGX_AGAIN, or NGX_ERROR when it cannot run (the database is unavailable,
 * or q is NULL).  Nothing is answered: the caller undoes and answers.
 */

ngx_int_t
ngx_http_attachments_run_through(ngx_http_request_t *r,
    ngx_http_attachments_pg_query_t *q)
{
    if (q == NULL || ngx_http_attachments_pg_run(q) != NGX_AGAIN) {
        return NGX_ERROR;
    }

    r->read_event_handler = ngx_http_block_reading;

    return NGX_AGAIN;
}


/* 1: the statement failed or (one) found nothing, and that is answered */

ngx_uint_t
ngx_http_attachments_failed(ngx_http_request_t *r,
    ngx_http_attachments_pg_query_t *q, ngx_uint_t one)
{
    ngx_uint_t  status;

    status = ngx_http_attachments_result(r, q, one);

    if (status == 0) {
        return 0;
    }

    ngx_http_attachments_finish(r, ngx_http_attachments_refused(r, status));

    return 1;
}


/*
 * 0: the statement gave its result (with one: exactly one row).  Otherwise
 * the status to answer with through ngx_http_attachments_refused(): 503
 * when the database is gone, 500 when the statement failed, 404.
 */

ngx_uint_t
ngx_http_attachments_result(ngx_http_request_t *r,
    ngx_http_attachments_pg_query_t *q, ngx_uint_t one)
{
    r->read_event_handler = ngx_http_block_reading;

    if (q->rc == NGX_ERROR) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    if (q->rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (one && PQntuples(q->result) != 1) {
        return NGX_HTTP_NOT_FOUND;
    }

    return 0;
}


void
ngx_http_attachments_finish(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_connection_t  *c;

    c = r->connection;

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}




























