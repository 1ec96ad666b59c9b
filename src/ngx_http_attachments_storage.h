
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * The storage interface: what every storage kind offers (local in
 * ngx_http_attachments_local.c, s3 in ngx_http_attachments_s3.c,
 * yandex_disk in ngx_http_attachments_yadisk.c), what a
 * storage, a link to a blob and an operation on a blob are, and the
 * operations callers run through it.  Every blob operation of the module
 * goes through here: create, delete, publish, serve, presign, health, and
 * the temporary area uploads wait in.
 */


#ifndef _NGX_HTTP_ATTACHMENTS_STORAGE_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_STORAGE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* the keys of public files start so; the rest of the key is the private */
#define NGX_HTTP_ATTACHMENTS_PUBLIC  "public/"

/* blobs and their directories: the workers' own, no other local user's */
#define NGX_HTTP_ATTACHMENTS_FILE_ACCESS  0600
#define NGX_HTTP_ATTACHMENTS_DIR_ACCESS   0700


typedef struct ngx_http_attachments_storage_s  ngx_http_attachments_storage_t;
typedef struct ngx_http_attachments_storage_op_s
    ngx_http_attachments_storage_op_t;
typedef struct ngx_http_attachments_link_s  ngx_http_attachments_link_t;

typedef void (*ngx_http_attachments_storage_handler_pt)(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
typedef ngx_int_t (*ngx_http_attachments_storage_op_pt)(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);


/*
 * A kind.  create, delete, publish and health answer NGX_OK (done,
 * op->status set), NGX_AGAIN (op->handler is called later, in the
 * request's context, or without a request for the collector),
 * NGX_DECLINED (not possible here, e.g. without a request) or NGX_ERROR.
 */
typedef struct {
    ngx_str_t                             name;
    char                               *(*conf)(ngx_conf_t *cf,
                                            ngx_http_attachments_storage_t *s,
                                            ngx_str_t *value, ngx_uint_t n);
    char                               *(*activate)(ngx_conf_t *cf,
                                            ngx_http_attachments_storage_t *s);
    ngx_http_attachments_storage_op_pt    create;
    ngx_http_attachments_storage_op_pt    delete;
    ngx_http_attachments_storage_op_pt    publish;
    ngx_http_attachments_storage_op_pt    health;
    ngx_int_t                           (*serve)(ngx_http_request_t *r,
                                            ngx_http_attachments_link_t *link);
    ngx_int_t                           (*presign)(ngx_http_request_t *r,
                                            ngx_http_attachments_link_t *link,
                                            ngx_str_t *url);
    ngx_uint_t                            served_by_nginx;  /* downloads */

    /* direct uploads: a presigned PUT, then the object checked and read */
    ngx_int_t                           (*upload_url)(ngx_http_request_t *r,
                                            ngx_http_attachments_link_t *link,
                                            off_t size, ngx_str_t *checksum,
                                            ngx_str_t *url);
    ngx_http_attachments_storage_op_pt    check;
    ngx_http_attachments_storage_op_pt    read;

    /* resumable uploads in parts (op->multipart) */
    ngx_http_attachments_storage_op_pt    multipart;

    /* an operation ended: what its answer said beyond its status */
    void                                (*answered)(
                                            ngx_http_attachments_storage_op_t
                                            *op);

    /*
     * drives: the folder op->key made (every folder of its path), its id
     * answered in op->parent; create puts the file into op->parent and
     * answers 404 with op->gone when that folder is not there any more
     */
    ngx_http_attachments_storage_op_pt    folder;
} ngx_http_attachments_storage_kind_t;


struct ngx_http_attachments_storage_s {
    ngx_str_t                        name;     /* NUL-terminated */
    ngx_http_attachments_storage_kind_t  *kind;
    ngx_str_t                        root;     /* local: root=, s3: temp= */
    ngx_str_t                        internal; /* internal location prefix */
    ngx_str_t                        download; /* of attachments_download */
    ngx_str_t                        public;   /* URI prefix of the public */
    void                            *data;     /* the kind's own */
};


/* a file to mint a download URL for, or to serve */
struct ngx_http_attachments_link_s {
    ngx_http_attachments_storage_t  *storage;
    ngx_str_t                        key;       /* storage key */
    ngx_str_t                        filename;
    ngx_str_t                        type;
    time_t                           expires;   /* 0: now + ttl */
    time_t                           ttl;
    ngx_array_t                     *keys;      /* signing keys */
    ngx_str_t                        base;      /* of absolute local URLs */
    ngx_str_t                        buffer;    /* the URL's when it fits */
};


/* what a storage is asked to do with one object */
struct ngx_http_attachments_storage_op_s {
    ngx_http_attachments_storage_t         *storage;
    ngx_str_t                               key;
    ngx_str_t                               target;   /* publish: 2nd key */
    ngx_str_t                               file;     /* create: the blob */
    off_t                                   size;
    u_char                                 *sha256;   /* create: 64 hex */
    ngx_log_t                              *log;
    ngx_pool_t                             *pool;     /* without request */
    ngx_uint_t                              method;   /* PUT, DELETE, COPY
                                                   (publish), HEAD, GET */
    ngx_uint_t                              status;   /* 2xx: done */
    unsigned                                uncertain:1;  /* create failed,
                                                   the object may be there */
    unsigned                                existed:1;    /* publish: the
                                                   second name was there */
    ngx_http_attachments_storage_handler_pt handler;
    void                                   *data;

    off_t                                   sent;     /* s3 */

    /*
     * check: the object's length and, asked with checksum set, the SHA-256
     * the store keeps (base64, empty if it keeps none); read: the first
     * head.len bytes go to head, with sha set all of them through it
     */
    unsigned                                checksum:1;
    off_t                                   length;
    ngx_str_t                               stored;
    off_t                                   range;    /* read: 0, all */
    ngx_str_t                               head;     /* data: head_size */
    unsigned                                xml:1;    /* head: no blanks */
    size_t                                  head_size;
    void                                   *sha;      /* EVP_MD_CTX */
    off_t                                   received;

    /*
     * An object made of parts: START answers upload_id; PART sends size
     * bytes of file from offset as part number part and answers etag.
     * With upload_id set, create completes the upload from etags (of
     * ngx_str_t, part 1 first) and delete aborts it.
     */
    ngx_uint_t                              multipart;
    ngx_str_t                               upload_id;
    ngx_uint_t                              part;
    off_t                                   offset;
    ngx_str_t                               etag;
    ngx_array_t                            *etags;
    ngx_str_t                               body;     /* in memory */

    /* drives: the folder's id; the address a store gave to send to */
    ngx_str_t                               parent;
    ngx_str_t                               url;
    ngx_str_t                               location; /* answered */
    unsigned                                gone:1;

    /* a step of a kind's own, within an operation: not counted */
    unsigned                                step:1;
};


#define NGX_HTTP_ATTACHMENTS_MP_START  1
#define NGX_HTTP_ATTACHMENTS_MP_PART   2


#define ngx_http_attachments_op_done(op)                                      \
    ((op)->status >= 200 && (op)->status < 300)


ngx_http_attachments_storage_t *ngx_http_attachments_storage_lookup(
    ngx_array_t *storages, ngx_str_t *name);

ngx_int_t ngx_http_attachments_storage_create(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
ngx_int_t ngx_http_attachments_storage_delete(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
ngx_int_t ngx_http_attachments_storage_publish(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
ngx_int_t ngx_http_attachments_storage_health(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
ngx_int_t ngx_http_attachments_storage_serve(ngx_http_request_t *r,
    ngx_http_attachments_link_t *link);
ngx_int_t ngx_http_attachments_storage_presign(ngx_http_request_t *r,
    ngx_http_attachments_link_t *link, ngx_str_t *url);
ngx_int_t ngx_http_attachments_storage_upload_url(ngx_http_request_t *r,
    ngx_http_attachments_link_t *link, off_t size, ngx_str_t *checksum,
    ngx_str_t *url);
ngx_int_t ngx_http_attachments_storage_check(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
ngx_int_t ngx_http_attachments_storage_read(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
ngx_int_t ngx_http_attachments_storage_multipart(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
ngx_int_t ngx_http_attachments_storage_folder(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);

void ngx_http_attachments_storage_wait(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
ngx_int_t ngx_http_attachments_storage_mark(ngx_http_request_t *r,
    ngx_uint_t mark);
ngx_uint_t ngx_http_attachments_storage_marked(ngx_http_request_t *r);
void ngx_http_attachments_storage_done(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);

ngx_int_t ngx_http_attachments_storage_path(u_char *path, ngx_log_t *log,
    ngx_http_attachments_storage_t *s, ngx_str_t *key);
ngx_int_t ngx_http_attachments_storage_public_key(ngx_pool_t *pool,
    ngx_str_t *key, ngx_str_t *public_key);
ngx_uint_t ngx_http_attachments_storage_is_public(u_char *key, size_t len);

ngx_int_t ngx_http_attachments_storage_tmp(ngx_pool_t *pool,
    ngx_http_attachments_storage_t *s, u_char *id, ngx_str_t *path);
ngx_int_t ngx_http_attachments_storage_drop_tmp(ngx_log_t *log,
    ngx_http_attachments_storage_t *s, u_char *id);
void ngx_http_attachments_storage_sweep_tmp(ngx_log_t *log,
    ngx_http_attachments_storage_t *s, time_t grace);
ngx_int_t ngx_http_attachments_storage_tus(ngx_pool_t *pool,
    ngx_http_attachments_storage_t *s, u_char *id, const char *suffix,
    ngx_str_t *path);
ngx_int_t ngx_http_attachments_storage_drop_tus(ngx_log_t *log,
    ngx_http_attachments_storage_t *s, u_char *id);

ngx_int_t ngx_http_attachments_disposition_value(ngx_pool_t *pool,
    ngx_str_t *filename, ngx_str_t *value);


extern ngx_module_t  ngx_http_attachments_storage_module;


#endif /* _NGX_HTTP_ATTACHMENTS_STORAGE_H_INCLUDED_ */
