
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * What clients send, checked before anything else sees it: API routes,
 * entity and file ids, list cursors and file metadata (tags, custom_fields,
 * category).  Pure code over nginx types and jansson, unit-tested without
 * nginx.
 */


#ifndef _NGX_HTTP_ATTACHMENTS_INPUT_H_INCLUDED_
#define _NGX_HTTP_ATTACHMENTS_INPUT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <jansson.h>


/* the longest folder name made of a record's name, in bytes */
#define NGX_HTTP_ATTACHMENTS_FOLDER_NAME_MAX  120

#define NGX_HTTP_ATTACHMENTS_ROUTE_FILES     1   /* {type}/{id}/files */
#define NGX_HTTP_ATTACHMENTS_ROUTE_FILE      2   /* .../files/{file_id} */
#define NGX_HTTP_ATTACHMENTS_ROUTE_CONTENT   3   /* .../{file_id}/content */
#define NGX_HTTP_ATTACHMENTS_ROUTE_VERSIONS  4   /* .../{file_id}/versions */
#define NGX_HTTP_ATTACHMENTS_ROUTE_PUBLISH   5   /* .../{file_id}/publish */
#define NGX_HTTP_ATTACHMENTS_ROUTE_USAGE     6   /* usage */
#define NGX_HTTP_ATTACHMENTS_ROUTE_UPLOADS   7   /* {type}/{id}/uploads */
#define NGX_HTTP_ATTACHMENTS_ROUTE_UPLOAD    8   /* .../uploads/{id} */

#define NGX_HTTP_ATTACHMENTS_UUID_LEN        36
/* 2026-02-01T10:30:00.000000 */
#define NGX_HTTP_ATTACHMENTS_CURSOR_TS_LEN   26

#define NGX_HTTP_ATTACHMENTS_TAGS_MAX        64
#define NGX_HTTP_ATTACHMENTS_TAG_LEN         128
#define NGX_HTTP_ATTACHMENTS_CATEGORY_LEN    128
#define NGX_HTTP_ATTACHMENTS_FIELDS_SIZE     16384

#define NGX_HTTP_ATTACHMENTS_NAME_MAX        255   /* bytes of a file name */

/* the longest organization id a default key holds, and its key part */
#define NGX_HTTP_ATTACHMENTS_ORG_MAX         255
#define NGX_HTTP_ATTACHMENTS_ORG_KEY_MAX     (3 * NGX_HTTP_ATTACHMENTS_ORG_MAX)
#define NGX_HTTP_ATTACHMENTS_EXT_MAX         16

/* ngx_http_attachments_filename() modes */
#define NGX_HTTP_ATTACHMENTS_NAME_DISPLAY    0     /* UTF-8 kept */
#define NGX_HTTP_ATTACHMENTS_NAME_KEY        1     /* [A-Za-z0-9._-] only */


typedef struct {
    ngx_uint_t    kind;
    ngx_str_t     entity_type;
    ngx_str_t     entity_id;
    ngx_str_t     file_id;
    const char   *error;        /* why the route is invalid (400) */
} ngx_http_attachments_route_t;


/* a PATCH body or the metadata fields of an upload; NULL: absent */
typedef struct {
    json_t       *tags;
    json_t       *custom_fields;
    json_t       *category;     /* a string, or JSON null to clear */
} ngx_http_attachments_meta_t;


ngx_int_t ngx_http_attachments_route(u_char *p, size_t len,
    ngx_http_attachments_route_t *rt);

ngx_uint_t ngx_http_attachments_entity_type_valid(u_char *p, size_t len);
ngx_uint_t ngx_http_attachments_entity_id_valid(u_char *p, size_t len);
ngx_uint_t ngx_http_attachments_uuid_valid(u_char *p, size_t len);
ngx_uint_t ngx_http_attachments_utf8_valid(u_char *p, size_t len);

size_t ngx_http_attachments_key_part(u_char *dst, u_char *src, size_t len);
size_t ngx_http_attachments_folder_name(u_char *dst, u_char *src, size_t len);
size_t ngx_http_attachments_filename(u_char *dst, u_char *src, size_t len,
    ngx_uint_t mode);
size_t ngx_http_attachments_file_ext(u_char *dst, u_char *name, size_t len);

ngx_int_t ngx_http_attachments_cursor_parse(u_char *p, size_t len,
    ngx_str_t *ts, ngx_str_t *id);

const char *ngx_http_attachments_tags_check(json_t *tags);
const char *ngx_http_attachments_fields_check(json_t *fields);
const char *ngx_http_attachments_category_check(json_t *category);
const char *ngx_http_attachments_meta_parse(json_t *body,
    ngx_http_attachments_meta_t *meta);


#endif /* _NGX_HTTP_ATTACHMENTS_INPUT_H_INCLUDED_ */
