// machine.js: the machine view — one metric as a zoomable uPlot time series
// for a chosen range, the state timeline under it coloured by SEMI E10 class
// (each segment labelled and titled with the machine's own state text), the
// share of time in each E10 class and in each state (availability = share of
// RUN), the latest value of every metric, and the last error while the
// machine is offline. Above the cards, the machine's OEE for the current
// shift (/machines/{id}/oee): A, P, Q and OEE, the inputs to check them, and
// an hourly trend (/machines/{id}/oee/series?step=hour over the same shift).
//
// Live ranges (15 min, 1 h, shift, 24 h) end at the daemon's "now" and are
// refetched every few seconds; a custom range is fetched once. Dragging across
// the chart zooms (double-click or "Reset zoom" returns); while zoomed the data
// still updates but the chosen window stays put.

import * as api from './api.js';
import * as fmt from './format.js';
import * as oee from './oee.js';
import { el, setData, setText } from './dom.js';

const SPANS = { '15m': 15 * 60e3, '1h': 3600e3, '24h': 24 * 3600e3 };
const SHIFT_FALLBACK_MS = 8 * 3600e3;
const SERIES_EVERY_MS = 3000;  // chart + states refetch for live ranges
// The shift's OEE on entering, then every 15 s (one request), and its hourly
// series every 60 s (one more): together 5 requests a minute beside the 40 of
// /machines/{id}. The figures move by a fraction of a percent in 15 s; the
// bars, one per hour, by even less.
const OEE_EVERY_MS = 15 * 1000;
const TREND_EVERY_MS = 60 * 1000;
const $ = (id) => document.getElementById(id);

export class MachineView {
  constructor(shared) {
    this.shared = shared;
    this.periodMs = 1500;
    this.gen = 0;
    this.chart = null;
    this.intervals = [];
    $('m-ranges').addEventListener('click', (e) => {
      const r = e.target.dataset && e.target.dataset.range;
      if (!r) return;
      if (r === 'custom') {
        const { from, to } = this.bounds();
        $('m-from').value = toLocalInput(from);
        $('m-to').value = toLocalInput(to);
        $('m-custom').hidden = false;
        return;
      }
      this.navigate({ range: r });
    });
    $('m-custom').addEventListener('submit', (e) => {
      e.preventDefault();
      const from = new Date($('m-from').value).getTime();
      const to = new Date($('m-to').value).getTime();
      if (!(from < to)) {
        this.showError('"From" must be before "To".');
        return;
      }
      this.navigate({ range: 'custom', from, to });
    });
    $('m-metric').addEventListener('change', (e) => this.navigate({ metric: e.target.value }));
    $('m-metrics').addEventListener('click', (e) => {
      const row = e.target.closest('tr');
      if (row && row.dataset.metric) this.navigate({ metric: row.dataset.metric });
    });
    $('m-unzoom').addEventListener('click', () => this.unzoom());
    this.figures = new oee.Figures(false);
    this.inputs = new oee.Inputs();
    this.trend = new oee.Trend($('m-oee-trend'));
    $('m-oee-figs').replaceChildren(this.figures.root);
    $('m-oee-inputs').replaceChildren(this.inputs.root);
    this.oeeTask = new oee.Every(OEE_EVERY_MS, () => this.loadOee());
    this.trendAt = 0;
    new ResizeObserver(() => this.resize()).observe($('m-chart'));
  }

  // id: the machine; params: URLSearchParams of metric, range, from, to.
  enter(id, params) {
    const same = id === this.id;
    this.id = id;
    this.metric = params.get('metric');
    this.range = params.get('range') || '1h';
    this.from = Number(params.get('from')) || null;
    this.to = Number(params.get('to')) || null;
    if (this.range === 'custom' && !(this.from < this.to)) this.range = '1h';
    this.gen++;
    this.seriesAt = 0;
    this.zoomed = false;
    $('m-unzoom').hidden = true;
    $('m-custom').hidden = this.range !== 'custom';
    for (const b of $('m-ranges').querySelectorAll('button')) {
      b.setAttribute('aria-pressed', String(b.dataset.range === this.range));
    }
    if (!same) {
      this.destroyChart();
      this.machine = null;
      this.metricNames = '';
      $('m-metric').replaceChildren();
      $('m-metrics').replaceChildren();
      $('m-states').replaceChildren();
      $('m-e10').replaceChildren();
      setText($('m-name'), id);
      setText($('m-type'), '');
      setText($('m-avail'), '');
      this.intervals = [];
      this.drawBand();
      this.figures.update(null);
      this.inputs.update(null);
      this.trend.update(null);
      setText($('m-oee-range'), '');
      $('m-oee-error').hidden = true;
      this.oeeTask.reset();
      this.trendAt = 0;
    }
    this.problem = '';
    this.offline = '';
    this.updateError();
  }

  leave() {
    this.gen++;
  }

  navigate(change) {
    const p = new URLSearchParams();
    const next = { metric: this.metric, range: this.range, from: this.from, to: this.to, ...change };
    if (next.metric) p.set('metric', next.metric);
    p.set('range', next.range);
    if (next.range === 'custom') {
      p.set('from', next.from);
      p.set('to', next.to);
    }
    window.location.hash = '#/machine/' + encodeURIComponent(this.id) + '?' + p.toString();
  }

  bounds() {
    const now = this.shared.serverNow();
    if (this.range === 'custom') return { from: this.from, to: this.to, live: false };
    if (this.range === 'shift') {
      const s = this.shared.floor && this.shared.floor.shift;
      if (s && s.from < now) return { from: s.from, to: Math.min(now, s.to), live: true };
      return { from: now - SHIFT_FALLBACK_MS, to: now, live: true };
    }
    return { from: now - SPANS[this.range], to: now, live: true };
  }

  async loadOee() {
    const gen = this.gen;
    const id = this.id;
    const base = '/api/v1/machines/' + encodeURIComponent(id) + '/oee';
    try {
      const reply = await api.get(base);
      if (gen !== this.gen) return;
      $('m-oee-error').hidden = true;
      this.figures.update(reply);
      this.inputs.update(reply);
      setText($('m-oee-range'), fmt.clock(reply.from).slice(0, 5) + '–' + fmt.clock(reply.to).slice(0, 5));
      // The bars cover the same shift as the figures; a new shift redraws them at once.
      if (Date.now() - this.trendAt >= TREND_EVERY_MS || this.trendRange !== reply.from + '-' + reply.to) {
        const series = await api.get(base + '/series', { step: 'hour', from: reply.from, to: reply.to });
        if (gen !== this.gen) return;
        this.trendAt = Date.now();
        this.trendRange = reply.from + '-' + reply.to;
        this.trend.update(series);
      }
    } catch (e) {
      if (gen === this.gen && e instanceof api.ApiError && e.kind === 'http') {
        setText($('m-oee-error'), 'OEE: ' + e.message);
        $('m-oee-error').hidden = false;
      }
      throw e;
    }
  }

  async refresh() {
    this.oeeTask.poke();
    const gen = this.gen;
    try {
      await this.shared.ensureFloor();  // shift bounds, line name, the daemon's clock
      const m = await api.get('/api/v1/machines/' + encodeURIComponent(this.id));
      if (gen !== this.gen) return;
      this.renderMachine(m);
      const due = this.seriesAt === 0 || (this.bounds().live && Date.now() - this.seriesAt >= SERIES_EVERY_MS);
      if (due && this.metric) {
        this.seriesAt = Date.now();
        await this.loadSeries(gen);
      }
    } catch (e) {
      if (gen !== this.gen) return;
      if (e instanceof api.ApiError && e.kind === 'http') this.showError(e.message);
      else throw e;
    }
  }

  // The box shows why the machine is offline, or why the last request failed.
  showError(text) {
    this.problem = text;
    this.updateError();
  }

  updateError() {
    const text = [this.offline, this.problem].filter((t) => t).join(' · ');
    setText($('m-error'), text);
    $('m-error').hidden = !text;
  }

  renderMachine(reply) {
    // /machines/{id} gives metrics as {"name": {"value", "ts"}} in config order.
    const m = { ...reply, metrics: Object.entries(reply.metrics || {}).map(([name, v]) => ({ name, ...v })) };
    this.machine = m;
    setText($('m-name'), m.name);
    setText($('m-type'), m.type + ' · ' + m.id);
    const pill = $('m-state');
    setData(pill, 'state', fmt.machineClass(m));
    setText(pill, fmt.machineLabel(m));
    setText($('m-since'), m.state_since ? 'for ' + fmt.duration(this.shared.serverNow() - m.state_since) : '');
    this.shared.setCrumbs(m.line, m.name);
    this.offline = m.status !== 'offline' ? '' : 'Offline: ' + (m.last_error || 'no answer') +
      (m.last_ok ? ' — last good poll ' + fmt.dateTime(m.last_ok) : ' — never polled successfully');
    this.updateError();

    const names = m.metrics.map((x) => x.name).join(',');
    if (!this.metric && m.metrics.length) {
      this.metric = this.shared.sparklineOf(m.id) || m.metrics[0].name;
    }
    if (names !== this.metricNames) {
      this.metricNames = names;
      $('m-metric').replaceChildren(...m.metrics.map((x) => el('option', { value: x.name, text: x.name })));
      $('m-metrics').replaceChildren(...m.metrics.map((x) =>
        el('tr', { dataset: { metric: x.name } }, el('td', { text: x.name }), el('td', { class: 'v num' }))));
    }
    $('m-metric').value = this.metric || '';
    for (const row of $('m-metrics').children) {
      const x = m.metrics.find((k) => k.name === row.dataset.metric);
      row.classList.toggle('selected', row.dataset.metric === this.metric);
      setText(row.lastChild, fmt.value(x ? x.value : null));
    }
  }

  async loadSeries(gen) {
    const { from, to } = this.bounds();
    const base = '/api/v1/machines/' + encodeURIComponent(this.id);
    const [series, states] = await Promise.all([
      api.get(base + '/series', { metric: this.metric, from, to }),
      api.get(base + '/states', { from, to }),
    ]);
    if (gen !== this.gen) return;
    this.problem = '';
    this.updateError();
    setText($('m-range-text'), fmt.dateTime(from) + ' – ' + fmt.dateTime(to));
    this.intervals = states.intervals;
    this.renderE10(states.time_in_e10);
    this.renderStates(states.time_in_state);
    this.plot(series, from, to);
  }

  renderStates(timeInState) {
    const run = timeInState.find((s) => s.state === 'RUN');
    setText($('m-avail'), timeInState.length ? 'availability ' + fmt.percent(run ? run.share : 0) : 'no states');
    $('m-states').replaceChildren(...timeInState.map((s) =>
      shareRow({ class: 'share', dataset: { state: fmt.stateClass(s.state) } }, el('span', { text: s.state }), s)));
  }

  // One row per class, largest first, with the machine's texts in it.
  renderE10(timeInE10) {
    $('m-e10').replaceChildren(...timeInE10.map((c) => {
      const texts = c.states.join(', ');
      const label = el('span', { title: c.class + ' ' + (fmt.E10_NAMES[c.class] || '') + ': ' + texts },
        el('b', { text: c.class }), el('span', { class: 'texts', text: texts }));
      return shareRow({ class: 'share e10-share', dataset: { e10: c.class } }, label, c);
    }));
  }

  // Buckets the daemon omitted (no points) become nulls, so the line breaks there.
  toColumns(series) {
    const xs = [];
    const ys = [];
    let prev = null;
    for (const [t, v] of series.points) {
      if (prev !== null && t - prev > 1.5 * series.step_ms) {
        xs.push(prev + series.step_ms);
        ys.push(null);
      }
      xs.push(t);
      ys.push(v);
      prev = t;
    }
    return [xs, ys];
  }

  plot(series, from, to) {
    const data = this.toColumns(series);
    const box = $('m-chart');
    if (!this.chart || this.chartMetric !== this.metric) {
      this.destroyChart();
      this.chartMetric = this.metric;
      this.chart = new window.uPlot(this.options(box), data, box);
      this.chart.over.addEventListener('dblclick', () => this.unzoom());
    } else {
      this.chart.setData(data, false);
    }
    this.window = { from, to };
    if (!this.zoomed) this.chart.setScale('x', { min: from, max: to });
    else this.chart.redraw(false, true);
    setData(box, 'points', series.points.length);
  }

  options(box) {
    const axis = { stroke: fmt.colour('muted'), grid: { stroke: fmt.colour('line'), width: 1 },
      ticks: { stroke: fmt.colour('line'), width: 1 } };
    return {
      width: box.clientWidth || 800,
      height: chartHeight(),
      ms: 1,  // timestamps are epoch ms, as the API sends them
      scales: { x: { time: true } },
      cursor: { drag: { x: true, y: false, setScale: true } },
      series: [{}, { label: this.metric, stroke: fmt.colour('accent'), width: 2, spanGaps: false,
        points: { show: false }, value: (u, v) => fmt.value(v) }],
      axes: [{ ...axis, values: timeTicks }, { ...axis, size: 70 }],
      hooks: {
        setSelect: [(u) => {
          if (u.select.width > 0) {
            this.zoomed = true;
            $('m-unzoom').hidden = false;
          }
        }],
        draw: [() => this.drawBand()],
      },
    };
  }

  unzoom() {
    this.zoomed = false;
    $('m-unzoom').hidden = true;
    if (this.chart && this.window) this.chart.setScale('x', { min: this.window.from, max: this.window.to });
  }

  resize() {
    if (!this.chart) return;
    const w = $('m-chart').clientWidth;
    if (w && w !== this.chart.width) this.chart.setSize({ width: w, height: chartHeight() });
  }

  destroyChart() {
    if (this.chart) this.chart.destroy();
    this.chart = null;
    this.chartMetric = null;
    setData($('m-chart'), 'points', 0);
  }

  // The state band sits under the chart's plot area and shares its x scale,
  // so a zoom narrows the band too. One element per interval in view, its
  // colour from its E10 class (data-e10, style.css), its text the machine's own
  // state where it fits, its title always; elements are reused across draws.
  drawBand() {
    const band = $('m-band');
    const u = this.chart;
    const dpr = window.devicePixelRatio || 1;
    const width = u ? u.bbox.width / dpr : 0;
    band.style.marginLeft = (u ? u.bbox.left / dpr : 0) + 'px';
    band.style.width = u ? width + 'px' : '';
    const shown = [];
    for (const iv of u ? this.intervals : []) {
      const x0 = Math.max(0, u.valToPos(iv.from, 'x'));
      const x1 = Math.min(width, u.valToPos(iv.to, 'x'));
      if (x1 > x0) shown.push({ iv, x0, w: Math.max(1, x1 - x0) });
    }
    while (band.children.length > shown.length) band.lastChild.remove();
    while (band.children.length < shown.length) band.append(el('i', { class: 'seg' }));
    shown.forEach(({ iv, x0, w }, i) => {
      const seg = band.children[i];
      seg.style.left = x0.toFixed(1) + 'px';
      seg.style.width = w.toFixed(1) + 'px';
      setData(seg, 'e10', iv.e10);
      setData(seg, 'text', iv.state);
      setText(seg, w >= 36 ? iv.state : '');
      const title = iv.state + ' — ' + iv.e10 + ' ' + (fmt.E10_NAMES[iv.e10] || '') + ', ' +
        fmt.clock(iv.from) + ' – ' + fmt.clock(iv.to) + ' (' + fmt.duration(iv.to - iv.from) + ')';
      if (seg.title !== title) seg.title = title;
    });
    band.dataset.intervals = String(this.intervals.length);
  }
}

// A row of a "time in" card: its label, a bar of its share, the share and the time.
function shareRow(attrs, label, s) {
  const fill = el('i');
  fill.style.width = (s.share * 100).toFixed(2) + '%';
  return el('div', attrs, label, el('span', { class: 'bar' }, fill),
    el('span', { class: 'pct num', text: fmt.percent(s.share) }),
    el('span', { class: 'dur num', text: fmt.duration(s.ms) }));
}

// 24-hour tick labels: seconds only on short spans, the date on long ones.
function timeTicks(u, splits) {
  const span = u.scales.x.max - u.scales.x.min;
  const two = (n) => String(n).padStart(2, '0');
  return splits.map((t) => {
    const d = new Date(t);
    const hm = two(d.getHours()) + ':' + two(d.getMinutes());
    if (span <= 10 * 60e3) return hm + ':' + two(d.getSeconds());
    if (span <= 36 * 3600e3) return hm;
    return d.toLocaleDateString([], { month: 'short', day: 'numeric' }) + ' ' + hm;
  });
}

function chartHeight() {
  return Math.round(Math.max(220, Math.min(520, window.innerHeight * 0.42)));
}

// epoch ms -> the value of an <input type="datetime-local"> (local time)
function toLocalInput(ms) {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000);
  return d.toISOString().slice(0, 19);
}
