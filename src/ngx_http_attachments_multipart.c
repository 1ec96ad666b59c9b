
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * Streaming multipart/form-data.
 *
 * The delimiter "\r\n--boundary" is matched byte by byte across chunks;
 * since it holds one CR, at its start, a failed partial match is plain
 * data and matching restarts at the failing byte.  The first delimiter may
 * open the body without its CRLF, so the preamble starts as if a CRLF had
 * been seen.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_attachments_multipart.h"


/* the parser's states, in mp->state */
enum {
    sw_preamble = 0,
    sw_after,            /* a delimiter: "--" ends, CRLF opens a part */
    sw_after_dash,
    sw_after_cr,
    sw_headers,
    sw_data,
    sw_done,
    sw_failed
};


static ngx_int_t ngx_http_attachments_mp_headers(
    ngx_http_attachments_mp_t *mp);
static ngx_int_t ngx_http_attachments_mp_disposition(
    ngx_http_attachments_mp_t *mp, u_char *p, u_char *last);
static u_char *ngx_http_attachments_mp_param(u_char *p, u_char *last,
    ngx_str_t *name, u_char *value, size_t *len);
static ngx_int_t ngx_http_attachments_mp_ext_value(ngx_str_t *raw,
    u_char *value, size_t *len);
static ngx_uint_t ngx_http_attachments_mp_hex(u_char c);
static ngx_uint_t ngx_http_attachments_mp_caseeq(u_char *p, size_t len,
    const char *s);
static ngx_int_t ngx_http_attachments_mp_fail(ngx_http_attachments_mp_t *mp,
    const char *error);


/*
 * The boundary parameter of a multipart/form-data Content-Type, unquoted
 * into buf (NGX_HTTP_ATTACHMENTS_MP_BOUNDARY_MAX bytes).  NGX_DECLINED:
 * another type; NGX_ERROR: no usable boundary.
 */

ngx_int_t
ngx_http_attachments_mp_boundary(u_char *p, size_t len, u_char *buf,
    ngx_str_t *boundary)
{
    u_char     *last, *semi;
    size_t      n;
    ngx_str_t   name;

    last = p + len;

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    semi = ngx_strlchr(p, last, ';');

    n = (semi ? semi : last) - p;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t')) {
        n--;
    }

    if (!ngx_http_attachments_mp_caseeq(p, n, "multipart/form-data")) {
        return NGX_DECLINED;
    }

    p = semi ? semi + 1 : last;

    while (p < last) {
        n = NGX_HTTP_ATTACHMENTS_MP_BOUNDARY_MAX;
        p = ngx_http_attachments_mp_param(p, last, &name, buf, &n);

        if (p == NULL) {
            return NGX_ERROR;
        }

        if (!ngx_http_attachments_mp_caseeq(name.data, name.len, "boundary"))
        {
            continue;
        }

        if (n == 0) {
            return NGX_ERROR;
        }

        /* RFC 2046 bchars: no CR, LF or other controls */

        for (len = 0; len < n; len++) {
            if (buf[len] < 0x20 || buf[len] >= 0x7f) {
                return NGX_ERROR;
            }
        }

        boundary->data = buf;
        boundary->len = n;

        return NGX_OK;
    }

    return NGX_ERROR;
}


ngx_int_t
ngx_http_attachments_mp_init(ngx_http_attachments_mp_t *mp,
    ngx_str_t *boundary, ngx_http_attachments_mp_handler_t *handler)
{
    if (boundary->len == 0
        || boundary->len > NGX_HTTP_ATTACHMENTS_MP_BOUNDARY_MAX)
    {
        return NGX_ERROR;
    }

    mp->state = sw_preamble;
    mp->handler = *handler;
    mp->error = NULL;
    mp->rc = NGX_OK;

    mp->delim[0] = '\r';
    mp->delim[1] = '\n';
    mp->delim[2] = '-';
    mp->delim[3] = '-';
    ngx_memcpy(mp->delim + 4, boundary->data, boundary->len);
    mp->delim_len = boundary->len + 4;

    /* the body may open with "--boundary" */
    mp->matched = 2;

    mp->hlen = 0;

    return NGX_OK;
}


/*
 * NGX_OK: more input wanted; NGX_DONE: the final delimiter was seen (the
 * rest is epilogue); NGX_ERROR: malformed (mp->error) or a callback's
 * refusal (mp->rc).
 */

ngx_int_t
ngx_http_attachments_mp_feed(ngx_http_attachments_mp_t *mp, u_char *p,
    size_t len)
{
    u_char     *last, *cr;
    ngx_int_t   rc;

    last = p + len;

    while (p < last) {

        switch (mp->state) {

        case sw_done:
            return NGX_DONE;

        case sw_failed:
            return NGX_ERROR;

        case sw_preamble:
        case sw_data:

            if (mp->matched == 0) {

                /*
                 * Data up to the next CR that starts the whole delimiter,
                 * or that is too near the end of the input to tell, is
                 * data for sure: it goes out in one run.
                 */

                for (cr = p; ; cr++) {
                    cr = memchr(cr, '\r', last - cr);

                    if (cr == NULL) {
                        cr = last;
                        break;
                    }

                    if ((size_t) (last - cr) < mp->delim_len
                        || ngx_memcmp(cr, mp->delim, mp->delim_len) == 0)
                    {
                        break;
                    }
                }

                if (cr != p && mp->state == sw_data) {
                    rc = mp->handler.body(mp->handler.data, p, cr - p);
                    if (rc != NGX_OK) {
                        mp->rc = rc;
                        return ngx_http_attachments_mp_fail(mp, NULL);
                    }
                }

                p = cr;

                if (p == last) {
                    break;
                }
            }

            if (*p == mp->delim[mp->matched]) {
                p++;

                if (++mp->matched < mp->delim_len) {
                    break;
                }

                mp->matched = 0;

                if (mp->state == sw_data) {
                    rc = mp->handler.end(mp->handler.data);
                    if (rc != NGX_OK) {
                        mp->rc = rc;
                        return ngx_http_attachments_mp_fail(mp, NULL);
                    }
                }

                mp->state = sw_after;
                mp->after = 0;
                break;
            }

            /* what matched so far was data; this byte starts afresh */

            if (mp->matched && mp->state == sw_data) {
                rc = mp->handler.body(mp->handler.data, mp->delim,
                                      mp->matched);
                if (rc != NGX_OK) {
                    mp->rc = rc;
                    return ngx_http_attachments_mp_fail(mp, NULL);
                }
            }

            if (mp->matched == 0) {
                p++;    /* a preamble byte */
            }

            mp->matched = 0;
            break;

        case sw_after:

            /* transport padding, then "--" or CRLF */

            if (++mp->after > 256) {
                return ngx_http_attachments_mp_fail(mp,
                           "a boundary line is too long");
            }

            switch (*p++) {
            case ' ':
            case '\t':
                break;
            case '-':
                mp->state = sw_after_dash;
                break;
            case '\r':
                mp->state = sw_after_cr;
                break;
            default:
                return ngx_http_attachments_mp_fail(mp,
                           "a boundary is followed by something else");
            }

            break;

        case sw_after_dash:

            if (*p++ != '-') {
                return ngx_http_attachments_mp_fail(mp,
                           "a boundary is followed by something else");
            }

            mp->state = sw_done;
            return NGX_DONE;

        case sw_after_cr:

            if (*p++ != '\n') {
                return ngx_http_attachments_mp_fail(mp,
                           "a boundary is followed by something else");
            }

            mp->state = sw_headers;
            mp->hlen = 0;
            break;

        case sw_headers:

            if (mp->hlen == NGX_HTTP_ATTACHMENTS_MP_HEADERS_MAX) {
                return ngx_http_attachments_mp_fail(mp,
                           "the headers of a part are too long");
            }

            mp->headers[mp->hlen++] = *p++;

            /* an empty line ends them: "\r\n" alone or "...\r\n\r\n" */

            if (!((mp->hlen == 2
                   && mp->headers[0] == '\r' && mp->headers[1] == '\n')
                  || (mp->hlen >= 4
                      && ngx_memcmp(mp->headers + mp->hlen - 4, "\r\n\r\n", 4)
                         == 0)))
            {
                break;
            }

            if (ngx_http_attachments_mp_headers(mp) != NGX_OK) {
                return NGX_ERROR;
            }

            rc = mp->handler.begin(mp->handler.data, &mp->part);
            if (rc != NGX_OK) {
                mp->rc = rc;
                return ngx_http_attachments_mp_fail(mp, NULL);
            }

            mp->state = sw_data;
            mp->matched = 0;
            break;
        }
    }

    return mp->state == sw_done ? NGX_DONE : NGX_OK;
}


/* the body has ended: was it whole? */

ngx_int_t
ngx_http_attachments_mp_finish(ngx_http_attachments_mp_t *mp)
{
    if (mp->state == sw_done) {
        return NGX_OK;
    }

    if (mp->state != sw_failed) {
        mp->error = (mp->state == sw_preamble && mp->matched <= 2)
                    ? "no boundary in the body"
                    : "the body ends before the final boundary";
        mp->state = sw_failed;
    }

    return NGX_ERROR;
}


static ngx_int_t
ngx_http_attachments_mp_fail(ngx_http_attachments_mp_t *mp, const char *error)
{
    mp->state = sw_failed;
    mp->error = error;

    return NGX_ERROR;
}


static ngx_int_t
ngx_http_attachments_mp_headers(ngx_http_attachments_mp_t *mp)
{
    u_char      *p, *last, *eol, *colon, *v, *end;
    ngx_uint_t   disposition;

    ngx_memzero(&mp->part, sizeof(ngx_http_attachments_mp_part_t));
    disposition = 0;

    p = mp->headers;
    last = mp->headers + mp->hlen - 2;   /* the final empty line */

    while (p < last) {
        eol = ngx_strlchr(p, last, '\r');

        if (eol == NULL || eol + 1 >= last + 2 || eol[1] != '\n') {
            return ngx_http_attachments_mp_fail(mp,
                       "a part header line does not end with CRLF");
        }

        if (*p == ' ' || *p == '\t') {
            return ngx_http_attachments_mp_fail(mp,
                       "folded part headers are not accepted");
        }

        colon = ngx_strlchr(p, eol, ':');
        if (colon == NULL || colon == p) {
            return ngx_http_attachments_mp_fail(mp,
                       "a part header without a name");
        }

        for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++) {
            /* void */
        }

        for (end = eol; end > v && (end[-1] == ' ' || end[-1] == '\t'); end--)
        {
            /* void */
        }

        if (ngx_http_attachments_mp_caseeq(p, colon - p,
                                           "Content-Disposition"))
        {
            if (disposition++) {
                return ngx_http_attachments_mp_fail(mp,
                           "a part has two Content-Disposition headers");
            }

            if (ngx_http_attachments_mp_disposition(mp, v, end) != NGX_OK) {
                return NGX_ERROR;
            }

        } else if (ngx_http_attachments_mp_caseeq(p, colon - p,
                                                  "Content-Type"))
        {
            if (mp->part.content_type.data) {
                return ngx_http_attachments_mp_fail(mp,
                           "a part has two Content-Type headers");
            }

            if ((size_t) (end - v) > NGX_HTTP_ATTACHMENTS_MP_VALUE_MAX) {
                return ngx_http_attachments_mp_fail(mp,
                           "a part's Content-Type is too long");
            }

            mp->part.content_type.data = mp->type;
            mp->part.content_type.len = end - v;
            ngx_memcpy(mp->type, v, end - v);
        }

        p = eol + 2;
    }

    if (!disposition) {
        return ngx_http_attachments_mp_fail(mp,
                   "a part without Content-Disposition");
    }

    if (mp->part.name.len == 0) {
        return ngx_http_attachments_mp_fail(mp, "a part without a name");
    }

    return NGX_OK;
}


/* form-data; name="..."; filename="..."; filename*=UTF-8''... */

static ngx_int_t
ngx_http_attachments_mp_disposition(ngx_http_attachments_mp_t *mp, u_char *p,
    u_char *last)
{
    u_char      *semi;
    size_t       n;
    ngx_str_t    name;
    ngx_uint_t   ext;
    u_char       value[NGX_HTTP_ATTACHMENTS_MP_VALUE_MAX];

    semi = ngx_strlchr(p, last, ';');

    n = (semi ? semi : last) - p;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t')) {
        n--;
    }

    if (!ngx_http_attachments_mp_caseeq(p, n, "form-data")) {
        return ngx_http_attachments_mp_fail(mp,
                   "a part's Content-Disposition is not form-data");
    }

    if (semi == NULL) {
        return NGX_OK;
    }

    p = semi + 1;
    ext = 0;

    while (p < last) {
        n = sizeof(value);
        p = ngx_http_attachments_mp_param(p, last, &name, value, &n);

        if (p == NULL) {
            return ngx_http_attachments_mp_fail(mp,
                       "a malformed Content-Disposition parameter");
        }

        if (ngx_http_attachments_mp_caseeq(name.data, name.len, "name")) {
            if (mp->part.name.data) {
                return ngx_http_attachments_mp_fail(mp,
                           "a part with two names");
            }

            ngx_memcpy(mp->name, value, n);
            mp->part.name.data = mp->name;
            mp->part.name.len = n;

        } else if (ngx_http_attachments_mp_caseeq(name.data, name.len,
                                                  "filename"))
        {
            if (mp->part.has_filename && !ext) {
                return ngx_http_attachments_mp_fail(mp,
                           "a part with two file names");
            }

            if (!ext) {
                ngx_memcpy(mp->filename, value, n);
                mp->part.filename.data = mp->filename;
                mp->part.filename.len = n;
            }

            mp->part.has_filename = 1;

        } else if (ngx_http_attachments_mp_caseeq(name.data, name.len,
                                                  "filename*"))
        {
            /* RFC 5987: wins over filename, when it is UTF-8 */

            name.data = value;
            name.len = n;
            n = sizeof(mp->filename);

            if (ngx_http_attachments_mp_ext_value(&name, mp->filename, &n)
                == NGX_OK)
            {
                mp->part.filename.data = mp->filename;
                mp->part.filename.len = n;
                mp->part.has_filename = 1;
                ext = 1;
            }
        }
    }

    return NGX_OK;
}


/*
 * One "; name=value" parameter: value unquoted into value (at most *len
 * bytes), its length in *len.  Returns where the next one starts, or NULL.
 */

static u_char *
ngx_http_attachments_mp_param(u_char *p, u_char *last, ngx_str_t *name,
    u_char *value, size_t *len)
{
    size_t   max, n;

    max = *len;
    n = 0;

    while (p < last && (*p == ' ' || *p == '\t' || *p == ';')) {
        p++;
    }

    name->data = p;

    while (p < last && *p != '=' && *p != ';' && *p != ' ' && *p != '\t') {
        p++;
    }

    name->len = p - name->data;

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    if (name->len == 0 || p == last || *p != '=') {
        return NULL;
    }

    p++;

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    if (p < last && *p == '"') {
        p++;

        for ( ;; ) {
            if (p == last) {
                return NULL;            /* unterminated */
            }

            if (*p == '"') {
                p++;
                break;
            }

            if (*p == '\\' && p + 1 < last) {
                p++;
            }

            if (n == max) {
                return NULL;
            }

            value[n++] = *p++;
        }

    } else {
        while (p < last && *p != ';' && *p != ' ' && *p != '\t') {
            if (n == max) {
                return NULL;
            }

            value[n++] = *p++;
        }
    }

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    if (p < last && *p != ';') {
        return NULL;
    }

    *len = n;

    return p;
}


/* UTF-8'lang'percent-encoded; NGX_DECLINED for another charset */

static ngx_int_t
ngx_http_attachments_mp_ext_value(ngx_str_t *raw, u_char *value, size_t *len)
{
    u_char      *p, *last, *q;
    size_t       n, max;
    ngx_uint_t   hi, lo;

    p = raw->data;
    last = p + raw->len;

    q = ngx_strlchr(p, last, '\'');

    if (q == NULL || !ngx_http_attachments_mp_caseeq(p, q - p, "UTF-8")) {
        return NGX_DECLINED;
    }

    q = ngx_strlchr(q + 1, last, '\'');
    if (q == NULL) {
        return NGX_DECLINED;
    }

    max = *len;
    n = 0;

    for (p = q + 1; p < last; p++) {
        if (n == max) {
            return NGX_DECLINED;
        }

        if (*p != '%') {
            value[n++] = *p;
            continue;
        }

        if (last - p < 3) {
            return NGX_DECLINED;
        }

        hi = ngx_http_attachments_mp_hex(p[1]);
        lo = ngx_http_attachments_mp_hex(p[2]);

        if (hi > 15 || lo > 15) {
            return NGX_DECLINED;
        }

        value[n++] = (u_char) (hi << 4 | lo);
        p += 2;
    }

    *len = n;

    return NGX_OK;
}


static ngx_uint_t
ngx_http_attachments_mp_hex(u_char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c = ngx_tolower(c);

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return 16;
}


static ngx_uint_t
ngx_http_attachments_mp_caseeq(u_char *p, size_t len, const char *s)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (s[i] == '\0' || ngx_tolower(p[i]) != ngx_tolower((u_char) s[i])) {
            return 0;
        }
    }

    return s[len] == '\0';
}
