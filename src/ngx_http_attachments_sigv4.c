
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * SigV4 query presigning (docs.aws.amazon.com, "Authenticating Requests:
 * Using Query Parameters").  The URL is written in the order botocore
 * writes it: response-* parameters, then the X-Amz-* ones, the signature
 * last.  The canonical query string sorts them: X-Amz-* (upper case) come
 * before response-*, so both are contiguous pieces of the URL and are
 * hashed from there.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>

#include "ngx_http_attachments_sigv4.h"


#define SIGV4_ALGORITHM  "AWS4-HMAC-SHA256"


static u_char *ngx_http_attachments_sigv4_hmac(u_char *key, size_t key_len,
    u_char *data, size_t len, u_char *out);
static ngx_int_t ngx_http_attachments_sigv4_sign(
    ngx_http_attachments_sigv4_t *s, u_char *date, u_char *hash, u_char *out);
static ngx_int_t ngx_http_attachments_sigv4_path(EVP_MD_CTX *ctx,
    ngx_str_t *path);
static u_char *ngx_http_attachments_sigv4_scope(u_char *p,
    ngx_http_attachments_sigv4_t *s, u_char *date);
static u_char *ngx_http_attachments_sigv4_hex(u_char *dst, u_char *src);


/* RFC 3986 unreserved stay; so does "/" in a path; the rest is %XX */

size_t
ngx_http_attachments_aws_escape(u_char *dst, u_char *src, size_t len,
    ngx_uint_t path)
{
    u_char        c, *start;
    size_t        n;
    static u_char hex[] = "0123456789ABCDEF";

    start = dst;
    n = 0;

    while (len--) {
        c = *src++;

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
            || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'
            || c == '~' || (path && c == '/'))
        {
            if (dst) {
                *dst++ = c;
            }

            n++;
            continue;
        }

        if (dst) {
            *dst++ = '%';
            *dst++ = hex[c >> 4];
            *dst++ = hex[c & 0xf];
        }

        n += 3;
    }

    return dst ? (size_t) (dst - start) : n;
}


/* the day's signing key, kept until the day changes */

ngx_int_t
ngx_http_attachments_sigv4_key(ngx_http_attachments_sigv4_t *s, u_char *day)
{
    u_char  k[4 + 128], tmp[32];

    if (ngx_memcmp(s->day, day, 8) == 0) {
        return NGX_OK;
    }

    if (s->secret.len > 128) {
        return NGX_ERROR;
    }

    ngx_memcpy(k, "AWS4", 4);
    ngx_memcpy(k + 4, s->secret.data, s->secret.len);

    if (ngx_http_attachments_sigv4_hmac(k, 4 + s->secret.len, day, 8, tmp)
           == NULL
        || ngx_http_attachments_sigv4_hmac(tmp, 32, s->region.data,
                                           s->region.len, tmp) == NULL
        || ngx_http_attachments_sigv4_hmac(tmp, 32, s->service.data,
                                           s->service.len, tmp) == NULL
        || ngx_http_attachments_sigv4_hmac(tmp, 32, (u_char *) "aws4_request",
                                           12, s->key) == NULL)
    {
        ngx_memzero(s->day, 8);
        return NGX_ERROR;
    }

    ngx_memcpy(s->day, day, 8);
    OPENSSL_cleanse(k, sizeof(k));

    return NGX_OK;
}


static u_char *
ngx_http_attachments_sigv4_hmac(u_char *key, size_t key_len, u_char *data,
    size_t len, u_char *out)
{
    unsigned int  n;
    u_char        md[EVP_MAX_MD_SIZE];

    if (HMAC(EVP_sha256(), key, key_len, data, len, md, &n) == NULL
        || n != 32)
    {
        return NULL;
    }

    return ngx_cpymem(out, md, 32) - 32;
}


/*
 * "{escaped path}?...&X-Amz-Signature=..." for p; with dst NULL only measures.
 * Returns 0 when signing fails.
 */

size_t
ngx_http_attachments_presign(u_char *dst, ngx_http_attachments_sigv4_t *s,
    ngx_http_attachments_presign_t *p)
{
    u_char         *d, *path, *resp, *amz, *amz_end;
    size_t          len, n;
    struct tm       tm;
    unsigned int    md_len;
    EVP_MD_CTX     *ctx;
    u_char          date[sizeof("20260201T103000Z")];
    u_char          expires[NGX_TIME_T_LEN + 1];
    u_char          length[NGX_OFF_T_LEN + 1];
    size_t          length_len;
    u_char          md[EVP_MAX_MD_SIZE];
    size_t          ex_len;

    if (gmtime_r(&p->now, &tm) == NULL) {
        return 0;
    }

    (void) strftime((char *) date, sizeof(date), "%Y%m%dT%H%M%SZ", &tm);
    ex_len = snprintf((char *) expires, sizeof(expires), "%lld",
                      (long long) p->expires);

#define PUT(s, n)                                                             \
    do {                                                                      \
        if (dst) {                                                            \
            d = ngx_cpymem(d, s, n);                                          \
        }                                                                     \
        len += n;                                                             \
    } while (0)

#define ESC(s, n, m)                                                          \
    do {                                                                      \
        n = ngx_http_attachments_aws_escape(dst ? d : NULL, s, n, m);         \
        if (dst) {                                                            \
            d += n;                                                           \
        }                                                                     \
        len += n;                                                             \
    } while (0)

    d = dst;
    len = 0;

    path = d;
    n = p->path.len;
    ESC(p->path.data, n, 1);

    PUT("?", 1);
    resp = d;

    if (p->cache_control.len) {
        PUT("response-cache-control=", 23);
        n = p->cache_control.len;
        ESC(p->cache_control.data, n, 0);
        PUT("&", 1);
    }

    if (p->disposition.len) {
        PUT("response-content-disposition=", 29);
        n = p->disposition.len;
        ESC(p->disposition.data, n, 0);
        PUT("&", 1);
    }

    if (p->encoding.len) {
        PUT("response-content-encoding=", 26);
        n = p->encoding.len;
        ESC(p->encoding.data, n, 0);
        PUT("&", 1);
    }

    if (p->type.len) {
        PUT("response-content-type=", 22);
        n = p->type.len;
        ESC(p->type.data, n, 0);
        PUT("&", 1);
    }

    amz = d;

    PUT("X-Amz-Algorithm=" SIGV4_ALGORITHM "&X-Amz-Credential=",
        sizeof("X-Amz-Algorithm=" SIGV4_ALGORITHM "&X-Amz-Credential=") - 1);
    n = s->access_key.len;
    ESC(s->access_key.data, n, 0);
    PUT("%2F", 3);
    PUT(date, 8);
    PUT("%2F", 3);
    n = s->region.len;
    ESC(s->region.data, n, 0);
    PUT("%2F", 3);
    PUT(s->service.data, s->service.len);
    PUT("%2Faws4_request&X-Amz-Date=", 27);
    PUT(date, 16);
    PUT("&X-Amz-Expires=", 15);
    PUT(expires, ex_len);
    if (p->checksum.len) {
        PUT("&X-Amz-SignedHeaders=content-length%3Bhost%3Bx-amz-checksum-sha256",
            sizeof("&X-Amz-SignedHeaders=content-length%3Bhost"
                   "%3Bx-amz-checksum-sha256") - 1);

    } else {
        PUT("&X-Amz-SignedHeaders=host", 25);
    }

    amz_end = d;

    PUT("&X-Amz-Signature=", 17);

    if (dst == NULL) {
        return len + 64;
    }

    /* the canonical request, from the pieces just written */

    ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        return 0;
    }

    length_len = snprintf((char *) length, sizeof(length), "%lld",
                          (long long) p->length);

    /* the canonical headers, sorted: content-length, host, x-amz-* */

    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1
        || EVP_DigestUpdate(ctx, p->checksum.len ? "PUT\n" : "GET\n", 4) != 1
        || EVP_DigestUpdate(ctx, path, resp - 1 - path) != 1
        || EVP_DigestUpdate(ctx, "\n", 1) != 1
        || EVP_DigestUpdate(ctx, amz, amz_end - amz) != 1
        || (amz != resp
            && (EVP_DigestUpdate(ctx, "&", 1) != 1
                || EVP_DigestUpdate(ctx, resp, amz - 1 - resp) != 1))
        || (p->checksum.len
            && (EVP_DigestUpdate(ctx, "\ncontent-length:", 16) != 1
                || EVP_DigestUpdate(ctx, length, length_len) != 1))
        || EVP_DigestUpdate(ctx, "\nhost:", 6) != 1
        || EVP_DigestUpdate(ctx, p->host.data, p->host.len) != 1
        || (p->checksum.len
            && (EVP_DigestUpdate(ctx, "\nx-amz-checksum-sha256:", 23) != 1
                || EVP_DigestUpdate(ctx, p->checksum.data, p->checksum.len)
                   != 1
                || EVP_DigestUpdate(ctx, "\n\ncontent-length;host;"
                                    "x-amz-checksum-sha256", 43) != 1))
        || (p->checksum.len == 0
            && EVP_DigestUpdate(ctx, "\n\nhost", 6) != 1)
        || EVP_DigestUpdate(ctx, "\nUNSIGNED-PAYLOAD", 17) != 1
        || EVP_DigestFinal_ex(ctx, md, &md_len) != 1)
    {
        EVP_MD_CTX_free(ctx);
        return 0;
    }

    EVP_MD_CTX_free(ctx);

    if (ngx_http_attachments_sigv4_sign(s, date, md, d) != NGX_OK) {
        return 0;
    }

    return d + 64 - dst;

#undef PUT
#undef ESC
}


/*
 * The Authorization header of a request signed in its headers (host,
 * x-amz-checksum-mode for a HEAD that asks for the stored checksum,
 * x-amz-content-sha256, x-amz-date: what the module sends), with dst NULL
 * only measured.  Fills rq->date.  Returns 0 when signing fails.
 */

size_t
ngx_http_attachments_sigv4_authorization(u_char *dst,
    ngx_http_attachments_sigv4_t *s, ngx_http_attachments_sigv4_request_t *rq)
{
    u_char       *p;
    size_t        n;
    struct tm     tm;
    unsigned int  md_len;
    EVP_MD_CTX   *ctx;
    u_char        md[EVP_MAX_MD_SIZE];

#define SIGV4_HEADERS  "x-amz-content-sha256;x-amz-date"

#define SIGV4_MODE  "x-amz-checksum-mode;"

    if (dst == NULL) {
        return sizeof(SIGV4_ALGORITHM " Credential=") - 1 + s->access_key.len
               + sizeof("/YYYYMMDD/") - 1 + s->region.len + 1
               + s->service.len + sizeof("/aws4_request, SignedHeaders=host;"
                                         SIGV4_HEADERS ", Signature=") - 1
               + (rq->checksum_mode ? sizeof(SIGV4_MODE) - 1 : 0) + 64;
    }

    if (gmtime_r(&rq->now, &tm) == NULL) {
        return 0;
    }

    (void) strftime((char *) rq->date, sizeof(rq->date), "%Y%m%dT%H%M%SZ",
                    &tm);

    n = (ngx_strncmp(rq->payload, "UNSIGNED-PAYLOAD", 16) == 0) ? 16 : 64;

    ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        return 0;
    }

    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1
        || EVP_DigestUpdate(ctx, rq->method.data, rq->method.len) != 1
        || EVP_DigestUpdate(ctx, "\n", 1) != 1
        || ngx_http_attachments_sigv4_path(ctx, &rq->path) != NGX_OK
        || EVP_DigestUpdate(ctx, "\n", 1) != 1
        || (rq->query.len
            && EVP_DigestUpdate(ctx, rq->query.data, rq->query.len) != 1)
        || EVP_DigestUpdate(ctx, "\nhost:", 6) != 1
        || EVP_DigestUpdate(ctx, rq->host.data, rq->host.len) != 1
        || (rq->checksum_mode
            && EVP_DigestUpdate(ctx, "\nx-amz-checksum-mode:ENABLED", 28)
               != 1)
        || EVP_DigestUpdate(ctx, "\nx-amz-content-sha256:", 22) != 1
        || EVP_DigestUpdate(ctx, rq->payload, n) != 1
        || EVP_DigestUpdate(ctx, "\nx-amz-date:", 12) != 1
        || EVP_DigestUpdate(ctx, rq->date, 16) != 1
        || EVP_DigestUpdate(ctx, "\n\nhost;", 7) != 1
        || (rq->checksum_mode
            && EVP_DigestUpdate(ctx, SIGV4_MODE, sizeof(SIGV4_MODE) - 1) != 1)
        || EVP_DigestUpdate(ctx, SIGV4_HEADERS "\n",
                            sizeof(SIGV4_HEADERS "\n") - 1) != 1
        || EVP_DigestUpdate(ctx, rq->payload, n) != 1
        || EVP_DigestFinal_ex(ctx, md, &md_len) != 1)
    {
        EVP_MD_CTX_free(ctx);
        return 0;
    }

    EVP_MD_CTX_free(ctx);

    p = ngx_cpymem(dst, SIGV4_ALGORITHM " Credential=",
                   sizeof(SIGV4_ALGORITHM " Credential=") - 1);
    p = ngx_cpymem(p, s->access_key.data, s->access_key.len);
    *p++ = '/';
    p = ngx_http_attachments_sigv4_scope(p, s, rq->date);
    p = ngx_cpymem(p, ", SignedHeaders=host;", 21);

    if (rq->checksum_mode) {
        p = ngx_cpymem(p, SIGV4_MODE, sizeof(SIGV4_MODE) - 1);
    }

    p = ngx_cpymem(p, SIGV4_HEADERS ", Signature=",
                   sizeof(SIGV4_HEADERS ", Signature=") - 1);

    if (ngx_http_attachments_sigv4_sign(s, rq->date, md, p) != NGX_OK) {
        return 0;
    }

    return p + 64 - dst;

#undef SIGV4_HEADERS
#undef SIGV4_MODE
}


/* the escaped path, hashed in pieces: it may be long */

static ngx_int_t
ngx_http_attachments_sigv4_path(EVP_MD_CTX *ctx, ngx_str_t *path)
{
    size_t   n, len;
    u_char  *p, *last;
    u_char   buf[3 * 256];

    p = path->data;
    last = p + path->len;

    while (p < last) {
        n = ngx_min((size_t) (last - p), 256);
        len = ngx_http_attachments_aws_escape(buf, p, n, 1);

        if (EVP_DigestUpdate(ctx, buf, len) != 1) {
            return NGX_ERROR;
        }

        p += n;
    }

    return NGX_OK;
}


/* "YYYYMMDD/region/service/aws4_request" */

static u_char *
ngx_http_attachments_sigv4_scope(u_char *p, ngx_http_attachments_sigv4_t *s,
    u_char *date)
{
    p = ngx_cpymem(p, date, 8);
    *p++ = '/';
    p = ngx_cpymem(p, s->region.data, s->region.len);
    *p++ = '/';
    p = ngx_cpymem(p, s->service.data, s->service.len);

    return ngx_cpymem(p, "/aws4_request", 13);
}


/* 64 hex digits: the signature of the canonical request's hash at date */

static ngx_int_t
ngx_http_attachments_sigv4_sign(ngx_http_attachments_sigv4_t *s,
    u_char *date, u_char *hash, u_char *out)
{
    u_char  *p;
    u_char   sts[512], sig[32];

    if (17 + 17 + 9 + s->region.len + 1 + s->service.len + 14 + 64
        > sizeof(sts))
    {
        return NGX_ERROR;
    }

    if (ngx_http_attachments_sigv4_key(s, date) != NGX_OK) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(sts, SIGV4_ALGORITHM "\n", 17);
    p = ngx_cpymem(p, date, 16);
    *p++ = '\n';
    p = ngx_http_attachments_sigv4_scope(p, s, date);
    *p++ = '\n';
    p = ngx_http_attachments_sigv4_hex(p, hash);

    if (ngx_http_attachments_sigv4_hmac(s->key, 32, sts, p - sts, sig)
        == NULL)
    {
        return NGX_ERROR;
    }

    (void) ngx_http_attachments_sigv4_hex(out, sig);

    return NGX_OK;
}


/* 32 bytes as 64 lower-case hex digits (ngx_hex_dump() is not in the pure
 * build of the unit tests) */

static u_char *
ngx_http_attachments_sigv4_hex(u_char *dst, u_char *src)
{
    ngx_uint_t     i;
    static u_char  hex[] = "0123456789abcdef";

    for (i = 0; i < 32; i++) {
        *dst++ = hex[src[i] >> 4];
        *dst++ = hex[src[i] & 0xf];
    }

    return dst;
}
