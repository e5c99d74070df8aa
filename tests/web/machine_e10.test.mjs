// tests/web/machine_e10.test.mjs: the machine view's state timeline coloured
// by SEMI E10 class, in headless Chromium against a real `edgemes run` that
// polls a real `edgemes-sim`. The test drives the simulated placer through its
// fault switches — DOWN (`down`), unreachable (`http500`), back to its own
// states — and compares every segment of the band with the /states reply the
// page rendered: the same E10 class and state text, in order, each in its
// class's colour; then the time-in-E10 card and the legend. A second machine
// reads its "state" from a field no map covers (`/type`: "placer"), so the
// `unmapped` class is drawn too. Screenshot: machine-e10.png in --artifacts.
//
//   node tests/web/machine_e10.test.mjs --edgemes build/bin/edgemes --sim build/bin/edgemes-sim --artifacts DIR

import fs from 'node:fs';
import path from 'node:path';
import * as h from './harness.mjs';

const opt = h.args();
if (!opt.sim) throw new Error('usage: ... --sim PATH/TO/edgemes-sim');
const dir = h.tempDir();
const port = await h.freePort();
const simPort = await h.freePort();
const log = path.join(dir, 'edgemes.log');
const simLog = path.join(dir, 'sim.log');
const sim = `http://127.0.0.1:${simPort}`;

const polled = (id, state) => ({
  id, name: id, type: 'placer', poll_interval_ms: 200,
  source: { adapter: 'http_json', url: `${sim}/machines/m0001/status`, timeout_ms: 500 },
  metrics: { boards_total: '/counters/boards', cycle_time_s: '/cycle_time_s' }, state,
});
const config = path.join(dir, 'e10.json');
fs.writeFileSync(config, JSON.stringify({
  site: 'e10-test',
  database: { path: path.join(dir, 'e10.db') },
  writer: { flush_interval_ms: 100 },
  api: { bind: '127.0.0.1', port },
  pollers: { offline_after_failures: 2 },
  lines: [{ id: 'l1', machines: [polled('press', '/state'), polled('odd', '/type')] }],
}, null, 2));

const daemon = new h.Daemon(opt.edgemes, config, port, log);
const api = (target) => h.getJson(daemon.base, target);
const machine = (id) => api('/api/v1/machines/' + id);

async function setFault(mode) {
  const res = await fetch(`${sim}/machines/m0001/fault?mode=${mode}`, { method: 'POST', body: '' });
  h.assert(res.status === 200, `fault ${mode}: HTTP ${res.status} ${await res.text()}`);
}

// Waits until `id`'s state (as the API says) has held `what` for `ms` of its own time.
async function holds(id, what, test, ms) {
  const m = await h.waitFor(id + ' ' + what, async () => {
    const x = await machine(id);
    return test(x) ? x : null;
  });
  const until = m.state_since + ms;
  await h.waitFor(id + ' ' + what + ' for ' + ms + ' ms', async () => {
    const x = await machine(id);
    return test(x) && x.last_ok !== null && x.last_poll >= until;
  });
}

// Every segment of the band as the page draws it.
const readBand = (page) => page.$$eval('#m-band .seg', (segs) => segs.map((s) => ({
  e10: s.dataset.e10, text: s.dataset.text, label: s.textContent, title: s.title,
  rgb: getComputedStyle(s).backgroundColor, image: getComputedStyle(s).backgroundImage,
  width: s.getBoundingClientRect().width,
})));

// The band against the /states reply the page rendered after `go` (a live
// range brings a new one every 3 s; a custom range only one).
async function bandMatchesReply(page, id, go) {
  const isStates = (r) => r.url().includes(`/api/v1/machines/${id}/states`) && r.status() === 200;
  let diff = '';
  let reply = null;
  for (let attempt = 0; attempt < 4; attempt++) {
    const next = page.waitForResponse(isStates);
    if (attempt === 0) await go();
    reply = await (await next).json();
    const matches = async () => {
      const band = await readBand(page);
      const want = reply.intervals.map((iv) => iv.e10 + '/' + iv.state).join(' ');
      const got = band.map((s) => s.e10 + '/' + s.text).join(' ');
      diff = got === want ? '' : `page [${got}] vs API [${want}]`;
      return diff === '' ? band : null;
    };
    const band = await h.waitFor('the band to show the reply', matches, 2500).catch(() => null);
    if (band) return { band, reply };
  }
  throw new Error('band and its /states reply never agreed: ' + diff);
}

let page;

await h.test('the simulated placer is driven through DOWN and unreachable and back', async () => {
  h.startProcess(opt.sim, ['--port', String(simPort), '--machines', '1', '--types', 'placer'], simLog);
  await h.waitFor('edgemes-sim to answer', async () => (await fetch(`${sim}/machines`)).ok);
  await daemon.start();
  await holds('press', 'reporting a state', (m) => m.status === 'online' && m.state, 1000);
  await setFault('down');
  await holds('press', 'DOWN', (m) => m.status === 'online' && m.state === 'DOWN', 1500);
  await setFault('http500');
  await h.waitFor('press offline', async () => (await machine('press')).status === 'offline');
  await h.waitFor('the offline time to last 1 s', async () => {
    const s = await api('/api/v1/machines/press/states?from=0');
    const last = s.intervals[s.intervals.length - 1];
    return last.e10 === 'OFFLINE' && last.to - last.from >= 1000;
  });
  await setFault('none');
  await holds('press', 'online again', (m) => m.status === 'online' && m.state && m.state !== 'DOWN', 1000);
  const s = await api('/api/v1/machines/press/states?from=0');
  const seen = s.intervals.map((iv) => iv.e10 + '/' + iv.state);
  for (const want of ['UDT/DOWN', 'OFFLINE/OFFLINE']) h.assert(seen.includes(want), `the API has ${want}: ${seen}`);
  h.assert(seen.some((x) => x !== 'UDT/DOWN' && x !== 'OFFLINE/OFFLINE'),
    'the model\'s own states (before and after the faults) are there too: ' + seen);
});

await h.test("the band's segments are the API's intervals, each in its E10 class's colour", async () => {
  const b = await h.browser();
  page = await h.openPage(b, daemon.base + '/');
  const { band, reply } = await bandMatchesReply(page, 'press', () => page.goto(daemon.base + '/#/machine/press?range=15m'));
  const classes = new Set(band.map((s) => s.e10));
  for (const want of ['UDT', 'OFFLINE']) h.assert(classes.has(want), `a ${want} segment on the page: ${[...classes]}`);
  for (const s of band) {
    h.assert(s.rgb === h.E10_RGB[s.e10], `${s.e10} segment coloured ${s.rgb}, want ${h.E10_RGB[s.e10]}`);
    h.assert(s.title.startsWith(s.text + ' — ' + s.e10), `hover names the state and class: "${s.title}"`);
    h.assert(s.label === '' || s.label === s.text, `label is the machine's own text: "${s.label}" vs ${s.text}`);
    h.assert((s.image !== 'none') === (s.e10 === 'OFFLINE'), `only OFFLINE is hatched: ${s.e10} ${s.image}`);
  }
  // The segments follow time: wider for longer intervals, in order.
  const widths = band.map((s) => s.width);
  h.assert(widths.every((w) => w >= 1), 'every interval is at least a pixel wide: ' + widths);
  h.assert(reply.time_in_e10.length > 0, 'the reply has time in E10 classes');
});

await h.test("the time-in-E10 card lists the reply's classes, shares and texts", async () => {
  const isStates = (r) => r.url().includes('/api/v1/machines/press/states') && r.status() === 200;
  let diff = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const reply = await (await page.waitForResponse(isStates)).json();
    const want = reply.time_in_e10.map((c) => [c.class, (c.share * 100).toFixed(1) + ' %', c.states.join(', ')].join('|')).join(' ');
    const ok = await h.waitFor('the card to show the reply', async () => {
      const rows = await page.$$eval('#m-e10 .e10-share', (rs) => rs.map((r) => [
        r.dataset.e10, r.querySelector('.pct').textContent, r.querySelector('.texts').textContent,
        getComputedStyle(r.querySelector('.bar i')).backgroundColor,
      ]));
      const got = rows.map((r) => r.slice(0, 3).join('|')).join(' ');
      diff = got === want ? '' : `page [${got}] vs API [${want}]`;
      const coloured = rows.every((r) => r[3] === h.E10_RGB[r[0]]);
      if (!coloured) diff = 'bars not in their class colours: ' + JSON.stringify(rows);
      return diff === '';
    }, 2500).catch(() => false);
    if (ok) break;
  }
  h.assert(diff === '', diff);
});

await h.test('the legend shows the six classes, OFFLINE and unmapped in their colours', async () => {
  const legend = await page.$$eval('#m-legend span', (ss) => ss.map((s) => [s.dataset.e10,
    getComputedStyle(s, '::before').backgroundColor]));
  h.assert(legend.map((l) => l[0]).join(' ') === 'PRD SBY ENG SDT UDT NST OFFLINE unmapped', 'legend: ' + legend);
  for (const [cls, rgb] of legend) h.assert(rgb === h.E10_RGB[cls], `legend ${cls}: ${rgb}`);
});

await h.test("over the minute of the faults each segment is labelled with the machine's own text", async () => {
  const s = await api('/api/v1/machines/press/states?from=0');
  const from = s.intervals[0].from - 1000;
  const to = s.intervals[s.intervals.length - 1].to + 1000;
  const { band } = await bandMatchesReply(page, 'press',
    () => page.goto(`${daemon.base}/#/machine/press?range=custom&from=${from}&to=${to}`));
  const down = band.find((x) => x.e10 === 'UDT' && x.text === 'DOWN');
  h.assert(down && down.width > 100, 'the DOWN segment is wide in this range: ' + JSON.stringify(down));
  for (const x of band.filter((y) => y.width >= 60)) h.assert(x.label === x.text, `a wide segment shows its text: "${x.label}" vs ${x.text}`);
  await page.hover('#m-band .seg[data-e10="UDT"]');
  await page.screenshot({ path: path.join(opt.artifacts, 'machine-e10.png'), fullPage: true });
});

await h.test("a state text no map covers is drawn as unmapped, with the text", async () => {
  const { band } = await bandMatchesReply(page, 'odd', () => page.goto(daemon.base + '/#/machine/odd?range=15m'));
  const unmapped = band.filter((s) => s.e10 === 'unmapped');
  h.assert(unmapped.length > 0 && unmapped.every((s) => s.text === 'placer'),
    'unmapped segments carry the text: ' + JSON.stringify(band.map((s) => s.e10 + '/' + s.text)));
  h.assert(unmapped.every((s) => s.rgb === h.E10_RGB.unmapped), 'unmapped is orange');
  const row = await page.$eval('#m-e10 .e10-share[data-e10="unmapped"] .texts', (t) => t.textContent);
  h.assert(row === 'placer', 'the card names the text to map: ' + row);
});

await h.test('the page logged no uncaught exception and no console error', async () => {
  const problems = page.problems();
  h.assert(problems.length === 0, problems.join('\n'));
});

await h.finish([log, simLog]);
