// tests/web/dashboard.test.mjs: the floor dashboard in headless Chromium
// against a real `edgemes run` — tiles and their colours and values against
// the API, live updates without layout shift, the machine and line views.
// Screenshots: floor.png, machine.png, line.png, floor-tablet.png, floor-wall.png in --artifacts.
//
//   node tests/web/dashboard.test.mjs --edgemes build/bin/edgemes --artifacts DIR

import path from 'node:path';
import * as h from './harness.mjs';

const opt = h.args();
const dir = h.tempDir();
const port = await h.freePort();
const deadPort = await h.freePort();  // nothing listens here: smt2-dead goes offline
const config = h.writeConfig(dir, port, deadPort);
const log = path.join(dir, 'edgemes.log');
const daemon = new h.Daemon(opt.edgemes, config, port, log);
const base = daemon.base;
const api = (target) => h.getJson(base, target);
const shot = (page, name) => page.screenshot({ path: path.join(opt.artifacts, name), fullPage: true });

let page;
let floor;

// Reads every tile: id, colour class, pill colour, and each metric's text and ts.
const readTiles = () => page.$$eval('.tile', (tiles) => tiles.map((t) => ({
  id: t.dataset.machine,
  cls: t.dataset.state,
  rgb: getComputedStyle(t.querySelector('.state-pill')).backgroundColor,
  metrics: [...t.querySelectorAll('.kv')].map((kv) => ({
    name: kv.dataset.metric, text: kv.querySelector('dd').textContent, ts: Number(kv.querySelector('dd').dataset.ts) || null,
  })),
})));

// The number a tile shows, and how far from the true value rounding may put it.
function shown(text) {
  const v = Number(text.replace(/\s/g, ''));
  const m = /e([+-]\d+)$/.exec(text);
  const decimals = m ? 2 - Number(m[1]) : (text.split('.')[1] || '').length;
  return { v, tolerance: 0.5 * 10 ** -decimals + 1e-9 };
}

await h.test('the daemon starts and the page loads from it alone, with no other origin', async () => {
  await daemon.start();
  const b = await h.browser();
  const foreign = [];
  page = await b.newPage({ viewport: { width: 1600, height: 1000 } });
  page.on('request', (r) => { if (!r.url().startsWith(base + '/') && !r.url().startsWith('data:')) foreign.push(r.url()); });
  const errors = [];
  page.on('pageerror', (e) => errors.push('uncaught: ' + e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push('console.error: ' + m.text()); });
  page.problems = () => errors;
  page.setDefaultTimeout(15000);
  const res = await page.goto(base + '/');
  h.assert(res.status() === 200, 'GET / answers 200, got ' + res.status());
  floor = await api('/api/v1/floor');
  const configured = floor.lines.flatMap((l) => l.machines).length;
  h.assert(configured === 6, 'the API lists the 6 configured machines, got ' + configured);
  await h.waitFor('a tile for every machine', async () => (await page.$$('.tile')).length === configured);
  h.assert(foreign.length === 0, 'requests to other origins: ' + foreign.join(', '));
});

await h.test('every machine has a tile whose colour matches its state in /api/v1/floor', async () => {
  // The offline machine needs two failed polls; then compare until the page
  // and the API agree (a sim machine may change state between the two reads).
  await h.waitFor('smt2-dead to be offline in the API', async () =>
    (await api('/api/v1/floor')).lines[1].machines.find((m) => m.id === 'smt2-dead').status === 'offline');
  let mismatch = '';
  await h.waitFor('page and API to agree on every state', async () => {
    const tiles = await readTiles();
    floor = await api('/api/v1/floor');
    const machines = floor.lines.flatMap((l) => l.machines);
    mismatch = machines.map((m) => {
      const t = tiles.find((x) => x.id === m.id);
      if (!t) return m.id + ': no tile';
      const want = h.expectedClass(m);
      if (t.cls !== want) return `${m.id}: tile ${t.cls}, API ${m.status}/${m.state}`;
      if (t.rgb !== h.STATE_RGB[want]) return `${m.id}: colour ${t.rgb}, want ${h.STATE_RGB[want]} for ${want}`;
      return '';
    }).filter((x) => x).join('; ');
    return mismatch === '';
  });
  const dead = (await readTiles()).find((t) => t.id === 'smt2-dead');
  h.assert(dead.rgb === h.STATE_RGB.offline, 'the unreachable machine is grey, got ' + dead.rgb);
  await shot(page, 'floor.png');
});

await h.test("each tile's values are the API's values at the times they carry", async () => {
  await h.waitFor('every online tile to show its metrics', async () => (await readTiles())
    .filter((t) => t.id !== 'smt2-dead').every((t) => t.metrics.length > 0 && t.metrics.every((m) => m.ts)));
  const tiles = await readTiles();
  let checked = 0;
  for (const t of tiles) {
    for (const m of t.metrics) {
      if (t.id === 'smt2-dead') {
        h.assert(m.text === '—', `${t.id} ${m.name} never read: shows ${m.text}`);
        continue;
      }
      const r = await api(`/api/v1/machines/${t.id}/samples?metric=${m.name}&from=${m.ts}&to=${m.ts + 1}`);
      h.assert(r.points.length === 1, `${t.id} ${m.name}: one sample at ${m.ts}, got ${r.points.length}`);
      const { v, tolerance } = shown(m.text);
      h.assert(Math.abs(v - r.points[0][1]) <= tolerance,
        `${t.id} ${m.name}: page shows ${m.text}, API has ${r.points[0][1]} at ${m.ts}`);
      checked++;
    }
  }
  h.assert(checked >= 10, 'checked at least 10 values, checked ' + checked);
});

await h.test('a value changes on screen after new data is committed, and no tile moves', async () => {
  const boxes = () => page.$$eval('.tile', (ts) => ts.map((t) => {
    const r = t.getBoundingClientRect();
    return [t.dataset.machine, r.x, r.y, r.width, r.height].join(',');
  }).join('\n'));
  const before = await boxes();
  const tile = (await readTiles()).find((t) => t.id === 'smt1-reflow');
  const committed = (await api('/api/v1/health')).writer.samples_committed;
  await h.waitFor('the daemon to commit new samples', async () =>
    (await api('/api/v1/health')).writer.samples_committed > committed);
  let changes = 0;
  // Three updates of the reflow oven's tile: its zone temperatures are noisy.
  let last = tile;
  for (let i = 0; i < 3; i++) {
    const next = await h.waitFor('the reflow tile to show newer values', async () => {
      const t = (await readTiles()).find((x) => x.id === 'smt1-reflow');
      return t.metrics[0].ts > last.metrics[0].ts ? t : null;
    });
    changes += next.metrics.filter((m, k) => m.text !== last.metrics[k].text).length;
    last = next;
  }
  h.assert(changes > 0, 'some value text changed over 3 updates');
  h.assert((await boxes()) === before, 'tile boxes are identical before and after the updates');
});

await h.test('every online tile draws a sparkline of the last hour', async () => {
  await h.waitFor('sparklines with points', async () => {
    const pts = await page.$$eval('.tile', (ts) => ts.map((t) => [t.dataset.machine, Number(t.querySelector('canvas').dataset.points)]));
    return pts.filter(([id]) => id !== 'smt2-dead').every(([, n]) => n > 0);
  }, 40000);
  const painted = await page.$eval('.tile[data-machine="smt1-placer1"] canvas', (c) =>
    c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some((x, i) => i % 4 === 3 && x > 0));
  h.assert(painted, 'the sparkline canvas has painted pixels');
});

await h.test('clicking a tile opens its machine view with a chart of points and the state band', async () => {
  await page.click('.tile[data-machine="smt1-placer1"]');
  await page.waitForSelector('#view-machine:not([hidden])');
  await h.waitFor('a chart with points', async () => Number(await page.getAttribute('#m-chart', 'data-points')) > 0);
  const painted = await page.$eval('#m-chart canvas', (c) =>
    c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some((x, i) => i % 4 === 3 && x > 0));
  h.assert(painted, 'the chart canvas has painted pixels');
  await h.waitFor('the state band to have intervals', async () => Number(await page.getAttribute('#m-band', 'data-intervals')) > 0);
  const avail = await page.textContent('#m-avail');
  h.assert(/availability \d+\.\d %/.test(avail), 'availability shown: ' + avail);
  const metric = await page.$eval('#m-metric', (s) => s.value);
  const m = await api('/api/v1/machines/smt1-placer1');
  h.assert(Object.keys(m.metrics).includes(metric), 'the chart shows one of the machine metrics: ' + metric);
  await shot(page, 'machine.png');
});

await h.test('the machine view switches metric and range, and zooms by dragging', async () => {
  await page.selectOption('#m-metric', 'head_temp_c');
  await h.waitFor('the hash to name the metric', async () => (await page.evaluate(() => location.hash)).includes('metric=head_temp_c'));
  await h.waitFor('the chart legend to name head_temp_c', async () => (await page.textContent('#m-chart')).includes('head_temp_c'));
  await page.click('#m-ranges button[data-range="15m"]');
  await h.waitFor('15 min range', async () => (await page.evaluate(() => location.hash)).includes('range=15m'));
  await h.waitFor('points in 15 min', async () => Number(await page.getAttribute('#m-chart', 'data-points')) > 0);
  const over = await page.$('#m-chart .u-over');
  const box = await over.boundingBox();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.9, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  await page.waitForSelector('#m-unzoom:not([hidden])');
  await page.click('#m-unzoom');
  await page.waitForSelector('#m-unzoom', { state: 'hidden' });
});

await h.test("the offline machine's view shows its last error", async () => {
  await page.goto(base + '/#/machine/smt2-dead');
  const m = await api('/api/v1/machines/smt2-dead');
  h.assert(m.status === 'offline' && m.last_error, 'the API has the error: ' + JSON.stringify(m.last_error));
  await h.waitFor('the error box with the API error', async () => {
    const text = await page.textContent('#m-error');
    return (await page.isVisible('#m-error')) && text.includes(m.last_error.slice(0, 20));
  });
});

await h.test('the line view shows each machine with the availability and hourly rates of the API', async () => {
  // Availability moves every second early in a run, so the page is compared
  // with the very reply it rendered, taken from the page's own traffic.
  const isSummary = (r) => r.url().includes('/api/v1/lines/smt1/summary') && r.status() === 200;
  const first = page.waitForResponse(isSummary);
  await page.goto(base + '/#/line/smt1');
  await h.waitFor('a row per machine of smt1', async () => (await page.$$('#l-rows tr')).length === 4);
  let diff = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const s = await (attempt === 0 ? await first : await page.waitForResponse(isSummary)).json();
    h.assert(s.machines.some((m) => m.counters.length > 0), 'the line has counters');
    const matches = async () => {
      const rows = await page.$$eval('#l-rows tr', (trs) => trs.map((tr) => ({
        id: tr.dataset.machine,
        avail: tr.children[2].textContent.trim(),
        rates: [...tr.querySelectorAll('.rates > span')].map((x) => x.querySelector('b').textContent),
      })));
      diff = s.machines.map((m) => {
        const r = rows.find((x) => x.id === m.id);
        if (!r) return m.id + ': no row';
        const want = m.availability === null ? '—' : (m.availability * 100).toFixed(1) + ' %';
        if (r.avail !== want) return `${m.id}: ${r.avail} vs ${want}`;
        const metrics = m.counters.map((c) => c.metric).join(',');
        if (r.rates.join(',') !== metrics) return `${m.id}: rates ${r.rates} vs ${metrics}`;
        return '';
      }).filter((x) => x).join('; ');
      return diff === '';
    };
    // Rendering follows the reply at once; the next reply is 3 s away.
    if (await h.waitFor('the rows to show the reply', matches, 2000).catch(() => false)) break;
  }
  h.assert(diff === '', 'page and its summary reply agree: ' + diff);
  await shot(page, 'line.png');
});

await h.test('on a tablet and on a 4K wall screen the floor fits the width, shows every tile, and reads larger on the wall', async () => {
  const b = await h.browser();
  const configured = floor.lines.flatMap((l) => l.machines).length;
  const measure = async (viewport, name) => {
    const p = await h.openPage(b, base + '/', viewport);
    await h.waitFor('tiles at ' + name, async () => (await p.$$('.tile')).length === configured);
    const m = await p.evaluate(() => ({
      overflow: document.documentElement.scrollWidth - window.innerWidth,
      font: parseFloat(getComputedStyle(document.querySelector('.tile .kv dd')).fontSize),
      clipped: [...document.querySelectorAll('.tile')].filter((t) => {
        const r = t.getBoundingClientRect();
        return r.left < 0 || r.right > window.innerWidth || r.width < 150;
      }).length,
    }));
    await p.screenshot({ path: path.join(opt.artifacts, 'floor-' + name + '.png'), fullPage: true });
    const problems = p.problems();
    h.assert(problems.length === 0, name + ': ' + problems.join('\n'));
    await p.close();
    return m;
  };
  const tablet = await measure({ width: 768, height: 1024 }, 'tablet');
  const wall = await measure({ width: 3840, height: 2160 }, 'wall');
  for (const [name, m] of [['tablet', tablet], ['wall', wall]]) {
    h.assert(m.overflow <= 0, name + ': no horizontal scrolling, page is ' + m.overflow + ' px too wide');
    h.assert(m.clipped === 0, name + ': ' + m.clipped + ' tiles cut off or squeezed below 150 px');
  }
  h.assert(wall.font > tablet.font * 1.4, 'values read larger on the wall screen: ' + wall.font + ' px vs ' + tablet.font + ' px');
});

await h.test('the page logged no uncaught exception and no console error', async () => {
  const problems = page.problems();
  h.assert(problems.length === 0, problems.join('\n'));
});

await h.finish([log]);
