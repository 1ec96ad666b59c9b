
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * Signed download URLs: canonical string, HMAC-SHA256, encodings.
 * See ngx_http_attachments_sign.h; no nginx runtime calls in this file.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/crypto.h>

#include "ngx_http_attachments_sign.h"


#define NGX_HTTP_ATTACHMENTS_CANON_VERSION  "AH1"
#define NGX_HTTP_ATTACHMENTS_CANON_BUFFER   1024


static ngx_int_t ngx_http_attachments_mac(ngx_http_attachments_hmac_t *mac,
    ngx_http_attachments_grant_t *g, u_char *sig);


static u_char  ngx_http_attachments_b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


ngx_http_attachments_hmac_t *
ngx_http_attachments_hmac_new(u_char *secret, size_t len)
{
    u_char                        pad[NGX_HTTP_ATTACHMENTS_SHA256_BLOCK];
    ngx_int_t                     rc;
    ngx_uint_t                    i;
    const EVP_MD                 *md;
    ngx_http_attachments_hmac_t  *mac;

    mac = OPENSSL_zalloc(sizeof(ngx_http_attachments_hmac_t));
    if (mac == NULL) {
        return NULL;
    }

    md = EVP_sha256();

    mac->inner = EVP_MD_CTX_new();
    mac->outer = EVP_MD_CTX_new();
    mac->work = EVP_MD_CTX_new();

    /* RFC 2104: a key longer than a block is replaced by its hash */

    ngx_memzero(pad, sizeof(pad));

    if (len > sizeof(pad)) {
        rc = EVP_Digest(secret, len, pad, NULL, md, NULL) == 1;

    } else {
        ngx_memcpy(pad, secret, len);
        rc = 1;
    }

    for (i = 0; i < sizeof(pad); i++) {
        pad[i] ^= 0x36;
    }

    rc = rc && mac->inner && mac->outer && mac->work
         && EVP_DigestInit_ex(mac->inner, md, NULL) == 1
         && EVP_DigestUpdate(mac->inner, pad, sizeof(pad)) == 1;

    for (i = 0; i < sizeof(pad); i++) {
        pad[i] ^= 0x36 ^ 0x5c;
    }

    rc = rc && EVP_DigestInit_ex(mac->outer, md, NULL) == 1
         && EVP_DigestUpdate(mac->outer, pad, sizeof(pad)) == 1;

    OPENSSL_cleanse(pad, sizeof(pad));

    if (!rc) {
        ngx_http_attachments_hmac_free(mac);
        return NULL;
    }

    return mac;
}


void
ngx_http_attachments_hmac_free(ngx_http_attachments_hmac_t *mac)
{
    if (mac == NULL) {
        return;
    }

    /* the provider cleanses a digest state when it frees it */

    EVP_MD_CTX_free(mac->inner);
    EVP_MD_CTX_free(mac->outer);
    EVP_MD_CTX_free(mac->work);
    OPENSSL_free(mac);
}


/* the message fed to mac->work, which holds the inner hash; md: 32 bytes */

static ngx_int_t
ngx_http_attachments_hmac_final(ngx_http_attachments_hmac_t *mac, u_char *md)
{
    if (EVP_DigestFinal_ex(mac->work, md, NULL) != 1
        || EVP_MD_CTX_copy_ex(mac->work, mac->outer) != 1
        || EVP_DigestUpdate(mac->work, md, NGX_HTTP_ATTACHMENTS_SHA256_LEN)
           != 1
        || EVP_DigestFinal_ex(mac->work, md, NULL) != 1)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_attachments_printable(u_char *p, size_t len)
{
    u_char  *last;

    if (len == 0) {
        /* an absent value: no pointer arithmetic on NULL */
        return 1;
    }

    for (last = p + len; p < last; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            return 0;
        }
    }

    return 1;
}


ngx_int_t
ngx_http_attachments_key_id_valid(u_char *p, size_t len)
{
    u_char  *last;

    if (len == 0 || len > NGX_HTTP_ATTACHMENTS_KID_MAX) {
        return 0;
    }

    for (last = p + len; p < last; p++) {
        if (!isalnum(*p) && *p != '-' && *p != '_' && *p != '.') {
            return 0;
        }
    }

    return 1;
}


/*
 * A storage key is a relative path of plain segments: whatever decoding,
 * normalisation or filesystem it meets later, it cannot leave the root.
 * A "%" that survived decoding means double encoding, which nothing we
 * issue contains.
 */

ngx_int_t
ngx_http_attachments_key_safe(u_char *p, size_t len)
{
    u_char  *last, *seg;

    if (len == 0 || len > NGX_HTTP_ATTACHMENTS_KEY_MAX || *p == '/') {
        return 0;
    }

    last = p + len;
    seg = p;

    for ( ;; ) {

        if (p == last || *p == '/') {
            if (p == seg
                || (p - seg == 1 && seg[0] == '.')
                || (p - seg == 2 && seg[0] == '.' && seg[1] == '.'))
            {
                return 0;
            }

            if (p == last) {
                return 1;
            }

            seg = p + 1;

        } else if (*p < 0x20 || *p == 0x7f || *p == '\\' || *p == '%') {
            return 0;
        }

        p++;
    }
}


/*
 * Fields are joined by "\n", which no field may contain, so the canonical
 * string has exactly one reading.
 */

ngx_int_t
ngx_http_attachments_grant_valid(ngx_http_attachments_grant_t *g)
{
    size_t  i;

    if (g->method.len == 0 || g->path.len == 0 || g->path.data[0] != '/'
        || g->expires <= 0
        || !ngx_http_attachments_key_id_valid(g->key_id.data, g->key_id.len)
        || !ngx_http_attachments_printable(g->method.data, g->method.len)
        || !ngx_http_attachments_printable(g->path.data, g->path.len)
        || !ngx_http_attachments_printable(g->filename.data, g->filename.len))
    {
        return 0;
    }

    /* a header value: printable ASCII */

    for (i = 0; i < g->type.len; i++) {
        if (g->type.data[i] < 0x20 || g->type.data[i] >= 0x7f) {
            return 0;
        }
    }

    return 1;
}


/* decimal seconds; the runtime's ngx_sprintf is not ours to link here */

static size_t
ngx_http_attachments_time_text(u_char *buf, time_t t)
{
    u_char  *p, tmp[NGX_TIME_T_LEN];
    size_t   n;

    if (t < 0) {
        t = 0;
    }

    p = tmp + sizeof(tmp);

    do {
        *--p = (u_char) ('0' + t % 10);
        t /= 10;
    } while (t);

    n = tmp + sizeof(tmp) - p;
    ngx_memcpy(buf, p, n);

    return n;
}


ngx_int_t
ngx_http_attachments_sign(ngx_http_attachments_hmac_t *mac,
    ngx_http_attachments_grant_t *g, u_char *sig)
{
    if (!ngx_http_attachments_grant_valid(g)) {
        return NGX_DECLINED;
    }

    return ngx_http_attachments_mac(mac, g, sig);
}


/*
 * NGX_OK; NGX_DECLINED for a mismatch or an invalid grant; NGX_ERROR when
 * the digest itself failed.  The grant is checked even though this module
 * never signs an invalid one: anything holding the secret can sign, and a
 * verified grant becomes headers.
 */

ngx_int_t
ngx_http_attachments_verify(ngx_http_attachments_hmac_t *mac,
    ngx_http_attachments_grant_t *g, u_char *sig, size_t len)
{
    ngx_int_t  rc;
    u_char     expected[NGX_HTTP_ATTACHMENTS_SIG_LEN];

    if (len != NGX_HTTP_ATTACHMENTS_SIG_LEN) {
        return NGX_DECLINED;
    }

    /* NGX_ERROR: the digest failed, which says nothing of the URL */
    rc = ngx_http_attachments_sign(mac, g, expected);
    if (rc != NGX_OK) {
        return rc;
    }

    if (CRYPTO_memcmp(expected, sig, NGX_HTTP_ATTACHMENTS_SIG_LEN) != 0) {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* the base64url HMAC of a grant's canonical string */

static ngx_int_t
ngx_http_attachments_mac(ngx_http_attachments_hmac_t *mac,
    ngx_http_attachments_grant_t *g, u_char *sig)
{
    size_t       i, len;
    u_char      *p, md[NGX_HTTP_ATTACHMENTS_SHA256_LEN];
    uint32_t     v;
    ngx_int_t    rc;
    ngx_uint_t   k;
    ngx_str_t    field[6];
    u_char       expires[NGX_TIME_T_LEN];
    u_char       msg[NGX_HTTP_ATTACHMENTS_CANON_BUFFER];

    field[0] = g->method;
    field[1] = g->path;
    field[2].data = expires;
    field[2].len = ngx_http_attachments_time_text(expires, g->expires);
    field[3] = g->key_id;
    field[4] = g->filename;
    field[5] = g->type;

    /* "AH1\nmethod\npath\nexpires\nkey id\nfilename\ntype" */

    len = sizeof(NGX_HTTP_ATTACHMENTS_CANON_VERSION) - 1;

    for (k = 0; k < 6; k++) {
        len += 1 + field[k].len;
    }

    if (EVP_MD_CTX_copy_ex(mac->work, mac->inner) != 1) {
        return NGX_ERROR;
    }

    /* one update is much cheaper than a dozen; rare long ones stream */

    if (len <= sizeof(msg)) {
        p = ngx_cpymem(msg, NGX_HTTP_ATTACHMENTS_CANON_VERSION,
                       sizeof(NGX_HTTP_ATTACHMENTS_CANON_VERSION) - 1);

        for (k = 0; k < 6; k++) {
            *p++ = '\n';

            /* an absent field may have no data at all */
            if (field[k].len) {
                p = ngx_cpymem(p, field[k].data, field[k].len);
            }
        }

        rc = EVP_DigestUpdate(mac->work, msg, len);

    } else {
        rc = EVP_DigestUpdate(mac->work, NGX_HTTP_ATTACHMENTS_CANON_VERSION,
                              sizeof(NGX_HTTP_ATTACHMENTS_CANON_VERSION) - 1);

        for (k = 0; k < 6; k++) {
            rc = rc && EVP_DigestUpdate(mac->work, "\n", 1)
                 && EVP_DigestUpdate(mac->work, field[k].data, field[k].len);
        }
    }

    if (rc != 1 || ngx_http_attachments_hmac_final(mac, md) != NGX_OK) {
        return NGX_ERROR;
    }

    /* base64url without padding: 32 bytes -> 43 characters */

    for (i = 0; i + 3 <= NGX_HTTP_ATTACHMENTS_SHA256_LEN; i += 3) {
        v = (md[i] << 16) | (md[i + 1] << 8) | md[i + 2];
        *sig++ = ngx_http_attachments_b64url[(v >> 18) & 0x3f];
        *sig++ = ngx_http_attachments_b64url[(v >> 12) & 0x3f];
        *sig++ = ngx_http_attachments_b64url[(v >> 6) & 0x3f];
        *sig++ = ngx_http_attachments_b64url[v & 0x3f];
    }

    v = (md[i] << 16) | (md[i + 1] << 8);
    *sig++ = ngx_http_attachments_b64url[(v >> 18) & 0x3f];
    *sig++ = ngx_http_attachments_b64url[(v >> 12) & 0x3f];
    *sig = ngx_http_attachments_b64url[(v >> 6) & 0x3f];

    return NGX_OK;
}


/*
 * One pass over a signed URL's query string: the raw (still escaped)
 * value of each parameter the scheme knows, others ignored, and in
 * *escaped a bit (1 << index) for each value that has a "%" to decode.
 * Names are matched exactly, as they are written.  NGX_DECLINED: a
 * parameter comes twice, so which one was signed would be a guess.
 */

ngx_int_t
ngx_http_attachments_parse_query(u_char *p, size_t len, ngx_str_t *values,
    ngx_uint_t *escaped)
{
    u_char      *last, *name, *eq;
    size_t       n;
    ngx_uint_t   i;

    static ngx_str_t  names[NGX_HTTP_ATTACHMENTS_ARGS] = {
        ngx_string(NGX_HTTP_ATTACHMENTS_ARG_EXPIRES),
        ngx_string(NGX_HTTP_ATTACHMENTS_ARG_KEY_ID),
        ngx_string(NGX_HTTP_ATTACHMENTS_ARG_FILENAME),
        ngx_string(NGX_HTTP_ATTACHMENTS_ARG_TYPE),
        ngx_string(NGX_HTTP_ATTACHMENTS_ARG_SIGNATURE)
    };

    for (i = 0; i < NGX_HTTP_ATTACHMENTS_ARGS; i++) {
        values[i].len = 0;
        values[i].data = NULL;
    }

    *escaped = 0;
    last = p + len;

    while (p < last) {
        name = p;

        p = memchr(p, '&', last - p);
        if (p == NULL) {
            p = last;
        }

        /* p is at "&" or at the end */

        eq = ngx_strlchr(name, p, '=');
        n = (eq ? eq : p) - name;

        for (i = 0; i < NGX_HTTP_ATTACHMENTS_ARGS; i++) {
            if (n == names[i].len && ngx_memcmp(name, names[i].data, n) == 0)
            {
                break;
            }
        }

        if (i < NGX_HTTP_ATTACHMENTS_ARGS) {
            if (values[i].data) {
                return NGX_DECLINED;
            }

            values[i].data = eq ? eq + 1 : p;
            values[i].len = eq ? (size_t) (p - eq - 1) : 0;

            if (memchr(values[i].data, '%', values[i].len)) {
                *escaped |= 1 << i;
            }
        }

        p++;
    }

    return NGX_OK;
}


static ngx_inline ngx_int_t
ngx_http_attachments_hex(u_char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}


/*
 * Percent-decodes src into dst, which has room for len bytes; a "%" not
 * followed by two hex digits stays as it is.  Returns the decoded length.
 */

size_t
ngx_http_attachments_percent_decode(u_char *dst, u_char *src, size_t len)
{
    u_char     *d, *last;
    ngx_int_t   hi, lo;

    d = dst;

    for (last = src + len; src < last; src++) {

        if (*src == '%' && last - src > 2
            && (hi = ngx_http_attachments_hex(src[1])) >= 0
            && (lo = ngx_http_attachments_hex(src[2])) >= 0)
        {
            *d++ = (u_char) (hi << 4 | lo);
            src += 2;
            continue;
        }

        *d++ = *src;
    }

    return d - dst;
}


/* percent-encodes src into dst; with dst NULL only measures */

size_t
ngx_http_attachments_escape(u_char *dst, u_char *src, size_t len,
    ngx_uint_t mode)
{
    u_char         c, *last;
    size_t         n;
    static u_char  hex[] = "0123456789ABCDEF";

    /*
     * What each mode keeps of the bytes 0x20-0x7f, a bit a byte, as
     * nginx's own escape tables; every other byte is escaped.
     *
     *  ?>=< ;:98 7654 3210  /.-, +*)( '&%$ #"!
     *  _^]\ [ZYX WVUT SRQP  ONML KJIH GFED CBA@
     *   ~}| {zyx wvut srqp  onml kjih gfed cba`
     */

    static uint32_t  keep[][8] = {
        /* unreserved and "/" */
        { 0, 0x03ffe000, 0x87fffffe, 0x47fffffe, 0, 0, 0, 0 },
        /* unreserved (RFC 3986) */
        { 0, 0x03ff6000, 0x87fffffe, 0x47fffffe, 0, 0, 0, 0 },
        /* RFC 5987 attr-char */
        { 0, 0x03ff685a, 0xc7fffffe, 0x57ffffff, 0, 0, 0, 0 }
    };

    n = len;

    for (last = src + len; src < last; src++) {
        c = *src;

        if (keep[mode][c >> 5] & (1U << (c & 0x1f))) {
            if (dst) {
                *dst++ = c;
            }

            continue;
        }

        if (dst) {
            *dst++ = '%';
            *dst++ = hex[c >> 4];
            *dst++ = hex[c & 0xf];
        }

        n += 2;
    }

    return n;
}


/*
 * RFC 6266: an ASCII fallback in the quoted "filename" and the exact name
 * in "filename*" (RFC 5987); neither can carry a quote, CR or LF.  dst has
 * room for NGX_HTTP_ATTACHMENTS_DISPOSITION_LEN(filename->len) bytes; one
 * pass writes it, the length written is returned.
 */

size_t
ngx_http_attachments_disposition(u_char *dst, ngx_str_t *filename)
{
    u_char  *p, *s, *last, c;

    if (filename->len == 0) {
        return ngx_cpymem(dst, "attachment", sizeof("attachment") - 1) - dst;
    }

    p = ngx_cpymem(dst, NGX_HTTP_ATTACHMENTS_DISPOSITION_HEAD,
                   sizeof(NGX_HTTP_ATTACHMENTS_DISPOSITION_HEAD) - 1);

    for (s = filename->data, last = s + filename->len; s < last; s++) {
        c = *s;
        *p++ = (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') ? '_' : c;
    }

    p = ngx_cpymem(p, NGX_HTTP_ATTACHMENTS_DISPOSITION_EXT,
                   sizeof(NGX_HTTP_ATTACHMENTS_DISPOSITION_EXT) - 1);

    p += ngx_http_attachments_escape(p, filename->data, filename->len,
                                     NGX_HTTP_ATTACHMENTS_ESCAPE_5987);

    return p - dst;
}


static size_t
ngx_http_attachments_param(u_char **dst, char *name, ngx_str_t *v)
{
    size_t  n, len;

    if (v->len == 0) {
        return 0;
    }

    len = ngx_strlen(name);

    /* writing measures too: one pass */

    if (*dst == NULL) {
        return len + ngx_http_attachments_escape(NULL, v->data, v->len,
                                                 NGX_HTTP_ATTACHMENTS_ESCAPE_ARG);
    }

    *dst = ngx_cpymem(*dst, name, len);
    n = ngx_http_attachments_escape(*dst, v->data, v->len,
                                    NGX_HTTP_ATTACHMENTS_ESCAPE_ARG);
    *dst += n;

    return len + n;
}


/* the query string of a signed URL; with dst NULL only measures */

size_t
ngx_http_attachments_query(u_char *dst, ngx_http_attachments_grant_t *g,
    u_char *sig)
{
    size_t     n;
    u_char     expires[NGX_TIME_T_LEN];
    ngx_str_t  e, s;

    e.data = expires;
    e.len = ngx_http_attachments_time_text(expires, g->expires);

    s.data = sig;
    s.len = NGX_HTTP_ATTACHMENTS_SIG_LEN;

    n = ngx_http_attachments_param(&dst, NGX_HTTP_ATTACHMENTS_ARG_EXPIRES "=",
                                   &e);
    n += ngx_http_attachments_param(&dst,
                                    "&" NGX_HTTP_ATTACHMENTS_ARG_KEY_ID "=",
                                    &g->key_id);
    n += ngx_http_attachments_param(&dst,
                                    "&" NGX_HTTP_ATTACHMENTS_ARG_FILENAME "=",
                                    &g->filename);
    n += ngx_http_attachments_param(&dst,
                                    "&" NGX_HTTP_ATTACHMENTS_ARG_TYPE "=",
                                    &g->type);
    n += ngx_http_attachments_param(&dst,
                                    "&" NGX_HTTP_ATTACHMENTS_ARG_SIGNATURE "=",
                                    &s);
    return n;
}


/* no signed URL of these parts is longer: each escaped byte takes 3 */

size_t
ngx_http_attachments_url_max(ngx_str_t *prefix, ngx_str_t *key,
    ngx_http_attachments_grant_t *g)
{
    return prefix->len + 1
           + 3 * (key->len + g->key_id.len + g->filename.len + g->type.len)
           + sizeof(NGX_HTTP_ATTACHMENTS_ARG_EXPIRES "=&"
                    NGX_HTTP_ATTACHMENTS_ARG_KEY_ID "=&"
                    NGX_HTTP_ATTACHMENTS_ARG_FILENAME "=&"
                    NGX_HTTP_ATTACHMENTS_ARG_TYPE "=&"
                    NGX_HTTP_ATTACHMENTS_ARG_SIGNATURE "=")
           + NGX_TIME_T_LEN + NGX_HTTP_ATTACHMENTS_SIG_LEN;
}


/* a whole signed URL: prefix, escaped key, query; with dst NULL measures */

size_t
ngx_http_attachments_url(u_char *dst, ngx_str_t *prefix, ngx_str_t *key,
    ngx_http_attachments_grant_t *g, u_char *sig)
{
    size_t  k;

    if (dst) {
        dst = ngx_cpymem(dst, prefix->data, prefix->len);
    }

    k = ngx_http_attachments_escape(dst, key->data, key->len,
                                    NGX_HTTP_ATTACHMENTS_ESCAPE_PATH);

    if (dst) {
        dst += k;
        *dst++ = '?';
    }

    return prefix->len + k + 1 + ngx_http_attachments_query(dst, g, sig);
}


/* base64url without padding (RFC 4648, section 5) of len bytes: its length */

size_t
ngx_http_attachments_base64url(u_char *dst, u_char *src, size_t len)
{
    u_char    *d;
    uint32_t   v;

    d = dst;

    for ( /* void */ ; len >= 3; len -= 3, src += 3) {
        v = (src[0] << 16) | (src[1] << 8) | src[2];
        *d++ = ngx_http_attachments_b64url[(v >> 18) & 0x3f];
        *d++ = ngx_http_attachments_b64url[(v >> 12) & 0x3f];
        *d++ = ngx_http_attachments_b64url[(v >> 6) & 0x3f];
        *d++ = ngx_http_attachments_b64url[v & 0x3f];
    }

    if (len) {
        v = (src[0] << 16) | (len == 2 ? src[1] << 8 : 0);
        *d++ = ngx_http_attachments_b64url[(v >> 18) & 0x3f];
        *d++ = ngx_http_attachments_b64url[(v >> 12) & 0x3f];

        if (len == 2) {
            *d++ = ngx_http_attachments_b64url[(v >> 6) & 0x3f];
        }
    }

    return d - dst;
}


/* the room ngx_http_attachments_jwt() needs */

size_t
ngx_http_attachments_jwt_len(size_t header, size_t claims, EVP_PKEY *key)
{
    return (header + 2) / 3 * 4 + 1 + (claims + 2) / 3 * 4 + 1
           + (EVP_PKEY_size(key) + 2) / 3 * 4;
}


/*
 * A JSON Web Token signed with RS256 (RFC 7515, 7518): the header and the
 * claims (JSON text) base64url, then the RSASSA-PKCS1-v1_5 SHA-256
 * signature of both, base64url, joined by "."; its length, 0 when the key
 * could not sign
 */

size_t
ngx_http_attachments_jwt(u_char *dst, EVP_PKEY *key, ngx_str_t *header,
    ngx_str_t *claims)
{
    u_char      *p;
    size_t       len, siglen;
    EVP_MD_CTX  *md;
    u_char       sig[1024];

    p = dst + ngx_http_attachments_base64url(dst, header->data, header->len);
    *p++ = '.';
    p += ngx_http_attachments_base64url(p, claims->data, claims->len);

    len = p - dst;
    siglen = sizeof(sig);

    if ((size_t) EVP_PKEY_size(key) > sizeof(sig)) {
        return 0;
    }

    md = EVP_MD_CTX_new();

    if (md == NULL
        || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1
        || EVP_DigestSign(md, sig, &siglen, dst, len) != 1)
    {
        EVP_MD_CTX_free(md);
        return 0;
    }

    EVP_MD_CTX_free(md);

    *p++ = '.';
    p += ngx_http_attachments_base64url(p, sig, siglen);

    return p - dst;
}
