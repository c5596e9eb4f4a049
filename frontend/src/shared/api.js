// HTTP client for /api/v1: cookie session, CSRF header on writes, one silent refresh on expiry.
// It also holds the calls every domain shares (the account, stored files); each domain's own calls
// live in its api.js (src/<domain>/api.js), and no screen writes an API path itself.

import { takeEarlyAnswer } from './earlyAnswers.js';

const API = '/api/v1';
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);
// 401 codes meaning "the session is gone"; other 401s (wrong code, bad password) are shown as is.
const SESSION_LOST = new Set(['not_authenticated', 'token_invalid', 'token_revoked']);

export class ApiError extends Error {
  constructor(status, body) {
    const detail = (body && typeof body.detail === 'string' && body.detail) || fallbackMessage(status);
    super(detail);
    this.status = status;
    this.code = (body && body.error) || 'http_error';
    this.detail = detail;
    this.body = body || {};
  }
}

function fallbackMessage(status) {
  if (status === 0) return '网络连接失败，请检查网络后重试';
  if (status === 413) return '上传的文件过大';
  if (status >= 500) return '服务器暂时出错，请稍后再试';
  return '请求失败，请稍后再试';
}

export function readCookie(name) {
  const hit = document.cookie.split('; ').find((c) => c.startsWith(name + '='));
  return hit ? decodeURIComponent(hit.slice(name.length + 1)) : '';
}

let onSessionLost = () => {};
/** Register what to do when the session cannot be restored (the router sends the user to login). */
export function setSessionLostHandler(fn) {
  onSessionLost = fn;
}

let onPasswordChangeRequired = () => {};
/** Register what to do when the server asks for the temporary password to be changed first. */
export function setPasswordChangeHandler(fn) {
  onPasswordChangeRequired = fn;
}

let refreshing = null;
/** Rotate the refresh cookie once, shared by every request that hit an expired access token. */
function refreshSession() {
  if (!refreshing) {
    refreshing = fetch(API + '/auth/refresh', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': readCookie('gj_csrf') },
      body: '{}',
    })
      // The body is read even though only the status matters: an unread body keeps the request
      // (and its connection) open in the browser.
      .then((r) => r.text().then(() => r.ok))
      .catch(() => false)
      .finally(() => {
        refreshing = null;
      });
  }
  return refreshing;
}

function buildUrl(path, query) {
  const url = new URL(API + path, window.location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
  }
  return url.pathname + url.search;
}

async function send(method, path, { json, form, query } = {}) {
  const headers = { Accept: 'application/json' };
  let body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form; // the browser sets the multipart boundary
  }
  if (!SAFE.has(method)) headers['X-CSRF-Token'] = readCookie('gj_csrf');
  const url = buildUrl(path, query);
  if (method === 'GET') {
    // The page's early start may have asked already (frontend/early.js); a 401 is asked again,
    // since the session may have been refreshed in between.
    const early = takeEarlyAnswer(url);
    if (early) {
      const res = await early.catch(() => null);
      if (res && res.status !== 401) return res;
      if (res) res.text().catch(() => {}); // read to the end, so the request completes
    }
  }
  try {
    return await fetch(url, { method, headers, body, credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, null);
  }
}

/** The JSON body, or null; any other body is still read to the end so the request completes. */
async function parse(res) {
  const type = res.headers.get('content-type') || '';
  try {
    if (type.includes('application/json')) return await res.json();
    await res.text();
  } catch {
    // a body cut off or not JSON after all: the status alone answers
  }
  return null;
}

/**
 * Call the API and return the parsed JSON body; throws ApiError carrying the server's `detail`.
 * `auth: false` is for the login calls, whose 401s are answers, not lost sessions.
 */
export async function request(method, path, options = {}) {
  const { auth = true } = options;
  let res = await send(method, path, options);
  if (res.status === 401 && auth) {
    const body = await parse(res);
    const code = body && body.error;
    // The access cookie expires with its token, so an expired session often arrives as
    // "not_authenticated" (no cookie at all); the readable CSRF cookie tells us a refresh may work.
    const mayRefresh = code === 'token_invalid' || (code === 'not_authenticated' && readCookie('gj_csrf'));
    if (mayRefresh && (await refreshSession())) {
      res = await send(method, path, options);
    } else if (SESSION_LOST.has(code)) {
      onSessionLost();
      throw new ApiError(401, body);
    } else {
      throw new ApiError(401, body);
    }
    if (res.status === 401) {
      const again = await parse(res);
      onSessionLost();
      throw new ApiError(401, again);
    }
  }
  const data = await parse(res);
  if (res.status === 403 && data && data.error === 'password_change_required') onPasswordChangeRequired();
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export const api = {
  get: (path, query, opts) => request('GET', path, { query, ...opts }),
  post: (path, json = {}, opts) => request('POST', path, { json, ...opts }),
  put: (path, json = {}, opts) => request('PUT', path, { json, ...opts }),
  patch: (path, json = {}, opts) => request('PATCH', path, { json, ...opts }),
  del: (path, opts) => request('DELETE', path, { ...opts }),
  upload: (path, form, opts) => request('POST', path, { form, ...opts }),
};

/**
 * Start a file download (or, with `newTab`, open the file) after making sure the session is alive
 * (the link itself cannot refresh).
 */
export async function download(path, query, filename, { newTab = false } = {}) {
  await getMe();
  const a = document.createElement('a');
  a.href = buildUrl(path, query);
  if (filename) a.download = filename;
  if (newTab) {
    a.target = '_blank';
    a.rel = 'noopener';
  }
  document.body.appendChild(a);
  a.click();
  a.remove();
}

export function apiUrl(path, query) {
  return buildUrl(path, query);
}

// Calls shared by every domain: the signed-in account and the compound's stored files.
export const getMe = () => api.get('/auth/me');
/** Store one chosen file for the compound under a purpose (document, paper_ballot, …). */
export function uploadFile(cid, file, purpose) {
  const form = new FormData();
  form.append('file', file, file.name);
  form.append('purpose', purpose);
  return api.upload(`/compounds/${cid}/files`, form);
}
export const fileUrl = (cid, fileId) => apiUrl(`/compounds/${cid}/files/${fileId}`);
export const openFile = (cid, fileId) => download(`/compounds/${cid}/files/${fileId}`, undefined, undefined, { newTab: true });
