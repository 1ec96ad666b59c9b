
/*
 * Copyright (C) 2026 The ngx_http_attachments_module authors
 */


/*
 * The fuzz targets' inputs as fields separated by NUL bytes.
 */


#ifndef _FUZZ_FIELDS_H_INCLUDED_
#define _FUZZ_FIELDS_H_INCLUDED_


static void
field(const uint8_t **p, const uint8_t *last, ngx_str_t *s)
{
    const uint8_t  *nul;

    nul = memchr(*p, 0, last - *p);
    s->data = (u_char *) *p;
    s->len = (nul ? nul : last) - *p;
    *p = nul ? nul + 1 : last;
}


#endif /* _FUZZ_FIELDS_H_INCLUDED_ */
