
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * Unit tests of the streaming multipart parser (TAP, run by
 * t/002-unit-multipart.t): every body is fed whole, byte by byte and in
 * random chunks, and must give the same transcript each time.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <stdlib.h>

#include "ngx_http_attachments_multipart.h"
#include "tap.h"


typedef struct {
    u_char      out[65536];
    size_t      len;
    ngx_uint_t  refuse_body;    /* a callback says no after this many bytes */
    size_t      body;
} transcript_t;


static void
put(transcript_t *t, const void *p, size_t n)
{
    if (t->len + n <= sizeof(t->out)) {
        memcpy(t->out + t->len, p, n);
        t->len += n;
    }
}


static ngx_int_t
on_begin(void *data, ngx_http_attachments_mp_part_t *part)
{
    transcript_t  *t = data;

    put(t, "[", 1);
    put(t, part->name.data, part->name.len);

    if (part->has_filename) {
        put(t, " file=", 6);
        put(t, part->filename.data, part->filename.len);
    }

    if (part->content_type.data) {
        put(t, " type=", 6);
        put(t, part->content_type.data, part->content_type.len);
    }

    put(t, "]", 1);

    return NGX_OK;
}


static ngx_int_t
on_body(void *data, u_char *p, size_t len)
{
    transcript_t  *t = data;

    t->body += len;

    if (t->refuse_body && t->body > t->refuse_body) {
        return NGX_DECLINED;
    }

    put(t, p, len);

    return NGX_OK;
}


static ngx_int_t
on_end(void *data)
{
    put(data, "|", 1);
    return NGX_OK;
}


/* feeds body in chunks of chunk bytes (0: random 1..64); returns the rc */

static ngx_int_t
run(const char *boundary, const u_char *body, size_t len, size_t chunk,
    transcript_t *t, const char **error)
{
    size_t                              off, n;
    ngx_int_t                           rc;
    ngx_str_t                           b;
    ngx_http_attachments_mp_handler_t   h;
    static ngx_http_attachments_mp_t    mp;
    static u_char                       copy[65536];

    memset(t->out, 0, sizeof(t->out));
    t->len = 0;
    t->body = 0;

    h.begin = on_begin;
    h.body = on_body;
    h.end = on_end;
    h.data = t;

    b.data = (u_char *) boundary;
    b.len = strlen(boundary);

    if (ngx_http_attachments_mp_init(&mp, &b, &h) != NGX_OK) {
        *error = "init";
        return NGX_ERROR;
    }

    /* a private copy: the parser must not rely on bytes past a chunk */
    memcpy(copy, body, len);

    rc = NGX_OK;

    for (off = 0; off < len && rc == NGX_OK; off += n) {
        n = chunk ? chunk : (size_t) (rand() % 64) + 1;
        if (n > len - off) {
            n = len - off;
        }

        rc = ngx_http_attachments_mp_feed(&mp, copy + off, n);
    }

    if (rc == NGX_OK || rc == NGX_DONE) {
        rc = ngx_http_attachments_mp_finish(&mp);
    }

    *error = mp.error ? mp.error : "";

    return rc;
}


/* whole, byte by byte and 20 random chunkings all agree */

static void
check(const char *name, const char *boundary, const char *body,
    ngx_int_t want_rc, const char *want)
{
    int           i, same;
    char          label[256];
    size_t        len, first_len;
    ngx_int_t     rc, first_rc;
    const char   *error;
    transcript_t  t;
    static u_char first[65536];

    len = strlen(body);

    first_rc = run(boundary, (u_char *) body, len, len, &t, &error);
    memcpy(first, t.out, t.len);
    first_len = t.len;

    snprintf(label, sizeof(label), "%s: whole", name);

    if (want_rc == NGX_OK) {
        ok(first_rc == NGX_OK, label);
        is_str(first, first_len, want, "  transcript");

    } else {
        ok(first_rc == NGX_ERROR && strcmp(error, want) == 0, label);
        if (first_rc != NGX_ERROR || strcmp(error, want) != 0) {
            printf("#   rc %d, error '%s'\n", (int) first_rc, error);
        }
    }

    same = 1;

    for (i = -1; i < 20; i++) {
        rc = run(boundary, (u_char *) body, len, i < 0 ? 1 : 0, &t, &error);

        if (rc != first_rc
            || (rc == NGX_OK
                && (t.len != first_len || memcmp(t.out, first, t.len) != 0)))
        {
            same = 0;
        }
    }

    snprintf(label, sizeof(label), "%s: byte by byte and in random chunks",
             name);
    ok(same, label);
}


static void
test_parse(void)
{
    static char  big[20000];
    static char  bigwant[20000];
    size_t       n;

    check("one field", "XyZ",
          "--XyZ\r\nContent-Disposition: form-data; name=\"category\"\r\n\r\n"
          "document\r\n--XyZ--\r\n",
          NGX_OK, "[category]document|");

    check("files and fields, preamble and epilogue", "b",
          "preamble\r\n--b\r\n"
          "Content-Disposition: form-data; name=\"file\"; "
          "filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\n"
          "line1\r\nline2\r\n--b\r\n"
          "content-disposition: FORM-DATA; name=file; filename=\"\"\r\n\r\n"
          "\r\n--b\r\n"
          "Content-Disposition: form-data; name=\"tags\"\r\n\r\n"
          "[\"x\"]\r\n--b--\r\nepilogue --b\r\n",
          NGX_OK,
          "[file file=a.txt type=text/plain]line1\r\nline2|"
          "[file file=]|[tags][\"x\"]|");

    check("data that looks like the boundary", "abc",
          "--abc\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\n"
          "\r\n--ab\r\n--a\r\r\n-\r\n\r\n-\r\n--abc\r\n"
          "Content-Disposition: form-data; name=\"g\"\r\n\r\n"
          "--abc\r\r\n--ab\r\n--abc--",
          NGX_OK,
          "[f]\r\n--ab\r\n--a\r\r\n-\r\n\r\n-|[g]--abc\r\r\n--ab|");

    check("empty data and transport padding", "q",
          "--q  \r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"
          "\r\n--q\t\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\n"
          "\r\n--q--",
          NGX_OK, "[a]|[b]|");

    check("escapes and filename*", "q",
          "--q\r\nContent-Disposition: form-data; name=\"f\"; "
          "filename=\"a\\\"b.pdf\"; filename*=UTF-8''%E2%82%AC%20x.pdf\r\n\r\n"
          "x\r\n--q\r\nContent-Disposition: form-data; name=\"g\"; "
          "filename*=iso-8859-1''%E9.pdf; filename=\"plain.pdf\"\r\n\r\n"
          "y\r\n--q--",
          NGX_OK, "[f file=\xe2\x82\xac x.pdf]x|[g file=plain.pdf]y|");

    check("a body that opens with CRLF", "q",
          "\r\n--q\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"
          "1\r\n--q--",
          NGX_OK, "[a]1|");

    /* a large part: data runs between CRs, split anywhere */

    n = snprintf(big, sizeof(big),
                 "--0123456789012345678901234567890123456789\r\n"
                 "Content-Disposition: form-data; name=\"file\"; "
                 "filename=\"big.bin\"\r\n\r\n");
    memset(big + n, 'x', 15000);
    big[n + 100] = '\r';
    big[n + 7000] = '\r';
    big[n + 7001] = '\n';
    strcpy(big + n + 15000,
           "\r\n--0123456789012345678901234567890123456789--\r\n");

    n = snprintf(bigwant, sizeof(bigwant), "[file file=big.bin]");
    memset(bigwant + n, 'x', 15000);
    bigwant[n + 100] = '\r';
    bigwant[n + 7000] = '\r';
    bigwant[n + 7001] = '\n';
    strcpy(bigwant + n + 15000, "|");

    check("15000 bytes with stray CRs", "0123456789012345678901234567890123456789",
          big, NGX_OK, bigwant);

    check("no boundary at all", "q", "just some text\r\n",
          NGX_ERROR, "no boundary in the body");
    check("an empty body", "q", "", NGX_ERROR, "no boundary in the body");
    check("no final boundary", "q",
          "--q\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1234",
          NGX_ERROR, "the body ends before the final boundary");
    check("cut in the headers", "q",
          "--q\r\nContent-Disposition: form-da",
          NGX_ERROR, "the body ends before the final boundary");
    check("a part without Content-Disposition", "q",
          "--q\r\nContent-Type: text/plain\r\n\r\nx\r\n--q--",
          NGX_ERROR, "a part without Content-Disposition");
    check("a part without headers", "q", "--q\r\n\r\nx\r\n--q--",
          NGX_ERROR, "a part without Content-Disposition");
    check("not form-data", "q",
          "--q\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--q--",
          NGX_ERROR, "a part's Content-Disposition is not form-data");
    check("no name", "q",
          "--q\r\nContent-Disposition: form-data; filename=\"a\"\r\n\r\nx\r\n"
          "--q--",
          NGX_ERROR, "a part without a name");
    check("two names", "q",
          "--q\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\nx\r\n"
          "--q--",
          NGX_ERROR, "a part with two names");
    check("two Content-Disposition headers", "q",
          "--q\r\nContent-Disposition: form-data; name=a\r\n"
          "Content-Disposition: form-data; name=b\r\n\r\nx\r\n--q--",
          NGX_ERROR, "a part has two Content-Disposition headers");
    check("an unterminated quote", "q",
          "--q\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--q--",
          NGX_ERROR, "a malformed Content-Disposition parameter");
    check("a folded header", "q",
          "--q\r\nContent-Disposition: form-data;\r\n name=a\r\n\r\nx\r\n--q--",
          NGX_ERROR, "folded part headers are not accepted");
    check("a bare LF ends nothing", "q",
          "--q\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--q--",
          NGX_ERROR, "a boundary is followed by something else");
    check("a boundary that is a prefix of a line (RFC 2046 forbids it)",
          "q",
          "--q\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--qx\r\n"
          "--q--",
          NGX_ERROR, "a boundary is followed by something else");
}


static void
test_limits(void)
{
    static char   body[20000];
    size_t        n;
    ngx_int_t     rc;
    const char   *error;
    transcript_t  t;

    n = snprintf(body, sizeof(body),
                 "--q\r\nContent-Disposition: form-data; name=a\r\nX-Pad: ");
    memset(body + n, 'p', 9000);
    strcpy(body + n + 9000, "\r\n\r\nx\r\n--q--");

    rc = run("q", (u_char *) body, strlen(body), 0, &t, &error);
    ok(rc == NGX_ERROR
       && strcmp(error, "the headers of a part are too long") == 0,
       "part headers over 8k");

    t.refuse_body = 3;
    rc = run("q", (u_char *) "--q\r\nContent-Disposition: form-data; name=a"
             "\r\n\r\n0123456789\r\n--q--", 58, 1, &t, &error);
    ok(rc == NGX_ERROR, "a callback's refusal stops the parser");
    t.refuse_body = 0;
}


static void
test_boundary(void)
{
    size_t      i;
    ngx_str_t   b;
    u_char      buf[NGX_HTTP_ATTACHMENTS_MP_BOUNDARY_MAX];

    static struct {
        const char  *ct;
        ngx_int_t    rc;
        const char  *boundary;
    } cases[] = {
        { "multipart/form-data; boundary=abc", NGX_OK, "abc" },
        { "Multipart/Form-Data ; charset=utf-8; boundary=\"a b:c\"",
          NGX_OK, "a b:c" },
        { "multipart/form-data;boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW",
          NGX_OK, "----WebKitFormBoundary7MA4YWxkTrZu0gW" },
        { "multipart/form-data", NGX_ERROR, NULL },
        { "multipart/form-data; boundary=", NGX_ERROR, NULL },
        { "multipart/form-data; boundary=\"\"", NGX_ERROR, NULL },
        { "multipart/form-data; boundary=\"a\rb\"", NGX_ERROR, NULL },
        { "multipart/form-data; boundary=0123456789012345678901234567890123456"
          "7890123456789012345678901234567890", NGX_ERROR, NULL },
        { "multipart/mixed; boundary=abc", NGX_DECLINED, NULL },
        { "application/json", NGX_DECLINED, NULL },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ngx_int_t  rc;

        rc = ngx_http_attachments_mp_boundary((u_char *) cases[i].ct,
                                              strlen(cases[i].ct), buf, &b);
        ok(rc == cases[i].rc
           && (rc != NGX_OK
               || (b.len == strlen(cases[i].boundary)
                   && memcmp(b.data, cases[i].boundary, b.len) == 0)),
           cases[i].ct);
    }
}


int
main(void)
{
    srand(7);

    test_parse();
    test_limits();
    test_boundary();

    return done_testing();
}
