
/*
 * The metadata API (DESIGN.md §3) on an "attachments_api" location.
 *
 * Access phase: identity from attachments_user / attachments_org, the route
 * (400 and 404 before the database), then attachments.authorize() through
 * the pool.  Content phase: list, get, update, delete and content, each one
 * statement that also writes its audit_log row.  While a statement runs the
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


#define NGX_HTTP_ATTACHMENTS_ACCESS_WAITING  1
#define NGX_HTTP_ATTACHMENTS_ACCESS_ALLOWED  2
#define NGX_HTTP_ATTACHMENTS_ACCESS_REFUSED  3

#define NGX_HTTP_ATTACHMENTS_LIMIT_DEFAULT   50
#define NGX_HTTP_ATTACHMENTS_LIMIT_MAX       100
#define NGX_HTTP_ATTACHMENTS_PATCH_MAX       65536


typedef struct {
    ngx_http_attachments_route_t     route;
    ngx_str_t                        user;
    ngx_str_t                        org;
    char                            *action;
    ngx_uint_t                       access;
    ngx_uint_t                       refused;   /* status */
    ngx_uint_t                       limit;
    ngx_str_t                        base;      /* of absolute URLs */
} ngx_http_attachments_ctx_t;


static ngx_int_t ngx_http_attachments_access_start(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx);
static ngx_int_t ngx_http_attachments_access_end(ngx_http_request_t *r,
    ngx_int_t rc);
static ngx_int_t ngx_http_attachments_method(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, char **allow);
static void ngx_http_attachments_authorized(
    ngx_http_attachments_pg_query_t *q);
static ngx_int_t ngx_http_attachments_refused(ngx_http_request_t *r,
    ngx_uint_t status);

static ngx_http_attachments_pg_query_t *ngx_http_attachments_statement(
    ngx_http_request_t *r, ngx_http_attachments_ctx_t *ctx,
    ngx_http_attachments_pg_stmt_t *stmt,
    ngx_http_attachments_pg_handler_pt handler);
static ngx_int_t ngx_http_attachments_run(ngx_http_request_t *r,
    ngx_http_attachments_pg_query_t *q);
static ngx_int_t ngx_http_attachments_result(ngx_http_request_t *r,
    ngx_http_attachments_pg_query_t *q);
static void ngx_http_attachments_finish(ngx_http_request_t *r, ngx_int_t rc);

static ngx_int_t ngx_http_attachments_list(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx);
static void ngx_http_attachments_list_done(ngx_http_attachments_pg_query_t *q);
static ngx_int_t ngx_http_attachments_file(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, char *audit);
static void ngx_http_attachments_file_done(ngx_http_attachments_pg_query_t *q);
static void ngx_http_attachments_patch(ngx_http_request_t *r);
static ngx_int_t ngx_http_attachments_patch_query(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, json_t *body);
static ngx_int_t ngx_http_attachments_delete(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx);
static void ngx_http_attachments_delete_done(
    ngx_http_attachments_pg_query_t *q);

static ngx_int_t ngx_http_attachments_body(ngx_http_request_t *r,
    ngx_str_t *body);
static json_t *ngx_http_attachments_file_json(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, PGresult *res, int row);
static ngx_int_t ngx_http_attachments_base(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx);
static json_t *ngx_http_attachments_json_str(u_char *p, size_t len);
static json_t *ngx_http_attachments_json_text(char *text);
static size_t ngx_http_attachments_time(u_char *buf, int64_t us,
    ngx_uint_t micro);


/* a file object's fields, in the order of the NGX_HTTP_ATTACHMENTS_COL_* */

#define NGX_HTTP_ATTACHMENTS_FIELD_STRING   0
#define NGX_HTTP_ATTACHMENTS_FIELD_INTEGER  1
#define NGX_HTTP_ATTACHMENTS_FIELD_JSON     2
#define NGX_HTTP_ATTACHMENTS_FIELD_TIME     3   /* from microseconds */

typedef struct {
    const char                      *name;
    ngx_uint_t                       type;
} ngx_http_attachments_field_t;

static ngx_http_attachments_field_t  ngx_http_attachments_fields[] = {
    { "id", NGX_HTTP_ATTACHMENTS_FIELD_STRING },
    { "entity_type", NGX_HTTP_ATTACHMENTS_FIELD_STRING },
    { "entity_id", NGX_HTTP_ATTACHMENTS_FIELD_STRING },
    { "organization_id", NGX_HTTP_ATTACHMENTS_FIELD_STRING },
    { "file_name", NGX_HTTP_ATTACHMENTS_FIELD_STRING },
    { "file_ext", NGX_HTTP_ATTACHMENTS_FIELD_STRING },
    { "content_type", NGX_HTTP_ATTACHMENTS_FIELD_STRING },
    { "size", NGX_HTTP_ATTACHMENTS_FIELD_INTEGER },
    { "sha256", NGX_HTTP_ATTACHMENTS_FIELD_STRING },
    { "category", NGX_HTTP_ATTACHMENTS_FIELD_STRING },
    { "tags", NGX_HTTP_ATTACHMENTS_FIELD_JSON },
    { "custom_fields", NGX_HTTP_ATTACHMENTS_FIELD_JSON },
    { "doc_version", NGX_HTTP_ATTACHMENTS_FIELD_INTEGER },
    { "visibility", NGX_HTTP_ATTACHMENTS_FIELD_STRING },
    { "uploaded_by", NGX_HTTP_ATTACHMENTS_FIELD_STRING },
    { "created_at", NGX_HTTP_ATTACHMENTS_FIELD_TIME },
    { "updated_at", NGX_HTTP_ATTACHMENTS_FIELD_TIME },
    { NULL, 0 }
};


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

    if (rc == NGX_DECLINED
        || ctx->route.kind > NGX_HTTP_ATTACHMENTS_ROUTE_CONTENT)
    {
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

    q = ngx_http_attachments_statement(r, ctx, &ngx_http_attachments_sql_authorize,
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
        methods = NGX_HTTP_GET;
        *allow = "GET";
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

    case NGX_HTTP_DELETE:
        ctx->action = "delete";
        break;

    case NGX_HTTP_POST:
        ctx->action = "upload";
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


static ngx_int_t
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
        rc = ngx_http_attachments_list(r, ctx);
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


static ngx_http_attachments_pg_query_t *
ngx_http_attachments_statement(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, ngx_http_attachments_pg_stmt_t *stmt,
    ngx_http_attachments_pg_handler_pt handler)
{
    ngx_str_t                          action, request_id;
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

    if (ctx->route.file_id.len
        && ngx_http_attachments_pg_param(r->pool, q, &ctx->route.file_id)
           != NGX_OK)
    {
        return NULL;
    }

    return q;
}


/* NGX_AGAIN: the statement runs; otherwise the request was answered */

static ngx_int_t
ngx_http_attachments_run(ngx_http_request_t *r,
    ngx_http_attachments_pg_query_t *q)
{
    if (ngx_http_attachments_pg_run(q) != NGX_AGAIN) {
        return ngx_http_attachments_send_unavailable(r);
    }

    /* a client that goes away frees its request; the statement goes on */
    r->read_event_handler = ngx_http_test_reading;

    return NGX_AGAIN;
}


/* NGX_OK: the statement gave its result; otherwise answered */

static ngx_int_t
ngx_http_attachments_result(ngx_http_request_t *r,
    ngx_http_attachments_pg_query_t *q)
{
    r->read_event_handler = ngx_http_block_reading;

    if (q->rc == NGX_OK) {
        return NGX_OK;
    }

    if (q->rc == NGX_ERROR) {
        return ngx_http_attachments_send_unavailable(r);
    }

    return ngx_http_attachments_refused(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
}


static void
ngx_http_attachments_finish(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_connection_t  *c;

    c = r->connection;

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


/* GET …/files */

static ngx_int_t
ngx_http_attachments_list(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx)
{
    ngx_int_t                         n;
    ngx_str_t                         limit, cursor, ts, id, category, tag;
    ngx_http_attachments_pg_query_t  *q;

    if (ngx_http_attachments_arg(r, "limit", &limit) != NGX_OK
        || ngx_http_attachments_arg(r, "cursor", &cursor) != NGX_OK
        || ngx_http_attachments_arg(r, "category", &category) != NGX_OK
        || ngx_http_attachments_arg(r, "tag", &tag) != NGX_OK
        || category.len > NGX_HTTP_ATTACHMENTS_CATEGORY_LEN
        || tag.len > NGX_HTTP_ATTACHMENTS_TAG_LEN
        || !ngx_http_attachments_utf8_valid(category.data, category.len)
        || !ngx_http_attachments_utf8_valid(tag.data, tag.len))
    {
        return ngx_http_attachments_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "invalid_request",
                   "category and tag are UTF-8 text of at most 128 bytes "
                   "without control characters");
    }

    ctx->limit = NGX_HTTP_ATTACHMENTS_LIMIT_DEFAULT;

    if (limit.len) {
        n = ngx_atoi(limit.data, limit.len);

        if (n < 1 || n > NGX_HTTP_ATTACHMENTS_LIMIT_MAX) {
            return ngx_http_attachments_send_error(r, NGX_HTTP_BAD_REQUEST,
                       "invalid_request", "limit must be 1 to 100");
        }

        ctx->limit = n;
    }

    if (cursor.len
        && ngx_http_attachments_cursor_parse(cursor.data, cursor.len, &ts, &id)
           != NGX_OK)
    {
        return ngx_http_attachments_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "invalid_request",
                   "cursor must be a next_cursor this API returned");
    }

    if (limit.len == 0) {
        ngx_str_set(&limit, "50");
    }

    q = ngx_http_attachments_statement(r, ctx, &ngx_http_attachments_sql_list,
                                   ngx_http_attachments_list_done);
    if (q == NULL
        || ngx_http_attachments_pg_param(r->pool, q, &limit) != NGX_OK
        || ngx_http_attachments_pg_param(r->pool, q, cursor.len ? &ts : NULL)
           != NGX_OK
        || ngx_http_attachments_pg_param(r->pool, q, cursor.len ? &id : NULL)
           != NGX_OK
        || ngx_http_attachments_pg_param(r->pool, q,
                                         category.len ? &category : NULL)
           != NGX_OK
        || ngx_http_attachments_pg_param(r->pool, q, tag.len ? &tag : NULL)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_attachments_run(r, q);
}


static void
ngx_http_attachments_list_done(ngx_http_attachments_pg_query_t *q)
{
    int                          i, n;
    char                        *v;
    u_char                      *p;
    json_t                      *files, *file, *next;
    ngx_int_t                    rc;
    ngx_http_request_t          *r;
    ngx_http_attachments_ctx_t  *ctx;
    u_char                       cursor[NGX_HTTP_ATTACHMENTS_CURSOR_TS_LEN + 1
                                        + NGX_HTTP_ATTACHMENTS_UUID_LEN];

    r = q->data;
    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);

    rc = ngx_http_attachments_result(r, q);
    if (rc != NGX_OK) {
        ngx_http_attachments_finish(r, rc);
        return;
    }

    n = PQntuples(q->result);

    files = json_array();
    if (files == NULL) {
        ngx_http_attachments_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    for (i = 0; i < n && i < (int) ctx->limit; i++) {
        file = ngx_http_attachments_file_json(r, ctx, q->result, i);

        if (json_array_append_new(files, file) != 0) {
            json_decref(files);
            ngx_http_attachments_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    /* the statement fetched one row more than the page to know */

    if (n > (int) ctx->limit) {
        v = PQgetvalue(q->result, ctx->limit - 1,
                       NGX_HTTP_ATTACHMENTS_COL_CREATED_AT);
        p = cursor + ngx_http_attachments_time(cursor,
                                     ngx_atoof((u_char *) v, ngx_strlen(v)), 1);
        *p++ = '_';
        p = ngx_cpymem(p, PQgetvalue(q->result, ctx->limit - 1,
                                     NGX_HTTP_ATTACHMENTS_COL_ID),
                       NGX_HTTP_ATTACHMENTS_UUID_LEN);

        next = ngx_http_attachments_json_str(cursor, p - cursor);

    } else {
        next = json_null();
    }

    ngx_http_attachments_finish(r,
        ngx_http_attachments_send_json(r, NGX_HTTP_OK,
            json_pack("{s:o,s:o}", "files", files, "next_cursor", next)));
}


/* GET …/files/{id} and GET …/files/{id}/content */

static ngx_int_t
ngx_http_attachments_file(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, char *audit)
{
    ngx_str_t                         action;
    ngx_http_attachments_pg_query_t  *q;

    action.data = (u_char *) audit;
    action.len = ngx_strlen(audit);

    q = ngx_http_attachments_statement(r, ctx, &ngx_http_attachments_sql_file,
                                   ngx_http_attachments_file_done);
    if (q == NULL
        || ngx_http_attachments_pg_param(r->pool, q, &action) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_attachments_run(r, q);
}


/* shared by get, content and update: the one file row is the answer */

static void
ngx_http_attachments_file_done(ngx_http_attachments_pg_query_t *q)
{
    ngx_int_t                        rc;
    ngx_str_t                        name, key;
    PGresult                        *res;
    ngx_http_request_t              *r;
    ngx_http_attachments_ctx_t      *ctx;
    ngx_http_attachments_grant_t     g;
    ngx_http_attachments_storage_t  *storage;

    r = q->data;
    res = q->result;
    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);

    rc = ngx_http_attachments_result(r, q);
    if (rc != NGX_OK) {
        ngx_http_attachments_finish(r, rc);
        return;
    }

    if (PQntuples(res) != 1) {
        ngx_http_attachments_finish(r,
            ngx_http_attachments_refused(r, NGX_HTTP_NOT_FOUND));
        return;
    }

    if (ctx->route.kind != NGX_HTTP_ATTACHMENTS_ROUTE_CONTENT) {
        ngx_http_attachments_finish(r,
            ngx_http_attachments_send_json(r, NGX_HTTP_OK,
                ngx_http_attachments_file_json(r, ctx, res, 0)));
        return;
    }

    name.data = (u_char *) PQgetvalue(res, 0, NGX_HTTP_ATTACHMENTS_COL_STORAGE);
    name.len = ngx_strlen(name.data);
    key.data = (u_char *) PQgetvalue(res, 0,
                                     NGX_HTTP_ATTACHMENTS_COL_STORAGE_KEY);
    key.len = ngx_strlen(key.data);

    storage = ngx_http_attachments_storage_by_name(r, &name);

    if (storage == NULL || !ngx_http_attachments_key_safe(key.data, key.len)) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "attachments: file %s cannot be served: %s",
                      PQgetvalue(res, 0, NGX_HTTP_ATTACHMENTS_COL_ID),
                      storage ? "unsafe storage key" : "unknown storage");
        ngx_http_attachments_finish(r,
            ngx_http_attachments_refused(r, NGX_HTTP_INTERNAL_SERVER_ERROR));
        return;
    }

    ngx_memzero(&g, sizeof(ngx_http_attachments_grant_t));

    g.filename.data = (u_char *) PQgetvalue(res, 0,
                                            NGX_HTTP_ATTACHMENTS_COL_FILE_NAME);
    g.filename.len = ngx_strlen(g.filename.data);
    g.type.data = (u_char *) PQgetvalue(res, 0,
                                        NGX_HTTP_ATTACHMENTS_COL_CONTENT_TYPE);
    g.type.len = ngx_strlen(g.type.data);

    ngx_http_attachments_finish(r,
        ngx_http_attachments_serve(r, storage, &key, &g));
}


/* PATCH …/files/{id}, once the body is read */

static void
ngx_http_attachments_patch(ngx_http_request_t *r)
{
    json_t                      *json;
    ngx_int_t                    rc;
    ngx_str_t                    body;
    json_error_t                 err;
    ngx_http_attachments_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);

    rc = ngx_http_attachments_body(r, &body);

    if (rc == NGX_DECLINED) {
        ngx_http_finalize_request(r,
            ngx_http_attachments_send_error(r,
                NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "body_too_large",
                "a metadata update is at most 64k of JSON"));
        return;
    }

    if (rc != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    json = json_loadb((char *) body.data, body.len,
                      JSON_REJECT_DUPLICATES|JSON_DECODE_ANY, &err);

    if (json == NULL) {
        ngx_http_finalize_request(r,
            ngx_http_attachments_send_error(r, NGX_HTTP_BAD_REQUEST,
                                            "malformed_json", err.text));
        return;
    }

    rc = ngx_http_attachments_patch_query(r, ctx, json);
    json_decref(json);

    if (rc != NGX_AGAIN) {
        ngx_http_finalize_request(r, rc);
    }
}


static ngx_int_t
ngx_http_attachments_patch_query(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, json_t *body)
{
    char                             *text;
    ngx_str_t                         value[4];
    ngx_uint_t                        i;
    const char                       *err;
    ngx_http_attachments_meta_t       meta;
    ngx_http_attachments_pg_query_t  *q;

    err = ngx_http_attachments_meta_parse(body, &meta);

    if (err) {
        return ngx_http_attachments_send_error(r,
                   NGX_HTTP_ATTACHMENTS_UNPROCESSABLE, "invalid_metadata",
                   err);
    }

    /* $8 tags, $9 custom_fields, $10 set category?, $11 category */

    q = ngx_http_attachments_statement(r, ctx, &ngx_http_attachments_sql_update,
                                   ngx_http_attachments_file_done);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < 2; i++) {
        ngx_str_null(&value[i]);
        text = NULL;

        if ((i == 0 ? meta.tags : meta.custom_fields) != NULL) {
            text = json_dumps(i == 0 ? meta.tags : meta.custom_fields,
                              JSON_COMPACT);
            if (text == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            value[i].data = (u_char *) text;
            value[i].len = ngx_strlen(text);
        }

        /* the parameter is a copy in the request pool */

        if (ngx_http_attachments_pg_param(r->pool, q,
                                          text ? &value[i] : NULL)
            != NGX_OK)
        {
            free(text);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        free(text);
    }

    if (meta.category) {
        ngx_str_set(&value[2], "true");

    } else {
        ngx_str_set(&value[2], "false");
    }

    if (json_is_string(meta.category)) {
        value[3].data = (u_char *) json_string_value(meta.category);
        value[3].len = json_string_length(meta.category);
    }

    if (ngx_http_attachments_pg_param(r->pool, q, &value[2]) != NGX_OK
        || ngx_http_attachments_pg_param(r->pool, q,
                                         json_is_string(meta.category)
                                         ? &value[3] : NULL)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_attachments_run(r, q);
}


/* DELETE …/files/{id} */

static ngx_int_t
ngx_http_attachments_delete(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx)
{
    ngx_http_attachments_pg_query_t  *q;

    q = ngx_http_attachments_statement(r, ctx, &ngx_http_attachments_sql_delete,
                                   ngx_http_attachments_delete_done);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_attachments_run(r, q);
}


static void
ngx_http_attachments_delete_done(ngx_http_attachments_pg_query_t *q)
{
    ngx_int_t            rc;
    ngx_http_request_t  *r;

    r = q->data;

    rc = ngx_http_attachments_result(r, q);

    if (rc == NGX_OK) {
        if (PQntuples(q->result) != 1) {
            rc = ngx_http_attachments_refused(r, NGX_HTTP_NOT_FOUND);

        } else {
            r->headers_out.status = NGX_HTTP_NO_CONTENT;
            r->headers_out.content_length_n = 0;
            r->header_only = 1;

            rc = ngx_http_send_header(r);
        }
    }

    ngx_http_attachments_finish(r, rc);
}


/*
 * The request body in one piece.  NGX_DECLINED: larger than a metadata
 * update may be.
 */

static ngx_int_t
ngx_http_attachments_body(ngx_http_request_t *r, ngx_str_t *body)
{
    off_t         len;
    ssize_t       n;
    u_char       *p;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    ngx_str_null(body);

    if (r->request_body == NULL) {
        return NGX_OK;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        len += ngx_buf_size(cl->buf);
    }

    if (len > NGX_HTTP_ATTACHMENTS_PATCH_MAX) {
        return NGX_DECLINED;
    }

    p = ngx_pnalloc(r->pool, len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file) {
            n = ngx_read_file(b->file, p, b->file_last - b->file_pos,
                              b->file_pos);
            if (n != b->file_last - b->file_pos) {
                return NGX_ERROR;
            }

            p += n;
            continue;
        }

        p = ngx_cpymem(p, b->pos, b->last - b->pos);
    }

    body->len = p - body->data;

    return NGX_OK;
}


static json_t *
ngx_http_attachments_file_json(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, PGresult *res, int row)
{
    char                            *v;
    u_char                          *p;
    json_t                          *file, *value, *url, *expires;
    ngx_str_t                        name, signed_url;
    ngx_uint_t                       i;
    ngx_http_attachments_link_t      link;
    ngx_http_attachments_field_t    *f;
    u_char                           at[NGX_HTTP_ATTACHMENTS_CURSOR_TS_LEN];

    file = json_object();
    if (file == NULL) {
        return NULL;
    }

    for (i = 0, f = ngx_http_attachments_fields; f->name; i++, f++) {

        if (PQgetisnull(res, row, i)) {
            value = json_null();

        } else {
            v = PQgetvalue(res, row, i);

            switch (f->type) {

            case NGX_HTTP_ATTACHMENTS_FIELD_INTEGER:
                value = json_integer(ngx_atoof((u_char *) v, ngx_strlen(v)));
                break;

            case NGX_HTTP_ATTACHMENTS_FIELD_JSON:
                value = ngx_http_attachments_json_text(v);
                break;

            case NGX_HTTP_ATTACHMENTS_FIELD_TIME:
                value = ngx_http_attachments_json_str(at,
                            ngx_http_attachments_time(at,
                                ngx_atoof((u_char *) v, ngx_strlen(v)), 0));
                break;

            default:
                value = json_string(v);
            }
        }

        /* the keys are ours: no need to check them for UTF-8 */

        if (json_object_set_new_nocheck(file, f->name, value) != 0) {
            goto failed;
        }
    }

    /* a fresh signed URL; the storage key goes nowhere else */

    url = json_null();
    expires = json_null();

    name.data = (u_char *) PQgetvalue(res, row,
                                      NGX_HTTP_ATTACHMENTS_COL_STORAGE);
    name.len = ngx_strlen(name.data);

    ngx_memzero(&link, sizeof(ngx_http_attachments_link_t));

    link.storage = ngx_http_attachments_storage_by_name(r, &name);

    if (link.storage == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "attachments: file %s is in storage \"%V\", which is "
                      "not configured", PQgetvalue(res, row, 0), &name);

    } else {
        link.key.data = (u_char *) PQgetvalue(res, row,
                                         NGX_HTTP_ATTACHMENTS_COL_STORAGE_KEY);
        link.key.len = ngx_strlen(link.key.data);
        link.filename.data = (u_char *) PQgetvalue(res, row,
                                          NGX_HTTP_ATTACHMENTS_COL_FILE_NAME);
        link.filename.len = ngx_strlen(link.filename.data);
        link.type.data = (u_char *) PQgetvalue(res, row,
                                       NGX_HTTP_ATTACHMENTS_COL_CONTENT_TYPE);
        link.type.len = ngx_strlen(link.type.data);

        if (ngx_http_attachments_base(r, ctx) != NGX_OK) {
            goto failed;
        }

        if (ngx_http_attachments_signed_url(r, &link, &signed_url) == NGX_OK)
        {
            p = ngx_pnalloc(r->pool, ctx->base.len + signed_url.len);
            if (p == NULL) {
                goto failed;
            }

            signed_url.len = ngx_cpymem(ngx_cpymem(p, ctx->base.data,
                                                   ctx->base.len),
                                        signed_url.data, signed_url.len)
                             - p;
            signed_url.data = p;

            url = ngx_http_attachments_json_str(signed_url.data,
                                                signed_url.len);
            expires = ngx_http_attachments_json_str(at,
                          ngx_http_attachments_time(at,
                              (int64_t) link.expires * 1000000, 0));
        }
    }

    if (json_object_set_new_nocheck(file, "download_url", url) != 0
        || json_object_set_new_nocheck(file, "download_url_expires_at",
                                       expires)
           != 0)
    {
        goto failed;
    }

    return file;

failed:

    json_decref(file);
    return NULL;
}


/* scheme and host of absolute URLs: attachments_base_url or the request's */

static ngx_int_t
ngx_http_attachments_base(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx)
{
    u_char                           *p;
    ngx_str_t                         scheme;
    ngx_http_attachments_loc_conf_t  *alcf;

    if (ctx->base.data) {
        return NGX_OK;
    }

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_attachments_module);

    if (alcf->base_url) {
        if (ngx_http_complex_value(r, alcf->base_url, &ctx->base) != NGX_OK) {
            return NGX_ERROR;
        }

        while (ctx->base.len && ctx->base.data[ctx->base.len - 1] == '/') {
            ctx->base.len--;
        }

        if (ctx->base.data == NULL) {
            ctx->base.data = (u_char *) "";
        }

        return NGX_OK;
    }

    if (r->headers_in.host == NULL) {
        /* HTTP/1.0 without Host: URLs stay relative */
        ngx_str_set(&ctx->base, "");
        return NGX_OK;
    }

#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        ngx_str_set(&scheme, "https://");
    } else
#endif
    {
        ngx_str_set(&scheme, "http://");
    }

    p = ngx_pnalloc(r->pool, scheme.len + r->headers_in.host->value.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ctx->base.data = p;
    p = ngx_cpymem(p, scheme.data, scheme.len);
    p = ngx_cpymem(p, r->headers_in.host->value.data,
                   r->headers_in.host->value.len);
    ctx->base.len = p - ctx->base.data;

    return NGX_OK;
}


/* ASCII we made ourselves: jansson need not check it for UTF-8 */

static json_t *
ngx_http_attachments_json_str(u_char *p, size_t len)
{
    return json_stringn_nocheck((const char *) p, len);
}


/* jsonb text from PostgreSQL; the usual empty values need no parser */

static json_t *
ngx_http_attachments_json_text(char *text)
{
    if (text[0] == '[' && text[1] == ']' && text[2] == '\0') {
        return json_array();
    }

    if (text[0] == '{' && text[1] == '}' && text[2] == '\0') {
        return json_object();
    }

    return json_loads(text, 0, NULL);
}


/*
 * RFC 3339 UTC, "2026-02-01T10:30:00Z", or with micro set the cursor's
 * "2026-02-01T10:30:00.000000"
 */

static size_t
ngx_http_attachments_time(u_char *buf, int64_t us, ngx_uint_t micro)
{
    u_char    *p;
    ngx_tm_t   tm;

    if (us < 0) {
        us = 0;
    }

    ngx_gmtime((time_t) (us / 1000000), &tm);

    p = ngx_sprintf(buf, "%4d-%02d-%02dT%02d:%02d:%02d",
                    tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                    tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec);

    if (micro) {
        p = ngx_sprintf(p, ".%06L", us % 1000000);

    } else {
        *p++ = 'Z';
    }

    return p - buf;
}
