// format.js: how numbers, times and states look on the page. Pure functions.

// Up to 4 significant figures for gauges, full integers for counters, so a
// value never needs more than the fixed width its box has (7-8 characters).
export function value(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (Number.isInteger(v)) return a >= 1e7 ? v.toExponential(2) : String(v);
  if (a >= 1e5) return v.toExponential(2);
  if (a >= 1000) return v.toFixed(0);
  if (a >= 100) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toFixed(3);
}

// "45 s", "12 m 05 s", "3 h 07 m", "2 d 5 h"
export function duration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  const s = Math.floor(ms / 1000);
  const two = (n) => String(n).padStart(2, '0');
  if (s < 60) return s + ' s';
  if (s < 3600) return Math.floor(s / 60) + ' m ' + two(s % 60) + ' s';
  if (s < 86400) return Math.floor(s / 3600) + ' h ' + two(Math.floor(s / 60) % 60) + ' m';
  return Math.floor(s / 86400) + ' d ' + (Math.floor(s / 3600) % 24) + ' h';
}

export function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour12: false });
}

export function dateTime(ms) {
  const d = new Date(ms);
  return d.toLocaleDateString([], { month: 'short', day: 'numeric' }) + ' ' + clock(ms);
}

export function percent(share) {
  return share === null || share === undefined ? '—' : (share * 100).toFixed(1) + ' %';
}

// A state text's colour class: RUN green, IDLE amber, DOWN/ALARM red,
// OFFLINE (recorded while unreachable) grey, anything else blue.
export function stateClass(state) {
  switch (state) {
    case 'RUN': return 'run';
    case 'IDLE': return 'idle';
    case 'DOWN':
    case 'ALARM': return 'down';
    case 'OFFLINE': return 'offline';
    default: return state ? 'other' : 'unknown';
  }
}

// The classes /states gives each interval (`e10`), in the legend's order:
// the six SEMI E10 states, unreachable time, and texts no map covers.
export const E10_NAMES = {
  PRD: 'productive', SBY: 'standby', ENG: 'engineering', SDT: 'scheduled downtime',
  UDT: 'unscheduled downtime', NST: 'non-scheduled', OFFLINE: 'unreachable', unmapped: 'no E10 class',
};

// A machine's colour class: an offline machine is grey whatever it last
// reported; one not polled yet, or reporting no state, is slate.
export function machineClass(m) {
  if (m.status === 'offline') return 'offline';
  if (m.status !== 'online') return 'unknown';
  return stateClass(m.state);
}

export function machineLabel(m) {
  if (m.status === 'offline') return 'OFFLINE';
  if (m.status !== 'online') return 'NOT POLLED';
  return m.state || '—';
}

// The CSS colour of a class (style.css is the one place they are defined).
const colours = {};
export function colour(cls) {
  if (!colours[cls]) {
    colours[cls] = getComputedStyle(document.documentElement).getPropertyValue('--' + cls).trim() || '#475569';
  }
  return colours[cls];
}

// One OEE factor of a reply (availability, performance, quality or oee) as the
// page shows it: a null factor is '—' with the daemon's reason as its hint,
// never 0 %; a performance capped at 1 is marked '100.0 %*' with the raw value
// in the hint. kind: 'null', 'capped' or 'ok' (for styling and the tests).
export function factor(reply, key) {
  const v = reply ? reply[key] : null;
  if (v === null || v === undefined || !Number.isFinite(v)) {
    const why = reply && reply.null_reasons ? reply.null_reasons[key] : null;
    return { text: '—', hint: why || (reply ? 'not computed' : 'not loaded yet'), kind: 'null' };
  }
  if (key === 'performance' && reply.performance_capped) {
    return { text: percent(v) + '*', kind: 'capped',
      hint: 'capped at 100 %: the raw value is ' + percent(reply.performance_raw) +
        ' (more units than the ideal cycle allows in the productive time: an ideal cycle set too slow, ' +
        'or units counted while the machine reported a state other than PRD)' };
  }
  return { text: percent(v), hint: '', kind: 'ok' };
}
