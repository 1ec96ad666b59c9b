
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * Resumable uploads: tus 1.0.0 (core, creation, creation-with-upload,
 * termination, expiration, checksum) under .../{type}/{id}/uploads
 * (docs/uploads.md).  The creation checks the length and the metadata as
 * a multipart upload's file and fields are checked, and reserves the
 * length against the quotas; HEAD says where an upload is; DELETE ends
 * it.  Appending is ngx_http_attachments_tus_patch.c's, the upload's
 * files ngx_http_attachments_tus_store.c's.
 *
 * ngx_http_attachments_tus_module: attachments_tus_expiry.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_input.h"
#include "ngx_http_attachments_json.h"
#include "ngx_http_attachments_pg.h"
#include "ngx_http_attachments_sql.h"
#include "ngx_http_attachments_storage.h"
#include "ngx_http_attachments_module.h"
#include "ngx_http_attachments_request.h"
#include "ngx_http_attachments_undo.h"
#include "ngx_http_attachments_receive.h"
#include "ngx_http_attachments_upload.h"
#include "ngx_http_attachments_tus_store.h"
#include "ngx_http_attachments_tus_parts.h"
#include "ngx_http_attachments_tus_patch.h"
#include "ngx_http_attachments_tus.h"


#define NGX_HTTP_ATTACHMENTS_TUS_EXTENSIONS                                   \
    "creation,creation-with-upload,termination,expiration,checksum"


typedef struct {
    time_t                               expiry;
} ngx_http_attachments_tus_loc_conf_t;


static ngx_int_t ngx_http_attachments_tus_init(ngx_conf_t *cf);
static void *ngx_http_attachments_tus_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_attachments_tus_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static ngx_int_t ngx_http_attachments_tus_options(ngx_http_request_t *r);
static ngx_int_t ngx_http_attachments_tus_create(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, ngx_http_attachments_tus_t *t);
static ngx_int_t ngx_http_attachments_tus_metadata(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t, ngx_str_t *metadata);
static void ngx_http_attachments_tus_created(
    ngx_http_attachments_pg_query_t *q);
static void ngx_http_attachments_tus_got(ngx_http_attachments_pg_query_t *q);
static ngx_int_t ngx_http_attachments_tus_unopened(ngx_http_request_t *r,
    ngx_int_t rc);
static ngx_int_t ngx_http_attachments_tus_row(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t, PGresult *res);
static ngx_int_t ngx_http_attachments_tus_head(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t, PGresult *res);
static ngx_int_t ngx_http_attachments_tus_terminate(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t);
static void ngx_http_attachments_tus_terminated(
    ngx_http_attachments_pg_query_t *q);


static ngx_command_t  ngx_http_attachments_tus_commands[] = {

    { ngx_string("attachments_tus_expiry"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_attachments_tus_loc_conf_t, expiry),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_attachments_tus_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_attachments_tus_init,         /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_attachments_tus_create_loc_conf, /* create location conf */
    ngx_http_attachments_tus_merge_loc_conf   /* merge location conf */
};


ngx_module_t  ngx_http_attachments_tus_module = {
    NGX_MODULE_V1,
    &ngx_http_attachments_tus_module_ctx,  /* module context */
    ngx_http_attachments_tus_commands,     /* module directives */
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
ngx_http_attachments_tus_init(ngx_conf_t *cf)
{
    return ngx_http_attachments_tus_body_init(cf);
}


static void *
ngx_http_attachments_tus_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_attachments_tus_loc_conf_t  *conf;

    conf = ngx_palloc(cf->pool, sizeof(ngx_http_attachments_tus_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->expiry = NGX_CONF_UNSET;

    return conf;
}


static char *
ngx_http_attachments_tus_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_attachments_tus_loc_conf_t *prev = parent;
    ngx_http_attachments_tus_loc_conf_t *conf = child;

    ngx_conf_merge_sec_value(conf->expiry, prev->expiry, 86400);

    if (conf->expiry <= 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"attachments_tus_expiry\" must be positive");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* every answer says the protocol; every request but OPTIONS speaks it */

ngx_int_t
ngx_http_attachments_tus(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx)
{
    ngx_str_t                   *v;
    ngx_pool_cleanup_t          *cln;
    ngx_http_attachments_tus_t  *t;

    if (ngx_http_attachments_add_header(r, "Tus-Resumable",
                                        NGX_HTTP_ATTACHMENTS_TUS_VERSION)
        == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (r->method == NGX_HTTP_OPTIONS) {
        return ngx_http_attachments_tus_options(r);
    }

    v = ngx_http_attachments_tus_header(r, "Tus-Resumable");

    if (v == NULL || v->len != sizeof(NGX_HTTP_ATTACHMENTS_TUS_VERSION) - 1
        || ngx_strncmp(v->data, NGX_HTTP_ATTACHMENTS_TUS_VERSION, v->len) != 0)
    {
        if (ngx_http_attachments_add_header(r, "Tus-Version",
                                            NGX_HTTP_ATTACHMENTS_TUS_VERSION)
            == NULL)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_attachments_send_error(r,
                   NGX_HTTP_PRECONDITION_FAILED, "unsupported_version",
                   "Tus-Resumable must be " NGX_HTTP_ATTACHMENTS_TUS_VERSION);
    }

    t = ngx_pcalloc(r->pool, sizeof(ngx_http_attachments_tus_t));
    if (t == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    t->fd = NGX_INVALID_FILE;
    t->up.request = r;
    t->up.ctx = ctx;
    t->conf = ngx_http_get_module_loc_conf(r,
                                           ngx_http_attachments_upload_module);

    if (ngx_array_init(&t->up.blobs, r->pool, 1,
                       sizeof(ngx_http_attachments_blob_t))
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    t->blob = ngx_array_push(&t->up.blobs);
    if (t->blob == NULL
        || ngx_array_init(&t->etags, r->pool, 4, sizeof(ngx_str_t)) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memzero(t->blob, sizeof(ngx_http_attachments_blob_t));
    t->blob->fd = NGX_INVALID_FILE;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_attachments_tus_cleanup;
    cln->data = t;

    ctx->tus = t;

    if (r->method == NGX_HTTP_POST) {
        if (ctx->route.kind == NGX_HTTP_ATTACHMENTS_ROUTE_UPLOAD) {
            /* an upload's URL takes a direct upload's confirmation only */
            return ngx_http_attachments_send_error(r,
                       NGX_HTTP_NOT_ALLOWED, "method_not_allowed",
                       "a resumable upload is created at .../uploads");
        }

        return ngx_http_attachments_tus_create(r, ctx, t);
    }

    ngx_memcpy(t->id, ctx->route.file_id.data, NGX_HTTP_ATTACHMENTS_UUID_LEN);

    return ngx_http_attachments_tus_run(r, t, &ngx_http_attachments_sql_tus_get,
                                        ngx_http_attachments_tus_got, NULL, 0);
}


static ngx_int_t
ngx_http_attachments_tus_options(ngx_http_request_t *r)
{
    ngx_table_elt_t                     *h;
    ngx_http_attachments_upload_conf_t  *conf;

    conf = ngx_http_get_module_loc_conf(r, ngx_http_attachments_upload_module);

    if (ngx_http_attachments_add_header(r, "Tus-Version",
                                        NGX_HTTP_ATTACHMENTS_TUS_VERSION)
        == NULL
        || ngx_http_attachments_add_header(r, "Tus-Extension",
                                        NGX_HTTP_ATTACHMENTS_TUS_EXTENSIONS)
           == NULL
        || ngx_http_attachments_add_header(r, "Tus-Checksum-Algorithm",
                                           "sha256")
           == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h = ngx_http_attachments_add_header(r, "Tus-Max-Size", NULL);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->value.data = ngx_pnalloc(r->pool, NGX_OFF_T_LEN);
    if (h->value.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->value.len = ngx_sprintf(h->value.data, "%O", conf->max_file_size)
                   - h->value.data;

    ngx_http_discard_request_body(r);

    r->headers_out.status = NGX_HTTP_NO_CONTENT;
    r->header_only = 1;

    return ngx_http_send_header(r);
}


/*
 * POST .../uploads: Upload-Length and Upload-Metadata checked as a
 * multipart upload's file and fields are, then the row, which reserves
 * the length against the quotas.
 */

static ngx_int_t
ngx_http_attachments_tus_create(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx, ngx_http_attachments_tus_t *t)
{
    ngx_str_t                         *v, length, ttl, *extra[10], metadata,
                                       empty;
    ngx_http_attachments_main_conf_t  *amcf;
    ngx_http_attachments_tus_loc_conf_t  *tlcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_attachments_module);
    tlcf = ngx_http_get_module_loc_conf(r, ngx_http_attachments_tus_module);

    t->up.storage = amcf->active;
    t->status = NGX_HTTP_CREATED;

    if (ngx_http_attachments_tus_header(r, "Upload-Defer-Length")) {
        return ngx_http_attachments_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "invalid_request", "Upload-Length is needed at creation");
    }

    v = ngx_http_attachments_tus_header(r, "Upload-Length");

    t->length = v ? ngx_atoof(v->data, v->len) : NGX_ERROR;

    if (t->length < 0) {
        return ngx_http_attachments_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "invalid_request", "Upload-Length must be a number of bytes");
    }

    if (t->length == 0) {
        /* as a multipart upload's file part */
        return ngx_http_attachments_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "empty_file", "a file of 0 bytes");
    }

    if (t->length > t->conf->max_file_size) {
        return ngx_http_attachments_send_error(r,
                   NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "file_too_large",
                   "the file is over attachments_max_file_size");
    }

    v = ngx_http_attachments_tus_header(r, "Upload-Metadata");

    if (v) {
        metadata = *v;

    } else {
        ngx_str_null(&metadata);
    }

    if (ngx_http_attachments_tus_metadata(r, t, &metadata) != NGX_OK) {
        return t->up.status
               ? ngx_http_attachments_send_error(r, t->up.status,
                                                 t->up.code, t->up.message)
               : NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* a body to come is checked before the upload is made */

    if (r->headers_in.content_length_n > 0 || r->headers_in.chunked) {
        switch (ngx_http_attachments_tus_check(r, t)) {

        case NGX_OK:
            break;

        case NGX_DECLINED:
            return ngx_http_attachments_tus_unchecked(r, t);

        default:
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (ngx_http_attachments_receive_uuid(t->id) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the files first: a row is never without them */

    t->ended = 1;

    if (ngx_http_attachments_tus_open(r, t, 1) != NGX_OK) {
        return ngx_http_attachments_tus_unopened(r, NGX_ERROR);
    }

    length.data = ngx_pnalloc(r->pool, NGX_OFF_T_LEN);
    ttl.data = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    if (length.data == NULL || ttl.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    length.len = ngx_sprintf(length.data, "%O", t->length) - length.data;
    ttl.len = ngx_sprintf(ttl.data, "%T", tlcf->expiry) - ttl.data;
    t->expires = ngx_time() + tlcf->expiry;
    ngx_str_set(&empty, "");

    extra[0] = &t->up.storage->name;
    extra[1] = &length;
    extra[2] = &t->blob->name;
    extra[3] = t->blob->declared.len ? &t->blob->declared : &empty;
    extra[4] = t->up.category.data ? &t->up.category : NULL;
    extra[5] = t->up.tags.data ? &t->up.tags : NULL;
    extra[6] = t->up.custom_fields.data ? &t->up.custom_fields : NULL;
    extra[7] = t->up.visibility.data ? &t->up.visibility : NULL;
    extra[8] = &metadata;
    extra[9] = &ttl;

    /* a refusal from here on leaves no files behind, as before */

    return ngx_http_attachments_tus_run(r, t,
                                        &ngx_http_attachments_sql_tus_create,
                                        ngx_http_attachments_tus_created,
                                        extra, 10);
}


/*
 * Upload-Metadata: "key base64,key base64": filename (or name), filetype
 * (or type), and the fields of a multipart upload; others are ignored.
 */

static ngx_int_t
ngx_http_attachments_tus_metadata(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t, ngx_str_t *metadata)
{
    u_char      *p, *last, *comma, *space;
    ngx_str_t    key, enc, value, filename, filetype;
    ngx_uint_t   field;

    ngx_str_null(&filename);
    ngx_str_null(&filetype);

    p = metadata->data;
    last = p + metadata->len;

    while (p < last) {
        while (p < last && *p == ' ') {
            p++;
        }

        comma = ngx_strlchr(p, last, ',');
        if (comma == NULL) {
            comma = last;
        }

        space = ngx_strlchr(p, comma, ' ');

        key.data = p;
        key.len = (space ? space : comma) - p;

        enc.data = space ? space + 1 : comma;
        enc.len = comma - enc.data;

        value.data = ngx_pnalloc(r->pool, ngx_base64_decoded_length(enc.len));
        if (value.data == NULL) {
            return NGX_ERROR;
        }

        if (key.len == 0 || ngx_decode_base64(&value, &enc) != NGX_OK) {
            return ngx_http_attachments_upload_refuse(&t->up,
                       NGX_HTTP_BAD_REQUEST, "invalid_request",
                       "Upload-Metadata is key base64 pairs, comma-separated");
        }

        p = comma + 1;
        field = 0;

        if ((key.len == 8 && ngx_strncmp(key.data, "filename", 8) == 0)
            || (key.len == 4 && ngx_strncmp(key.data, "name", 4) == 0))
        {
            filename = value;
            continue;
        }

        if ((key.len == 8 && ngx_strncmp(key.data, "filetype", 8) == 0)
            || (key.len == 4 && ngx_strncmp(key.data, "type", 4) == 0))
        {
            filetype = value;
            continue;
        }

        if (key.len == 8 && ngx_strncmp(key.data, "category", 8) == 0) {
            field = NGX_HTTP_ATTACHMENTS_F_CATEGORY;

        } else if (key.len == 4 && ngx_strncmp(key.data, "tags", 4) == 0) {
            field = NGX_HTTP_ATTACHMENTS_F_TAGS;

        } else if (key.len == 13
                   && ngx_strncmp(key.data, "custom_fields", 13) == 0)
        {
            field = NGX_HTTP_ATTACHMENTS_F_FIELDS;

        } else if (key.len == 10
                   && ngx_strncmp(key.data, "visibility", 10) == 0)
        {
            field = NGX_HTTP_ATTACHMENTS_F_VISIBILITY;
        }

        if (field
            && ngx_http_attachments_receive_field(&t->up, field, &value)
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (filename.len == 0) {
        return ngx_http_attachments_upload_refuse(&t->up,
                   NGX_HTTP_BAD_REQUEST, "invalid_request",
                   "Upload-Metadata must name the file (filename)");
    }

    return ngx_http_attachments_receive_name(r->pool, t->blob, &filename,
                                             &filetype);
}


static void
ngx_http_attachments_tus_created(ngx_http_attachments_pg_query_t *q)
{
    char                        *verdict;
    ngx_int_t                    rc;
    ngx_table_elt_t             *h;
    ngx_http_request_t          *r;
    ngx_http_attachments_tus_t  *t;

    r = q->data;
    t = ngx_http_attachments_tus_get(r);

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

    t->ended = 0;

    h = ngx_http_attachments_add_header(r, "Location", NULL);
    if (h == NULL) {
        ngx_http_attachments_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    h->value.len = r->uri.len + 1 + NGX_HTTP_ATTACHMENTS_UUID_LEN;
    h->value.data = ngx_pnalloc(r->pool, h->value.len);
    if (h->value.data == NULL) {
        ngx_http_attachments_finish(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_memcpy(ngx_cpymem(ngx_cpymem(h->value.data, r->uri.data, r->uri.len),
                          "/", 1),
               t->id, NGX_HTTP_ATTACHMENTS_UUID_LEN);

    t->location = h;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "attachments tus: upload %V of %O bytes", &h->value,
                   t->length);

    /* creation-with-upload: the body is the first PATCH's */

    if (r->headers_in.content_length_n > 0 || r->headers_in.chunked) {
        rc = ngx_http_attachments_tus_patch(r, t);

    } else {
        ngx_http_discard_request_body(r);
        rc = ngx_http_attachments_tus_answer(r, t);
    }

    ngx_http_attachments_finish(r, rc);
}


/* HEAD, PATCH, DELETE: the caller's own upload, on this record, or 404 */

static void
ngx_http_attachments_tus_got(ngx_http_attachments_pg_query_t *q)
{
    ngx_int_t                    rc;
    ngx_http_request_t          *r;
    ngx_http_attachments_tus_t  *t;

    r = q->data;
    t = ngx_http_attachments_tus_get(r);

    if (ngx_http_attachments_failed(r, q, 1)) {
        return;
    }

    rc = ngx_http_attachments_tus_row(r, t, q->result);

    if (rc != NGX_OK) {
        ngx_http_attachments_finish(r, ngx_http_attachments_tus_unopened(r, rc));
        return;
    }

    switch (r->method) {

    case NGX_HTTP_HEAD:
        rc = ngx_http_attachments_tus_head(r, t, q->result);
        break;

    case NGX_HTTP_DELETE:
        rc = ngx_http_attachments_tus_terminate(r, t);
        break;

    default: /* NGX_HTTP_PATCH */
        t->status = NGX_HTTP_NO_CONTENT;
        rc = ngx_http_attachments_tus_patch(r, t);
    }

    ngx_http_attachments_finish(r, rc);
}


/* the answer when the upload's files could not be opened */

static ngx_int_t
ngx_http_attachments_tus_unopened(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_http_discard_request_body(r);

    switch (rc) {

    case NGX_DECLINED:
        return ngx_http_attachments_refused(r, NGX_HTTP_NOT_FOUND);

    case NGX_BUSY:
        return ngx_http_attachments_send_error(r,
                   NGX_HTTP_ATTACHMENTS_TUS_LOCKED, "locked",
                   "another request is writing to the upload");

    default:
        return ngx_http_attachments_send_unavailable(r);
    }
}


/* what the row says: the storage, the file's names and fields, the length */

static ngx_int_t
ngx_http_attachments_tus_row(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t, PGresult *res)
{
    ngx_str_t                          v[9];
    ngx_str_t                         *f[4];
    ngx_uint_t                         i;
    ngx_http_attachments_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_attachments_module);

    /* copied: the result is not the request's */

    for (i = 0; i < 9; i++) {
        v[i].len = PQgetlength(res, 0, i);
        v[i].data = ngx_pnalloc(r->pool, v[i].len + 1);
        if (v[i].data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(v[i].data, PQgetvalue(res, 0, i), v[i].len + 1);
    }

    t->up.storage = ngx_http_attachments_storage_lookup(&amcf->storages,
                                                        &v[0]);
    if (t->up.storage == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "attachments: the storage \"%V\" of an upload is not "
                      "configured", &v[0]);
        return NGX_ERROR;
    }

    t->length = ngx_atoof(v[1].data, v[1].len);
    t->expires = ngx_atotm((u_char *) PQgetvalue(res, 0, 9),
                           PQgetlength(res, 0, 9));

    if (ngx_http_attachments_receive_name(r->pool, t->blob, &v[2], &v[3])
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* checked at the creation: as they are, NULL as absent */

    f[0] = &t->up.category;
    f[1] = &t->up.tags;
    f[2] = &t->up.custom_fields;
    f[3] = &t->up.visibility;

    for (i = 0; i < 4; i++) {
        if (!PQgetisnull(res, 0, 4 + i)) {
            *f[i] = v[4 + i];
        }
    }

    if (ngx_http_attachments_tus_parts_row(r, t, res, 10) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_attachments_tus_open(r, t, 0);
}


static ngx_int_t
ngx_http_attachments_tus_head(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t, PGresult *res)
{
    ngx_table_elt_t  *h;

    if (ngx_http_attachments_tus_offset(r, t) != NGX_OK
        || ngx_http_attachments_add_header(r, "Cache-Control", "no-store")
           == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h = ngx_http_attachments_add_header(r, "Upload-Length", NULL);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->value.data = (u_char *) PQgetvalue(res, 0, 1);
    h->value.len = PQgetlength(res, 0, 1);

    if (PQgetlength(res, 0, 8)) {
        h = ngx_http_attachments_add_header(r, "Upload-Metadata", NULL);
        if (h == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->value.data = (u_char *) PQgetvalue(res, 0, 8);
        h->value.len = PQgetlength(res, 0, 8);
    }

    if (ngx_http_attachments_tus_expires(r, t) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = 0;
    r->header_only = 1;

    return ngx_http_send_header(r);
}


/* DELETE: the bytes go first, then the row and its reservation */

static ngx_int_t
ngx_http_attachments_tus_terminate(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t)
{
    ngx_int_t  rc;

    ngx_http_discard_request_body(r);

    /* the bytes' lock is ours meanwhile: nobody appends */

    rc = ngx_http_attachments_tus_run(r, t,
                                      &ngx_http_attachments_sql_tus_delete,
                                      ngx_http_attachments_tus_terminated,
                                      NULL, 0);

    if (rc == NGX_AGAIN) {
        r->main->count++;
        return NGX_DONE;
    }

    return rc;
}


static void
ngx_http_attachments_tus_terminated(ngx_http_attachments_pg_query_t *q)
{
    ngx_http_request_t          *r;
    ngx_http_attachments_tus_t  *t;

    r = q->data;
    t = ngx_http_attachments_tus_get(r);

    if (ngx_http_attachments_failed(r, q, 1)) {
        return;
    }

    /* the row is gone: its files go when the request ends */
    t->ended = 1;

    r->headers_out.status = NGX_HTTP_NO_CONTENT;
    r->header_only = 1;

    ngx_http_attachments_finish(r, ngx_http_send_header(r));
}
