// Copyright (C) 2026 The ngx_http_attachments_module authors
//
// Unit tests of the widget's pure parts (html/attachments.js): sizes as
// shown, and the text of an answer that is not a success.  TAP.

import { readFileSync } from 'node:fs';

const src = readFileSync(new URL('../../html/attachments.js', import.meta.url), 'utf8');
const w = await import('data:text/javascript;base64,' + Buffer.from(src).toString('base64'));

const cases = [
    [w.formatSize(0), '0 B'],
    [w.formatSize(1023), '1023 B'],
    [w.formatSize(1024), '1.0 KB'],
    [w.formatSize(1536), '1.5 KB'],
    [w.formatSize(10 * 1024), '10 KB'],
    [w.formatSize(3 * 1024 * 1024), '3.0 MB'],
    [w.formatSize(5 * 1024 ** 5), '5120 TB'],
    [w.errorText(415, '{"error":{"code":"type_mismatch","message":"the file\'s content is not of its declared type"}}'),
     "the file's content is not of its declared type (type_mismatch)"],
    [w.errorText(502, '<html>Bad Gateway</html>'), 'the server answered 502'],
    [w.errorText(500, '{"error":{}}'), 'the server answered 500'],
    [w.errorText(0, ''), 'the connection failed'],
    [w.errorText(413, 'null'), 'the server answered 413'],
    [w.tusMetadata({ filename: 'rapport été.txt', filetype: 'text/plain' }),
     'filename cmFwcG9ydCDDqXTDqS50eHQ=,filetype dGV4dC9wbGFpbg=='],
    [w.tusMetadata({ filename: 'a', filetype: '' }), 'filename YQ=='],
];

console.log('1..' + cases.length);
cases.forEach(([got, want], i) => {
    const ok = got === want;
    console.log((ok ? 'ok ' : 'not ok ') + (i + 1) + ' - ' + JSON.stringify(want));
    if (!ok) {
        console.log('#   got: ' + JSON.stringify(got));
    }
});
