// tests/web/offline_banner.test.mjs: the page when its daemon goes away and
// comes back (same database, same port): a banner while it cannot be reached,
// cleared by itself on the first answer; then the api.token flow (the page
// loads without the token, asks for it, and `?token=` once is enough).
// Screenshot: offline.png in --artifacts.
//
//   node tests/web/offline_banner.test.mjs --edgemes build/bin/edgemes --artifacts DIR

import path from 'node:path';
import * as h from './harness.mjs';

const opt = h.args();
const dir = h.tempDir();
const port = await h.freePort();
const deadPort = await h.freePort();
const log = path.join(dir, 'edgemes.log');
let daemon = new h.Daemon(opt.edgemes, h.writeConfig(dir, port, deadPort), port, log);
const base = daemon.base;
const TOKEN = 'dashboard-test-token-0123456789';

let page;
let b;
const newestTs = () => page.$eval('.tile[data-machine="smt1-placer1"] dd', (dd) => Number(dd.dataset.ts) || 0);
const bannerShown = () => page.isVisible('#banner');

await h.test('the page shows live tiles and no banner while the daemon answers', async () => {
  await daemon.start();
  b = await h.browser();
  page = await h.openPage(b, base + '/');
  await h.waitFor('tiles with values', async () => (await newestTs()) > 0);
  h.assert(!(await bannerShown()), 'no banner while the daemon answers');
});

let tsBeforeStop = 0;
await h.test('stopping the daemon shows the unreachable banner, and the tiles stay', async () => {
  const code = await daemon.stop();
  h.assert(code === 0, 'the daemon stopped cleanly, exit code ' + code);
  tsBeforeStop = await newestTs();
  await h.waitFor('the banner', async () => (await bannerShown()) &&
    (await page.textContent('#banner-text')).includes('unreachable'));
  h.assert((await page.$$('.tile')).length === 6, 'the last known tiles stay on screen');
  await page.screenshot({ path: path.join(opt.artifacts, 'offline.png'), fullPage: true });
});

await h.test('restarting the daemon on the same database and port clears the banner by itself', async () => {
  await daemon.start();
  await h.waitFor('the banner to clear', async () => !(await bannerShown()), 20000);
  await h.waitFor('newer values than before the stop', async () => (await newestTs()) > tsBeforeStop, 20000);
  h.assert(!(await page.evaluate(() => document.body.classList.contains('stale'))), 'the page is no longer dimmed');
});

await h.test('no uncaught exception and no console error but the refused connections', async () => {
  // Chromium logs each refused fetch as a console error; those are expected
  // while the daemon is down, nothing else is.
  const problems = page.problems((e) => /ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|ERR_CONNECTION_RESET/.test(e));
  h.assert(problems.length === 0, problems.join('\n'));
  await page.close();
});

await h.test('with api.token set the page loads, asks for the token, and works with ?token= once', async () => {
  await daemon.stop();
  daemon = new h.Daemon(opt.edgemes, h.writeConfig(dir, port, deadPort, TOKEN), port, log);
  await daemon.start();
  page = await h.openPage(b, base + '/');
  await h.waitFor('the token banner', async () => (await bannerShown()) && (await page.isVisible('#token-form')));
  await page.goto(base + '/?token=' + TOKEN + '#/');
  await h.waitFor('tiles with values', async () => (await newestTs()) > 0);
  h.assert(!(await bannerShown()), 'the banner is gone once the token is known');
  const url = page.url();
  h.assert(!url.includes(TOKEN), 'the token is removed from the address bar: ' + url);
  // It stays known across a reload, from localStorage.
  await page.reload();
  await h.waitFor('tiles after a reload', async () => (await newestTs()) > 0);
  h.assert(!(await bannerShown()), 'no banner after a reload');
  const problems = page.problems((e) => /401 \(Unauthorized\)/.test(e));
  h.assert(problems.length === 0, problems.join('\n'));
});

await h.finish([log]);
