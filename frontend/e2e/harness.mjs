// Test harness: a fresh database, the real back end (uvicorn) and Debian's Chromium at phone size.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');
export const FRONTEND = resolve(here, '..');
export const REPO = resolve(FRONTEND, '..');
export const SCREENSHOTS = join(here, 'screenshots');
export const PYTHON = process.env.GONGJUE_PYTHON || join(REPO, '.venv', 'bin', 'python');
export const CHROMIUM = process.env.GONGJUE_CHROMIUM || '/usr/bin/chromium';
export const DEMO_PASSWORD = 'gongjue-demo-2026';
export const OWNER_PHONES = ['13800000001', '13800000002'];

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

function run(cmd, args, env) {
  return new Promise((ok, fail) => {
    const child = spawn(cmd, args, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', fail);
    child.on('exit', (code) =>
      code === 0 ? ok(out) : fail(new Error(`${cmd} ${args.join(' ')} exited with ${code}:\n${out}`)),
    );
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Start a back end on a fresh SQLite database, seeded with the demo compound unless `seed` is
 * false. The seed is `python -m app.demo`, or the script named by GONGJUE_E2E_SEED when set.
 * `env` adds settings (e.g. the fake SMS provider's), `setup` lists python argv run after the
 * migrations (e.g. ['-m', 'app.auth', 'create-admin', '--username', 'admin']). The returned
 * `restart({ clockOffsetSeconds })` starts the server again on the same database and port with
 * the app's clock moved forward (tests/fakes/shifted_clock.py).
 */
export async function startBackend({ seed = true, env: extraEnv = {}, setup = [] } = {}) {
  if (!existsSync(join(FRONTEND, 'dist', 'index.html'))) {
    throw new Error('frontend/dist is missing: run `npm run build` first (e2e/run.sh does)');
  }
  const tmp = mkdtempSync(join(tmpdir(), 'gongjue-e2e-'));
  const port = await freePort();
  const env = {
    ...process.env,
    GONGJUE_DATABASE_URL: `sqlite:///${join(tmp, 'e2e.db')}`,
    GONGJUE_SIGNING_KEY_PATH: join(tmp, 'key.pem'),
    GONGJUE_FRONTEND_DIST: join(FRONTEND, 'dist'),
    GONGJUE_SMS_PROVIDER: 'console',
    // The ballot scheduler stays off so a test steps through the lifecycle with the buttons;
    // e2e/ballot-lifecycle.test.mjs turns it on to see a ballot open by itself.
    GONGJUE_SCHEDULE_WORKER: 'false',
    ...extraEnv,
    PYTHONUNBUFFERED: '1',
  };
  if (process.env.GONGJUE_ENV === undefined) delete env.GONGJUE_ENV;
  else env.GONGJUE_ENV = process.env.GONGJUE_ENV;
  try {
    await run(PYTHON, ['-m', 'alembic', 'upgrade', 'head'], env);
    for (const argv of setup) await run(PYTHON, argv, env);
    if (seed) {
      const script = process.env.GONGJUE_E2E_SEED;
      if (!script && !existsSync(join(REPO, 'app', 'demo.py')) && !existsSync(join(REPO, 'app', 'demo', '__main__.py'))) {
        throw new Error('no demo seed: app/demo.py is missing (or set GONGJUE_E2E_SEED=<script>)');
      }
      // -P: the script's folder is not put first on sys.path, where a module of that folder would
      // hide the standard library's namesake (app/procedures/queue.py hid `queue`, which
      // concurrent.futures imports). The seed scripts put the repository on the path themselves.
      await run(PYTHON, script ? ['-P', script] : ['-m', 'app.demo'], env);
    }
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }

  let log = '';
  const codes = []; // [phone, code] in the order the console sender printed them
  const onData = (chunk) => {
    const text = chunk.toString();
    log += text;
    for (const m of text.matchAll(/\[gongjue\] SMS to (\S+): 您的登录验证码为(\d{6})/g)) codes.push([m[1], m[2]]);
  };
  let server;
  let exited = null;
  const baseURL = `http://127.0.0.1:${port}`;

  async function launch(args) {
    server = spawn(PYTHON, args, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    exited = null;
    const child = server;
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code, signal) => {
      if (server === child) exited = code ?? signal; // a signal leaves code null
    });
    // Never leave a server behind, even when the test process dies early.
    process.once('exit', () => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'));
    // A loaded machine may need longer to import the app (GONGJUE_E2E_START_MS).
    const deadline = Date.now() + (Number(process.env.GONGJUE_E2E_START_MS) || 180_000);
    for (;;) {
      if (exited !== null) throw new Error(`back end exited with ${exited}:\n${log}`);
      try {
        const res = await fetch(`${baseURL}/healthz`);
        if (res.ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        server.kill('SIGKILL');
        throw new Error(`back end did not become healthy:\n${log}`);
      }
      await sleep(200);
    }
  }

  async function halt() {
    if (exited === null) {
      server.kill('SIGTERM');
      const until = Date.now() + 5000;
      while (exited === null && Date.now() < until) await sleep(100);
      if (exited === null) {
        server.kill('SIGKILL');
        while (exited === null) await sleep(50);
      }
    }
  }

  await launch(['-m', 'uvicorn', 'app.main:create_app', '--factory', '--host', '127.0.0.1', '--port', String(port)]);

  return {
    baseURL,
    tmp,
    log: () => log,
    /** The newest code sent to `phone` after `since` codes had been seen. */
    async otp(phone, since = 0) {
      const until = Date.now() + 10_000;
      for (;;) {
        const hit = codes.slice(since).reverse().find(([p]) => p === phone);
        if (hit) return hit[1];
        if (Date.now() > until) throw new Error(`no OTP printed for ${phone}:\n${log}`);
        await sleep(100);
      }
    },
    codeCount: () => codes.length,
    /** Stop the server and start it again on the same database and port, its clock moved forward. */
    async restart({ clockOffsetSeconds = 0 } = {}) {
      await halt();
      await launch(['-m', 'tests.fakes.shifted_clock', '--offset-seconds', String(clockOffsetSeconds), '--port', String(port)]);
    },
    async stop() {
      await halt();
      if (!process.env.GONGJUE_E2E_KEEP) rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/** A phone's screen (390×844, touch, 2× pixels) and a PC's (1366×768), as `openScreen` sizes. */
export const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
export const PC = { viewport: { width: 1366, height: 768 } };
// Generous enough for a loaded machine running several test files (GONGJUE_E2E_TIMEOUT_MS).
const TIMEOUT_MS = Number(process.env.GONGJUE_E2E_TIMEOUT_MS) || 30_000;

/**
 * A new browser context of the given size (PHONE or PC, plus any of Playwright's context options)
 * with the suite's locale, time zone and timeout, its first page, and that page's uncaught errors.
 */
export async function openScreen(browser, baseURL, size = PHONE) {
  const context = await browser.newContext({
    baseURL, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', acceptDownloads: true, ...size,
  });
  context.setDefaultTimeout(TIMEOUT_MS);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  return { context, page, errors };
}

/** Launch Chromium and open a phone-sized screen (`openScreen`). */
export async function startBrowser(baseURL) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  const { context, page, errors: consoleErrors } = await openScreen(browser, baseURL);
  return { browser, context, page, consoleErrors };
}

/**
 * Save a screenshot to e2e/screenshots/<name>.png: the whole page from the top, or, with `at`,
 * the phone's screen scrolled so that the given locator sits just below the sticky header, or,
 * with `here`, the screen as it is.
 */
export async function screenshot(page, name, { at, here = false } = {}) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.waitForLoadState('networkidle').catch(() => {});
  const path = join(SCREENSHOTS, `${name}.png`);
  if (here) {
    await page.screenshot({ path }); // as the phone shows it now (e.g. with a dialog open)
  } else if (at) {
    await at.evaluate((el) => {
      const top = el.getBoundingClientRect().top + window.scrollY - 64;
      window.scrollTo(0, Math.max(0, top));
    });
    await page.screenshot({ path });
  } else {
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path, fullPage: true });
  }
}

/**
 * Confirm the dialog an irreversible step opens (ConfirmDialog): it must name the consequence
 * (`consequence`, a RegExp, when given); `button` is its confirm button.
 */
export async function confirmStep(page, button, consequence) {
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  if (consequence) assert.match(await dialog.textContent(), consequence);
  await dialog.getByRole('button', { name: button, exact: true }).click();
  await dialog.waitFor({ state: 'hidden' });
}

/** Log in as staff through the 工作人员登录 tab. */
export async function staffLogin(page, username, password = DEMO_PASSWORD) {
  await page.goto('/login');
  await page.getByRole('tab', { name: '工作人员登录' }).click();
  await page.getByLabel('用户名').fill(username);
  await page.getByLabel('密码').fill(password);
  await page.getByRole('button', { name: '登录', exact: true }).click();
  await page.waitForURL((url) => url.pathname === '/');
}

/** Log in as an owner with phone + one-time code (read from the server's log). */
export async function ownerLogin(page, backend, phone) {
  await page.goto('/login');
  await page.getByLabel('手机号').fill(phone);
  const seen = backend.codeCount();
  await page.getByRole('button', { name: '获取验证码' }).click();
  const code = await backend.otp(phone, seen);
  await page.getByLabel('验证码').fill(code);
  await page.getByRole('button', { name: '登录', exact: true }).click();
  // An owner of one compound lands in it; an owner of several at the home screen.
  await page.waitForURL((url) => url.pathname === '/' || /^\/c\/\d+$/.test(url.pathname));
}

/** Open the demo compound from the home screen (or stay in it, where an owner landed); returns its id. */
export async function openCompound(page, name = '阳光花园') {
  if (/^\/c\/\d+$/.test(new URL(page.url()).pathname)) {
    await page.locator('.title', { hasText: name }).first().waitFor();
    return Number(new URL(page.url()).pathname.split('/')[2]);
  }
  await page.getByText(name, { exact: true }).first().click();
  await page.waitForURL(/\/c\/\d+$/);
  return Number(new URL(page.url()).pathname.split('/')[2]);
}

/**
 * Accessibility of the current screen: axe-core's WCAG 2 A/AA rules (what Lighthouse's score is
 * built from) and touch targets of at least 44×44 px. Returns a list of problems ([] when fine).
 */
export async function accessibilityProblems(page) {
  await page.waitForLoadState('networkidle').catch(() => {});
  // A dialog still fading in has its text at part opacity, which axe measures as low contrast:
  // wait until no CSS transition or animation is running (Vant's dialogs and popups use both).
  await page
    .waitForFunction(() => document.getAnimations().every((a) => a.playState !== 'running'), null, { timeout: 5000 })
    .catch(() => {});
  // Evaluated through the DevTools protocol: the page's CSP (script-src 'self') refuses the
  // inline <script> that addScriptTag would insert.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(readFileSync(AXE, 'utf8'));
  const axe = await page.evaluate(async () => {
    const result = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
    });
    return result.violations.map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
  });
  const targets = await page.evaluate(() => {
    const small = [];
    const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button], [role=tab], [role=link]';
    for (const el of document.querySelectorAll(selector)) {
      const rect = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      if (!rect.width || !rect.height || style.visibility === 'hidden' || el.closest('.visually-hidden')) continue;
      if (el.classList.contains('visually-hidden')) continue;
      // A checkbox counts with its label, which is the real target.
      const target = el.matches('input[type=checkbox], input[type=radio]') && el.closest('label') ? el.closest('label').getBoundingClientRect() : rect;
      if (target.height < 44 || target.width < 44) {
        small.push(`small target ${Math.round(target.width)}×${Math.round(target.height)}: ${el.tagName.toLowerCase()} “${(el.textContent || el.getAttribute('aria-label') || el.name || '').trim().slice(0, 20)}”`);
      }
    }
    const base = parseFloat(getComputedStyle(document.body).fontSize);
    if (base < 16) small.push(`base font ${base}px`);
    return small;
  });
  return [...axe, ...targets];
}

/** Fail with the list of problems when the current screen is not accessible. */
export async function assertAccessible(page, screen) {
  const problems = await accessibilityProblems(page);
  if (problems.length) throw new Error(`accessibility problems on ${screen}:\n${problems.join('\n')}`);
}
