
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * Unit tests of the pure signing code (TAP, run by t/000-unit-sign.t).
 * Known answers were computed independently with Python's hmac module.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <stdio.h>

#include "ngx_http_attachments_sign.h"
#include "tap.h"


static void
test_key_safe(void)
{
    size_t       i;
    static char  long_key[NGX_HTTP_ATTACHMENTS_KEY_MAX + 2];

    static const char *good[] = {
        "a", "org_acme/work_orders/123/0190f6b4-x-contract.pdf",
        "a/b/c", "...", "a/.hidden", "a/b..c", "r\xc3\xa9sum\xc3\xa9.pdf",
    };

    static const char *bad[] = {
        "", "/a", "a/", "a//b", "..", ".", "a/..", "../a", "a/../b", "a/./b",
        "a\\b", "..\\x", "a%2e%2e", "a%00", "a\x01", "a\x7f", "a\nb",
    };

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        ok(ngx_http_attachments_key_safe((u_char *) good[i],
                                         strlen(good[i])),
           "key accepted");
    }

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ok(!ngx_http_attachments_key_safe((u_char *) bad[i], strlen(bad[i])),
           "unsafe key refused");
    }

    ok(!ngx_http_attachments_key_safe((u_char *) "a\0b", 3),
       "NUL in key refused");

    memset(long_key, 'a', sizeof(long_key) - 1);
    ok(!ngx_http_attachments_key_safe((u_char *) long_key,
                                      sizeof(long_key) - 1),
       "over-long key refused");
    ok(ngx_http_attachments_key_safe((u_char *) long_key,
                                     NGX_HTTP_ATTACHMENTS_KEY_MAX),
       "key of the maximum length accepted");
}


static void
test_key_id(void)
{
    ok(ngx_http_attachments_key_id_valid((u_char *) "k-2024.1_a", 10),
       "key id accepted");
    ok(!ngx_http_attachments_key_id_valid((u_char *) "", 0),
       "empty key id refused");
    ok(!ngx_http_attachments_key_id_valid((u_char *) "a b", 3),
       "key id with space refused");
    ok(!ngx_http_attachments_key_id_valid((u_char *) "a&b", 3),
       "key id with & refused");
    ok(!ngx_http_attachments_key_id_valid(
           (u_char *) "123456789012345678901234567890123", 33),
       "key id over 32 characters refused");
}


static void
test_escape(void)
{
    size_t   n;
    u_char   buf[256];
    u_char  *src = (u_char *) "a b/c?d&e=f%g+h~.-_\xc3\xa9\"";

    n = ngx_http_attachments_escape(buf, src, strlen((char *) src),
                                    NGX_HTTP_ATTACHMENTS_ESCAPE_PATH);
    is_str(buf, n, "a%20b/c%3Fd%26e%3Df%25g%2Bh~.-_%C3%A9%22",
           "path escaping keeps / and unreserved");
    ok(n == ngx_http_attachments_escape(NULL, src, strlen((char *) src),
                                        NGX_HTTP_ATTACHMENTS_ESCAPE_PATH),
       "measuring matches writing");

    n = ngx_http_attachments_escape(buf, src, strlen((char *) src),
                                    NGX_HTTP_ATTACHMENTS_ESCAPE_ARG);
    is_str(buf, n, "a%20b%2Fc%3Fd%26e%3Df%25g%2Bh~.-_%C3%A9%22",
           "argument escaping escapes /");

    n = ngx_http_attachments_escape(buf, src, strlen((char *) src),
                                    NGX_HTTP_ATTACHMENTS_ESCAPE_5987);
    is_str(buf, n, "a%20b%2Fc%3Fd&e%3Df%25g+h~.-_%C3%A9%22",
           "RFC 5987 attr-char escaping");

    {
        u_char  in[] = "a%20b%2fc%2Fd%zz%4%%41%e9%";

        n = ngx_http_attachments_percent_decode(buf, in, sizeof(in) - 1);
        is_str(buf, n, "a b/c/d%zz%4%A\xe9%",
               "percent-decoding: hex either case, malformed escapes kept");

        n = ngx_http_attachments_percent_decode(buf, (u_char *) "%00%0", 5);
        ok(n == 3 && buf[0] == '\0' && buf[1] == '%' && buf[2] == '0',
           "percent-decoding: %00 is a NUL, a cut escape stays");
    }

    {
        u_char      all[256], esc[768], back[256];
        size_t      e;
        ngx_uint_t  i;

        for (i = 0; i < 256; i++) {
            all[i] = (u_char) i;
        }

        e = ngx_http_attachments_escape(esc, all, 256,
                                        NGX_HTTP_ATTACHMENTS_ESCAPE_ARG);
        n = ngx_http_attachments_percent_decode(back, esc, e);
        ok(n == 256 && memcmp(back, all, 256) == 0,
           "percent-decoding undoes escaping, all 256 bytes");
    }

    /* every byte in every mode, against the RFCs' sets spelled out */
    {
        u_char       c;
        ngx_uint_t   i, m, wrong;
        const char  *alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                             "abcdefghijklmnopqrstuvwxyz0123456789";
        char         kept[3][128];
        const char  *name[] = {
            "path mode: each of the 256 bytes kept or escaped as it should",
            "argument mode: each of the 256 bytes kept or escaped as it should",
            "RFC 5987 mode: each of the 256 bytes kept or escaped as it should"
        };

        snprintf(kept[0], 128, "%s-._~/", alnum);
        snprintf(kept[1], 128, "%s-._~", alnum);
        snprintf(kept[2], 128, "%s!#$&+-.^_`|~", alnum);

        for (m = 0; m < 3; m++) {
            wrong = 0;

            for (i = 0; i < 256; i++) {
                c = (u_char) i;
                n = ngx_http_attachments_escape(buf, &c, 1, m);

                if (c && strchr(kept[m], c)) {
                    wrong += (n != 1 || buf[0] != c);

                } else {
                    wrong += (n != 3 || buf[0] != '%'
                              || buf[1] != "0123456789ABCDEF"[c >> 4]
                              || buf[2] != "0123456789ABCDEF"[c & 0xf]);
                }
            }

            ok(wrong == 0, name[m]);
        }
    }
}


static void
test_disposition(void)
{
    size_t     n;
    u_char     buf[512];
    ngx_str_t  fn = S("r\xc3\xa9sum\xc3\xa9 \"q\"\\.pdf");
    ngx_str_t  crlf = S("a\r\nSet-Cookie: x=1");
    ngx_str_t  empty = S("");

    n = ngx_http_attachments_disposition(buf, &fn);
    is_str(buf, n, "attachment; filename=\"r__sum__ _q__.pdf\"; "
           "filename*=UTF-8''r%C3%A9sum%C3%A9%20%22q%22%5C.pdf",
           "disposition: ASCII fallback and RFC 5987 name");
    ok(n <= NGX_HTTP_ATTACHMENTS_DISPOSITION_LEN(fn.len),
       "disposition within its bound");

    {
        /* the worst case: every byte escaped, every byte written */
        u_char     worst[64];
        ngx_str_t  w;

        ngx_memset(worst, '"', sizeof(worst));
        w.data = worst;
        w.len = sizeof(worst);

        ok(ngx_http_attachments_disposition(buf, &w)
           == NGX_HTTP_ATTACHMENTS_DISPOSITION_LEN(w.len),
           "the bound is exact for a name of escaped bytes");
    }

    n = ngx_http_attachments_disposition(buf, &crlf);
    ok(memchr(buf, '\r', n) == NULL && memchr(buf, '\n', n) == NULL,
       "disposition cannot carry CR or LF");

    n = ngx_http_attachments_disposition(buf, &empty);
    is_str(buf, n, "attachment", "disposition without a filename");
}


static void
grant(ngx_http_attachments_grant_t *g)
{
    ngx_memzero(g, sizeof(*g));
    ngx_str_set(&g->method, "GET");
    ngx_str_set(&g->path, "/files/org_acme/a b.pdf");
    g->expires = 1700000000;
    ngx_str_set(&g->key_id, "k1");
    ngx_str_set(&g->filename, "r\xc3\xa9sum\xc3\xa9.pdf");
    ngx_str_set(&g->type, "application/pdf");
}


static void
test_sign(void)
{
    size_t                         n;
    u_char                         sig[NGX_HTTP_ATTACHMENTS_SIG_LEN];
    u_char                         bad[NGX_HTTP_ATTACHMENTS_SIG_LEN];
    u_char                         buf[512];
    ngx_http_attachments_hmac_t   *mac, *other;
    ngx_http_attachments_grant_t   g, t;

    mac = ngx_http_attachments_hmac_new(
              (u_char *) "0123456789abcdef0123456789abcdef", 32);
    other = ngx_http_attachments_hmac_new(
              (u_char *) "0123456789abcdef0123456789abcdeF", 32);
    ok(mac != NULL && other != NULL, "HMAC contexts created");

    grant(&g);
    ok(ngx_http_attachments_sign(mac, &g, sig) == NGX_OK, "grant signed");
    is_str(sig, sizeof(sig), "eFin1Ya0azkjByMIwaUArjKrXBrmbABpEvAA5u6I2aU",
           "signature matches the independent known answer");

    ok(ngx_http_attachments_sign(mac, &g, bad) == NGX_OK
       && memcmp(sig, bad, sizeof(sig)) == 0,
       "signing twice with one context gives the same signature");

    {
        static u_char  path[1104];

        ngx_memcpy(path, "/dl/", 4);
        ngx_memset(path + 4, 'a', 1100);

        ngx_memzero(&t, sizeof(t));
        ngx_str_set(&t.method, "GET");
        t.path.data = path;
        t.path.len = sizeof(path);
        t.expires = 1700000000;
        ngx_str_set(&t.key_id, "k1");
        ngx_str_set(&t.filename, "long.bin");

        ok(ngx_http_attachments_sign(mac, &t, bad) == NGX_OK,
           "a grant longer than the one-update buffer");
        is_str(bad, sizeof(bad), "_JhJHU8r3OIwFoPeCnKCohri8xrnUGcaE5SLckLzEYg",
               "streamed canonical string, same known-answer scheme");
    }

    ngx_memzero(&t, sizeof(t));
    ngx_str_set(&t.method, "GET");
    ngx_str_set(&t.path, "/dl/x");
    t.expires = 1;
    ngx_str_set(&t.key_id, "old");
    ok(ngx_http_attachments_sign(mac, &t, bad) == NGX_OK, "minimal grant");
    is_str(bad, sizeof(bad), "18V3x9PkM1Y1u0o9D5AK0ymZujEqQTNa76J5KynkAKQ",
           "minimal grant matches the known answer");

    {
        /* RFC 2104: a block-long secret is used as is, a longer one hashed */
        static u_char                 block[64], longer[100];
        ngx_uint_t                    i;
        ngx_http_attachments_hmac_t  *m;

        ngx_memset(block, 'k', sizeof(block));

        for (i = 0; i < sizeof(longer); i++) {
            longer[i] = '0' + i % 10;
        }

        for (i = 0; i < 2; i++) {
            m = i ? ngx_http_attachments_hmac_new(longer, sizeof(longer))
                  : ngx_http_attachments_hmac_new(block, sizeof(block));

            ok(m && ngx_http_attachments_sign(m, &t, bad) == NGX_OK,
               i ? "100-byte secret" : "64-byte secret");
            is_str(bad, sizeof(bad),
                   i ? "nc4lp4yIxcE7UuN2UXId4D_xV-Pcbu6ncZVjBNW8XGo"
                     : "YPkCxp7sUr-J8c-AuSUtchB_mgcXDScgCMlaUOs9ClA",
                   i ? "100-byte secret is hashed first, as RFC 2104 says"
                     : "64-byte secret matches the known answer");

            ngx_http_attachments_hmac_free(m);
        }
    }

    ok(ngx_http_attachments_verify(mac, &g, sig, sizeof(sig)) == NGX_OK,
       "signature verifies");
    ok(ngx_http_attachments_verify(other, &g, sig, sizeof(sig))
       == NGX_DECLINED, "another secret refuses");
    ok(ngx_http_attachments_verify(mac, &g, sig, sizeof(sig) - 1)
       == NGX_DECLINED, "truncated signature refused");

    memcpy(bad, sig, sizeof(sig));
    bad[10] ^= 1;
    ok(ngx_http_attachments_verify(mac, &g, bad, sizeof(bad))
       == NGX_DECLINED, "flipped signature bit refused");

#define TAMPER(field, value, name)                                            \
    t = g;                                                                    \
    ngx_str_set(&t.field, value);                                             \
    ok(ngx_http_attachments_verify(mac, &t, sig, sizeof(sig))                 \
       == NGX_DECLINED, name)

    TAMPER(method, "PUT", "tampered method refused");
    TAMPER(path, "/files/org_acme/a b.pdg", "tampered path refused");
    TAMPER(key_id, "k2", "tampered key id refused");
    TAMPER(filename, "resume.pdf", "tampered filename refused");
    TAMPER(filename, "", "dropped filename refused");
    TAMPER(type, "text/html", "tampered type refused");
    TAMPER(type, "", "dropped type refused");

    /* moving bytes between fields must not keep the signature */
    TAMPER(filename, "r\xc3\xa9sum\xc3\xa9.pdf\napplication/pdf",
           "field boundary shift refused");

#undef TAMPER

    t = g;
    t.expires++;
    ok(ngx_http_attachments_verify(mac, &t, sig, sizeof(sig))
       == NGX_DECLINED, "tampered expiry refused");

    t = g;
    ngx_str_set(&t.filename, "a\nb");
    ok(ngx_http_attachments_sign(mac, &t, bad) == NGX_DECLINED,
       "newline in a field cannot be signed");

    t = g;
    ngx_str_set(&t.type, "text/\xc3\xa9");
    ok(ngx_http_attachments_sign(mac, &t, bad) == NGX_DECLINED,
       "non-ASCII content type cannot be signed");

    t = g;
    t.expires = -1;
    ok(ngx_http_attachments_sign(mac, &t, bad) == NGX_DECLINED,
       "invalid expiry cannot be signed");

    n = ngx_http_attachments_query(buf, &g, sig);
    is_str(buf, n, "X-Expires=1700000000&X-Key-Id=k1"
           "&X-Filename=r%C3%A9sum%C3%A9.pdf&X-Type=application%2Fpdf"
           "&X-Signature=eFin1Ya0azkjByMIwaUArjKrXBrmbABpEvAA5u6I2aU",
           "query string");
    ok(n == ngx_http_attachments_query(NULL, &g, sig),
       "query measuring matches writing");

    {
        ngx_str_t  prefix = S("/files/"), key = S("org_acme/a b.pdf");

        n = ngx_http_attachments_url(buf, &prefix, &key, &g, sig);
        is_str(buf, n, "/files/org_acme/a%20b.pdf?X-Expires=1700000000"
               "&X-Key-Id=k1&X-Filename=r%C3%A9sum%C3%A9.pdf"
               "&X-Type=application%2Fpdf"
               "&X-Signature=eFin1Ya0azkjByMIwaUArjKrXBrmbABpEvAA5u6I2aU",
               "whole URL: prefix, escaped key, query");
        ok(n == ngx_http_attachments_url(NULL, &prefix, &key, &g, sig),
           "URL measuring matches writing");
    }

    ngx_http_attachments_hmac_free(mac);
    ngx_http_attachments_hmac_free(other);
}


static void
test_parse_query(void)
{
    ngx_str_t   v[NGX_HTTP_ATTACHMENTS_ARGS];
    ngx_uint_t  e;
    u_char      q1[] = "X-Expires=17&X-Key-Id=k1&X-Filename=a%20b&X-Type="
                       "&other=1&X-Signature=sig";

    ok(ngx_http_attachments_parse_query(q1, sizeof(q1) - 1, v, &e) == NGX_OK,
       "query parsed");
    is_str(v[NGX_HTTP_ATTACHMENTS_ARG_I_EXPIRES].data,
           v[NGX_HTTP_ATTACHMENTS_ARG_I_EXPIRES].len, "17", "X-Expires");
    is_str(v[NGX_HTTP_ATTACHMENTS_ARG_I_FILENAME].data,
           v[NGX_HTTP_ATTACHMENTS_ARG_I_FILENAME].len, "a%20b",
           "X-Filename raw, decoded later");
    ok(e == 1 << NGX_HTTP_ATTACHMENTS_ARG_I_FILENAME,
       "only X-Filename is marked as escaped");
    ok(v[NGX_HTTP_ATTACHMENTS_ARG_I_TYPE].data != NULL
       && v[NGX_HTTP_ATTACHMENTS_ARG_I_TYPE].len == 0, "X-Type empty");
    is_str(v[NGX_HTTP_ATTACHMENTS_ARG_I_SIGNATURE].data,
           v[NGX_HTTP_ATTACHMENTS_ARG_I_SIGNATURE].len, "sig",
           "last parameter");

    {
        u_char  q[] = "X-Filename=a&X-Filename=b";

        ok(ngx_http_attachments_parse_query(q, sizeof(q) - 1, v, &e)
           == NGX_DECLINED, "a repeated parameter is refused");
    }

    {
        u_char  q[] = "x-expires=1&X-Expires2=2&X-Key-Id";

        ok(ngx_http_attachments_parse_query(q, sizeof(q) - 1, v, &e) == NGX_OK
           && v[NGX_HTTP_ATTACHMENTS_ARG_I_EXPIRES].data == NULL
           && v[NGX_HTTP_ATTACHMENTS_ARG_I_KEY_ID].data != NULL
           && v[NGX_HTTP_ATTACHMENTS_ARG_I_KEY_ID].len == 0,
           "names match exactly; a name without = is empty");
    }

    {
        u_char  q[] = "X-Type=a%2Fb&X-%4Bey-Id=x%&X-Key-Id=k%31=%&"
                      "X-Signature=s";

        ok(ngx_http_attachments_parse_query(q, sizeof(q) - 1, v, &e) == NGX_OK
           && e == ((1 << NGX_HTTP_ATTACHMENTS_ARG_I_TYPE)
                    | (1 << NGX_HTTP_ATTACHMENTS_ARG_I_KEY_ID)),
           "escaped values marked; an escaped name matches nothing");
        is_str(v[NGX_HTTP_ATTACHMENTS_ARG_I_KEY_ID].data,
               v[NGX_HTTP_ATTACHMENTS_ARG_I_KEY_ID].len, "k%31=%",
               "a value runs from the first = to the next &");
    }

    ok(ngx_http_attachments_parse_query(NULL, 0, v, &e) == NGX_OK
       && v[0].data == NULL && e == 0, "no query");
}


/* base64url back to bytes (the test's own decoder): length, or -1 */

static ssize_t
unbase64url(u_char *dst, u_char *src, size_t len)
{
    size_t       i, n;
    uint32_t     v;
    const char  *a, *c;

    a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    n = 0;
    v = 0;

    for (i = 0; i < len; i++) {
        c = strchr(a, src[i]);
        if (c == NULL || src[i] == '\0') {
            return -1;
        }

        v = (v << 6) | (c - a);

        if (i % 4 == 3) {
            dst[n++] = v >> 16;
            dst[n++] = v >> 8;
            dst[n++] = v;
            v = 0;
        }
    }

    if (len % 4 == 2) {
        dst[n++] = v >> 4;

    } else if (len % 4 == 3) {
        dst[n++] = v >> 10;
        dst[n++] = v >> 2;
    }

    return n;
}


static void
test_jwt(void)
{
    u_char      *jwt, *dot1, *dot2, out[512], sig[512];
    size_t       n, room;
    ssize_t      m, s;
    EVP_PKEY    *key;
    EVP_MD_CTX  *md;
    ngx_str_t    header = ngx_string("{\"alg\":\"RS256\",\"typ\":\"JWT\"}");
    ngx_str_t    claims = ngx_string("{\"iss\":\"a@b\",\"exp\":1}");

    ok(ngx_http_attachments_base64url(out, (u_char *) "f", 1) == 2
       && ngx_strncmp(out, "Zg", 2) == 0
       && ngx_http_attachments_base64url(out, (u_char *) "fo", 2) == 3
       && ngx_strncmp(out, "Zm8", 3) == 0
       && ngx_http_attachments_base64url(out, (u_char *) "foo", 3) == 4
       && ngx_strncmp(out, "Zm9v", 4) == 0
       && ngx_http_attachments_base64url(out, (u_char *) "\xfb\xff", 2) == 3
       && ngx_strncmp(out, "-_8", 3) == 0,
       "base64url: RFC 4648 vectors, no padding, - and _");

    key = EVP_RSA_gen(2048);
    ok(key != NULL, "an RSA key");

    room = ngx_http_attachments_jwt_len(header.len, claims.len, key);
    jwt = malloc(room);
    n = ngx_http_attachments_jwt(jwt, key, &header, &claims);
    ok(n > 0 && n <= room, "a JWT within the room said");

    dot1 = memchr(jwt, '.', n);
    dot2 = dot1 ? memchr(dot1 + 1, '.', jwt + n - dot1 - 1) : NULL;
    ok(dot1 && dot2, "three parts");

    m = unbase64url(out, jwt, dot1 - jwt);
    ok(m == (ssize_t) header.len && memcmp(out, header.data, m) == 0,
       "the header, as given");

    m = unbase64url(out, dot1 + 1, dot2 - dot1 - 1);
    ok(m == (ssize_t) claims.len && memcmp(out, claims.data, m) == 0,
       "the claims, as given");

    s = unbase64url(sig, dot2 + 1, jwt + n - dot2 - 1);
    md = EVP_MD_CTX_new();
    ok(s == 256
       && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1
       && EVP_DigestVerify(md, sig, s, jwt, dot2 - jwt) == 1,
       "RS256: the signature verifies with the public key");

    jwt[dot1 - jwt + 2] ^= 1;
    EVP_MD_CTX_reset(md);
    ok(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1
       && EVP_DigestVerify(md, sig, s, jwt, dot2 - jwt) != 1,
       "and not once the claims changed");

    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    free(jwt);
}


int
main(void)
{
    test_jwt();
    test_key_safe();
    test_key_id();
    test_escape();
    test_disposition();
    test_sign();
    test_parse_query();

    return done_testing();
}
