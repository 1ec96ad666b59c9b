
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * Input checks: routes (DESIGN.md, section 3), ids, cursors, metadata.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_attachments_input.h"


#define NGX_HTTP_ATTACHMENTS_SEGMENTS  6


static ngx_uint_t ngx_http_attachments_cursor_date(u_char *p);
static ngx_uint_t ngx_http_attachments_text_valid(const char *s, size_t len,
    size_t max);


/*
 * p is the path below the API prefix, without a leading "/".
 * NGX_OK: rt->kind is set; NGX_DECLINED: no such route (404);
 * NGX_ERROR: a route with an invalid id (400, rt->error says which).
 */

ngx_int_t
ngx_http_attachments_route(u_char *p, size_t len,
    ngx_http_attachments_route_t *rt)
{
    u_char      *last, *slash;
    ngx_str_t    seg[NGX_HTTP_ATTACHMENTS_SEGMENTS];
    ngx_uint_t   n;

    ngx_memzero(rt, sizeof(ngx_http_attachments_route_t));

    last = p + len;
    n = 0;

    while (p < last) {
        if (n == NGX_HTTP_ATTACHMENTS_SEGMENTS) {
            return NGX_DECLINED;
        }

        slash = ngx_strlchr(p, last, '/');
        if (slash == NULL) {
            slash = last;
        }

        seg[n].data = p;
        seg[n].len = slash - p;

        if (seg[n].len == 0) {
            return NGX_DECLINED;
        }

        n++;
        p = slash + 1;

        if (slash + 1 == last) {
            /* a trailing slash names nothing */
            return NGX_DECLINED;
        }
    }

    if (n == 1 && seg[0].len == 5 && ngx_strncmp(seg[0].data, "usage", 5) == 0)
    {
        rt->kind = NGX_HTTP_ATTACHMENTS_ROUTE_USAGE;
        return NGX_OK;
    }

    if (n < 3 || n > 5) {
        return NGX_DECLINED;
    }

    if (seg[2].len == 7 && ngx_strncmp(seg[2].data, "uploads", 7) == 0) {
        /* resumable uploads: the collection, and one upload */
        if (n == 5) {
            return NGX_DECLINED;
        }

        rt->kind = (n == 3) ? NGX_HTTP_ATTACHMENTS_ROUTE_UPLOADS
                            : NGX_HTTP_ATTACHMENTS_ROUTE_UPLOAD;

    } else if (seg[2].len != 5 || ngx_strncmp(seg[2].data, "files", 5) != 0) {
        return NGX_DECLINED;

    } else if (n == 5) {
        if (seg[4].len == 7 && ngx_strncmp(seg[4].data, "content", 7) == 0) {
            rt->kind = NGX_HTTP_ATTACHMENTS_ROUTE_CONTENT;

        } else if (seg[4].len == 8
                   && ngx_strncmp(seg[4].data, "versions", 8) == 0)
        {
            rt->kind = NGX_HTTP_ATTACHMENTS_ROUTE_VERSIONS;

        } else if (seg[4].len == 7
                   && ngx_strncmp(seg[4].data, "publish", 7) == 0)
        {
            rt->kind = NGX_HTTP_ATTACHMENTS_ROUTE_PUBLISH;

        } else {
            return NGX_DECLINED;
        }

    } else {
        rt->kind = (n == 3) ? NGX_HTTP_ATTACHMENTS_ROUTE_FILES
                            : NGX_HTTP_ATTACHMENTS_ROUTE_FILE;
    }

    rt->entity_type = seg[0];
    rt->entity_id = seg[1];

    if (!ngx_http_attachments_entity_type_valid(seg[0].data, seg[0].len)) {
        rt->error = "entity_type must match [a-z][a-z0-9_]{0,62}";
        return NGX_ERROR;
    }

    if (!ngx_http_attachments_entity_id_valid(seg[1].data, seg[1].len)) {
        rt->error = "entity_id must match [A-Za-z0-9_-]{1,128}";
        return NGX_ERROR;
    }

    if (n > 3) {
        rt->file_id = seg[3];

        if (!ngx_http_attachments_uuid_valid(seg[3].data, seg[3].len)) {
            rt->error = (rt->kind == NGX_HTTP_ATTACHMENTS_ROUTE_UPLOAD)
                        ? "upload_id must be a UUID" : "file_id must be a UUID";
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


ngx_uint_t
ngx_http_attachments_entity_type_valid(u_char *p, size_t len)
{
    size_t  i;

    if (len == 0 || len > 63 || p[0] < 'a' || p[0] > 'z') {
        return 0;
    }

    for (i = 1; i < len; i++) {
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9')
              || p[i] == '_'))
        {
            return 0;
        }
    }

    return 1;
}


ngx_uint_t
ngx_http_attachments_entity_id_valid(u_char *p, size_t len)
{
    size_t  i;

    if (len == 0 || len > 128) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')
              || (p[i] >= '0' && p[i] <= '9') || p[i] == '_' || p[i] == '-'))
        {
            return 0;
        }
    }

    return 1;
}


/* 8-4-4-4-12 hex digits, either case */

ngx_uint_t
ngx_http_attachments_uuid_valid(u_char *p, size_t len)
{
    size_t  i;

    if (len != NGX_HTTP_ATTACHMENTS_UUID_LEN) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (p[i] != '-') {
                return 0;
            }

            continue;
        }

        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')
              || (p[i] >= 'A' && p[i] <= 'F')))
        {
            return 0;
        }
    }

    return 1;
}


/*
 * A list cursor is the position after the last file of a page: its
 * creation time in UTC with microseconds and its id,
 * "2026-02-01T10:30:00.000000_0190f6b4-...".  Clients pass it back as is.
 */

ngx_int_t
ngx_http_attachments_cursor_parse(u_char *p, size_t len, ngx_str_t *ts,
    ngx_str_t *id)
{
    size_t       i;
    static char  pattern[] = "dddd-dd-ddTdd:dd:dd.dddddd";

    if (len != NGX_HTTP_ATTACHMENTS_CURSOR_TS_LEN + 1
               + NGX_HTTP_ATTACHMENTS_UUID_LEN
        || p[NGX_HTTP_ATTACHMENTS_CURSOR_TS_LEN] != '_')
    {
        return NGX_ERROR;
    }

    for (i = 0; i < NGX_HTTP_ATTACHMENTS_CURSOR_TS_LEN; i++) {
        if (pattern[i] == 'd' ? (p[i] < '0' || p[i] > '9')
                              : p[i] != (u_char) pattern[i])
        {
            return NGX_ERROR;
        }
    }

    if (!ngx_http_attachments_cursor_date(p)) {
        return NGX_ERROR;
    }

    ts->data = p;
    ts->len = NGX_HTTP_ATTACHMENTS_CURSOR_TS_LEN;
    id->data = p + NGX_HTTP_ATTACHMENTS_CURSOR_TS_LEN + 1;
    id->len = NGX_HTTP_ATTACHMENTS_UUID_LEN;

    return ngx_http_attachments_uuid_valid(id->data, id->len) ? NGX_OK
                                                              : NGX_ERROR;
}


/* 1: "YYYY-MM-DDTHH:MM:SS" (digits checked) is a date of the calendar */

static ngx_uint_t
ngx_http_attachments_cursor_date(u_char *p)
{
    ngx_uint_t  year, month, day, days;

#define DIGITS2(s)  (((s)[0] - '0') * 10 + (s)[1] - '0')

    year = DIGITS2(p) * 100 + DIGITS2(p + 2);
    month = DIGITS2(p + 5);
    day = DIGITS2(p + 8);

    if (year == 0 || month < 1 || month > 12 || day < 1) {
        return 0;
    }

    if (month == 2) {
        days = (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))
               ? 29 : 28;

    } else {
        days = (month == 4 || month == 6 || month == 9 || month == 11)
               ? 30 : 31;
    }

    return day <= days
           && DIGITS2(p + 11) < 24
           && DIGITS2(p + 14) < 60
           && DIGITS2(p + 17) < 60;

#undef DIGITS2
}


/*
 * One UTF-8 character at *p: its code point, or -1 for a malformed one
 * (then *p moves one byte).
 */

static int32_t
ngx_http_attachments_utf8_next(u_char **p, u_char *last)
{
    u_char    *s;
    size_t     n;
    uint32_t   c, min;

    s = *p;
    c = *s++;

    if (c < 0x80) {
        *p = s;
        return c;
    }

    if (c >= 0xc2 && c <= 0xdf) {
        n = 1;
        c &= 0x1f;
        min = 0x80;

    } else if (c >= 0xe0 && c <= 0xef) {
        n = 2;
        c &= 0x0f;
        min = 0x800;

    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 3;
        c &= 0x07;
        min = 0x10000;

    } else {
        (*p)++;
        return -1;
    }

    if ((size_t) (last - s) < n) {
        (*p)++;
        return -1;
    }

    while (n--) {
        if ((*s & 0xc0) != 0x80) {
            (*p)++;
            return -1;
        }

        c = (c << 6) | (*s++ & 0x3f);
    }

    /* overlong forms, surrogates, beyond U+10FFFF */

    if (c < min || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff) {
        (*p)++;
        return -1;
    }

    *p = s;

    return (int32_t) c;
}


/*
 * An organization id as one segment of a storage key, one to one: letters,
 * digits, "-", "_" and "." (but a leading one) stay, every other byte is
 * "~" and its two hex digits, so that no two ids share a key space.  dst
 * holds 3 * len bytes.
 */

size_t
ngx_http_attachments_key_part(u_char *dst, u_char *src, size_t len)
{
    u_char   c, *p;
    size_t   i;

    static u_char  hex[] = "0123456789abcdef";

    p = dst;

    for (i = 0; i < len; i++) {
        c = src[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '-' || c == '_'
            || (c == '.' && i > 0))
        {
            *p++ = c;
            continue;
        }

        *p++ = '~';
        *p++ = hex[c >> 4];
        *p++ = hex[c & 0xf];
    }

    return p - dst;
}


/*
 * A client's file name made safe to show and to put in a storage key: its
 * last path component ("/" and "\" both separate); controls, invalid
 * UTF-8, bidirectional and invisible format characters removed; look-alike
 * dots and slashes turned into "_"; leading and trailing dots and spaces
 * removed (no hidden files, no ".."); at most 255 bytes, whole characters;
 * "file" when nothing is left.  In key mode only [A-Za-z0-9._-] remain,
 * others become "_".  dst holds NGX_HTTP_ATTACHMENTS_NAME_MAX bytes.
 */

size_t
ngx_http_attachments_filename(u_char *dst, u_char *src, size_t len,
    ngx_uint_t mode)
{
    u_char   *p, *last, *start, *d, *end;
    size_t    n;
    int32_t   c;

    last = src + len;

    for (p = last; p > src; p--) {
        if (p[-1] == '/' || p[-1] == '\\') {
            break;
        }
    }

    d = dst;

    while (p < last) {
        start = p;
        c = ngx_http_attachments_utf8_next(&p, last);

        if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f)
            || (c >= 0x200b && c <= 0x200f) || (c >= 0x202a && c <= 0x202e)
            || (c >= 0x2060 && c <= 0x2064) || (c >= 0x2066 && c <= 0x2069)
            || c == 0xfeff || c == 0xad)
        {
            continue;
        }

        n = p - start;

        if (c == 0x2024 || c == 0x2025 || c == 0x2026 || c == 0xfe52
            || c == 0xff0e || c == 0x2215 || c == 0x2044 || c == 0xff0f
            || c == 0xff3c || c == 0x29f8 || c == 0x29f9
            || (mode == NGX_HTTP_ATTACHMENTS_NAME_KEY
                && !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                     || (c >= '0' && c <= '9') || c == '.' || c == '-'
                     || c == '_')))
        {
            start = (u_char *) "_";
            n = 1;
        }

        if ((size_t) (d - dst) + n > NGX_HTTP_ATTACHMENTS_NAME_MAX) {
            break;
        }

        d = ngx_cpymem(d, start, n);
    }

    /* no leading or trailing dots and spaces */

    for (start = dst; start < d && (*start == '.' || *start == ' '); start++)
    {
        /* void */
    }

    for (end = d; end > start && (end[-1] == '.' || end[-1] == ' '); end--) {
        /* void */
    }

    if (end == start) {
        return ngx_cpymem(dst, "file", 4) - dst;
    }

    ngx_memmove(dst, start, end - start);

    return end - start;
}


/* the lower-case extension of a sanitised name: at most 16 of [a-z0-9] */

size_t
ngx_http_attachments_file_ext(u_char *dst, u_char *name, size_t len)
{
    u_char  *p, *dot;
    size_t   n;

    dot = NULL;

    for (p = name; p < name + len; p++) {
        if (*p == '.') {
            dot = p;
        }
    }

    if (dot == NULL || dot == name) {
        return 0;
    }

    n = name + len - dot - 1;

    if (n == 0 || n > NGX_HTTP_ATTACHMENTS_EXT_MAX) {
        return 0;
    }

    for (p = dot + 1; p < name + len; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
              || (*p >= '0' && *p <= '9')))
        {
            return 0;
        }

        *dst++ = ngx_tolower(*p);
    }

    return n;
}


/* well-formed UTF-8: what PostgreSQL will accept as text */

ngx_uint_t
ngx_http_attachments_utf8_valid(u_char *p, size_t len)
{
    u_char  *last;

    last = p + len;

    while (p < last) {
        if (ngx_http_attachments_utf8_next(&p, last) < 0) {
            return 0;
        }
    }

    return 1;
}


/* non-empty, at most max bytes, no control characters (jansson: UTF-8) */

static ngx_uint_t
ngx_http_attachments_text_valid(const char *s, size_t len, size_t max)
{
    size_t  i;

    if (len == 0 || len > max) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if ((u_char) s[i] < 0x20 || s[i] == 0x7f) {
            return 0;
        }
    }

    return 1;
}


const char *
ngx_http_attachments_tags_check(json_t *tags)
{
    size_t   i;
    json_t  *tag;

    if (!json_is_array(tags)) {
        return "tags must be an array of strings";
    }

    if (json_array_size(tags) > NGX_HTTP_ATTACHMENTS_TAGS_MAX) {
        return "at most 64 tags";
    }

    json_array_foreach(tags, i, tag) {
        if (!json_is_string(tag)) {
            return "tags must be an array of strings";
        }

        if (!ngx_http_attachments_text_valid(json_string_value(tag),
                                             json_string_length(tag),
                                             NGX_HTTP_ATTACHMENTS_TAG_LEN))
        {
            return "a tag is 1 to 128 bytes without control characters";
        }
    }

    return NULL;
}


const char *
ngx_http_attachments_fields_check(json_t *fields)
{
    if (!json_is_object(fields)) {
        return "custom_fields must be an object";
    }

    if (json_dumpb(fields, NULL, 0, JSON_COMPACT)
        > NGX_HTTP_ATTACHMENTS_FIELDS_SIZE)
    {
        return "custom_fields must be at most 16384 bytes of JSON";
    }

    return NULL;
}


const char *
ngx_http_attachments_category_check(json_t *category)
{
    if (json_is_null(category)) {
        return NULL;
    }

    if (!json_is_string(category)
        || !ngx_http_attachments_text_valid(json_string_value(category),
                                            json_string_length(category),
                                            NGX_HTTP_ATTACHMENTS_CATEGORY_LEN))
    {
        return "category must be null or a string of 1 to 128 bytes "
               "without control characters";
    }

    return NULL;
}


/* NULL when body is valid metadata; meta borrows body's references */

const char *
ngx_http_attachments_meta_parse(json_t *body, ngx_http_attachments_meta_t *meta)
{
    json_t      *value;
    const char  *key, *err;

    ngx_memzero(meta, sizeof(ngx_http_attachments_meta_t));

    if (!json_is_object(body)) {
        return "the body must be a JSON object";
    }

    json_object_foreach(body, key, value) {

        if (ngx_strcmp(key, "tags") == 0) {
            err = ngx_http_attachments_tags_check(value);
            meta->tags = value;

        } else if (ngx_strcmp(key, "custom_fields") == 0) {
            err = ngx_http_attachments_fields_check(value);
            meta->custom_fields = value;

        } else if (ngx_strcmp(key, "category") == 0) {
            err = ngx_http_attachments_category_check(value);
            meta->category = value;

        } else {
            return "only tags, custom_fields and category can be changed";
        }

        if (err) {
            return err;
        }
    }

    return NULL;
}


/*
 * A name (a record's, from the application) made one folder name of a
 * drive into dst (NGX_HTTP_ATTACHMENTS_FOLDER_NAME_MAX bytes): no "/", "\",
 * control character or what the drives' clients refuse (":*?\"<>|"), no
 * "%" (keys have none): "_" for each; no leading or trailing blank or dot;
 * at most 120 bytes of whole UTF-8 characters.  0: nothing left, or not
 * UTF-8.
 */

size_t
ngx_http_attachments_folder_name(u_char *dst, u_char *src, size_t len)
{
    u_char  *p, *last;
    size_t   n;

    last = src + len;

    while (src < last && (*src == ' ' || *src == '.')) {
        src++;
    }

    while (last > src && (last[-1] == ' ' || last[-1] == '.')) {
        last--;
    }

    n = ngx_min((size_t) (last - src), NGX_HTTP_ATTACHMENTS_FOLDER_NAME_MAX);

    /* never half a character */
    while (n && src + n < last && (src[n] & 0xc0) == 0x80) {
        n--;
    }

    while (n && (src[n - 1] == ' ' || src[n - 1] == '.')) {
        n--;
    }

    if (n == 0 || !ngx_http_attachments_utf8_valid(src, n)) {
        return 0;
    }

    for (p = dst, last = src + n; src < last; src++) {
        *p++ = (*src < 0x20 || *src == 0x7f
                || ngx_strchr("/\\:*?\"<>|%", *src) != NULL)
               ? '_' : *src;
    }

    return n;
}
