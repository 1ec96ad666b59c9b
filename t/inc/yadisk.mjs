// Copyright (C) 2026 The ngx_http_attachments_module authors
//
// A Yandex.Disk emulator for the suites, written from the REST API's
// reference (yandex.ru/dev/disk/api/reference): no Yandex service can be
// reached from the test machines.  It checks what the service checks and
// answers as it answers:
//
//   every /v1/disk call needs "Authorization: OAuth <token>" (401
//   UnauthorizedError otherwise);
//   GET    /v1/disk/resources?path=&fields=        a resource, or 404; a
//          folder's with its items in _embedded (by name, &limit= (20)
//          from &offset=, and the total)
//   PUT    /v1/disk/resources?path=                 a folder: 201; 409
//          DiskPathPointsToExistentDirectoryError, or DiskPathDoesntExists-
//          Error when its parent is not there
//   GET    /v1/disk/resources/upload?path=&overwrite=   an upload href
//          (200), 409 DiskResourceAlreadyExistsError / DiskPathDoesntExists-
//          Error; the href takes one PUT of the bytes (201), for 30 minutes
//   GET    /v1/disk/resources/download?path=       a download href (200),
//          which serves the bytes (Range too) until it expires
//   DELETE /v1/disk/resources?path=&permanently=    204, or 202 and an
//          operation when deleting goes on in the background; 404
//   GET    /v1/disk/operations/{id}                 its status
//
// Paths are "disk:/a/b" (a leading "/" means the same).  For the suites, on
// the same port and without a token, /_emu/...: "log" (every call, one JSON
// line each), "tree" (every resource), "fail?status=&count=&match=&retry=",
// "async?on=" (deletes answer 202 and finish at the next look),
// "lie?on=" (the uploader keeps one byte changed), "rm?path=" (a person
// deletes a resource), "rmonput?path=" (the same, as the bytes arrive),
// "accept?ms=" (the uploader answers 202 and keeps the file that much
// later, as the disk does with what it still moves), "hold?ms=" (the
// uploader keeps the file at once and answers that much later, as when
// its answer is slow to come back), "href?kind=upload|
// download&value=" (another address given), "ttl?seconds=" (of download
// hrefs).
//
// node yadisk.mjs <port> <token>

import http from 'node:http';
import crypto from 'node:crypto';

const port = Number(process.argv[2]);
const token = process.argv[3];
const base = `http://127.0.0.1:${port}`;

const tree = new Map([['disk:', { type: 'dir', created: new Date() }]]);
const uploads = new Map();       // href id -> { path, expires, used }
const downloads = new Map();     // href id -> { path, expires }
const operations = new Map();    // id -> { path, status }
const log = [];
let fail = null;                 // { status, count, match, retry }
let asyncDeletes = false;
let lie = false;
let downloadTtl = 60;
let acceptMs = 0;                // the uploader answers 202, stores later
let holdMs = 0;                  // the uploader stores, answers later
let rmOnPut = null;              // a person deletes it as the bytes come
const hrefs = {};                // kind -> an address to give instead

// "disk:/a/b", "/a/b" and "app:/a/b" are "disk:/a/b"; the root is "disk:"
function norm(p) {
    if (p === undefined || p === null || p === '') return null;
    if (p.startsWith('/')) p = 'disk:' + p;
    const m = /^(disk|app):(.*)$/.exec(p);
    if (!m) return null;
    const parts = m[2].split('/').filter((s) => s !== '');
    if (parts.some((s) => s === '.' || s === '..')) return null;
    return parts.length ? 'disk:/' + parts.join('/') : 'disk:';
}

function parent(p) {
    if (p === 'disk:') return null;
    const i = p.lastIndexOf('/');
    return i === 5 ? 'disk:' : p.slice(0, i);
}

function display(p) {
    return p === 'disk:' ? 'disk:/' : p;
}

function answer(res, status, body, headers = {}) {
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, {
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Length': Buffer.byteLength(text),
        ...headers,
    });
    res.end(text);
    return status;
}

function error(res, status, name, description, headers) {
    return answer(res, status, { message: description, description, error: name }, headers);
}

function resource(p, fields) {
    const r = tree.get(p);
    const out = {
        path: display(p),
        name: p.slice(p.lastIndexOf('/') + 1),
        type: r.type,
        created: r.created.toISOString(),
        modified: r.created.toISOString(),
    };
    if (r.type === 'file') {
        out.size = r.data.length;
        out.sha256 = crypto.createHash('sha256').update(r.data).digest('hex');
        out.md5 = crypto.createHash('md5').update(r.data).digest('hex');
        out.mime_type = 'application/octet-stream';
    }
    if (!fields) return out;
    const keep = {};
    for (const f of fields.split(',')) if (f in out) keep[f] = out[f];
    return keep;
}

function link(href, method = 'GET') {
    return { href, method, templated: false };
}

function remove(p) {
    for (const k of [...tree.keys()]) {
        if (k === p || k.startsWith(p + '/')) tree.delete(k);
    }
}

function body(req) {
    return new Promise((resolve, reject) => {
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => resolve(Buffer.concat(chunks)));
        req.on('error', reject);
    });
}

async function api(req, res, url) {
    const auth = req.headers.authorization || '';
    if (auth !== `OAuth ${token}`) {
        return error(res, 401, 'UnauthorizedError', 'Unauthorized');
    }

    if (fail && fail.count > 0 && url.pathname.includes(fail.match)) {
        fail.count--;
        const h = fail.retry ? { 'Retry-After': String(fail.retry) } : {};
        return error(res, fail.status, fail.status === 429 ? 'TooManyRequestsError'
                     : 'ServiceUnavailableError', 'emulated failure', h);
    }

    const op = url.pathname.match(/^\/v1\/disk\/operations\/([\w-]+)$/);
    if (op && req.method === 'GET') {
        const o = operations.get(op[1]);
        if (!o) return error(res, 404, 'DiskNotFoundError', 'no such operation');
        if (o.status === 'in-progress') { remove(o.path); o.status = 'success'; return answer(res, 200, { status: 'in-progress' }); }
        return answer(res, 200, { status: o.status });
    }

    if (url.pathname === '/v1/disk' || url.pathname === '/v1/disk/') {
        return answer(res, 200, { total_space: 10 << 30, used_space: 0, trash_size: 0 });
    }

    const raw = url.searchParams.get('path');
    const p = norm(raw);
    if (p === null) {
        return error(res, 400, 'FieldValidationError', 'path is missing or invalid');
    }

    switch (`${req.method} ${url.pathname}`) {

    case 'GET /v1/disk/resources': {
        const r = tree.get(p);
        if (!r) return error(res, 404, 'DiskNotFoundError', 'Resource not found.');
        const out = resource(p, url.searchParams.get('fields'));
        if (r.type === 'dir' && !url.searchParams.get('fields')) {
            const limit = Number(url.searchParams.get('limit') || 20);
            const offset = Number(url.searchParams.get('offset') || 0);
            const items = [...tree.keys()].filter((k) => k !== p && parent(k) === p).sort();
            out._embedded = { path: display(p), sort: 'name', limit, offset, total: items.length,
                              items: items.slice(offset, offset + limit).map((k) => resource(k)) };
        }
        // a background delete ends after the first look at it
        if (r.deleting) remove(p);
        return answer(res, 200, out);
    }

    case 'PUT /v1/disk/resources': {
        if (tree.has(p)) {
            return error(res, 409, 'DiskPathPointsToExistentDirectoryError',
                         'Specified path points to an existent directory.');
        }
        const up = tree.get(parent(p));
        if (!up || up.type !== 'dir') {
            return error(res, 409, 'DiskPathDoesntExistsError', 'Specified path doesn\'t exists.');
        }
        tree.set(p, { type: 'dir', created: new Date() });
        return answer(res, 201, link(`https://cloud-api.yandex.net/v1/disk/resources?path=${encodeURIComponent(display(p))}`));
    }

    case 'GET /v1/disk/resources/upload': {
        const overwrite = url.searchParams.get('overwrite') === 'true';
        if (tree.has(p) && !overwrite) {
            return error(res, 409, 'DiskResourceAlreadyExistsError',
                         `Resource "${display(p)}" already exists.`);
        }
        const up = tree.get(parent(p));
        if (!up || up.type !== 'dir') {
            return error(res, 409, 'DiskPathDoesntExistsError', 'Specified path doesn\'t exists.');
        }
        const id = crypto.randomBytes(16).toString('hex');
        uploads.set(id, { path: p, overwrite, expires: Date.now() + 30 * 60 * 1000 });
        return answer(res, 200, { operation_id: id,
                                  ...link(hrefs.upload || `${base}/upload-target/${id}?a=1&b=%2F`, 'PUT') });
    }

    case 'GET /v1/disk/resources/download': {
        const r = tree.get(p);
        if (!r || r.type !== 'file') return error(res, 404, 'DiskNotFoundError', 'Resource not found.');
        const id = crypto.randomBytes(16).toString('hex');
        downloads.set(id, { path: p, expires: Date.now() + downloadTtl * 1000 });
        return answer(res, 200, link(hrefs.download
            || `${base}/download/${id}?filename=${encodeURIComponent(p.slice(p.lastIndexOf('/') + 1))}&disposition=attachment`));
    }

    case 'DELETE /v1/disk/resources': {
        if (!tree.has(p)) return error(res, 404, 'DiskNotFoundError', 'Resource not found.');
        if (url.searchParams.get('permanently') !== 'true') {
            return error(res, 400, 'EmulatorError', 'the module deletes permanently');
        }
        if (asyncDeletes) {
            const id = crypto.randomBytes(8).toString('hex');
            operations.set(id, { path: p, status: 'in-progress' });
            tree.get(p).deleting = true;
            return answer(res, 202, link(`https://cloud-api.yandex.net/v1/disk/operations/${id}`));
        }
        remove(p);
        res.writeHead(204);
        res.end();
        return 204;
    }

    default:
        return error(res, 405, 'MethodNotAllowedError', 'not in the emulator');
    }
}

async function uploader(req, res, id) {
    const u = uploads.get(id);
    if (!u || u.used || u.expires < Date.now()) {
        return error(res, 404, 'NotFound', 'no such upload');
    }
    if (req.method !== 'PUT') return error(res, 405, 'MethodNotAllowed', 'PUT');
    if (req.headers['content-length'] === undefined) {
        return error(res, 411, 'LengthRequired', 'Content-Length is required');
    }
    u.used = true;
    if (rmOnPut) { remove(rmOnPut); rmOnPut = null; }
    let data = await body(req);
    if (data.length !== Number(req.headers['content-length'])) {
        return error(res, 400, 'BadRequest', 'body shorter than Content-Length');
    }
    if (!tree.get(parent(u.path))) {
        return error(res, 409, 'Conflict', 'the folder went');
    }
    if (tree.has(u.path) && !u.overwrite) {
        return error(res, 412, 'PreconditionFailed', 'already there');
    }
    if (lie && data.length) {
        data = Buffer.from(data);
        data[0] ^= 0xff;
    }
    if (acceptMs) {
        setTimeout(() => tree.set(u.path, { type: 'file', data, created: new Date() }), acceptMs);
        res.writeHead(202);
        res.end();
        return 202;
    }
    tree.set(u.path, { type: 'file', data, created: new Date() });
    if (holdMs) await new Promise((done) => setTimeout(done, holdMs));
    res.writeHead(201);
    res.end();
    return 201;
}

function downloader(req, res, id) {
    const d = downloads.get(id);
    if (!d) return error(res, 404, 'NotFound', 'no such link');
    if (d.expires < Date.now()) return error(res, 410, 'Gone', 'the link expired');
    const r = tree.get(d.path);
    if (!r) return error(res, 404, 'NotFound', 'the file went');
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range || '');
    if (range && r.data.length) {
        let start = range[1] === '' ? r.data.length - Number(range[2]) : Number(range[1]);
        let end = range[1] === '' || range[2] === '' ? r.data.length - 1 : Number(range[2]);
        end = Math.min(end, r.data.length - 1);
        if (start > end || start < 0) {
            res.writeHead(416, { 'Content-Range': `bytes */${r.data.length}` });
            res.end();
            return 416;
        }
        res.writeHead(206, {
            'Content-Range': `bytes ${start}-${end}/${r.data.length}`,
            'Content-Length': end - start + 1,
        });
        res.end(r.data.subarray(start, end + 1));
        return 206;
    }
    res.writeHead(200, { 'Content-Length': r.data.length, 'Accept-Ranges': 'bytes' });
    res.end(req.method === 'HEAD' ? undefined : r.data);
    return 200;
}

function control(req, res, url) {
    const q = url.searchParams;
    switch (url.pathname) {
    case '/_emu/log':
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end(log.map((l) => JSON.stringify(l)).join('\n') + (log.length ? '\n' : ''));
        return;
    case '/_emu/tree': {
        const out = {};
        for (const k of [...tree.keys()].sort()) out[display(k)] = resource(k);
        return answer(res, 200, out);
    }
    case '/_emu/fail':
        fail = { status: Number(q.get('status') || 503), count: Number(q.get('count') || 1),
                 match: q.get('match') || '/v1/disk', retry: q.get('retry') };
        return answer(res, 200, fail);
    case '/_emu/async':
        asyncDeletes = q.get('on') === '1';
        return answer(res, 200, { asyncDeletes });
    case '/_emu/lie':
        lie = q.get('on') === '1';
        return answer(res, 200, { lie });
    case '/_emu/accept':
        acceptMs = Number(q.get('ms') || 0);
        return answer(res, 200, { acceptMs });
    case '/_emu/hold':
        holdMs = Number(q.get('ms') || 0);
        return answer(res, 200, { holdMs });
    case '/_emu/rmonput':
        rmOnPut = norm(q.get('path'));
        return answer(res, 200, { rmOnPut });
    case '/_emu/href':
        if (q.get('value')) hrefs[q.get('kind')] = q.get('value'); else delete hrefs[q.get('kind')];
        return answer(res, 200, hrefs);
    case '/_emu/ttl':
        downloadTtl = Number(q.get('seconds'));
        return answer(res, 200, { downloadTtl });
    case '/_emu/rm': {
        const p = norm(q.get('path'));
        if (!p || !tree.has(p)) return error(res, 404, 'DiskNotFoundError', 'not there');
        remove(p);
        return answer(res, 200, { removed: display(p) });
    }
    case '/_emu/reset':
        for (const k of [...tree.keys()]) if (k !== 'disk:') tree.delete(k);
        log.length = 0;
        fail = null;
        asyncDeletes = lie = false;
        downloadTtl = 60;
        acceptMs = holdMs = 0;
        rmOnPut = null;
        return answer(res, 200, {});
    default:
        return error(res, 404, 'NotFound', 'no such control');
    }
}

http.createServer(async (req, res) => {
    const url = new URL(req.url, base);
    if (url.pathname.startsWith('/_emu/')) return control(req, res, url);

    let status;
    try {
        if (url.pathname.startsWith('/upload-target/')) {
            status = await uploader(req, res, url.pathname.slice(15));
        } else if (url.pathname.startsWith('/download/')) {
            status = downloader(req, res, url.pathname.slice(10));
        } else {
            status = await api(req, res, url);
        }
    } catch (e) {
        status = error(res, 500, 'InternalServerError', String(e));
    }
    log.push({ method: req.method, url: req.url, auth: req.headers.authorization || '',
               length: req.headers['content-length'] || '', range: req.headers.range || '',
               status });
}).listen(port, '127.0.0.1');
