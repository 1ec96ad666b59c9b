
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * The "google_drive" storage kind: files in a Google Drive, through Drive
 * API v3 (www.googleapis.com/drive/v3, "Authorization: Bearer <token>",
 * tokens from ngx_http_attachments_gdrive_auth.c), sent by the cloud
 * kinds' client (ngx_http_attachments_cloud.c).  A key is a path under the
 * storage's root folder, as on every drive; on Drive the file is named
 * for its last part ("<uuid>-<name>", unique) in the folder the folder
 * cache gives, and is found by that name when it is deleted or served, so
 * the collector finds whatever an upload left under a key.  Folders are
 * "application/vnd.google-apps.folder" files, found by name in their
 * parent or made.  A file goes up as a resumable upload (a session, then
 * the bytes, unbounded in size), and the size and SHA-256 Drive reports
 * are held to the upload's.  Drive has no anonymous link: a download is an
 * internal redirect to proxy=, files/{id}?alt=media with the token, the
 * client's Range passed through.  A token the API refuses (401) is
 * dropped and a new one asked for, once per operation.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_sign.h"
#include "ngx_http_attachments_input.h"
#include "ngx_http_attachments_json.h"
#include "ngx_http_attachments_conf.h"
#include "ngx_http_attachments_storage.h"
#include "ngx_http_attachments_local.h"
#include "ngx_http_attachments_proxy.h"
#include "ngx_http_attachments_cloud.h"
#include "ngx_http_attachments_gdrive_auth.h"
#include "ngx_http_attachments_gdrive_api.h"
#include "ngx_http_attachments_gdrive.h"


static char *ngx_http_attachments_gdrive_conf(ngx_conf_t *cf,
    ngx_http_attachments_storage_t *storage, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_attachments_gdrive_activate(ngx_conf_t *cf,
    ngx_http_attachments_storage_t *storage);
static ngx_int_t ngx_http_attachments_gdrive_start(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op,
    ngx_http_attachments_gdrive_stage_e stage,
    ngx_http_attachments_gdrive_run_t **runp);
static ngx_int_t ngx_http_attachments_gdrive_next(ngx_http_request_t *r,
    ngx_http_attachments_cloud_run_t *cr);
static void ngx_http_attachments_gdrive_served(ngx_http_request_t *r,
    ngx_http_attachments_cloud_run_t *cr);
static ngx_int_t ngx_http_attachments_gdrive_create(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
static ngx_int_t ngx_http_attachments_gdrive_folder(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
static ngx_int_t ngx_http_attachments_gdrive_delete(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
static ngx_int_t ngx_http_attachments_gdrive_health(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
static ngx_int_t ngx_http_attachments_gdrive_serve(ngx_http_request_t *r,
    ngx_http_attachments_link_t *link);
static ngx_int_t ngx_http_attachments_gdrive_presign(ngx_http_request_t *r,
    ngx_http_attachments_link_t *link, ngx_str_t *url);


ngx_http_attachments_storage_kind_t  ngx_http_attachments_gdrive_kind = {
    ngx_string("google_drive"),
    ngx_http_attachments_gdrive_conf,
    ngx_http_attachments_gdrive_activate,
    ngx_http_attachments_gdrive_create,
    ngx_http_attachments_gdrive_delete,
    NULL,                                  /* no public area */
    ngx_http_attachments_gdrive_health,
    ngx_http_attachments_gdrive_serve,
    ngx_http_attachments_gdrive_presign,
    1,                                     /* through attachments_download */
    NULL,                                  /* no direct uploads */
    NULL,
    NULL,
    NULL,                                  /* no uploads in parts */
    NULL,
    ngx_http_attachments_gdrive_folder
};


/*
 * attachments_storage <name> google_drive
 *     (credentials=<service account key file>
 *      | client_id=<id> client_secret_file=<path> refresh_token_file=<path>)
 *     [folder=<root folder id>] [endpoint=https://www.googleapis.com]
 *     [token_uri=<url>] [proxy=<location> token=<location> temp=<dir>]
 *     [upload=<location>] [ca=<file>]
 */

static char *
ngx_http_attachments_gdrive_conf(ngx_conf_t *cf,
    ngx_http_attachments_storage_t *storage, ngx_str_t *value, ngx_uint_t n)
{
    ngx_int_t                       rc;
    ngx_str_t                       v, endpoint, ca, credentials, token_uri;
    ngx_str_t                       secret, refresh;
    ngx_uint_t                      i;
    ngx_http_attachments_gdrive_t  *gd;

    gd = ngx_pcalloc(cf->pool, sizeof(ngx_http_attachments_gdrive_t));
    if (gd == NULL) {
        return NGX_CONF_ERROR;
    }

    storage->data = gd;

    ngx_str_set(&endpoint, "https://www.googleapis.com");
    ngx_str_set(&gd->folder, "root");
    ngx_str_null(&ca);
    ngx_str_null(&credentials);
    ngx_str_null(&token_uri);
    ngx_str_null(&secret);
    ngx_str_null(&refresh);

    for (i = 3; i < n; i++) {

        rc = ngx_http_attachments_cloud_param(cf, storage, &gd->cloud,
                                              &value[i], 0, &endpoint, &ca);
        if (rc == NGX_ERROR) {
            return NGX_CONF_ERROR;
        }

        if (rc == NGX_OK) {
            continue;
        }

        if (ngx_http_attachments_conf_param(&value[i], "token", &v)) {
            /* the token endpoint's location */
            if (ngx_http_attachments_conf_prefix(cf, &value[i],
                                                 "location prefix",
                                                 &gd->oauth.proxy)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_http_attachments_conf_param(&value[i], "credentials", &v)) {
            credentials = v;

        } else if (ngx_http_attachments_conf_param(&value[i], "client_id",
                                                   &v))
        {
            gd->client_id = v;

        } else if (ngx_http_attachments_conf_param(&value[i],
                                                   "client_secret_file", &v))
        {
            secret = v;

        } else if (ngx_http_attachments_conf_param(&value[i],
                                                   "refresh_token_file", &v))
        {
            refresh = v;

        } else if (ngx_http_attachments_conf_param(&value[i], "token_uri",
                                                   &v))
        {
            token_uri = v;

        } else if (ngx_http_attachments_conf_param(&value[i], "folder", &v)) {
            /* a Drive id: letters, digits, "-" and "_" */
            if (!ngx_http_attachments_entity_id_valid(v.data, v.len)) {
                goto invalid;
            }

            gd->folder = v;

        } else {
            goto invalid;
        }

        if (v.len == 0) {
            goto invalid;
        }
    }

    /* a service account, or an OAuth client and a refresh token */

    if ((credentials.len == 0)
        == (gd->client_id.len == 0 || secret.len == 0 || refresh.len == 0))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "google_drive storage \"%V\" needs either "
                           "\"credentials=\" or \"client_id=\", "
                           "\"client_secret_file=\" and "
                           "\"refresh_token_file=\"", &storage->name);
        return NGX_CONF_ERROR;
    }

    if ((secret.len
         && (ngx_http_attachments_conf_token(cf, "client secret", &secret, "",
                                             &gd->client_secret)
             != NGX_OK
             || ngx_http_attachments_conf_token(cf, "refresh token",
                                                &refresh, "",
                                                &gd->refresh_token)
                != NGX_OK))
        || ngx_http_attachments_gdrive_credentials(cf, storage, &credentials,
                                                   &token_uri, &ca)
           != NGX_OK
        || ngx_http_attachments_cloud_endpoint(cf, &gd->cloud, storage,
                                               &endpoint, NULL, &ca)
           != NGX_OK
        || ngx_http_attachments_gdrive_token_zone(cf, storage) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", &value[i]);
    return NGX_CONF_ERROR;
}


/* the active storage receives uploads: from temp=, through the locations */

static char *
ngx_http_attachments_gdrive_activate(ngx_conf_t *cf,
    ngx_http_attachments_storage_t *storage)
{
    ngx_http_attachments_gdrive_t  *gd;

    gd = storage->data;

    if (gd->cloud.proxy.len == 0 || gd->oauth.proxy.len == 0
        || storage->root.len == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the google_drive storage \"%V\" receives uploads "
                           "and needs \"proxy=\" (an internal location that "
                           "proxy_pass'es to its endpoint), \"token=\" (one "
                           "that proxy_pass'es to its token URI's host) and "
                           "\"temp=\"", &storage->name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_attachments_gdrive_create(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    return ngx_http_attachments_gdrive_start(r, op,
                                       NGX_HTTP_ATTACHMENTS_GD_SESSION, NULL);
}


/* the folder op->key's last part in the folder op->parent: found or made */

static ngx_int_t
ngx_http_attachments_gdrive_folder(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    return ngx_http_attachments_gdrive_start(r, op,
                                   NGX_HTTP_ATTACHMENTS_GD_FIND_FOLDER, NULL);
}


static ngx_int_t
ngx_http_attachments_gdrive_delete(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    return ngx_http_attachments_gdrive_start(r, op,
                                          NGX_HTTP_ATTACHMENTS_GD_FIND, NULL);
}


static ngx_int_t
ngx_http_attachments_gdrive_health(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    ngx_str_null(&op->key);

    return ngx_http_attachments_gdrive_start(r, op,
                                        NGX_HTTP_ATTACHMENTS_GD_HEALTH, NULL);
}


/*
 * An operation's run: its name on Drive (the key's last part), its folder
 * (op->parent, or the root), and its first step, after a token if none is
 * kept.  NGX_AGAIN, or NGX_OK with op->status.
 */

static ngx_int_t
ngx_http_attachments_gdrive_start(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op,
    ngx_http_attachments_gdrive_stage_e stage,
    ngx_http_attachments_gdrive_run_t **runp)
{
    u_char                             *p;
    ngx_int_t                           rc;
    ngx_http_attachments_gdrive_t      *gd;
    ngx_http_attachments_gdrive_run_t  *run;

    gd = op->storage->data;

    if (op->key.len
        && !ngx_http_attachments_key_safe(op->key.data, op->key.len))
    {
        return NGX_ERROR;
    }

    run = ngx_http_attachments_cloud_run(r, op,
                                    sizeof(ngx_http_attachments_gdrive_run_t),
                                    ngx_http_attachments_gdrive_next);
    if (run == NULL) {
        return NGX_ERROR;
    }

    if (runp) {
        *runp = run;
    }

    for (p = op->key.data + op->key.len; p > op->key.data && p[-1] != '/';
         p--)
    {
        /* void */
    }

    run->name.data = p;
    run->name.len = op->key.data + op->key.len - p;
    run->parent = op->parent.len ? op->parent : gd->folder;
    op->gone = 0;

    rc = ngx_http_attachments_gdrive_cached(gd, run->run.pool, &run->auth);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_DECLINED) {
        run->after = stage;
        stage = NGX_HTTP_ATTACHMENTS_GD_TOKEN;
    }

    return ngx_http_attachments_cloud_started(r, &run->run,
                            ngx_http_attachments_gdrive_send(r, run, stage));
}


/*
 * What the step's answer means: NGX_AGAIN, the next step is under way;
 * NGX_OK, the operation ended with op->status
 */

static ngx_int_t
ngx_http_attachments_gdrive_next(ngx_http_request_t *r,
    ngx_http_attachments_cloud_run_t *cr)
{
    ngx_int_t                           rc;
    ngx_uint_t                          status;
    ngx_http_attachments_gdrive_t      *gd;
    ngx_http_attachments_gdrive_run_t  *run;
    ngx_http_attachments_storage_op_t  *op;
    ngx_http_attachments_gdrive_stage_e  next;

    run = (ngx_http_attachments_gdrive_run_t *) cr;
    op = cr->op;
    gd = op->storage->data;
    status = cr->step.status;

    if (status == NGX_HTTP_UNAUTHORIZED
        && cr->stage != NGX_HTTP_ATTACHMENTS_GD_TOKEN && !run->renewed)
    {
        /* the token went (expired, revoked): a new one, once */
        ngx_http_attachments_gdrive_forget(gd, &run->auth);
        run->renewed = 1;
        run->after = cr->stage;
        next = NGX_HTTP_ATTACHMENTS_GD_TOKEN;
        goto send;
    }

    switch (cr->stage) {

    case NGX_HTTP_ATTACHMENTS_GD_TOKEN:
        if (!ngx_http_attachments_op_done(&cr->step)
            || ngx_http_attachments_gdrive_token_answer(gd, cr, &run->auth)
               != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ERR, op->log, 0,
                          "attachments: google_drive storage \"%V\" got no "
                          "token: %ui \"%*s\"", &op->storage->name, status,
                          (size_t) ngx_min(cr->step.head.len, 200),
                          cr->step.head.data);
            status = NGX_HTTP_SERVICE_UNAVAILABLE;
            break;
        }

        next = run->after;
        goto send;

    case NGX_HTTP_ATTACHMENTS_GD_FIND_FOLDER:
    case NGX_HTTP_ATTACHMENTS_GD_FIND:
    case NGX_HTTP_ATTACHMENTS_GD_DOWNLOAD:
        if (status == NGX_HTTP_NOT_FOUND) {
            /* the folder looked in is not there any more */
            op->gone = 1;
            break;
        }

        if (!ngx_http_attachments_op_done(&cr->step)) {
            break;
        }

        rc = ngx_http_attachments_gdrive_found(run);

        if (rc == NGX_ERROR) {
            status = NGX_HTTP_BAD_GATEWAY;
            break;
        }

        if (cr->stage == NGX_HTTP_ATTACHMENTS_GD_FIND_FOLDER) {
            if (rc == NGX_DECLINED) {
                next = NGX_HTTP_ATTACHMENTS_GD_MAKE_FOLDER;
                goto send;
            }

            op->parent = run->id;
            status = NGX_HTTP_CREATED;
            break;
        }

        if (rc == NGX_DECLINED) {
            /* nothing of that name: as good as deleted; not to serve */
            status = (cr->stage == NGX_HTTP_ATTACHMENTS_GD_FIND)
                     ? NGX_HTTP_NO_CONTENT : NGX_HTTP_NOT_FOUND;
            break;
        }

        if (cr->stage == NGX_HTTP_ATTACHMENTS_GD_DOWNLOAD) {
            break;
        }

        next = NGX_HTTP_ATTACHMENTS_GD_DELETE;
        goto send;

    case NGX_HTTP_ATTACHMENTS_GD_MAKE_FOLDER:
        if (status == NGX_HTTP_NOT_FOUND) {
            op->gone = 1;
            break;
        }

        if (ngx_http_attachments_op_done(&cr->step)) {
            if (ngx_http_attachments_cloud_answer(cr, "id", &op->parent)
                != NGX_OK
                || !ngx_http_attachments_entity_id_valid(op->parent.data,
                                                         op->parent.len))
            {
                status = NGX_HTTP_BAD_GATEWAY;
                break;
            }

            status = NGX_HTTP_CREATED;
        }

        break;

    case NGX_HTTP_ATTACHMENTS_GD_SESSION:
        if (status == NGX_HTTP_NOT_FOUND) {
            /* its folder went: the caller makes it again */
            op->gone = 1;
            break;
        }

        if (!ngx_http_attachments_op_done(&cr->step)) {
            break;
        }

        if (cr->step.location.len == 0) {
            status = NGX_HTTP_BAD_GATEWAY;
            break;
        }

        run->session.data = ngx_pstrdup(cr->pool, &cr->step.location);
        if (run->session.data == NULL) {
            status = NGX_HTTP_INTERNAL_SERVER_ERROR;
            break;
        }

        run->session.len = cr->step.location.len;
        next = NGX_HTTP_ATTACHMENTS_GD_PUT;
        goto send;

    case NGX_HTTP_ATTACHMENTS_GD_PUT:
        if (!ngx_http_attachments_op_done(&cr->step)
            || ngx_http_attachments_gdrive_checked(run) != NGX_OK)
        {
            /* some bytes may be there under the name */
            op->uncertain = 1;
            status = ngx_http_attachments_op_done(&cr->step)
                     ? NGX_HTTP_BAD_GATEWAY : status;
            break;
        }

        status = NGX_HTTP_CREATED;
        break;

    case NGX_HTTP_ATTACHMENTS_GD_DELETE:
        if (status == NGX_HTTP_NOT_FOUND) {
            status = NGX_HTTP_NO_CONTENT;
        }

        break;

    default: /* NGX_HTTP_ATTACHMENTS_GD_HEALTH */
        break;
    }

    op->status = status;

    return NGX_OK;

send:

    return ngx_http_attachments_cloud_sent(cr,
                                  ngx_http_attachments_gdrive_send(r, run, next));
}


/*
 * The signed URLs of a drive's files are nginx's own, served by its
 * attachments_download location through ngx_http_attachments_gdrive_serve()
 */

static ngx_int_t
ngx_http_attachments_gdrive_presign(ngx_http_request_t *r,
    ngx_http_attachments_link_t *link, ngx_str_t *url)
{
    return ngx_http_attachments_local_sign(r, link, url);
}


/*
 * A download streams through nginx: the file found by its name, then the
 * request redirected to proxy= with the token.  NGX_DONE: the request is
 * answered when Drive has answered.
 */

static ngx_int_t
ngx_http_attachments_gdrive_serve(ngx_http_request_t *r,
    ngx_http_attachments_link_t *link)
{
    ngx_int_t                           rc;
    ngx_http_attachments_storage_op_t  *op;
    ngx_http_attachments_gdrive_run_t  *run;

    op = ngx_pcalloc(r->pool, sizeof(ngx_http_attachments_storage_op_t));
    if (op == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    op->storage = link->storage;
    op->key = link->key;
    op->log = r->connection->log;

    rc = ngx_http_attachments_gdrive_start(r, op,
                                       NGX_HTTP_ATTACHMENTS_GD_DOWNLOAD, &run);

    if (rc != NGX_AGAIN) {
        return ngx_http_attachments_send_unavailable(r);
    }

    /* the link is the caller's, gone once it returned */
    run->filename.data = ngx_pstrdup(r->pool, &link->filename);
    if (run->filename.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    run->filename.len = link->filename.len;
    run->run.serve = r;
    run->run.served = ngx_http_attachments_gdrive_served;

    r->main->count++;

    return NGX_DONE;
}


static void
ngx_http_attachments_gdrive_served(ngx_http_request_t *r,
    ngx_http_attachments_cloud_run_t *cr)
{
    u_char                             *p;
    ngx_str_t                           uri, args, value;
    ngx_table_elt_t                    *h;
    ngx_connection_t                   *c;
    ngx_http_attachments_gdrive_t      *gd;
    ngx_http_attachments_gdrive_run_t  *run;

    /* r may be gone once finalized */
    c = r->connection;
    run = (ngx_http_attachments_gdrive_run_t *) cr;
    gd = cr->op->storage->data;

    if (cr->op->status == NGX_HTTP_NOT_FOUND || cr->op->gone) {
        ngx_http_finalize_request(r,
            ngx_http_attachments_send_error(r, NGX_HTTP_NOT_FOUND,
                                            "not_found",
                                            "the file is not on the drive"));
        goto done;
    }

    if (!ngx_http_attachments_op_done(cr->op) || run->id.len == 0) {
        ngx_http_finalize_request(r, ngx_http_attachments_send_unavailable(r));
        goto done;
    }

    /* proxy= with the token, and of the client's headers Range and If-Range */

    uri.len = gd->cloud.proxy.len + sizeof("drive/v3/files/") - 1
              + run->id.len;
    uri.data = ngx_pnalloc(r->pool, uri.len);

    if (uri.data == NULL
        || ngx_http_attachments_disposition_value(r->pool, &run->filename,
                                                  &value)
           != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        goto done;
    }

    p = ngx_cpymem(uri.data, gd->cloud.proxy.data, gd->cloud.proxy.len);
    p = ngx_cpymem(p, "drive/v3/files/", 15);
    ngx_memcpy(p, run->id.data, run->id.len);

    ngx_str_set(&args, "alt=media&supportsAllDrives=true");

    h = ngx_http_attachments_add_header(r, "Content-Disposition", NULL);
    if (h == NULL
        || ngx_http_attachments_add_header(r, "X-Content-Type-Options",
                                           "nosniff")
           == NULL)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        goto done;
    }

    h->value = value;

    if (ngx_http_attachments_proxy_stream(r, &uri, &args, &run->auth)
        != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        goto done;
    }

    ngx_http_finalize_request(r, NGX_DONE);

done:

    ngx_http_run_posted_requests(c);
}
