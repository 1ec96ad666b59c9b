
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * Signed download URLs: the pure part.
 *
 * Owns the canonical string of a grant, its HMAC-SHA256 under a key, the
 * base64url text of signatures, the percent-encoding of URL parts, the
 * Content-Disposition value and the storage-key safety rules.  Nothing here
 * touches the nginx runtime (only its types), so the unit tests and the
 * attachments-sign tool link it without nginx.
 */


#ifndef _NGX_HTTP_ATTACHMENTS_SIGN_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_SIGN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/evp.h>


#define NGX_HTTP_ATTACHMENTS_SHA256_LEN    32
#define NGX_HTTP_ATTACHMENTS_SHA256_BLOCK  64

/* base64url, unpadded, of an HMAC-SHA256 */
#define NGX_HTTP_ATTACHMENTS_SIG_LEN      43

#define NGX_HTTP_ATTACHMENTS_KEY_MAX      1024
#define NGX_HTTP_ATTACHMENTS_KID_MAX      32
#define NGX_HTTP_ATTACHMENTS_SECRET_MIN   16
#define NGX_HTTP_ATTACHMENTS_SECRET_MAX   4096

/* query parameters of a signed URL */
#define NGX_HTTP_ATTACHMENTS_ARG_EXPIRES    "X-Expires"
#define NGX_HTTP_ATTACHMENTS_ARG_KEY_ID     "X-Key-Id"
#define NGX_HTTP_ATTACHMENTS_ARG_FILENAME   "X-Filename"
#define NGX_HTTP_ATTACHMENTS_ARG_TYPE       "X-Type"
#define NGX_HTTP_ATTACHMENTS_ARG_SIGNATURE  "X-Signature"

/* their places in ngx_http_attachments_parse_query()'s values */
#define NGX_HTTP_ATTACHMENTS_ARG_I_EXPIRES    0
#define NGX_HTTP_ATTACHMENTS_ARG_I_KEY_ID     1
#define NGX_HTTP_ATTACHMENTS_ARG_I_FILENAME   2
#define NGX_HTTP_ATTACHMENTS_ARG_I_TYPE       3
#define NGX_HTTP_ATTACHMENTS_ARG_I_SIGNATURE  4
#define NGX_HTTP_ATTACHMENTS_ARGS             5

/* ngx_http_attachments_escape() modes */
#define NGX_HTTP_ATTACHMENTS_ESCAPE_PATH  0   /* keeps "/" */
#define NGX_HTTP_ATTACHMENTS_ESCAPE_ARG   1
#define NGX_HTTP_ATTACHMENTS_ESCAPE_5987  2   /* RFC 5987 attr-char */


/* Content-Disposition: the longest value for a filename of n bytes */
#define NGX_HTTP_ATTACHMENTS_DISPOSITION_HEAD  "attachment; filename=\""
#define NGX_HTTP_ATTACHMENTS_DISPOSITION_EXT   "\"; filename*=UTF-8''"
#define NGX_HTTP_ATTACHMENTS_DISPOSITION_LEN(n)                               \
    (sizeof(NGX_HTTP_ATTACHMENTS_DISPOSITION_HEAD) - 1                        \
     + sizeof(NGX_HTTP_ATTACHMENTS_DISPOSITION_EXT) - 1 + 4 * (n))


/* what a signed URL grants; every field is covered by the signature */
typedef struct {
    ngx_str_t     method;       /* "GET"; HEAD is verified as GET */
    ngx_str_t     path;         /* decoded URI path, download prefix included */
    time_t        expires;      /* absolute, seconds since the epoch */
    ngx_str_t     key_id;
    ngx_str_t     filename;     /* Content-Disposition filename, may be empty */
    ngx_str_t     type;         /* Content-Type, may be empty */
} ngx_http_attachments_grant_t;


/*
 * An HMAC-SHA256 key as the digest states after its padded key blocks: a
 * MAC is then a copy of each state and two short SHA-256 runs in the work
 * context kept with them, with no key schedule per request.  One per key
 * and process: a worker signs on its event loop only.
 */
typedef struct {
    EVP_MD_CTX   *inner;
    EVP_MD_CTX   *outer;
    EVP_MD_CTX   *work;
} ngx_http_attachments_hmac_t;


/* a key of attachments_signing_key */
typedef struct {
    ngx_str_t                      id;
    ngx_http_attachments_hmac_t   *mac;
} ngx_http_attachments_key_t;


ngx_http_attachments_hmac_t *ngx_http_attachments_hmac_new(u_char *secret,
    size_t len);
void ngx_http_attachments_hmac_free(ngx_http_attachments_hmac_t *mac);

ngx_int_t ngx_http_attachments_grant_valid(ngx_http_attachments_grant_t *g);
ngx_int_t ngx_http_attachments_sign(ngx_http_attachments_hmac_t *mac,
    ngx_http_attachments_grant_t *g, u_char *sig);
ngx_int_t ngx_http_attachments_verify(ngx_http_attachments_hmac_t *mac,
    ngx_http_attachments_grant_t *g, u_char *sig, size_t len);

ngx_int_t ngx_http_attachments_key_id_valid(u_char *p, size_t len);
ngx_int_t ngx_http_attachments_key_safe(u_char *p, size_t len);
ngx_int_t ngx_http_attachments_printable(u_char *p, size_t len);

ngx_int_t ngx_http_attachments_parse_query(u_char *p, size_t len,
    ngx_str_t *values, ngx_uint_t *escaped);
size_t ngx_http_attachments_escape(u_char *dst, u_char *src, size_t len,
    ngx_uint_t mode);
size_t ngx_http_attachments_percent_decode(u_char *dst, u_char *src,
    size_t len);
size_t ngx_http_attachments_disposition(u_char *dst, ngx_str_t *filename);
size_t ngx_http_attachments_query(u_char *dst, ngx_http_attachments_grant_t *g,
    u_char *sig);
size_t ngx_http_attachments_url_max(ngx_str_t *prefix, ngx_str_t *key,
    ngx_http_attachments_grant_t *g);
size_t ngx_http_attachments_base64url(u_char *dst, u_char *src, size_t len);
size_t ngx_http_attachments_jwt_len(size_t header, size_t claims,
    EVP_PKEY *key);
size_t ngx_http_attachments_jwt(u_char *dst, EVP_PKEY *key, ngx_str_t *header,
    ngx_str_t *claims);
size_t ngx_http_attachments_url(u_char *dst, ngx_str_t *prefix,
    ngx_str_t *key, ngx_http_attachments_grant_t *g, u_char *sig);


#endif /* _NGX_HTTP_ATTACHMENTS_SIGN_H_INCLUDED_ */
