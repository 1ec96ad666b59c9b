// Copyright (C) 2026 The ngx_http_attachments_module authors
//
// A drop-in upload widget for ngx_http_attachments_module: attach files to
// one record by drop or picker, a progress bar per file, the record's list
// with names, sizes, tags and download links, delete with confirmation,
// and every refusal shown as the API's JSON error says it.  No framework
// and no build step:
//
//   import { mountAttachments } from '/demo/attachments.js';
//   mountAttachments(document.querySelector('#files'), {
//       api: '/api', entityType: 'work_orders', entityId: '123',
//       headers: { 'X-User': 'u42', 'X-Org': 'acme' },
//   });
//
// Each file is uploaded on its own, with its own progress and its own
// answer: resumable (tus, in chunks; an upload cut off goes on from where
// it was when the same file is attached again, even after a reload) when
// the server offers it, as multipart/form-data otherwise.

const units = ['B', 'KB', 'MB', 'GB', 'TB'];

export function formatSize(n) {
    let i = 0;
    while (n >= 1024 && i < units.length - 1) {
        n /= 1024;
        i++;
    }
    return (i === 0 ? String(n) : n.toFixed(n < 10 ? 1 : 0)) + ' ' + units[i];
}

// the API's {"error":{"code","message"}}, or what the answer was
export function errorText(status, body) {
    try {
        const e = JSON.parse(body).error;
        if (e && e.message) {
            return e.message + ' (' + e.code + ')';
        }
    } catch (ignored) {
        // not the API's JSON: a proxy's page, a dropped connection
    }
    return status ? 'the server answered ' + status : 'the connection failed';
}

function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
        if (k.startsWith('on')) {
            e.addEventListener(k.slice(2), v);
        } else {
            e.setAttribute(k, v);
        }
    }
    e.append(...children);
    return e;
}

// tus's Upload-Metadata: key and base64 of the UTF-8 value, comma-separated
export function tusMetadata(fields) {
    return Object.entries(fields)
        .filter(([, v]) => v !== undefined && v !== null && v !== '')
        .map(([k, v]) => {
            const bytes = new TextEncoder().encode(String(v));
            let bin = '';
            bytes.forEach((b) => { bin += String.fromCharCode(b); });
            return k + ' ' + btoa(bin);
        })
        .join(',');
}

const TUS = { 'Tus-Resumable': '1.0.0' };
const CHUNK = 5 * 1024 * 1024;

export function mountAttachments(root, options) {
    const o = Object.assign({ api: '/api', headers: {}, resumable: 'auto',
                              confirm: (text) => window.confirm(text) },
                            options);
    const record = o.api.replace(/\/$/, '') + '/'
                 + encodeURIComponent(o.entityType) + '/'
                 + encodeURIComponent(o.entityId);
    const base = record + '/files';
    const uploads = record + '/uploads';
    let tus = null;

    const input = el('input', { type: 'file', multiple: '',
                                class: 'attachments-input',
                                'aria-label': 'Attach files' });
    const zone = el('div', { class: 'attachments-drop', tabindex: '0' },
                    'Drop files here or ', input);
    const rows = el('ul', { class: 'attachments-uploads',
                            'aria-live': 'polite' });
    const error = el('p', { class: 'attachments-error', role: 'alert' });
    const list = el('table', { class: 'attachments-list' });
    root.replaceChildren(zone, rows, error, list);

    function showError(text) {
        error.textContent = text || '';
    }

    async function call(method, url) {
        const r = await fetch(url, { method, headers: o.headers });
        const body = await r.text();
        if (!r.ok) {
            throw new Error(errorText(r.status, body));
        }
        return body ? JSON.parse(body) : null;
    }

    async function refresh() {
        const files = [];
        let cursor = null;
        do {
            const page = await call('GET', base + '?limit=100'
                + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''));
            files.push(...page.files);
            cursor = page.next_cursor;
        } while (cursor);

        list.replaceChildren(el('tr', {}, el('th', {}, 'Name'),
                                el('th', {}, 'Size'), el('th', {}, 'Tags'),
                                el('th', {}, '')));
        for (const f of files) {
            const name = f.download_url
                ? el('a', { href: f.download_url, class: 'attachments-link' },
                     f.file_name)
                : f.file_name;
            const del = el('button', { type: 'button',
                                       class: 'attachments-delete',
                                       onclick: () => remove(f) },
                           'Delete');
            list.append(el('tr', { 'data-id': f.id },
                           el('td', {}, name),
                           el('td', {}, formatSize(f.size)),
                           el('td', {}, (f.tags || []).join(', ')),
                           el('td', {}, del)));
        }
        return files;
    }

    async function remove(f) {
        if (!o.confirm('Delete ' + f.file_name + '?')) {
            return;
        }
        try {
            await call('DELETE', base + '/' + encodeURIComponent(f.id));
            showError('');
        } catch (e) {
            showError(e.message);
        }
        await refresh().catch((e) => showError(e.message));
    }

    // one request, its upload progress reported as bytes of the file
    function send(method, url, headers, body, progress) {
        return new Promise((resolve) => {
            const xhr = new XMLHttpRequest();
            xhr.open(method, url);
            for (const [k, v] of Object.entries(Object.assign({}, o.headers,
                                                              headers))) {
                xhr.setRequestHeader(k, v);
            }
            if (progress) {
                xhr.upload.addEventListener('progress', (e) => {
                    progress(e.loaded);
                });
            }
            xhr.addEventListener('load', () => resolve(xhr));
            xhr.addEventListener('error', () => resolve({ status: 0,
                                                          responseText: '' }));
            xhr.send(body);
        });
    }

    async function speaksTus() {
        if (tus === null) {
            tus = o.resumable === true;
            if (o.resumable === 'auto') {
                const r = await fetch(uploads, { method: 'OPTIONS',
                                                 headers: o.headers })
                    .catch(() => null);
                tus = !!r && r.status === 204
                      && (r.headers.get('Tus-Version') || '').includes('1.0.0');
            }
        }
        return tus;
    }

    async function multipart(file, show) {
        const form = new FormData();
        form.append('file', file, file.name);
        const xhr = await send('POST', base, {}, form, show);
        return xhr.status === 201 ? null : errorText(xhr.status, xhr.responseText);
    }

    // the same file attached again goes on where its upload was
    async function resumable(file, show) {
        const key = 'attachments-tus ' + uploads + ' ' + file.name + ' '
                  + file.size + ' ' + file.lastModified;
        let url = localStorage.getItem(key);
        let offset = 0;

        if (url) {
            const head = await send('HEAD', url, TUS, null);
            offset = head.status === 200
                ? Number(head.getResponseHeader('Upload-Offset')) : NaN;
            if (!(offset >= 0)) {
                url = null;
                offset = 0;
            }
        }

        if (!url) {
            const made = await send('POST', uploads, Object.assign({
                'Upload-Length': String(file.size),
                'Upload-Metadata': tusMetadata({ filename: file.name,
                                                 filetype: file.type }),
            }, TUS), null);
            if (made.status !== 201) {
                return errorText(made.status, made.responseText);
            }
            url = new URL(made.getResponseHeader('Location'),
                          location.href).href;
            if (file.size === 0) {
                return null;
            }
            localStorage.setItem(key, url);
        }

        while (offset < file.size) {
            const at = offset;
            const r = await send('PATCH', url, Object.assign({
                'Upload-Offset': String(at),
                'Content-Type': 'application/offset+octet-stream',
            }, TUS), file.slice(at, at + CHUNK), (n) => show(at + n));

            if (r.status === 200) {
                break;
            }
            if (r.status !== 204) {
                if (r.status >= 400 && r.status < 500 && r.status !== 409
                    && r.status !== 423) {
                    localStorage.removeItem(key);
                }
                return errorText(r.status, r.responseText);
            }
            offset = Number(r.getResponseHeader('Upload-Offset'));
        }

        localStorage.removeItem(key);
        return null;
    }

    async function upload(file) {
        const bar = el('progress', { max: '100', value: '0' });
        const state = el('span', { class: 'attachments-state' }, 'waiting');
        const row = el('li', { class: 'attachments-upload' },
                       file.name + ' ', bar, ' ', state);
        rows.append(row);

        const show = (sent) => {
            if (file.size) {
                bar.value = Math.min(99, Math.floor(sent * 100 / file.size));
                state.textContent = bar.value + '%';
            }
        };

        const via = await speaksTus() ? 'tus' : 'multipart';
        row.dataset.via = via;
        const failed = via === 'tus' ? await resumable(file, show)
                                     : await multipart(file, show);
        if (failed === null) {
            bar.value = 100;
            state.textContent = '100%';
            row.classList.add('done');
            return true;
        }

        row.classList.add('failed');
        state.textContent = failed;
        showError(file.name + ': ' + failed);
        return false;
    }

    async function attach(files) {
        showError('');
        await Promise.all(Array.from(files, upload));
        await refresh().catch((e) => showError(e.message));
        root.dispatchEvent(new CustomEvent('attachments:changed'));
    }

    input.addEventListener('change', () => {
        attach(input.files);
        input.value = '';
    });
    zone.addEventListener('dragover', (e) => {
        e.preventDefault();
        zone.classList.add('over');
    });
    zone.addEventListener('dragleave', () => zone.classList.remove('over'));
    zone.addEventListener('drop', (e) => {
        e.preventDefault();
        zone.classList.remove('over');
        attach(e.dataTransfer.files);
    });

    refresh().catch((e) => showError(e.message));

    return { refresh, attach };
}
