// dashboard-pages.mjs: opens PAGES dashboard pages (one headless Chromium, one
// tab per page, each in its own browser context like separate wall screens) on
// URL, prints "ready" once every page shows tiles with values, and keeps them
// open until SECONDS pass or it is sent SIGTERM. Used by run-dashboard.sh.
//
//   node tools/bench/dashboard-pages.mjs URL PAGES SECONDS

import * as h from '../../tests/web/harness.mjs';

const [url, pages = '10', seconds = '90'] = process.argv.slice(2);
const b = await h.browser();
const opened = [];
for (let i = 0; i < Number(pages); i++) {
  const context = await b.newContext({ viewport: { width: 1920, height: 1080 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(url);
  opened.push(page);
}
// Ready: the floor shows values, or the machine view a chart with points.
for (const page of opened) {
  await h.waitFor('the page to show data', () => page.evaluate(() => {
    const dd = document.querySelector('.tile dd');
    return (dd && Number(dd.dataset.ts) > 0) || Number(document.getElementById('m-chart').dataset.points) > 0;
  }), 60000);
}
console.log('ready');
await new Promise((r) => setTimeout(r, Number(seconds) * 1000));
await h.finish();
