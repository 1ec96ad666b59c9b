
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
#include <jansson.h>

#include "ngx_http_attachments_sign.h"
#include "ngx_http_attachments_input.h"
#include "ngx_http_attachments_sql.h"
#include "ngx_http_attachments_storage.h"
#include "ngx_http_attachments_module.h"
#include "ngx_http_attachments_request.h"
#include "ngx_http_attachments_object.h"


static json_t *ngx_http_attachments_public_url(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, ngx_http_attachments_storage_t *storage,
    u_char *key);
static json_t *ngx_http_attachments_json_text(char *text);


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


json_t *
ngx_http_attachments_file_json(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, PGresult *res, int row)
{
    char                            *v;
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

    ngx_http_attachments_link(r, &link);

    link.storage = ngx_http_attachments_storage_by_name(r, &name);

    if (link.storage == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "attachments: file %s is in storage \"%V\", which is "
                      "not configured", PQgetvalue(res, row, 0), &name);

    } else if (ngx_strcmp(PQgetvalue(res, row,
                                     NGX_HTTP_ATTACHMENTS_COL_VISIBILITY),
                          "public")
               == 0)
    {
        /* public: permanent and unsigned, under the storage's public= */

        if (ngx_http_attachments_base(r, ctx) != NGX_OK) {
            goto failed;
        }

        url = ngx_http_attachments_public_url(r, ctx, link.storage,
                  (u_char *) PQgetvalue(res, row,
                                        NGX_HTTP_ATTACHMENTS_COL_STORAGE_KEY));

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

        link.base = ctx->base;

        if (ngx_http_attachments_storage_presign(r, &link, &signed_url) == NGX_OK) {
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


/* the first n rows as an array of file objects; NULL on failure */

json_t *
ngx_http_attachments_files_json(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, PGresult *res, int n)
{
    int      i;
    json_t  *files;

    files = json_array();

    for (i = 0; files && i < n; i++) {
        if (json_array_append_new(files,
                ngx_http_attachments_file_json(r, ctx, res, i))
            != 0)
        {
            json_decref(files);
            files = NULL;
        }
    }

    return files;
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

static json_t *
ngx_http_attachments_public_url(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, ngx_http_attachments_storage_t *storage,
    u_char *key)
{
    u_char  *p, *url;
    size_t   len;

    if (storage->public.len == 0
        || !ngx_http_attachments_storage_is_public(key, ngx_strlen(key)))
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "attachments: public file \"%s\" of storage \"%V\" "
                      "has no public URL", key, &storage->name);
        return json_null();
    }

    key += sizeof(NGX_HTTP_ATTACHMENTS_PUBLIC) - 1;
    len = ngx_strlen(key);

    url = ngx_pnalloc(r->pool, ctx->base.len + storage->public.len
                      + ngx_http_attachments_escape(NULL, key, len,
                                             NGX_HTTP_ATTACHMENTS_ESCAPE_PATH));
    if (url == NULL) {
        return NULL;
    }

    p = ngx_cpymem(url, ctx->base.data, ctx->base.len);
    p = ngx_cpymem(p, storage->public.data, storage->public.len);
    p += ngx_http_attachments_escape(p, key, len,
                                     NGX_HTTP_ATTACHMENTS_ESCAPE_PATH);

    return ngx_http_attachments_json_str(url, p - url);
}


/* ASCII we made ourselves: jansson need not check it for UTF-8 */

json_t *
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

size_t
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
