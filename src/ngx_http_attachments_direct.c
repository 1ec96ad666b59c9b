
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
#include "ngx_http_attachments_direct.h"


typedef struct {
    time_t                               expiry;
} ngx_http_attachments_direct_loc_conf_t;


typedef struct {
    ngx_http_attachments_upload_t        up;
    ngx_http_attachments_upload_conf_t  *conf;
    ngx_http_attachments_storage_op_t    op;
    ngx_str_t                            id;
    ngx_str_t                            checksum;    /* base64 */
    EVP_MD_CTX                          *sha;
    u_char                               head[NGX_HTTP_ATTACHMENTS_SNIFF];
} ngx_http_attachments_direct_t;


static ngx_int_t ngx_http_attachments_direct_init(ngx_conf_t *cf);
static void *ngx_http_attachments_direct_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_attachments_direct_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static void ngx_http_attachments_direct_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_attachments_direct_create(ngx_http_request_t *r,
    ngx_http_attachments_direct_t *d, json_t *body);
static ngx_int_t ngx_http_attachments_direct_fields(
    ngx_http_attachments_direct_t *d, json_t *body, ngx_str_t *sha256);
static ngx_int_t ngx_http_attachments_direct_checksum(ngx_http_request_t *r,
    ngx_http_attachments_direct_t *d);
static void ngx_http_attachments_direct_created(
    ngx_http_attachments_pg_query_t *q);
static ngx_int_t ngx_http_attachments_direct_answer(ngx_http_request_t *r,
    ngx_http_attachments_direct_t *d);
static void ngx_http_attachments_direct_got(
    ngx_http_attachments_pg_query_t *q);
static void ngx_http_attachments_direct_checked(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
static void ngx_http_attachments_direct_read(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
static void ngx_http_attachments_direct_finished(
    ngx_http_attachments_pg_query_t *q);
static ngx_int_t ngx_http_attachments_direct_fail(ngx_http_request_t *r,
    ngx_http_attachments_direct_t *d, ngx_uint_t status, const char *code,
    const char *message);
static void ngx_http_attachments_direct_failed(ngx_http_request_t *r,
    ngx_http_attachments_direct_t *d, ngx_uint_t status, const char *code,
    const char *message);
static void ngx_http_attachments_direct_ended(
    ngx_http_attachments_pg_query_t *q);
static void ngx_http_attachments_direct_deleted(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
static ngx_int_t ngx_http_attachments_direct_start(ngx_http_request_t *r,
    ngx_http_attachments_direct_t *d, ngx_uint_t method,
    ngx_http_attachments_storage_handler_pt handler);
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
    json_t                         *json;
    ngx_int_t                       rc;
    ngx_str_t                       body;
    json_error_t                    err;
    ngx_http_attachments_ctx_t     *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);

    rc = ngx_http_attachments_body(r, &body);

    if (rc == NGX_DECLINED) {
        ngx_http_finalize_request(r,
            ngx_http_attachments_send_error(r,
                NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "body_too_large",
                "a direct upload is asked for with at most 64k of JSON"));
        return;
    }

    if (rc != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    json = json_loadb((char *) body.data, body.len, JSON_REJECT_DUPLICATES,
                      &err);

    if (json == NULL) {
        ngx_http_finalize_request(r,
            ngx_http_attachments_send_error(r, NGX_HTTP_BAD_REQUEST,
                                            "malformed_json", err.text));
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

        if (v == NULL) {
            continue;
        }

        /* the category and visibility are text; tags and fields JSON */

        if (json_is_string(v)) {
            value.data = (u_char *) json_string_value(v);
            value.len = json_string_length(v);
            text = NULL;

        } else {
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


/* the SHA-256 as the store takes and tells it: base64 of the 32 bytes */

static ngx_int_t
ngx_http_attachments_direct_checksum(ngx_http_request_t *r,
    ngx_http_attachments_direct_t *d)
{
    ngx_str_t                     raw;
    ngx_uint_t                    i;
    ngx_http_attachments_blob_t  *b;

    b = d->up.blobs.elts;

    raw.data = ngx_pnalloc(r->pool, 32);
    d->checksum.data = ngx_pnalloc(r->pool, ngx_base64_encoded_length(32));
    if (raw.data == NULL || d->checksum.data == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < 32; i++) {
        raw.data[i] = (u_char) ngx_hextoi(b->sha256 + 2 * i, 2);
    }

    raw.len = 32;
    ngx_encode_base64(&d->checksum, &raw);

    return NGX_OK;
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


/* a confirmation: the caller's own upload, on this record, or 404 */

static void
ngx_http_attachments_direct_got(ngx_http_attachments_pg_query_t *q)
{
    ngx_str_t                          name, v;
    ngx_http_request_t                *r;
    ngx_http_attachments_ctx_t        *ctx;
    ngx_http_attachments_blob_t       *b;
    ngx_http_attachments_direct_t     *d;
    ngx_http_attachments_main_conf_t  *amcf;

    r = q->data;
    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_attachments_module);
    d = ctx->direct;
    b = d->up.blobs.elts;

    if (ngx_http_attachments_failed(r, q, 1)) {
        return;
    }

    name.data = (u_char *) PQgetvalue(q->result, 0, 0);
    name.len = PQgetlength(q->result, 0, 0);

    d->up.storage = ngx_http_attachments_storage_lookup(&amcf->storages,
                                                        &name);

    if (d->up.storage == NULL || PQgetlength(q->result, 0, 3) != 64) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "attachments: direct upload %V: storage \"%V\" is not "
                      "configured", &d->id, &name);
        ngx_http_attachments_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_memcpy(b->id, d->id.data, NGX_HTTP_ATTACHMENTS_UUID_LEN);
    ngx_memcpy(b->sha256, PQgetvalue(q->result, 0, 3), 64);

    b->size = ngx_atoof((u_char *) PQgetvalue(q->result, 0, 2),
                        PQgetlength(q->result, 0, 2));

    v.data = (u_char *) PQgetvalue(q->result, 0, 1);
    v.len = PQgetlength(q->result, 0, 1);
    b->key.data = ngx_pstrdup(r->pool, &v);
    b->key.len = v.len;

    v.data = (u_char *) PQgetvalue(q->result, 0, 4);
    v.len = PQgetlength(q->result, 0, 4);
    b->name.data = ngx_pstrdup(r->pool, &v);
    b->name.len = v.len;

    v.data = (u_char *) PQgetvalue(q->result, 0, 5);
    v.len = PQgetlength(q->result, 0, 5);
    b->declared.data = ngx_pstrdup(r->pool, &v);
    b->declared.len = v.len;

    if (b->key.data == NULL || b->name.data == NULL
        || (v.len && b->declared.data == NULL)
        || ngx_http_attachments_direct_checksum(r, d) != NGX_OK)
    {
        ngx_http_attachments_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* the store's own checksum, where it keeps one, spares a full read */

    d->op.checksum = 1;

    if (ngx_http_attachments_direct_start(r, d, NGX_HTTP_HEAD,
                                          ngx_http_attachments_direct_checked)
        != NGX_OK)
    {
        return;
    }

    ngx_http_attachments_direct_checked(r, &d->op);
}


static void
ngx_http_attachments_direct_checked(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    ngx_http_attachments_blob_t    *b;
    ngx_http_attachments_direct_t  *d;

    d = op->data;
    b = d->up.blobs.elts;

    if (op->status == NGX_HTTP_NOT_FOUND) {
        ngx_http_attachments_finish(r,
            ngx_http_attachments_send_error(r, NGX_HTTP_CONFLICT,
                "not_uploaded", "nothing was PUT to the upload URL yet"));
        return;
    }

    if (!ngx_http_attachments_op_done(op)) {
        ngx_http_attachments_finish(r,
                                    ngx_http_attachments_send_unavailable(r));
        return;
    }

    if (op->length != b->size) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "attachments: direct upload %V is %O bytes, not %O",
                      &d->id, op->length, b->size);
        ngx_http_attachments_direct_failed(r, d,
            NGX_HTTP_ATTACHMENTS_UNPROCESSABLE, "size_mismatch",
            "the object is not of the size announced");
        return;
    }

    if (op->stored.len
        && (op->stored.len != d->checksum.len
            || ngx_strncmp(op->stored.data, d->checksum.data,
                           d->checksum.len) != 0))
    {
        ngx_http_attachments_direct_failed(r, d,
            NGX_HTTP_ATTACHMENTS_UNPROCESSABLE, "checksum_mismatch",
            "the object's SHA-256 is not the one announced");
        return;
    }

    d->op.head.data = d->head;
    d->op.head_size = NGX_HTTP_ATTACHMENTS_SNIFF;

    if (op->stored.len) {
        d->op.range = NGX_HTTP_ATTACHMENTS_SNIFF;

    } else {
        /* a store that keeps no checksum: every byte is read and hashed */

        d->sha = EVP_MD_CTX_new();
        if (d->sha == NULL
            || EVP_DigestInit_ex(d->sha, EVP_sha256(), NULL) != 1)
        {
            ngx_http_attachments_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        d->op.sha = d->sha;
    }

    if (ngx_http_attachments_direct_start(r, d, NGX_HTTP_GET,
                                          ngx_http_attachments_direct_read)
        != NGX_OK)
    {
        return;
    }

    ngx_http_attachments_direct_read(r, &d->op);
}


static void
ngx_http_attachments_direct_read(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    u_char                          md[EVP_MAX_MD_SIZE], hex[64];
    ngx_int_t                       rc;
    ngx_str_t                      *params[2];
    unsigned int                    n;
    ngx_http_attachments_blob_t    *b;
    ngx_http_attachments_direct_t  *d;

    d = op->data;
    b = d->up.blobs.elts;

    if (op->status == NGX_HTTP_NOT_FOUND) {
        /* there at the HEAD: the upload was cancelled meanwhile */
        ngx_http_attachments_finish(r,
            ngx_http_attachments_send_error(r, NGX_HTTP_CONFLICT, "conflict",
                "the upload was confirmed, cancelled or expired meanwhile"));
        return;
    }

    if (!ngx_http_attachments_op_done(op)) {
        ngx_http_attachments_finish(r,
                                    ngx_http_attachments_send_unavailable(r));
        return;
    }

    if (d->sha) {
        if (EVP_DigestFinal_ex(d->sha, md, &n) != 1) {
            ngx_http_attachments_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ngx_hex_dump(hex, md, 32);

        if (op->received != b->size) {
            ngx_http_attachments_direct_failed(r, d,
                NGX_HTTP_ATTACHMENTS_UNPROCESSABLE, "size_mismatch",
                "the object is not of the size announced");
            return;
        }

        if (ngx_memcmp(hex, b->sha256, 64) != 0) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "attachments: direct upload %V has SHA-256 %*s",
                          &d->id, (size_t) 64, hex);
            ngx_http_attachments_direct_failed(r, d,
                NGX_HTTP_ATTACHMENTS_UNPROCESSABLE, "checksum_mismatch",
                "the object's SHA-256 is not the one announced");
            return;
        }
    }

    /* the bytes are the ones announced: their type is what is left */

    if (ngx_http_attachments_receive_type(&d->up, d->conf,
                                          ngx_http_attachments_upload_magic(r),
                                          b, op->head.data, op->head.len)
        != NGX_OK)
    {
        if (d->up.status == 0) {
            ngx_http_attachments_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ngx_http_attachments_direct_failed(r, d, d->up.status, d->up.code,
                                           d->up.message);
        return;
    }

    params[0] = &d->id;
    params[1] = &b->type;

    rc = ngx_http_attachments_run_params(r, d->up.ctx,
                                    &ngx_http_attachments_sql_finish_direct,
                                    ngx_http_attachments_direct_finished,
                                    params, 2);
    if (rc != NGX_AGAIN) {
        ngx_http_attachments_finish(r, rc);
    }
}


static void
ngx_http_attachments_direct_finished(ngx_http_attachments_pg_query_t *q)
{
    int                             n;
    char                           *verdict;
    ngx_http_request_t             *r;
    ngx_http_attachments_ctx_t     *ctx;

    r = q->data;
    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);

    if (ngx_http_attachments_failed(r, q, 0)) {
        return;
    }

    n = PQntuples(q->result);
    verdict = n ? PQgetvalue(q->result, 0, NGX_HTTP_ATTACHMENTS_COLS) : "";

    if (ngx_strcmp(verdict, "ok") == 0) {
        ngx_http_attachments_finish(r,
            ngx_http_attachments_send_files(r, ctx, NGX_HTTP_CREATED,
                                            q->result, n));
        return;
    }

    /* the upload and its object stay: freed space lets it be confirmed */

    if (ngx_strcmp(verdict, "organization") == 0
        || ngx_strcmp(verdict, "user") == 0)
    {
        ngx_http_attachments_finish(r,
            ngx_http_attachments_send_error(r,
                NGX_HTTP_ATTACHMENTS_INSUFFICIENT_STORAGE, "quota_exceeded",
                verdict[0] == 'u'
                ? "the upload does not fit the user's quota"
                : "the upload does not fit the organization's quota"));
        return;
    }

    ngx_http_attachments_finish(r,
        ngx_http_attachments_send_error(r, NGX_HTTP_CONFLICT, "conflict",
            "the upload was confirmed, cancelled or expired meanwhile"));
}


/*
 * A failed check, or a DELETE (status 204): the upload ends first, and
 * only the request that ended it deletes the object, so that an upload
 * confirmed meanwhile keeps it.  The file's pending row stays behind as
 * the key's guard until the collector's turn.
 */

static ngx_int_t
ngx_http_attachments_direct_fail(ngx_http_request_t *r,
    ngx_http_attachments_direct_t *d, ngx_uint_t status, const char *code,
    const char *message)
{
    ngx_str_t  *params[1];

    d->up.status = 0;
    (void) ngx_http_attachments_upload_refuse(&d->up, status, code, message);

    params[0] = &d->id;

    return ngx_http_attachments_run_params(r, d->up.ctx,
                                           &ngx_http_attachments_sql_direct_end,
                                           ngx_http_attachments_direct_ended,
                                           params, 1);
}


/* as ngx_http_attachments_direct_fail(), from a handler */

static void
ngx_http_attachments_direct_failed(ngx_http_request_t *r,
    ngx_http_attachments_direct_t *d, ngx_uint_t status, const char *code,
    const char *message)
{
    ngx_int_t  rc;

    rc = ngx_http_attachments_direct_fail(r, d, status, code, message);

    if (rc != NGX_AGAIN) {
        ngx_http_attachments_finish(r, rc);
    }
}


static void
ngx_http_attachments_direct_ended(ngx_http_attachments_pg_query_t *q)
{
    ngx_str_t                          name, key;
    ngx_http_request_t                *r;
    ngx_http_attachments_ctx_t        *ctx;
    ngx_http_attachments_blob_t       *b;
    ngx_http_attachments_direct_t     *d;
    ngx_http_attachments_main_conf_t  *amcf;

    r = q->data;
    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);
    amcf = ngx_http_get_module_main_conf(r, ngx_http_attachments_module);
    d = ctx->direct;
    b = d->up.blobs.elts;

    if (ngx_http_attachments_failed(r, q, 0)) {
        return;
    }

    if (PQntuples(q->result) == 0) {
        ngx_http_attachments_finish(r,
            d->up.status == NGX_HTTP_NO_CONTENT
            ? ngx_http_attachments_refused(r, NGX_HTTP_NOT_FOUND)
            : ngx_http_attachments_send_error(r, NGX_HTTP_CONFLICT,
                  "conflict",
                  "the upload was confirmed, cancelled or expired "
                  "meanwhile"));
        return;
    }

    name.data = (u_char *) PQgetvalue(q->result, 0, 0);
    name.len = PQgetlength(q->result, 0, 0);
    key.data = (u_char *) PQgetvalue(q->result, 0, 1);
    key.len = PQgetlength(q->result, 0, 1);

    d->up.storage = ngx_http_attachments_storage_lookup(&amcf->storages,
                                                        &name);

    if (d->up.storage == NULL || key.len == 0) {
        /* no object to delete: the collector took the row already */
        ngx_http_attachments_direct_deleted(r, NULL);
        return;
    }

    b->key.data = ngx_pstrdup(r->pool, &key);
    b->key.len = key.len;

    if (b->key.data == NULL) {
        ngx_http_attachments_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (ngx_http_attachments_direct_start(r, d, NGX_HTTP_DELETE,
                                          ngx_http_attachments_direct_deleted)
        != NGX_OK)
    {
        return;
    }

    ngx_http_attachments_direct_deleted(r, &d->op);
}


/* the upload is over whatever the store said: the collector tries again */

static void
ngx_http_attachments_direct_deleted(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    ngx_http_attachments_ctx_t     *ctx;
    ngx_http_attachments_direct_t  *d;

    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);
    d = ctx->direct;

    if (op && !ngx_http_attachments_op_done(op)) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "attachments: the object of the ended direct upload "
                      "%V stays for the collector", &d->id);
    }

    if (d->up.status != NGX_HTTP_NO_CONTENT) {
        ngx_http_attachments_finish(r,
            ngx_http_attachments_send_error(r, d->up.status, d->up.code,
                                            d->up.message));
        return;
    }

    r->headers_out.status = NGX_HTTP_NO_CONTENT;
    r->header_only = 1;

    ngx_http_attachments_finish(r, ngx_http_send_header(r));
}


/*
 * d->op on the upload's object.  NGX_OK: done now, the caller calls
 * handler; NGX_AGAIN: handler is called later.  A store out of reach is
 * a status of 503.
 */

static ngx_int_t
ngx_http_attachments_direct_start(ngx_http_request_t *r,
    ngx_http_attachments_direct_t *d, ngx_uint_t method,
    ngx_http_attachments_storage_handler_pt handler)
{
    ngx_int_t                     rc;
    ngx_http_attachments_blob_t  *b;

    b = d->up.blobs.elts;

    d->op.storage = d->up.storage;
    d->op.key = b->key;
    d->op.log = r->connection->log;
    d->op.handler = handler;
    d->op.data = d;

    switch (method) {

    case NGX_HTTP_HEAD:
        rc = ngx_http_attachments_storage_check(r, &d->op);
        break;

    case NGX_HTTP_GET:
        rc = ngx_http_attachments_storage_read(r, &d->op);
        break;

    default: /* NGX_HTTP_DELETE */
        rc = ngx_http_attachments_storage_delete(r, &d->op);
    }

    if (rc == NGX_AGAIN) {
        ngx_http_run_posted_requests(r->connection);
        return NGX_AGAIN;
    }

    if (rc != NGX_OK) {
        d->op.status = NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    return NGX_OK;
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
