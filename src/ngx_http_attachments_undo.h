
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * Uploads: what the receiving side (ngx_http_attachments_upload.c,
 * ngx_http_attachments_receive.c) hands to the committing side
 * (ngx_http_attachments_commit.c), and what undoes an upload that cannot
 * finish (ngx_http_attachments_undo.c).
 */


#ifndef _NGX_HTTP_ATTACHMENTS_UNDO_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_UNDO_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_input.h"
#include "ngx_http_attachments_storage.h"
#include "ngx_http_attachments_request.h"


#define NGX_HTTP_ATTACHMENTS_RECEIVING   0
#define NGX_HTTP_ATTACHMENTS_INSERTING   1
#define NGX_HTTP_ATTACHMENTS_FINISHING   2   /* outcome in the database */
#define NGX_HTTP_ATTACHMENTS_ABORTING    3
#define NGX_HTTP_ATTACHMENTS_STORED      4

/* inserts of a version whose number another one took meanwhile */
#define NGX_HTTP_ATTACHMENTS_VERSION_TRIES  5


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
    ngx_str_t                        upload_id;  /* sent in parts: the */
    ngx_array_t                     *etags;      /* store's upload, parts */
    ngx_str_t                        parent;     /* a drive's folder id */
    unsigned                         refolder:1; /* the cached one went */
} ngx_http_attachments_blob_t;


typedef struct {
    ngx_http_request_t              *request;
    ngx_http_attachments_ctx_t      *ctx;
    ngx_http_attachments_storage_t  *storage;
    ngx_uint_t                       phase;
    ngx_uint_t                       version;    /* POST .../versions */
    ngx_str_t                        tus;        /* the resumable upload
                                                    it ends, if one */
    ngx_uint_t                       answer;     /* status of a success:
                                                    0 is 201 */
    ngx_uint_t                       tries;      /* of the version number */

    ngx_array_t                      blobs;
    ngx_http_attachments_blob_t     *blob;       /* being received */

    ngx_str_t                        category;
    ngx_str_t                        tags;
    ngx_str_t                        custom_fields;
    ngx_str_t                        visibility;

    ngx_http_attachments_storage_op_t  op;       /* create or delete */
    ngx_uint_t                       next;       /* blob op is for */
    unsigned                         kept:1;     /* blobs that stay */

    ngx_event_t                      lease;      /* renews it on the rows */
    ngx_str_t                        ids;        /* of the rows */

    ngx_uint_t                       status;     /* refused with */
    const char                      *code;
    const char                      *message;
} ngx_http_attachments_upload_t;


ngx_int_t ngx_http_attachments_upload_refuse(
    ngx_http_attachments_upload_t *up, ngx_uint_t status, const char *code,
    const char *message);
ngx_int_t ngx_http_attachments_upload_answer(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up, ngx_int_t rc);
void ngx_http_attachments_upload_unavailable(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up);
void ngx_http_attachments_upload_abort(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up);
void ngx_http_attachments_upload_op(ngx_http_attachments_upload_t *up,
    ngx_http_attachments_blob_t *b,
    ngx_http_attachments_storage_handler_pt handler);
ngx_int_t ngx_http_attachments_upload_ids(ngx_http_request_t *r,
    ngx_http_attachments_upload_t *up, ngx_str_t *ids);
void ngx_http_attachments_upload_remove(ngx_http_attachments_upload_t *up);
void ngx_http_attachments_upload_touch(ngx_http_attachments_upload_t *up);
void ngx_http_attachments_upload_cleanup(void *data);


#endif /* _NGX_HTTP_ATTACHMENTS_UNDO_H_INCLUDED_ */
