
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * Unit tests of the JSON text the response writer makes (TAP, run by
 * t/007-unit-json.t): strings escaped and jsonb text made compact exactly
 * as jansson, which wrote the answers before, prints them.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <jansson.h>

#include "ngx_http_attachments_json_text.h"
#include "tap.h"


#define JANSSON_FLAGS  (JSON_COMPACT | JSON_PRESERVE_ORDER)


/* the escaped string as jansson writes it, quotes off; len 0 on failure */

static size_t
jansson_string(u_char *src, size_t len, u_char *out, size_t size)
{
    char    *text;
    json_t  *s;
    size_t   n;

    s = json_stringn((char *) src, len);
    text = s ? json_dumps(s, JSON_ENCODE_ANY | JANSSON_FLAGS) : NULL;
    json_decref(s);

    if (text == NULL) {
        return 0;
    }

    n = strlen(text) - 2;

    if (n <= size) {
        memcpy(out, text + 1, n);
    }

    free(text);

    return n;
}


static int
same_as_jansson(u_char *src, size_t len)
{
    size_t  n, m;
    u_char  want[1024], got[1024];

    n = jansson_string(src, len, want, sizeof(want));
    m = ngx_http_attachments_json_escape(NULL, src, len);

    if (n == 0 && len != 0) {
        return 0;
    }

    if (m != n || ngx_http_attachments_json_escape(got, src, len) != n
        || memcmp(got, want, n) != 0)
    {
        printf("#   got:      '%.*s'\n#   expected: '%.*s'\n",
               (int) m, got, (int) n, want);
        return 0;
    }

    return 1;
}


static void
test_escape(void)
{
    size_t   i, pos, all;
    u_char   c, s[64];

    static struct {
        char  *name;
        char  *text;
    } samples[] = {
        { "empty", "" },
        { "plain", "plain" },
        { "a quote", "a\"b" },
        { "a backslash", "back\\slash" },
        { "a tab", "tab\there" },
        { "CR and LF", "new\nline\r\n" },
        { "backspace and form feed", "\b\f" },
        { "other control bytes, DEL", "\x01\x1f\x7f" },
        { "Cyrillic", "\xd0\x9e\xd1\x82\xd1\x87\xd1\x91\xd1\x82.pdf" },
        { "an emoji", "emoji \xf0\x9f\x93\x8e" },
        { "a signed URL", "/files/a%20b?X-Sig=abc-_" },
        { "HTML", "<img src=x onerror=alert(1)>" },
        { "SQL", "'; DROP TABLE files; --" },
        { "a SHA-256",
          "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" },
    };

    for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        ok(same_as_jansson((u_char *) samples[i].text,
                           strlen(samples[i].text)),
           samples[i].name);
    }

    /* every ASCII byte, at every place of an eight-byte word and past it */

    all = 1;

    for (c = 1; c < 0x80; c++) {
        for (pos = 0; pos < 20; pos++) {
            memset(s, 'x', 20);
            s[pos] = c;
            all &= same_as_jansson(s, 20);
        }
    }

    ok(all, "each ASCII byte anywhere in a string");

    /* multi-byte UTF-8 across the word boundaries: passed as it is */

    all = 1;

    for (pos = 0; pos < 12; pos++) {
        memset(s, 'y', 24);
        memcpy(s + pos, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9);
        all &= same_as_jansson(s, 24);
    }

    ok(all, "UTF-8 sequences anywhere in a string");
}


/* jsonb's text made compact equals jansson's print of what it parses */

static int
compact_as_jansson(const char *jsonb)
{
    int     same;
    char   *text;
    size_t  n;
    json_t *j;
    u_char  got[1024];

    j = json_loads(jsonb, JSON_DECODE_ANY, NULL);
    text = j ? json_dumps(j, JSON_ENCODE_ANY | JANSSON_FLAGS) : NULL;
    json_decref(j);

    if (text == NULL) {
        printf("#   jansson cannot parse '%s'\n", jsonb);
        return 0;
    }

    n = ngx_http_attachments_json_compact(got, (u_char *) jsonb,
                                          strlen(jsonb));

    same = (n == strlen(text) && memcmp(got, text, n) == 0);

    if (!same) {
        printf("#   got:      '%.*s'\n#   expected: '%s'\n", (int) n, got,
               text);
    }

    free(text);

    return same;
}


static void
test_compact(void)
{
    size_t  i;

    /* as PostgreSQL 15 prints jsonb: ", " and ": ", \u00xx in lowercase */

    static const char  *jsonb[] = {
        "[]", "{}", "[\"bench\", \"x\"]",
        "{\"customer_ref\": \"C-1\"}",
        "{\"a\": 1, \"b\": [1, 2, {\"c\": null}], \"d\": true, \"e\": false}",
        "[\"a, b\", \"c: d\", \"e\\\"f\", \"g\\\\h\", \" lead\", \"trail \"]",
        "[\"\\u0001\\u001f\", \"\\b\\f\\n\\r\\t\", \"\\\"\"]",
        "{\"n\": -12, \"f\": 1.5, \"z\": 0, \"big\": 9007199254740993}",
        "{\"\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87\": \"\xd0\xb7\xd0\xbd\xd0"
        "\xb0\xd1\x87\xd0\xb5\xd0\xbd\xd0\xb8\xd0\xb5 \xf0\x9f\x93\x8e\"}",
        "[[], {}, [[]], {\"x\": {}}]",
        "{\"key with spaces\": \"value  with  spaces\"}",
    };

    for (i = 0; i < sizeof(jsonb) / sizeof(jsonb[0]); i++) {
        ok(compact_as_jansson(jsonb[i]), jsonb[i]);
    }
}


int
main(void)
{
    test_escape();
    test_compact();

    return done_testing();
}
