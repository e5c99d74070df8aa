// floor.js: the floor view — one panel per line, one fixed-size tile per
// machine (state colour, time in state, key metrics, a one-hour sparkline).
//
// The DOM is built once per set of lines/machines/metrics and afterwards only
// the text and data attributes that changed are written, so an update never
// moves a tile (style.css holds the fixed sizes).

import * as api from './api.js';
import * as fmt from './format.js';
import * as spark from './spark.js';
import { el, setData, setText } from './dom.js';

const MAX_METRICS = 4;              // rows a tile has room for
const SPARK_SPAN_MS = 3600 * 1000;  // the sparkline covers the last hour...
const SPARK_STEP_MS = 60 * 1000;    // ...in one-minute buckets (60 points)
const SPARK_EVERY_MS = 30 * 1000;   // and is refetched this often (one request for all machines)

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
    window.addEventListener('resize', () => this.drawSparks());
  }

  enter() {
    this.empty.hidden = this.tiles.size > 0;
    this.sparksAt = 0;
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
    const panels = floor.lines.map((line) => {
      const count = el('span', { class: 'muted num' });
      this.lineCounts.set(line.id, count);
      const tiles = line.machines.map((m) => {
        const t = this.buildTile(m);
        this.tiles.set(m.id, t);
        return t.tile;
      });
      return el('section', { class: 'line-panel', dataset: { line: line.id } },
        el('header', {},
          el('h2', {}, el('a', { href: '#/line/' + encodeURIComponent(line.id), text: line.name })),
          count),
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
