
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * Uploads, as their body arrives: the multipart parser's events.  File
 * parts go straight to a temporary file in the storage's temporary area
 * while their size, SHA-256 and sniffed type are checked; fields are
 * checked as metadata.  The first refusal stops the upload.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <sys/file.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <jansson.h>
#include <magic.h>

#include "ngx_http_attachments_sign.h"
#include "ngx_http_attachments_input.h"
#include "ngx_http_attachments_multipart.h"
#include "ngx_http_attachments_json.h"
#include "ngx_http_attachments_storage.h"
#include "ngx_http_attachments_undo.h"
#include "ngx_http_attachments_commit.h"
#include "ngx_http_attachments_receive.h"


/* data comes in runs as short as a byte; page-aligned large writes copy
 * into the page cache at half the CPU of 64k unaligned ones */
#define NGX_HTTP_ATTACHMENTS_WRITE       262144
#define NGX_HTTP_ATTACHMENTS_FIELD_MAX   (NGX_HTTP_ATTACHMENTS_FIELDS_SIZE + 1)



static ngx_int_t ngx_http_attachments_part_begin(void *data,
    ngx_http_attachments_mp_part_t *part);
static ngx_int_t ngx_http_attachments_part_body(void *data, u_char *p,
    size_t len);
static ngx_int_t ngx_http_attachments_part_end(void *data);
static ngx_int_t ngx_http_attachments_blob_open(
    ngx_http_attachments_receive_t *rv, ngx_http_attachments_blob_t *b);
static ngx_int_t ngx_http_attachments_blob_type(
    ngx_http_attachments_receive_t *rv);
static ngx_int_t ngx_http_attachments_blob_flush(
    ngx_http_attachments_receive_t *rv);
static ngx_int_t ngx_http_attachments_field_end(
    ngx_http_attachments_receive_t *rv);
static ngx_int_t ngx_http_attachments_type_allowed(ngx_array_t *types,
    const char *type);
static ngx_uint_t ngx_http_attachments_type_agrees(ngx_str_t *declared,
    ngx_str_t *sniffed);
static void ngx_http_attachments_receive_cleanup(void *data);


/* types accepted when attachments_allowed_types is not set */

static char  *ngx_http_attachments_default_types[] = {
    "application/pdf",
    "image/png", "image/jpeg", "image/gif", "image/webp", "image/tiff",
    "text/plain", "text/csv",
    "application/msword", "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.*",
    "application/vnd.oasis.opendocument.*",
    NULL
};


/* the parser, its buffers and the digest, for a body with boundary */

ngx_int_t
ngx_http_attachments_receive_init(ngx_pool_t *pool,
    ngx_http_attachments_receive_t *rv, ngx_str_t *boundary)
{
    ngx_pool_cleanup_t                 *cln;
    ngx_http_attachments_mp_handler_t   h;

    rv->value = ngx_pnalloc(pool, NGX_HTTP_ATTACHMENTS_FIELD_MAX);
    rv->wbuf = ngx_pmemalign(pool, NGX_HTTP_ATTACHMENTS_WRITE, ngx_pagesize);
    cln = ngx_pool_cleanup_add(pool, 0);

    if (rv->value == NULL || rv->wbuf == NULL || cln == NULL) {
        return NGX_ERROR;
    }

    rv->sha = EVP_MD_CTX_new();
    if (rv->sha == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_attachments_receive_cleanup;
    cln->data = rv;

    h.begin = ngx_http_attachments_part_begin;
    h.body = ngx_http_attachments_part_body;
    h.end = ngx_http_attachments_part_end;
    h.data = rv;

    return ngx_http_attachments_mp_init(&rv->mp, boundary, &h);
}


/* multipart callbacks */

static ngx_int_t
ngx_http_attachments_part_begin(void *data,
    ngx_http_attachments_mp_part_t *part)
{
    ngx_http_attachments_receive_t *rv = data;

    ngx_http_attachments_blob_t   *b;

    rv->up.blob = NULL;
    rv->field = 0;

    if (part->name.len == 4 && ngx_strncmp(part->name.data, "file", 4) == 0) {

        if (!part->has_filename) {
            return ngx_http_attachments_upload_refuse(&rv->up,
                       NGX_HTTP_BAD_REQUEST, "malformed_multipart",
                       "a file part without a filename");
        }

        if (rv->up.blobs.nelts == rv->conf->max_files
            || (rv->up.blobs.nelts
                && rv->up.ctx->route.kind == NGX_HTTP_ATTACHMENTS_ROUTE_VERSIONS))
        {
            return ngx_http_attachments_upload_refuse(&rv->up,
                       NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "too_many_files",
                       "more files than attachments_max_files, or more "
                       "than one for a version");
        }

        b = ngx_array_push(&rv->up.blobs);
        if (b == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(b, sizeof(ngx_http_attachments_blob_t));
        b->fd = NGX_INVALID_FILE;
        rv->up.blob = b;

        if (ngx_http_attachments_receive_name(rv->up.request->pool, b,
                                              &part->filename,
                                              &part->content_type)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, rv->up.request->connection->log, 0,
                       "attachments upload: file part \"%V\"", &b->name);

        rv->sniffed = 0;
        rv->typed = 0;
        rv->wlen = 0;

        if (EVP_DigestInit_ex(rv->sha, EVP_sha256(), NULL) != 1) {
            return NGX_ERROR;
        }

        return ngx_http_attachments_blob_open(rv, b);
    }

    if (part->name.len == 8
        && ngx_strncmp(part->name.data, "category", 8) == 0)
    {
        rv->field = NGX_HTTP_ATTACHMENTS_F_CATEGORY;

    } else if (part->name.len == 4
               && ngx_strncmp(part->name.data, "tags", 4) == 0)
    {
        rv->field = NGX_HTTP_ATTACHMENTS_F_TAGS;

    } else if (part->name.len == 13
               && ngx_strncmp(part->name.data, "custom_fields", 13) == 0)
    {
        rv->field = NGX_HTTP_ATTACHMENTS_F_FIELDS;

    } else if (part->name.len == 10
               && ngx_strncmp(part->name.data, "visibility", 10) == 0)
    {
        rv->field = NGX_HTTP_ATTACHMENTS_F_VISIBILITY;

    } else {
        return ngx_http_attachments_upload_refuse(&rv->up, NGX_HTTP_BAD_REQUEST,
                   "malformed_multipart",
                   "parts are file, category, tags, custom_fields and "
                   "visibility");
    }

    if (rv->seen & (1 << rv->field)) {
        return ngx_http_attachments_upload_refuse(&rv->up, NGX_HTTP_BAD_REQUEST,
                   "malformed_multipart", "a field is sent twice");
    }

    rv->seen |= 1 << rv->field;
    rv->vlen = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_attachments_part_body(void *data, u_char *p, size_t len)
{
    ngx_http_attachments_receive_t *rv = data;

    size_t                        n;
    ngx_http_attachments_blob_t  *b;

    b = rv->up.blob;

    if (b == NULL) {
        if (rv->vlen + len > NGX_HTTP_ATTACHMENTS_FIELDS_SIZE) {
            return ngx_http_attachments_upload_refuse(&rv->up,
                       NGX_HTTP_BAD_REQUEST, "malformed_multipart",
                       "a field is over 16384 bytes");
        }

        ngx_memcpy(rv->value + rv->vlen, p, len);
        rv->vlen += len;

        return NGX_OK;
    }

    b->size += len;

    if (b->size > rv->conf->max_file_size) {
        return ngx_http_attachments_upload_refuse(&rv->up,
                   NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "file_too_large",
                   "a file is over attachments_max_file_size");
    }

    /*
     * the collector takes a temporary untouched for attachments_gc_grace
     * for the leftover of a dead worker: a slow upload keeps it fresh
     */

    if (rv->touched != ngx_time()) {
        rv->touched = ngx_time();
        ngx_http_attachments_upload_touch(&rv->up);
    }

    if (!rv->typed) {
        n = ngx_min(len, NGX_HTTP_ATTACHMENTS_SNIFF - rv->sniffed);
        ngx_memcpy(rv->sniff + rv->sniffed, p, n);
        rv->sniffed += n;

        if (rv->sniffed == NGX_HTTP_ATTACHMENTS_SNIFF
            && ngx_http_attachments_blob_type(rv) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    while (len) {
        n = ngx_min(len, NGX_HTTP_ATTACHMENTS_WRITE - rv->wlen);
        ngx_memcpy(rv->wbuf + rv->wlen, p, n);
        rv->wlen += n;
        p += n;
        len -= n;

        if (rv->wlen == NGX_HTTP_ATTACHMENTS_WRITE
            && ngx_http_attachments_blob_flush(rv) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* the buffered data to the digest and the file */

static ngx_int_t
ngx_http_attachments_blob_flush(ngx_http_attachments_receive_t *rv)
{
    u_char                       *p;
    size_t                        len;
    ssize_t                       w;
    ngx_http_attachments_blob_t  *b;

    b = rv->up.blob;
    p = rv->wbuf;
    len = rv->wlen;
    rv->wlen = 0;

    if (EVP_DigestUpdate(rv->sha, p, len) != 1) {
        return NGX_ERROR;
    }

    while (len) {
        w = ngx_write_fd(b->fd, p, len);

        if (w == -1) {
            ngx_log_error(NGX_LOG_CRIT, rv->up.request->connection->log,
                          ngx_errno, ngx_write_fd_n " \"%V\" failed", &b->tmp);
            return ngx_http_attachments_upload_refuse(&rv->up,
                       NGX_HTTP_ATTACHMENTS_INSUFFICIENT_STORAGE,
                       "storage_full", "the storage cannot take the file");
        }

        p += w;
        len -= w;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_attachments_part_end(void *data)
{
    ngx_http_attachments_receive_t *rv = data;

    u_char                        md[EVP_MAX_MD_SIZE];
    unsigned int                  n;
    ngx_http_attachments_blob_t  *b;

    b = rv->up.blob;

    if (b == NULL) {
        return ngx_http_attachments_field_end(rv);
    }

    if (b->size == 0) {
        return ngx_http_attachments_upload_refuse(&rv->up, NGX_HTTP_BAD_REQUEST,
                   "empty_file", "a file of 0 bytes");
    }

    if (!rv->typed && ngx_http_attachments_blob_type(rv) != NGX_OK) {
        return NGX_ERROR;
    }

    if (rv->wlen && ngx_http_attachments_blob_flush(rv) != NGX_OK) {
        return NGX_ERROR;
    }

    if (EVP_DigestFinal_ex(rv->sha, md, &n) != 1) {
        return NGX_ERROR;
    }

    ngx_hex_dump(b->sha256, md, n);

    /* on disk before its name can point at it */

    if (fsync(b->fd) == -1) {
        ngx_log_error(NGX_LOG_CRIT, rv->up.request->connection->log, ngx_errno,
                      "fsync() \"%V\" failed", &b->tmp);
        return ngx_http_attachments_upload_refuse(&rv->up,
                   NGX_HTTP_ATTACHMENTS_INSUFFICIENT_STORAGE, "storage_full",
                   "the storage cannot take the file");
    }

    /* the descriptor stays open, and locked, until the temporary goes */
    rv->up.blob = NULL;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, rv->up.request->connection->log, 0,
                   "attachments upload: \"%V\" received, %O bytes, %V",
                   &b->name, b->size, &b->type);

    return NGX_OK;
}


/* a file's names as shown and as in keys, its extension, its claimed type */

ngx_int_t
ngx_http_attachments_receive_name(ngx_pool_t *pool,
    ngx_http_attachments_blob_t *b, ngx_str_t *filename, ngx_str_t *declared)
{
    u_char  *p;
    u_char   name[NGX_HTTP_ATTACHMENTS_NAME_MAX];

    b->name.data = name;
    b->name.len = ngx_http_attachments_filename(name, filename->data,
                                                filename->len,
                                           NGX_HTTP_ATTACHMENTS_NAME_DISPLAY);
    b->name.data = ngx_pstrdup(pool, &b->name);

    b->key_name.data = name;
    b->key_name.len = ngx_http_attachments_filename(name, filename->data,
                                                    filename->len,
                                               NGX_HTTP_ATTACHMENTS_NAME_KEY);
    b->key_name.data = ngx_pstrdup(pool, &b->key_name);

    p = ngx_pnalloc(pool, NGX_HTTP_ATTACHMENTS_EXT_MAX);
    if (b->name.data == NULL || b->key_name.data == NULL || p == NULL) {
        return NGX_ERROR;
    }

    b->ext.data = p;
    b->ext.len = ngx_http_attachments_file_ext(p, b->name.data, b->name.len);

    /* recorded, never trusted: printable text or nothing */

    if (declared->len && declared->len <= 255
        && ngx_http_attachments_printable(declared->data, declared->len))
    {
        b->declared.data = ngx_pstrdup(pool, declared);
        if (b->declared.data == NULL) {
            return NGX_ERROR;
        }

        b->declared.len = declared->len;
    }

    return NGX_OK;
}


/* a version 4 UUID, random */

ngx_int_t
ngx_http_attachments_receive_uuid(u_char *id)
{
    u_char  *p;
    u_char   rnd[16];

    if (RAND_bytes(rnd, 16) != 1) {
        return NGX_ERROR;
    }

    rnd[6] = (rnd[6] & 0x0f) | 0x40;
    rnd[8] = (rnd[8] & 0x3f) | 0x80;

    p = id;
    p = ngx_hex_dump(p, rnd, 4);
    *p++ = '-';
    p = ngx_hex_dump(p, rnd + 4, 2);
    *p++ = '-';
    p = ngx_hex_dump(p, rnd + 6, 2);
    *p++ = '-';
    p = ngx_hex_dump(p, rnd + 8, 2);
    *p++ = '-';
    (void) ngx_hex_dump(p, rnd + 10, 6);

    return NGX_OK;
}


/* a temporary file in the storage's temporary area, named by the uuid */

static ngx_int_t
ngx_http_attachments_blob_open(ngx_http_attachments_receive_t *rv,
    ngx_http_attachments_blob_t *b)
{
    u_char  *slash;

    if (ngx_http_attachments_receive_uuid(b->id) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_attachments_storage_tmp(rv->up.request->pool,
                                         rv->up.storage, b->id, &b->tmp)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    b->fd = ngx_open_file(b->tmp.data, NGX_FILE_WRONLY,
                          NGX_FILE_CREATE_OR_OPEN | O_EXCL,
                          NGX_HTTP_ATTACHMENTS_FILE_ACCESS);

    if (b->fd == NGX_INVALID_FILE && ngx_errno == NGX_ENOENT) {
        /* the first upload into the storage makes its temporary area */
        slash = b->tmp.data + b->tmp.len - NGX_HTTP_ATTACHMENTS_UUID_LEN - 1;
        *slash = '\0';
        (void) ngx_create_dir(b->tmp.data, NGX_HTTP_ATTACHMENTS_DIR_ACCESS);
        *slash = '/';

        b->fd = ngx_open_file(b->tmp.data, NGX_FILE_WRONLY,
                              NGX_FILE_CREATE_OR_OPEN | O_EXCL,
                              NGX_HTTP_ATTACHMENTS_FILE_ACCESS);
    }

    if (b->fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_CRIT, rv->up.request->connection->log, ngx_errno,
                      ngx_open_file_n " \"%V\" failed", &b->tmp);
        return ngx_http_attachments_upload_refuse(&rv->up,
                   NGX_HTTP_SERVICE_UNAVAILABLE, "unavailable",
                   "the storage is unavailable");
    }

    /*
     * held while the upload lasts: the collector leaves a temporary whose
     * lock it cannot take (a dead worker's lock is gone with it)
     */

    if (flock(b->fd, LOCK_EX|LOCK_NB) == -1) {
        ngx_log_error(NGX_LOG_CRIT, rv->up.request->connection->log, ngx_errno,
                      "flock() \"%V\" failed", &b->tmp);
        return ngx_http_attachments_upload_refuse(&rv->up,
                   NGX_HTTP_SERVICE_UNAVAILABLE, "unavailable",
                   "the storage is unavailable");
    }

    return NGX_OK;
}


/* the type is what the bytes are, whatever the client declared */

static ngx_int_t
ngx_http_attachments_blob_type(ngx_http_attachments_receive_t *rv)
{
    rv->typed = 1;

    return ngx_http_attachments_receive_type(&rv->up, rv->conf, rv->magic,
                                             rv->up.blob, rv->sniff,
                                             rv->sniffed);
}


ngx_int_t
ngx_http_attachments_receive_type(ngx_http_attachments_upload_t *up,
    ngx_http_attachments_upload_conf_t *conf, magic_t magic,
    ngx_http_attachments_blob_t *b, u_char *p, size_t n)
{
    const char  *type;

    type = magic ? magic_buffer(magic, p, n) : NULL;

    if (type == NULL) {
        ngx_log_error(NGX_LOG_ERR, up->request->connection->log, 0,
                      "attachments: libmagic: %s",
                      magic ? magic_error(magic) : "not loaded");
        type = "application/octet-stream";
    }

    b->type.len = ngx_strlen(type);
    b->type.data = ngx_pnalloc(up->request->pool, b->type.len);
    if (b->type.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(b->type.data, type, b->type.len);

    if (!ngx_http_attachments_type_allowed(conf->allowed_types, type)) {
        ngx_log_error(NGX_LOG_INFO, up->request->connection->log, 0,
                      "attachments: \"%V\" is %s, not an allowed type",
                      &b->name, type);
        return ngx_http_attachments_upload_refuse(up,
                   NGX_HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_type",
                   "the file's content is not of an allowed type");
    }

    /* a claim the bytes contradict is refused, not corrected */

    if (!ngx_http_attachments_type_agrees(&b->declared, &b->type)) {
        ngx_log_error(NGX_LOG_INFO, up->request->connection->log, 0,
                      "attachments: \"%V\" is %V, declared %V",
                      &b->name, &b->type, &b->declared);
        return ngx_http_attachments_upload_refuse(up,
                   NGX_HTTP_UNSUPPORTED_MEDIA_TYPE, "type_mismatch",
                   "the file's content is not of its declared type");
    }

    return NGX_OK;
}


/* no claim, the catch-all claim, or the same media type (parameters aside) */

static ngx_uint_t
ngx_http_attachments_type_agrees(ngx_str_t *declared, ngx_str_t *sniffed)
{
    size_t  n;

    for (n = 0; n < declared->len && declared->data[n] != ';'; n++) {
        /* void */
    }

    while (n && declared->data[n - 1] == ' ') {
        n--;
    }

    if (n == 0
        || (n == 24 && ngx_strncasecmp(declared->data,
                                       (u_char *) "application/octet-stream",
                                       24) == 0))
    {
        return 1;
    }

    return n == sniffed->len
           && ngx_strncasecmp(declared->data, sniffed->data, n) == 0;
}


static ngx_int_t
ngx_http_attachments_type_allowed(ngx_array_t *types, const char *type)
{
    size_t       len;
    char        *pattern, **dp;
    ngx_str_t   *t;
    ngx_uint_t   i, n;

    len = ngx_strlen(type);

    n = types ? types->nelts : 0;
    t = types ? types->elts : NULL;
    dp = ngx_http_attachments_default_types;

    for (i = 0; types ? i < n : dp[i] != NULL; i++) {
        pattern = types ? (char *) t[i].data : dp[i];

        if (ngx_strcmp(pattern, "*") == 0 || ngx_strcmp(pattern, type) == 0) {
            return 1;
        }

        /* "prefix*" */

        if (pattern[ngx_strlen(pattern) - 1] == '*'
            && len >= ngx_strlen(pattern) - 1
            && ngx_strncmp(pattern, type, ngx_strlen(pattern) - 1) == 0)
        {
            return 1;
        }
    }

    return 0;
}


static ngx_int_t
ngx_http_attachments_field_end(ngx_http_attachments_receive_t *rv)
{
    ngx_str_t  v;

    v.data = rv->value;
    v.len = rv->vlen;

    return ngx_http_attachments_receive_field(&rv->up, rv->field, &v);
}


/* a metadata field checked, and kept for the rows */

ngx_int_t
ngx_http_attachments_receive_field(ngx_http_attachments_upload_t *up,
    ngx_uint_t field, ngx_str_t *value)
{
    json_t      *json;
    ngx_str_t   *dst, v;
    ngx_uint_t   tags;
    const char  *err;

    v = *value;

    if (!ngx_http_attachments_utf8_valid(v.data, v.len)) {
        return ngx_http_attachments_upload_refuse(up,
                   NGX_HTTP_ATTACHMENTS_UNPROCESSABLE, "invalid_metadata",
                   "fields are UTF-8 text");
    }

    err = NULL;

    switch (field) {

    case NGX_HTTP_ATTACHMENTS_F_VISIBILITY:
        if (!(v.len == 7 && ngx_strncmp(v.data, "private", 7) == 0)
            && !(v.len == 6 && ngx_strncmp(v.data, "public", 6) == 0))
        {
            err = "visibility is private or public";

        } else if (v.len == 6 && up->storage->public.len == 0) {
            err = "the storage has no public= area";
        }

        dst = &up->visibility;
        break;

    case NGX_HTTP_ATTACHMENTS_F_CATEGORY:
        json = json_stringn((char *) v.data, v.len);
        err = json ? ngx_http_attachments_category_check(json)
                   : "category must be UTF-8 text";
        json_decref(json);
        dst = &up->category;
        break;

    default: /* tags, custom_fields: JSON */
        tags = (field == NGX_HTTP_ATTACHMENTS_F_TAGS);
        json = json_loadb((char *) v.data, v.len,
                          JSON_REJECT_DUPLICATES|JSON_DECODE_ANY, NULL);

        if (json == NULL) {
            err = tags ? "tags must be JSON: an array of strings"
                       : "custom_fields must be JSON: an object";

        } else {
            err = tags ? ngx_http_attachments_tags_check(json)
                       : ngx_http_attachments_fields_check(json);
        }

        json_decref(json);
        dst = tags ? &up->tags : &up->custom_fields;
    }

    if (err) {
        return ngx_http_attachments_upload_refuse(up,
                   NGX_HTTP_ATTACHMENTS_UNPROCESSABLE, "invalid_metadata",
                   err);
    }

    dst->data = ngx_pstrdup(up->request->pool, &v);
    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    dst->len = v.len;

    return NGX_OK;
}


static void
ngx_http_attachments_receive_cleanup(void *data)
{
    ngx_http_attachments_receive_t  *rv = data;

    EVP_MD_CTX_free(rv->sha);
}
