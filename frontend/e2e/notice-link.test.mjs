// The QR code on a printed notice opens its page: an owner who is not logged in is sent to the
// login screen and, after logging in, lands on that notice (not on the home screen).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO_PASSWORD, OWNER_PHONES, screenshot, staffLogin, startBackend, startBrowser } from './harness.mjs';

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

test('a notice link opened logged out leads to that notice after login', async () => {
  const { page, context } = b;
  const phone = OWNER_PHONES[0];
  // Find a published notice of the demo compound (as staff), then log out.
  await staffLogin(page, 'committee');
  const me = await (await page.request.get('/api/v1/auth/me')).json();
  const compoundId = me.compounds[0].compound_id;
  const list = await (await page.request.get(`/api/v1/compounds/${compoundId}/notices`)).json();
  const notice = list.items[0];
  assert.ok(notice, 'the demo compound has a published notice');
  await context.clearCookies();

  const target = `/c/${compoundId}/notices/${notice.id}`;
  await page.goto(target);
  await page.waitForURL((url) => url.pathname === '/login' && url.searchParams.get('redirect') === target);
  await page.getByLabel('手机号').fill(phone);
  const seen = backend.codeCount();
  await page.getByRole('button', { name: '获取验证码' }).click();
  const code = await backend.otp(phone, seen);
  await page.getByLabel('验证码').fill(code);
  await page.getByRole('button', { name: '登录', exact: true }).click();
  await page.waitForURL((url) => url.pathname === target);
  await page.getByRole('heading', { name: notice.title, level: 1 }).waitFor();
  await screenshot(page, 'notice-link-after-login');

  // A redirect to another site is never followed: the login goes home instead.
  await context.clearCookies();
  await page.goto('/login?redirect=//evil.example/x');
  await page.getByRole('tab', { name: '工作人员登录' }).click();
  await page.getByLabel('用户名').fill('committee');
  await page.getByLabel('密码').fill(DEMO_PASSWORD);
  await page.getByRole('button', { name: '登录', exact: true }).click();
  await page.waitForURL((url) => url.pathname === '/');
  assert.equal(new URL(page.url()).host, new URL(backend.baseURL).host);
});
