// Copyright (C) 2026 The ngx_http_attachments_module authors
//
// tus-js-client, as an application uses it, against the module:
//
//   node t/inc/tus.mjs upload <endpoint> <file> <name> [chunk] [stop-after]
//
// uploads the file (in chunks of that many bytes), or stops the process
// once stop-after bytes are acknowledged, leaving the upload's URL in
// <file>.url; "resume" takes the URL from there and finishes the upload
// from where the server says it is.  Prints one JSON line: what happened.

import { readFileSync, writeFileSync } from 'node:fs';
import * as tus from 'tus-js-client';

const [mode, endpoint, file, name, chunk, stopAfter] = process.argv.slice(2);
const headers = { 'X-User': 'owner1', 'X-Org': 'acme' };
const data = readFileSync(file);
const seen = { mode, offsets: [] };

const options = {
    endpoint,
    headers,
    chunkSize: chunk ? Number(chunk) : Infinity,
    metadata: { filename: name, filetype: process.env.TUS_TYPE || 'text/plain' },
    retryDelays: [],
    onChunkComplete(chunkSize, accepted) {
        seen.offsets.push(accepted);
        if (stopAfter && accepted >= Number(stopAfter)) {
            writeFileSync(file + '.url', upload.url);
            seen.stopped = accepted;
            console.log(JSON.stringify(seen));
            process.exit(0);
        }
    },
    onError(err) {
        seen.error = String(err && err.message || err);
        console.log(JSON.stringify(seen));
        process.exit(1);
    },
    onSuccess(payload) {
        seen.url = upload.url;
        seen.status = payload && payload.lastResponse
            ? payload.lastResponse.getStatus() : null;
        seen.body = payload && payload.lastResponse
            ? payload.lastResponse.getBody() : null;
        console.log(JSON.stringify(seen));
    },
};

if (mode === 'resume') {
    options.uploadUrl = readFileSync(file + '.url', 'utf8');
}

const upload = new tus.Upload(data, options);
upload.start();
