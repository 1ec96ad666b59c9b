
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * Resumable uploads, stored.  An upload is a row of
 * attachments.tus_uploads (whose it is, what it will be, its length,
 * reserved against the quotas) and two files in its storage's .tus/ area:
 * the bytes so far, and their state: how many of them are on disk for
 * sure, and their SHA-256 so far (sha256.c), so that the digest goes on
 * in any worker, after any restart.  A request appends under the bytes'
 * lock; what it wrote is fsync'd and counted as it goes (every few
 * megabytes, and when the request ends however it ends), so an
 * interrupted PATCH keeps what it wrote; anything written and not counted
 * is cut off by the next request.  The type is sniffed as soon as the
 * first bytes are in.
 *
 * The last byte makes the file: the bytes get a second name in the
 * temporary area and are committed as a multipart upload's blob is
 * (ngx_http_attachments_commit.c); the upload ends, its reservation with
 * it, in the transaction that makes the file ready (finish_tus()).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <sys/file.h>
#include <openssl/evp.h>
#include <magic.h>

#include "ngx_http_attachments_sha256.h"
#include "ngx_http_attachments_pg.h"
#include "ngx_http_attachments_storage.h"
#include "ngx_http_attachments_module.h"
#include "ngx_http_attachments_request.h"
#include "ngx_http_attachments_undo.h"
#include "ngx_http_attachments_commit.h"
#include "ngx_http_attachments_receive.h"
#include "ngx_http_attachments_upload.h"
#include "ngx_http_attachments_json.h"
#include "ngx_http_attachments_tus_store.h"


/* a state file: its tag, 8 bytes kept for later, the digest so far */
#define NGX_HTTP_ATTACHMENTS_TUS_STATE                                        \
    (8 + 8 + NGX_HTTP_ATTACHMENTS_SHA256_STATE)

/* what a long PATCH writes between two counts */
#define NGX_HTTP_ATTACHMENTS_TUS_COUNT     (8 * 1024 * 1024)


static ngx_int_t ngx_http_attachments_tus_type(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t);


static u_char  ngx_http_attachments_tus_tag[8] = "tusstat1";


/* a statement about the upload: the common parameters, its id, extra */

ngx_int_t
ngx_http_attachments_tus_run(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t, ngx_http_attachments_pg_stmt_t *stmt,
    ngx_http_attachments_pg_handler_pt handler, ngx_str_t **extra,
    ngx_uint_t n)
{
    ngx_str_t   id, *params[11];
    ngx_uint_t  i;

    id.data = t->id;
    id.len = NGX_HTTP_ATTACHMENTS_UUID_LEN;

    params[0] = &id;

    for (i = 0; i < n && i < 10; i++) {
        params[i + 1] = extra[i];
    }

    return ngx_http_attachments_run_params(r, t->up.ctx, stmt, handler,
                                           params, i + 1);
}


ngx_str_t *
ngx_http_attachments_tus_header(ngx_http_request_t *r, char *name)
{
    size_t            len;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    len = ngx_strlen(name);
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            return &h[i].value;
        }
    }
}


/*
 * The upload's files, its bytes locked: made at the creation (with a
 * state of no byte), opened for any other request; the state's count read
 * and anything past it, written but never counted, cut off.  NGX_DECLINED:
 * they are gone; NGX_BUSY: another request holds the lock.
 */

ngx_int_t
ngx_http_attachments_tus_open(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t, ngx_uint_t create)
{
    u_char           *slash;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_file_t        file;
    ngx_file_info_t   fi;
    u_char            state[NGX_HTTP_ATTACHMENTS_TUS_STATE];

    if (ngx_http_attachments_storage_tus(r->pool, t->up.storage, t->id, "",
                                         &t->data)
        != NGX_OK
        || ngx_http_attachments_storage_tus(r->pool, t->up.storage, t->id,
                                            ".state", &t->state)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (create) {
        t->fd = ngx_open_file(t->data.data, NGX_FILE_RDWR,
                              NGX_FILE_CREATE_OR_OPEN | O_EXCL,
                              NGX_HTTP_ATTACHMENTS_FILE_ACCESS);

        if (t->fd == NGX_INVALID_FILE && ngx_errno == NGX_ENOENT) {
            /* the first resumable upload into the storage makes the area */
            slash = t->data.data + t->data.len - NGX_HTTP_ATTACHMENTS_UUID_LEN
                    - 1;
            *slash = '\0';
            (void) ngx_create_dir(t->data.data,
                                  NGX_HTTP_ATTACHMENTS_DIR_ACCESS);
            *slash = '/';

            t->fd = ngx_open_file(t->data.data, NGX_FILE_RDWR,
                                  NGX_FILE_CREATE_OR_OPEN | O_EXCL,
                                  NGX_HTTP_ATTACHMENTS_FILE_ACCESS);
        }

    } else {
        t->fd = ngx_open_file(t->data.data, NGX_FILE_RDWR, NGX_FILE_OPEN, 0);

        if (t->fd == NGX_INVALID_FILE && ngx_errno == NGX_ENOENT) {
            return NGX_DECLINED;
        }
    }

    if (t->fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_CRIT, r->connection->log, ngx_errno,
                      ngx_open_file_n " \"%V\" failed", &t->data);
        return NGX_ERROR;
    }

    /* HEAD reads the count as it is; the others change the bytes */

    if (r->method != NGX_HTTP_HEAD && flock(t->fd, LOCK_EX|LOCK_NB) == -1) {
        ngx_close_file(t->fd);
        t->fd = NGX_INVALID_FILE;

        return NGX_BUSY;
    }

    if (create) {
        ngx_http_attachments_sha256_init(&t->sha);
        t->offset = 0;

        return ngx_http_attachments_tus_count(t) == NGX_OK
               ? NGX_OK : NGX_ERROR;
    }

    if (r->method == NGX_HTTP_DELETE) {
        /* the end of an upload needs only its lock, whatever its state */
        return NGX_OK;
    }

    fd = ngx_open_file(t->state.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_CRIT, r->connection->log, ngx_errno,
                      ngx_open_file_n " \"%V\" failed", &t->state);
        return NGX_ERROR;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.fd = fd;
    file.name = t->state;
    file.log = r->connection->log;

    n = ngx_read_file(&file, state, sizeof(state), 0);
    ngx_close_file(fd);

    if (n != (ssize_t) sizeof(state)
        || ngx_memcmp(state, ngx_http_attachments_tus_tag, 8) != 0
        || ngx_http_attachments_sha256_load(&t->sha, state + 16) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_CRIT, r->connection->log, 0,
                      "attachments: the state \"%V\" is not one", &t->state);
        return NGX_ERROR;
    }

    t->offset = (off_t) t->sha.bytes;

    if (ngx_fd_info(t->fd, &fi) == NGX_FILE_ERROR
        || ngx_file_size(&fi) < t->offset)
    {
        ngx_log_error(NGX_LOG_CRIT, r->connection->log, ngx_errno,
                      "attachments: \"%V\" holds fewer bytes than its state "
                      "counts", &t->data);
        return NGX_ERROR;
    }

    if (r->method != NGX_HTTP_HEAD) {
        ngx_http_attachments_tus_cut(t);
    }

    return NGX_OK;
}


/*
 * What this PATCH wrote so far becomes the upload's: on disk for sure
 * first, then counted in the state, which replaces the old one whole.
 */

ngx_int_t
ngx_http_attachments_tus_count(ngx_http_attachments_tus_t *t)
{
    ngx_fd_t     fd;
    ngx_str_t    tmp;
    ngx_log_t   *log;
    ngx_file_t   file;
    u_char       state[NGX_HTTP_ATTACHMENTS_TUS_STATE];
    u_char       path[NGX_MAX_PATH];

    /* from the request's cleanup too: no allocation, the cycle's log */
    log = ngx_cycle->log;

    if (fsync(t->fd) == -1) {
        ngx_log_error(NGX_LOG_CRIT, log, ngx_errno,
                      "fsync() \"%V\" failed", &t->data);
        return NGX_ERROR;
    }

    ngx_memcpy(state, ngx_http_attachments_tus_tag, 8);
    ngx_memzero(state + 8, 8);
    ngx_http_attachments_sha256_save(&t->sha, state + 16);

    if (t->state.len + sizeof(".new") > NGX_MAX_PATH) {
        return NGX_ERROR;
    }

    tmp.len = t->state.len + 4;
    tmp.data = path;

    ngx_memcpy(ngx_cpymem(tmp.data, t->state.data, t->state.len), ".new", 5);

    fd = ngx_open_file(tmp.data, NGX_FILE_WRONLY, NGX_FILE_TRUNCATE,
                       NGX_HTTP_ATTACHMENTS_FILE_ACCESS);
    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_CRIT, log, ngx_errno,
                      ngx_open_file_n " \"%V\" failed", &tmp);
        return NGX_ERROR;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.fd = fd;
    file.name = tmp;
    file.log = log;

    if (ngx_write_file(&file, state, sizeof(state), 0)
        != (ssize_t) sizeof(state)
        || fsync(fd) == -1)
    {
        ngx_close_file(fd);
        return NGX_ERROR;
    }

    ngx_close_file(fd);

    if (ngx_rename_file(tmp.data, t->state.data) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_CRIT, log, ngx_errno,
                      ngx_rename_file_n " \"%V\" failed", &tmp);
        return NGX_ERROR;
    }

    t->offset = (off_t) t->sha.bytes;
    t->written = 0;
    t->counted = 0;

    return NGX_OK;
}


/* what was written past the count is cut off: the upload is as counted */

void
ngx_http_attachments_tus_cut(ngx_http_attachments_tus_t *t)
{
    if (ftruncate(t->fd, t->offset) == -1) {
        ngx_log_error(NGX_LOG_CRIT, ngx_cycle->log, ngx_errno,
                      "ftruncate() \"%V\" failed", &t->data);
    }

    t->written = 0;
    t->counted = 0;
}


ngx_int_t
ngx_http_attachments_tus_write(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t, u_char *p, size_t len)
{
    off_t    at, sniff;
    ssize_t  n;

    at = t->offset + t->written;

    if ((off_t) len > t->length - at) {
        return ngx_http_attachments_upload_refuse(&t->up,
                   NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "upload_too_long",
                   "more bytes than Upload-Length");
    }

    for (n = 0; (size_t) n < len; /* void */ ) {
        ssize_t  w;

        w = pwrite(t->fd, p + n, len - n, at + n);

        if (w == -1) {
            if (ngx_errno == NGX_EINTR) {
                continue;
            }

            ngx_log_error(NGX_LOG_CRIT, r->connection->log, ngx_errno,
                          "pwrite() \"%V\" failed", &t->data);
            return ngx_http_attachments_upload_refuse(&t->up,
                       NGX_HTTP_SERVICE_UNAVAILABLE, "unavailable",
                       "the storage is unavailable");
        }

        n += w;
    }

    ngx_http_attachments_sha256_update(&t->sha, p, len);

    if (t->checksum && EVP_DigestUpdate(t->check, p, len) != 1) {
        return NGX_ERROR;
    }

    t->written += len;

    /* the type as soon as the bytes it is sniffed from are in */

    sniff = ngx_min(t->length, NGX_HTTP_ATTACHMENTS_SNIFF);

    if (at < sniff && at + (off_t) len >= sniff) {
        if (ngx_http_attachments_tus_type(r, t) != NGX_OK) {
            return t->up.status ? NGX_OK : NGX_ERROR;
        }
    }

    /* a long PATCH counts as it goes: an interruption keeps the bytes */

    if (!t->checksum
        && t->written - t->counted >= NGX_HTTP_ATTACHMENTS_TUS_COUNT)
    {
        if (ngx_http_attachments_tus_count(t) != NGX_OK) {
            return ngx_http_attachments_upload_refuse(&t->up,
                       NGX_HTTP_SERVICE_UNAVAILABLE, "unavailable",
                       "the storage is unavailable");
        }
    }

    return NGX_OK;
}


/* the first bytes of the file, from its start: sniffed as any upload's */

static ngx_int_t
ngx_http_attachments_tus_type(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t)
{
    u_char      *p;
    ssize_t      n;
    ngx_file_t   file;

    p = ngx_pnalloc(r->pool, NGX_HTTP_ATTACHMENTS_SNIFF);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.fd = t->fd;
    file.name = t->data;
    file.log = r->connection->log;

    n = ngx_read_file(&file, p, ngx_min(t->length, NGX_HTTP_ATTACHMENTS_SNIFF),
                      0);
    if (n == NGX_ERROR) {
        return NGX_ERROR;
    }

    t->typed = 1;

    if (ngx_http_attachments_receive_type(&t->up, t->conf,
                                          ngx_http_attachments_upload_magic(r),
                                          t->blob, p, n)
        != NGX_OK)
    {
        /* a type refused: the upload is no more */
        if (t->up.status == NGX_HTTP_UNSUPPORTED_MEDIA_TYPE) {
            t->ended = 1;
        }

        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Every byte is in: the file is made as a multipart upload's, from a
 * second name of the bytes in the temporary area, which the commit uses
 * up; the upload's own names stay until its row is gone with the commit.
 * The answer is the file object: 201 to a creation, 200 to a PATCH (tus
 * says 204, which has no body; a tus client takes any 2xx).  NGX_DONE:
 * the commit has the request; NGX_DECLINED: refused (t->up says why);
 * NGX_ERROR: the storage is unavailable; or a status.
 */

ngx_int_t
ngx_http_attachments_tus_complete(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t)
{
    u_char                       *slash;
    u_char                        md[32];
    ngx_int_t                     rc;
    ngx_pool_cleanup_t           *cln;
    ngx_http_attachments_blob_t  *b;

    b = t->blob;

    if (!t->typed && ngx_http_attachments_tus_type(r, t) != NGX_OK) {
        return t->up.status ? NGX_DECLINED : NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the upload's own names are not the blob's: a failure keeps them */
    t->receiving = 0;

    ngx_http_attachments_sha256_final(&t->sha, md);
    (void) ngx_hex_dump(b->sha256, md, 32);

    b->size = t->length;

    if (ngx_http_attachments_receive_uuid(b->id) != NGX_OK
        || ngx_http_attachments_storage_tmp(r->pool, t->up.storage, b->id,
                                            &b->tmp)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = link((char *) t->data.data, (char *) b->tmp.data);

    if (rc == -1 && ngx_errno == NGX_ENOENT) {
        /* the first upload into the storage makes its temporary area */
        slash = b->tmp.data + b->tmp.len - NGX_HTTP_ATTACHMENTS_UUID_LEN - 1;
        *slash = '\0';
        (void) ngx_create_dir(b->tmp.data, NGX_HTTP_ATTACHMENTS_DIR_ACCESS);
        *slash = '/';

        rc = link((char *) t->data.data, (char *) b->tmp.data);
    }

    if (rc == -1) {
        ngx_log_error(NGX_LOG_CRIT, r->connection->log, ngx_errno,
                      "link() \"%V\" to \"%V\" failed", &t->data, &b->tmp);
        b->tmp.data = NULL;
        return NGX_ERROR;
    }

    t->up.tus.data = t->id;
    t->up.tus.len = NGX_HTTP_ATTACHMENTS_UUID_LEN;
    t->up.answer = (r->method == NGX_HTTP_PATCH) ? NGX_HTTP_OK
                                                 : NGX_HTTP_CREATED;

    if (t->store_upload.len
        && t->store_file.len == NGX_HTTP_ATTACHMENTS_UUID_LEN)
    {
        /* sent in parts (ngx_http_attachments_tus_parts.c): completed */
        ngx_memcpy(b->id, t->store_file.data, NGX_HTTP_ATTACHMENTS_UUID_LEN);
        b->key = t->store_key;
        b->upload_id = t->store_upload;
        b->etags = &t->etags;

    } else if (ngx_http_attachments_upload_key(r, &t->up, t->conf, b)
               != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_attachments_tus_offset(r, t) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* as a multipart upload's: its blob goes if the request ends early */

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_attachments_upload_cleanup;
    cln->data = &t->up;

    t->up.ctx->upload = &t->up;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "attachments tus: the file of %V", &t->up.tus);

    ngx_http_attachments_commit(r, &t->up);

    return NGX_DONE;
}


/* Upload-Expires: when the upload ends unfinished */

ngx_int_t
ngx_http_attachments_tus_expires(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t)
{
    ngx_table_elt_t  *h;

    h = ngx_http_attachments_add_header(r, "Upload-Expires", NULL);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->value.data = ngx_pnalloc(r->pool, sizeof("Mon, 28 Sep 1970 06:00:00 GMT"));
    if (h->value.data == NULL) {
        return NGX_ERROR;
    }

    h->value.len = ngx_http_time(h->value.data, t->expires) - h->value.data;

    return NGX_OK;
}


/* Upload-Offset: what the upload holds now */

ngx_int_t
ngx_http_attachments_tus_offset(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t)
{
    ngx_table_elt_t  *h;

    h = ngx_http_attachments_add_header(r, "Upload-Offset", NULL);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->value.data = ngx_pnalloc(r->pool, NGX_OFF_T_LEN);
    if (h->value.data == NULL) {
        return NGX_ERROR;
    }

    h->value.len = ngx_sprintf(h->value.data, "%O", t->offset)
                   - h->value.data;

    return NGX_OK;
}


/*
 * The request ends, however: a PATCH cut short keeps and counts what it
 * wrote (with Upload-Checksum: nothing of it); the lock goes with the
 * file; an upload ended (terminated, made into its file, refused for its
 * type) leaves no file behind.
 */

void
ngx_http_attachments_tus_cleanup(void *data)
{
    ngx_http_attachments_tus_t *t = data;

    if (t->receiving && t->fd != NGX_INVALID_FILE) {
        if (t->checksum || t->up.status) {
            ngx_http_attachments_tus_cut(t);

        } else if (t->written) {
            (void) ngx_http_attachments_tus_count(t);
        }
    }

    if (t->check) {
        EVP_MD_CTX_free(t->check);
    }

    if (t->ended || t->up.phase == NGX_HTTP_ATTACHMENTS_STORED) {
        ngx_http_attachments_tus_drop(t);
    }

    if (t->fd != NGX_INVALID_FILE) {
        ngx_close_file(t->fd);
        t->fd = NGX_INVALID_FILE;
    }
}


/* an upload ended: its files go, under its lock if the request holds it */

void
ngx_http_attachments_tus_drop(ngx_http_attachments_tus_t *t)
{
    ngx_str_t   path[3];
    ngx_uint_t  i;
    u_char      fresh[NGX_MAX_PATH];

    /* from the request's cleanup too: no allocation, the cycle's log */

    if (t->fd == NGX_INVALID_FILE || t->data.data == NULL
        || t->state.len + sizeof(".new") > NGX_MAX_PATH)
    {
        (void) ngx_http_attachments_storage_drop_tus(ngx_cycle->log,
                                                     t->up.storage, t->id);
        return;
    }

    ngx_memcpy(ngx_cpymem(fresh, t->state.data, t->state.len), ".new", 5);

    path[0] = t->state;
    path[1].data = fresh;
    path[1].len = t->state.len + 4;
    path[2] = t->data;

    for (i = 0; i < 3; i++) {
        if (ngx_delete_file(path[i].data) == NGX_FILE_ERROR
            && ngx_errno != NGX_ENOENT)
        {
            ngx_log_error(NGX_LOG_CRIT, ngx_cycle->log, ngx_errno,
                          ngx_delete_file_n " \"%V\" failed", &path[i]);
        }
    }
}
