
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * Resumable uploads, stored: an upload's bytes and their state in its
 * storage's .tus/ area, appended to under a lock, counted, sniffed, and
 * made into a file at the end (ngx_http_attachments_tus_store.c).
 */


#ifndef _NGX_HTTP_ATTACHMENTS_TUS_STORE_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_TUS_STORE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <openssl/evp.h>

#include "ngx_http_attachments_sha256.h"
#include "ngx_http_attachments_pg.h"
#include "ngx_http_attachments_module.h"
#include "ngx_http_attachments_request.h"
#include "ngx_http_attachments_undo.h"
#include "ngx_http_attachments_receive.h"


#define NGX_HTTP_ATTACHMENTS_TUS_VERSION   "1.0.0"

#define NGX_HTTP_ATTACHMENTS_TUS_LOCKED    423
#define NGX_HTTP_ATTACHMENTS_TUS_MISMATCH  460


typedef struct {
    ngx_http_attachments_upload_t        up;       /* the file it makes */
    ngx_http_attachments_upload_conf_t  *conf;
    ngx_http_attachments_blob_t         *blob;

    u_char                               id[NGX_HTTP_ATTACHMENTS_UUID_LEN];
    ngx_str_t                            data;     /* the bytes' path */
    ngx_str_t                            state;    /* the state's path */
    ngx_fd_t                             fd;       /* locked while open */

    off_t                                length;
    time_t                               expires;
    off_t                                offset;   /* counted */
    off_t                                written;  /* since, by this PATCH */
    off_t                                counted;  /* of those, counted */
    ngx_http_attachments_sha256_t        sha;      /* of offset + written */

    EVP_MD_CTX                          *check;    /* Upload-Checksum's */
    u_char                               want[32];

    /* sent in parts as they come (a storage that takes them: s3) */
    ngx_str_t                            store_key;
    ngx_str_t                            store_file;
    ngx_str_t                            store_upload;
    ngx_array_t                          etags;    /* of ngx_str_t */
    void                                *parts;    /* being sent */

    ngx_uint_t                           status;   /* of a success */
    ngx_table_elt_t                     *location; /* a creation's */
    unsigned                             receiving:1;
    unsigned                             checksum:1;
    unsigned                             typed:1;
    unsigned                             ended:1;  /* drop the files */
} ngx_http_attachments_tus_t;


/* the request's resumable upload, if it is one's */
static ngx_inline ngx_http_attachments_tus_t *
ngx_http_attachments_tus_get(ngx_http_request_t *r)
{
    ngx_http_attachments_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_attachments_module);

    return ctx ? ctx->tus : NULL;
}


ngx_int_t ngx_http_attachments_tus_run(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t, ngx_http_attachments_pg_stmt_t *stmt,
    ngx_http_attachments_pg_handler_pt handler, ngx_str_t **extra,
    ngx_uint_t n);
ngx_str_t *ngx_http_attachments_tus_header(ngx_http_request_t *r,
    char *name);
ngx_int_t ngx_http_attachments_tus_offset(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t);
ngx_int_t ngx_http_attachments_tus_expires(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t);

ngx_int_t ngx_http_attachments_tus_open(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t, ngx_uint_t create);
ngx_int_t ngx_http_attachments_tus_count(ngx_http_attachments_tus_t *t);
void ngx_http_attachments_tus_cut(ngx_http_attachments_tus_t *t);
ngx_int_t ngx_http_attachments_tus_write(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t, u_char *p, size_t len);
ngx_int_t ngx_http_attachments_tus_complete(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t);
void ngx_http_attachments_tus_cleanup(void *data);
void ngx_http_attachments_tus_drop(ngx_http_attachments_tus_t *t);


#endif /* _NGX_HTTP_ATTACHMENTS_TUS_STORE_H_INCLUDED_ */
