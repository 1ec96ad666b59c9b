
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * The requests of google_drive operations (ngx_http_attachments_gdrive.c
 * runs them): a token asked for (ngx_http_attachments_gdrive_auth.c), a
 * file or folder found by its name (files.list with a query), a folder
 * made, a resumable upload's session opened and its bytes sent to the
 * session's URL, a file deleted, the root folder looked at; and what
 * their answers say: the file found, the file as Drive made it.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_attachments_sign.h"
#include "ngx_http_attachments_sigv4.h"
#include "ngx_http_attachments_json_text.h"
#include "ngx_http_attachments_input.h"
#include "ngx_http_attachments_storage.h"
#include "ngx_http_attachments_cloud.h"
#include "ngx_http_attachments_gdrive_auth.h"
#include "ngx_http_attachments_gdrive_api.h"


#define NGX_HTTP_ATTACHMENTS_GDRIVE_ANSWER  4096


static ngx_int_t ngx_http_attachments_gdrive_query(ngx_pool_t *pool,
    ngx_http_attachments_gdrive_run_t *run, ngx_str_t *args);
static ngx_int_t ngx_http_attachments_gdrive_metadata(ngx_pool_t *pool,
    ngx_http_attachments_gdrive_run_t *run, ngx_str_t *body);
static ngx_int_t ngx_http_attachments_gdrive_session(
    ngx_http_attachments_gdrive_run_t *run, ngx_str_t *path, ngx_str_t *args);


/* the step of a stage, sent: NGX_AGAIN, or it could not be */

ngx_int_t
ngx_http_attachments_gdrive_send(ngx_http_request_t *r,
    ngx_http_attachments_gdrive_run_t *run,
    ngx_http_attachments_gdrive_stage_e stage)
{
    u_char                                *p;
    ngx_pool_t                            *pool;
    ngx_keyval_t                          *h;
    ngx_http_attachments_cloud_t          *cloud;
    ngx_http_attachments_gdrive_t         *gd;
    ngx_http_attachments_storage_op_t     *step;
    ngx_http_attachments_cloud_request_t   rq;

    step = &run->run.step;
    gd = step->storage->data;
    pool = run->run.pool;
    cloud = &gd->cloud;

    run->run.stage = stage;

    ngx_str_null(&step->url);
    ngx_str_null(&step->body);
    ngx_str_null(&step->location);
    step->size = 0;
    step->received = 0;
    step->status = 0;

    if (ngx_http_attachments_cloud_answer_room(pool, step,
                                          NGX_HTTP_ATTACHMENTS_GDRIVE_ANSWER)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    h = ngx_palloc(pool, 4 * sizeof(ngx_keyval_t));
    if (h == NULL) {
        return NGX_ERROR;
    }

    ngx_str_set(&h[0].key, "Authorization");
    h[0].value = run->auth;
    ngx_str_set(&h[1].key, "Accept");
    ngx_str_set(&h[1].value, "application/json");
    ngx_str_set(&h[2].key, "Content-Type");
    ngx_str_set(&h[2].value, "application/json; charset=UTF-8");

    rq.headers = h;
    rq.n = 2;
    ngx_str_set(&rq.method, "GET");
    ngx_str_set(&rq.path, "/drive/v3/files");
    ngx_str_null(&rq.args);
    step->method = NGX_HTTP_GET;

    switch (stage) {

    case NGX_HTTP_ATTACHMENTS_GD_TOKEN:
        cloud = &gd->oauth;
        rq.headers = &h[2];
        rq.n = 1;
        ngx_str_set(&h[2].value, "application/x-www-form-urlencoded");
        ngx_str_set(&rq.method, "POST");
        rq.path = gd->token_path;
        step->method = NGX_HTTP_POST;

        if (ngx_http_attachments_gdrive_token_body(gd, pool, &step->body)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        break;

    case NGX_HTTP_ATTACHMENTS_GD_FIND_FOLDER:
    case NGX_HTTP_ATTACHMENTS_GD_FIND:
    case NGX_HTTP_ATTACHMENTS_GD_DOWNLOAD:
        if (ngx_http_attachments_gdrive_query(pool, run, &rq.args) != NGX_OK) {
            return NGX_ERROR;
        }

        break;

    case NGX_HTTP_ATTACHMENTS_GD_MAKE_FOLDER:
    case NGX_HTTP_ATTACHMENTS_GD_SESSION:
        ngx_str_set(&rq.method, "POST");
        step->method = NGX_HTTP_POST;
        rq.n = 3;

        if (stage == NGX_HTTP_ATTACHMENTS_GD_SESSION) {
            /* the session, for op->size bytes: its answer names its URL */
            ngx_str_set(&rq.path, "/upload/drive/v3/files");
            ngx_str_set(&rq.args, "uploadType=resumable"
                        "&supportsAllDrives=true"
                        "&fields=id%2Csize%2Csha256Checksum");

            ngx_str_set(&h[3].key, "X-Upload-Content-Length");
            h[3].value.data = ngx_pnalloc(pool, NGX_OFF_T_LEN);
            if (h[3].value.data == NULL) {
                return NGX_ERROR;
            }

            h[3].value.len = ngx_sprintf(h[3].value.data, "%O",
                                         run->run.op->size)
                             - h[3].value.data;
            rq.n = 4;

        } else {
            ngx_str_set(&rq.args, "supportsAllDrives=true&fields=id");
        }

        if (ngx_http_attachments_gdrive_metadata(pool, run, &step->body)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        break;

    case NGX_HTTP_ATTACHMENTS_GD_PUT:
        /* the bytes, from the file, to the session */
        if (ngx_http_attachments_gdrive_session(run, &rq.path, &rq.args)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        step->file = run->run.op->file;
        step->size = run->run.op->size;
        step->offset = 0;
        step->method = NGX_HTTP_PUT;
        ngx_str_set(&rq.method, "PUT");
        rq.n = 1;
        break;

    case NGX_HTTP_ATTACHMENTS_GD_DELETE:
    case NGX_HTTP_ATTACHMENTS_GD_HEALTH:
        if (stage == NGX_HTTP_ATTACHMENTS_GD_DELETE) {
            ngx_str_set(&rq.method, "DELETE");
            step->method = NGX_HTTP_DELETE;
        }

        rq.path.len = sizeof("/drive/v3/files/") - 1
                      + ngx_max(run->id.len, gd->folder.len);
        rq.path.data = ngx_pnalloc(pool, rq.path.len);
        if (rq.path.data == NULL) {
            return NGX_ERROR;
        }

        p = ngx_cpymem(rq.path.data, "/drive/v3/files/", 16);
        p = (stage == NGX_HTTP_ATTACHMENTS_GD_DELETE)
            ? ngx_cpymem(p, run->id.data, run->id.len)
            : ngx_cpymem(p, gd->folder.data, gd->folder.len);
        rq.path.len = p - rq.path.data;

        ngx_str_set(&rq.args, "supportsAllDrives=true&fields=id");
        break;
    }

    return ngx_http_attachments_cloud_send(r, cloud, step, &rq);
}


/*
 * files.list's arguments: the file named run->name (its id, size and
 * SHA-256), or the folder of that name in run->parent
 */

static ngx_int_t
ngx_http_attachments_gdrive_query(ngx_pool_t *pool,
    ngx_http_attachments_gdrive_run_t *run, ngx_str_t *args)
{
    u_char     *p, *q;
    size_t      n;
    ngx_str_t   text;

    n = sizeof("name = '' and '' in parents and mimeType = '"
               NGX_HTTP_ATTACHMENTS_GDRIVE_FOLDER "' and trashed = false")
        + 2 * (run->name.len + run->parent.len);

    text.data = ngx_pnalloc(pool, n);
    if (text.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(text.data, "name = '", 8);

    /* a query's string literal: "'" and "\" escaped */

    for (q = run->name.data; q < run->name.data + run->name.len; q++) {
        if (*q == '\'' || *q == '\\') {
            *p++ = '\\';
        }

        *p++ = *q;
    }

    *p++ = '\'';

    if (run->run.stage == NGX_HTTP_ATTACHMENTS_GD_FIND_FOLDER) {
        p = ngx_sprintf(p, " and '%V' in parents and mimeType = '"
                        NGX_HTTP_ATTACHMENTS_GDRIVE_FOLDER "'", &run->parent);
    }

    p = ngx_cpymem(p, " and trashed = false", 20);
    text.len = p - text.data;

    n = ngx_http_attachments_aws_escape(NULL, text.data, text.len, 0);

    args->data = ngx_pnalloc(pool, sizeof("q=&fields=files(id%2Csize%2C"
                                          "sha256Checksum)&pageSize=10"
                                          "&supportsAllDrives=true"
                                          "&includeItemsFromAllDrives=true")
                                   + n);
    if (args->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(args->data, "q=", 2);
    p += ngx_http_attachments_aws_escape(p, text.data, text.len, 0);
    p = ngx_cpymem(p, "&fields=files(id%2Csize%2Csha256Checksum)&pageSize=10"
                      "&supportsAllDrives=true"
                      "&includeItemsFromAllDrives=true",
                   sizeof("&fields=files(id%2Csize%2Csha256Checksum)"
                          "&pageSize=10&supportsAllDrives=true"
                          "&includeItemsFromAllDrives=true") - 1);
    args->len = p - args->data;

    return NGX_OK;
}


/* a new file's metadata: its name, its folder, and a folder's type */

static ngx_int_t
ngx_http_attachments_gdrive_metadata(ngx_pool_t *pool,
    ngx_http_attachments_gdrive_run_t *run, ngx_str_t *body)
{
    u_char  *p;

    body->data = ngx_pnalloc(pool, sizeof("{\"name\":\"\",\"parents\":[\"\"],"
                                          "\"mimeType\":\""
                                          NGX_HTTP_ATTACHMENTS_GDRIVE_FOLDER
                                          "\"}")
                                   + 6 * (run->name.len + run->parent.len));
    if (body->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(body->data, "{\"name\":\"", 9);
    p += ngx_http_attachments_json_escape(p, run->name.data, run->name.len);
    p = ngx_cpymem(p, "\",\"parents\":[\"", 14);
    p += ngx_http_attachments_json_escape(p, run->parent.data,
                                          run->parent.len);
    p = ngx_cpymem(p, "\"]", 2);

    if (run->run.stage == NGX_HTTP_ATTACHMENTS_GD_MAKE_FOLDER) {
        p = ngx_cpymem(p, ",\"mimeType\":\""
                          NGX_HTTP_ATTACHMENTS_GDRIVE_FOLDER "\"",
                       sizeof(",\"mimeType\":\""
                              NGX_HTTP_ATTACHMENTS_GDRIVE_FOLDER "\"") - 1);
    }

    *p++ = '}';
    body->len = p - body->data;

    return NGX_OK;
}


/*
 * The session's URL as a path and arguments of the endpoint: as Drive
 * gave it, or as proxy_redirect made it of proxy='s
 */

static ngx_int_t
ngx_http_attachments_gdrive_session(ngx_http_attachments_gdrive_run_t *run,
    ngx_str_t *path, ngx_str_t *args)
{
    u_char                         *p, *q, *last;
    ngx_str_t                      *s;
    ngx_http_attachments_gdrive_t  *gd;

    gd = run->run.op->storage->data;
    s = &run->session;
    p = s->data;
    last = p + s->len;

    if (s->len > gd->cloud.proxy.len
        && ngx_strncmp(p, gd->cloud.proxy.data, gd->cloud.proxy.len) == 0)
    {
        p += gd->cloud.proxy.len - 1;

    } else if (s->len > gd->cloud.scheme.len + gd->cloud.host.len
               && ngx_strncmp(p, gd->cloud.scheme.data, gd->cloud.scheme.len)
                  == 0
               && ngx_strncmp(p + gd->cloud.scheme.len, gd->cloud.host.data,
                              gd->cloud.host.len) == 0
               && p[gd->cloud.scheme.len + gd->cloud.host.len] == '/')
    {
        p += gd->cloud.scheme.len + gd->cloud.host.len;

    } else {
        ngx_log_error(NGX_LOG_ERR, run->run.step.log, 0,
                      "attachments: google_drive gave an upload session "
                      "elsewhere than its endpoint: \"%V\"", s);
        return NGX_ERROR;
    }

    for (q = p; q < last; q++) {
        if (*q <= ' ' || *q >= 0x7f || *q == '#'
            || (*q == '/' && q + 1 < last && q[1] == '.'))
        {
            ngx_log_error(NGX_LOG_ERR, run->run.step.log, 0,
                          "attachments: google_drive gave an upload session "
                          "that is no URL");
            return NGX_ERROR;
        }
    }

    path->data = p;
    p = ngx_strlchr(p, last, '?');
    path->len = (p ? p : last) - path->data;

    args->data = p ? p + 1 : last;
    args->len = last - args->data;

    return NGX_OK;
}


/* files.list's first file: its id in run->id; NGX_DECLINED, none */

ngx_int_t
ngx_http_attachments_gdrive_found(ngx_http_attachments_gdrive_run_t *run)
{
    json_t        *json, *file;
    ngx_int_t      rc;
    ngx_str_t      id;
    const char    *s;
    json_error_t   err;

    json = json_loadb((char *) run->run.step.head.data,
                      run->run.step.head.len, 0, &err);
    if (json == NULL) {
        return NGX_ERROR;
    }

    file = json_array_get(json_object_get(json, "files"), 0);
    s = json_string_value(json_object_get(file, "id"));

    if (s == NULL) {
        /* an empty list: none */
        rc = json_is_array(json_object_get(json, "files")) ? NGX_DECLINED
                                                           : NGX_ERROR;
        json_decref(json);
        return rc;
    }

    id.len = ngx_strlen(s);
    id.data = (u_char *) s;

    run->id.data = ngx_pstrdup(run->run.pool, &id);
    run->id.len = id.len;

    json_decref(json);

    if (run->id.data == NULL
        || !ngx_http_attachments_entity_id_valid(run->id.data, run->id.len))
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the file Drive made is the one sent: its size and SHA-256 */

ngx_int_t
ngx_http_attachments_gdrive_checked(ngx_http_attachments_gdrive_run_t *run)
{
    json_t                             *json;
    const char                         *size, *sha;
    json_error_t                        err;
    ngx_http_attachments_storage_op_t  *op;

    op = run->run.op;

    json = json_loadb((char *) run->run.step.head.data,
                      run->run.step.head.len, 0, &err);
    if (json == NULL) {
        return NGX_ERROR;
    }

    /* Drive's sizes are strings (int64 in JSON) */
    size = json_string_value(json_object_get(json, "size"));
    sha = json_string_value(json_object_get(json, "sha256Checksum"));

    if (size == NULL || ngx_atoof((u_char *) size, ngx_strlen(size))
                        != op->size
        || sha == NULL || ngx_strlen(sha) != 64 || op->sha256 == NULL
        || ngx_strncasecmp((u_char *) sha, op->sha256, 64) != 0)
    {
        ngx_log_error(NGX_LOG_ERR, op->log, 0,
                      "attachments: google_drive holds \"%V\" with another "
                      "size or SHA-256 than was sent: %*s", &op->key,
                      (size_t) ngx_min(run->run.step.head.len, 300),
                      run->run.step.head.data);
        json_decref(json);
        return NGX_ERROR;
    }

    json_decref(json);

    return NGX_OK;
}
