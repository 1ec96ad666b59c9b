
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * Resumable uploads, appended to: PATCH (and a creation's body) at the
 * offset the upload holds, of tus's type, checked as it comes against
 * Upload-Checksum.  A request body filter hands every chunk, as nginx
 * reads it, to the store (ngx_http_attachments_tus_store.c); nothing is
 * buffered.  A PATCH with Upload-Checksum keeps nothing unless the whole
 * of it matches; a refused one keeps nothing since its last count.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <openssl/evp.h>

#include "ngx_http_attachments_json.h"
#include "ngx_http_attachments_sql.h"
#include "ngx_http_attachments_request.h"
#include "ngx_http_attachments_undo.h"
#include "ngx_http_attachments_tus_store.h"
#include "ngx_http_attachments_tus_parts.h"
#include "ngx_http_attachments_tus_patch.h"


#define NGX_HTTP_ATTACHMENTS_TUS_TYPE      "application/offset+octet-stream"


static ngx_int_t ngx_http_attachments_tus_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static void ngx_http_attachments_tus_read(ngx_http_request_t *r);
#if (NGX_HTTP_V2)
static void ngx_http_attachments_tus_answer_h2(ngx_http_request_t *r);
static void ngx_http_attachments_tus_refused_h2(ngx_http_request_t *r);
#endif
static void ngx_http_attachments_tus_received(ngx_http_request_t *r);
static void ngx_http_attachments_tus_parted(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t, ngx_int_t rc);
static void ngx_http_attachments_tus_last(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t, ngx_int_t rc);
static void ngx_http_attachments_tus_dropped(
    ngx_http_attachments_pg_query_t *q);


static ngx_http_request_body_filter_pt   ngx_http_next_request_body_filter;


/* the PATCH bodies' filter: ahead of nginx's own, after the uploads' */

ngx_int_t
ngx_http_attachments_tus_body_init(ngx_conf_t *cf)
{
    ngx_http_next_request_body_filter = ngx_http_top_request_body_filter;
    ngx_http_top_request_body_filter = ngx_http_attachments_tus_body_filter;

    return NGX_OK;
}


/*
 * A body for the upload: of the type tus says, at the offset the state
 * counts (PATCH), no longer than what is left, with a checksum tus knows.
 * NGX_DECLINED: refused (t->up says why), before anything is read.
 */

ngx_int_t
ngx_http_attachments_tus_check(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t)
{
    off_t       offset;
    u_char      buf[48];
    ngx_str_t  *v, digest, enc;

    v = ngx_http_attachments_tus_header(r, "Content-Type");

    if (v == NULL || v->len != sizeof(NGX_HTTP_ATTACHMENTS_TUS_TYPE) - 1
        || ngx_strncasecmp(v->data, (u_char *) NGX_HTTP_ATTACHMENTS_TUS_TYPE,
                           v->len) != 0)
    {
        ngx_http_attachments_upload_refuse(&t->up,
            NGX_HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_type",
            "the body must be " NGX_HTTP_ATTACHMENTS_TUS_TYPE);
        return NGX_DECLINED;
    }

    if (r->method == NGX_HTTP_PATCH) {
        v = ngx_http_attachments_tus_header(r, "Upload-Offset");
        offset = v ? ngx_atoof(v->data, v->len) : NGX_ERROR;

        if (offset < 0) {
            ngx_http_attachments_upload_refuse(&t->up, NGX_HTTP_BAD_REQUEST,
                "invalid_request", "Upload-Offset must be a number of bytes");
            return NGX_DECLINED;
        }

        if (offset != t->offset) {
            ngx_http_attachments_upload_refuse(&t->up, NGX_HTTP_CONFLICT,
                "offset_mismatch", "Upload-Offset is not the upload's offset");
            return NGX_DECLINED;
        }
    }

    if (r->headers_in.content_length_n > t->length - t->offset) {
        ngx_http_attachments_upload_refuse(&t->up,
            NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "upload_too_long",
            "more bytes than Upload-Length");
        return NGX_DECLINED;
    }

    v = ngx_http_attachments_tus_header(r, "Upload-Checksum");

    if (v == NULL) {
        return NGX_OK;
    }

    if (v->len < 7 || ngx_strncmp(v->data, "sha256 ", 7) != 0) {
        ngx_http_attachments_upload_refuse(&t->up, NGX_HTTP_BAD_REQUEST,
            "invalid_request", "Upload-Checksum's algorithm must be sha256");
        return NGX_DECLINED;
    }

    enc.data = v->data + 7;
    enc.len = v->len - 7;
    digest.data = buf;

    if (ngx_base64_decoded_length(enc.len) > sizeof(buf)
        || ngx_decode_base64(&digest, &enc) != NGX_OK || digest.len != 32)
    {
        ngx_http_attachments_upload_refuse(&t->up, NGX_HTTP_BAD_REQUEST,
            "invalid_request",
            "Upload-Checksum is sha256 and 32 bytes in base64");
        return NGX_DECLINED;
    }

    ngx_memcpy(t->want, buf, 32);

    if (t->check == NULL) {
        t->check = EVP_MD_CTX_new();
        if (t->check == NULL) {
            return NGX_ERROR;
        }
    }

    if (EVP_DigestInit_ex(t->check, EVP_sha256(), NULL) != 1) {
        return NGX_ERROR;
    }

    t->checksum = 1;

    return NGX_OK;
}


/* a refusal before the body: the body is not read, the answer is JSON */

ngx_int_t
ngx_http_attachments_tus_unchecked(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t)
{
    ngx_http_discard_request_body(r);

    if (t->up.status == NGX_HTTP_CONFLICT
        && ngx_http_attachments_tus_offset(r, t) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_attachments_send_error(r, t->up.status, t->up.code,
                                           t->up.message);
}


/* PATCH (or a creation's body), read as it arrives into the upload */

ngx_int_t
ngx_http_attachments_tus_patch(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t)
{
    ngx_int_t  rc;

    rc = ngx_http_attachments_tus_check(r, t);

    if (rc == NGX_DECLINED) {
        return ngx_http_attachments_tus_unchecked(r, t);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (t->offset == t->length) {
        /* all in already: the file a failed end did not make */
        ngx_http_discard_request_body(r);
        r->main->count++;
        ngx_http_attachments_tus_end(r, t);
        return NGX_DONE;
    }

    t->receiving = 1;

    rc = ngx_http_read_client_request_body(r,
                                           ngx_http_attachments_tus_received);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return ngx_http_attachments_tus_refuse(r, t, rc);
    }

    if (rc == NGX_AGAIN) {
#if (NGX_HTTP_V2)
        if (r->stream) {
            /* its read handler keeps the stream's window right */
            if (t->up.status) {
                ngx_http_attachments_tus_refused_h2(r);
            }

            return NGX_DONE;
        }
#endif

        /* ours, so that a refusal mid-body is answered in JSON */
        r->read_event_handler = ngx_http_attachments_tus_read;
    }

    return NGX_DONE;
}


/* every chunk of a PATCH's body, as read: appended, never kept in memory */

static ngx_int_t
ngx_http_attachments_tus_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_buf_t                   *b;
    ngx_chain_t                 *cl, *last;
    ngx_http_attachments_tus_t  *t;

    t = ngx_http_attachments_tus_get(r);

    if (t == NULL || !t->receiving) {
        return ngx_http_next_request_body_filter(r, in);
    }

    last = NULL;

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;

        if (b->last > b->pos && t->up.status == 0) {
            if (ngx_http_attachments_tus_write(r, t, b->pos, b->last - b->pos)
                == NGX_ERROR
                && t->up.status == 0)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
        }

        /* consumed: nginx reuses its buffer */
        b->pos = b->last;

        if (b->last_buf) {
            last = cl;
        }
    }

    if (t->up.status) {
#if (NGX_HTTP_V2)
        if (r->stream) {
            ngx_http_attachments_tus_refused_h2(r);
            return NGX_OK;
        }
#endif

        return t->up.status;
    }

    if (last == NULL) {
        return NGX_OK;
    }

    last->next = NULL;

    return ngx_http_next_request_body_filter(r, last);
}


static void
ngx_http_attachments_tus_read(ngx_http_request_t *r)
{
    ngx_int_t                    rc;
    ngx_http_attachments_tus_t  *t;

    t = ngx_http_attachments_tus_get(r);

    if (r->connection->read->timedout) {
        r->connection->timedout = 1;
        rc = NGX_HTTP_REQUEST_TIME_OUT;

    } else {
        rc = ngx_http_read_unbuffered_request_body(r);
    }

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        ngx_http_finalize_request(r,
                                  ngx_http_attachments_tus_refuse(r, t, rc));
    }
}


#if (NGX_HTTP_V2)

/* a refusal of an HTTP/2 PATCH, answered once the body filter returned */

static void
ngx_http_attachments_tus_answer_h2(ngx_http_request_t *r)
{
    ngx_http_attachments_tus_t  *t;

    t = ngx_http_attachments_tus_get(r);

    r->stream->skip_data = 1;
    r->read_event_handler = ngx_http_block_reading;

    ngx_http_finalize_request(r,
        ngx_http_attachments_tus_refuse(r, t, t->up.status));
}


static void
ngx_http_attachments_tus_refused_h2(ngx_http_request_t *r)
{
    if (r->read_event_handler != ngx_http_attachments_tus_answer_h2) {
        r->read_event_handler = ngx_http_attachments_tus_answer_h2;
        ngx_post_event(r->connection->read, &ngx_posted_events);
    }
}

#endif


/* the whole body is in: checked, counted; the last byte makes the file */

static void
ngx_http_attachments_tus_received(ngx_http_request_t *r)
{
    u_char                       md[EVP_MAX_MD_SIZE];
    unsigned int                 n;
    ngx_http_attachments_tus_t  *t;

    t = ngx_http_attachments_tus_get(r);
    t->receiving = 0;

    if (t->checksum
        && (EVP_DigestFinal_ex(t->check, md, &n) != 1
            || n != 32 || ngx_memcmp(md, t->want, 32) != 0))
    {
        ngx_http_attachments_upload_refuse(&t->up,
            NGX_HTTP_ATTACHMENTS_TUS_MISMATCH, "checksum_mismatch",
            "the bytes are not those of Upload-Checksum; none was kept");
        ngx_http_finalize_request(r,
            ngx_http_attachments_tus_refuse(r, t, t->up.status));
        return;
    }

    if (ngx_http_attachments_tus_count(t) != NGX_OK) {
        ngx_http_attachments_upload_refuse(&t->up,
            NGX_HTTP_SERVICE_UNAVAILABLE, "unavailable",
            "the storage is unavailable");
        ngx_http_finalize_request(r,
            ngx_http_attachments_tus_refuse(r, t, t->up.status));
        return;
    }

    if (t->offset == t->length) {
        ngx_http_attachments_tus_end(r, t);
        return;
    }

    /* the whole parts in, into a storage that takes parts, go on up */

    if (ngx_http_attachments_tus_parts(r, t, 0,
                                       ngx_http_attachments_tus_parted)
        == NGX_AGAIN)
    {
        return;
    }

    ngx_http_finalize_request(r, ngx_http_attachments_tus_answer(r, t));
}


/* the bytes are counted whether the parts went or not: a later PATCH, or
   the end, sends what did not */

static void
ngx_http_attachments_tus_parted(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t, ngx_int_t rc)
{
    ngx_http_attachments_finish(r, ngx_http_attachments_tus_answer(r, t));
}


/* every byte is in: the parts not sent yet go first, then the file */

void
ngx_http_attachments_tus_end(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t)
{
    ngx_int_t  rc;

    rc = ngx_http_attachments_tus_parts(r, t, 1,
                                        ngx_http_attachments_tus_last);

    if (rc == NGX_AGAIN) {
        return;
    }

    ngx_http_attachments_tus_last(r, t, rc);
}


/* the file, or the answer why not */

static void
ngx_http_attachments_tus_last(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t, ngx_int_t rc)
{
    if (rc != NGX_OK) {
        ngx_http_attachments_finish(r,
                                    ngx_http_attachments_send_unavailable(r));
        return;
    }

    rc = ngx_http_attachments_tus_complete(r, t);

    switch (rc) {

    case NGX_DONE:
        return;

    case NGX_DECLINED:
        rc = ngx_http_attachments_tus_refuse(r, t, 0);
        break;

    case NGX_ERROR:
        rc = ngx_http_attachments_send_unavailable(r);
        break;
    }

    ngx_http_attachments_finish(r, rc);
}


/*
 * A PATCH refused (by the module, or by nginx: a body over
 * client_max_body_size, a bad chunk, a timeout): what it appended since
 * the last count is cut off (with Upload-Checksum: all of it), and the
 * refusal is answered in JSON where the module made it.
 */

ngx_int_t
ngx_http_attachments_tus_refuse(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t, ngx_int_t rc)
{
    t->receiving = 0;

    /* a creation's client has no Location yet: its upload goes */
    if (t->status == NGX_HTTP_CREATED) {
        t->ended = 1;
    }

    if (t->fd != NGX_INVALID_FILE && !t->ended) {
        /*
         * a client gone (or nginx's refusal of the body's framing) keeps
         * what came whole; the module's refusals keep nothing
         */
        if (t->up.status == 0 && !t->checksum && t->written) {
            (void) ngx_http_attachments_tus_count(t);

        } else {
            ngx_http_attachments_tus_cut(t);
        }
    }

    /* the rest of the body is not read: no keepalive after it */
    r->keepalive = 0;
    r->lingering_close = 1;

    if (t->up.status == 0) {
        if (rc != NGX_HTTP_REQUEST_ENTITY_TOO_LARGE) {
            if (!t->ended) {
                return rc;
            }

            /* nginx's own refusal, or a client gone: answered as nginx's */
            ngx_http_attachments_upload_refuse(&t->up, rc, "invalid_request",
                                               "the body could not be read");
        }

        if (t->up.status == 0) {
            ngx_http_attachments_upload_refuse(&t->up, rc, "body_too_large",
                                               "the body is over "
                                               "client_max_body_size");
        }
    }

    if (t->location) {
        /* no upload is there any more to point at */
        t->location->hash = t->ended ? 0 : 1;
    }

    if (t->up.status == NGX_HTTP_SERVICE_UNAVAILABLE && !t->ended) {
        return ngx_http_attachments_send_unavailable(r);
    }

    if (t->ended) {
        /* a type refused: the upload ends, its reservation with it */
        rc = ngx_http_attachments_tus_run(r, t,
                                          &ngx_http_attachments_sql_tus_delete,
                                          ngx_http_attachments_tus_dropped,
                                          NULL, 0);
        if (rc == NGX_AGAIN) {
            r->main->count++;
            return NGX_DONE;
        }

        return rc;
    }

    if (ngx_http_attachments_tus_offset(r, t) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_attachments_send_error(r, t->up.status, t->up.code,
                                           t->up.message);
}


static void
ngx_http_attachments_tus_dropped(ngx_http_attachments_pg_query_t *q)
{
    ngx_http_request_t          *r;
    ngx_http_attachments_tus_t  *t;

    r = q->data;
    t = ngx_http_attachments_tus_get(r);

    ngx_http_attachments_finish(r,
        ngx_http_attachments_send_error(r, t->up.status, t->up.code,
                                        t->up.message));
}


/* a PATCH done (204), or a creation (201): where the upload is now */

ngx_int_t
ngx_http_attachments_tus_answer(ngx_http_request_t *r,
    ngx_http_attachments_tus_t *t)
{
    if (ngx_http_attachments_tus_offset(r, t) != NGX_OK
        || ngx_http_attachments_tus_expires(r, t) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = t->status;
    r->headers_out.content_length_n = 0;
    r->header_only = 1;

    return ngx_http_send_header(r);
}
