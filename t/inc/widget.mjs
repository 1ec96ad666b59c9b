// Copyright (C) 2026 The ngx_http_attachments_module authors
//
// html/demo.html in Debian's chromium, headless, driven by playwright-core:
// a user attaches a file and watches it reach 100%, finds it listed and
// downloads it, attaches a file of a refused type and reads why, cancels a
// delete and then confirms one; then attaches a 12 MB file whose second
// PATCH the network cuts off, and attaches it again to see it go on from
// there.  Prints what it saw as one JSON object; saves a screenshot of each
// step under the directory given.
//
//   node t/inc/widget.mjs <page URL> <artefact directory>

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [url, artefacts] = process.argv.slice(2);
const seen = {};

const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
});

try {
    const page = await browser.newPage();
    page.setDefaultTimeout(15000);
    seen.console = [];
    page.on('console', (m) => m.type() === 'error' && seen.console.push(m.text()));
    page.on('pageerror', (e) => seen.console.push(String(e)));
    const dialogs = [];
    let answer = false;
    page.on('dialog', (d) => {
        dialogs.push(d.message());
        (answer ? d.accept() : d.dismiss()).catch(() => {});
    });

    await page.goto(url);
    await page.waitForSelector('.attachments-list tr');
    seen.listed_before = await page.locator('.attachments-list tr[data-id]').count();

    // a file large enough for progress events on the way
    const body = Buffer.alloc(3 * 1024 * 1024, 'report line\n');
    const changed = () => page.evaluate(() => new Promise((resolve) =>
        document.querySelector('#files').addEventListener('attachments:changed',
                                                          resolve, { once: true })));
    let done = changed();
    await page.setInputFiles('.attachments-input',
                             { name: 'report.txt', mimeType: 'text/plain', buffer: body });
    await done;
    const row = page.locator('.attachments-upload', { hasText: 'report.txt' });
    seen.progress = await row.locator('progress').evaluate((p) => p.value);
    seen.state = await row.locator('.attachments-state').textContent();
    seen.upload_class = await row.getAttribute('class');
    seen.via = await row.getAttribute('data-via');
    await page.screenshot({ path: artefacts + '/widget-uploaded.png', fullPage: true });

    const link = page.locator('.attachments-list a', { hasText: 'report.txt' });
    seen.listed = await link.count();
    seen.size_shown = await page.locator('.attachments-list tr', { hasText: 'report.txt' })
        .locator('td').nth(1).textContent();
    const href = await link.getAttribute('href');
    const got = await page.evaluate(async (h) => {
        const r = await fetch(h);
        return { status: r.status, length: (await r.arrayBuffer()).byteLength };
    }, href);
    seen.download_status = got.status;
    seen.download_same = got.length === body.length;

    // a PNG that is text: the API's 415, shown as it says
    done = changed();
    await page.setInputFiles('.attachments-input',
                             { name: 'photo.png', mimeType: 'image/png',
                               buffer: Buffer.from('not a picture at all\n') });
    await done;
    seen.refused_error = await page.locator('.attachments-error').textContent();
    seen.refused_listed = await page.locator('.attachments-list a',
                                             { hasText: 'photo.png' }).count();
    await page.screenshot({ path: artefacts + '/widget-refused.png', fullPage: true });

    // delete: cancelled, then confirmed
    const del = page.locator('.attachments-list tr', { hasText: 'report.txt' })
        .locator('.attachments-delete');
    await del.click();
    await page.waitForTimeout(300);
    seen.after_cancel = await page.locator('.attachments-list a',
                                           { hasText: 'report.txt' }).count();
    answer = true;
    await del.click();
    await page.locator('.attachments-list a', { hasText: 'report.txt' })
        .waitFor({ state: 'detached' });
    seen.after_confirm = await page.locator('.attachments-list a',
                                            { hasText: 'report.txt' }).count();
    seen.dialogs = dialogs;
    await page.screenshot({ path: artefacts + '/widget-deleted.png', fullPage: true });

    // resume: a file on disk (a stable lastModified, as a user's file has),
    // its second PATCH cut off by the network, then attached again
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attachments-widget-'));
    const survey = path.join(dir, 'survey.txt');
    fs.writeFileSync(survey, Buffer.alloc(12 * 1024 * 1024, 'survey line\n'));
    const requests = [];
    let cut = false;
    await page.route('**/uploads**', (route) => {
        const rq = route.request();
        const at = rq.headers()['upload-offset'];
        requests.push(rq.method() + (at === undefined ? '' : ' ' + at));
        if (rq.method() === 'PATCH' && at !== '0' && !cut) {
            cut = true;
            return route.abort('connectionreset');
        }
        return route.continue();
    });
    done = changed();
    await page.setInputFiles('.attachments-input', survey);
    await done;
    const cutRow = page.locator('.attachments-upload', { hasText: 'survey.txt' }).last();
    seen.cut_class = await cutRow.getAttribute('class');
    seen.cut_listed = await page.locator('.attachments-list a', { hasText: 'survey.txt' }).count();
    await page.screenshot({ path: artefacts + '/widget-cut-off.png', fullPage: true });
    done = changed();
    await page.setInputFiles('.attachments-input', survey);
    await done;
    const resumed = page.locator('.attachments-upload', { hasText: 'survey.txt' }).last();
    seen.resumed_state = await resumed.locator('.attachments-state').textContent();
    seen.resume_requests = requests;
    seen.resumed_listed = await page.locator('.attachments-list a', { hasText: 'survey.txt' }).count();
    await page.screenshot({ path: artefacts + '/widget-resumed.png', fullPage: true });
    fs.rmSync(dir, { recursive: true, force: true });
} catch (e) {
    seen.failure = String(e && e.stack || e);
} finally {
    await browser.close();
}

console.log(JSON.stringify(seen));
