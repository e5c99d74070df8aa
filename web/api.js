// api.js: the page's only door to the daemon. Every request is a GET of the
// public v1 API (docs/API.md) with a deadline; the outcome of each one feeds the
// connection status that drives the banner (app.js).
//
// The token: with api.token set, the page's files load without it but every API
// call needs `Authorization: Bearer <token>`. Open the page once as
// `/?token=...`: the token is kept in this browser's localStorage and removed
// from the address bar (so it is not left in history or screenshots); a 401 asks
// for it again in the banner.

const TOKEN_KEY = 'edgemes.token';
const TIMEOUT_MS = 5000;

// unreachable: no answer (refused, reset, timed out); unauthorized: 401;
// http: any other non-2xx answer, whose JSON error message is kept.
export class ApiError extends Error {
  constructor(kind, status, message) {
    super(message);
    this.kind = kind;
    this.status = status;
  }
}

const listeners = { ok: () => {}, fail: () => {} };

// fns.ok() after every answered request, fns.fail(err) after unreachable/401.
export function onConnection(fns) {
  Object.assign(listeners, fns);
}

export function takeTokenFromUrl() {
  const url = new URL(window.location.href);
  if (!url.searchParams.has('token')) return;
  setToken(url.searchParams.get('token'));
  url.searchParams.delete('token');
  window.history.replaceState(null, '', url.pathname + url.search + url.hash);
}

export function setToken(token) {
  if (token) window.localStorage.setItem(TOKEN_KEY, token);
  else window.localStorage.removeItem(TOKEN_KEY);
}

function token() {
  try {
    return window.localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;  // storage disabled: the API must then be open
  }
}

// GET path?params; resolves with the parsed JSON body, or rejects with ApiError.
export async function get(path, params) {
  const query = params ? '?' + new URLSearchParams(params).toString() : '';
  const headers = { Accept: 'application/json' };
  const t = token();
  if (t) headers.Authorization = 'Bearer ' + t;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
  let res;
  let body = null;
  try {
    res = await fetch(path + query, { headers, signal: abort.signal, cache: 'no-store' });
    try {
      body = await res.json();
    } catch {
      body = null;
    }
  } catch (e) {
    const err = new ApiError('unreachable', 0, e && e.name === 'AbortError'
      ? 'no answer within ' + TIMEOUT_MS / 1000 + ' s' : 'cannot reach the daemon');
    listeners.fail(err);
    throw err;
  } finally {
    clearTimeout(timer);
  }
  const message = body && body.error && body.error.message ? body.error.message : 'HTTP ' + res.status;
  if (res.status === 401) {
    const err = new ApiError('unauthorized', 401, message);
    listeners.fail(err);
    throw err;
  }
  listeners.ok();
  if (!res.ok) throw new ApiError('http', res.status, message);
  return body;
}
