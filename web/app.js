// app.js: the dashboard's entry point — the router (#/, #/line/<id>,
// #/machine/<id>?metric=&range=), the poll loop, the header and the banner.
//
// Live updates: the page polls the view on screen (floor: /api/v1/floor every
// 1.5 s; machine: /machines/{id} every 1.5 s, its series and states every 3 s;
// line: its summary every 3 s; OEE, slower and beside the chain: oee.js). One request chain at a time: the next poll is
// scheduled only when the last one has finished, so a slow daemon is never
// flooded, and a hidden tab polls every 10 s. While the daemon cannot be
// reached the banner says so and the loop retries every 2 s; the first answer
// clears it.

import * as api from './api.js';
import * as fmt from './format.js';
import { FloorView } from './floor.js';
import { MachineView } from './machine.js';
import { LineView } from './line.js';
import { el, setText } from './dom.js';

const RETRY_MS = 2000;
const HIDDEN_MS = 10000;
const $ = (id) => document.getElementById(id);

// What the views share: the last /floor reply (site, shift, lines) and the
// daemon's clock, so "time in state" never depends on the browser's clock.
const shared = {
  floor: null,
  floorAt: 0,
  offset: 0,
  setFloor(floor) {
    this.floor = floor;
    this.floorAt = Date.now();
    this.offset = floor.now - Date.now();
    setText($('site'), floor.site);
    setText($('clock'), fmt.clock(floor.now));
    const s = floor.shift;
    setText($('shift'), s ? s.name + ' shift ' + fmt.clock(s.from).slice(0, 5) + '–' + fmt.clock(s.to).slice(0, 5) : '');
  },
  async ensureFloor() {
    if (!this.floor || Date.now() - this.floorAt > 60000) this.setFloor(await api.get('/api/v1/floor'));
  },
  serverNow() {
    return Date.now() + this.offset;
  },
  sparklineOf(id) {
    for (const l of (this.floor ? this.floor.lines : [])) {
      const m = l.machines.find((x) => x.id === id);
      if (m) return m.sparkline;
    }
    return null;
  },
  lineName(id) {
    const l = this.floor && this.floor.lines.find((x) => x.id === id);
    return l ? l.name : id;
  },
  // Floor › line › machine
  setCrumbs(lineId, machineName) {
    const key = lineId + '|' + machineName + '|' + this.lineName(lineId);
    if (this.crumbs === key) return;
    this.crumbs = key;
    const parts = [el('a', { href: '#/', text: 'Floor' })];
    if (lineId) parts.push(' › ', el('a', { href: '#/line/' + encodeURIComponent(lineId), text: this.lineName(lineId) }));
    if (machineName) parts.push(' › ', el('span', { text: machineName }));
    $('crumbs').replaceChildren(...parts);
  },
};

const views = { floor: new FloorView(shared), machine: new MachineView(shared), line: new LineView(shared) };
const sections = { floor: $('view-floor'), machine: $('view-machine'), line: $('view-line') };
let current = null;

function route() {
  const hash = window.location.hash.replace(/^#/, '') || '/';
  const [path, query] = hash.split('?');
  const params = new URLSearchParams(query || '');
  const parts = path.split('/').filter((p) => p).map(decodeURIComponent);
  let name = 'floor';
  if (parts[0] === 'machine' && parts[1]) name = 'machine';
  else if (parts[0] === 'line' && parts[1]) name = 'line';
  if (current && current !== views[name]) current.leave();
  for (const [k, s] of Object.entries(sections)) s.hidden = k !== name;
  current = views[name];
  if (name === 'floor') {
    shared.crumbs = null;
    $('crumbs').replaceChildren();
  }
  current.enter(parts[1], params);
  poll();
}

// ---- the poll loop ----
let timer = 0;
let inFlight = false;
let again = false;

async function poll() {
  clearTimeout(timer);
  if (inFlight) {
    again = true;  // a view changed mid-request: poll once more right after
    return;
  }
  inFlight = true;
  let delay = current.periodMs;
  try {
    await current.refresh();
  } catch (e) {
    if (e instanceof api.ApiError) delay = RETRY_MS;
    else console.error(e);  // a bug in the page: visible in the console, the loop goes on
  } finally {
    inFlight = false;
  }
  if (again) {
    again = false;
    delay = 0;
  }
  timer = setTimeout(poll, document.hidden ? HIDDEN_MS : delay);
}

document.addEventListener('visibilitychange', () => {
  if (!document.hidden) poll();
});

// ---- the banner ----
let downSince = null;
let lastGood = null;

api.onConnection({
  ok() {
    lastGood = Date.now();
    if (downSince === null && $('banner').hidden) return;
    downSince = null;
    $('banner').hidden = true;
    $('token-form').hidden = true;
    document.body.classList.remove('stale');
  },
  fail(err) {
    const banner = $('banner');
    if (err.kind === 'unauthorized') {
      setText($('banner-text'), 'This daemon needs its API token (api.token): ' + err.message);
      $('token-form').hidden = false;
    } else {
      if (downSince === null) downSince = Date.now();
      $('token-form').hidden = true;
      showDown();
    }
    banner.dataset.kind = err.kind;
    banner.hidden = false;
    document.body.classList.add('stale');
  },
});

function showDown() {
  setText($('banner-text'), 'Daemon unreachable since ' + fmt.clock(downSince) +
    (lastGood ? ' — showing data from ' + fmt.clock(lastGood) : '') + '. Retrying every 2 s…');
}

$('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  api.setToken($('token-input').value.trim());
  $('token-input').value = '';
  poll();
});

// ---- once a second: the clock and every "time in state" ----
setInterval(() => {
  if (shared.floor) setText($('clock'), fmt.clock(shared.serverNow()));
  if (current === views.floor) views.floor.tick(shared.serverNow());
}, 1000);

api.takeTokenFromUrl();
window.addEventListener('hashchange', route);
route();
