// (a) An owner logs in with phone + code and sees their compound; a wrong code shows the tries left.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { OWNER_PHONES, assertAccessible, screenshot, startBackend, startBrowser } from './harness.mjs';

let backend;
let b;

before(async () => {
  backend = await startBackend();
  b = await startBrowser(backend.baseURL);
});

after(async () => {
  await b?.browser.close();
  await backend?.stop();
});

test('owner logs in with a one-time code and sees the compound', async () => {
  const { page } = b;
  const phone = OWNER_PHONES[0];

  await page.goto('/');
  await page.waitForURL(/\/login/);
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  assert.match(await page.title(), /登录/);
  await screenshot(page, '01-login');
  await assertAccessible(page, 'login');

  await page.getByLabel('手机号').fill(phone);
  const seen = backend.codeCount();
  await page.getByRole('button', { name: '获取验证码' }).click();
  const code = await backend.otp(phone, seen);
  await page.getByRole('status').filter({ hasText: '验证码已发送' }).waitFor();
  await page.getByRole('button', { name: /\d+秒后重发/ }).waitFor();

  const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
  await page.getByLabel('验证码').fill(wrong);
  await page.getByRole('button', { name: '登录', exact: true }).click();
  const alert = page.getByRole('alert');
  await alert.filter({ hasText: '验证码错误，还可尝试4次' }).waitFor();
  await screenshot(page, '02-login-wrong-code');
  await assertAccessible(page, 'login with an error');

  await page.getByLabel('验证码').fill(code);
  await page.getByRole('button', { name: '登录', exact: true }).click();
  // An owner of one compound lands in it; the home screen is one tap back.
  await page.waitForURL(/\/c\/\d+$/);
  await page.getByRole('heading', { name: '阳光花园' }).waitFor();
  await page.goto('/');
  await page.getByRole('heading', { name: /您好/ }).waitFor();
  await page.getByText('阳光花园', { exact: true }).waitFor();
  await page.getByText('业主', { exact: true }).first().waitFor();
  assert.match(await page.title(), /我的小区/);
  await screenshot(page, '03-home-owner');
  await assertAccessible(page, 'home (owner)');

  await page.getByText('阳光花园', { exact: true }).click();
  await page.waitForURL(/\/c\/\d+$/);
  await page.getByRole('heading', { name: '阳光花园' }).waitFor();
  await page.getByText('表决、公告等事项发布后').waitFor();
  // Owners get neither the roster nor the audit trail.
  assert.equal(await page.getByText('名册', { exact: true }).count(), 0);
  assert.equal(await page.getByText('审计记录', { exact: true }).count(), 0);
  await screenshot(page, '04-compound-owner');
  await assertAccessible(page, 'compound (owner)');

  // The session survives a reload (HttpOnly cookies).
  await page.reload();
  await page.getByRole('heading', { name: '阳光花园' }).waitFor();

  // An expired access token is refreshed once, silently: first a token the server rejects
  // (token_invalid), then no access cookie at all (it expires with its token). The cookie is
  // changed only once the page is quiet: a request still in flight would otherwise refresh the
  // session itself (its Set-Cookie lands even when the reload cuts the fetch off), and the
  // reloaded page would then have nothing left to refresh. Waiting for a quiet network also checks
  // that the client reads every response body (an unread one leaves its request open for good).
  const { context } = b;
  await page.waitForLoadState('networkidle');
  const access = (await context.cookies()).find((c) => c.name === 'gj_access');
  assert.ok(access && access.httpOnly && access.secure, 'HttpOnly, Secure access cookie');
  await context.addCookies([{ ...access, value: 'not-a-valid-token' }]);
  let refreshed = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/refresh') && r.status() === 200);
  await page.reload();
  await refreshed;
  await page.getByRole('heading', { name: '阳光花园' }).waitFor();
  await page.waitForLoadState('networkidle');
  await context.clearCookies({ name: 'gj_access' });
  refreshed = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/refresh') && r.status() === 200);
  await page.reload();
  await refreshed;
  await page.getByRole('heading', { name: '阳光花园' }).waitFor();

  // Logging out returns to the login page, and the old session is gone.
  await page.getByRole('button', { name: '返回' }).click();
  await page.getByRole('button', { name: '退出登录' }).click();
  await page.waitForURL(/\/login/);
  await page.goto('/');
  await page.waitForURL(/\/login/);
  assert.deepEqual(b.consoleErrors, []);
});

test('an unknown phone is told nothing and cannot log in', async () => {
  const { page } = b;
  await page.goto('/login');
  await page.getByLabel('手机号').fill('13900000000');
  await page.getByRole('button', { name: '获取验证码' }).click();
  await page.getByRole('status').filter({ hasText: '验证码已发送' }).waitFor();
  await page.getByLabel('验证码').fill('123456');
  await page.getByRole('button', { name: '登录', exact: true }).click();
  await page.getByRole('alert').filter({ hasText: '验证码' }).waitFor();
  assert.match(new URL(page.url()).pathname, /\/login/);
});
