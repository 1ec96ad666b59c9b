
/*
 * The garbage collector: blobs of files soft-deleted longer than
 * attachments_gc_retention, and uploads left pending by a crash or an
 * abort longer than attachments_gc_grace.
 *
 * A timer in worker 0 only; each run claims a batch of rows in the
 * database (rows another collector claimed are skipped, so several nginx
 * nodes may share a database), deletes their blobs, then marks the rows
 * purged (or removes pending ones) with audit rows.  A row whose blob
 * could not be deleted stays for the next run: it is never forgotten
 * before its blob is gone.  Blobs are deleted through the storage
 * interface, without a request, one after the other (s3: by the module's
 * own client, ngx_http_attachments_s3_client.c).  Runs repeat at once while
 * batches come back full, then wait for the interval.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_module.h"
#include "ngx_http_attachments_input.h"
#include "ngx_http_attachments_sql.h"


#define NGX_HTTP_ATTACHMENTS_GC_BATCH  100


static void ngx_http_attachments_gc_run(ngx_event_t *ev);
typedef struct {
    ngx_http_attachments_main_conf_t   *amcf;
    PGresult                           *res;      /* the claimed rows */
    ngx_log_t                          *log;
    int                                 n;
    int                                 i;        /* row being swept */
    ngx_str_t                           ids;      /* of the rows to purge */
    u_char                             *p;
    ngx_str_t                           kept;     /* blobs that stayed */
    u_char                             *k;
    ngx_http_attachments_storage_op_t   op;
} ngx_http_attachments_gc_batch_t;


static void ngx_http_attachments_gc_sweep(
    ngx_http_attachments_gc_batch_t *gb);
static void ngx_http_attachments_gc_deleted(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op);
static void ngx_http_attachments_gc_swept(
    ngx_http_attachments_gc_batch_t *gb);
static void ngx_http_attachments_gc_purge(
    ngx_http_attachments_gc_batch_t *gb);
static void ngx_http_attachments_gc_id(u_char **p, u_char *start, char *id);
static void ngx_http_attachments_gc_claimed(
    ngx_http_attachments_pg_query_t *q);
static void ngx_http_attachments_gc_done(ngx_http_attachments_pg_query_t *q);
static ngx_int_t ngx_http_attachments_gc_unlink(ngx_log_t *log,
    ngx_http_attachments_storage_t *storage, ngx_str_t *name);
static void ngx_http_attachments_gc_next(ngx_http_attachments_main_conf_t *amcf,
    ngx_msec_t delay);
static void ngx_http_attachments_gc_tmp(ngx_http_attachments_main_conf_t *amcf,
    ngx_log_t *log);


ngx_int_t
ngx_http_attachments_gc_init(ngx_cycle_t *cycle,
    ngx_http_attachments_main_conf_t *amcf)
{
    ngx_event_t  *ev;

    if (amcf->gc_interval == 0
        || (ngx_process == NGX_PROCESS_WORKER && ngx_worker != 0))
    {
        return NGX_OK;
    }

    ev = &amcf->gc_event;
    ev->handler = ngx_http_attachments_gc_run;
    ev->data = amcf;
    ev->log = cycle->log;
    ev->cancelable = 1;

    ngx_add_timer(ev, amcf->gc_interval);

    return NGX_OK;
}


static void
ngx_http_attachments_gc_run(ngx_event_t *ev)
{
    ngx_str_t                          v[3];
    ngx_uint_t                         i;
    ngx_pool_t                        *pool;
    ngx_http_attachments_pg_query_t   *q;
    ngx_http_attachments_main_conf_t  *amcf;
    u_char                             buf[3][NGX_INT_T_LEN];

    amcf = ev->data;

    if (ngx_exiting || ngx_terminate) {
        return;
    }

    ngx_http_attachments_gc_tmp(amcf, ev->log);

    pool = ngx_create_pool(4096, ev->log);
    if (pool == NULL) {
        ngx_http_attachments_gc_next(amcf, amcf->gc_interval);
        return;
    }

    amcf->gc_pool = pool;

    q = ngx_http_attachments_pg_query(pool, ev->log, amcf->database,
                                      &ngx_http_attachments_sql_gc_claim);
    if (q == NULL) {
        goto failed;
    }

    q->handler = ngx_http_attachments_gc_claimed;
    q->data = amcf;

    v[0].data = buf[0];
    v[0].len = ngx_sprintf(buf[0], "%T", amcf->gc_retention) - buf[0];
    v[1].data = buf[1];
    v[1].len = ngx_sprintf(buf[1], "%T", amcf->gc_grace) - buf[1];
    v[2].data = buf[2];
    v[2].len = ngx_sprintf(buf[2], "%d", NGX_HTTP_ATTACHMENTS_GC_BATCH)
               - buf[2];

    for (i = 0; i < 3; i++) {
        if (ngx_http_attachments_pg_param(pool, q, &v[i]) != NGX_OK) {
            goto failed;
        }
    }

    if (ngx_http_attachments_pg_run(q) == NGX_AGAIN) {
        return;
    }

failed:

    ngx_http_attachments_gc_next(amcf, amcf->gc_interval);
}


static void
ngx_http_attachments_gc_claimed(ngx_http_attachments_pg_query_t *q)
{
    int                                 n;
    size_t                              len;
    ngx_http_attachments_gc_batch_t    *gb;
    ngx_http_attachments_main_conf_t   *amcf;

    amcf = q->data;

    if (q->rc != NGX_OK) {
        ngx_http_attachments_gc_next(amcf, amcf->gc_interval);
        return;
    }

    n = PQntuples(q->result);

    if (n == 0) {
        ngx_http_attachments_gc_next(amcf, amcf->gc_interval);
        return;
    }

    gb = ngx_pcalloc(amcf->gc_pool, sizeof(ngx_http_attachments_gc_batch_t));
    if (gb == NULL) {
        ngx_http_attachments_gc_next(amcf, amcf->gc_interval);
        return;
    }

    /* room for two array literals of n ids: purged, and kept */

    len = 2 + n * (NGX_HTTP_ATTACHMENTS_UUID_LEN + 1);

    gb->ids.data = ngx_pnalloc(amcf->gc_pool, 2 * len);
    if (gb->ids.data == NULL) {
        ngx_http_attachments_gc_next(amcf, amcf->gc_interval);
        return;
    }

    gb->amcf = amcf;
    gb->res = q->result;
    gb->log = q->log;
    gb->n = n;
    gb->p = gb->ids.data;
    *gb->p++ = '{';
    gb->kept.data = gb->ids.data + len;
    gb->k = gb->kept.data;
    *gb->k++ = '{';

    ngx_http_attachments_gc_sweep(gb);
}


/* the rows' blobs, from row gb->i on, one after the other */

static void
ngx_http_attachments_gc_sweep(ngx_http_attachments_gc_batch_t *gb)
{
    ngx_int_t                          rc;
    ngx_str_t                          name;
    ngx_http_attachments_storage_t    *storage;

    for ( /* void */ ; gb->i < gb->n; gb->i++) {
        name.data = (u_char *) PQgetvalue(gb->res, gb->i, 1);
        name.len = ngx_strlen(name.data);

        storage = ngx_http_attachments_lookup_storage(gb->amcf, &name);

        if (storage == NULL) {
            ngx_log_error(NGX_LOG_WARN, gb->log, 0,
                          "attachments gc: file %s is in storage \"%V\", "
                          "which is not configured; kept",
                          PQgetvalue(gb->res, gb->i, 0), &name);
            continue;
        }

        ngx_memzero(&gb->op, sizeof(ngx_http_attachments_storage_op_t));
        gb->op.storage = storage;
        gb->op.key.data = (u_char *) PQgetvalue(gb->res, gb->i, 2);
        gb->op.key.len = ngx_strlen(gb->op.key.data);
        gb->op.log = gb->log;
        gb->op.pool = gb->amcf->gc_pool;
        gb->op.handler = ngx_http_attachments_gc_deleted;
        gb->op.data = gb;

        rc = storage->kind->delete(NULL, &gb->op);

        if (rc == NGX_AGAIN) {
            return;
        }

        if (rc == NGX_DECLINED) {
            ngx_log_error(NGX_LOG_WARN, gb->log, 0,
                          "attachments gc: file %s: storage \"%V\" cannot "
                          "delete it now; kept",
                          PQgetvalue(gb->res, gb->i, 0), &name);
            continue;
        }

        ngx_http_attachments_gc_swept(gb);
    }

    ngx_http_attachments_gc_purge(gb);
}


static void
ngx_http_attachments_gc_deleted(ngx_http_request_t *r,
    ngx_http_attachments_storage_op_t *op)
{
    ngx_http_attachments_gc_batch_t  *gb = op->data;

    ngx_http_attachments_gc_swept(gb);

    gb->i++;
    ngx_http_attachments_gc_sweep(gb);
}


/* row gb->i's blob was asked to go: its id joins the purge if it is gone */

static void
ngx_http_attachments_gc_swept(ngx_http_attachments_gc_batch_t *gb)
{
    ngx_str_t   key;
    ngx_uint_t  gone;
    u_char      tmp[sizeof(".tmp/") - 1 + NGX_HTTP_ATTACHMENTS_UUID_LEN];

    /* a blob already gone is gone */
    gone = ngx_http_attachments_op_done(&gb->op)
           || gb->op.status == NGX_HTTP_NOT_FOUND;

    if (!gone) {
        ngx_log_error(NGX_LOG_ERR, gb->log, 0,
                      "attachments gc: the blob of file %s stays; "
                      "the row waits for the next run",
                      PQgetvalue(gb->res, gb->i, 0));
        ngx_http_attachments_gc_id(&gb->k, gb->kept.data,
                                   PQgetvalue(gb->res, gb->i, 0));
        return;
    }

    /* an upload that stopped before its rename left the temporary */

    if (PQgetvalue(gb->res, gb->i, 3)[0] == 'p'
        && gb->op.storage->root.len)
    {
        key.data = tmp;
        key.len = ngx_cpymem(ngx_cpymem(tmp, ".tmp/", 5),
                             PQgetvalue(gb->res, gb->i, 0),
                             NGX_HTTP_ATTACHMENTS_UUID_LEN)
                  - tmp;

        if (ngx_http_attachments_gc_unlink(gb->log, gb->op.storage, &key)
            != NGX_OK)
        {
            ngx_http_attachments_gc_id(&gb->k, gb->kept.data,
                                       PQgetvalue(gb->res, gb->i, 0));
            return;
        }
    }

    ngx_http_attachments_gc_id(&gb->p, gb->ids.data,
                               PQgetvalue(gb->res, gb->i, 0));
}


/* an id appended to an array literal begun at start */

static void
ngx_http_attachments_gc_id(u_char **p, u_char *start, char *id)
{
    if (*p != start + 1) {
        *(*p)++ = ',';
    }

    *p = ngx_cpymem(*p, id, NGX_HTTP_ATTACHMENTS_UUID_LEN);
}


/* the rows whose blobs are gone: purged, or removed if pending */

static void
ngx_http_attachments_gc_purge(ngx_http_attachments_gc_batch_t *gb)
{
    ngx_http_attachments_pg_query_t    *done;
    ngx_http_attachments_main_conf_t   *amcf;

    amcf = gb->amcf;

    *gb->p++ = '}';
    gb->ids.len = gb->p - gb->ids.data;
    *gb->k++ = '}';
    gb->kept.len = gb->k - gb->kept.data;

    done = ngx_http_attachments_pg_query(amcf->gc_pool, gb->log,
                                         amcf->database,
                                         &ngx_http_attachments_sql_gc_done);
    if (done == NULL
        || ngx_http_attachments_pg_param(amcf->gc_pool, done, &gb->ids)
           != NGX_OK
        || ngx_http_attachments_pg_param(amcf->gc_pool, done, &gb->kept)
           != NGX_OK)
    {
        ngx_http_attachments_gc_next(amcf, amcf->gc_interval);
        return;
    }

    done->handler = ngx_http_attachments_gc_done;
    done->data = amcf;

    /* a full batch: more may wait */
    amcf->gc_more = (gb->n == NGX_HTTP_ATTACHMENTS_GC_BATCH);

    if (ngx_http_attachments_pg_run(done) != NGX_AGAIN) {
        ngx_http_attachments_gc_next(amcf, amcf->gc_interval);
    }
}


static void
ngx_http_attachments_gc_done(ngx_http_attachments_pg_query_t *q)
{
    ngx_http_attachments_main_conf_t  *amcf;

    amcf = q->data;

    if (q->rc == NGX_OK && PQntuples(q->result) == 1) {
        ngx_log_error(NGX_LOG_INFO, q->log, 0,
                      "attachments gc: %s deleted file(s) purged, "
                      "%s pending upload(s) removed",
                      PQgetvalue(q->result, 0, 0),
                      PQgetvalue(q->result, 0, 1));
    }

    ngx_http_attachments_gc_next(amcf, amcf->gc_more && q->rc == NGX_OK
                                       ? 1 : amcf->gc_interval);
}


/* a blob gone, or already gone, is NGX_OK */

static ngx_int_t
ngx_http_attachments_gc_unlink(ngx_log_t *log,
    ngx_http_attachments_storage_t *storage, ngx_str_t *key)
{
    u_char     *p;
    ngx_err_t   err;
    u_char      path[NGX_MAX_PATH];

    if (!ngx_http_attachments_key_safe(key->data, key->len)
        || storage->root.len + 1 + key->len >= NGX_MAX_PATH)
    {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "attachments gc: refusing key \"%V\"", key);
        return NGX_ERROR;
    }

    p = ngx_cpymem(path, storage->root.data, storage->root.len);
    *p++ = '/';
    p = ngx_cpymem(p, key->data, key->len);
    *p = '\0';

    if (ngx_delete_file(path) == NGX_FILE_ERROR) {
        err = ngx_errno;

        if (err != NGX_ENOENT) {
            ngx_log_error(NGX_LOG_ERR, log, err,
                          "attachments gc: " ngx_delete_file_n " \"%s\" "
                          "failed; the row waits for the next run", path);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static void
ngx_http_attachments_gc_next(ngx_http_attachments_main_conf_t *amcf,
    ngx_msec_t delay)
{
    if (amcf->gc_pool) {
        ngx_destroy_pool(amcf->gc_pool);
        amcf->gc_pool = NULL;
    }

    if (!ngx_exiting && !ngx_terminate) {
        ngx_add_timer(&amcf->gc_event, delay);
    }
}


/*
 * Temporary files of uploads that died with their worker have no row:
 * those untouched for longer than the grace go.
 */

static void
ngx_http_attachments_gc_tmp(ngx_http_attachments_main_conf_t *amcf,
    ngx_log_t *log)
{
    u_char                           *p;
    ngx_str_t                         name;
    ngx_dir_t                         dir;
    ngx_uint_t                        i;
    ngx_http_attachments_storage_t  **sp;
    u_char                            path[NGX_MAX_PATH];

    sp = amcf->storages.elts;

    for (i = 0; i < amcf->storages.nelts; i++) {

        if (sp[i]->root.len == 0
            || sp[i]->root.len + sizeof("/.tmp/")
               + NGX_HTTP_ATTACHMENTS_UUID_LEN >= NGX_MAX_PATH)
        {
            continue;
        }

        p = ngx_cpymem(path, sp[i]->root.data, sp[i]->root.len);
        p = ngx_cpymem(p, "/.tmp", 5);
        *p = '\0';

        name.data = path;
        name.len = p - path;

        if (ngx_open_dir(&name, &dir) != NGX_OK) {
            continue;
        }

        *p++ = '/';

        while (ngx_read_dir(&dir) == NGX_OK) {

            if (ngx_de_namelen(&dir) != NGX_HTTP_ATTACHMENTS_UUID_LEN) {
                continue;
            }

            ngx_memcpy(p, ngx_de_name(&dir), NGX_HTTP_ATTACHMENTS_UUID_LEN);
            p[NGX_HTTP_ATTACHMENTS_UUID_LEN] = '\0';

            if (ngx_de_info(path, &dir) == NGX_FILE_ERROR
                || !ngx_de_is_file(&dir)
                || ngx_de_mtime(&dir) > ngx_time() - amcf->gc_grace)
            {
                continue;
            }

            if (ngx_delete_file(path) == NGX_FILE_ERROR) {
                ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                              "attachments gc: " ngx_delete_file_n
                              " \"%s\" failed", path);
                continue;
            }

            ngx_log_error(NGX_LOG_INFO, log, 0,
                          "attachments gc: stale temporary \"%s\" removed",
                          path);
        }

        (void) ngx_close_dir(&dir);
    }
}
