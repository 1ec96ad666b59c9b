
/*
 * ngx_http_attachments_module: shared configuration types and the entry
 * points each part of the module offers the others.
 */


#ifndef _NGX_HTTP_ATTACHMENTS_MODULE_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_sign.h"
#include "ngx_http_attachments_sigv4.h"
#include "ngx_http_attachments_pg.h"
#include <magic.h>


typedef struct ngx_http_attachments_storage_s  ngx_http_attachments_storage_t;
typedef struct ngx_http_attachments_storage_op_s
    ngx_http_attachments_storage_op_t;
typedef struct ngx_http_attachments_link_s  ngx_http_attachments_link_t;


/*
 * The storage interface (ngx_http_attachments_storage.c): one kind per
 * implementation, "local" there and "s3" in ngx_http_attachments_s3.c.
 * create, delete and health answer NGX_OK (done, op->status set), NGX_AGAIN
 * (op->handler is called later, in the request's context), NGX_DECLINED
 * (not possible here, e.g. without a request) or NGX_ERROR.
 */
typedef struct {
    ngx_str_t                        name;
    char                          *(*conf)(ngx_conf_t *cf,
                                       ngx_http_attachments_storage_t *s,
                                       ngx_str_t *value, ngx_uint_t n);
    ngx_int_t                      (*create)(ngx_http_request_t *r,
                                       ngx_http_attachments_storage_op_t *op);
    ngx_int_t                      (*delete)(ngx_http_request_t *r,
                                       ngx_http_attachments_storage_op_t *op);
    ngx_int_t                      (*serve)(ngx_http_request_t *r,
                                       ngx_http_attachments_link_t *link);
    ngx_int_t                      (*presign)(ngx_http_request_t *r,
                                       ngx_http_attachments_link_t *link,
                                       ngx_str_t *url);
    ngx_int_t                      (*health)(ngx_http_request_t *r,
                                       ngx_http_attachments_storage_op_t *op);
    ngx_uint_t                       served_by_nginx;  /* downloads */
} ngx_http_attachments_storage_kind_t;


typedef struct {
    ngx_str_t                        id;
    ngx_http_attachments_hmac_t     *mac;
} ngx_http_attachments_key_t;


struct ngx_http_attachments_storage_s {
    ngx_str_t                        name;
    ngx_http_attachments_storage_kind_t  *kind;
    ngx_str_t                        root;      /* s3: temp= */
    ngx_str_t                        internal;  /* internal location prefix */
    ngx_str_t                        download;  /* from attachments_download */
    ngx_str_t                        public;    /* URI prefix of root/public/ */

    /* s3 */
    ngx_http_attachments_sigv4_t     sigv4;
    ngx_str_t                        scheme;    /* "https://" */
    ngx_str_t                        host;      /* as in Host */
    ngx_str_t                        bucket;
    ngx_uint_t                       virtual_host;
    ngx_str_t                        proxy;     /* internal location prefix */
    ngx_addr_t                      *addr;      /* of the endpoint, or NULL */
    ngx_str_t                        server_name;  /* NUL-terminated */
#if (NGX_SSL)
    ngx_ssl_t                       *ssl;       /* https:// */
#endif
};


/* attachments_sign: what $attachments_signed_url grants */
typedef struct {
    ngx_http_attachments_storage_t  *storage;
    ngx_http_complex_value_t        *key;
    ngx_http_complex_value_t        *filename;
    ngx_http_complex_value_t        *type;
    ngx_http_complex_value_t        *expires;
} ngx_http_attachments_sign_conf_t;


typedef struct {
    ngx_array_t                      storages;  /* of storage pointers */
    ngx_http_attachments_pg_t       *database;
    ngx_int_t                        request_id;  /* variable index */
    ngx_http_attachments_storage_t  *active;      /* receives uploads */
    magic_t                          magic;       /* per worker */

    ngx_msec_t                       gc_interval;
    time_t                           gc_retention;
    time_t                           gc_grace;
    ngx_event_t                      gc_event;    /* worker 0's timer */
    ngx_pool_t                      *gc_pool;     /* of the current run */
    ngx_uint_t                       gc_more;
} ngx_http_attachments_main_conf_t;


typedef struct {
    ngx_array_t                     *keys;      /* the first one signs */
    time_t                           url_ttl;
    ngx_http_attachments_storage_t  *download;
    ngx_http_attachments_sign_conf_t *sign;

    ngx_flag_t                       api;
    ngx_flag_t                       audit;
    ngx_str_t                        api_prefix;
    ngx_http_complex_value_t        *user;
    ngx_http_complex_value_t        *org;
    ngx_http_complex_value_t        *base_url;

    off_t                            max_file_size;
    ngx_uint_t                       max_files;
    ngx_array_t                     *allowed_types;  /* NULL: defaults */
    ngx_http_complex_value_t        *key;
} ngx_http_attachments_loc_conf_t;


/* a file to mint a download URL for, or to serve */
struct ngx_http_attachments_link_s {
    ngx_http_attachments_storage_t  *storage;
    ngx_str_t                        key;       /* storage key */
    ngx_str_t                        filename;
    ngx_str_t                        type;
    time_t                           expires;   /* 0: now + url_ttl */
    ngx_str_t                        base;      /* of absolute local URLs */
};


/* what a storage is asked to do with one object */
typedef void (*ngx_http_attachments_storage_handler_pt)(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);

struct ngx_http_attachments_storage_op_s {
    ngx_http_attachments_storage_t         *storage;
    ngx_str_t                               key;
    ngx_str_t                               file;     /* create: the blob */
    off_t                                   size;
    u_char                                 *sha256;   /* create: 64 hex */
    ngx_log_t                              *log;
    ngx_pool_t                             *pool;     /* without request */
    ngx_uint_t                              status;   /* 2xx: done */
    unsigned                                uncertain:1;  /* create failed,
                                                   the object may be there */
    ngx_http_attachments_storage_handler_pt handler;
    void                                   *data;

    /* s3 */
    ngx_uint_t                              method;
    off_t                                   sent;
};


#define ngx_http_attachments_op_done(op)                                      \
    ((op)->status >= 200 && (op)->status < 300)


/* download.c: signed URLs, and request helpers the API shares */
ngx_int_t ngx_http_attachments_download_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_attachments_signed_url(ngx_http_request_t *r,
    ngx_http_attachments_link_t *link, ngx_str_t *url);
ngx_int_t ngx_http_attachments_serve(ngx_http_request_t *r,
    ngx_http_attachments_storage_t *storage, ngx_str_t *key,
    ngx_http_attachments_grant_t *g);
ngx_int_t ngx_http_attachments_disposition_value(ngx_pool_t *pool,
    ngx_str_t *filename, ngx_str_t *value);
ngx_int_t ngx_http_attachments_arg(ngx_http_request_t *r, char *name,
    ngx_str_t *value);

/* api.c: the metadata API */
ngx_int_t ngx_http_attachments_access_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_attachments_api_handler(ngx_http_request_t *r);

/* storage.c */
char *ngx_http_attachments_storage(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_http_attachments_storage_t *ngx_http_attachments_storage_by_name(
    ngx_http_request_t *r, ngx_str_t *name);
ngx_http_attachments_storage_t *ngx_http_attachments_lookup_storage(
    ngx_http_attachments_main_conf_t *amcf, ngx_str_t *name);

extern ngx_http_attachments_storage_kind_t  ngx_http_attachments_local_kind;
extern ngx_http_attachments_storage_kind_t  ngx_http_attachments_s3_kind;

/* gc.c */
ngx_int_t ngx_http_attachments_gc_init(ngx_cycle_t *cycle,
    ngx_http_attachments_main_conf_t *amcf);


extern ngx_module_t  ngx_http_attachments_module;


#endif /* _NGX_HTTP_ATTACHMENTS_MODULE_H_INCLUDED_ */
