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
// Uploads go as multipart/form-data, one request per file, so that each
// file has its own progress and its own answer.

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

export function mountAttachments(root, options) {
    const o = Object.assign({ api: '/api', headers: {},
                              confirm: (text) => window.confirm(text) },
                            options);
    const base = o.api.replace(/\/$/, '') + '/'
               + encodeURIComponent(o.entityType) + '/'
               + encodeURIComponent(o.entityId) + '/files';

    const input = el('input', { type: 'file', multiple: '',
                                class: 'attachments-input',
                                'aria-label': 'Attach files' });
    const zone = el('div', { class: 'attachments-drop', tabindex: '0' },
                    'Drop files here or ', input);
    const uploads = el('ul', { class: 'attachments-uploads',
                               'aria-live': 'polite' });
    const error = el('p', { class: 'attachments-error', role: 'alert' });
    const list = el('table', { class: 'attachments-list' });
    root.replaceChildren(zone, uploads, error, list);

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

    function upload(file) {
        const bar = el('progress', { max: '100', value: '0' });
        const state = el('span', { class: 'attachments-state' }, 'waiting');
        const row = el('li', { class: 'attachments-upload' },
                       file.name + ' ', bar, ' ', state);
        uploads.append(row);

        return new Promise((resolve) => {
            const xhr = new XMLHttpRequest();
            const form = new FormData();
            form.append('file', file, file.name);
            xhr.open('POST', base);
            for (const [k, v] of Object.entries(o.headers)) {
                xhr.setRequestHeader(k, v);
            }
            xhr.upload.addEventListener('progress', (e) => {
                if (e.lengthComputable) {
                    bar.value = Math.floor(e.loaded * 100 / e.total);
                    state.textContent = bar.value + '%';
                }
            });
            xhr.addEventListener('load', () => {
                if (xhr.status === 201) {
                    bar.value = 100;
                    state.textContent = '100%';
                    row.classList.add('done');
                } else {
                    row.classList.add('failed');
                    state.textContent = errorText(xhr.status, xhr.responseText);
                    showError(file.name + ': ' + state.textContent);
                }
                resolve(xhr.status === 201);
            });
            xhr.addEventListener('error', () => {
                row.classList.add('failed');
                state.textContent = errorText(0, '');
                showError(file.name + ': ' + state.textContent);
                resolve(false);
            });
            xhr.send(form);
        });
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
