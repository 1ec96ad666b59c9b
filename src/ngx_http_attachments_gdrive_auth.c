
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * The access tokens of google_drive storages.  A service account (its
 * JSON key file, credentials=) asks for a token with a JWT assertion it
 * signs with its RSA key (RS256: RFC 7523, Google's "OAuth 2.0 for
 * server to server applications"); an OAuth client (client_id=, its
 * secret and the refresh token an owner gave it) with the refresh token.
 * A token is kept in a shared memory zone of the storage, so that the
 * workers share it, until a minute before it expires, or until the API
 * refuses it (401); a zone kept over a reload serves only the same
 * account.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "ngx_http_attachments_sign.h"
#include "ngx_http_attachments_sigv4.h"
#include "ngx_http_attachments_json_text.h"
#include "ngx_http_attachments_storage.h"
#include "ngx_http_attachments_cloud.h"
#include "ngx_http_attachments_gdrive_auth.h"


#define NGX_HTTP_ATTACHMENTS_GDRIVE_TOKEN_MAX   2048
#define NGX_HTTP_ATTACHMENTS_GDRIVE_SCOPE                                     \
    "https://www.googleapis.com/auth/drive"
#define NGX_HTTP_ATTACHMENTS_GDRIVE_TOKEN_URI                                 \
    "https://oauth2.googleapis.com/token"


/* a storage's token, in its zone */
typedef struct {
    uint32_t                         account;   /* whose: crc32 */
    time_t                           expires;
    size_t                           len;
    u_char                           token[NGX_HTTP_ATTACHMENTS_GDRIVE_TOKEN_MAX];
} ngx_http_attachments_gdrive_token_t;


static ngx_int_t ngx_http_attachments_gdrive_service_account(ngx_conf_t *cf,
    ngx_http_attachments_gdrive_t *gd, ngx_str_t *file);
static ngx_int_t ngx_http_attachments_gdrive_token_endpoint(ngx_conf_t *cf,
    ngx_http_attachments_storage_t *storage, ngx_str_t *uri, ngx_str_t *ca);
static void ngx_http_attachments_gdrive_free_key(void *data);
static ngx_int_t ngx_http_attachments_gdrive_init_zone(
    ngx_shm_zone_t *shm_zone, void *data);
static uint32_t ngx_http_attachments_gdrive_account(
    ngx_http_attachments_gdrive_t *gd);
static ngx_int_t ngx_http_attachments_gdrive_jwt(
    ngx_http_attachments_gdrive_t *gd, ngx_pool_t *pool, ngx_str_t *jwt);


static ngx_str_t  ngx_http_attachments_gdrive_default_uri =
    ngx_string(NGX_HTTP_ATTACHMENTS_GDRIVE_TOKEN_URI);


/*
 * The account: a service account's key file (file set), or the OAuth
 * client already in gd; and where its tokens come from (token_uri=, the
 * key file's, or Google's), checked against ca=
 */

ngx_int_t
ngx_http_attachments_gdrive_credentials(ngx_conf_t *cf,
    ngx_http_attachments_storage_t *storage, ngx_str_t *file,
    ngx_str_t *token_uri, ngx_str_t *ca)
{
    ngx_http_attachments_gdrive_t  *gd;

    gd = storage->data;

    if (file->len
        && ngx_http_attachments_gdrive_service_account(cf, gd, file)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* a service account's assertion names the key file's token URI */

    if (token_uri->len || gd->aud.len == 0) {
        gd->aud = token_uri->len ? *token_uri
                                 : ngx_http_attachments_gdrive_default_uri;
    }

    return ngx_http_attachments_gdrive_token_endpoint(cf, storage, &gd->aud,
                                                      ca);
}


static ngx_int_t
ngx_http_attachments_gdrive_service_account(ngx_conf_t *cf,
    ngx_http_attachments_gdrive_t *gd, ngx_str_t *file)
{
    BIO                 *bio;
    json_t              *json;
    ngx_str_t            name, v, *dst[3];
    ngx_uint_t           i;
    const char          *s, *type;
    json_error_t         err;
    ngx_pool_cleanup_t  *cln;

    static const char   *fields[] = {
        "client_email", "private_key_id", "token_uri"
    };

    dst[0] = &gd->email;
    dst[1] = &gd->key_id;
    dst[2] = &gd->aud;

    name = *file;

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    json = json_load_file((char *) name.data, 0, &err);
    if (json == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "cannot read the credentials \"%V\": %s",
                           &name, err.text);
        return NGX_ERROR;
    }

    type = json_string_value(json_object_get(json, "type"));
    s = json_string_value(json_object_get(json, "private_key"));

    if (type == NULL || ngx_strcmp(type, "service_account") != 0 || s == NULL
        || json_string_value(json_object_get(json, "client_email")) == NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" is not a service account's key file "
                           "(\"type\": \"service_account\", "
                           "\"client_email\", \"private_key\")", &name);
        json_decref(json);
        return NGX_ERROR;
    }

    bio = BIO_new_mem_buf(s, -1);
    gd->key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;

    if (bio) {
        BIO_free(bio);
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);

    if (gd->key == NULL || cln == NULL
        || EVP_PKEY_base_id(gd->key) != EVP_PKEY_RSA)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the private key of \"%V\" is not an RSA key",
                           &name);
        EVP_PKEY_free(gd->key);
        gd->key = NULL;
        json_decref(json);
        return NGX_ERROR;
    }

    cln->handler = ngx_http_attachments_gdrive_free_key;
    cln->data = gd->key;

    for (i = 0; i < 3; i++) {
        s = json_string_value(json_object_get(json, fields[i]));

        if (s == NULL) {
            continue;
        }

        v.len = ngx_strlen(s);
        v.data = (u_char *) s;

        dst[i]->data = ngx_pstrdup(cf->pool, &v);
        if (dst[i]->data == NULL) {
            json_decref(json);
            return NGX_ERROR;
        }

        dst[i]->len = v.len;
    }

    json_decref(json);

    return NGX_OK;
}


static void
ngx_http_attachments_gdrive_free_key(void *data)
{
    EVP_PKEY_free(data);
}


/* "scheme://host[:port]/path": the oauth endpoint, and the path posted to */

static ngx_int_t
ngx_http_attachments_gdrive_token_endpoint(ngx_conf_t *cf,
    ngx_http_attachments_storage_t *storage, ngx_str_t *uri, ngx_str_t *ca)
{
    u_char                         *p, *last;
    ngx_str_t                       endpoint;
    ngx_http_attachments_gdrive_t  *gd;

    gd = storage->data;
    last = uri->data + uri->len;
    p = ngx_strlcasestrn(uri->data, last, (u_char *) "://", 3 - 1);

    if (p == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the token URI \"%V\" is no URL", uri);
        return NGX_ERROR;
    }

    p = ngx_strlchr(p + 3, last, '/');

    endpoint.data = uri->data;
    endpoint.len = (p ? p : last) - uri->data;

    if (p) {
        gd->token_path.data = p;
        gd->token_path.len = last - p;

    } else {
        ngx_str_set(&gd->token_path, "/");
    }

    return ngx_http_attachments_cloud_endpoint(cf, &gd->oauth, storage,
                                               &endpoint, NULL, ca);
}


/* the zone a storage's token is kept in, "attachments_gdrive_<name>" */

ngx_int_t
ngx_http_attachments_gdrive_token_zone(ngx_conf_t *cf,
    ngx_http_attachments_storage_t *storage)
{
    ngx_str_t                       name;
    ngx_http_attachments_gdrive_t  *gd;

    gd = storage->data;

    name.len = sizeof("attachments_gdrive_") - 1 + storage->name.len;
    name.data = ngx_pnalloc(cf->pool, name.len);
    if (name.data == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(name.data, "attachments_gdrive_%V", &storage->name);

    gd->shm = ngx_shared_memory_add(cf, &name, 8 * ngx_pagesize,
                                    &ngx_http_attachments_gdrive_default_uri);
    if (gd->shm == NULL) {
        return NGX_ERROR;
    }

    gd->shm->init = ngx_http_attachments_gdrive_init_zone;

    return NGX_OK;
}


static ngx_int_t
ngx_http_attachments_gdrive_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_slab_pool_t                      *shpool;
    ngx_http_attachments_gdrive_token_t  *t;

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (data) {
        /* a reload: the token stays, for the same account only */
        shm_zone->data = data;
        return NGX_OK;
    }

    if (shm_zone->shm.exists) {
        shm_zone->data = shpool->data;
        return NGX_OK;
    }

    t = ngx_slab_calloc(shpool, sizeof(ngx_http_attachments_gdrive_token_t));
    if (t == NULL) {
        return NGX_ERROR;
    }

    shpool->data = t;
    shm_zone->data = t;

    return NGX_OK;
}


/* whose a token is: the service account's or the client's, as a crc32 */

static uint32_t
ngx_http_attachments_gdrive_account(ngx_http_attachments_gdrive_t *gd)
{
    return gd->key ? ngx_crc32_short(gd->email.data, gd->email.len)
                   : ngx_crc32_short(gd->refresh_token.data,
                                     gd->refresh_token.len);
}


/* "Bearer <token>" if one is kept that has a minute left */

ngx_int_t
ngx_http_attachments_gdrive_cached(ngx_http_attachments_gdrive_t *gd,
    ngx_pool_t *pool, ngx_str_t *auth)
{
    ngx_int_t                             rc;
    ngx_slab_pool_t                      *shpool;
    ngx_http_attachments_gdrive_token_t  *t;

    shpool = (ngx_slab_pool_t *) gd->shm->shm.addr;
    t = gd->shm->data;
    rc = NGX_DECLINED;

    ngx_shmtx_lock(&shpool->mutex);

    if (t->len && t->expires > ngx_time()
        && t->account == ngx_http_attachments_gdrive_account(gd))
    {
        auth->len = sizeof("Bearer ") - 1 + t->len;
        auth->data = ngx_pnalloc(pool, auth->len);

        if (auth->data == NULL) {
            rc = NGX_ERROR;

        } else {
            ngx_memcpy(ngx_cpymem(auth->data, "Bearer ", 7), t->token,
                       t->len);
            rc = NGX_OK;
        }
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return rc;
}


/* the token the API refused is not kept (another may be by now) */

void
ngx_http_attachments_gdrive_forget(ngx_http_attachments_gdrive_t *gd,
    ngx_str_t *auth)
{
    ngx_slab_pool_t                      *shpool;
    ngx_http_attachments_gdrive_token_t  *t;

    shpool = (ngx_slab_pool_t *) gd->shm->shm.addr;
    t = gd->shm->data;

    ngx_shmtx_lock(&shpool->mutex);

    if (auth->len == 7 + t->len
        && ngx_memcmp(auth->data + 7, t->token, t->len) == 0)
    {
        t->expires = 0;
    }

    ngx_shmtx_unlock(&shpool->mutex);
}


/* the form posted to the token endpoint */

ngx_int_t
ngx_http_attachments_gdrive_token_body(ngx_http_attachments_gdrive_t *gd,
    ngx_pool_t *pool, ngx_str_t *body)
{
    u_char     *p;
    size_t      len;
    ngx_str_t   jwt;

    static u_char  assertion[] =
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"
        "&assertion=";

    if (gd->key) {
        if (ngx_http_attachments_gdrive_jwt(gd, pool, &jwt) != NGX_OK) {
            return NGX_ERROR;
        }

        body->data = ngx_pnalloc(pool, sizeof(assertion) - 1 + jwt.len);
        if (body->data == NULL) {
            return NGX_ERROR;
        }

        /* base64url is the form's as it is */
        p = ngx_cpymem(body->data, assertion, sizeof(assertion) - 1);
        body->len = ngx_cpymem(p, jwt.data, jwt.len) - body->data;

        return NGX_OK;
    }

    len = sizeof("grant_type=refresh_token&client_id=&client_secret="
                 "&refresh_token=") - 1
          + ngx_http_attachments_aws_escape(NULL, gd->client_id.data,
                                            gd->client_id.len, 0)
          + ngx_http_attachments_aws_escape(NULL, gd->client_secret.data,
                                            gd->client_secret.len, 0)
          + ngx_http_attachments_aws_escape(NULL, gd->refresh_token.data,
                                            gd->refresh_token.len, 0);

    body->data = ngx_pnalloc(pool, len);
    if (body->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(body->data, "grant_type=refresh_token&client_id=", 35);
    p += ngx_http_attachments_aws_escape(p, gd->client_id.data,
                                         gd->client_id.len, 0);
    p = ngx_cpymem(p, "&client_secret=", 15);
    p += ngx_http_attachments_aws_escape(p, gd->client_secret.data,
                                         gd->client_secret.len, 0);
    p = ngx_cpymem(p, "&refresh_token=", 15);
    p += ngx_http_attachments_aws_escape(p, gd->refresh_token.data,
                                         gd->refresh_token.len, 0);

    body->len = p - body->data;

    return NGX_OK;
}


/*
 * The assertion: {"alg":"RS256","typ":"JWT","kid"} and the claims
 * {"iss","scope","aud","iat","exp"} for an hour, signed with the account's
 * key (ngx_http_attachments_jwt())
 */

static ngx_int_t
ngx_http_attachments_gdrive_jwt(ngx_http_attachments_gdrive_t *gd,
    ngx_pool_t *pool, ngx_str_t *jwt)
{
    u_char     *p;
    time_t      now;
    ngx_str_t   header, claims;

    static u_char  scope[] =
        "\",\"scope\":\"" NGX_HTTP_ATTACHMENTS_GDRIVE_SCOPE "\",\"aud\":\"";

    now = ngx_time();

    header.data = ngx_pnalloc(pool, sizeof("{\"alg\":\"RS256\",\"typ\":\"JWT\","
                                           "\"kid\":\"\"}")
                                    + 6 * gd->key_id.len);
    claims.data = ngx_pnalloc(pool, sizeof("{\"iss\":\"\",\"iat\":,\"exp\":}")
                                    + sizeof(scope)
                                    + 6 * (gd->email.len + gd->aud.len)
                                    + 2 * NGX_TIME_T_LEN);
    if (header.data == NULL || claims.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(header.data, "{\"alg\":\"RS256\",\"typ\":\"JWT\"", 26);

    if (gd->key_id.len) {
        p = ngx_cpymem(p, ",\"kid\":\"", 8);
        p += ngx_http_attachments_json_escape(p, gd->key_id.data,
                                              gd->key_id.len);
        *p++ = '"';
    }

    *p++ = '}';
    header.len = p - header.data;

    p = ngx_cpymem(claims.data, "{\"iss\":\"", 8);
    p += ngx_http_attachments_json_escape(p, gd->email.data, gd->email.len);
    p = ngx_cpymem(p, scope, sizeof(scope) - 1);
    p += ngx_http_attachments_json_escape(p, gd->aud.data, gd->aud.len);
    p = ngx_sprintf(p, "\",\"iat\":%T,\"exp\":%T}", now, now + 3600);
    claims.len = p - claims.data;

    jwt->data = ngx_pnalloc(pool, ngx_http_attachments_jwt_len(header.len,
                                                               claims.len,
                                                               gd->key));
    if (jwt->data == NULL) {
        return NGX_ERROR;
    }

    jwt->len = ngx_http_attachments_jwt(jwt->data, gd->key, &header, &claims);

    if (jwt->len == 0) {
        ngx_log_error(NGX_LOG_ERR, pool->log, 0,
                      "attachments: signing the assertion of \"%V\" failed",
                      &gd->email);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The token endpoint's answer {"access_token", "expires_in"}: kept, and
 * "Bearer <token>" in auth
 */

ngx_int_t
ngx_http_attachments_gdrive_token_answer(ngx_http_attachments_gdrive_t *gd,
    ngx_http_attachments_cloud_run_t *run, ngx_str_t *auth)
{
    u_char                               *p;
    json_t                               *json;
    time_t                                expires;
    ngx_str_t                             token;
    ngx_slab_pool_t                      *shpool;
    json_error_t                          err;
    ngx_http_attachments_gdrive_token_t  *t;

    if (ngx_http_attachments_cloud_answer(run, "access_token", &token)
        != NGX_OK
        || token.len == 0 || token.len > NGX_HTTP_ATTACHMENTS_GDRIVE_TOKEN_MAX)
    {
        return NGX_ERROR;
    }

    /* it goes into a header: nothing that could end one */

    for (p = token.data; p < token.data + token.len; p++) {
        if (*p <= ' ' || *p >= 0x7f) {
            return NGX_ERROR;
        }
    }

    json = json_loadb((char *) run->step.head.data, run->step.head.len, 0,
                      &err);
    expires = json ? (time_t) json_integer_value(json_object_get(json,
                                                             "expires_in"))
                   : 0;
    json_decref(json);

    auth->len = sizeof("Bearer ") - 1 + token.len;
    auth->data = ngx_pnalloc(run->pool, auth->len);
    if (auth->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ngx_cpymem(auth->data, "Bearer ", 7), token.data, token.len);

    /* kept for the workers until a minute before it expires */

    shpool = (ngx_slab_pool_t *) gd->shm->shm.addr;
    t = gd->shm->data;

    ngx_shmtx_lock(&shpool->mutex);

    /* valid last: a worker killed meanwhile leaves no half a token valid */

    t->expires = 0;
    ngx_memory_barrier();

    t->account = ngx_http_attachments_gdrive_account(gd);
    t->len = token.len;
    ngx_memcpy(t->token, token.data, token.len);

    ngx_memory_barrier();
    t->expires = (expires > 120) ? ngx_time() + expires - 60 : ngx_time();

    ngx_shmtx_unlock(&shpool->mutex);

    return NGX_OK;
}
