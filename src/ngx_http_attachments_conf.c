
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * Directive arguments: "name=value" parameters, URI prefixes, prefix
 * locations, secrets in files.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_attachments_conf.h"


/* 1 and the value when arg is "name=value"; arg is NUL-terminated */

ngx_uint_t
ngx_http_attachments_conf_param(ngx_str_t *arg, const char *name,
    ngx_str_t *value)
{
    size_t  len;

    len = ngx_strlen(name);

    if (arg->len <= len || arg->data[len] != '='
        || ngx_strncmp(arg->data, name, len) != 0)
    {
        return 0;
    }

    value->data = arg->data + len + 1;
    value->len = arg->len - len - 1;

    return 1;
}


/* the value of "name=/prefix/": it starts and ends with "/" */

ngx_int_t
ngx_http_attachments_conf_prefix(ngx_conf_t *cf, ngx_str_t *arg,
    const char *what, ngx_str_t *prefix)
{
    u_char  *eq;

    eq = (u_char *) ngx_strchr(arg->data, '=');

    prefix->data = eq + 1;
    prefix->len = arg->data + arg->len - prefix->data;

    if (prefix->len < 2
        || prefix->data[0] != '/'
        || prefix->data[prefix->len - 1] != '/')
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%*s\" must be a %s that starts and ends with "
                           "\"/\", not \"%V\"",
                           eq + 1 - arg->data, arg->data, what, prefix);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the prefix of the location the directive is in, which ends with "/" */

ngx_int_t
ngx_http_attachments_conf_location(ngx_conf_t *cf, const char *directive,
    ngx_str_t *prefix)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->exact_match || clcf->named || clcf->noname
#if (NGX_PCRE)
        || clcf->regex
#endif
        || clcf->name.len < 2 || clcf->name.data[clcf->name.len - 1] != '/')
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\" needs a prefix location ending with "
                           "\"/\", such as \"location /files/\"", directive);
        return NGX_ERROR;
    }

    *prefix = clcf->name;

    return NGX_OK;
}


/*
 * The secret in a file of at most max bytes, trailing white space left
 * out ("openssl rand -hex 32 > file" leaves a newline).  It is read once,
 * by the master, into cf->temp_pool: the caller keeps what it needs and
 * wipes the rest.
 */

ngx_int_t
ngx_http_attachments_conf_secret(ngx_conf_t *cf, const char *what,
    ngx_str_t *file, size_t max, ngx_str_t *secret)
{
    ssize_t          n;
    ngx_fd_t         fd;
    ngx_file_info_t  fi;

    if (ngx_conf_full_name(cf->cycle, file, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    fd = ngx_open_file(file->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed", file);
        return NGX_ERROR;
    }

    n = -1;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_fd_info_n " \"%V\" failed", file);
        goto done;
    }

    if (ngx_file_size(&fi) > (off_t) max) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%s file \"%V\" is larger than %uz bytes",
                           what, file, max);
        goto done;
    }

    secret->data = ngx_pnalloc(cf->temp_pool, max);
    if (secret->data == NULL) {
        goto done;
    }

    n = ngx_read_fd(fd, secret->data, max);
    if (n == -1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_read_fd_n " \"%V\" failed", file);
        goto done;
    }

    while (n > 0 && isspace(secret->data[n - 1])) {
        n--;
    }

    secret->len = n;

done:

    ngx_close_file(fd);

    return (n == -1) ? NGX_ERROR : NGX_OK;
}


/*
 * A token in a file (an OAuth token, a client's secret): printable, no
 * blank, at most 1024 bytes; kept with prefix in front ("OAuth "), the
 * file's copy wiped
 */

ngx_int_t
ngx_http_attachments_conf_token(ngx_conf_t *cf, const char *what,
    ngx_str_t *file, const char *prefix, ngx_str_t *token)
{
    u_char     *p;
    size_t      n;
    ngx_str_t   t;

    if (ngx_http_attachments_conf_secret(cf, what, file, 1024, &t) != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (p = t.data; p < t.data + t.len; p++) {
        if (*p <= ' ' || *p >= 0x7f) {
            break;
        }
    }

    if (t.len == 0 || p != t.data + t.len) {
        ngx_explicit_memzero(t.data, t.len);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "no usable %s in \"%V\"", what, file);
        return NGX_ERROR;
    }

    n = ngx_strlen(prefix);

    token->len = n + t.len;
    token->data = ngx_pnalloc(cf->pool, token->len);
    if (token->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ngx_cpymem(token->data, prefix, n), t.data, t.len);
    ngx_explicit_memzero(t.data, t.len);

    return NGX_OK;
}
