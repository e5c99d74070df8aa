// tests/web/harness.mjs: real parts for the dashboard's browser tests — a temp
// directory, a free loopback port, `edgemes run` as a child process, Debian's
// Chromium through playwright-core, waits with deadlines, and a tiny sequential
// runner that ends with the plain "N passed, N failed" line CTest logs show.
//
// Every process started here is stopped on every way out (a finished run, a
// failed assertion, an exception, SIGTERM from CTest's timeout).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export function args() {
  const out = { edgemes: process.env.EDGEMES_BIN, artifacts: process.env.EDGEMES_WEB_ARTIFACTS };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) out[argv[i].replace(/^--/, '')] = argv[i + 1];
  if (!out.edgemes) throw new Error('usage: node SCRIPT --edgemes PATH/TO/edgemes [--artifacts DIR]');
  out.artifacts = out.artifacts || fs.mkdtempSync(path.join(os.tmpdir(), 'edgemes-web-artifacts-'));
  fs.mkdirSync(out.artifacts, { recursive: true });
  return out;
}

const cleanups = [];
export function onCleanup(fn) {
  cleanups.push(fn);
}
async function cleanup() {
  while (cleanups.length) {
    try {
      await cleanups.pop()();
    } catch (e) {
      console.error('cleanup:', e.message);
    }
  }
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => cleanup().finally(() => process.exit(1)));
}
// A stray rejection or exception must not leave the daemon or Chromium behind.
for (const ev of ['uncaughtException', 'unhandledRejection']) {
  process.on(ev, (e) => {
    console.log('not ok - ' + ev + ': ' + (e && e.stack ? e.stack : e));
    cleanup().finally(() => process.exit(1));
  });
}

export function tempDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgemes-web-'));
  onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Polls `fn` every 100 ms until it returns a truthy value; throws naming
// `what` (and the last value or error seen) when `ms` pass first.
export async function waitFor(what, fn, ms = 15000) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e.message;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function getJson(base, target, token) {
  const headers = token ? { Authorization: 'Bearer ' + token } : {};
  const res = await fetch(base + target, { headers, signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${target}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

// `edgemes run --config FILE`; resolves once /api/v1/health answers (any status).
export class Daemon {
  constructor(bin, config, port, log) {
    Object.assign(this, { bin, config, port, log, child: null });
    onCleanup(() => this.stop());
  }

  get base() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start() {
    const out = fs.openSync(this.log, 'a');
    this.child = spawn(this.bin, ['run', '--config', this.config], { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    const child = this.child;
    this.exited = new Promise((resolve) => child.on('exit', (code, sig) => resolve(code ?? 128 + (os.constants.signals[sig] || 0))));
    await waitFor('the daemon to answer /api/v1/health', async () => {
      if (child.exitCode !== null) throw new Error('edgemes exited: ' + fs.readFileSync(this.log, 'utf8').slice(-2000));
      const res = await fetch(this.base + '/api/v1/health', { signal: AbortSignal.timeout(2000) });
      return res.status > 0;
    }, 20000);
  }

  // SIGTERM, then SIGKILL if it has not exited within 15 s; resolves with the exit code.
  async stop() {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return this.exited;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

// Chromium as CI has it (Debian's /usr/bin/chromium), with nothing that phones
// home; playwright gives every launch a fresh user-data directory.
export async function browser() {
  const b = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 30000,
  });
  onCleanup(() => b.close());
  return b;
}

// A page that records uncaught exceptions and console errors for `problems()`.
export async function openPage(b, url, viewport = { width: 1600, height: 1000 }) {
  const page = await b.newPage({ viewport });
  page.setDefaultTimeout(15000);
  const errors = [];
  page.on('pageerror', (e) => errors.push('uncaught: ' + e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push('console.error: ' + m.text());
  });
  page.problems = (allow = () => false) => errors.filter((e) => !allow(e));
  await page.goto(url);
  return page;
}

// Sequential test cases; a failure is reported and the next case still runs
// (they share one daemon and page, so later failures may follow from it).
const results = [];
export async function test(name, fn) {
  const started = Date.now();
  try {
    await fn();
    results.push(true);
    console.log(`ok - ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    results.push(false);
    console.log(`not ok - ${name}\n  ${(e.stack || String(e)).split('\n').join('\n  ')}`);
  }
}

export async function finish(dumpOnFailure = []) {
  const failed = results.filter((r) => !r).length;
  if (failed) {
    for (const file of dumpOnFailure) {
      if (fs.existsSync(file)) console.log(`--- ${file} (last 3000 bytes)\n` + fs.readFileSync(file, 'utf8').slice(-3000));
    }
  }
  await cleanup();
  console.log(`${results.length - failed} passed, ${failed} failed`);
  process.exit(failed || results.length === 0 ? 1 : 0);
}

export function assert(cond, message) {
  if (!cond) throw new Error('assertion failed: ' + message);
}

// The config the tests run: two lines of in-process simulated machines, and one
// http_json machine pointing at a port nothing listens on, so it goes offline.
export function writeConfig(dir, port, deadPort, token) {
  const sim = (id, name, type) => ({ id, name, type, poll_interval_ms: 500, source: { adapter: 'sim' } });
  const config = {
    site: 'web-test',
    database: { path: path.join(dir, 'web.db') },
    api: { bind: '127.0.0.1', port, ...(token ? { token } : {}) },
    pollers: { offline_after_failures: 2 },
    lines: [
      { id: 'smt1', name: 'SMT Line 1', machines: [
        sim('smt1-printer', 'Stencil printer', 'printer'),
        sim('smt1-placer1', 'Pick & place 1', 'placer'),
        sim('smt1-reflow', 'Reflow oven', 'reflow'),
        sim('smt1-aoi', 'Automated optical inspection', 'aoi'),
      ] },
      { id: 'smt2', name: 'SMT Line 2', machines: [
        sim('smt2-placer1', 'Pick & place 2.1', 'placer'),
        { id: 'smt2-dead', name: 'Unplugged placer', type: 'placer', poll_interval_ms: 500,
          source: { adapter: 'http_json', url: `http://127.0.0.1:${deadPort}/status`, timeout_ms: 300 },
          metrics: { boards_total: '/counters/boards' }, state: '/state' },
      ] },
    ],
  };
  const file = path.join(dir, token ? 'web-token.json' : 'web.json');
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

// The colours style.css must give each state (rgb() as getComputedStyle reports).
export const STATE_RGB = {
  run: 'rgb(34, 197, 94)',
  idle: 'rgb(245, 158, 11)',
  down: 'rgb(239, 68, 68)',
  offline: 'rgb(107, 114, 128)',
  unknown: 'rgb(71, 85, 105)',
  other: 'rgb(59, 130, 246)',
};

// The colours style.css must give each SEMI E10 class of the machine view's
// timeline (rgb() as getComputedStyle reports the background colour; OFFLINE
// is hatched on top of its black).
export const E10_RGB = {
  PRD: 'rgb(16, 185, 129)',
  SBY: 'rgb(240, 228, 66)',
  ENG: 'rgb(0, 114, 178)',
  SDT: 'rgb(192, 132, 252)',
  UDT: 'rgb(220, 38, 38)',
  NST: 'rgb(75, 85, 99)',
  OFFLINE: 'rgb(0, 0, 0)',
  unmapped: 'rgb(249, 115, 22)',
};

// Starts a program (e.g. edgemes-sim) with its output in `log`; it is killed on every way out.
export function startProcess(bin, argv, log) {
  const out = fs.openSync(log, 'a');
  const child = spawn(bin, argv, { stdio: ['ignore', out, out] });
  fs.closeSync(out);
  onCleanup(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child;
}

// Which colour a machine of /api/v1/floor must show.
export function expectedClass(m) {
  if (m.status === 'offline') return 'offline';
  if (m.status !== 'online') return 'unknown';
  if (m.state === 'RUN') return 'run';
  if (m.state === 'IDLE') return 'idle';
  if (m.state === 'DOWN' || m.state === 'ALARM') return 'down';
  return m.state ? 'other' : 'unknown';
}
