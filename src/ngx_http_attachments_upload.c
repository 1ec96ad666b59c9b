
/*
 * Uploads: POST …/files with multipart/form-data, streamed.
 *
 * A request body filter hands every chunk, as nginx reads it, to the
 * multipart parser; file parts go straight to a temporary file in the
 * storage (".tmp/<uuid>") while their size, SHA-256 and sniffed type are
 * checked, so memory stays bounded whatever the size.  Then, all or
 * nothing (docs/upload.md):
 *
 *   1. rows inserted "pending";
 *   2. blobs created in the active storage through the storage interface
 *      (local: fsync'd, renamed to their keys, directories fsync'd; s3: PUT
 *      from the temporary file);
 *   3. attachments.finish_upload(): quotas checked under a per-organization
 *      lock, rows "ready", audit rows, in one transaction.
 *
 * Any failure before 3 commits deletes the blobs (and, after 1, the rows);
 * a crash leaves temporary files and pending rows for the collector.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <magic.h>

#include "ngx_http_attachments_module.h"
#include "ngx_http_attachments_multipart.h"
#include "ngx_http_attachments_json.h"
#include "ngx_http_attachments_sql.h"
#include "ngx_http_attachments_api.h"


#define NGX_HTTP_ATTACHMENTS_SNIFF       16384
/* data comes in runs as short as a byte; page-aligned large writes copy
 * into the page cache at half the CPU of 64k unaligned ones */
#define NGX_HTTP_ATTACHMENTS_WRITE       262144
#define NGX_HTTP_ATTACHMENTS_FIELD_MAX   (NGX_HTTP_ATTACHMENTS_FIELDS_SIZE + 1)

#define NGX_HTTP_ATTACHMENTS_RECEIVING   0
#define NGX_HTTP_ATTACHMENTS_INSERTING   1
#define NGX_HTTP_ATTACHMENTS_FINISHING   2   /* outcome in the database */
#define NGX_HTTP_ATTACHMENTS_ABORTING    3
#define NGX_HTTP_ATTACHMENTS_STORED      4

#define NGX_HTTP_ATTACHMENTS_F_CATEGORY  1
#define NGX_HTTP_ATTACHMENTS_F_TAGS      2
#define NGX_HTTP_ATTACHMENTS_F_FIELDS    3
#define NGX_HTTP_ATTACHMENTS_F_VISIBILITY  4

#define NGX_HTTP_ATTACHMENTS_INSUFFICIENT_STORAGE  507


typedef struct {
    ngx_str_t                        name;       /* for display */
    ngx_str_t                        key_name;   /* for keys */
    ngx_str_t                        ext;
    ngx_str_t                        declared;
    ngx_str_t                        type;       /* sniffed */
    ngx_str_t                        key;
    ngx_str_t                        tmp;
    off_t                            size;
    ngx_fd_t                         fd;
    unsigned                         created:1;  /* in the storage */
    u_char                           id[NGX_HTTP_ATTACHMENTS_UUID_LEN];
    u_char                           sha256[64];
} ngx_http_attachments_blob_t;


typedef struct {
    ngx_http_request_t              *request;
    ngx_http_attachments_ctx_t      *ctx;
    ngx_http_attachments_storage_t  *storage;
    ngx_http_attachments_loc_conf_t *alcf;
    ngx_uint_t                       phase;
    ngx_uint_t                       version;    /* POST …/versions */

    ngx_http_attachments_mp_t        mp;
    ngx_array_t                      blobs;
    ngx_http_attachments_blob_t     *blob;       /* being received */
    EVP_MD_CTX                      *sha;
    time_t                           touched;    /* the temporary's mtime */
    u_char                          *wbuf;
    size_t                           wlen;
    size_t                           sniffed;
    unsigned                         typed:1;
    u_char                           sniff[NGX_HTTP_ATTACHMENTS_SNIFF];

    ngx_uint_t                       field;      /* being received */
    ngx_uint_t                       seen;       /* fields, as bits */
    size_t                           vlen;
    u_char                          *value;
    ngx_str_t                        category;
    ngx_str_t                        tags;
    ngx_str_t                        custom_fields;
    ngx_str_t                        visibility;

    ngx_http_attachments_storage_op_t  op;       /* create or delete */
    ngx_uint_t                       next;       /* blob op is for */
    unsigned                         kept:1;     /* blobs that stay */

    ngx_uint_t                       status;     /* refused with */
    const char                      *code;
    const char                      *message;
} ngx_http_attachments_upload_t;


static ngx_int_t ngx_http_attachments_upload_refuse(
    ngx_http_attachments_upload_t *up, ngx_uint_t status, const char *code,
    const char *message);
static ngx_int_t ngx_http_attachments_upload_answer(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up, ngx_int_t rc);
static void ngx_http_attachments_upload_read(ngx_http_request_t *r);
static void ngx_http_attachments_upload_received(ngx_http_request_t *r);
static void ngx_http_attachments_upload_inserted(
    ngx_http_attachments_pg_query_t *q);
static void ngx_http_attachments_upload_finished(
    ngx_http_attachments_pg_query_t *q);
static void ngx_http_attachments_upload_commit(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up);
static void ngx_http_attachments_upload_create(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up);
static void ngx_http_attachments_upload_created(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
static void ngx_http_attachments_upload_unavailable(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up);
static void ngx_http_attachments_upload_abort(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up);
static void ngx_http_attachments_upload_delete(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up);
static void ngx_http_attachments_upload_deleted(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
static void ngx_http_attachments_upload_aborted(
    ngx_http_attachments_pg_query_t *q);
static ngx_int_t ngx_http_attachments_upload_ids(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up, ngx_str_t *ids);
static ngx_int_t ngx_http_attachments_upload_rows(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up, ngx_str_t *rows);
static ngx_int_t ngx_http_attachments_upload_key(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up, ngx_http_attachments_blob_t *b);
static void ngx_http_attachments_upload_op(ngx_http_attachments_upload_t *up,
    ngx_http_attachments_blob_t *b,
    ngx_http_attachments_storage_handler_pt handler);
static void ngx_http_attachments_upload_remove(
    ngx_http_attachments_upload_t *up);
static void ngx_http_attachments_upload_cleanup(void *data);

static ngx_int_t ngx_http_attachments_part_begin(void *data,
    ngx_http_attachments_mp_part_t *part);
static ngx_int_t ngx_http_attachments_part_body(void *data, u_char *p,
    size_t len);
static ngx_int_t ngx_http_attachments_part_end(void *data);
static ngx_int_t ngx_http_attachments_blob_open(
    ngx_http_attachments_upload_t *up, ngx_http_attachments_blob_t *b);
static ngx_int_t ngx_http_attachments_blob_type(
    ngx_http_attachments_upload_t *up);
static ngx_int_t ngx_http_attachments_blob_flush(
    ngx_http_attachments_upload_t *up);
static ngx_int_t ngx_http_attachments_field_end(
    ngx_http_attachments_upload_t *up);
static ngx_int_t ngx_http_attachments_type_allowed(ngx_array_t *types,
    const char *type);
static ngx_uint_t ngx_http_attachments_type_agrees(ngx_str_t *declared,
    ngx_str_t *sniffed);


static ngx_http_request_body_filter_pt   ngx_http_next_request_body_filter;


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


ngx_int_t
ngx_http_attachments_upload_init(ngx_conf_t *cf)
{
    ngx_http_next_request_body_filter = ngx_http_top_request_body_filter;
    ngx_http_top_request_body_filter = ngx_http_attachments_request_body_filter;

    return NGX_OK;
}


/* POST …/files: starts reading the body through the filter below */

ngx_int_t
ngx_http_attachments_upload(ngx_http_request_t *r,
    ngx_http_attachments_ctx_t *ctx)
{
    ngx_int_t                          rc;
    ngx_str_t                          boundary;
    ngx_pool_cleanup_t                *cln;
    ngx_http_attachments_upload_t     *up;
    ngx_http_attachments_mp_handler_t  h;
    ngx_http_attachments_main_conf_t  *amcf;
    u_char                             buf[
                                         NGX_HTTP_ATTACHMENTS_MP_BOUNDARY_MAX];

    amcf = ngx_http_get_module_main_conf(r, ngx_http_attachments_module);

    if (r->headers_in.content_type == NULL
        || ngx_http_attachments_mp_boundary(
               r->headers_in.content_type->value.data,
               r->headers_in.content_type->value.len, buf, &boundary)
           != NGX_OK)
    {
        return ngx_http_attachments_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "malformed_multipart",
                   "the body must be multipart/form-data with a boundary");
    }

    up = ngx_pcalloc(r->pool, sizeof(ngx_http_attachments_upload_t));
    if (up == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    up->request = r;
    up->ctx = ctx;
    up->version = (ctx->route.kind == NGX_HTTP_ATTACHMENTS_ROUTE_VERSIONS);
    up->storage = amcf->active;
    up->alcf = ngx_http_get_module_loc_conf(r, ngx_http_attachments_module);

    if (ngx_array_init(&up->blobs, r->pool, 2,
                       sizeof(ngx_http_attachments_blob_t))
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    up->value = ngx_pnalloc(r->pool, NGX_HTTP_ATTACHMENTS_FIELD_MAX);
    up->wbuf = ngx_pmemalign(r->pool, NGX_HTTP_ATTACHMENTS_WRITE,
                             ngx_pagesize);
    up->sha = EVP_MD_CTX_new();

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (up->value == NULL || up->wbuf == NULL || up->sha == NULL
        || cln == NULL)
    {
        EVP_MD_CTX_free(up->sha);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_attachments_upload_cleanup;
    cln->data = up;

    h.begin = ngx_http_attachments_part_begin;
    h.body = ngx_http_attachments_part_body;
    h.end = ngx_http_attachments_part_end;
    h.data = up;

    if (ngx_http_attachments_mp_init(&up->mp, &boundary, &h) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->upload = up;

    rc = ngx_http_read_client_request_body(r,
                                       ngx_http_attachments_upload_received);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return ngx_http_attachments_upload_answer(r, up, rc);
    }

    if (rc == NGX_AGAIN) {
        /* ours, so that a refusal mid-body is answered in JSON */
        r->read_event_handler = ngx_http_attachments_upload_read;
    }

    return NGX_DONE;
}


/* every chunk of an upload's body, as read: parsed, never stored whole */

ngx_int_t
ngx_http_attachments_request_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in)
{
    ngx_buf_t                      *b;
    ngx_chain_t                    *cl, *last;
    ngx_http_attachments_ctx_t     *ctx;
    ngx_http_attachments_upload_t  *up;

    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);

    if (ctx == NULL || ctx->upload == NULL) {
        return ngx_http_next_request_body_filter(r, in);
    }

    up = ctx->upload;
    last = NULL;

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;

        if (b->last > b->pos && up->status == 0) {
            if (ngx_http_attachments_mp_feed(&up->mp, b->pos, b->last - b->pos)
                == NGX_ERROR
                && up->status == 0)
            {
                ngx_http_attachments_upload_refuse(up, NGX_HTTP_BAD_REQUEST,
                                                   "malformed_multipart",
                                                   up->mp.error);
            }
        }

        /* consumed: nginx reuses its buffer */
        b->pos = b->last;

        if (b->last_buf) {
            last = cl;
        }
    }

    if (up->status) {
        return up->status;
    }

    if (last == NULL) {
        return NGX_OK;
    }

    /* the save filter learns that the body is complete, and nothing else */

    last->next = NULL;

    return ngx_http_next_request_body_filter(r, last);
}


static void
ngx_http_attachments_upload_read(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    ngx_http_attachments_ctx_t     *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);

    if (r->connection->read->timedout) {
        r->connection->timedout = 1;
        rc = NGX_HTTP_REQUEST_TIME_OUT;

    } else {
        rc = ngx_http_read_unbuffered_request_body(r);
    }

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        ngx_http_finalize_request(r,
            ngx_http_attachments_upload_answer(r, ctx->upload, rc));
    }
}


static ngx_int_t
ngx_http_attachments_upload_refuse(ngx_http_attachments_upload_t *up,
    ngx_uint_t status, const char *code, const char *message)
{
    if (up->status == 0) {
        up->status = status;
        up->code = code;
        up->message = message;
    }

    return NGX_ERROR;
}


/* the answer to a failed upload; the blobs go with the request's pool */

static ngx_int_t
ngx_http_attachments_upload_answer(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up, ngx_int_t rc)
{
    json_t  *err;

    if (up->status == 0) {
        /* nginx's own refusal: client_max_body_size, a bad chunk, a timeout */
        if (rc != NGX_HTTP_REQUEST_ENTITY_TOO_LARGE) {
            return rc;
        }

        ngx_http_attachments_upload_refuse(up, rc, "body_too_large",
                                           "the body is over "
                                           "client_max_body_size");
    }

    /* the rest of the body is not read: no keepalive after it */
    r->keepalive = 0;
    r->lingering_close = 1;

    if (up->status == NGX_HTTP_SERVICE_UNAVAILABLE) {
        return ngx_http_attachments_send_unavailable(r);
    }

    err = json_pack("{s:s,s:s}", "code", up->code, "message",
                    up->message ? up->message : "");

    /* errors about one file name it */

    if (err && up->blob
        && (up->status == NGX_HTTP_UNSUPPORTED_MEDIA_TYPE
            || ngx_strcmp(up->code, "file_too_large") == 0))
    {
        json_object_set_new(err, "file",
                            json_stringn((char *) up->blob->name.data,
                                         up->blob->name.len));
    }

    return ngx_http_attachments_send_json(r, up->status,
                                          json_pack("{s:o}", "error", err));
}


/* multipart callbacks */

static ngx_int_t
ngx_http_attachments_part_begin(void *data,
    ngx_http_attachments_mp_part_t *part)
{
    ngx_http_attachments_upload_t *up = data;

    u_char                        *p;
    ngx_http_attachments_blob_t   *b;
    u_char                         name[NGX_HTTP_ATTACHMENTS_NAME_MAX];

    up->blob = NULL;
    up->field = 0;

    if (part->name.len == 4 && ngx_strncmp(part->name.data, "file", 4) == 0) {

        if (!part->has_filename) {
            return ngx_http_attachments_upload_refuse(up,
                       NGX_HTTP_BAD_REQUEST, "malformed_multipart",
                       "a file part without a filename");
        }

        if (up->blobs.nelts == up->alcf->max_files
            || (up->blobs.nelts
                && up->ctx->route.kind == NGX_HTTP_ATTACHMENTS_ROUTE_VERSIONS))
        {
            return ngx_http_attachments_upload_refuse(up,
                       NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "too_many_files",
                       "more files than attachments_max_files, or more "
                       "than one for a version");
        }

        b = ngx_array_push(&up->blobs);
        if (b == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(b, sizeof(ngx_http_attachments_blob_t));
        b->fd = NGX_INVALID_FILE;
        up->blob = b;

        b->name.data = name;
        b->name.len = ngx_http_attachments_filename(name, part->filename.data,
                                                    part->filename.len,
                                           NGX_HTTP_ATTACHMENTS_NAME_DISPLAY);
        b->name.data = ngx_pstrdup(up->request->pool, &b->name);

        b->key_name.data = name;
        b->key_name.len = ngx_http_attachments_filename(name,
                              part->filename.data, part->filename.len,
                              NGX_HTTP_ATTACHMENTS_NAME_KEY);
        b->key_name.data = ngx_pstrdup(up->request->pool, &b->key_name);

        p = ngx_pnalloc(up->request->pool, NGX_HTTP_ATTACHMENTS_EXT_MAX);
        if (b->name.data == NULL || b->key_name.data == NULL || p == NULL) {
            return NGX_ERROR;
        }

        b->ext.data = p;
        b->ext.len = ngx_http_attachments_file_ext(p, b->name.data,
                                                   b->name.len);

        /* recorded, never trusted: printable text or nothing */

        if (part->content_type.len
            && part->content_type.len <= 255
            && ngx_http_attachments_printable(part->content_type.data,
                                              part->content_type.len))
        {
            b->declared.data = ngx_pstrdup(up->request->pool,
                                           &part->content_type);
            b->declared.len = part->content_type.len;
        }

        up->sniffed = 0;
        up->typed = 0;
        up->wlen = 0;

        if (EVP_DigestInit_ex(up->sha, EVP_sha256(), NULL) != 1) {
            return NGX_ERROR;
        }

        return ngx_http_attachments_blob_open(up, b);
    }

    if (part->name.len == 8
        && ngx_strncmp(part->name.data, "category", 8) == 0)
    {
        up->field = NGX_HTTP_ATTACHMENTS_F_CATEGORY;

    } else if (part->name.len == 4
               && ngx_strncmp(part->name.data, "tags", 4) == 0)
    {
        up->field = NGX_HTTP_ATTACHMENTS_F_TAGS;

    } else if (part->name.len == 13
               && ngx_strncmp(part->name.data, "custom_fields", 13) == 0)
    {
        up->field = NGX_HTTP_ATTACHMENTS_F_FIELDS;

    } else if (part->name.len == 10
               && ngx_strncmp(part->name.data, "visibility", 10) == 0)
    {
        up->field = NGX_HTTP_ATTACHMENTS_F_VISIBILITY;

    } else {
        return ngx_http_attachments_upload_refuse(up, NGX_HTTP_BAD_REQUEST,
                   "malformed_multipart",
                   "parts are file, category, tags, custom_fields and "
                   "visibility");
    }

    if (up->seen & (1 << up->field)) {
        return ngx_http_attachments_upload_refuse(up, NGX_HTTP_BAD_REQUEST,
                   "malformed_multipart", "a field is sent twice");
    }

    up->seen |= 1 << up->field;
    up->vlen = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_attachments_part_body(void *data, u_char *p, size_t len)
{
    ngx_http_attachments_upload_t *up = data;

    size_t                        n;
    ngx_http_attachments_blob_t  *b;

    b = up->blob;

    if (b == NULL) {
        if (up->vlen + len > NGX_HTTP_ATTACHMENTS_FIELDS_SIZE) {
            return ngx_http_attachments_upload_refuse(up,
                       NGX_HTTP_BAD_REQUEST, "malformed_multipart",
                       "a field is over 16384 bytes");
        }

        ngx_memcpy(up->value + up->vlen, p, len);
        up->vlen += len;

        return NGX_OK;
    }

    b->size += len;

    if (b->size > up->alcf->max_file_size) {
        return ngx_http_attachments_upload_refuse(up,
                   NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "file_too_large",
                   "a file is over attachments_max_file_size");
    }

    /*
     * the collector takes a temporary untouched for attachments_gc_grace
     * for the leftover of a dead worker: a slow upload keeps it fresh
     */

    if (up->touched != ngx_time()) {
        up->touched = ngx_time();
        (void) futimens(b->fd, NULL);
    }

    if (!up->typed) {
        n = ngx_min(len, NGX_HTTP_ATTACHMENTS_SNIFF - up->sniffed);
        ngx_memcpy(up->sniff + up->sniffed, p, n);
        up->sniffed += n;

        if (up->sniffed == NGX_HTTP_ATTACHMENTS_SNIFF
            && ngx_http_attachments_blob_type(up) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    while (len) {
        n = ngx_min(len, NGX_HTTP_ATTACHMENTS_WRITE - up->wlen);
        ngx_memcpy(up->wbuf + up->wlen, p, n);
        up->wlen += n;
        p += n;
        len -= n;

        if (up->wlen == NGX_HTTP_ATTACHMENTS_WRITE
            && ngx_http_attachments_blob_flush(up) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* the buffered data to the digest and the file */

static ngx_int_t
ngx_http_attachments_blob_flush(ngx_http_attachments_upload_t *up)
{
    u_char                       *p;
    size_t                        len;
    ssize_t                       w;
    ngx_http_attachments_blob_t  *b;

    b = up->blob;
    p = up->wbuf;
    len = up->wlen;
    up->wlen = 0;

    if (EVP_DigestUpdate(up->sha, p, len) != 1) {
        return NGX_ERROR;
    }

    while (len) {
        w = ngx_write_fd(b->fd, p, len);

        if (w == -1) {
            ngx_log_error(NGX_LOG_CRIT, up->request->connection->log,
                          ngx_errno, ngx_write_fd_n " \"%V\" failed", &b->tmp);
            return ngx_http_attachments_upload_refuse(up,
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
    ngx_http_attachments_upload_t *up = data;

    u_char                        md[EVP_MAX_MD_SIZE];
    unsigned int                  n;
    ngx_http_attachments_blob_t  *b;

    b = up->blob;

    if (b == NULL) {
        return ngx_http_attachments_field_end(up);
    }

    if (b->size == 0) {
        return ngx_http_attachments_upload_refuse(up, NGX_HTTP_BAD_REQUEST,
                   "empty_file", "a file of 0 bytes");
    }

    if (!up->typed && ngx_http_attachments_blob_type(up) != NGX_OK) {
        return NGX_ERROR;
    }

    if (up->wlen && ngx_http_attachments_blob_flush(up) != NGX_OK) {
        return NGX_ERROR;
    }

    if (EVP_DigestFinal_ex(up->sha, md, &n) != 1) {
        return NGX_ERROR;
    }

    ngx_hex_dump(b->sha256, md, n);

    /* on disk before its name can point at it */

    if (fsync(b->fd) == -1) {
        ngx_log_error(NGX_LOG_CRIT, up->request->connection->log, ngx_errno,
                      "fsync() \"%V\" failed", &b->tmp);
        return ngx_http_attachments_upload_refuse(up,
                   NGX_HTTP_ATTACHMENTS_INSUFFICIENT_STORAGE, "storage_full",
                   "the storage cannot take the file");
    }

    ngx_close_file(b->fd);
    b->fd = NGX_INVALID_FILE;
    up->blob = NULL;

    return NGX_OK;
}


/* a temporary file in the storage's ".tmp" directory, named by the uuid */

static ngx_int_t
ngx_http_attachments_blob_open(ngx_http_attachments_upload_t *up,
    ngx_http_attachments_blob_t *b)
{
    u_char      *p;
    ngx_str_t   *root;
    u_char       rnd[16];

    if (RAND_bytes(rnd, 16) != 1) {
        return NGX_ERROR;
    }

    /* a version 4 UUID */
    rnd[6] = (rnd[6] & 0x0f) | 0x40;
    rnd[8] = (rnd[8] & 0x3f) | 0x80;

    p = b->id;
    p = ngx_hex_dump(p, rnd, 4);
    *p++ = '-';
    p = ngx_hex_dump(p, rnd + 4, 2);
    *p++ = '-';
    p = ngx_hex_dump(p, rnd + 6, 2);
    *p++ = '-';
    p = ngx_hex_dump(p, rnd + 8, 2);
    *p++ = '-';
    (void) ngx_hex_dump(p, rnd + 10, 6);

    root = &up->storage->root;

    b->tmp.len = root->len + sizeof("/.tmp/") - 1
                 + NGX_HTTP_ATTACHMENTS_UUID_LEN;
    b->tmp.data = ngx_pnalloc(up->request->pool, b->tmp.len + 1);
    if (b->tmp.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(b->tmp.data, root->data, root->len);
    p = ngx_cpymem(p, "/.tmp/", 6);
    p = ngx_cpymem(p, b->id, NGX_HTTP_ATTACHMENTS_UUID_LEN);
    *p = '\0';

    b->fd = ngx_open_file(b->tmp.data, NGX_FILE_WRONLY,
                          NGX_FILE_CREATE_OR_OPEN | O_EXCL,
                          NGX_FILE_DEFAULT_ACCESS);

    if (b->fd == NGX_INVALID_FILE && ngx_errno == NGX_ENOENT) {
        p = b->tmp.data + root->len + 5;
        *p = '\0';
        (void) ngx_create_dir(b->tmp.data, 0755);
        *p = '/';

        b->fd = ngx_open_file(b->tmp.data, NGX_FILE_WRONLY,
                              NGX_FILE_CREATE_OR_OPEN | O_EXCL,
                              NGX_FILE_DEFAULT_ACCESS);
    }

    if (b->fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_CRIT, up->request->connection->log, ngx_errno,
                      ngx_open_file_n " \"%V\" failed", &b->tmp);
        return ngx_http_attachments_upload_refuse(up,
                   NGX_HTTP_SERVICE_UNAVAILABLE, "unavailable",
                   "the storage is unavailable");
    }

    return NGX_OK;
}


/* the type is what the bytes are, whatever the client declared */

static ngx_int_t
ngx_http_attachments_blob_type(ngx_http_attachments_upload_t *up)
{
    const char                        *type;
    ngx_http_attachments_blob_t       *b;
    ngx_http_attachments_main_conf_t  *amcf;

    b = up->blob;
    up->typed = 1;

    amcf = ngx_http_get_module_main_conf(up->request,
                                         ngx_http_attachments_module);

    type = amcf->magic ? magic_buffer(amcf->magic, up->sniff, up->sniffed)
                       : NULL;

    if (type == NULL) {
        ngx_log_error(NGX_LOG_ERR, up->request->connection->log, 0,
                      "attachments: libmagic: %s",
                      amcf->magic ? magic_error(amcf->magic) : "not loaded");
        type = "application/octet-stream";
    }

    b->type.len = ngx_strlen(type);
    b->type.data = ngx_pnalloc(up->request->pool, b->type.len);
    if (b->type.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(b->type.data, type, b->type.len);

    if (!ngx_http_attachments_type_allowed(up->alcf->allowed_types, type)) {
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
ngx_http_attachments_field_end(ngx_http_attachments_upload_t *up)
{
    json_t      *json;
    ngx_str_t   *dst, v;
    const char  *err;

    v.data = up->value;
    v.len = up->vlen;

    if (!ngx_http_attachments_utf8_valid(v.data, v.len)) {
        return ngx_http_attachments_upload_refuse(up,
                   NGX_HTTP_ATTACHMENTS_UNPROCESSABLE, "invalid_metadata",
                   "fields are UTF-8 text");
    }

    switch (up->field) {

    case NGX_HTTP_ATTACHMENTS_F_VISIBILITY:
        if (!(v.len == 7 && ngx_strncmp(v.data, "private", 7) == 0)
            && !(v.len == 6 && ngx_strncmp(v.data, "public", 6) == 0))
        {
            return ngx_http_attachments_upload_refuse(up,
                       NGX_HTTP_ATTACHMENTS_UNPROCESSABLE, "invalid_metadata",
                       "visibility is private or public");
        }

        if (v.len == 6 && up->storage->public.len == 0) {
            return ngx_http_attachments_upload_refuse(up,
                       NGX_HTTP_ATTACHMENTS_UNPROCESSABLE, "invalid_metadata",
                       "the storage has no public= area");
        }

        dst = &up->visibility;
        break;

    case NGX_HTTP_ATTACHMENTS_F_CATEGORY:
        json = json_stringn((char *) v.data, v.len);
        err = json ? ngx_http_attachments_category_check(json)
                   : "category must be UTF-8 text";
        json_decref(json);
        dst = &up->category;
        goto checked;

    default:
        json = json_loadb((char *) v.data, v.len,
                          JSON_REJECT_DUPLICATES|JSON_DECODE_ANY, NULL);

        if (json == NULL) {
            err = (up->field == NGX_HTTP_ATTACHMENTS_F_TAGS)
                  ? "tags must be JSON: an array of strings"
                  : "custom_fields must be JSON: an object";

        } else {
            err = (up->field == NGX_HTTP_ATTACHMENTS_F_TAGS)
                  ? ngx_http_attachments_tags_check(json)
                  : ngx_http_attachments_fields_check(json);
        }

        json_decref(json);
        dst = (up->field == NGX_HTTP_ATTACHMENTS_F_TAGS) ? &up->tags
                                                         : &up->custom_fields;
    checked:

        if (err) {
            return ngx_http_attachments_upload_refuse(up,
                       NGX_HTTP_ATTACHMENTS_UNPROCESSABLE, "invalid_metadata",
                       err);
        }
    }

    dst->data = ngx_pstrdup(up->request->pool, &v);
    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    dst->len = v.len;

    return NGX_OK;
}


/* the whole body is in: rows, then blobs in place, then ready */

static void
ngx_http_attachments_upload_received(ngx_http_request_t *r)
{
    ngx_str_t                         rows;
    ngx_uint_t                        i;
    ngx_http_attachments_ctx_t       *ctx;
    ngx_http_attachments_blob_t      *b;
    ngx_http_attachments_upload_t    *up;
    ngx_http_attachments_pg_query_t  *q;

    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);
    up = ctx->upload;

    if (ngx_http_attachments_mp_finish(&up->mp) != NGX_OK) {
        ngx_http_attachments_upload_refuse(up, NGX_HTTP_BAD_REQUEST,
                                           "malformed_multipart",
                                           up->mp.error);
        goto failed;
    }

    if (up->blobs.nelts == 0) {
        ngx_http_attachments_upload_refuse(up, NGX_HTTP_BAD_REQUEST,
                                           "no_file",
                                           "no part named file");
        goto failed;
    }

    b = up->blobs.elts;

    for (i = 0; i < up->blobs.nelts; i++) {
        if (ngx_http_attachments_upload_key(r, up, &b[i]) != NGX_OK) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    if (ngx_http_attachments_upload_rows(r, up, &rows) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    q = ngx_http_attachments_statement(r, ctx,
                                       up->version
                                       ? &ngx_http_attachments_sql_version
                                       : &ngx_http_attachments_sql_upload,
                                       ngx_http_attachments_upload_inserted);
    if (q == NULL
        || ngx_http_attachments_pg_param(r->pool, q, &up->storage->name)
           != NGX_OK
        || ngx_http_attachments_pg_param(r->pool, q, &rows) != NGX_OK
        || ngx_http_attachments_pg_param(r->pool, q,
                                         up->category.data ? &up->category
                                                           : NULL)
           != NGX_OK
        || ngx_http_attachments_pg_param(r->pool, q,
                                         up->tags.data ? &up->tags : NULL)
           != NGX_OK
        || ngx_http_attachments_pg_param(r->pool, q,
                                         up->custom_fields.data
                                         ? &up->custom_fields : NULL)
           != NGX_OK
        || ngx_http_attachments_pg_param(r->pool, q,
                                         up->visibility.data
                                         ? &up->visibility : NULL)
           != NGX_OK
        || (up->version
            && ngx_http_attachments_pg_param(r->pool, q,
                                             &ctx->route.file_id)
               != NGX_OK))
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* from here on the request finishes what it started, client or not */

    if (ngx_http_attachments_run_through(r, q) == NGX_AGAIN) {
        up->phase = NGX_HTTP_ATTACHMENTS_INSERTING;
        return;
    }

    ngx_http_attachments_upload_refuse(up, NGX_HTTP_SERVICE_UNAVAILABLE,
                                       "unavailable",
                                       "the database is unavailable");

failed:

    ngx_http_finalize_request(r,
        ngx_http_attachments_upload_answer(r, up, up->status));
}


static void
ngx_http_attachments_upload_inserted(ngx_http_attachments_pg_query_t *q)
{
    ngx_http_request_t               *r;
    ngx_http_attachments_ctx_t       *ctx;
    ngx_http_attachments_upload_t    *up;

    r = q->data;
    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);
    up = ctx->upload;

    if (q->rc == NGX_DECLINED
        && ngx_strcmp(PQresultErrorField(q->result, PG_DIAG_SQLSTATE),
                      "23505") == 0)
    {
        /* attachments_key made a key that a file has already */
        ngx_http_attachments_finish(r,
            ngx_http_attachments_send_error(r, NGX_HTTP_CONFLICT, "conflict",
                "the storage key is taken; attachments_key needs "
                "$attachments_uuid"));
        return;
    }

    if (ngx_http_attachments_failed(r, q, 0)) {
        return;
    }

    if ((ngx_uint_t) PQntuples(q->result) != up->blobs.nelts) {
        /* the file a version was sent for is not there (any more) */
        ngx_http_attachments_upload_refuse(up, NGX_HTTP_NOT_FOUND,
                                           "not_found",
                                           "no such record or file");
        ngx_http_attachments_upload_abort(r, up);
        return;
    }

    up->next = 0;
    ngx_http_attachments_upload_create(r, up);
}


/* the blobs are in place: finish_upload() makes them files, or refuses */

static void
ngx_http_attachments_upload_commit(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up)
{
    ngx_str_t                         ids, action;
    ngx_http_attachments_pg_query_t  *next;

    if (up->version) {
        ngx_str_set(&action, "version");

    } else {
        ngx_str_set(&action, "upload");
    }

    next = ngx_http_attachments_statement(r, up->ctx,
                                          &ngx_http_attachments_sql_finish,
                                          ngx_http_attachments_upload_finished);

    if (next == NULL
        || ngx_http_attachments_upload_ids(r, up, &ids) != NGX_OK
        || ngx_http_attachments_pg_param(r->pool, next, &ids) != NGX_OK
        || ngx_http_attachments_pg_param(r->pool, next, &action) != NGX_OK)
    {
        ngx_http_attachments_upload_refuse(up,
            NGX_HTTP_INTERNAL_SERVER_ERROR, "internal_error",
            "the request failed; the error log says why");
        ngx_http_attachments_upload_abort(r, up);
        return;
    }

    if (ngx_http_attachments_run_through(r, next) == NGX_AGAIN) {
        up->phase = NGX_HTTP_ATTACHMENTS_FINISHING;
        return;
    }

    /* the blobs go; the pending rows too, if the database is back */
    ngx_http_attachments_upload_unavailable(r, up);
}


/*
 * The blobs go into the storage one after the other (up->next), each from
 * its temporary file: at once (local) or once the store answered (s3).
 * Any refusal or failure undoes the ones already there.
 */

static void
ngx_http_attachments_upload_create(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up)
{
    ngx_int_t                     rc;
    ngx_http_attachments_blob_t  *b;

    for ( ;; ) {
        if (up->next == up->blobs.nelts) {
            /* what temporary files are left are not needed any more */
            ngx_http_attachments_upload_remove(up);
            ngx_http_attachments_upload_commit(r, up);
            return;
        }

        b = (ngx_http_attachments_blob_t *) up->blobs.elts + up->next;

        if (b->fd != NGX_INVALID_FILE) {
            ngx_close_file(b->fd);
            b->fd = NGX_INVALID_FILE;
        }

        ngx_http_attachments_upload_op(up, b,
                                       ngx_http_attachments_upload_created);

        rc = up->storage->kind->create(r, &up->op);

        if (rc == NGX_AGAIN) {
            ngx_http_run_posted_requests(r->connection);
            return;
        }

        if (rc != NGX_OK) {
            ngx_http_attachments_upload_unavailable(r, up);
            return;
        }

        b->created = 1;
        up->next++;
    }
}


static void
ngx_http_attachments_upload_created(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    ngx_http_attachments_blob_t    *b;
    ngx_http_attachments_upload_t  *up;

    up = op->data;
    b = (ngx_http_attachments_blob_t *) up->blobs.elts + up->next;

    if (!ngx_http_attachments_op_done(op)) {
        /* unknown whether it is there: a delete makes sure it is not */
        b->created = op->uncertain;

        ngx_http_attachments_upload_unavailable(r, up);
        return;
    }

    b->created = 1;
    up->next++;

    ngx_http_attachments_upload_create(r, up);
}


static void
ngx_http_attachments_upload_unavailable(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up)
{
    ngx_http_attachments_upload_refuse(up, NGX_HTTP_SERVICE_UNAVAILABLE,
                                       "unavailable",
                                       "the storage is unavailable");
    ngx_http_attachments_upload_abort(r, up);
}


static void
ngx_http_attachments_upload_op(ngx_http_attachments_upload_t *up,
    ngx_http_attachments_blob_t *b,
    ngx_http_attachments_storage_handler_pt handler)
{
    ngx_memzero(&up->op, sizeof(ngx_http_attachments_storage_op_t));

    up->op.storage = up->storage;
    up->op.key = b->key;
    up->op.file = b->tmp;
    up->op.size = b->size;
    up->op.sha256 = b->sha256;
    up->op.log = up->request->connection->log;
    up->op.handler = handler;
    up->op.data = up;
}


static void
ngx_http_attachments_upload_finished(ngx_http_attachments_pg_query_t *q)
{
    int                               n;
    char                             *result;
    json_t                           *files;
    ngx_http_request_t               *r;
    ngx_http_attachments_ctx_t       *ctx;
    ngx_http_attachments_upload_t    *up;

    r = q->data;
    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);
    up = ctx->upload;

    /* committed or not: the collector will know from the rows */
    if (ngx_http_attachments_failed(r, q, 0)) {
        return;
    }

    n = PQntuples(q->result);
    result = n ? PQgetvalue(q->result, 0, NGX_HTTP_ATTACHMENTS_COLS) : "";

    if (ngx_strcmp(result, "ok") != 0) {

        ngx_http_attachments_upload_refuse(up,
            NGX_HTTP_ATTACHMENTS_INSUFFICIENT_STORAGE, "quota_exceeded",
            ngx_strcmp(result, "user") == 0
            ? "the upload does not fit the user's quota"
            : "the upload does not fit the organization's quota");

        ngx_http_attachments_upload_abort(r, up);
        return;
    }

    up->phase = NGX_HTTP_ATTACHMENTS_STORED;

    files = ngx_http_attachments_files_json(r, ctx, q->result, n);

    ngx_http_attachments_finish(r,
        ngx_http_attachments_send_json(r, NGX_HTTP_CREATED,
            files ? json_pack("{s:o}", "files", files) : NULL));
}


/* nothing stays: blobs removed, then the pending rows; then the answer */

static void
ngx_http_attachments_upload_abort(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up)
{
    up->phase = NGX_HTTP_ATTACHMENTS_ABORTING;
    ngx_http_attachments_upload_remove(up);

    up->next = 0;
    ngx_http_attachments_upload_delete(r, up);
}


/* the blobs created are deleted one after the other, then the rows */

static void
ngx_http_attachments_upload_delete(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up)
{
    ngx_int_t                         rc;
    ngx_str_t                         ids;
    ngx_http_attachments_blob_t      *b;
    ngx_http_attachments_pg_query_t  *q;

    b = up->blobs.elts;

    for ( /* void */ ; up->next < up->blobs.nelts; up->next++) {

        if (!b[up->next].created) {
            continue;
        }

        ngx_http_attachments_upload_op(up, &b[up->next],
                                       ngx_http_attachments_upload_deleted);

        rc = up->storage->kind->delete(r, &up->op);

        if (rc == NGX_AGAIN) {
            ngx_http_run_posted_requests(r->connection);
            return;
        }

        if (rc == NGX_OK) {
            b[up->next].created = 0;

        } else {
            up->kept = 1;
        }
    }

    if (up->kept) {
        /* the pending rows stay, so that the blobs are not forgotten */
        ngx_http_attachments_finish(r,
            ngx_http_attachments_upload_answer(r, up, up->status));
        return;
    }

    q = ngx_http_attachments_statement(r, up->ctx,
                                       &ngx_http_attachments_sql_abort,
                                       ngx_http_attachments_upload_aborted);
    if (q == NULL
        || ngx_http_attachments_upload_ids(r, up, &ids) != NGX_OK
        || ngx_http_attachments_pg_param(r->pool, q, &ids) != NGX_OK
        || ngx_http_attachments_run_through(r, q) != NGX_AGAIN)
    {
        /* the collector removes the pending rows */
        ngx_http_attachments_finish(r,
            ngx_http_attachments_upload_answer(r, up, up->status));
    }
}


static void
ngx_http_attachments_upload_deleted(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    ngx_http_attachments_blob_t    *b;
    ngx_http_attachments_upload_t  *up;

    up = op->data;
    b = (ngx_http_attachments_blob_t *) up->blobs.elts + up->next;

    if (ngx_http_attachments_op_done(op)
        || op->status == NGX_HTTP_NOT_FOUND)
    {
        b->created = 0;

    } else {
        up->kept = 1;
    }

    up->next++;

    ngx_http_attachments_upload_delete(r, up);
}


static void
ngx_http_attachments_upload_aborted(ngx_http_attachments_pg_query_t *q)
{
    ngx_http_request_t             *r;
    ngx_http_attachments_ctx_t     *ctx;
    ngx_http_attachments_upload_t  *up;

    r = q->data;
    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);
    up = ctx->upload;

    ngx_http_attachments_finish(r,
        ngx_http_attachments_upload_answer(r, up, up->status));
}


/* the storage key: attachments_key, or org_{org}/{type}/{id}/{uuid}-{name} */

static ngx_int_t
ngx_http_attachments_upload_key(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up, ngx_http_attachments_blob_t *b)
{
    u_char                      *p;
    ngx_http_attachments_ctx_t  *ctx;
    u_char                       org[NGX_HTTP_ATTACHMENTS_NAME_MAX];
    size_t                       len;

    ctx = up->ctx;

    if (up->alcf->key) {
        up->blob = b;

        if (ngx_http_complex_value(r, up->alcf->key, &b->key) != NGX_OK) {
            return NGX_ERROR;
        }

        up->blob = NULL;

    } else {
        len = ngx_http_attachments_filename(org, ctx->org.data, ctx->org.len,
                                            NGX_HTTP_ATTACHMENTS_NAME_KEY);

        b->key.len = sizeof("org_///-") - 1 + len
                     + ctx->route.entity_type.len + ctx->route.entity_id.len
                     + NGX_HTTP_ATTACHMENTS_UUID_LEN + b->key_name.len;

        b->key.data = ngx_pnalloc(r->pool, b->key.len);
        if (b->key.data == NULL) {
            return NGX_ERROR;
        }

        p = ngx_cpymem(b->key.data, "org_", 4);
        p = ngx_cpymem(p, org, len);
        *p++ = '/';
        p = ngx_cpymem(p, ctx->route.entity_type.data,
                       ctx->route.entity_type.len);
        *p++ = '/';
        p = ngx_cpymem(p, ctx->route.entity_id.data, ctx->route.entity_id.len);
        *p++ = '/';
        p = ngx_cpymem(p, b->id, NGX_HTTP_ATTACHMENTS_UUID_LEN);
        *p++ = '-';
        ngx_memcpy(p, b->key_name.data, b->key_name.len);
    }

    if (!ngx_http_attachments_key_safe(b->key.data, b->key.len)) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "attachments: attachments_key made an unsafe key "
                      "\"%V\"", &b->key);
        return NGX_ERROR;
    }

    /* public files live in the storage's public area */

    if (up->visibility.len == 6) {
        p = ngx_pnalloc(r->pool, sizeof("public/") - 1 + b->key.len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(ngx_cpymem(p, "public/", 7), b->key.data, b->key.len);
        b->key.data = p;
        b->key.len += 7;
    }

    return NGX_OK;
}


/* $8 of the upload statement: the files as a JSON array of records */

static ngx_int_t
ngx_http_attachments_upload_rows(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up, ngx_str_t *rows)
{
    char                         *text;
    json_t                       *a, *o;
    ngx_uint_t                    i;
    ngx_http_attachments_blob_t  *b;

    a = json_array();
    b = up->blobs.elts;

    for (i = 0; a && i < up->blobs.nelts; i++) {
        o = json_pack("{s:s%,s:s%,s:s%,s:s%,s:s%,s:s%,s:I,s:s%}",
                      "id", b[i].id, (size_t) NGX_HTTP_ATTACHMENTS_UUID_LEN,
                      "key", b[i].key.data, b[i].key.len,
                      "name", b[i].name.data, b[i].name.len,
                      "ext", b[i].ext.data, b[i].ext.len,
                      "type", b[i].type.data, b[i].type.len,
                      "declared", b[i].declared.data
                                  ? (char *) b[i].declared.data : "",
                      b[i].declared.len,
                      "size", (json_int_t) b[i].size,
                      "sha256", b[i].sha256, (size_t) 64);

        if (json_array_append_new(a, o) != 0) {
            json_decref(a);
            return NGX_ERROR;
        }
    }

    if (a == NULL) {
        return NGX_ERROR;
    }

    text = json_dumps(a, JSON_COMPACT);
    json_decref(a);

    if (text == NULL) {
        return NGX_ERROR;
    }

    rows->len = ngx_strlen(text);
    rows->data = ngx_pnalloc(r->pool, rows->len);

    if (rows->data) {
        ngx_memcpy(rows->data, text, rows->len);
    }

    free(text);

    return rows->data ? NGX_OK : NGX_ERROR;
}


/* the ids as a PostgreSQL array literal: uuids need no quoting */

static ngx_int_t
ngx_http_attachments_upload_ids(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up, ngx_str_t *ids)
{
    u_char                       *p;
    ngx_uint_t                    i;
    ngx_http_attachments_blob_t  *b;

    b = up->blobs.elts;

    ids->data = ngx_pnalloc(r->pool,
                            2 + up->blobs.nelts
                                * (NGX_HTTP_ATTACHMENTS_UUID_LEN + 1));
    if (ids->data == NULL) {
        return NGX_ERROR;
    }

    p = ids->data;
    *p++ = '{';

    for (i = 0; i < up->blobs.nelts; i++) {
        if (i) {
            *p++ = ',';
        }

        p = ngx_cpymem(p, b[i].id, NGX_HTTP_ATTACHMENTS_UUID_LEN);
    }

    *p++ = '}';
    ids->len = p - ids->data;

    return NGX_OK;
}


/* the temporary files, whatever became of the upload */

static void
ngx_http_attachments_upload_remove(ngx_http_attachments_upload_t *up)
{
    ngx_uint_t                    i;
    ngx_http_attachments_blob_t  *b;

    b = up->blobs.elts;

    for (i = 0; i < up->blobs.nelts; i++) {
        if (b[i].fd != NGX_INVALID_FILE) {
            ngx_close_file(b[i].fd);
            b[i].fd = NGX_INVALID_FILE;
        }

        if (b[i].tmp.data && ngx_delete_file(b[i].tmp.data) == NGX_FILE_ERROR
            && ngx_errno != NGX_ENOENT)
        {
            ngx_log_error(NGX_LOG_CRIT, up->request->connection->log,
                          ngx_errno, ngx_delete_file_n " \"%V\" failed",
                          &b[i].tmp);
        }

        b[i].tmp.data = NULL;
    }
}


/*
 * The request ends with the upload unfinished (a client gone, a worker
 * exiting): blobs that can be deleted without a request are; the others
 * stay with their pending rows for the collector.
 */

static void
ngx_http_attachments_upload_cleanup(void *data)
{
    ngx_http_attachments_upload_t  *up = data;

    ngx_uint_t                    i;
    ngx_http_attachments_blob_t  *b;

    /* once finish_upload() was sent, the rows say whether blobs stay */

    if (up->phase != NGX_HTTP_ATTACHMENTS_FINISHING
        && up->phase != NGX_HTTP_ATTACHMENTS_STORED)
    {
        ngx_http_attachments_upload_remove(up);

        b = up->blobs.elts;

        for (i = 0; i < up->blobs.nelts; i++) {
            if (b[i].created) {
                ngx_http_attachments_upload_op(up, &b[i], NULL);
                up->op.log = ngx_cycle->log;
                (void) up->storage->kind->delete(NULL, &up->op);
            }
        }
    }

    EVP_MD_CTX_free(up->sha);
}


/*
 * The variables of attachments_key, for the file being keyed: uuid,
 * filename (key-safe), org (key-safe), entity_type, entity_id.
 */

ngx_int_t
ngx_http_attachments_upload_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                         *p;
    ngx_http_attachments_ctx_t     *ctx;
    ngx_http_attachments_upload_t  *up;

    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);
    up = ctx ? ctx->upload : NULL;

    if (up == NULL || up->blob == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    switch (data) {

    case NGX_HTTP_ATTACHMENTS_VAR_UUID:
        v->data = up->blob->id;
        v->len = NGX_HTTP_ATTACHMENTS_UUID_LEN;
        break;

    case NGX_HTTP_ATTACHMENTS_VAR_FILENAME:
        v->data = up->blob->key_name.data;
        v->len = up->blob->key_name.len;
        break;

    case NGX_HTTP_ATTACHMENTS_VAR_ORG:
        p = ngx_pnalloc(r->pool, NGX_HTTP_ATTACHMENTS_NAME_MAX);
        if (p == NULL) {
            return NGX_ERROR;
        }

        v->data = p;
        v->len = ngx_http_attachments_filename(p, ctx->org.data, ctx->org.len,
                                               NGX_HTTP_ATTACHMENTS_NAME_KEY);
        break;

    case NGX_HTTP_ATTACHMENTS_VAR_ENTITY_TYPE:
        v->data = ctx->route.entity_type.data;
        v->len = ctx->route.entity_type.len;
        break;

    default: /* NGX_HTTP_ATTACHMENTS_VAR_ENTITY_ID */
        v->data = ctx->route.entity_id.data;
        v->len = ctx->route.entity_id.len;
    }

    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}
