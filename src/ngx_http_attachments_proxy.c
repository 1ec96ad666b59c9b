
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * A storage operation as a subrequest to an internal location whose
 * proxy_pass reaches the store without blocking (as auth_request does):
 * the request's method and signed headers, the client's own headers left
 * out, the body a file sent from disk.  The request sleeps until the
 * store answered (op->status) or could not be reached (502, 504).  What a
 * GET answers never reaches the client: a body filter takes it into the
 * operation (its first bytes, its hash) as it arrives.  Also a client's
 * download a kind streams from its store by internal redirect to the same
 * location: only the headers a download needs go either way, and a
 * refusal of the store is answered in JSON.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <openssl/evp.h>

#include "ngx_http_attachments_json.h"
#include "ngx_http_attachments_storage.h"
#include "ngx_http_attachments_proxy.h"


#define NGX_HTTP_ATTACHMENTS_STREAM_404                                       \
    "{\"error\":{\"code\":\"not_found\","                                   \
    "\"message\":\"the file is not in its storage\"}}\n"
#define NGX_HTTP_ATTACHMENTS_STREAM_416                                       \
    "{\"error\":{\"code\":\"range_not_satisfiable\","                       \
    "\"message\":\"the range or the condition does not fit the file\"}}\n"
#define NGX_HTTP_ATTACHMENTS_STREAM_503                                       \
    "{\"error\":{\"code\":\"unavailable\","                                 \
    "\"message\":\"the storage is unavailable, retry later\"}}\n"


static ngx_int_t ngx_http_attachments_proxy_header(ngx_http_request_t *r,
    ngx_list_t *headers, ngx_keyval_t *kv);
static ngx_int_t ngx_http_attachments_proxy_body(ngx_http_request_t *sr,
    ngx_http_attachments_storage_op_t *op);
static ngx_int_t ngx_http_attachments_proxy_sent(ngx_http_request_t *sr,
    void *data, ngx_int_t rc);
static ngx_int_t ngx_http_attachments_proxy_keep(ngx_pool_t *pool,
    ngx_list_t *from, ngx_str_t *names, ngx_list_t *to);
static ngx_int_t ngx_http_attachments_proxy_header_filter(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_attachments_proxy_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static ngx_int_t ngx_http_attachments_proxy_take(
    ngx_http_attachments_storage_op_t *op, u_char *p, size_t n);
static ngx_int_t ngx_http_attachments_proxy_take_file(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op, ngx_buf_t *b);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


/* a streamed download: under way; refused by the store, answered in JSON */
#define NGX_HTTP_ATTACHMENTS_STREAM         1
#define NGX_HTTP_ATTACHMENTS_STREAM_FAILED  2
#define NGX_HTTP_ATTACHMENTS_STREAM_SENT    3


/*
 * The body filter that keeps GET answers from the client, and the filters
 * of downloads streamed from a store
 */

ngx_int_t
ngx_http_attachments_proxy_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_attachments_proxy_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_attachments_proxy_filter;

    return NGX_OK;
}


/*
 * A client's download streamed from the store: redirected to uri (a
 * proxy= location) with only the client's Range and If-Range and auth as
 * Authorization, so that none of its cookies or credentials reach the
 * store.  The caller finalizes r with NGX_DONE.
 */

ngx_int_t
ngx_http_attachments_proxy_stream(ngx_http_request_t *r, ngx_str_t *uri,
    ngx_str_t *args, ngx_str_t *auth)
{
    ngx_list_t    headers;
    ngx_keyval_t  kv;

    static ngx_str_t  kinds[] = {
        ngx_string("Range"),
        ngx_string("If-Range"),
        ngx_null_string
    };

    if (ngx_http_attachments_proxy_keep(r->pool, &r->headers_in.headers,
                                        kinds, &headers)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_str_set(&kv.key, "Authorization");
    kv.value = *auth;

    if (ngx_http_attachments_proxy_header(r, &headers, &kv) != NGX_OK) {
        return NGX_ERROR;
    }

    r->headers_in.headers = headers;
    r->headers_in.authorization = NULL;

    (void) ngx_http_internal_redirect(r, uri, args);

    /* the redirect cleared the contexts: the mark comes after */
    return ngx_http_attachments_storage_mark(r, NGX_HTTP_ATTACHMENTS_STREAM);
}


/* into to: the headers of from named in names (up to an empty name) */

static ngx_int_t
ngx_http_attachments_proxy_keep(ngx_pool_t *pool, ngx_list_t *from,
    ngx_str_t *names, ngx_list_t *to)
{
    ngx_uint_t        i, k;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *kept;

    if (ngx_list_init(to, pool, 8, sizeof(ngx_table_elt_t)) != NGX_OK) {
        return NGX_ERROR;
    }

    part = &from->part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        for (k = 0; h[i].hash && names[k].len; k++) {
            if (h[i].key.len == names[k].len
                && ngx_strncasecmp(h[i].key.data, names[k].data,
                                   names[k].len) == 0)
            {
                kept = ngx_list_push(to);
                if (kept == NULL) {
                    return NGX_ERROR;
                }

                *kept = h[i];
                break;
            }
        }
    }

    return NGX_OK;
}


/*
 * A streamed download's answer: the store's headers but those a download
 * has (no cookie, no challenge of the store's); a refusal of the store is
 * answered in JSON (404 when the file is not there, 503 otherwise), its
 * body never sent
 */

static ngx_int_t
ngx_http_attachments_proxy_header_filter(ngx_http_request_t *r)
{
    ngx_uint_t   level;
    ngx_list_t   headers;

    static ngx_str_t  kinds[] = {
        ngx_string("Content-Disposition"),
        ngx_string("X-Content-Type-Options"),
        ngx_string("Content-Length"),
        ngx_string("Content-Range"),
        ngx_string("Accept-Ranges"),
        ngx_string("Last-Modified"),
        ngx_string("ETag"),
        ngx_string("Cache-Control"),
        ngx_null_string
    };

    if (r != r->main
        || ngx_http_attachments_storage_marked(r)
           != NGX_HTTP_ATTACHMENTS_STREAM)
    {
        return ngx_http_next_header_filter(r);
    }

    if (ngx_http_attachments_proxy_keep(r->pool, &r->headers_out.headers,
                                        kinds, &headers)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    r->headers_out.headers = headers;
    r->headers_out.location = NULL;
    r->headers_out.www_authenticate = NULL;
    r->headers_out.refresh = NULL;

    r->headers_out.status_line.len = 0;

    switch (r->headers_out.status) {

    case NGX_HTTP_OK:
    case NGX_HTTP_PARTIAL_CONTENT:
    case NGX_HTTP_NOT_MODIFIED:
        return ngx_http_next_header_filter(r);
    }

    level = (r->headers_out.status == NGX_HTTP_RANGE_NOT_SATISFIABLE
             || r->headers_out.status == NGX_HTTP_PRECONDITION_FAILED)
            ? NGX_LOG_INFO : NGX_LOG_ERR;

    ngx_log_error(level, r->connection->log, 0,
                  "attachments: the store answered a download %ui",
                  r->headers_out.status);

    if (ngx_http_attachments_storage_mark(r,
                                          NGX_HTTP_ATTACHMENTS_STREAM_FAILED)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* the store's own page never reaches the client */

    ngx_http_clear_content_length(r);
    ngx_http_clear_accept_ranges(r);
    ngx_http_clear_last_modified(r);
    ngx_http_clear_etag(r);
    r->headers_out.content_range = NULL;
    r->headers_out.status_line.len = 0;
    r->headers_out.headers.part.nelts = 0;
    r->headers_out.headers.last = &r->headers_out.headers.part;

    if (r->headers_out.status == NGX_HTTP_NOT_FOUND
        || r->headers_out.status == 410)
    {
        r->headers_out.status = NGX_HTTP_NOT_FOUND;
        r->headers_out.content_length_n =
            sizeof(NGX_HTTP_ATTACHMENTS_STREAM_404) - 1;

    } else if (r->headers_out.status == NGX_HTTP_RANGE_NOT_SATISFIABLE
               || r->headers_out.status == NGX_HTTP_PRECONDITION_FAILED)
    {
        /* the client's own range or condition: its status, our body */
        r->headers_out.content_length_n =
            sizeof(NGX_HTTP_ATTACHMENTS_STREAM_416) - 1;

    } else {
        r->headers_out.status = NGX_HTTP_SERVICE_UNAVAILABLE;
        r->headers_out.content_length_n =
            sizeof(NGX_HTTP_ATTACHMENTS_STREAM_503) - 1;

        if (ngx_http_attachments_add_header(r, "Retry-After", "2") == NULL) {
            return NGX_ERROR;
        }
    }

    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.charset.len = 0;

    return ngx_http_next_header_filter(r);
}


/*
 * op (op->method, op->file of op->size bytes for a PUT) to uri, with n
 * headers: NGX_AGAIN, op->handler is called in the request's context;
 * the caller runs the posted requests.
 */

ngx_int_t
ngx_http_attachments_proxy_send(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op, ngx_str_t *uri, ngx_str_t *args,
    ngx_str_t *method, ngx_keyval_t *headers, ngx_uint_t n)
{
    ngx_uint_t                   i;
    ngx_http_request_t          *sr;
    ngx_http_post_subrequest_t  *ps;

    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    if (ps == NULL) {
        return NGX_ERROR;
    }

    ps->handler = ngx_http_attachments_proxy_sent;
    ps->data = op;

    if (ngx_http_subrequest(r, uri, args->len ? args : NULL, &sr, ps,
                            NGX_HTTP_SUBREQUEST_WAITED)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    sr->method = op->method;
    sr->method_name = *method;

    /* the store's answer counts by its status and headers, but a body the
       operation has room for (a GET's, the XML of an upload in parts) */
    sr->header_only = (op->head.data == NULL);

    /* the client's headers are not the store's business */

    ngx_memzero(&sr->headers_in, sizeof(ngx_http_headers_in_t));
    sr->headers_in.content_length_n = op->body.len ? (off_t) op->body.len
                                      : (op->method == NGX_HTTP_PUT)
                                      ? op->size : 0;

    if (ngx_list_init(&sr->headers_in.headers, r->pool, n + 1,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        if (ngx_http_attachments_proxy_header(r, &sr->headers_in.headers,
                                              &headers[i])
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (ngx_http_attachments_proxy_body(sr, op) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "attachments proxy: %V \"%V\"", method, uri);

    ngx_http_attachments_storage_wait(r, op);

    return NGX_AGAIN;
}


static ngx_int_t
ngx_http_attachments_proxy_header(ngx_http_request_t *r, ngx_list_t *headers,
    ngx_keyval_t *kv)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->lowcase_key = ngx_pnalloc(r->pool, kv->key.len);
    if (h->lowcase_key == NULL) {
        return NGX_ERROR;
    }

    h->key = kv->key;
    h->hash = ngx_hash_strlow(h->lowcase_key, h->key.data, h->key.len);
    h->value = kv->value;

    return NGX_OK;
}


/*
 * The subrequest's body: op->body, or the file (from op->offset), sent
 * from disk, or nothing
 */

static ngx_int_t
ngx_http_attachments_proxy_body(ngx_http_request_t *sr,
    ngx_http_attachments_storage_op_t *op)
{
    ngx_buf_t                 *b;
    ngx_pool_cleanup_t        *cln;
    ngx_pool_cleanup_file_t   *clnf;

    sr->request_body = ngx_pcalloc(sr->pool, sizeof(ngx_http_request_body_t));
    if (sr->request_body == NULL) {
        return NGX_ERROR;
    }

    if (op->body.len) {
        b = ngx_calloc_buf(sr->pool);
        if (b == NULL) {
            return NGX_ERROR;
        }

        b->pos = op->body.data;
        b->last = op->body.data + op->body.len;
        b->memory = 1;
        b->last_buf = 1;

        goto done;
    }

    if (op->method != NGX_HTTP_PUT || op->size == 0) {
        return NGX_OK;
    }

    b = ngx_calloc_buf(sr->pool);
    cln = ngx_pool_cleanup_add(sr->pool, sizeof(ngx_pool_cleanup_file_t));
    if (b == NULL || cln == NULL) {
        return NGX_ERROR;
    }

    b->file = ngx_pcalloc(sr->pool, sizeof(ngx_file_t));
    if (b->file == NULL) {
        return NGX_ERROR;
    }

    b->file->fd = ngx_open_file(op->file.data, NGX_FILE_RDONLY, NGX_FILE_OPEN,
                                0);
    if (b->file->fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_CRIT, sr->connection->log, ngx_errno,
                      ngx_open_file_n " \"%V\" failed", &op->file);
        return NGX_ERROR;
    }

    clnf = cln->data;
    clnf->fd = b->file->fd;
    clnf->name = op->file.data;
    clnf->log = sr->connection->log;
    cln->handler = ngx_pool_cleanup_file;

    b->file->name = op->file;
    b->file->log = sr->connection->log;
    b->in_file = 1;
    b->file_pos = op->offset;
    b->file_last = op->offset + op->size;
    b->last_buf = 1;

done:

    sr->request_body->bufs = ngx_alloc_chain_link(sr->pool);
    if (sr->request_body->bufs == NULL) {
        return NGX_ERROR;
    }

    sr->request_body->bufs->buf = b;
    sr->request_body->bufs->next = NULL;

    return NGX_OK;
}


/* the subrequest is done, maybe more than once: its status is kept */

static ngx_int_t
ngx_http_attachments_proxy_sent(ngx_http_request_t *sr, void *data,
    ngx_int_t rc)
{
    ngx_http_attachments_storage_op_t *op = data;

    ngx_uint_t                  i;
    ngx_list_part_t            *part;
    ngx_table_elt_t            *h;
    ngx_http_upstream_state_t  *state;

    op->sent = 0;

    if (sr->upstream_states) {
        state = sr->upstream_states->elts;

        for (i = 0; i < sr->upstream_states->nelts; i++) {
            op->sent += state[i].bytes_sent;
        }
    }

    if (sr->headers_out.status) {
        op->status = sr->headers_out.status;

    } else {
        op->status = (rc >= NGX_HTTP_SPECIAL_RESPONSE) ? (ngx_uint_t) rc
                                                       : NGX_HTTP_BAD_GATEWAY;
    }

    /*
     * an answer whose body was taken and broke off (the store gone, the
     * connection cut) is no answer: its status came before the break
     */

    if (op->head.data && ngx_http_attachments_op_done(op)
        && (rc == NGX_ERROR || rc >= NGX_HTTP_SPECIAL_RESPONSE
            || (sr->headers_out.content_length_n >= 0
                && op->received != sr->headers_out.content_length_n)))
    {
        ngx_log_error(NGX_LOG_ERR, sr->connection->log, 0,
                      "attachments: the store's answer for \"%V\" broke off "
                      "after %O bytes", &op->key, op->received);
        op->status = NGX_HTTP_BAD_GATEWAY;
    }

    /* S3's refusals are final; no answer after bytes went out is not */
    op->uncertain = (op->status == NGX_HTTP_BAD_GATEWAY
                     || op->status == NGX_HTTP_GATEWAY_TIME_OUT)
                    && op->sent > 0;

    if (op->method == NGX_HTTP_HEAD) {
        op->length = sr->headers_out.content_length_n;
    }

    part = &sr->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash == 0) {
            continue;
        }

        if (h[i].key.len == sizeof("x-amz-checksum-sha256") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "x-amz-checksum-sha256",
                               h[i].key.len) == 0)
        {
            op->stored = h[i].value;

        } else if (h[i].key.len == 4
                   && ngx_strncasecmp(h[i].key.data, (u_char *) "ETag", 4)
                      == 0)
        {
            op->etag = h[i].value;

        } else if (h[i].key.len == 8
                   && ngx_strncasecmp(h[i].key.data, (u_char *) "Location", 8)
                      == 0)
        {
            op->location = h[i].value;
        }
    }

    return rc;
}


/*
 * A GET through proxy= (a subrequest whose post_subrequest is ours): its
 * body is taken and marked sent, so the upstream reads on and nothing
 * goes to the client
 */

static ngx_int_t
ngx_http_attachments_proxy_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_buf_t                          *b;
    ngx_chain_t                        *cl, out;
    ngx_http_attachments_storage_op_t  *op;

    if (r == r->main
        && ngx_http_attachments_storage_marked(r)
           >= NGX_HTTP_ATTACHMENTS_STREAM_FAILED)
    {
        /* a refused download: the store's body goes, the JSON once */

        for (cl = in; cl; cl = cl->next) {
            cl->buf->pos = cl->buf->last;
            cl->buf->file_pos = cl->buf->file_last;
        }

        if (ngx_http_attachments_storage_marked(r)
            == NGX_HTTP_ATTACHMENTS_STREAM_SENT)
        {
            return NGX_OK;
        }

        b = ngx_calloc_buf(r->pool);
        if (b == NULL
            || ngx_http_attachments_storage_mark(r,
                                           NGX_HTTP_ATTACHMENTS_STREAM_SENT)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (r->headers_out.status == NGX_HTTP_NOT_FOUND) {
            b->pos = (u_char *) NGX_HTTP_ATTACHMENTS_STREAM_404;
            b->last = b->pos + sizeof(NGX_HTTP_ATTACHMENTS_STREAM_404) - 1;

        } else if (r->headers_out.status != NGX_HTTP_SERVICE_UNAVAILABLE) {
            b->pos = (u_char *) NGX_HTTP_ATTACHMENTS_STREAM_416;
            b->last = b->pos + sizeof(NGX_HTTP_ATTACHMENTS_STREAM_416) - 1;

        } else {
            b->pos = (u_char *) NGX_HTTP_ATTACHMENTS_STREAM_503;
            b->last = b->pos + sizeof(NGX_HTTP_ATTACHMENTS_STREAM_503) - 1;
        }

        b->memory = 1;
        b->last_buf = 1;

        out.buf = b;
        out.next = NULL;

        return ngx_http_next_body_filter(r, &out);
    }

    if (r == r->main || r->post_subrequest == NULL
        || r->post_subrequest->handler != ngx_http_attachments_proxy_sent)
    {
        return ngx_http_next_body_filter(r, in);
    }

    op = r->post_subrequest->data;

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file && !ngx_buf_in_memory(b)) {
            if (ngx_http_attachments_proxy_take_file(r, op, b) != NGX_OK) {
                return NGX_ERROR;
            }

            b->file_pos = b->file_last;
            continue;
        }

        if (ngx_buf_in_memory(b)
            && ngx_http_attachments_proxy_take(op, b->pos, b->last - b->pos)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        b->pos = b->last;

        if (b->in_file) {
            b->file_pos = b->file_last;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_attachments_proxy_take(ngx_http_attachments_storage_op_t *op,
    u_char *p, size_t n)
{
    size_t   k;
    u_char  *q, *last;

    op->received += n;

    if (op->xml) {
        /* a store keeps a long answer alive with blanks: they are not kept */

        for (q = p, last = p + n;
             q < last && op->head.len < op->head_size;
             q++)
        {
            if (*q != ' ' && *q != '\t' && *q != CR && *q != LF) {
                op->head.data[op->head.len++] = *q;
            }
        }

    } else if (op->head.data && op->head.len < op->head_size) {
        k = ngx_min(n, op->head_size - op->head.len);
        ngx_memcpy(op->head.data + op->head.len, p, k);
        op->head.len += k;
    }

    if (op->sha && EVP_DigestUpdate(op->sha, p, n) != 1) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* what proxy_buffering spilled to its temporary file is read back */

static ngx_int_t
ngx_http_attachments_proxy_take_file(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op, ngx_buf_t *b)
{
    off_t    pos;
    ssize_t  n;
    u_char   buf[8192];

    for (pos = b->file_pos; pos < b->file_last; pos += n) {
        n = ngx_read_file(b->file, buf,
                          (size_t) ngx_min(b->file_last - pos,
                                           (off_t) sizeof(buf)),
                          pos);
        if (n <= 0) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "attachments: reading the store's answer back "
                          "from \"%V\" failed", &b->file->name);
            return NGX_ERROR;
        }

        if (ngx_http_attachments_proxy_take(op, buf, n) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}
