
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * The file endpoints of the API: list, get, content, update, delete,
 * versions, and the caller's usage.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_attachments_sign.h"
#include "ngx_http_attachments_input.h"
#include "ngx_http_attachments_json.h"
#include "ngx_http_attachments_sql.h"
#include "ngx_http_attachments_storage.h"
#include "ngx_http_attachments_module.h"
#include "ngx_http_attachments_request.h"
#include "ngx_http_attachments_object.h"
#include "ngx_http_attachments_files.h"


#define NGX_HTTP_ATTACHMENTS_LIMIT_DEFAULT   50
#define NGX_HTTP_ATTACHMENTS_LIMIT_MAX       100


static void ngx_http_attachments_list_done(ngx_http_attachments_pg_query_t *q);
static void ngx_http_attachments_file_done(ngx_http_attachments_pg_query_t *q);
static ngx_int_t ngx_http_attachments_patch_too_large(ngx_http_request_t *r);
static void ngx_http_attachments_patch_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_attachments_patch_query(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, json_t *body);
static void ngx_http_attachments_delete_done(
    ngx_http_attachments_pg_query_t *q);
static void ngx_http_attachments_usage_done(
    ngx_http_attachments_pg_query_t *q);
static void ngx_http_attachments_versions_done(
    ngx_http_attachments_pg_query_t *q);


/* GET .../files */

ngx_int_t
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
    int                               n, page;
    char                             *v;
    u_char                           *p;
    ngx_http_request_t               *r;
    ngx_http_attachments_ctx_t       *ctx;
    ngx_http_attachments_json_out_t   out;
    u_char                            cursor[NGX_HTTP_ATTACHMENTS_CURSOR_TS_LEN
                                             + 1
                                             + NGX_HTTP_ATTACHMENTS_UUID_LEN];

    r = q->data;
    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);

    if (ngx_http_attachments_failed(r, q, 0)) {
        return;
    }

    n = PQntuples(q->result);
    page = ngx_min(n, (int) ctx->limit);

    ngx_http_attachments_json_init(&out, r->pool,
                                   page * NGX_HTTP_ATTACHMENTS_FILE_OBJECT_SIZE);
    ngx_http_attachments_json_literal(&out, "{\"files\":");
    ngx_http_attachments_file_objects(r, ctx, &out, q->result, page);
    ngx_http_attachments_json_literal(&out, ",\"next_cursor\":");

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

        ngx_http_attachments_json_string(&out, cursor, p - cursor);

    } else {
        ngx_http_attachments_json_literal(&out, "null");
    }

    ngx_http_attachments_json_literal(&out, "}");

    ngx_http_attachments_finish(r,
        ngx_http_attachments_send_objects(r, NGX_HTTP_OK, &out));
}


/* GET .../files/{id} and GET .../files/{id}/content */

ngx_int_t
ngx_http_attachments_file(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, char *audit)
{
    ngx_str_t                         action;
    ngx_http_attachments_pg_query_t  *q;

    action.data = (u_char *) audit;
    action.len = ngx_strlen(audit);

    q = ngx_http_attachments_file_statement(r, ctx,
                                            &ngx_http_attachments_sql_file,
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
    ngx_str_t                        name, key;
    PGresult                        *res;
    ngx_http_request_t              *r;
    ngx_http_attachments_ctx_t      *ctx;
    ngx_http_attachments_link_t      link;
    ngx_http_attachments_storage_t  *storage;

    r = q->data;
    res = q->result;
    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);

    if (ngx_http_attachments_failed(r, q, 1)) {
        return;
    }

    if (ctx->route.kind != NGX_HTTP_ATTACHMENTS_ROUTE_CONTENT) {
        ngx_http_attachments_finish(r,
            ngx_http_attachments_send_file(r, ctx, NGX_HTTP_OK, res, 0));
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

    ngx_http_attachments_link(r, &link);

    link.storage = storage;
    link.key = key;
    link.filename.data = (u_char *) PQgetvalue(res, 0,
                                           NGX_HTTP_ATTACHMENTS_COL_FILE_NAME);
    link.filename.len = ngx_strlen(link.filename.data);
    link.type.data = (u_char *) PQgetvalue(res, 0,
                                       NGX_HTTP_ATTACHMENTS_COL_CONTENT_TYPE);
    link.type.len = ngx_strlen(link.type.data);

    ngx_http_attachments_finish(r, ngx_http_attachments_storage_serve(r, &link));
}


/*
 * PATCH .../files/{id}: a body announced larger than an update may be is
 * refused before it is read, whatever client_max_body_size allows
 */

ngx_int_t
ngx_http_attachments_patch(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    if (r->headers_in.content_length_n > NGX_HTTP_ATTACHMENTS_BODY_MAX) {
        r->keepalive = 0;
        r->lingering_close = 1;

        return ngx_http_attachments_patch_too_large(r);
    }

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r,
                                           ngx_http_attachments_patch_body);
    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static ngx_int_t
ngx_http_attachments_patch_too_large(ngx_http_request_t *r)
{
    return ngx_http_attachments_send_error(r,
               NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "body_too_large",
               "a metadata update is at most 64k of JSON");
}


/* PATCH .../files/{id}, once the body is read */

static void
ngx_http_attachments_patch_body(ngx_http_request_t *r)
{
    json_t                      *json;
    ngx_int_t                    rc;
    ngx_http_attachments_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);

    rc = ngx_http_attachments_json_body(r,
             "a metadata update is at most 64k of JSON", &json);

    if (json == NULL) {
        ngx_http_finalize_request(r, rc);
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

    /* after the file id: tags, custom_fields, set category?, category */

    q = ngx_http_attachments_file_statement(r, ctx,
                                            &ngx_http_attachments_sql_update,
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


/* DELETE .../files/{id} */

ngx_int_t
ngx_http_attachments_delete(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx)
{
    return ngx_http_attachments_run(r,
               ngx_http_attachments_file_statement(r, ctx,
                   &ngx_http_attachments_sql_delete,
                   ngx_http_attachments_delete_done));
}


static void
ngx_http_attachments_delete_done(ngx_http_attachments_pg_query_t *q)
{
    ngx_http_request_t  *r;

    r = q->data;

    if (ngx_http_attachments_failed(r, q, 1)) {
        return;
    }

    r->headers_out.status = NGX_HTTP_NO_CONTENT;
    r->headers_out.content_length_n = 0;
    r->header_only = 1;

    ngx_http_attachments_finish(r, ngx_http_send_header(r));
}


/* GET /usage: the caller's organization and the caller, against quotas */

ngx_int_t
ngx_http_attachments_usage(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx)
{
    return ngx_http_attachments_run(r,
               ngx_http_attachments_statement(r, ctx,
                   &ngx_http_attachments_sql_usage,
                   ngx_http_attachments_usage_done));
}


static void
ngx_http_attachments_usage_done(ngx_http_attachments_pg_query_t *q)
{
    int                          i;
    char                        *v;
    json_t                      *n[4];
    ngx_http_request_t          *r;
    ngx_http_attachments_ctx_t  *ctx;

    r = q->data;
    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);

    /* no row: the caller is no member of the organization */
    if (ngx_http_attachments_failed(r, q, 1)) {
        return;
    }

    /* used and limit of the organization, then of the user; no limit: null */

    for (i = 0; i < 4; i++) {
        v = PQgetvalue(q->result, 0, i);
        n[i] = PQgetisnull(q->result, 0, i)
               ? json_null()
               : json_integer(ngx_atoof((u_char *) v, ngx_strlen(v)));
    }

    ngx_http_attachments_finish(r,
        ngx_http_attachments_send_json(r, NGX_HTTP_OK,
            json_pack("{s:{s:s%,s:o,s:o},s:{s:s%,s:o,s:o}}",
                      "organization",
                      "id", ctx->org.data, ctx->org.len,
                      "used_bytes", n[0], "limit_bytes", n[1],
                      "user",
                      "id", ctx->user.data, ctx->user.len,
                      "used_bytes", n[2], "limit_bytes", n[3])));
}


/* GET .../files/{id}/versions: the document's visible versions, newest first */

ngx_int_t
ngx_http_attachments_versions(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx)
{
    return ngx_http_attachments_run(r,
               ngx_http_attachments_file_statement(r, ctx,
                   &ngx_http_attachments_sql_versions,
                   ngx_http_attachments_versions_done));
}


static void
ngx_http_attachments_versions_done(ngx_http_attachments_pg_query_t *q)
{
    int                          n;
    ngx_http_request_t          *r;
    ngx_http_attachments_ctx_t  *ctx;

    r = q->data;
    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);

    if (ngx_http_attachments_failed(r, q, 0)) {
        return;
    }

    n = PQntuples(q->result);

    if (n == 0) {
        ngx_http_attachments_finish(r,
            ngx_http_attachments_refused(r, NGX_HTTP_NOT_FOUND));
        return;
    }

    ngx_http_attachments_finish(r,
        ngx_http_attachments_send_files(r, ctx, NGX_HTTP_OK, q->result, n));
}
