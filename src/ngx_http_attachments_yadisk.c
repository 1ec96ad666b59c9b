
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * The "yandex_disk" storage kind: files on a Yandex.Disk, through its REST
 * API (cloud-api.yandex.net/v1/disk, "Authorization: OAuth <token>"),
 * sent by the cloud kinds' client (ngx_http_attachments_cloud.c).  A key
 * is a path under the storage's root= folder; its folders are made on
 * demand (PUT /resources, 409: there already).  A file goes up in three
 * requests: the upload address asked for (GET /resources/upload,
 * overwrite=false, so nothing is ever written over), the bytes PUT there
 * through upload= (the address is the disk's, on a host of its own), and
 * the size and SHA-256 the disk then reports held to the upload's.  A
 * download is a 302 to the short-lived link GET /resources/download
 * gives; a delete is permanent, and one the disk answers 202 (later) is
 * asked after until the file is gone.  Each step is an operation of its
 * own (op->step) within the caller's.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_attachments_sigv4.h"
#include "ngx_http_attachments_json.h"
#include "ngx_http_attachments_conf.h"
#include "ngx_http_attachments_storage.h"
#include "ngx_http_attachments_local.h"
#include "ngx_http_attachments_cloud.h"
#include "ngx_http_attachments_yadisk.h"


#define NGX_HTTP_ATTACHMENTS_YADISK_ANSWER      4096

/* a file taken "later" (202) is looked for so many times, 0.5 s apart */
#define NGX_HTTP_ATTACHMENTS_YADISK_LOOKS       120


/* a yandex_disk storage's own: storage->data */
typedef struct {
    ngx_http_attachments_cloud_t     cloud;
    ngx_str_t                        root;      /* "disk:/Attachments" */
    ngx_str_t                        auth;      /* "OAuth <token>" */
} ngx_http_attachments_yadisk_t;


typedef enum {
    NGX_HTTP_ATTACHMENTS_YD_FOLDER = 0,         /* PUT /resources */
    NGX_HTTP_ATTACHMENTS_YD_HREF,               /* GET /resources/upload */
    NGX_HTTP_ATTACHMENTS_YD_PUT,                /* PUT <href> */
    NGX_HTTP_ATTACHMENTS_YD_CHECK,              /* GET /resources */
    NGX_HTTP_ATTACHMENTS_YD_DELETE,             /* DELETE /resources */
    NGX_HTTP_ATTACHMENTS_YD_GONE,               /* GET /resources, 404 */
    NGX_HTTP_ATTACHMENTS_YD_HEALTH,             /* GET /resources of root */
    NGX_HTTP_ATTACHMENTS_YD_DOWNLOAD            /* GET /resources/download */
} ngx_http_attachments_yadisk_stage_e;


/* an operation under way */
typedef struct {
    ngx_http_attachments_cloud_run_t      run;
    ngx_str_t                             path;     /* root/key */
    size_t                                root;     /* of path: the root's */
    ngx_uint_t                            made;     /* folder: the root is */
    ngx_str_t                             href;     /* where the bytes go */
    ngx_uint_t                            looks;    /* after a 202 */
} ngx_http_attachments_yadisk_run_t;


static char *ngx_http_attachments_yadisk_conf(ngx_conf_t *cf,
    ngx_http_attachments_storage_t *storage, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_attachments_yadisk_activate(ngx_conf_t *cf,
    ngx_http_attachments_storage_t *storage);
static ngx_http_attachments_yadisk_run_t *ngx_http_attachments_yadisk_run(
    ngx_http_request_t *r, ngx_http_attachments_storage_op_t *op,
    ngx_http_attachments_yadisk_stage_e stage);
static ngx_int_t ngx_http_attachments_yadisk_start(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op,
    ngx_http_attachments_yadisk_stage_e stage);
static ngx_int_t ngx_http_attachments_yadisk_send(ngx_http_request_t *r,
    ngx_http_attachments_yadisk_run_t *run);
static ngx_int_t ngx_http_attachments_yadisk_next(ngx_http_request_t *r,
    ngx_http_attachments_cloud_run_t *cr);
static ngx_uint_t ngx_http_attachments_yadisk_no_path(
    ngx_http_attachments_cloud_run_t *cr);
static ngx_uint_t ngx_http_attachments_yadisk_href(
    ngx_http_attachments_cloud_run_t *cr, ngx_str_t *href);
static ngx_int_t ngx_http_attachments_yadisk_look(ngx_http_request_t *r,
    ngx_http_attachments_cloud_run_t *cr);
static ngx_int_t ngx_http_attachments_yadisk_checked(
    ngx_http_attachments_yadisk_run_t *run);
static void ngx_http_attachments_yadisk_served(ngx_http_request_t *r,
    ngx_http_attachments_cloud_run_t *cr);
static ngx_int_t ngx_http_attachments_yadisk_create(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
static ngx_int_t ngx_http_attachments_yadisk_folder(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
static ngx_int_t ngx_http_attachments_yadisk_delete(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
static ngx_int_t ngx_http_attachments_yadisk_health(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
static ngx_int_t ngx_http_attachments_yadisk_serve(ngx_http_request_t *r,
    ngx_http_attachments_link_t *link);
static ngx_int_t ngx_http_attachments_yadisk_presign(ngx_http_request_t *r,
    ngx_http_attachments_link_t *link, ngx_str_t *url);


ngx_http_attachments_storage_kind_t  ngx_http_attachments_yadisk_kind = {
    ngx_string("yandex_disk"),
    ngx_http_attachments_yadisk_conf,
    ngx_http_attachments_yadisk_activate,
    ngx_http_attachments_yadisk_create,
    ngx_http_attachments_yadisk_delete,
    NULL,                                  /* no public area */
    ngx_http_attachments_yadisk_health,
    ngx_http_attachments_yadisk_serve,
    ngx_http_attachments_yadisk_presign,
    1,                                     /* through attachments_download */
    NULL,                                  /* no direct uploads */
    NULL,
    NULL,
    NULL,                                  /* no uploads in parts */
    NULL,
    ngx_http_attachments_yadisk_folder
};


/*
 * attachments_storage <name> yandex_disk token_file=<path>
 *     [root=disk:/Attachments] [endpoint=https://cloud-api.yandex.net]
 *     [proxy=<internal location> upload=<internal location> temp=<dir>]
 *     [ca=<file>]
 */

static char *
ngx_http_attachments_yadisk_conf(ngx_conf_t *cf,
    ngx_http_attachments_storage_t *storage, ngx_str_t *value, ngx_uint_t n)
{
    u_char                         *colon;
    ngx_int_t                       rc;
    ngx_str_t                       v, endpoint, ca, token;
    ngx_uint_t                      i;
    ngx_http_attachments_yadisk_t  *yd;

    yd = ngx_pcalloc(cf->pool, sizeof(ngx_http_attachments_yadisk_t));
    if (yd == NULL) {
        return NGX_CONF_ERROR;
    }

    storage->data = yd;

    ngx_str_set(&endpoint, "https://cloud-api.yandex.net");
    ngx_str_set(&yd->root, "disk:/Attachments");
    ngx_str_null(&ca);
    ngx_str_null(&token);

    for (i = 3; i < n; i++) {

        rc = ngx_http_attachments_cloud_param(cf, storage, &yd->cloud,
                                              &value[i], 1, &endpoint, &ca);
        if (rc == NGX_ERROR) {
            return NGX_CONF_ERROR;
        }

        if (rc == NGX_OK) {
            continue;
        }

        if (ngx_http_attachments_conf_param(&value[i], "token_file", &v)) {
            token = v;

        } else if (ngx_http_attachments_conf_param(&value[i], "root", &v)) {
            /* "disk:/A/B" or "app:/A", never ending in "/" but "disk:/" */

            while (v.len > 1 && v.data[v.len - 1] == '/'
                   && v.data[v.len - 2] != ':')
            {
                v.len--;
            }

            colon = ngx_strlchr(v.data, v.data + v.len, ':');

            if (colon == NULL || colon + 1 == v.data + v.len
                || colon[1] != '/'
                || (colon + 2 < v.data + v.len
                    && !ngx_http_attachments_key_safe(colon + 2,
                                                v.data + v.len - colon - 2)))
            {
                goto invalid;
            }

            yd->root = v;

        } else {
            goto invalid;
        }

        if (v.len == 0) {
            goto invalid;
        }
    }

    if (token.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "yandex_disk storage \"%V\" needs \"token_file=\"",
                           &storage->name);
        return NGX_CONF_ERROR;
    }

    /* the OAuth token, read once by the master */

    if (ngx_http_attachments_conf_token(cf, "token", &token, "OAuth ",
                                        &yd->auth)
        != NGX_OK
        || ngx_http_attachments_cloud_endpoint(cf, &yd->cloud, storage,
                                               &endpoint, NULL, &ca)
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", &value[i]);
    return NGX_CONF_ERROR;
}


/* the active storage receives uploads: from temp=, through both locations */

static char *
ngx_http_attachments_yadisk_activate(ngx_conf_t *cf,
    ngx_http_attachments_storage_t *storage)
{
    ngx_http_attachments_yadisk_t  *yd;

    yd = storage->data;

    if (yd->cloud.proxy.len == 0 || yd->cloud.upload.len == 0
        || storage->root.len == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the yandex_disk storage \"%V\" receives uploads "
                           "and needs \"proxy=\" (an internal location that "
                           "proxy_pass'es to its endpoint), \"upload=\" (one "
                           "that proxy_pass'es to $attachments_storage_url) "
                           "and \"temp=\"", &storage->name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_attachments_yadisk_create(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    return ngx_http_attachments_yadisk_start(r, op,
                                             NGX_HTTP_ATTACHMENTS_YD_HREF);
}


/*
 * The folder op->key (its parent is there), its id its path on the disk;
 * a folder at the top is made with the root, which may not be there yet
 */

static ngx_int_t
ngx_http_attachments_yadisk_folder(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    return ngx_http_attachments_yadisk_start(r, op,
                                             NGX_HTTP_ATTACHMENTS_YD_FOLDER);
}


static ngx_int_t
ngx_http_attachments_yadisk_delete(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    return ngx_http_attachments_yadisk_start(r, op,
                                             NGX_HTTP_ATTACHMENTS_YD_DELETE);
}


static ngx_int_t
ngx_http_attachments_yadisk_health(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    ngx_str_null(&op->key);

    return ngx_http_attachments_yadisk_start(r, op,
                                             NGX_HTTP_ATTACHMENTS_YD_HEALTH);
}


/* an operation's run, and its path on the disk */

static ngx_http_attachments_yadisk_run_t *
ngx_http_attachments_yadisk_run(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op,
    ngx_http_attachments_yadisk_stage_e stage)
{
    u_char                             *p;
    ngx_http_attachments_yadisk_t      *yd;
    ngx_http_attachments_yadisk_run_t  *run;

    yd = op->storage->data;

    if (op->key.len
        && !ngx_http_attachments_key_safe(op->key.data, op->key.len))
    {
        return NULL;
    }

    run = ngx_http_attachments_cloud_run(r, op,
                                    sizeof(ngx_http_attachments_yadisk_run_t),
                                    ngx_http_attachments_yadisk_next);
    if (run == NULL) {
        return NULL;
    }

    run->run.stage = stage;
    run->made = (ngx_strlchr(op->key.data, op->key.data + op->key.len, '/')
                 != NULL);
    op->gone = 0;

    run->path.data = ngx_pnalloc(run->run.pool,
                                 yd->root.len + 1 + op->key.len);
    if (run->path.data == NULL) {
        return NULL;
    }

    p = ngx_cpymem(run->path.data, yd->root.data, yd->root.len);
    run->root = yd->root.len;

    if (op->key.len) {
        if (p[-1] != '/') {
            *p++ = '/';
        }

        p = ngx_cpymem(p, op->key.data, op->key.len);
    }

    run->path.len = p - run->path.data;

    return run;
}


/* an operation's first step: NGX_AGAIN, or NGX_OK with op->status */

static ngx_int_t
ngx_http_attachments_yadisk_start(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op,
    ngx_http_attachments_yadisk_stage_e stage)
{
    ngx_http_attachments_yadisk_run_t  *run;

    if (r == NULL && stage != NGX_HTTP_ATTACHMENTS_YD_DELETE) {
        return NGX_DECLINED;
    }

    run = ngx_http_attachments_yadisk_run(r, op, stage);
    if (run == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_attachments_cloud_started(r, &run->run,
                                  ngx_http_attachments_yadisk_send(r, run));
}


/* the step of run's stage, sent: NGX_AGAIN, or it could not be */

static ngx_int_t
ngx_http_attachments_yadisk_send(ngx_http_request_t *r,
    ngx_http_attachments_yadisk_run_t *run)
{
    u_char                                *p;
    size_t                                 n;
    ngx_str_t                              path, extra;
    ngx_pool_t                            *pool;
    ngx_keyval_t                          *h;
    ngx_http_attachments_yadisk_t         *yd;
    ngx_http_attachments_storage_op_t     *step;
    ngx_http_attachments_cloud_request_t   rq;

    step = &run->run.step;
    yd = step->storage->data;
    pool = run->run.pool;

    ngx_str_null(&step->url);
    ngx_str_null(&step->head);
    step->head_size = 0;
    step->received = 0;
    step->size = 0;
    step->status = 0;

    path = run->path;
    ngx_str_null(&extra);
    ngx_str_set(&rq.path, "/v1/disk/resources");
    ngx_str_set(&rq.method, "GET");
    step->method = NGX_HTTP_GET;

    switch (run->run.stage) {

    case NGX_HTTP_ATTACHMENTS_YD_FOLDER:
        if (!run->made) {
            path.len = run->root;
        }

        ngx_str_set(&rq.method, "PUT");
        step->method = NGX_HTTP_PUT;
        break;

    case NGX_HTTP_ATTACHMENTS_YD_HREF:
        ngx_str_set(&rq.path, "/v1/disk/resources/upload");
        ngx_str_set(&extra, "&overwrite=false");
        break;

    case NGX_HTTP_ATTACHMENTS_YD_PUT:
        /* the disk's own address, no token: the bytes from the file */
        step->url = run->href;
        step->file = run->run.op->file;
        step->size = run->run.op->size;
        step->offset = 0;
        step->method = NGX_HTTP_PUT;
        ngx_str_set(&rq.method, "PUT");
        rq.headers = NULL;
        rq.n = 0;
        ngx_str_null(&rq.args);

        return ngx_http_attachments_cloud_send(r, &yd->cloud, step, &rq);

    case NGX_HTTP_ATTACHMENTS_YD_CHECK:
        ngx_str_set(&extra, "&fields=size%2Csha256");
        break;

    case NGX_HTTP_ATTACHMENTS_YD_DELETE:
        ngx_str_set(&rq.method, "DELETE");
        step->method = NGX_HTTP_DELETE;
        ngx_str_set(&extra, "&permanently=true");
        break;

    case NGX_HTTP_ATTACHMENTS_YD_GONE:
    case NGX_HTTP_ATTACHMENTS_YD_HEALTH:
        ngx_str_set(&extra, "&fields=path");
        break;

    default: /* NGX_HTTP_ATTACHMENTS_YD_DOWNLOAD */
        ngx_str_set(&rq.path, "/v1/disk/resources/download");
    }

    /* what the step's answer says beyond its status is read from JSON */

    if ((run->run.stage == NGX_HTTP_ATTACHMENTS_YD_HREF
         || run->run.stage == NGX_HTTP_ATTACHMENTS_YD_FOLDER
         || run->run.stage == NGX_HTTP_ATTACHMENTS_YD_CHECK
         || run->run.stage == NGX_HTTP_ATTACHMENTS_YD_DOWNLOAD)
        && ngx_http_attachments_cloud_answer_room(pool, step,
                                          NGX_HTTP_ATTACHMENTS_YADISK_ANSWER)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    n = ngx_http_attachments_aws_escape(NULL, path.data, path.len, 0);

    rq.args.data = ngx_pnalloc(pool, sizeof("path=") - 1 + n + extra.len);
    h = ngx_palloc(pool, 2 * sizeof(ngx_keyval_t));
    if (rq.args.data == NULL || h == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(rq.args.data, "path=", 5);
    p += ngx_http_attachments_aws_escape(p, path.data, path.len, 0);
    p = ngx_cpymem(p, extra.data, extra.len);
    rq.args.len = p - rq.args.data;

    ngx_str_set(&h[0].key, "Authorization");
    h[0].value = yd->auth;
    ngx_str_set(&h[1].key, "Accept");
    ngx_str_set(&h[1].value, "application/json");

    rq.headers = h;
    rq.n = 2;

    return ngx_http_attachments_cloud_send(r, &yd->cloud, step, &rq);
}


/*
 * What the step's answer means: NGX_AGAIN, the next step is under way;
 * NGX_OK, the operation ended with run->op->status
 */

static ngx_int_t
ngx_http_attachments_yadisk_next(ngx_http_request_t *r,
    ngx_http_attachments_cloud_run_t *cr)
{
    ngx_uint_t                          status;
    ngx_http_attachments_storage_op_t  *op;
    ngx_http_attachments_yadisk_run_t  *run;

    run = (ngx_http_attachments_yadisk_run_t *) cr;
    op = cr->op;
    status = cr->step.status;

    switch (cr->stage) {

    case NGX_HTTP_ATTACHMENTS_YD_FOLDER:
        if (status == NGX_HTTP_CONFLICT
            && ngx_http_attachments_yadisk_no_path(cr))
        {
            /* a folder above went (a cached one): the caller starts over */
            op->gone = 1;
            status = NGX_HTTP_NOT_FOUND;
            break;
        }

        /* 409: that folder is there already (or was made meanwhile) */
        if (ngx_http_attachments_op_done(&cr->step)
            || status == NGX_HTTP_CONFLICT)
        {
            if (!run->made) {
                run->made = 1;
                goto next;
            }

            op->parent = run->path;
            status = NGX_HTTP_CREATED;
        }

        break;

    case NGX_HTTP_ATTACHMENTS_YD_HREF:
        if (status == NGX_HTTP_CONFLICT) {
            if (ngx_http_attachments_yadisk_no_path(cr)) {
                /* the folder went: the caller makes it again */
                op->gone = 1;
                status = NGX_HTTP_NOT_FOUND;
            }

            break;
        }

        if (!ngx_http_attachments_op_done(&cr->step)) {
            break;
        }

        if (ngx_http_attachments_cloud_answer(cr, "href", &run->href)
            != NGX_OK
            || !ngx_http_attachments_yadisk_href(cr, &run->href))
        {
            status = NGX_HTTP_BAD_GATEWAY;
            break;
        }

        cr->stage = NGX_HTTP_ATTACHMENTS_YD_PUT;
        goto next;

    case NGX_HTTP_ATTACHMENTS_YD_PUT:
        if (status == NGX_HTTP_CONFLICT) {
            /* its folder went since the address was given */
            op->gone = 1;
            status = NGX_HTTP_NOT_FOUND;
            break;
        }

        if (!ngx_http_attachments_op_done(&cr->step)) {
            /* some bytes may have landed under the name */
            op->uncertain = 1;
            break;
        }

        /* 202: taken, on the disk a little later */
        run->looks = (status == NGX_HTTP_ACCEPTED) ? 1 : 0;
        cr->stage = NGX_HTTP_ATTACHMENTS_YD_CHECK;
        goto next;

    case NGX_HTTP_ATTACHMENTS_YD_CHECK:
        if (status == NGX_HTTP_NOT_FOUND && run->looks
            && run->looks++ < NGX_HTTP_ATTACHMENTS_YADISK_LOOKS)
        {
            return ngx_http_attachments_cloud_later(cr, 500,
                                             ngx_http_attachments_yadisk_look);
        }

        if (!ngx_http_attachments_op_done(&cr->step)
            || ngx_http_attachments_yadisk_checked(run) != NGX_OK)
        {
            op->uncertain = 1;
            status = NGX_HTTP_BAD_GATEWAY;
            break;
        }

        status = NGX_HTTP_CREATED;
        break;

    case NGX_HTTP_ATTACHMENTS_YD_DELETE:
        if (status == NGX_HTTP_ACCEPTED) {
            /* deleted in the background: done once it is not there */
            cr->stage = NGX_HTTP_ATTACHMENTS_YD_GONE;
            goto next;
        }

        /* not there is as good as deleted */
        if (status == NGX_HTTP_NOT_FOUND) {
            status = NGX_HTTP_NO_CONTENT;
        }

        break;

    case NGX_HTTP_ATTACHMENTS_YD_GONE:
        status = (status == NGX_HTTP_NOT_FOUND) ? NGX_HTTP_NO_CONTENT
                 : ngx_http_attachments_op_done(&cr->step)
                 ? NGX_HTTP_SERVICE_UNAVAILABLE : status;
        break;

    default: /* HEALTH, DOWNLOAD: their answers are the caller's */
        break;
    }

    op->status = status;

    return NGX_OK;

next:

    return ngx_http_attachments_cloud_sent(cr,
                                      ngx_http_attachments_yadisk_send(r, run));
}


/*
 * An address the disk gave (to upload to, to redirect to): a URL of the
 * endpoint's scheme (https, but against an http test endpoint), nothing
 * in it that could end a header or a request line
 */

static ngx_uint_t
ngx_http_attachments_yadisk_href(ngx_http_attachments_cloud_run_t *cr,
    ngx_str_t *href)
{
    u_char                         *p;
    ngx_http_attachments_yadisk_t  *yd;

    yd = cr->op->storage->data;

    for (p = href->data; p < href->data + href->len; p++) {
        if (*p <= ' ' || *p >= 0x7f || *p == '#') {
            break;
        }
    }

    if (p == href->data + href->len
        && href->len > yd->cloud.scheme.len
        && ngx_strncmp(href->data, yd->cloud.scheme.data,
                       yd->cloud.scheme.len) == 0)
    {
        return 1;
    }

    ngx_log_error(NGX_LOG_ERR, cr->step.log, 0,
                  "attachments: yandex_disk gave an address that is none: "
                  "\"%*s\"", (size_t) ngx_min(href->len, 200), href->data);

    return 0;
}


/* the disk's 409 says a folder of the path is not there */

static ngx_uint_t
ngx_http_attachments_yadisk_no_path(ngx_http_attachments_cloud_run_t *cr)
{
    ngx_str_t  error;

    return ngx_http_attachments_cloud_answer(cr, "error", &error) == NGX_OK
           && error.len == sizeof("DiskPathDoesntExistsError") - 1
           && ngx_strncmp(error.data, "DiskPathDoesntExistsError", error.len)
              == 0;
}


/* a file the disk took "later" looked for again */

static ngx_int_t
ngx_http_attachments_yadisk_look(ngx_http_request_t *r,
    ngx_http_attachments_cloud_run_t *cr)
{
    return ngx_http_attachments_cloud_sent(cr,
               ngx_http_attachments_yadisk_send(r,
                                   (ngx_http_attachments_yadisk_run_t *) cr));
}


/* the file on the disk is the one sent: its size and SHA-256 */

static ngx_int_t
ngx_http_attachments_yadisk_checked(ngx_http_attachments_yadisk_run_t *run)
{
    json_t                             *json;
    const char                         *sha;
    json_error_t                        err;
    ngx_http_attachments_storage_op_t  *op;

    op = run->run.op;

    json = json_loadb((char *) run->run.step.head.data,
                      run->run.step.head.len, 0, &err);
    if (json == NULL) {
        return NGX_ERROR;
    }

    sha = json_string_value(json_object_get(json, "sha256"));

    if (json_integer_value(json_object_get(json, "size")) != op->size
        || sha == NULL || ngx_strlen(sha) != 64 || op->sha256 == NULL
        || ngx_strncasecmp((u_char *) sha, op->sha256, 64) != 0)
    {
        ngx_log_error(NGX_LOG_ERR, op->log, 0,
                      "attachments: yandex_disk holds \"%V\" with another "
                      "size or SHA-256 than was sent: %*s",
                      &run->path,
                      (size_t) ngx_min(run->run.step.head.len, 300),
                      run->run.step.head.data);
        json_decref(json);
        return NGX_ERROR;
    }

    json_decref(json);

    return NGX_OK;
}


/*
 * The signed URLs of a disk's files are nginx's own, served by its
 * attachments_download location through ngx_http_attachments_yadisk_serve()
 */

static ngx_int_t
ngx_http_attachments_yadisk_presign(ngx_http_request_t *r,
    ngx_http_attachments_link_t *link, ngx_str_t *url)
{
    return ngx_http_attachments_local_sign(r, link, url);
}


/*
 * A download: 302 to the link the disk gives for a while.  NGX_DONE, the
 * request is answered when the disk has answered.
 */

static ngx_int_t
ngx_http_attachments_yadisk_serve(ngx_http_request_t *r,
    ngx_http_attachments_link_t *link)
{
    ngx_http_attachments_storage_op_t  *op;
    ngx_http_attachments_yadisk_run_t  *run;

    op = ngx_pcalloc(r->pool, sizeof(ngx_http_attachments_storage_op_t));
    if (op == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    op->storage = link->storage;
    op->key = link->key;
    op->log = r->connection->log;

    run = ngx_http_attachments_yadisk_run(r, op,
                                          NGX_HTTP_ATTACHMENTS_YD_DOWNLOAD);
    if (run == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    run->run.serve = r;
    run->run.served = ngx_http_attachments_yadisk_served;

    if (ngx_http_attachments_yadisk_send(r, run) != NGX_AGAIN) {
        return ngx_http_attachments_send_unavailable(r);
    }

    r->main->count++;

    return NGX_DONE;
}


static void
ngx_http_attachments_yadisk_served(ngx_http_request_t *r,
    ngx_http_attachments_cloud_run_t *run)
{
    ngx_int_t          rc;
    ngx_str_t          href;
    ngx_table_elt_t   *h;
    ngx_connection_t  *c;

    c = r->connection;

    if (run->op->status == NGX_HTTP_NOT_FOUND) {
        rc = ngx_http_attachments_send_error(r, NGX_HTTP_NOT_FOUND,
                                             "not_found",
                                             "the file is not on the disk");

    } else if (!ngx_http_attachments_op_done(run->op)
               || ngx_http_attachments_cloud_answer(run, "href", &href)
                  != NGX_OK
               || !ngx_http_attachments_yadisk_href(run, &href))
    {
        rc = ngx_http_attachments_send_unavailable(r);

    } else {
        h = ngx_http_attachments_add_header(r, "Location", NULL);

        if (h == NULL) {
            rc = NGX_HTTP_INTERNAL_SERVER_ERROR;

        } else {
            h->value = href;
            r->headers_out.location = h;
            rc = NGX_HTTP_MOVED_TEMPORARILY;
        }
    }

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}
