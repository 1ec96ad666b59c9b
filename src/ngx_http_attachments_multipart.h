
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * A streaming multipart/form-data parser (RFC 7578, RFC 2046, section 5.1).
 *
 * Fed the body in chunks of any size as they arrive, it never holds more
 * than one part's headers: part data goes to the callbacks as it is found,
 * in runs that may be as short as one byte.  Pure code over nginx types,
 * so the unit tests and the fuzz target drive it without nginx.
 */


#ifndef _NGX_HTTP_ATTACHMENTS_MULTIPART_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_MULTIPART_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#define NGX_HTTP_ATTACHMENTS_MP_BOUNDARY_MAX  70      /* RFC 2046 */
#define NGX_HTTP_ATTACHMENTS_MP_HEADERS_MAX   8192    /* one part's headers */
#define NGX_HTTP_ATTACHMENTS_MP_VALUE_MAX     1024    /* name, filename, type */


typedef struct {
    ngx_str_t     name;
    ngx_str_t     filename;       /* as sent: never a path until sanitised */
    ngx_str_t     content_type;   /* as declared: never trusted */
    unsigned      has_filename:1;
} ngx_http_attachments_mp_part_t;


/* each returns NGX_OK to go on; anything else stops the parser with it */
typedef struct {
    ngx_int_t   (*begin)(void *data, ngx_http_attachments_mp_part_t *part);
    ngx_int_t   (*body)(void *data, u_char *p, size_t len);
    ngx_int_t   (*end)(void *data);
    void         *data;
} ngx_http_attachments_mp_handler_t;


typedef struct {
    ngx_uint_t                          state;
    ngx_http_attachments_mp_handler_t   handler;
    const char                         *error;    /* why NGX_ERROR */
    ngx_int_t                           rc;       /* a callback's refusal */

    /* "\r\n--" boundary, and how much of it the input has matched so far */
    size_t                              delim_len;
    size_t                              matched;
    u_char                              delim[4
                                        + NGX_HTTP_ATTACHMENTS_MP_BOUNDARY_MAX];

    ngx_uint_t                          after;    /* bytes after a delimiter */
    size_t                              hlen;
    u_char                              headers[
                                          NGX_HTTP_ATTACHMENTS_MP_HEADERS_MAX];

    ngx_http_attachments_mp_part_t      part;
    u_char                              name[
                                          NGX_HTTP_ATTACHMENTS_MP_VALUE_MAX];
    u_char                              filename[
                                          NGX_HTTP_ATTACHMENTS_MP_VALUE_MAX];
    u_char                              type[
                                          NGX_HTTP_ATTACHMENTS_MP_VALUE_MAX];
} ngx_http_attachments_mp_t;


ngx_int_t ngx_http_attachments_mp_boundary(u_char *content_type, size_t len,
    u_char *buf, ngx_str_t *boundary);
ngx_int_t ngx_http_attachments_mp_init(ngx_http_attachments_mp_t *mp,
    ngx_str_t *boundary, ngx_http_attachments_mp_handler_t *handler);
ngx_int_t ngx_http_attachments_mp_feed(ngx_http_attachments_mp_t *mp,
    u_char *p, size_t len);
ngx_int_t ngx_http_attachments_mp_finish(ngx_http_attachments_mp_t *mp);


#endif /* _NGX_HTTP_ATTACHMENTS_MULTIPART_H_INCLUDED_ */
