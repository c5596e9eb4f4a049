// The early start (frontend/early.js) and the client's use of its answers (src/shared/api.js,
// src/shared/earlyAnswers.js): which requests and preloads a landing page starts, and that each
// answer serves one identical GET, a 401 among them being asked again.
// Run: node --test frontend/unit/
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import vm from 'node:vm';

const SOURCE = readFileSync(new URL('../early.js', import.meta.url), 'utf8');
const VIEW_FILES = { 'src/voting/views/BallotView.vue': ['/assets/BallotView-abc.js', '/assets/voting-abc.js', '/assets/BallotView-abc.css'] };

/** Run early.js as a page would at `path`; what it fetched and which links it added. */
function runEarly(path, { started = false } = {}) {
  const fetched = [];
  const links = [];
  const window = {
    location: { pathname: path },
    fetch: (url, init) => {
      fetched.push({ url, init });
      return Promise.resolve({ status: 200, url });
    },
  };
  if (started) window.__gjEarly = { answers: {} };
  const document = { createElement: () => ({}), head: { appendChild: (el) => links.push(el) } };
  const code = SOURCE.replace('__GJ_VIEW_FILES__', JSON.stringify(VIEW_FILES));
  vm.runInNewContext(code, { window, document });
  return { window, fetched, links };
}

test("the ballot page asks for the session, the ballot, the owner's votes and turnout at once", () => {
  const { window, fetched, links } = runEarly('/c/3/ballots/7');
  assert.deepEqual(fetched.map((f) => f.url), [
    '/api/v1/auth/me',
    '/api/v1/compounds/3/ballots/7',
    '/api/v1/compounds/3/ballots/7/my-votes',
    '/api/v1/compounds/3/ballots/7/turnout',
  ]);
  for (const { init } of fetched) {
    assert.equal(init.credentials, 'same-origin');
    assert.equal(init.method, undefined); // GET
    assert.deepEqual(Object.entries(init.headers), [['Accept', 'application/json']]); // as the client asks
  }
  assert.deepEqual(Object.keys(window.__gjEarly.answers), fetched.map((f) => f.url));
  assert.deepEqual(links.map((l) => [l.rel, l.href]), [
    ['modulepreload', '/assets/BallotView-abc.js'],
    ['modulepreload', '/assets/voting-abc.js'],
    ['preload', '/assets/BallotView-abc.css'],
  ]);
  assert.equal(links[2].as, 'style');
});

test('other pages, and a page whose app already started, ask for nothing', () => {
  for (const path of ['/', '/login', '/c/3', '/c/3/ballots/7/receipt/2', '/c/3/manage/ballots/7', '/c/x/ballots/7']) {
    const { fetched, links } = runEarly(path);
    assert.deepEqual([fetched, links], [[], []], path);
  }
  const { fetched } = runEarly('/c/3/ballots/7', { started: true });
  assert.deepEqual(fetched, []);
});

// The client, in a stand-in browser: fetch records what the app itself asks for.
function response(status, body) {
  return {
    status,
    ok: status >= 200 && status < 300,
    headers: { get: () => 'application/json' },
    json: async () => body,
    text: async () => JSON.stringify(body),
  };
}

test('the client takes each early answer once, for the same GET, and asks again after a 401', async () => {
  const asked = [];
  globalThis.document = { cookie: '' };
  globalThis.fetch = async (url, init) => {
    asked.push(`${init.method} ${url}`);
    return response(200, { fresh: url });
  };
  globalThis.window = {
    location: { origin: 'https://gongjue.example' },
    __gjEarly: {
      answers: {
        '/api/v1/compounds/3/ballots/7': Promise.resolve(response(200, { early: 'ballot' })),
        '/api/v1/compounds/3/ballots/7/turnout': Promise.resolve(response(401, { error: 'token_invalid' })),
      },
    },
  };
  const { api } = await import('../src/shared/api.js');
  const { dropEarlyAnswers } = await import('../src/shared/earlyAnswers.js');

  assert.deepEqual(await api.get('/compounds/3/ballots/7'), { early: 'ballot' });
  assert.deepEqual(asked, []);
  assert.deepEqual(await api.get('/compounds/3/ballots/7'), { fresh: '/api/v1/compounds/3/ballots/7' }, 'once only');
  assert.deepEqual(await api.get('/compounds/3/ballots/7/turnout'), { fresh: '/api/v1/compounds/3/ballots/7/turnout' });
  assert.deepEqual(asked, ['GET /api/v1/compounds/3/ballots/7', 'GET /api/v1/compounds/3/ballots/7/turnout']);

  // A write never takes an early answer; answers nobody took are dropped on leaving the page.
  window.__gjEarly.answers['/api/v1/compounds/3/ballots/7/votes'] = Promise.resolve(response(200, { early: 'no' }));
  await api.post('/compounds/3/ballots/7/votes', {});
  assert.equal(asked.at(-1), 'POST /api/v1/compounds/3/ballots/7/votes');
  window.__gjEarly.answers['/api/v1/auth/me'] = Promise.resolve(response(200, { early: 'me' }));
  dropEarlyAnswers();
  assert.deepEqual(await api.get('/auth/me'), { fresh: '/api/v1/auth/me' });
});
