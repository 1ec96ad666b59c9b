
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * attachments-sign: mints a signed download URL outside nginx, with the
 * module's own signing code; for operators, scripts and benchmarks.
 *
 *   attachments-sign -s SECRET_FILE -i KEY_ID [-p /files/] [-t TTL | -e EXPIRES]
 *                    [-f FILENAME] [-c CONTENT_TYPE] STORAGE_KEY
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <stdio.h>
#include <getopt.h>

#include "ngx_http_attachments_sign.h"


static void
usage(void)
{
    fprintf(stderr,
            "usage: attachments-sign -s secret-file -i key-id [-p /files/]\n"
            "           [-t ttl-seconds | -e expires-epoch] [-f filename]\n"
            "           [-c content-type] storage-key\n");
    exit(2);
}


static ngx_str_t
arg(char *s)
{
    ngx_str_t  v;

    v.data = (u_char *) s;
    v.len = strlen(s);

    return v;
}


int
main(int argc, char **argv)
{
    int                            c;
    FILE                          *f;
    char                          *prefix, *secret_file;
    size_t                         n, len;
    u_char                        *buf, *p, secret[4097];
    long long                      ttl, expires;
    ngx_http_attachments_hmac_t   *mac;
    ngx_str_t                      key, pfx;
    ngx_http_attachments_grant_t   g;
    u_char                         sig[NGX_HTTP_ATTACHMENTS_SIG_LEN];

    ngx_memzero(&g, sizeof(g));
    prefix = "/files/";
    secret_file = NULL;
    ttl = 3600;
    expires = 0;

    while ((c = getopt(argc, argv, "s:i:p:t:e:f:c:")) != -1) {
        switch (c) {
        case 's': secret_file = optarg; break;
        case 'i': g.key_id = arg(optarg); break;
        case 'p': prefix = optarg; break;
        case 't': ttl = atoll(optarg); break;
        case 'e': expires = atoll(optarg); break;
        case 'f': g.filename = arg(optarg); break;
        case 'c': g.type = arg(optarg); break;
        default: usage();
        }
    }

    if (secret_file == NULL || g.key_id.len == 0 || optind != argc - 1) {
        usage();
    }

    f = fopen(secret_file, "r");
    if (f == NULL) {
        perror(secret_file);
        return 1;
    }

    n = fread(secret, 1, sizeof(secret), f);
    fclose(f);

    while (n > 0 && isspace(secret[n - 1])) {
        n--;
    }

    if (n < NGX_HTTP_ATTACHMENTS_SECRET_MIN || n > 4096) {
        fprintf(stderr, "%s: the secret must be %d to 4096 bytes\n",
                secret_file, NGX_HTTP_ATTACHMENTS_SECRET_MIN);
        return 1;
    }

    mac = ngx_http_attachments_hmac_new(secret, n);
    if (mac == NULL) {
        fprintf(stderr, "cannot create an HMAC context\n");
        return 1;
    }

    key = arg(argv[optind]);

    if (!ngx_http_attachments_key_safe(key.data, key.len)) {
        fprintf(stderr, "unsafe storage key\n");
        return 1;
    }

    g.method = arg("GET");
    g.expires = expires ? expires : (long long) time(NULL) + ttl;

    len = strlen(prefix) + key.len;
    g.path.data = malloc(len);
    if (g.path.data == NULL) {
        return 1;
    }

    p = ngx_cpymem(g.path.data, prefix, strlen(prefix));
    ngx_memcpy(p, key.data, key.len);
    g.path.len = len;

    if (ngx_http_attachments_sign(mac, &g, sig) != NGX_OK) {
        fprintf(stderr, "cannot sign: invalid key id or control characters\n");
        return 1;
    }

    pfx = arg(prefix);
    len = ngx_http_attachments_url(NULL, &pfx, &key, &g, sig);

    buf = malloc(len + 1);
    if (buf == NULL) {
        return 1;
    }

    ngx_http_attachments_url(buf, &pfx, &key, &g, sig);
    buf[len] = '\0';

    printf("%s\n", buf);

    ngx_http_attachments_hmac_free(mac);

    return 0;
}
