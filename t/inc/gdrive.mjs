// Copyright (C) 2026 The ngx_http_attachments_module authors
//
// A Google Drive emulator for the suites, written from the published
// references (Drive API v3, developers.google.com/drive/api/reference/rest/v3;
// "Using OAuth 2.0 for Server to Server Applications"; "OAuth 2.0 for web
// server applications", refresh tokens): no Google service can be reached
// from the test machines.  It checks what the services check and answers
// as they answer:
//
//   POST /token  grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer
//       with an assertion: a JWT whose RS256 signature verifies with the
//       service account's public key, "iss" the account, "aud" the token
//       URI, a "scope" with drive, "iat" now, "exp" at most an hour on;
//       or grant_type=refresh_token with the client's id, secret and
//       refresh token.  {"access_token","expires_in","token_type":"Bearer"}
//       or 400 invalid_grant / invalid_client.
//   /drive/v3 and /upload/drive/v3 need "Authorization: Bearer <token>"
//       of a token given and not expired (401 UNAUTHENTICATED otherwise).
//   GET    /drive/v3/files?q=&fields=      files.list (pageSize= (100, at
//          most 1000), pageToken=, nextPageToken), q of the forms
//                                          "name = '...'", "'id' in parents",
//                                          "mimeType = '...'",
//                                          "trashed = false", joined by and
//   POST   /drive/v3/files                 a folder (JSON metadata); its
//                                          parent must exist (404)
//   GET    /drive/v3/files/{id}            metadata; ?alt=media the bytes
//                                          (Range too)
//   DELETE /drive/v3/files/{id}            204, a folder with what is in it
//   POST   /upload/drive/v3/files?uploadType=resumable   a session: the
//          metadata, X-Upload-Content-Length; 200 and its URL in Location
//   PUT    <session URL>                   the bytes, all of them: 200 and
//                                          the file (fields= of the session)
//
// For the suites, without a token, /_emu/...: "log", "tree", "fail?status=
// &count=&match=", "revoke" (every token refused from now on), "lie?on=",
// "rm?id=" (a person deletes a file or folder), "ttl?seconds=" (of tokens),
// "badtoken?on=" (tokens with a line break in them), "hold?ms=" (the
// bytes kept at once, their answer that much later), "reset".
//
// node gdrive.mjs <port> <public key PEM file> <client_email> <client_id>
//     <client_secret> <refresh_token>

import http from 'node:http';
import crypto from 'node:crypto';
import fs from 'node:fs';

const [port, pubFile, email, clientId, clientSecret, refreshToken] =
    process.argv.slice(2);
const base = `http://127.0.0.1:${port}`;
const tokenUri = `${base}/token`;
const publicKey = crypto.createPublicKey(fs.readFileSync(pubFile));
const FOLDER = 'application/vnd.google-apps.folder';

const files = new Map([['root', { id: 'root', name: 'My Drive', mimeType: FOLDER, parents: [] }]]);
const tokens = new Map();        // token -> expiry (ms)
const sessions = new Map();      // upload_id -> { meta, length, fields }
const log = [];
let fail = null;
let lie = false;
let ttl = 3600;
let seq = 0;
let badToken = false;
let holdMs = 0;

function newId() {
    return 'F' + crypto.randomBytes(9).toString('base64url').replace(/[^A-Za-z0-9]/g, 'x') + (++seq);
}

function answer(res, status, body, headers = {}) {
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, {
        'Content-Type': 'application/json; charset=UTF-8',
        'Content-Length': Buffer.byteLength(text), ...headers });
    res.end(text);
    return status;
}

function gerror(res, status, reason, message, headers) {
    return answer(res, status, { error: { code: status, message,
        errors: [{ domain: 'global', reason, message }] } }, headers);
}

function body(req) {
    return new Promise((resolve, reject) => {
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => resolve(Buffer.concat(chunks)));
        req.on('error', reject);
    });
}

function resource(f, fields) {
    const out = { kind: 'drive#file', id: f.id, name: f.name, mimeType: f.mimeType,
                  parents: f.parents, createdTime: f.createdTime };
    if (f.data) {
        out.size = String(f.data.length);
        out.sha256Checksum = crypto.createHash('sha256').update(f.data).digest('hex');
        out.md5Checksum = crypto.createHash('md5').update(f.data).digest('hex');
    }
    if (!fields) return { kind: out.kind, id: out.id, name: out.name, mimeType: out.mimeType };
    const keep = {};
    for (const k of fields.split(',')) if (k in out) keep[k] = out[k];
    return keep;
}

// [nextPageToken,]files(id,size,sha256Checksum) -> "id,size,sha256Checksum"
function listFields(fields) {
    const m = /^(?:nextPageToken,)?files\(([^)]*)\)$/.exec(fields || '');
    return m ? m[1] : null;
}

// the q forms files.list takes here; anything else is 400, as a query
// Drive cannot parse is
function matcher(q) {
    const preds = [];
    for (const term of q.split(/ and /)) {
        let m;
        if ((m = /^name = '((?:[^'\\]|\\.)*)'$/.exec(term))) {
            const v = m[1].replace(/\\(.)/g, '$1');
            preds.push((f) => f.name === v);
        } else if ((m = /^'([\w-]+)' in parents$/.exec(term))) {
            const v = m[1];
            preds.push((f) => f.parents.includes(v));
        } else if ((m = /^mimeType = '([^']*)'$/.exec(term))) {
            const v = m[1];
            preds.push((f) => f.mimeType === v);
        } else if (term === 'trashed = false') {
            preds.push(() => true);
        } else {
            return null;
        }
    }
    return (f) => preds.every((p) => p(f));
}

function remove(id) {
    for (const f of [...files.values()]) if (f.parents.includes(id)) remove(f.id);
    files.delete(id);
}

function verifyJwt(assertion) {
    const parts = assertion.split('.');
    if (parts.length !== 3) return 'not a JWT';
    let header, claims;
    try {
        header = JSON.parse(Buffer.from(parts[0], 'base64url'));
        claims = JSON.parse(Buffer.from(parts[1], 'base64url'));
    } catch (e) {
        return 'undecodable';
    }
    if (header.alg !== 'RS256') return 'alg';
    if (!crypto.verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), publicKey,
                       Buffer.from(parts[2], 'base64url'))) return 'signature';
    const now = Math.floor(Date.now() / 1000);
    if (claims.iss !== email) return 'iss';
    if (claims.aud !== tokenUri) return 'aud';
    if (!String(claims.scope || '').split(' ').includes('https://www.googleapis.com/auth/drive')) return 'scope';
    if (!(claims.iat <= now + 60 && claims.iat >= now - 300)) return 'iat';
    if (!(claims.exp > now && claims.exp - claims.iat <= 3600)) return 'exp';
    return null;
}

async function token(req, res) {
    const form = new URLSearchParams((await body(req)).toString());
    if ((req.headers['content-type'] || '').split(';')[0] !== 'application/x-www-form-urlencoded') {
        return answer(res, 400, { error: 'invalid_request', error_description: 'form expected' });
    }
    const grant = form.get('grant_type');
    if (grant === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
        const why = verifyJwt(form.get('assertion') || '');
        if (why) return answer(res, 400, { error: 'invalid_grant', error_description: `Invalid JWT: ${why}` });
    } else if (grant === 'refresh_token') {
        if (form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret) {
            return answer(res, 401, { error: 'invalid_client', error_description: 'Unauthorized' });
        }
        if (form.get('refresh_token') !== refreshToken) {
            return answer(res, 400, { error: 'invalid_grant', error_description: 'Bad Request' });
        }
    } else {
        return answer(res, 400, { error: 'unsupported_grant_type' });
    }
    const t = badToken ? 'ya29.x\r\nX-Injected: yes' : 'ya29.' + crypto.randomBytes(24).toString('base64url');
    tokens.set(t, Date.now() + ttl * 1000);
    return answer(res, 200, { access_token: t, expires_in: ttl, token_type: 'Bearer' });
}

async function drive(req, res, url) {
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization || '');
    if (!auth || !tokens.has(auth[1]) || tokens.get(auth[1]) < Date.now()) {
        return answer(res, 401, { error: { code: 401, status: 'UNAUTHENTICATED',
            message: 'Request had invalid authentication credentials.' } },
            { 'WWW-Authenticate': 'Bearer realm="https://accounts.google.com/"' });
    }

    const q = url.searchParams;
    let m;

    if (url.pathname === '/drive/v3/files' && req.method === 'GET') {
        const match = matcher(q.get('q') || 'trashed = false');
        if (!match) return gerror(res, 400, 'invalid', 'Invalid Value');
        const fields = listFields(q.get('fields'));
        const size = Math.min(Number(q.get('pageSize') || 100), 1000);
        const from = Number(q.get('pageToken') ? Buffer.from(q.get('pageToken'), 'base64url') : 0);
        const all = [...files.values()].filter((f) => f.id !== 'root' && match(f));
        const found = all.slice(from, from + size);
        const out = { kind: 'drive#fileList', incompleteSearch: false,
                      files: found.map((f) => resource(f, fields)) };
        if (from + size < all.length) {
            out.nextPageToken = Buffer.from(String(from + size)).toString('base64url');
        }
        return answer(res, 200, out);
    }

    if (url.pathname === '/drive/v3/files' && req.method === 'POST') {
        const meta = JSON.parse((await body(req)).toString() || '{}');
        const parent = (meta.parents || ['root'])[0];
        if (!files.has(parent)) return gerror(res, 404, 'notFound', `File not found: ${parent}.`);
        const f = { id: newId(), createdTime: new Date().toISOString(), name: meta.name,
                    mimeType: meta.mimeType || 'application/octet-stream',
                    parents: [parent] };
        files.set(f.id, f);
        return answer(res, 200, resource(f, q.get('fields')));
    }

    if ((m = /^\/drive\/v3\/files\/([\w-]+)$/.exec(url.pathname))) {
        const f = files.get(m[1]);
        if (!f) return gerror(res, 404, 'notFound', `File not found: ${m[1]}.`);
        if (req.method === 'DELETE') {
            remove(f.id);
            res.writeHead(204);
            res.end();
            return 204;
        }
        if (req.method !== 'GET' && req.method !== 'HEAD') return gerror(res, 405, 'methodNotAllowed', 'no');
        if (q.get('alt') !== 'media') return answer(res, 200, resource(f, q.get('fields')));
        if (!f.data) return gerror(res, 403, 'fileNotDownloadable', 'Only files with binary content can be downloaded.');
        const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range || '');
        if (range) {
            const start = Number(range[1]);
            const end = Math.min(range[2] === '' ? f.data.length - 1 : Number(range[2]), f.data.length - 1);
            if (start > end) {
                res.writeHead(416, { 'Content-Range': `bytes */${f.data.length}` });
                res.end();
                return 416;
            }
            res.writeHead(206, { 'Content-Type': f.mimeType, 'Content-Length': end - start + 1,
                                 'Content-Range': `bytes ${start}-${end}/${f.data.length}` });
            res.end(req.method === 'HEAD' ? undefined : f.data.subarray(start, end + 1));
            return 206;
        }
        res.writeHead(200, { 'Content-Type': f.mimeType, 'Content-Length': f.data.length });
        res.end(req.method === 'HEAD' ? undefined : f.data);
        return 200;
    }

    if (url.pathname === '/upload/drive/v3/files' && req.method === 'POST') {
        if (q.get('uploadType') !== 'resumable') return gerror(res, 400, 'badRequest', 'resumable only here');
        const meta = JSON.parse((await body(req)).toString() || '{}');
        const parent = (meta.parents || ['root'])[0];
        if (!files.has(parent)) return gerror(res, 404, 'notFound', `File not found: ${parent}.`);
        const length = req.headers['x-upload-content-length'];
        if (length === undefined) return gerror(res, 400, 'badRequest', 'X-Upload-Content-Length');
        const id = crypto.randomBytes(12).toString('hex');
        sessions.set(id, { meta, parent, length: Number(length), fields: q.get('fields') });
        res.writeHead(200, { Location: `${base}/upload/drive/v3/files?uploadType=resumable&upload_id=${id}`,
                             'Content-Length': 0 });
        res.end();
        return 200;
    }

    if (url.pathname === '/upload/drive/v3/files' && req.method === 'PUT') {
        const s = sessions.get(q.get('upload_id') || '');
        if (!s) return gerror(res, 404, 'notFound', 'no such session');
        let data = await body(req);
        if (data.length !== s.length) {
            res.writeHead(308, { Range: `bytes=0-${data.length - 1}`, 'Content-Length': 0 });
            res.end();
            return 308;
        }
        sessions.delete(q.get('upload_id'));
        if (!files.has(s.parent)) return gerror(res, 404, 'notFound', `File not found: ${s.parent}.`);
        if (lie && data.length) { data = Buffer.from(data); data[0] ^= 0xff; }
        const f = { id: newId(), createdTime: new Date().toISOString(), name: s.meta.name,
                    mimeType: s.meta.mimeType || 'application/octet-stream',
                    parents: [s.parent], data };
        files.set(f.id, f);
        if (holdMs) await new Promise((done) => setTimeout(done, holdMs));
        return answer(res, 200, resource(f, s.fields));
    }

    return gerror(res, 404, 'notFound', 'not in the emulator');
}

function control(req, res, url) {
    const q = url.searchParams;
    switch (url.pathname) {
    case '/_emu/log':
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end(log.map((l) => JSON.stringify(l)).join('\n') + (log.length ? '\n' : ''));
        return;
    case '/_emu/tree': {
        // path of names from the root -> resource
        const out = {};
        const path = (f) => (f.id === 'root' ? '' : `${path(files.get(f.parents[0]) || { id: 'root' })}/${f.name}`);
        for (const f of files.values()) if (f.id !== 'root') {
            out[path(f)] = out[path(f)] ? [].concat(out[path(f)], resource(f, 'id,name,mimeType,parents,size,sha256Checksum'))
                                        : resource(f, 'id,name,mimeType,parents,size,sha256Checksum');
        }
        return answer(res, 200, out);
    }
    case '/_emu/fail':
        fail = { status: Number(q.get('status') || 503), count: Number(q.get('count') || 1),
                 match: q.get('match') || '/' };
        return answer(res, 200, fail);
    case '/_emu/revoke':
        tokens.clear();
        return answer(res, 200, {});
    case '/_emu/lie':
        lie = q.get('on') === '1';
        return answer(res, 200, { lie });
    case '/_emu/badtoken':
        badToken = q.get('on') === '1';
        return answer(res, 200, { badToken });
    case '/_emu/hold':
        holdMs = Number(q.get('ms') || 0);
        return answer(res, 200, { holdMs });
    case '/_emu/ttl':
        ttl = Number(q.get('seconds'));
        return answer(res, 200, { ttl });
    case '/_emu/rm':
        if (!files.has(q.get('id'))) return answer(res, 404, {});
        remove(q.get('id'));
        return answer(res, 200, {});
    case '/_emu/reset':
        for (const k of [...files.keys()]) if (k !== 'root') files.delete(k);
        log.length = 0; fail = null; lie = false; ttl = 3600; holdMs = 0;
        return answer(res, 200, {});
    default:
        return answer(res, 404, {});
    }
}

http.createServer(async (req, res) => {
    const url = new URL(req.url, base);
    if (url.pathname.startsWith('/_emu/')) return control(req, res, url);

    let status;
    try {
        if (fail && fail.count > 0 && url.pathname.includes(fail.match)) {
            fail.count--;
            status = gerror(res, fail.status, fail.status === 429 ? 'rateLimitExceeded' : 'backendError',
                            'emulated failure', fail.status === 429 ? { 'Retry-After': '5' } : {});
        } else if (url.pathname === '/token' && req.method === 'POST') {
            status = await token(req, res);
        } else {
            status = await drive(req, res, url);
        }
    } catch (e) {
        status = gerror(res, 500, 'backendError', String(e));
    }
    log.push({ method: req.method, url: req.url, auth: req.headers.authorization || '',
               range: req.headers.range || '', cookie: req.headers.cookie || '',
               headers: req.rawHeaders.filter((h, i) => i % 2 === 0).join(','), status });
}).listen(Number(port), '127.0.0.1');
