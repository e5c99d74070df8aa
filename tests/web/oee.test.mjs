// tests/web/oee.test.mjs: A, P, Q and OEE on the dashboard, in headless
// Chromium against a real `edgemes run` that polls a real `edgemes-sim`.
//
// Line l1 is a printer and an AOI, each with an `oee` block: the AOI's inspected
// counter is the line's output and the printer (12 s, the higher ideal cycle)
// its bottleneck, so the line's performance is a plain fraction (the simulated
// AOI needs about 25 s a board). Line l2 is a placer with no `oee` block and a
// reflow oven whose ideal cycle (60 s a board) is far slower than the simulated
// oven: the oven is l2's bottleneck and output, its performance is capped
// ("100.0 %*"), and with no good or reject counter quality and OEE are null;
// the placer's performance, quality and OEE are null.
//
// The test waits until the line's output counter has risen, then for each of
// the floor's line panels, the line view and the machine view it takes the OEE
// reply the page itself fetched (from the page's traffic) and requires the page
// to show exactly that reply — every factor as the rounded percent, a null one
// as "—" with the daemon's reason, a capped one marked — and the inputs and the
// hourly bars of it; and the test asks the same endpoint itself the moment the
// page's reply arrives and requires the same shift and factors within 3
// percentage points (compared when no unit landed between the two replies). Screenshot: oee-floor.png, oee-line.png,
// oee-machine.png in --artifacts.
//
//   node tests/web/oee.test.mjs --edgemes build/bin/edgemes --sim build/bin/edgemes-sim --artifacts DIR

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
const shot = (page, name) => page.screenshot({ path: path.join(opt.artifacts, name), fullPage: true });

// edgemes-sim --machines 4 --types printer,reflow,aoi,placer: m0001..m0004 in that order.
const polled = (id, simId, metrics, oee) => ({
  id, name: id, type: id, poll_interval_ms: 250,
  source: { adapter: 'http_json', url: `${sim}/machines/${simId}/status`, timeout_ms: 500 },
  metrics, state: '/state', ...(oee ? { oee } : {}),
});
const config = path.join(dir, 'oee.json');
fs.writeFileSync(config, JSON.stringify({
  site: 'oee-test',
  database: { path: path.join(dir, 'oee.db') },
  writer: { flush_interval_ms: 100 },
  api: { bind: '127.0.0.1', port },
  pollers: { offline_after_failures: 2 },
  lines: [
    { id: 'l1', name: 'Line 1', machines: [
      polled('printer', 'm0001', { prints_total: '/counters/prints', boards_total: '/counters/boards' },
        { ideal_cycle_s: 12, total: 'prints_total', good: 'boards_total' }),
      polled('aoi', 'm0003', { inspected_total: '/counters/inspected', defects_total: '/counters/defects' },
        { ideal_cycle_s: 10, total: 'inspected_total', reject: 'defects_total' }),
    ] },
    { id: 'l2', name: 'Line 2', machines: [
      polled('placer', 'm0004', { boards_total: '/counters/boards', cycle_time_s: '/cycle_time_s' }, null),
      polled('reflow', 'm0002', { boards_total: '/counters/boards', conveyor_mm_s: '/oven/conveyor_mm_s' },
        { ideal_cycle_s: 60, total: 'boards_total' }),
    ] },
  ],
}, null, 2));

const daemon = new h.Daemon(opt.edgemes, config, port, log);
const api = (target) => h.getJson(daemon.base, target);
const FACTORS = ['availability', 'performance', 'quality', 'oee'];

// What the page must show for a factor of a reply (the oracle, written here
// independently of web/format.js).
const pct = (x) => (x * 100).toFixed(1) + ' %';
function want(reply, key) {
  const v = reply[key];
  if (v === null) return { text: '—', kind: 'null', hint: reply.null_reasons[key] };
  if (key === 'performance' && reply.performance_capped) {
    return { text: pct(v) + '*', kind: 'capped', hint: pct(reply.performance_raw) };
  }
  return { text: pct(v), kind: 'ok', hint: '' };
}
function duration(ms) {
  const s = Math.floor(ms / 1000);
  const two = (n) => String(n).padStart(2, '0');
  if (s < 60) return s + ' s';
  if (s < 3600) return Math.floor(s / 60) + ' m ' + two(s % 60) + ' s';
  if (s < 86400) return Math.floor(s / 3600) + ' h ' + two(Math.floor(s / 60) % 60) + ' m';
  return Math.floor(s / 86400) + ' d ' + (Math.floor(s / 3600) % 24) + ' h';
}

// The figures inside `selector` (an .oee-figs or something holding one).
const readFigures = (page, selector) => page.$$eval(selector + ' .oee-fig', (figs) => figs.map((f) => ({
  factor: f.dataset.factor, kind: f.dataset.kind, text: f.querySelector('.oee-v').textContent, title: f.title,
  note: f.querySelector('.oee-note') ? f.querySelector('.oee-note').textContent : null,
  width: f.querySelector('.oee-v').getBoundingClientRect().width,
})));

// '' when the figures show `reply` exactly; else what differs.
function figuresDiff(figs, reply, notes) {
  if (figs.map((f) => f.factor).join(',') !== FACTORS.join(',')) return 'figures: ' + figs.map((f) => f.factor);
  const out = [];
  for (const f of figs) {
    const w = want(reply, f.factor);
    if (f.text !== w.text) out.push(`${f.factor}: page "${f.text}", reply "${w.text}"`);
    if (f.kind !== w.kind) out.push(`${f.factor}: kind ${f.kind}, want ${w.kind}`);
    if (w.hint && !f.title.includes(w.hint)) out.push(`${f.factor}: title "${f.title}" lacks "${w.hint}"`);
    if (notes && w.hint && !f.note.includes(w.hint)) out.push(`${f.factor}: note "${f.note}" lacks "${w.hint}"`);
  }
  return out.join('; ');
}

// The page's figures against a reply the test fetches itself just after: the
// same shift, the same factors null, the others within 3 percentage points.
function closeToApi(figs, page, now) {
  h.assert(page.from === now.from && page.to === now.to,
    `the page's reply covers the current shift: ${page.from}-${page.to} vs ${now.from}-${now.to}`);
  for (const f of figs) {
    const v = now[f.factor];
    if (v === null) {
      h.assert(f.text === '—', `${f.factor} is null in the API (${now.null_reasons[f.factor]}), page shows ${f.text}`);
      continue;
    }
    const shown = Number(f.text.replace(/[ %*]/g, '')) / 100;
    h.assert(f.text !== '—' && Math.abs(shown - v) <= 0.03, `${f.factor}: page ${f.text}, API now ${pct(v)}`);
  }
}

// Waits for the page to show a reply of `match` it fetched after `go()`; up to
// 3 replies (a refresh may land between the reply and the read). With
// `endpoint`, the test asks the API itself the moment the page's reply
// arrives (resolves with {reply, now}).
async function showsReply(page, match, go, check, endpoint) {
  let diff = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const next = page.waitForResponse((r) => match(r.url()) && r.status() === 200, { timeout: 40000 });
    if (attempt === 0) await go();
    const res = await next;
    const now = endpoint ? api(endpoint) : null;
    const reply = await res.json();
    const ok = await h.waitFor('the page to show the reply', async () => {
      diff = await check(reply);
      return diff === '';
    }, 3000).catch(() => false);
    if (ok) return endpoint ? { reply, now: await now } : reply;
  }
  throw new Error('the page never showed its reply: ' + diff);
}

// showsReply, then the page's figures (in `selector`) against the API asked
// the moment the page's reply arrived. Early in a run one more unit moves performance by tens of
// points, so the comparison is made when no unit landed in between (the same
// counts in both replies: only time moved); else on the page's next reply.
async function showsReplyAndApi(page, match, go, check, selector, endpoint) {
  let { reply, now } = await showsReply(page, match, go, check, endpoint);
  for (let attempt = 0; ; attempt++) {
    const counts = (r) => JSON.stringify([r.inputs.total && r.inputs.total.count, r.inputs.good_count]);
    if (counts(now) === counts(reply)) {
      closeToApi(await readFigures(page, selector), reply, now);
      return reply;
    }
    h.assert(attempt < 3, `units kept landing between the page's reply and the test's: ${counts(reply)} vs ${counts(now)}`);
    ({ reply, now } = await showsReply(page, match, async () => {}, check, endpoint));
  }
}

const lineOee = (id) => (u) => new URL(u).pathname === `/api/v1/lines/${id}/oee`;
let page;

await h.test('the line output counter rises while edgemes polls edgemes-sim', async () => {
  h.startProcess(opt.sim, ['--port', String(simPort), '--machines', '4', '--types', 'printer,reflow,aoi,placer',
    '--keep-alive-s', '0'], simLog);
  await h.waitFor('edgemes-sim to answer', async () => (await fetch(`${sim}/machines`)).ok);
  await daemon.start();
  // Until the AOI's first board after the first poll, l1's performance is
  // null (no units) or capped (one board in a few seconds): wait for a fraction.
  const l1 = await h.waitFor('l1 to count units and have every factor, performance uncapped', async () => {
    const r = await api('/api/v1/lines/l1/oee');
    return r.inputs.total && r.inputs.total.count > 0 && FACTORS.every((k) => r[k] !== null) &&
      !r.performance_capped && r.performance < 0.95 ? r : null;
  }, 120000);
  h.assert(l1.basis.bottleneck === 'printer' && l1.basis.output.machine === 'aoi', 'basis: ' + JSON.stringify(l1.basis));
  const l2 = await h.waitFor('l2 to count oven boards', async () => {
    const r = await api('/api/v1/lines/l2/oee');
    return r.inputs.total && r.inputs.total.count > 0 ? r : null;
  }, 60000);
  h.assert(l2.basis.bottleneck === 'reflow' && l2.performance_capped && l2.performance === 1,
    'the oven\'s slow ideal cycle caps l2\'s performance: ' + JSON.stringify([l2.basis, l2.performance_raw]));
  h.assert(['quality', 'oee'].every((k) => l2[k] === null && l2.null_reasons[k]),
    'no good or reject counter on l2: null quality and OEE with reasons: ' + JSON.stringify(l2.null_reasons));
});

await h.test("the floor's line panels show the line OEE replies they fetched, and the API's numbers", async () => {
  const b = await h.browser();
  page = await h.openPage(b, 'about:blank');
  const panel = 'section[data-line="l1"] > header';
  await showsReplyAndApi(page, lineOee('l1'), () => page.goto(daemon.base + '/'),
    async (r) => figuresDiff(await readFigures(page, panel), r, false), panel, '/api/v1/lines/l1/oee');
  const figs = await readFigures(page, panel);
  h.assert(figs.every((f) => f.kind === 'ok') && figs.some((f) => f.text !== '100.0 %'),
    'l1 shows four numbers, not all 100 %: ' + figs.map((f) => f.text));
  const title = await page.$eval(panel + ' .oee-figs', (x) => x.title);
  h.assert(title.includes('time from printer') && title.includes('aoi inspected_total'), 'the panel names its basis: ' + title);
});

await h.test('a line panel shows "—" with the reason for a null factor, never 0 %, and marks a capped performance', async () => {
  const panel = 'section[data-line="l2"] > header';
  const reply = await showsReply(page, lineOee('l2'), () => page.reload(),
    async (r) => figuresDiff(await readFigures(page, panel), r, false));
  const figs = await readFigures(page, panel);
  for (const k of ['quality', 'oee']) {
    const f = figs.find((x) => x.factor === k);
    h.assert(f.text === '—' && f.title.includes(reply.null_reasons[k]), `${k}: "${f.text}" "${f.title}"`);
  }
  h.assert(!figs.some((f) => f.text.startsWith('0.0')), 'no factor reads 0 %: ' + figs.map((f) => f.text));
  const p = figs.find((f) => f.factor === 'performance');
  h.assert(reply.performance_capped && p.text === '100.0 %*' && p.title.includes(pct(reply.performance_raw)),
    `capped performance is marked, the raw value in its hint: "${p.text}" "${p.title}"`);
  // A panel with dashes and one with numbers have the same header and value
  // boxes, so a reply turning one into the other moves no tile.
  const l1 = await readFigures(page, 'section[data-line="l1"] > header');
  h.assert(figs.map((f) => f.width).join() === l1.map((f) => f.width).join(),
    'value boxes are as wide with "—" as with numbers: ' + figs.map((f) => f.width) + ' vs ' + l1.map((f) => f.width));
  const heights = await page.$$eval('.line-panel > header', (hs) => hs.map((x) => x.getBoundingClientRect().height));
  h.assert(heights.length === 2 && heights[0] === heights[1], 'the headers are equally high: ' + heights);
  const tileTop = await page.$$eval('.line-panel', (ps) => ps.map((x) => x.querySelector('.tile').getBoundingClientRect().top -
    x.getBoundingClientRect().top));
  h.assert(tileTop[0] === tileTop[1], 'the tiles start at the same place in both panels: ' + tileTop);
  await shot(page, 'oee-floor.png');
});

await h.test('the line view shows its reply: the figures, the basis, the inputs and each machine', async () => {
  const check = async (r) => {
    const d = figuresDiff(await readFigures(page, '#l-oee-figs'), r, true);
    if (d) return d;
    const rows = await page.$$eval('#l-rows tr', (trs) => trs.map((tr) => tr.dataset.machine));
    for (const m of r.machines) {
      if (!rows.includes(m.machine)) return 'no row for ' + m.machine;
      const md = figuresDiff(await readFigures(page, `#l-rows tr[data-machine="${m.machine}"] .oee-cell`), m, false);
      if (md) return m.machine + ': ' + md;
    }
    const t = r.inputs.time_ms;
    const time = await page.$eval('#l-oee tr[data-input="time"] td', (x) => x.textContent);
    const wantTime = 'PRD ' + duration(t.PRD) + ' / ' + duration(r.inputs.planned_ms) + ' planned';
    if (time !== wantTime) return `time: "${time}" vs "${wantTime}"`;
    const units = await page.$eval('#l-oee tr[data-input="units"] td', (x) => x.textContent);
    if (!units.startsWith(String(r.inputs.total.count) + ' / ') || !units.endsWith(' at 12 s')) return 'units: ' + units;
    const good = await page.$eval('#l-oee tr[data-input="good"] td', (x) => x.textContent);
    if (good !== r.inputs.good_count + ' / ' + r.inputs.total.count) return 'good: ' + good;
    return '';
  };
  const reply = await showsReplyAndApi(page, lineOee('l1'), () => page.goto(daemon.base + '/#/line/l1'), check,
    '#l-oee-figs', '/api/v1/lines/l1/oee');
  const basis = await page.$eval('#l-basis', (x) => x.textContent);
  h.assert(basis.includes('time from printer, the bottleneck (ideal cycle 12 s)') &&
    basis.includes('units from aoi inspected_total'), 'the basis in words: ' + basis);
  const losses = await page.$eval('#l-oee tr[data-input="losses"] td', (x) => x.textContent);
  h.assert(losses.includes('OFFLINE ' + duration(reply.inputs.time_ms.OFFLINE)) &&
    losses.includes('unmapped ' + duration(reply.inputs.time_ms.unmapped)), 'OFFLINE and unmapped are shown as losses: ' + losses);
  const outside = await page.$eval('#l-oee tr[data-input="outside"] td', (x) => x.textContent);
  h.assert(outside.includes('not watched ' + duration(reply.inputs.time_ms.no_state)), 'no_state is outside planned time: ' + outside);
  await shot(page, 'oee-line.png');
});

await h.test("the machine view shows the machine's reply, its inputs and the shift's hourly bars", async () => {
  const isOee = (u) => new URL(u).pathname === '/api/v1/machines/aoi/oee';
  const isSeries = (r) => new URL(r.url()).pathname === '/api/v1/machines/aoi/oee/series' && r.status() === 200;
  const seriesReply = page.waitForResponse(isSeries, { timeout: 40000 });
  const reply = await showsReplyAndApi(page, isOee, () => page.goto(daemon.base + '/#/machine/aoi?range=15m'), async (r) => {
    const d = figuresDiff(await readFigures(page, '#m-oee-figs'), r, true);
    if (d) return d;
    const units = await page.$eval('#m-oee tr[data-input="units"] td', (x) => x.textContent);
    const ideal = r.inputs.time_ms.PRD / 1000 / 10;
    if (!units.startsWith(r.inputs.total.count + ' / ') || !units.endsWith(' at 10 s')) return 'units: ' + units;
    const shownIdeal = Number(units.split(' / ')[1].split(' ')[0]);
    if (Math.abs(shownIdeal - ideal) > Math.max(0.01, ideal * 0.01)) return `ideal units ${shownIdeal} vs ${ideal}`;
    const good = await page.$eval('#m-oee tr[data-input="good"] td', (x) => x.textContent);
    if (good !== r.inputs.good_count + ' / ' + r.inputs.total.count) return 'good: ' + good;
    return '';
  }, '#m-oee-figs', '/api/v1/machines/aoi/oee');
  h.assert(FACTORS.every((k) => reply[k] !== null), 'every factor of the AOI is known: ' + JSON.stringify(reply.null_reasons));

  const series = await (await seriesReply).json();
  h.assert(series.step === 'hour' && series.from === reply.from && series.to === reply.to,
    `the bars cover the figures' shift by hour: ${series.step} ${series.from}-${series.to}`);
  const bars = await h.waitFor('a bar per hour', async () => {
    const bs = await page.$$eval('#m-oee-trend .oee-col', (cs) => cs.map((c) => ({
      from: Number(c.dataset.from), value: c.dataset.value, kind: c.dataset.kind, title: c.title,
      height: c.querySelector('i').getBoundingClientRect().height, slot: c.querySelector('.oee-slot').getBoundingClientRect().height,
    })));
    return bs.length === series.points.length ? bs : null;
  });
  let known = 0;
  series.points.forEach((p, k) => {
    const bar = bars[k];
    h.assert(bar.from === p.from, `bar ${k} starts at ${bar.from}, point at ${p.from}`);
    if (p.oee === null) {
      h.assert(bar.value === '' && bar.kind === 'null' && bar.height === 0 && bar.title.includes(p.null_reasons.oee),
        `a null hour is an empty slot with its reason: ${JSON.stringify(bar)}`);
    } else {
      known++;
      h.assert(Number(bar.value) === p.oee && bar.title.includes('OEE ' + pct(p.oee)), `bar ${k}: ${JSON.stringify(bar)} vs ${p.oee}`);
      h.assert(Math.abs(bar.height - Math.min(1, p.oee) * bar.slot) <= 1.5, `bar ${k} height ${bar.height} of ${bar.slot} for ${p.oee}`);
    }
  });
  h.assert(known >= 1, 'the current hour has an OEE bar');
  await shot(page, 'oee-machine.png');
});

await h.test('a machine without oee config: "—" and the reason under P, Q and OEE; A from its states', async () => {
  const isOee = (u) => new URL(u).pathname === '/api/v1/machines/placer/oee';
  const reply = await showsReply(page, isOee, () => page.goto(daemon.base + '/#/machine/placer?range=15m'),
    async (r) => figuresDiff(await readFigures(page, '#m-oee-figs'), r, true));
  const figs = await readFigures(page, '#m-oee-figs');
  h.assert(reply.availability !== null && figs[0].text === pct(reply.availability), 'A is known: ' + figs[0].text);
  for (const f of figs.slice(1)) {
    h.assert(f.text === '—' && f.note === reply.null_reasons[f.factor] && f.note.length > 0,
      `${f.factor}: "${f.text}" with note "${f.note}" vs "${reply.null_reasons[f.factor]}"`);
  }
  h.assert(reply.null_reasons.performance.includes('ideal_cycle_s'), 'the reason names the missing key: ' + reply.null_reasons.performance);
  const units = await page.$eval('#m-oee tr[data-input="units"] td', (x) => x.textContent);
  h.assert(units === '— / — (no ideal cycle)', 'no counter, no ideal: ' + units);
});

await h.test('a capped performance in the machine view: "100.0 %*" and the raw value under it', async () => {
  const isOee = (u) => new URL(u).pathname === '/api/v1/machines/reflow/oee';
  const reply = await showsReply(page, isOee, () => page.goto(daemon.base + '/#/machine/reflow?range=15m'),
    async (r) => figuresDiff(await readFigures(page, '#m-oee-figs'), r, true));
  const p = (await readFigures(page, '#m-oee-figs')).find((f) => f.factor === 'performance');
  h.assert(reply.performance_capped && p.text === '100.0 %*' && p.note.includes('raw value is ' + pct(reply.performance_raw)),
    `"${p.text}" with note "${p.note}", raw ${reply.performance_raw}`);
});

await h.test('the page logged no uncaught exception and no console error', async () => {
  const problems = page.problems();
  h.assert(problems.length === 0, problems.join('\n'));
});

await h.finish([log, simLog]);
