
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * The request toolkit of the API's handlers: the request context the
 * access phase fills; running a statement for a request, with the
 * parameters every statement on a parent record shares; answering a
 * statement's failure or a refusal once; query arguments; the scheme and
 * host of absolute URLs.  While a statement runs the request sleeps and
 * the worker serves others; the statement's handler wakes it.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_sign.h"
#include "ngx_http_attachments_input.h"
#include "ngx_http_attachments_json.h"
#include "ngx_http_attachments_pg.h"
#include "ngx_http_attachments_sql.h"
#include "ngx_http_attachments_module.h"
#include "ngx_http_attachments_request.h"


static ngx_int_t ngx_http_attachments_decode(ngx_pool_t *pool,
    ngx_str_t *value);


ngx_http_attachments_pg_query_t *
ngx_http_attachments_statement(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, ngx_http_attachments_pg_stmt_t *stmt,
    ngx_http_attachments_pg_handler_pt handler)
{
    ngx_str_t                          action, request_id, audit;
    static ngx_str_t                   name = ngx_string("name");
    static ngx_str_t                   none = ngx_null_string;
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
            || ngx_http_attachments_pg_param(r->pool, q, &action) != NGX_OK
            || ngx_http_attachments_pg_param(r->pool, q,
                                             ctx->naming ? &name : &none)
               != NGX_OK)
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


/* a statement on one file: the common parameters, then its id */

ngx_http_attachments_pg_query_t *
ngx_http_attachments_file_statement(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, ngx_http_attachments_pg_stmt_t *stmt,
    ngx_http_attachments_pg_handler_pt handler)
{
    ngx_http_attachments_pg_query_t  *q;

    q = ngx_http_attachments_statement(r, ctx, stmt, handler);

    if (q == NULL
        || ngx_http_attachments_pg_param(r->pool, q, &ctx->route.file_id)
           != NGX_OK)
    {
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

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "attachments statement \"%s\"", q->stmt->name);

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


/* stmt with the parameters after the request's own, run as by run() */

static ngx_int_t ngx_http_attachments_body(ngx_http_request_t *r,
    ngx_str_t *body);


ngx_int_t
ngx_http_attachments_run_params(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, ngx_http_attachments_pg_stmt_t *stmt,
    ngx_http_attachments_pg_handler_pt handler, ngx_str_t **params,
    ngx_uint_t n)
{
    ngx_uint_t                        i;
    ngx_http_attachments_pg_query_t  *q;

    q = ngx_http_attachments_statement(r, ctx, stmt, handler);
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < n; i++) {
        if (ngx_http_attachments_pg_param(r->pool, q, params[i]) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ngx_http_attachments_run(r, q);
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


/*
 * A decoded query argument; an absent one is empty.  NGX_DECLINED: it has
 * control characters.
 */

ngx_int_t
ngx_http_attachments_arg(ngx_http_request_t *r, char *name, ngx_str_t *value)
{
    if (ngx_http_arg(r, (u_char *) name, ngx_strlen(name), value) != NGX_OK) {
        ngx_str_null(value);
        return NGX_OK;
    }

    return ngx_http_attachments_decode(r->pool, value);
}


/*
 * Percent-decodes a query value in place of its reference (a copy when it
 * has escapes).  NGX_DECLINED: it has control characters.
 */

static ngx_int_t
ngx_http_attachments_decode(ngx_pool_t *pool, ngx_str_t *value)
{
    if (value->len && memchr(value->data, '%', value->len) != NULL
        && ngx_http_attachments_unescape(pool, value) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (!ngx_http_attachments_printable(value->data, value->len)) {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* a decoded copy of an escaped value */

ngx_int_t
ngx_http_attachments_unescape(ngx_pool_t *pool, ngx_str_t *value)
{
    u_char  *dst;

    dst = ngx_pnalloc(pool, value->len);
    if (dst == NULL) {
        return NGX_ERROR;
    }

    value->len = ngx_http_attachments_percent_decode(dst, value->data,
                                                     value->len);
    value->data = dst;

    return NGX_OK;
}


/*
 * Scheme and host of the URLs the API returns: attachments_base_url, or
 * none (relative URLs).  Never the request's Host: a client must not be
 * able to make the links others are given point elsewhere.
 */

ngx_int_t
ngx_http_attachments_base(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx)
{
    ngx_http_attachments_loc_conf_t  *alcf;

    if (ctx->base.data) {
        return NGX_OK;
    }

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_attachments_module);

    if (alcf->base_url == NULL) {
        ngx_str_set(&ctx->base, "");
        return NGX_OK;
    }

    if (ngx_http_complex_value(r, alcf->base_url, &ctx->base) != NGX_OK) {
        return NGX_ERROR;
    }

    while (ctx->base.len && ctx->base.data[ctx->base.len - 1] == '/') {
        ctx->base.len--;
    }

    /* it may come from the request ($host): the answer must stay JSON */

    if (!ngx_http_attachments_utf8_valid(ctx->base.data, ctx->base.len)) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "attachments: attachments_base_url \"%V\" is not "
                      "UTF-8", &ctx->base);
        ngx_str_null(&ctx->base);
        return NGX_ERROR;
    }

    if (ctx->base.data == NULL) {
        ctx->base.data = (u_char *) "";
    }

    return NGX_OK;
}


/*
 * A JSON request body (a metadata update, a direct upload), parsed.  With
 * *json NULL, the answer to finalize with: 413 (too_large its message),
 * 400 malformed_json, 500.
 */

ngx_int_t
ngx_http_attachments_json_body(ngx_http_request_t *r, const char *too_large,
    json_t **json)
{
    ngx_int_t     rc;
    ngx_str_t     body;
    json_error_t  err;

    *json = NULL;

    rc = ngx_http_attachments_body(r, &body);

    if (rc == NGX_DECLINED) {
        return ngx_http_attachments_send_error(r,
                   NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "body_too_large",
                   too_large);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    *json = json_loadb((char *) body.data, body.len,
                       JSON_REJECT_DUPLICATES|JSON_DECODE_ANY, &err);

    if (*json == NULL) {
        return ngx_http_attachments_send_error(r, NGX_HTTP_BAD_REQUEST,
                                               "malformed_json", err.text);
    }

    return NGX_OK;
}


/* the request body in one piece; NGX_DECLINED: over 64k */

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

    if (len > NGX_HTTP_ATTACHMENTS_BODY_MAX) {
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
