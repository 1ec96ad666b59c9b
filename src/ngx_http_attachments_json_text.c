
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_attachments_json_text.h"


/*
 * the escape of each byte: 0 none, 'u' \u00XX, else the letter after the
 * backslash; bytes from 0x80 are UTF-8 (the database's encoding) and pass
 */

static u_char  ngx_http_attachments_json_esc[256] = {
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
    'b', 't', 'n', 'u', 'f', 'r', 'u', 'u',
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
    0, 0, '"', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '\\', 0, 0, 0
    /* the rest: 0 */
};

static u_char  ngx_http_attachments_json_hex[] = "0123456789ABCDEF";


/* whether a byte of the word is 0, or below n (n <= 0x80) */

#define NGX_HTTP_ATTACHMENTS_ONES   0x0101010101010101ULL
#define NGX_HTTP_ATTACHMENTS_HIGHS  0x8080808080808080ULL

#define ngx_http_attachments_json_zero(v)                                    \
    (((v) - NGX_HTTP_ATTACHMENTS_ONES) & ~(v) & NGX_HTTP_ATTACHMENTS_HIGHS)

#define ngx_http_attachments_json_less(v, n)                                 \
    (((v) - NGX_HTTP_ATTACHMENTS_ONES * (n)) & ~(v)                          \
     & NGX_HTTP_ATTACHMENTS_HIGHS)


/*
 * The body of a JSON string, without its quotes; dst NULL: its length.
 * Most strings need no escape: the bytes up to the first that does are
 * found eight at a time and copied at once.
 */

size_t
ngx_http_attachments_json_escape(u_char *dst, u_char *src, size_t len)
{
    u_char    c, e, *p, *start, *end;
    uint64_t  v, quotes, backslashes;

    end = src + len;
    quotes = NGX_HTTP_ATTACHMENTS_ONES * '"';
    backslashes = NGX_HTTP_ATTACHMENTS_ONES * '\\';

    /* eight bytes at a time while none is below 0x20, '"' or '\\' */

    for (p = src; end - p >= 8; p += 8) {
        ngx_memcpy(&v, p, 8);

        if (ngx_http_attachments_json_less(v, 0x20)
            | ngx_http_attachments_json_zero(v ^ quotes)
            | ngx_http_attachments_json_zero(v ^ backslashes))
        {
            break;
        }
    }

    while (p < end && ngx_http_attachments_json_esc[*p] == 0) {
        p++;
    }

    if (dst == NULL) {
        for ( /* void */ ; p < end; p++) {
            e = ngx_http_attachments_json_esc[*p];

            if (e) {
                len += (e == 'u') ? 5 : 1;
            }
        }

        return len;
    }

    start = dst;
    dst = ngx_cpymem(dst, src, p - src);

    while (p < end) {
        c = *p++;
        e = ngx_http_attachments_json_esc[c];

        if (e == 0) {
            *dst++ = c;
            continue;
        }

        *dst++ = '\\';

        if (e != 'u') {
            *dst++ = e;
            continue;
        }

        *dst++ = 'u';
        *dst++ = '0';
        *dst++ = '0';
        *dst++ = ngx_http_attachments_json_hex[c >> 4];
        *dst++ = ngx_http_attachments_json_hex[c & 0xf];
    }

    return dst - start;
}


/*
 * jsonb's text ({"a": 1, "b": [1, 2]}) without the blanks between
 * tokens; jsonb writes control characters as \u00xx, jansson as \u00XX.
 * The text is never longer than src.
 */

size_t
ngx_http_attachments_json_compact(u_char *dst, u_char *src, size_t len)
{
    u_char      c, *start, *end;
    ngx_uint_t  in_string, n;

    start = dst;
    end = src + len;
    in_string = 0;

    while (src < end) {
        c = *src++;

        if (!in_string) {
            if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
                continue;
            }

            in_string = (c == '"');
            *dst++ = c;
            continue;
        }

        *dst++ = c;

        if (c == '"') {
            in_string = 0;
            continue;
        }

        if (c != '\\' || src == end) {
            continue;
        }

        c = *src++;
        *dst++ = c;

        if (c != 'u') {
            continue;
        }

        for (n = 0; n < 4 && src < end; n++) {
            c = *src++;
            *dst++ = (c >= 'a' && c <= 'f') ? c - 'a' + 'A' : c;
        }
    }

    return dst - start;
}
