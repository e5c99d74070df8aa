// line.js: the line view — for the current shift (the daemon's default range
// of /lines/{id}/summary), each machine's state, availability (share of RUN),
// time in each state, and its counters as rates per hour; and the line's OEE
// for the shift (/lines/{id}/oee): A, P, Q and OEE, the basis they rest on
// (which machine gives time, which counter gives units), the inputs, and each
// machine's own OEE in its row.

import * as api from './api.js';
import * as fmt from './format.js';
import * as oee from './oee.js';
import { el, setData, setText } from './dom.js';

const $ = (id) => document.getElementById(id);
// The line's OEE: on entering, then every 15 s (one request; the summary's 3 s
// would redo the counter summaries of every machine 5 times as often for a
// figure that moves by a fraction of a percent in that time).
const OEE_EVERY_MS = 15 * 1000;

export class LineView {
  constructor(shared) {
    this.shared = shared;
    this.periodMs = 3000;
    this.gen = 0;
    this.rows = new Map();
    this.figures = new oee.Figures(false);
    this.inputs = new oee.Inputs();
    $('l-oee-figs').replaceChildren(this.figures.root);
    $('l-oee-inputs').replaceChildren(this.inputs.root);
    this.oeeTask = new oee.Every(OEE_EVERY_MS, () => this.loadOee());
  }

  enter(id) {
    this.id = id;
    this.gen++;
    this.signature = '';
    this.rows.clear();
    $('l-rows').replaceChildren();
    setText($('l-name'), id);
    setText($('l-range'), '');
    setText($('l-avail'), '');
    $('l-error').hidden = true;
    this.oee = null;
    this.showOee();
    this.oeeTask.reset();
  }

  leave() {
    this.gen++;
  }

  async loadOee() {
    const gen = this.gen;
    let reply;
    try {
      reply = await api.get('/api/v1/lines/' + encodeURIComponent(this.id) + '/oee');
    } catch (e) {
      if (gen === this.gen && e instanceof api.ApiError && e.kind === 'http') setText($('l-basis'), 'OEE: ' + e.message);
      throw e;
    }
    if (gen !== this.gen) return;
    this.oee = reply;
    this.showOee();
  }

  showOee() {
    const r = this.oee;
    this.figures.update(r);
    this.inputs.update(r);
    setText($('l-basis'), r ? 'Basis: ' + oee.basisText(r) : '');
    setText($('l-oee-range'), r ? fmt.clock(r.from).slice(0, 5) + '–' + fmt.clock(r.to).slice(0, 5) : '');
    const byId = new Map(r ? r.machines.map((m) => [m.machine, m]) : []);
    for (const [id, row] of this.rows) row.figures.update(byId.get(id) || null);
  }

  async refresh() {
    this.oeeTask.poke();
    const gen = this.gen;
    let s;
    try {
      s = await api.get('/api/v1/lines/' + encodeURIComponent(this.id) + '/summary');
    } catch (e) {
      if (gen !== this.gen) return;
      if (!(e instanceof api.ApiError && e.kind === 'http')) throw e;
      setText($('l-error'), e.message);
      $('l-error').hidden = false;
      return;
    }
    if (gen !== this.gen) return;
    $('l-error').hidden = true;
    this.render(s);
  }

  render(s) {
    setText($('l-name'), s.name);
    this.shared.setCrumbs(s.line, null);
    const shift = this.shared.floor && this.shared.floor.shift;
    setText($('l-range'), (shift ? shift.name + ' shift · ' : '') + fmt.dateTime(s.from) + ' – ' + fmt.clock(s.to));
    const known = s.machines.map((m) => m.availability).filter((a) => a !== null && a !== undefined);
    setText($('l-avail'), known.length ? fmt.percent(known.reduce((a, b) => a + b, 0) / known.length) : '—');

    const signature = JSON.stringify(s.machines.map((m) => [m.id, m.counters.map((c) => c.metric)]));
    if (signature !== this.signature) {
      this.signature = signature;
      this.rows.clear();
      $('l-rows').replaceChildren(...s.machines.map((m) => {
        const r = this.buildRow(m);
        this.rows.set(m.id, r);
        return r.tr;
      }));
      this.showOee();
    }
    for (const m of s.machines) this.update(this.rows.get(m.id), m);
  }

  buildRow(m) {
    const pill = el('span', { class: 'state-pill' });
    const fill = el('i');
    const pct = el('span', { class: 'num' });
    const stack = el('div', { class: 'stack' });
    const rates = m.counters.map((c) => ({ metric: c.metric, value: el('span', { class: 'num' }) }));
    const figures = new oee.Figures(true);
    const tr = el('tr', { dataset: { machine: m.id } },
      el('td', {}, el('a', { href: '#/machine/' + encodeURIComponent(m.id), text: m.name })),
      el('td', {}, pill),
      el('td', { class: 'avail-cell' }, el('span', { class: 'avail-bar' }, fill), pct),
      el('td', {}, stack),
      el('td', {}, el('div', { class: 'rates' },
        ...rates.map((r) => el('span', {}, el('b', { text: r.metric }), r.value, ' /h')))),
      el('td', { class: 'oee-cell' }, figures.root));
    return { tr, pill, fill, pct, stack, rates, figures };
  }

  update(r, m) {
    setData(r.pill, 'state', fmt.machineClass(m));
    setText(r.pill, fmt.machineLabel(m));
    r.fill.style.width = ((m.availability || 0) * 100).toFixed(2) + '%';
    setText(r.pct, fmt.percent(m.availability));
    r.stack.replaceChildren(...m.time_in_state.map((t) => {
      const seg = el('i', { dataset: { state: fmt.stateClass(t.state) }, title: t.state + ' ' + fmt.percent(t.share) });
      seg.style.width = (t.share * 100).toFixed(2) + '%';
      return seg;
    }));
    const byMetric = new Map(m.counters.map((c) => [c.metric, c]));
    for (const rate of r.rates) {
      const c = byMetric.get(rate.metric);
      setText(rate.value, fmt.value(c ? c.per_hour : null));
    }
  }
}
