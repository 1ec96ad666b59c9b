
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * The file object every answer of the API is made of (DESIGN.md, section
 * 3): a file row's fields, a fresh download URL from its storage (signed,
 * or permanent for public files), RFC 3339 times.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_sign.h"
#include "ngx_http_attachments_input.h"
#include "ngx_http_attachments_sql.h"
#include "ngx_http_attachments_json.h"
#include "ngx_http_attachments_storage.h"
#include "ngx_http_attachments_module.h"
#include "ngx_http_attachments_request.h"
#include "ngx_http_attachments_object.h"


/* a signed URL is written here first, not allocated, when it fits */
#define NGX_HTTP_ATTACHMENTS_URL_BUFFER  2048


static void ngx_http_attachments_public_url(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, ngx_http_attachments_json_out_t *out,
    ngx_http_attachments_storage_t *storage, u_char *key);
static void ngx_http_attachments_json_time(
    ngx_http_attachments_json_out_t *out, int64_t us);
static u_char *ngx_http_attachments_digits(u_char *p, ngx_uint_t n,
    ngx_uint_t width, u_char sep);


/* a file object's fields, in the order of the NGX_HTTP_ATTACHMENTS_COL_* */

#define NGX_HTTP_ATTACHMENTS_FIELD_STRING   0
#define NGX_HTTP_ATTACHMENTS_FIELD_INTEGER  1
#define NGX_HTTP_ATTACHMENTS_FIELD_JSON     2
#define NGX_HTTP_ATTACHMENTS_FIELD_TIME     3   /* from microseconds */


typedef struct {
    ngx_str_t                        key;      /* with what comes before */
    ngx_uint_t                       type;
} ngx_http_attachments_field_t;


#define ngx_http_attachments_field(name, type)                               \
    { ngx_string(",\"" name "\":"), NGX_HTTP_ATTACHMENTS_FIELD_ ## type }


static ngx_http_attachments_field_t  ngx_http_attachments_fields[] = {
    { ngx_string("{\"id\":"), NGX_HTTP_ATTACHMENTS_FIELD_STRING },
    ngx_http_attachments_field("entity_type", STRING),
    ngx_http_attachments_field("entity_id", STRING),
    ngx_http_attachments_field("organization_id", STRING),
    ngx_http_attachments_field("file_name", STRING),
    ngx_http_attachments_field("file_ext", STRING),
    ngx_http_attachments_field("content_type", STRING),
    ngx_http_attachments_field("size", INTEGER),
    ngx_http_attachments_field("sha256", STRING),
    ngx_http_attachments_field("category", STRING),
    ngx_http_attachments_field("tags", JSON),
    ngx_http_attachments_field("custom_fields", JSON),
    ngx_http_attachments_field("doc_version", INTEGER),
    ngx_http_attachments_field("visibility", STRING),
    ngx_http_attachments_field("uploaded_by", STRING),
    ngx_http_attachments_field("created_at", TIME),
    ngx_http_attachments_field("updated_at", TIME),
    { ngx_null_string, 0 }
};


/* a row as a file object, written straight into the response */

void
ngx_http_attachments_file_object(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, ngx_http_attachments_json_out_t *out,
    PGresult *res, int row)
{
    u_char                          *v;
    size_t                           len;
    ngx_str_t                        name, signed_url;
    ngx_uint_t                       i;
    ngx_http_attachments_link_t      link;
    ngx_http_attachments_field_t    *f;
    u_char                           buf[NGX_HTTP_ATTACHMENTS_URL_BUFFER];

    for (i = 0, f = ngx_http_attachments_fields; f->key.len; i++, f++) {

        ngx_http_attachments_json_raw(out, f->key.data, f->key.len);

        if (PQgetisnull(res, row, i)) {
            ngx_http_attachments_json_literal(out, "null");
            continue;
        }

        v = (u_char *) PQgetvalue(res, row, i);
        len = PQgetlength(res, row, i);

        switch (f->type) {

        case NGX_HTTP_ATTACHMENTS_FIELD_INTEGER:
            /* int8 text is already JSON */
            ngx_http_attachments_json_raw(out, v, len);
            break;

        case NGX_HTTP_ATTACHMENTS_FIELD_JSON:
            ngx_http_attachments_json_text(out, v, len);
            break;

        case NGX_HTTP_ATTACHMENTS_FIELD_TIME:
            ngx_http_attachments_json_time(out, ngx_atoof(v, len));
            break;

        default:
            ngx_http_attachments_json_string(out, v, len);
        }
    }

    /* a fresh signed URL; the storage key goes nowhere else */

    ngx_http_attachments_json_literal(out, ",\"download_url\":");

    name.data = (u_char *) PQgetvalue(res, row,
                                      NGX_HTTP_ATTACHMENTS_COL_STORAGE);
    name.len = PQgetlength(res, row, NGX_HTTP_ATTACHMENTS_COL_STORAGE);

    ngx_http_attachments_link(r, &link);

    link.storage = ngx_http_attachments_storage_by_name(r, &name);

    if (link.storage == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "attachments: file %s is in storage \"%V\", which is "
                      "not configured", PQgetvalue(res, row, 0), &name);

    } else if (ngx_http_attachments_base(r, ctx) != NGX_OK) {
        out->failed = 1;
        return;

    } else if (ngx_strcmp(PQgetvalue(res, row,
                                     NGX_HTTP_ATTACHMENTS_COL_VISIBILITY),
                          "public")
               == 0)
    {
        /* public: permanent and unsigned, under the storage's public= */

        ngx_http_attachments_public_url(r, ctx, out, link.storage,
                  (u_char *) PQgetvalue(res, row,
                                        NGX_HTTP_ATTACHMENTS_COL_STORAGE_KEY));
        ngx_http_attachments_json_literal(out,
                                          ",\"download_url_expires_at\":null}");
        return;

    } else {
        link.key.data = (u_char *) PQgetvalue(res, row,
                                         NGX_HTTP_ATTACHMENTS_COL_STORAGE_KEY);
        link.key.len = PQgetlength(res, row,
                                   NGX_HTTP_ATTACHMENTS_COL_STORAGE_KEY);
        link.filename.data = (u_char *) PQgetvalue(res, row,
                                          NGX_HTTP_ATTACHMENTS_COL_FILE_NAME);
        link.filename.len = PQgetlength(res, row,
                                        NGX_HTTP_ATTACHMENTS_COL_FILE_NAME);
        link.type.data = (u_char *) PQgetvalue(res, row,
                                       NGX_HTTP_ATTACHMENTS_COL_CONTENT_TYPE);
        link.type.len = PQgetlength(res, row,
                                    NGX_HTTP_ATTACHMENTS_COL_CONTENT_TYPE);
        link.base = ctx->base;
        link.buffer.data = buf;
        link.buffer.len = sizeof(buf);

        if (ngx_http_attachments_storage_presign(r, &link, &signed_url)
            == NGX_OK)
        {
            ngx_http_attachments_json_string(out, signed_url.data,
                                             signed_url.len);
            ngx_http_attachments_json_literal(out,
                                              ",\"download_url_expires_at\":");
            ngx_http_attachments_json_time(out,
                                           (int64_t) link.expires * 1000000);
            ngx_http_attachments_json_literal(out, "}");
            return;
        }
    }

    ngx_http_attachments_json_literal(out,
                                  "null,\"download_url_expires_at\":null}");
}


/* the first n rows as an array of file objects */

void
ngx_http_attachments_file_objects(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, ngx_http_attachments_json_out_t *out,
    PGresult *res, int n)
{
    int  i;

    ngx_http_attachments_json_literal(out, "[");

    for (i = 0; i < n; i++) {
        if (i) {
            ngx_http_attachments_json_literal(out, ",");
        }

        ngx_http_attachments_file_object(r, ctx, out, res, i);
    }

    ngx_http_attachments_json_literal(out, "]");
}


/* the answer of one file: its object */

ngx_int_t
ngx_http_attachments_send_file(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, ngx_uint_t status, PGresult *res,
    int row)
{
    ngx_http_attachments_json_out_t  out;

    ngx_http_attachments_json_init(&out, r->pool,
                                   NGX_HTTP_ATTACHMENTS_FILE_OBJECT_SIZE);
    ngx_http_attachments_file_object(r, ctx, &out, res, row);

    return ngx_http_attachments_send_objects(r, status, &out);
}


/* the answer of several: {"files":[...]} */

ngx_int_t
ngx_http_attachments_send_files(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, ngx_uint_t status, PGresult *res, int n)
{
    ngx_http_attachments_json_out_t  out;

    ngx_http_attachments_json_init(&out, r->pool,
                                   n * NGX_HTTP_ATTACHMENTS_FILE_OBJECT_SIZE);
    ngx_http_attachments_json_literal(&out, "{\"files\":");
    ngx_http_attachments_file_objects(r, ctx, &out, res, n);
    ngx_http_attachments_json_literal(&out, "}");

    return ngx_http_attachments_send_objects(r, status, &out);
}


/* what was written, or the API's JSON 500 if writing it failed */

ngx_int_t
ngx_http_attachments_send_objects(ngx_http_request_t *r, ngx_uint_t status,
    ngx_http_attachments_json_out_t *out)
{
    if (out->failed) {
        return ngx_http_attachments_refused(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
    }

    return ngx_http_attachments_send_out(r, status, out);
}


/* a link of the location's signing keys and URL lifetime */

void
ngx_http_attachments_link(ngx_http_request_t *r,
    ngx_http_attachments_link_t *link)
{
    ngx_http_attachments_loc_conf_t  *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_attachments_module);

    ngx_memzero(link, sizeof(ngx_http_attachments_link_t));

    link->keys = alcf->keys;
    link->ttl = alcf->url_ttl;
}


/* base, the storage's public= prefix, the key below the public area's */

static void
ngx_http_attachments_public_url(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, ngx_http_attachments_json_out_t *out,
    ngx_http_attachments_storage_t *storage, u_char *key)
{
    u_char  *p, *url;
    size_t   n, len;
    u_char   buf[NGX_HTTP_ATTACHMENTS_URL_BUFFER];

    if (storage->public.len == 0
        || !ngx_http_attachments_storage_is_public(key, ngx_strlen(key)))
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "attachments: public file \"%s\" of storage \"%V\" "
                      "has no public URL", key, &storage->name);
        ngx_http_attachments_json_literal(out, "null");
        return;
    }

    key += sizeof(NGX_HTTP_ATTACHMENTS_PUBLIC) - 1;
    len = ngx_strlen(key);

    n = ctx->base.len + storage->public.len
        + ngx_http_attachments_escape(NULL, key, len,
                                      NGX_HTTP_ATTACHMENTS_ESCAPE_PATH);

    url = (n <= sizeof(buf)) ? buf : ngx_pnalloc(r->pool, n);
    if (url == NULL) {
        out->failed = 1;
        return;
    }

    p = ngx_cpymem(url, ctx->base.data, ctx->base.len);
    p = ngx_cpymem(p, storage->public.data, storage->public.len);
    p += ngx_http_attachments_escape(p, key, len,
                                     NGX_HTTP_ATTACHMENTS_ESCAPE_PATH);

    /* the base may come from the request ($host): escaped as any string */
    ngx_http_attachments_json_string(out, url, p - url);
}


/* an RFC 3339 time as a JSON string */

static void
ngx_http_attachments_json_time(ngx_http_attachments_json_out_t *out,
    int64_t us)
{
    u_char  *p;

    p = ngx_http_attachments_json_room(out,
                                          NGX_HTTP_ATTACHMENTS_CURSOR_TS_LEN
                                          + 2);
    if (p == NULL) {
        return;
    }

    *p++ = '"';
    p += ngx_http_attachments_time(p, us, 0);
    *p++ = '"';

    out->buf->last = p;
}


/*
 * RFC 3339 UTC, "2026-02-01T10:30:00Z", or with micro set the cursor's
 * "2026-02-01T10:30:00.000000"
 */

size_t
ngx_http_attachments_time(u_char *buf, int64_t us, ngx_uint_t micro)
{
    u_char      *p;
    ngx_tm_t     tm;
    ngx_uint_t   i, frac;

    if (us < 0) {
        us = 0;
    }

    /* a list writes three a file: digits by hand, not ngx_sprintf() */

    ngx_gmtime((time_t) (us / 1000000), &tm);

    p = buf;
    p = ngx_http_attachments_digits(p, tm.ngx_tm_year, 4, '-');
    p = ngx_http_attachments_digits(p, tm.ngx_tm_mon, 2, '-');
    p = ngx_http_attachments_digits(p, tm.ngx_tm_mday, 2, 'T');
    p = ngx_http_attachments_digits(p, tm.ngx_tm_hour, 2, ':');
    p = ngx_http_attachments_digits(p, tm.ngx_tm_min, 2, ':');

    if (!micro) {
        return ngx_http_attachments_digits(p, tm.ngx_tm_sec, 2, 'Z') - buf;
    }

    p = ngx_http_attachments_digits(p, tm.ngx_tm_sec, 2, '.');

    for (i = 6, frac = (ngx_uint_t) (us % 1000000); i; i--, frac /= 10) {
        p[i - 1] = (u_char) ('0' + frac % 10);
    }

    return p + 6 - buf;
}


/* n in width digits (zero-padded, the high ones cut), then sep */

static u_char *
ngx_http_attachments_digits(u_char *p, ngx_uint_t n, ngx_uint_t width,
    u_char sep)
{
    ngx_uint_t  i;

    for (i = width; i; i--) {
        p[i - 1] = (u_char) ('0' + n % 10);
        n /= 10;
    }

    p[width] = sep;

    return p + width + 1;
}
