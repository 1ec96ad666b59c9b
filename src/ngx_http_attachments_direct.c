
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * Direct uploads (docs/uploads.md), for storages whose kind presigns PUTs
 * (s3): the client sends the bytes to the store itself.
 *
 *   POST .../uploads {"direct": true, ...}: checked as a multipart upload's
 *       file and fields are, the size reserved against the quotas, then a
 *       presigned PUT bound to the size and SHA-256, and where to confirm;
 *   POST .../uploads/{id}: the object's size and SHA-256 (the store's own
 *       checksum and a ranged GET, or a GET hashed as it passes), its type
 *       sniffed from its first bytes, then the file ready; a failed check
 *       ends the upload and deletes the object;
 *   DELETE .../uploads/{id}: ends the upload and deletes the object.
 *
 * The upload's file row is pending from its start, under the key the URL
 * grants and leased until the upload expires, past the URL's own expiry:
 * whatever lands under the key unconfirmed is the collector's to delete.
 * ngx_http_attachments_direct_module: attachments_direct_expiry, and the
 * body filter that keeps the store's answers to the checks
 * (ngx_http_attachments_proxy.c).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "ngx_http_attachments_input.h"
#include "ngx_http_attachments_json.h"
#include "ngx_http_attachments_pg.h"
#include "ngx_http_attachments_sql.h"
#include "ngx_http_attachments_storage.h"
#include "ngx_http_attachments_proxy.h"
#include "ngx_http_attachments_module.h"
#include "ngx_http_attachments_request.h"
#include "ngx_http_attachments_object.h"
#include "ngx_http_attachments_receive.h"
#include "ngx_http_attachments_upload.h"
#include "ngx_http_attachments_direct_check.h"
#include "ngx_http_attachments_direct.h"


typedef struct {
    time_t                               expiry;
} ngx_http_attachments_direct_loc_conf_t;




static ngx_int_t ngx_http_attachments_direct_init(ngx_conf_t *cf);
static void *ngx_http_attachments_direct_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_attachments_direct_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static void ngx_http_attachments_direct_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_attachments_direct_create(ngx_http_request_t *r,
    ngx_http_attachments_direct_t *d, json_t *body);
static ngx_int_t ngx_http_attachments_direct_fields(
    ngx_http_attachments_direct_t *d, json_t *body, ngx_str_t *sha256);
static void ngx_http_attachments_direct_created(
    ngx_http_attachments_pg_query_t *q);
static ngx_int_t ngx_http_attachments_direct_answer(ngx_http_request_t *r,
    ngx_http_attachments_direct_t *d);
static void ngx_http_attachments_direct_cleanup(void *data);


static ngx_command_t  ngx_http_attachments_direct_commands[] = {

    { ngx_string("attachments_direct_expiry"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_attachments_direct_loc_conf_t, expiry),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_attachments_direct_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_attachments_direct_init,      /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_attachments_direct_create_loc_conf, /* create location conf */
    ngx_http_attachments_direct_merge_loc_conf   /* merge location conf */
};


ngx_module_t  ngx_http_attachments_direct_module = {
    NGX_MODULE_V1,
    &ngx_http_attachments_direct_module_ctx, /* module context */
    ngx_http_attachments_direct_commands,  /* module directives */
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


static ngx_int_t
ngx_http_attachments_direct_init(ngx_conf_t *cf)
{
    return ngx_http_attachments_proxy_init(cf);
}


static void *
ngx_http_attachments_direct_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_attachments_direct_loc_conf_t  *conf;

    conf = ngx_palloc(cf->pool, sizeof(ngx_http_attachments_direct_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->expiry = NGX_CONF_UNSET;

    return conf;
}


static char *
ngx_http_attachments_direct_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_attachments_direct_loc_conf_t  *prev = parent;
    ngx_http_attachments_direct_loc_conf_t  *conf = child;

    ngx_conf_merge_sec_value(conf->expiry, prev->expiry, 86400);

    if (conf->expiry <= 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"attachments_direct_expiry\" must be positive");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* POST without Tus-Resumable (creation, confirmation), DELETE */

ngx_int_t
ngx_http_attachments_direct(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx)
{
    ngx_int_t                       rc;
    ngx_str_t                      *params[1];
    ngx_pool_cleanup_t             *cln;
    ngx_http_attachments_blob_t    *b;
    ngx_http_attachments_direct_t  *d;

    d = ngx_pcalloc(r->pool, sizeof(ngx_http_attachments_direct_t));
    if (d == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    d->up.request = r;
    d->up.ctx = ctx;
    d->conf = ngx_http_get_module_loc_conf(r,
                                           ngx_http_attachments_upload_module);

    if (ngx_array_init(&d->up.blobs, r->pool, 1,
                       sizeof(ngx_http_attachments_blob_t))
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b = ngx_array_push(&d->up.blobs);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memzero(b, sizeof(ngx_http_attachments_blob_t));
    b->fd = NGX_INVALID_FILE;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_attachments_direct_cleanup;
    cln->data = d;

    ctx->direct = d;

    if (ctx->route.kind == NGX_HTTP_ATTACHMENTS_ROUTE_UPLOADS) {
        if (r->headers_in.content_length_n > NGX_HTTP_ATTACHMENTS_BODY_MAX) {
            return ngx_http_attachments_send_error(r,
                       NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "body_too_large",
                       "a direct upload is asked for with at most 64k of "
                       "JSON");
        }

        r->request_body_in_single_buf = 1;

        rc = ngx_http_read_client_request_body(r,
                                           ngx_http_attachments_direct_body);
        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            return rc;
        }

        return NGX_DONE;
    }

    /* the upload's own URL: what comes with a confirmation is not read */

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    d->id = ctx->route.file_id;

    if (r->method == NGX_HTTP_DELETE) {
        return ngx_http_attachments_direct_fail(r, d, NGX_HTTP_NO_CONTENT,
                                                NULL, NULL);
    }

    params[0] = &d->id;

    return ngx_http_attachments_run_params(r, ctx,
                                           &ngx_http_attachments_sql_direct_get,
                                           ngx_http_attachments_direct_got,
                                           params, 1);
}


static void
ngx_http_attachments_direct_body(ngx_http_request_t *r)
{
    json_t                      *json;
    ngx_int_t                    rc;
    ngx_http_attachments_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);

    rc = ngx_http_attachments_json_body(r,
             "a direct upload is asked for with at most 64k of JSON", &json);

    if (json == NULL) {
        ngx_http_finalize_request(r, rc);
        return;
    }

    rc = ngx_http_attachments_direct_create(r, ctx->direct, json);
    json_decref(json);

    if (rc != NGX_AGAIN) {
        ngx_http_finalize_request(r, rc);
    }
}


/*
 * The upload checked as a multipart upload's file is, its key made from
 * the same template, then the rows
 */

static ngx_int_t
ngx_http_attachments_direct_create(ngx_http_request_t *r,
    ngx_http_attachments_direct_t *d, json_t *body)
{
    u_char                                  *p;
    ngx_str_t                                size, ttl, sha256, empty,
                                            *params[13];
    ngx_http_attachments_blob_t             *b;
    ngx_http_attachments_storage_t          *s;
    ngx_http_attachments_main_conf_t        *amcf;
    ngx_http_attachments_direct_loc_conf_t  *dlcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_attachments_module);
    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_attachments_direct_module);

    s = amcf->active;
    d->up.storage = s;
    b = d->up.blobs.elts;

    if (s->kind->upload_url == NULL || s->kind->check == NULL) {
        return ngx_http_attachments_send_error(r, NGX_HTTP_CONFLICT,
                   "direct_unavailable",
                   "the active storage takes no direct uploads");
    }

    if (ngx_http_attachments_direct_fields(d, body, &sha256) != NGX_OK) {
        return d->up.status
               ? ngx_http_attachments_send_error(r, d->up.status,
                                                 d->up.code, d->up.message)
               : NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_attachments_receive_uuid(b->id) != NGX_OK
        || ngx_http_attachments_upload_key(r, &d->up, d->conf, b) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    d->id.data = b->id;
    d->id.len = NGX_HTTP_ATTACHMENTS_UUID_LEN;

    p = ngx_pnalloc(r->pool, NGX_OFF_T_LEN + NGX_TIME_T_LEN);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    size.data = p;
    size.len = ngx_sprintf(p, "%O", b->size) - p;
    ttl.data = p + size.len;
    ttl.len = ngx_sprintf(ttl.data, "%T", dlcf->expiry) - ttl.data;
    ngx_str_set(&empty, "");

    params[0] = &d->id;
    params[1] = &s->name;
    params[2] = &size;
    params[3] = &b->name;
    params[4] = &b->ext;
    params[5] = b->declared.len ? &b->declared : &empty;
    params[6] = d->up.category.data ? &d->up.category : NULL;
    params[7] = d->up.tags.data ? &d->up.tags : NULL;
    params[8] = d->up.custom_fields.data ? &d->up.custom_fields : NULL;
    params[9] = d->up.visibility.data ? &d->up.visibility : NULL;
    params[10] = &ttl;
    params[11] = &b->key;
    params[12] = &sha256;

    return ngx_http_attachments_run_params(r, d->up.ctx,
                                    &ngx_http_attachments_sql_direct_create,
                                    ngx_http_attachments_direct_created,
                                    params, 13);
}


/*
 * {"direct": true, "file_name", "size", "sha256" (hex), "content_type"?,
 * and a multipart upload's fields}; the checksum as the store takes it
 */

static ngx_int_t
ngx_http_attachments_direct_fields(ngx_http_attachments_direct_t *d,
    json_t *body, ngx_str_t *sha256)
{
    char                         *text;
    u_char                       *p;
    json_t                       *v;
    ngx_int_t                     rc;
    ngx_str_t                     name, declared, value;
    ngx_uint_t                    i;
    ngx_http_request_t           *r;
    ngx_http_attachments_blob_t  *b;

    static struct {
        const char  *key;
        ngx_uint_t   field;
    } fields[] = {
        { "category", NGX_HTTP_ATTACHMENTS_F_CATEGORY },
        { "tags", NGX_HTTP_ATTACHMENTS_F_TAGS },
        { "custom_fields", NGX_HTTP_ATTACHMENTS_F_FIELDS },
        { "visibility", NGX_HTTP_ATTACHMENTS_F_VISIBILITY }
    };

    r = d->up.request;
    b = d->up.blobs.elts;

    if (!json_is_object(body) || !json_is_true(json_object_get(body, "direct")))
    {
        return ngx_http_attachments_upload_refuse(&d->up,
                   NGX_HTTP_BAD_REQUEST, "invalid_request",
                   "a direct upload is asked for with {\"direct\": true}; "
                   "a resumable one with Tus-Resumable");
    }

    v = json_object_get(body, "file_name");

    if (!json_is_string(v) || json_string_length(v) == 0) {
        return ngx_http_attachments_upload_refuse(&d->up,
                   NGX_HTTP_BAD_REQUEST, "invalid_request",
                   "file_name must name the file");
    }

    name.data = (u_char *) json_string_value(v);
    name.len = json_string_length(v);

    v = json_object_get(body, "size");

    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        return ngx_http_attachments_upload_refuse(&d->up,
                   NGX_HTTP_BAD_REQUEST, "invalid_request",
                   "size must be the file's number of bytes");
    }

    b->size = (off_t) json_integer_value(v);

    if (b->size == 0) {
        return ngx_http_attachments_upload_refuse(&d->up,
                   NGX_HTTP_BAD_REQUEST, "empty_file", "a file of 0 bytes");
    }

    if (b->size > d->conf->max_file_size) {
        return ngx_http_attachments_upload_refuse(&d->up,
                   NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "file_too_large",
                   "the file is over attachments_max_file_size");
    }

    v = json_object_get(body, "sha256");

    if (!json_is_string(v) || json_string_length(v) != 64) {
        return ngx_http_attachments_upload_refuse(&d->up,
                   NGX_HTTP_BAD_REQUEST, "invalid_request",
                   "sha256 must be the file's SHA-256, 64 hex digits");
    }

    p = (u_char *) json_string_value(v);

    for (i = 0; i < 64; i++) {
        if (ngx_hextoi(p + i, 1) == NGX_ERROR) {
            return ngx_http_attachments_upload_refuse(&d->up,
                       NGX_HTTP_BAD_REQUEST, "invalid_request",
                       "sha256 must be the file's SHA-256, 64 hex digits");
        }

        b->sha256[i] = ngx_tolower(p[i]);
    }

    sha256->data = b->sha256;
    sha256->len = 64;

    if (ngx_http_attachments_direct_checksum(r, d) != NGX_OK) {
        return NGX_ERROR;
    }

    v = json_object_get(body, "content_type");

    if (v && !json_is_string(v)) {
        return ngx_http_attachments_upload_refuse(&d->up,
                   NGX_HTTP_BAD_REQUEST, "invalid_request",
                   "content_type must be a media type");
    }

    declared.data = v ? (u_char *) json_string_value(v) : NULL;
    declared.len = v ? json_string_length(v) : 0;

    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        v = json_object_get(body, fields[i].key);

        if (v == NULL || json_is_null(v)) {
            continue;
        }

        /* the category and visibility are text; tags and fields JSON */

        text = NULL;

        if (fields[i].field == NGX_HTTP_ATTACHMENTS_F_CATEGORY
            || fields[i].field == NGX_HTTP_ATTACHMENTS_F_VISIBILITY)
        {
            if (!json_is_string(v)) {
                return ngx_http_attachments_upload_refuse(&d->up,
                           NGX_HTTP_ATTACHMENTS_UNPROCESSABLE,
                           "invalid_metadata",
                           fields[i].field == NGX_HTTP_ATTACHMENTS_F_CATEGORY
                           ? "category must be a string"
                           : "visibility is private or public");
            }

            value.data = (u_char *) json_string_value(v);
            value.len = json_string_length(v);

        } else {
            if (fields[i].field == NGX_HTTP_ATTACHMENTS_F_TAGS
                ? !json_is_array(v) : !json_is_object(v))
            {
                return ngx_http_attachments_upload_refuse(&d->up,
                           NGX_HTTP_ATTACHMENTS_UNPROCESSABLE,
                           "invalid_metadata",
                           fields[i].field == NGX_HTTP_ATTACHMENTS_F_TAGS
                           ? "tags must be an array of strings"
                           : "custom_fields must be an object");
            }

            text = json_dumps(v, JSON_COMPACT|JSON_ENCODE_ANY);
            if (text == NULL) {
                return NGX_ERROR;
            }

            value.data = (u_char *) text;
            value.len = ngx_strlen(text);
        }

        rc = ngx_http_attachments_receive_field(&d->up, fields[i].field,
                                                &value);
        free(text);

        if (rc != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return ngx_http_attachments_receive_name(r->pool, b, &name, &declared);
}


static void
ngx_http_attachments_direct_created(ngx_http_attachments_pg_query_t *q)
{
    char                           *verdict;
    ngx_http_request_t             *r;
    ngx_http_attachments_ctx_t     *ctx;

    r = q->data;
    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);

    if (ngx_http_attachments_failed(r, q, 1)) {
        return;
    }

    verdict = PQgetvalue(q->result, 0, 0);

    if (ngx_strcmp(verdict, "ok") != 0) {
        ngx_http_attachments_finish(r,
            ngx_http_attachments_send_error(r,
                NGX_HTTP_ATTACHMENTS_INSUFFICIENT_STORAGE, "quota_exceeded",
                ngx_strcmp(verdict, "user") == 0
                ? "the upload does not fit the user's quota"
                : "the upload does not fit the organization's quota"));
        return;
    }

    ngx_http_attachments_finish(r,
        ngx_http_attachments_direct_answer(r, ctx->direct));
}


/*
 * 201: the PUT to make (its URL, the headers signed into it) and where to
 * confirm it; the URL lasts attachments_url_ttl, at most the upload's life
 */

static ngx_int_t
ngx_http_attachments_direct_answer(ngx_http_request_t *r,
    ngx_http_attachments_direct_t *d)
{
    u_char                                   size[NGX_OFF_T_LEN + 1];
    u_char                                   expires[32], upload[32];
    ngx_str_t                                url;
    ngx_table_elt_t                         *h;
    ngx_http_attachments_link_t              link;
    ngx_http_attachments_blob_t             *b;
    ngx_http_attachments_loc_conf_t         *alcf;
    ngx_http_attachments_direct_loc_conf_t  *dlcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_attachments_module);
    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_attachments_direct_module);
    b = d->up.blobs.elts;

    ngx_memzero(&link, sizeof(ngx_http_attachments_link_t));
    link.storage = d->up.storage;
    link.key = b->key;
    link.ttl = ngx_min(alcf->url_ttl, dlcf->expiry);

    if (ngx_http_attachments_storage_upload_url(r, &link, b->size,
                                                &d->checksum, &url)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h = ngx_http_attachments_add_header(r, "Location", NULL);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->value.len = r->uri.len + 1 + NGX_HTTP_ATTACHMENTS_UUID_LEN;
    h->value.data = ngx_pnalloc(r->pool, h->value.len);
    if (h->value.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(ngx_cpymem(ngx_cpymem(h->value.data, r->uri.data, r->uri.len),
                          "/", 1),
               b->id, NGX_HTTP_ATTACHMENTS_UUID_LEN);

    *ngx_sprintf(size, "%O", b->size) = '\0';
    expires[ngx_http_attachments_time(expires,
                                      (int64_t) link.expires * 1000000, 0)]
        = '\0';
    upload[ngx_http_attachments_time(upload,
                            (int64_t) (ngx_time() + dlcf->expiry) * 1000000,
                            0)]
        = '\0';

    return ngx_http_attachments_send_json(r, NGX_HTTP_CREATED,
               json_pack("{s:s%,s:s%,s:s,s:{s:s,s:s%},s:s,s:s%,s:s}",
                         "id", b->id, (size_t) NGX_HTTP_ATTACHMENTS_UUID_LEN,
                         "upload_url", url.data, url.len,
                         "upload_method", "PUT",
                         "upload_headers",
                             "Content-Length", size,
                             "x-amz-checksum-sha256", d->checksum.data,
                             d->checksum.len,
                         "upload_url_expires_at", expires,
                         "confirm_url", h->value.data, h->value.len,
                         "expires_at", upload));
}


static void
ngx_http_attachments_direct_cleanup(void *data)
{
    ngx_http_attachments_direct_t  *d = data;

    if (d->sha) {
        EVP_MD_CTX_free(d->sha);
        d->sha = NULL;
    }
}
