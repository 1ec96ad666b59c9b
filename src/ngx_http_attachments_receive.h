
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * Uploads, as their body arrives: the receiver's state and its limits.
 */


#ifndef _NGX_HTTP_ATTACHMENTS_RECEIVE_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_RECEIVE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <openssl/evp.h>
#include <magic.h>

#include "ngx_http_attachments_multipart.h"
#include "ngx_http_attachments_undo.h"
#include "ngx_http_attachments_commit.h"


#define NGX_HTTP_ATTACHMENTS_SNIFF  16384

/* the metadata fields of an upload */
#define NGX_HTTP_ATTACHMENTS_F_CATEGORY    1
#define NGX_HTTP_ATTACHMENTS_F_TAGS        2
#define NGX_HTTP_ATTACHMENTS_F_FIELDS      3
#define NGX_HTTP_ATTACHMENTS_F_VISIBILITY  4


/* the limits of attachments_max_file_size and the like */
typedef struct {
    off_t                            max_file_size;
    ngx_uint_t                       max_files;
    ngx_array_t                     *allowed_types;  /* NULL: defaults */
    ngx_http_complex_value_t        *key;
} ngx_http_attachments_upload_conf_t;


/* an upload while its body is read: what is committed comes first */
typedef struct {
    ngx_http_attachments_upload_t        up;
    ngx_http_attachments_upload_conf_t  *conf;
    magic_t                              magic;

    ngx_http_attachments_mp_t        mp;
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
} ngx_http_attachments_receive_t;


ngx_int_t ngx_http_attachments_receive_init(ngx_pool_t *pool,
    ngx_http_attachments_receive_t *rv, ngx_str_t *boundary);

/* what every way to upload does alike (the resumable ones too) */
ngx_int_t ngx_http_attachments_receive_uuid(u_char *id);
ngx_int_t ngx_http_attachments_receive_name(ngx_pool_t *pool,
    ngx_http_attachments_blob_t *b, ngx_str_t *filename,
    ngx_str_t *declared);
ngx_int_t ngx_http_attachments_receive_field(
    ngx_http_attachments_upload_t *up, ngx_uint_t field, ngx_str_t *value);
ngx_int_t ngx_http_attachments_receive_type(
    ngx_http_attachments_upload_t *up,
    ngx_http_attachments_upload_conf_t *conf, magic_t magic,
    ngx_http_attachments_blob_t *b, u_char *p, size_t n);


#endif /* _NGX_HTTP_ATTACHMENTS_RECEIVE_H_INCLUDED_ */
