// oee.js: what the three views share to show OEE (docs/MES.md, "OEE"; the
// replies of /machines/{id}/oee, /lines/{id}/oee and their /series): the four
// figures A, P, Q and OEE, the inputs a user needs to check them, a row of
// hourly bars, and the slow background refresh they all use.
//
// OEE over the current shift moves slowly (a minute of a shift changes it by a
// fraction of a percent) and costs the daemon more than a state read (counter
// summaries and the E10 time of every machine involved), so the views fetch it
// on entering and then every 15-30 s, beside their fast poll, never in it.
// Like the rest of the page, each part's DOM is built once and then only its
// texts and attributes change: every number sits in a box of fixed width, a
// null factor's '—' included, so nothing moves when a reply arrives.

import * as api from './api.js';
import * as fmt from './format.js';
import { el, setData, setText } from './dom.js';

const RETRY_MS = 5000;

export const FACTORS = [
  { key: 'availability', label: 'A', name: 'Availability' },
  { key: 'performance', label: 'P', name: 'Performance' },
  { key: 'quality', label: 'Q', name: 'Quality' },
  { key: 'oee', label: 'OEE', name: 'OEE' },
];

// Runs `fn` (async) in the background when `ms` have passed since its last
// start and it is not running; a failure tries again after 5 s. An ApiError is
// already on the banner (unreachable, 401) or is the view's to show; anything
// else is a bug in the page and goes to the console.
export class Every {
  constructor(ms, fn) {
    this.ms = ms;
    this.fn = fn;
    this.at = 0;
    this.busy = false;
  }

  reset() {
    this.at = 0;
  }

  poke() {
    if (this.busy || Date.now() - this.at < this.ms) return;
    this.busy = true;
    this.at = Date.now();
    Promise.resolve().then(this.fn).catch((e) => {
      this.at = Date.now() - this.ms + RETRY_MS;
      if (!(e instanceof api.ApiError)) console.error(e);
    }).finally(() => {
      this.busy = false;
    });
  }
}

// The four figures. compact: label and value only, the reason or cap note in
// the title (the floor's line panels, the line table); otherwise each figure
// also shows its note in a line of fixed height under the value.
export class Figures {
  constructor(compact) {
    this.items = FACTORS.map((f) => {
      const value = el('span', { class: 'oee-v num' });
      const note = compact ? null : el('span', { class: 'oee-note' });
      const box = el('span', { class: 'oee-fig', dataset: { factor: f.key, kind: 'null' } },
        el('span', { class: 'oee-k', text: f.label }), value, ...(note ? [note] : []));
      return { f, box, value, note };
    });
    this.root = el('div', { class: 'oee-figs' + (compact ? ' compact' : '') }, ...this.items.map((i) => i.box));
    this.update(null);
  }

  // reply: an OEE reply (machine, line or series point), or null: not loaded.
  update(reply) {
    for (const i of this.items) {
      const s = fmt.factor(reply, i.f.key);
      setText(i.value, reply ? s.text : '');
      setData(i.box, 'kind', reply ? s.kind : 'none');
      const title = i.f.name + (s.hint ? ': ' + s.hint : '');
      if (i.box.title !== title) i.box.title = title;
      if (i.note) setText(i.note, reply ? s.hint : '');
    }
  }
}

// The line's basis in words: which machine gives time, which counter gives units.
export function basisText(reply) {
  const b = reply.basis || {};
  const ideal = reply.inputs ? reply.inputs.ideal_cycle_s : null;
  let time;
  if (!b.time_from) time = 'no machine gives time (no oee.ideal_cycle_s and no output counter)';
  else if (b.time_from === b.bottleneck) time = 'time from ' + b.time_from + ', the bottleneck (ideal cycle ' + ideal + ' s)';
  else time = 'time from ' + b.time_from + ', the output machine (no machine has oee.ideal_cycle_s)';
  const units = b.output ? 'units from ' + b.output.machine + ' ' + b.output.metric + ', the line\'s output' : 'no output counter';
  return time + ' · ' + units;
}

// A row of inputs: a label and a text, built once.
function row(key, label) {
  const v = el('td', { class: 'num' });
  return { tr: el('tr', { dataset: { input: key } }, el('th', { text: label }), v), v };
}

const LOSSES = ['SBY', 'ENG', 'UDT', 'OFFLINE', 'unmapped'];  // in planned time: they lower A
const SHOWN_ALWAYS = new Set(['UDT', 'OFFLINE', 'unmapped']);

// The inputs of A, P and Q from a reply's `inputs`, so a reader can redo them:
// productive over planned time (A), units against what the ideal cycle allows
// in that time (P), good over total (Q), what planned time lost — OFFLINE and
// unmapped included, since they are losses — and what lies outside it (SDT, NST,
// and the time before the first state, when edgemes was not watching).
export class Inputs {
  constructor() {
    this.rows = {
      time: row('time', 'Productive / planned'),
      losses: row('losses', 'Lost in planned time'),
      outside: row('outside', 'Outside planned time'),
      units: row('units', 'Units / at ideal cycle'),
      good: row('good', 'Good / total'),
    };
    this.root = el('table', { class: 'oee-inputs' }, el('tbody', {}, ...Object.values(this.rows).map((r) => r.tr)));
  }

  update(reply) {
    const r = this.rows;
    if (!reply) {
      for (const x of Object.values(r)) setText(x.v, '');
      return;
    }
    const inp = reply.inputs;
    const t = inp.time_ms;
    setText(r.time.v, 'PRD ' + fmt.duration(t.PRD) + ' / ' + fmt.duration(inp.planned_ms) + ' planned');
    setText(r.losses.v, LOSSES.filter((k) => SHOWN_ALWAYS.has(k) || t[k] > 0)
      .map((k) => k + ' ' + fmt.duration(t[k])).join(' · '));
    setText(r.outside.v, ['SDT ' + fmt.duration(t.SDT), 'NST ' + fmt.duration(t.NST),
      'not watched ' + fmt.duration(t.no_state)].join(' · '));
    const total = inp.total ? inp.total.count : null;
    const ideal = inp.ideal_cycle_s ? t.PRD / 1000 / inp.ideal_cycle_s : null;
    setText(r.units.v, (total === null ? '—' : fmt.value(total)) + ' / ' +
      (ideal === null ? '— (no ideal cycle)' : fmt.value(ideal) + ' at ' + inp.ideal_cycle_s + ' s'));
    setText(r.good.v, (inp.good_count === null ? '—' : fmt.value(inp.good_count)) + ' / ' +
      (total === null ? '—' : fmt.value(total)));
    const resets = inp.total && inp.total.resets ? ' (' + inp.total.resets + ' counter reset' + (inp.total.resets > 1 ? 's' : '') + ')' : '';
    const title = (inp.total ? 'counted by ' + inp.total.metric : 'no total counter') + resets;
    if (r.units.tr.title !== title) r.units.tr.title = title;
  }
}

// OEE per hour as a row of bars (the hourly series of the shift). A null hour
// is an empty slot with a '—' and its reason in the title, never a 0 bar.
export class Trend {
  constructor(root) {
    this.root = root;
    this.signature = '';
  }

  update(series) {
    const points = series ? series.points : [];
    const signature = points.map((p) => p.from).join(',');
    if (signature !== this.signature) {
      this.signature = signature;
      this.root.replaceChildren(...points.map((p) => el('span', { class: 'oee-col', dataset: { from: p.from } },
        el('span', { class: 'oee-slot' }, el('i')), el('b', { class: 'num', text: fmt.clock(p.from).slice(0, 2) }))));
    }
    points.forEach((p, k) => {
      const col = this.root.children[k];
      const s = fmt.factor(p, 'oee');
      setData(col, 'kind', s.kind);
      setData(col, 'value', p.oee === null ? '' : p.oee);
      col.firstChild.firstChild.style.height = p.oee === null ? '0' : (Math.min(1, p.oee) * 100).toFixed(1) + '%';
      const span = fmt.clock(p.from).slice(0, 5) + '–' + fmt.clock(p.to).slice(0, 5);
      const reasons = Object.entries(p.null_reasons || {}).map(([k, why]) => k + ': ' + why).join('; ');
      const title = span + ' OEE ' + s.text + (p.oee === null ? ' (' + (reasons || s.hint) + ')'
        : ' = A ' + fmt.factor(p, 'availability').text + ' × P ' + fmt.factor(p, 'performance').text +
          ' × Q ' + fmt.factor(p, 'quality').text);
      if (col.title !== title) col.title = title;
    });
    setData(this.root, 'points', points.length);
  }
}
