
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * Unit tests of the input checks: routes, ids, cursors, metadata (TAP, run
 * by t/001-unit-input.t).
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_attachments_input.h"
#include "tap.h"


#define UUID  "0190f6b4-5a5c-7c3e-9f6e-2b1f4f0a9c11"


static ngx_int_t
route(const char *path, ngx_http_attachments_route_t *rt)
{
    return ngx_http_attachments_route((u_char *) path, strlen(path), rt);
}


static void
test_routes(void)
{
    char                           name[128];
    size_t                         i;
    ngx_http_attachments_route_t   rt;

    static const char  *unknown[] = {
        "", "work_orders", "work_orders/123", "work_orders/123/file",
        "work_orders/123/files/", "/work_orders/123/files",
        "work_orders//123/files", "work_orders/123/files/" UUID "/",
        "work_orders/123/files/" UUID "/raw",
        "work_orders/123/files/" UUID "/content/x", "usage/", "usages",
        "a/b/c/d/e/f/g",
    };

    ok(route("work_orders/123/files", &rt) == NGX_OK
       && rt.kind == NGX_HTTP_ATTACHMENTS_ROUTE_FILES
       && rt.entity_type.len == 11 && rt.entity_id.len == 3
       && rt.file_id.len == 0, "list route with its parent");

    ok(route("work_orders/A-1_b/files/" UUID, &rt) == NGX_OK
       && rt.kind == NGX_HTTP_ATTACHMENTS_ROUTE_FILE
       && rt.file_id.len == 36
       && ngx_strncmp(rt.file_id.data, UUID, 36) == 0, "file route");

    ok(route("work_orders/123/files/" UUID "/content", &rt) == NGX_OK
       && rt.kind == NGX_HTTP_ATTACHMENTS_ROUTE_CONTENT, "content route");
    ok(route("x/1/files/" UUID "/versions", &rt) == NGX_OK
       && rt.kind == NGX_HTTP_ATTACHMENTS_ROUTE_VERSIONS, "versions route");
    ok(route("x/1/files/" UUID "/publish", &rt) == NGX_OK
       && rt.kind == NGX_HTTP_ATTACHMENTS_ROUTE_PUBLISH, "publish route");
    ok(route("usage", &rt) == NGX_OK
       && rt.kind == NGX_HTTP_ATTACHMENTS_ROUTE_USAGE, "usage route");

    for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        snprintf(name, sizeof(name), "no route: \"%s\"", unknown[i]);
        ok(route(unknown[i], &rt) == NGX_DECLINED, name);
    }

    ok(route("Work/1/files", &rt) == NGX_ERROR
       && strstr(rt.error, "entity_type"), "upper case type is 400");
    ok(route("1a/1/files", &rt) == NGX_ERROR, "type starting with a digit");
    ok(route("a.b/1/files", &rt) == NGX_ERROR, "dot in type");
    ok(route("a/1.2/files", &rt) == NGX_ERROR
       && strstr(rt.error, "entity_id"), "dot in id is 400");
    ok(route("a/%27/files", &rt) == NGX_ERROR, "quote in id");
    ok(route("a/1/files/" UUID "x", &rt) == NGX_ERROR
       && strstr(rt.error, "file_id"), "long uuid is 400");
    ok(route("a/1/files/..", &rt) == NGX_ERROR,
       "dot segment as the file id is 400");
    ok(route("a/1/files/../../etc/passwd", &rt) == NGX_DECLINED,
       "traversal past the route is no route");
}


static void
test_ids(void)
{
    char    id[130];
    char    type[65];

    memset(type, 'a', sizeof(type));
    memset(id, '9', sizeof(id));

    ok(ngx_http_attachments_entity_type_valid((u_char *) type, 63),
       "63-character type");
    ok(!ngx_http_attachments_entity_type_valid((u_char *) type, 64),
       "64-character type");
    ok(!ngx_http_attachments_entity_type_valid((u_char *) type, 0),
       "empty type");
    ok(ngx_http_attachments_entity_type_valid((u_char *) "a_9", 3),
       "underscore and digits after the first letter");
    ok(!ngx_http_attachments_entity_type_valid((u_char *) "_a", 2),
       "leading underscore");

    ok(ngx_http_attachments_entity_id_valid((u_char *) id, 128),
       "128-character id");
    ok(!ngx_http_attachments_entity_id_valid((u_char *) id, 129),
       "129-character id");
    ok(!ngx_http_attachments_entity_id_valid((u_char *) "a b", 3),
       "space in id");
    ok(!ngx_http_attachments_entity_id_valid((u_char *) "a\0b", 3),
       "NUL in id");

    ok(ngx_http_attachments_uuid_valid((u_char *) UUID, 36), "uuid");
    ok(ngx_http_attachments_uuid_valid(
           (u_char *) "0190F6B4-5A5C-7C3E-9F6E-2B1F4F0A9C11", 36),
       "upper case uuid");
    ok(!ngx_http_attachments_uuid_valid(
           (u_char *) "0190f6b45a5c-7c3e-9f6e-2b1f4f0a9c11-", 36),
       "dash misplaced");
    ok(!ngx_http_attachments_uuid_valid(
           (u_char *) "0190f6b4-5a5c-7c3e-9f6e-2b1f4f0a9c1g", 36),
       "non-hex digit");
}


static void
test_utf8(void)
{
    size_t  i;

    static ngx_str_t  good[] = {
        S(""), S("plain"), S("r\xc3\xa9sum\xc3\xa9"), S("\xe2\x82\xac"),
        S("\xf0\x9f\x93\x8e"), S("\xef\xbf\xbf"), S("\xf4\x8f\xbf\xbf"),
    };

    static ngx_str_t  bad[] = {
        S("\xff"), S("\xc3"), S("\xc3("), S("\xc0\xaf"), S("\xe0\x80\xaf"),
        S("\xed\xa0\x80"), S("\xf4\x90\x80\x80"), S("\xf5\x80\x80\x80"),
        S("\x80"), S("ok\xe2\x82"),
    };

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        ok(ngx_http_attachments_utf8_valid(good[i].data, good[i].len),
           "valid UTF-8");
    }

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ok(!ngx_http_attachments_utf8_valid(bad[i].data, bad[i].len),
           "invalid UTF-8: bad lead, truncated, overlong, surrogate, "
           "beyond U+10FFFF");
    }
}


static void
name_is(const char *in, ngx_uint_t mode, const char *want, const char *label)
{
    size_t  n;
    u_char  out[NGX_HTTP_ATTACHMENTS_NAME_MAX];

    n = ngx_http_attachments_filename(out, (u_char *) in, strlen(in), mode);
    is_str(out, n, want, label);
}


static void
test_filename(void)
{
    size_t  n;
    u_char  out[NGX_HTTP_ATTACHMENTS_NAME_MAX], ext[16];
    char    long_name[600];

    name_is("contract.pdf", 0, "contract.pdf", "a plain name stays");
    name_is("../../etc/passwd", 0, "passwd", "directory parts go");
    name_is("..\\x", 0, "x", "backslash separates too");
    name_is("C:\\Users\\a\\r\xc3\xa9sum\xc3\xa9.pdf", 0,
            "r\xc3\xa9sum\xc3\xa9.pdf", "a Windows path, UTF-8 kept");
    name_is("..", 0, "file", "dots alone");
    name_is("../", 0, "file", "a trailing separator");
    name_is("", 0, "file", "empty");
    name_is(" .hidden. ", 0, "hidden", "no leading or trailing dots, spaces");
    name_is("%2e%2e%2fetc%2fpasswd", 0, "%2e%2e%2fetc%2fpasswd",
            "percent-encoding is only text for display");
    name_is("%2e%2e%2fetc%2fpasswd", 1, "_2e_2e_2fetc_2fpasswd",
            "and nothing in a key");
    name_is("\xe2\x80\xa4\xe2\x80\xa4\xef\xbc\x8f" "etc", 0, "___etc",
            "one dot leaders and fullwidth solidus are not dots or slashes");
    name_is("\xef\xbc\x8e\xef\xbc\x8e", 0, "__",
            "fullwidth full stops");
    name_is("invoice\xe2\x80\xae" "fdp.exe", 0, "invoicefdp.exe",
            "right-to-left override removed");
    n = ngx_http_attachments_filename(out, (u_char *) "a\0b\r\nc\x7f\x1b" "d.txt",
                                      13, 0);
    is_str(out, n, "abcd.txt", "NUL, CR, LF, DEL, ESC removed");
    name_is("bad\xff\xc0\xafutf8.txt", 0, "badutf8.txt",
            "invalid UTF-8 removed");
    name_is("r\xc3\xa9sum\xc3\xa9 final(1).pdf", 1, "r_sum__final_1_.pdf",
            "key mode keeps [A-Za-z0-9._-]");

    memset(long_name, 'a', sizeof(long_name) - 5);
    strcpy(long_name + sizeof(long_name) - 5, ".pdf");
    n = ngx_http_attachments_filename(out, (u_char *) long_name,
                                      strlen(long_name), 0);
    ok(n == NGX_HTTP_ATTACHMENTS_NAME_MAX, "capped at 255 bytes");

    memset(long_name, 0, sizeof(long_name));
    for (n = 0; n < 200; n++) {
        memcpy(long_name + 2 * n, "\xc3\xa9", 2);
    }
    n = ngx_http_attachments_filename(out, (u_char *) long_name,
                                      strlen(long_name), 0);
    ok(n == 254 && ngx_http_attachments_utf8_valid(out, n),
       "the cap never splits a character");

    n = ngx_http_attachments_file_ext(ext, (u_char *) "a.Tar.GZ", 8);
    is_str(ext, n, "gz", "extension, lower case");
    ok(ngx_http_attachments_file_ext(ext, (u_char *) "README", 6) == 0,
       "no extension");
    ok(ngx_http_attachments_file_ext(ext, (u_char *) "a.p_f", 5) == 0,
       "no odd extension");
}


static void
test_cursor(void)
{
    ngx_str_t    ts, id;
    const char  *good = "2026-02-01T10:30:00.000123_" UUID;

    ok(ngx_http_attachments_cursor_parse((u_char *) good, strlen(good), &ts,
                                         &id) == NGX_OK
       && ts.len == 26 && id.len == 36
       && ngx_strncmp(ts.data, "2026-02-01T10:30:00.000123", 26) == 0,
       "cursor splits into time and id");

    ok(ngx_http_attachments_cursor_parse((u_char *) "abc", 3, &ts, &id)
       == NGX_ERROR, "short cursor");
    ok(ngx_http_attachments_cursor_parse(
           (u_char *) "2026-02-01 10:30:00.000123_" UUID, 63, &ts, &id)
       == NGX_ERROR, "space instead of T");
    ok(ngx_http_attachments_cursor_parse(
           (u_char *) "2026-02-01T10:30:00.00012'_" UUID, 63, &ts, &id)
       == NGX_ERROR, "quote in the time");
    ok(ngx_http_attachments_cursor_parse(
           (u_char *) "2026-02-01T10:30:00.000123-" UUID, 63, &ts, &id)
       == NGX_ERROR, "wrong separator");
    ok(ngx_http_attachments_cursor_parse(
           (u_char *) "2026-02-01T10:30:00.000123_0190f6b4-5a5c-7c3e-9f6e-"
                      "2b1f4f0a9c1;", 63, &ts, &id)
       == NGX_ERROR, "bad id");

    /* dates PostgreSQL would refuse are refused before it is asked */

    ok(ngx_http_attachments_cursor_parse(
           (u_char *) "9999-99-99T99:99:99.999999_" UUID, 63, &ts, &id)
       == NGX_ERROR, "impossible date");
    ok(ngx_http_attachments_cursor_parse(
           (u_char *) "2026-02-29T10:30:00.000000_" UUID, 63, &ts, &id)
       == NGX_ERROR, "February 29th of a common year");
    ok(ngx_http_attachments_cursor_parse(
           (u_char *) "2024-02-29T23:59:59.999999_" UUID, 63, &ts, &id)
       == NGX_OK, "February 29th of a leap year");
    ok(ngx_http_attachments_cursor_parse(
           (u_char *) "2100-02-29T00:00:00.000000_" UUID, 63, &ts, &id)
       == NGX_ERROR, "2100 is no leap year");
    ok(ngx_http_attachments_cursor_parse(
           (u_char *) "0000-01-01T00:00:00.000000_" UUID, 63, &ts, &id)
       == NGX_ERROR, "year 0");
    ok(ngx_http_attachments_cursor_parse(
           (u_char *) "2026-04-31T00:00:00.000000_" UUID, 63, &ts, &id)
       == NGX_ERROR, "April 31st");
    ok(ngx_http_attachments_cursor_parse(
           (u_char *) "2026-12-31T24:00:00.000000_" UUID, 63, &ts, &id)
       == NGX_ERROR, "hour 24");
    ok(ngx_http_attachments_cursor_parse(
           (u_char *) "2026-12-31T23:60:00.000000_" UUID, 63, &ts, &id)
       == NGX_ERROR, "minute 60");
    ok(ngx_http_attachments_cursor_parse(
           (u_char *) "2026-12-31T23:59:60.000000_" UUID, 63, &ts, &id)
       == NGX_ERROR, "second 60");
}


static const char *
meta(const char *text)
{
    json_t                       *json;
    const char                   *err;
    ngx_http_attachments_meta_t   m;

    json = json_loads(text, JSON_DECODE_ANY, NULL);
    if (json == NULL) {
        return "unparsable test input";
    }

    err = ngx_http_attachments_meta_parse(json, &m);
    json_decref(json);

    return err;
}


static void
test_meta(void)
{
    int          i;
    char         big[17000], many[600];
    const char  *err;

    ok(meta("{}") == NULL, "empty update");
    ok(meta("{\"tags\":[\"a\",\"b c\",\"\\u00e9\"],\"custom_fields\":"
            "{\"x\":{\"y\":[1,null]}},\"category\":\"doc\"}") == NULL,
       "all three fields");
    ok(meta("{\"category\":null}") == NULL, "category null clears");

    err = meta("{\"tags\":\"a\"}");
    ok(err && strstr(err, "array of strings"), "tags not an array");
    err = meta("{\"tags\":[null]}");
    ok(err && strstr(err, "array of strings"), "null tag");
    err = meta("{\"tags\":[\"\"]}");
    ok(err && strstr(err, "1 to 128"), "empty tag");
    err = meta("{\"tags\":[\"a\\nb\"]}");
    ok(err && strstr(err, "control"), "newline in a tag");
    err = meta("{\"tags\":[\"a\\u007f\"]}");
    ok(err && strstr(err, "control"), "DEL in a tag");

    strcpy(many, "{\"tags\":[");
    for (i = 0; i < 65; i++) {
        strcat(many, i ? ",\"t\"" : "\"t\"");
    }
    strcat(many, "]}");
    err = meta(many);
    ok(err && strstr(err, "at most 64"), "65 tags");
    many[strlen(many) - 6] = ']';
    many[strlen(many) - 5] = '}';
    many[strlen(many) - 4] = '\0';
    ok(meta(many) == NULL, "64 tags");

    err = meta("{\"custom_fields\":[1]}");
    ok(err && strstr(err, "object"), "custom_fields array");

    strcpy(big, "{\"custom_fields\":{\"k\":\"");
    memset(big + strlen(big), 'x', 16380);
    strcpy(big + 23 + 16380, "\"}}");
    err = meta(big);
    ok(err && strstr(err, "16384"), "custom_fields over 16384 bytes");

    err = meta("{\"category\":1}");
    ok(err && strstr(err, "category"), "numeric category");
    err = meta("{\"category\":\"\"}");
    ok(err && strstr(err, "category"), "empty category");

    err = meta("{\"id\":\"x\"}");
    ok(err && strstr(err, "only tags"), "unknown field");
    err = meta("[]");
    ok(err && strstr(err, "JSON object"), "array body");
}


/* organization ids as key parts: one to one, key-safe */

static void
test_key_part(void)
{
    size_t       i, j, n[6];
    u_char       out[6][64];
    const char  *org[] = { "acme", "acme.", "x/acme", "acme_", "acme~2e",
                           ".." };

    for (i = 0; i < 6; i++) {
        n[i] = ngx_http_attachments_key_part(out[i], (u_char *) org[i],
                                             strlen(org[i]));
    }

    ok(n[0] == 4 && ngx_strncmp(out[0], "acme", 4) == 0,
       "a plain id stays as it is");
    ok(n[2] == 8 && ngx_strncmp(out[2], "x~2facme", 8) == 0,
       "a slash is escaped");
    ok(n[5] == 4 && ngx_strncmp(out[5], "~2e.", 4) == 0,
       "a leading dot is escaped: no dot segment");

    for (i = 0; i < 6; i++) {
        ok(memchr(out[i], '/', n[i]) == NULL
           && memchr(out[i], '%', n[i]) == NULL
           && memchr(out[i], '\\', n[i]) == NULL
           && !(n[i] <= 2 && out[i][0] == '.' && out[i][n[i] - 1] == '.'),
           "each is one key-safe segment");

        for (j = 0; j < i; j++) {
            ok(n[i] != n[j] || ngx_strncmp(out[i], out[j], n[i]) != 0,
               "no two ids share a key part");
        }
    }
}


static size_t
folder(const char *name, u_char *out)
{
    return ngx_http_attachments_folder_name(out, (u_char *) name,
                                            strlen(name));
}


static void
test_folder_name(void)
{
    size_t  n, i;
    u_char  out[NGX_HTTP_ATTACHMENTS_FOLDER_NAME_MAX];
    char    longname[300];

    n = folder("Acme / Boiler: repair", out);
    ok(n == 21 && ngx_strncmp(out, "Acme _ Boiler_ repair", 21) == 0,
       "a slash and a colon become _");

    n = folder(" ..Q3 report.. ", out);
    ok(n == 9 && ngx_strncmp(out, "Q3 report", 9) == 0,
       "leading and trailing blanks and dots go");

    ok(folder("..", out) == 0 && folder(" . ", out) == 0
       && folder("", out) == 0, "nothing left: 0, the id is used");

    n = folder("a\\b*c?d\"e<f>g|h%i\tj\x7f", out);
    ok(n == 20 && ngx_strncmp(out, "a_b_c_d_e_f_g_h_i_j_", 20) == 0,
       "backslash, * ? \" < > | %, controls become _");

    ok(folder("caf\xc3", out) == 0, "not UTF-8: 0");

    n = folder("\xd0\x97\xd0\xb0\xd0\xba\xd0\xb0\xd0\xb7 42", out);
    ok(n == 13 && ngx_strncmp(out, "\xd0\x97\xd0\xb0\xd0\xba\xd0\xb0\xd0\xb7 42", 13)
       == 0, "UTF-8 letters stay");

    /* 119 ASCII bytes then a two-byte letter: cut before it, not in it */
    memset(longname, 'x', 119);
    memcpy(longname + 119, "\xd0\x97tail", 7);
    longname[126] = '\0';
    n = folder(longname, out);
    ok(n == 119, "cut at 120 bytes, never in a character");

    for (i = 0; i < 299; i++) {
        longname[i] = 'y';
    }

    longname[299] = '\0';
    ok(folder(longname, out) == NGX_HTTP_ATTACHMENTS_FOLDER_NAME_MAX,
       "at most 120 bytes");

    n = folder("a.b/../c", out);
    ok(n == 8 && ngx_strncmp(out, "a.b_.._c", 8) == 0,
       "one segment, never a path");
}


int
main(void)
{
    test_folder_name();
    test_routes();
    test_ids();
    test_utf8();
    test_filename();
    test_cursor();
    test_key_part();
    test_meta();

    return done_testing();
}
