// floor.js: the floor view — one panel per line, one fixed-size tile per
// machine (state colour, time in state, key metrics, a one-hour sparkline).
//
// The DOM is built once per set of lines/machines/metrics and afterwards only
// the text and data attributes that changed are written, so an update never
// moves a tile (style.css holds the fixed sizes).
//
// Each line's header carries its current-shift A, P, Q and OEE
// (/lines/{id}/oee, whose basis — the bottleneck's time, the output counter's
// units — only the daemon knows; the floor-wide /oee has machines, not lines).

import * as api from './api.js';
import * as fmt from './format.js';
import * as spark from './spark.js';
import * as oee from './oee.js';
import { el, setData, setText } from './dom.js';

const MAX_METRICS = 4;              // rows a tile has room for
const SPARK_SPAN_MS = 3600 * 1000;  // the sparkline covers the last hour...
const SPARK_STEP_MS = 60 * 1000;    // ...in one-minute buckets (60 points)
const SPARK_EVERY_MS = 30 * 1000;   // and is refetched this often (one request for all machines)
// Line OEE: one request per line, one after the other, every 30 s and on
// entering the floor — 2 requests a minute per line against the floor's 40 for
// /floor. A shift's OEE moves by a fraction of a percent in 30 s, and each reply
// costs the daemon every machine's counter summaries and E10 time, so the 1.5 s
// poll would spend 20 times the work to show the same first decimal.
const OEE_EVERY_MS = 30 * 1000;

export class FloorView {
  constructor(shared) {
    this.shared = shared;
    this.periodMs = 1500;
    this.root = document.getElementById('floor-lines');
    this.empty = document.getElementById('floor-empty');
    this.tiles = new Map();  // machine id -> {tile, pill, since, kvs, canvas, label, sinceMs}
    this.signature = '';
    this.sparks = null;
    this.sparksAt = 0;
    this.lineOee = new Map();  // line id -> its last /lines/{id}/oee reply
    this.figures = new Map();  // line id -> oee.Figures in its panel's header
    this.lineIds = [];
    this.oeeTask = new oee.Every(OEE_EVERY_MS, () => this.loadOee());
    window.addEventListener('resize', () => this.drawSparks());
  }

  enter() {
    this.empty.hidden = this.tiles.size > 0;
    this.sparksAt = 0;
    this.oeeTask.reset();
  }

  leave() {}

  async refresh() {
    const floor = await api.get('/api/v1/floor');
    this.shared.setFloor(floor);
    this.render(floor);
    if (Date.now() - this.sparksAt > SPARK_EVERY_MS) {
      this.sparksAt = Date.now();
      this.loadSparks(floor.now).catch(() => {
        this.sparksAt = Date.now() - SPARK_EVERY_MS + 5000;  // retry in 5 s
      });
    }
    this.oeeTask.poke();
  }

  async loadOee() {
    for (const id of this.lineIds) {
      const reply = await api.get('/api/v1/lines/' + encodeURIComponent(id) + '/oee');
      this.lineOee.set(id, reply);
      this.showOee(id);
    }
  }

  showOee(id) {
    const f = this.figures.get(id);
    const reply = this.lineOee.get(id) || null;
    if (!f) return;
    f.update(reply);
    const title = reply ? 'Line OEE this shift (' + fmt.clock(reply.from).slice(0, 5) + '–' +
      fmt.clock(reply.to).slice(0, 5) + '): ' + oee.basisText(reply) : 'Line OEE this shift';
    if (f.root.title !== title) f.root.title = title;
  }

  render(floor) {
    const signature = JSON.stringify(floor.lines.map((l) => [l.id, l.name,
      l.machines.map((m) => [m.id, m.name, m.type, m.sparkline,
        (m.key_metrics || []).slice(0, MAX_METRICS).map((k) => k.name)])]));
    if (signature !== this.signature) {
      this.signature = signature;
      this.build(floor);
    }
    for (const line of floor.lines) {
      const machines = line.machines;
      const running = machines.filter((m) => fmt.machineClass(m) === 'run').length;
      setText(this.lineCounts.get(line.id), machines.length + ' machines · ' + running + ' running');
      for (const m of machines) this.update(this.tiles.get(m.id), m);
    }
    this.empty.hidden = this.tiles.size > 0;
    this.tick(floor.now);
  }

  build(floor) {
    this.tiles.clear();
    this.lineCounts = new Map();
    this.figures.clear();
    this.lineIds = floor.lines.map((l) => l.id);
    const panels = floor.lines.map((line) => {
      const count = el('span', { class: 'muted num' });
      this.lineCounts.set(line.id, count);
      const tiles = line.machines.map((m) => {
        const t = this.buildTile(m);
        this.tiles.set(m.id, t);
        return t.tile;
      });
      const figures = new oee.Figures(true);
      this.figures.set(line.id, figures);
      this.showOee(line.id);
      return el('section', { class: 'line-panel', dataset: { line: line.id } },
        el('header', {},
          el('h2', {}, el('a', { href: '#/line/' + encodeURIComponent(line.id), text: line.name })),
          count, el('span', { class: 'spacer' }), figures.root),
        el('div', { class: 'tiles' }, ...tiles));
    });
    this.root.replaceChildren(...panels);
    this.drawSparks();
  }

  buildTile(m) {
    const pill = el('span', { class: 'state-pill' });
    const since = el('span', { class: 't-since num' });
    const kvs = (m.key_metrics || []).slice(0, MAX_METRICS).map((k) => {
      const dd = el('dd', { class: 'num' });
      const row = el('div', { class: 'kv', dataset: { metric: k.name } },
        el('dt', { text: k.name, title: k.name }), dd);
      return { name: k.name, dd, row };
    });
    const canvas = el('canvas', { class: 't-spark', dataset: { points: '0' } });
    const label = el('div', { class: 't-spark-label', text: m.sparkline ? m.sparkline + ' · last hour' : '' });
    const tile = el('a', {
      class: 'tile', href: '#/machine/' + encodeURIComponent(m.id), dataset: { machine: m.id, state: 'unknown' },
    },
    el('div', { class: 't-head' },
      el('span', { class: 't-name', text: m.name, title: m.name }),
      el('span', { class: 't-type', text: m.type })),
    el('div', { class: 't-state' }, pill, since),
    el('dl', { class: 't-metrics' }, ...kvs.map((k) => k.row)),
    canvas, label);
    return { tile, pill, since, kvs, canvas, sinceMs: null, sparkline: m.sparkline };
  }

  update(t, m) {
    setData(t.tile, 'state', fmt.machineClass(m));
    setText(t.pill, fmt.machineLabel(m));
    t.tile.title = m.status === 'offline' && m.last_error ? m.name + ': ' + m.last_error : m.name;
    t.sinceMs = m.state_since;
    const byName = new Map((m.key_metrics || []).map((k) => [k.name, k]));
    for (const kv of t.kvs) {
      const k = byName.get(kv.name);
      setText(kv.dd, fmt.value(k ? k.value : null));
      setData(kv.dd, 'ts', k && k.ts !== null ? k.ts : '');
    }
  }

  // Once a second (app.js) and on every update: the time in the current state.
  tick(now) {
    for (const t of this.tiles.values()) setText(t.since, t.sinceMs ? fmt.duration(now - t.sinceMs) : '');
  }

  async loadSparks(now) {
    const to = now;
    const from = to - SPARK_SPAN_MS;
    this.sparks = await api.get('/api/v1/floor/sparklines', { from, to, step_ms: SPARK_STEP_MS });
    this.drawSparks();
  }

  drawSparks() {
    if (!this.sparks) return;
    const { from, to, machines } = this.sparks;
    for (const [id, t] of this.tiles) {
      const s = machines[id];
      spark.draw(t.canvas, s ? s.points : [], from, to, fmt.colour('accent'));
    }
  }
}
