// Notifications: an owner reads 我的消息 and turns SMS notifications off; the committee sees the
// open ballot's SMS counts, previews a reminder to the owners who have not voted and sends it
// (once a day). Phone-sized screen (390×844).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { OWNER_PHONES, assertAccessible, openCompound, ownerLogin, screenshot, staffLogin, startBackend, startBrowser } from './harness.mjs';

const OPEN_BALLOT = '2026年第二次业主大会';

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

test('owner reads 我的消息 and turns notifications off', async () => {
  const { page } = b;
  await ownerLogin(page, backend, OWNER_PHONES[0]);
  await page.goto('/'); // an owner of one compound lands in it; 我的消息 is on the home screen
  await page.getByText('我的消息', { exact: true }).click();
  await page.waitForURL(/\/messages$/);
  const list = page.getByTestId('my-messages');
  // The login code just sent is listed, its code hidden.
  await list.getByText('登录验证码', { exact: true }).first().waitFor();
  const text = await list.textContent();
  assert.match(text, /您的登录验证码为\*{6}/);
  assert.doesNotMatch(text, /验证码为\d{6}/, 'codes are never shown');
  const toggle = page.getByTestId('optout-switch');
  assert.equal(await toggle.getAttribute('aria-checked'), 'true');
  await screenshot(page, '70-my-messages');
  await assertAccessible(page, 'my messages');

  await toggle.click();
  await page.getByText('已关闭短信通知').waitFor();
  await page.reload();
  await page.getByTestId('my-messages').waitFor();
  assert.equal(await page.getByTestId('optout-switch').getAttribute('aria-checked'), 'false');
  const me = await b.context.request.get('/api/v1/me/messages').then((r) => r.json());
  assert.equal(me.opted_out, true);
  await b.context.clearCookies();
});

test('committee previews and sends a reminder once a day', async () => {
  const { page } = b;
  await staffLogin(page, 'committee');
  const compoundId = await openCompound(page);
  await page.getByText('表决管理', { exact: true }).click();
  await page.waitForURL(/\/manage\/ballots$/);
  await page.getByTestId('ballot-list').getByRole('link', { name: new RegExp(OPEN_BALLOT) }).click();
  await page.waitForURL(/\/manage\/ballots\/\d+$/);
  const ballotId = Number(new URL(page.url()).pathname.split('/').pop());
  const api = (path) => b.context.request.get(`/api/v1/compounds/${compoundId}/ballots/${ballotId}${path}`).then((r) => r.json());

  // The worker delivers the demo's ballot-opened messages in the background: wait until it has
  // (nothing queued or being sent), so the screen and the API read the same counts.
  const pending = (c) => (c.queued ?? 0) + (c.sending ?? 0);
  let counts = await api('/messages');
  for (let i = 0; pending(counts) > 0 && i < 240; i += 1) {
    await page.waitForTimeout(500);
    counts = await api('/messages');
  }
  assert.equal(pending(counts), 0, 'the worker delivered every queued message');
  await page.getByRole('tab', { name: '短信' }).click();
  await page.getByTestId('message-counts').getByText('已发送').waitFor();
  await page.getByTestId('message-counts').getByText(String(counts.sent), { exact: true }).first().waitFor();

  const preview = await api('/reminder');
  assert.equal(preview.sent_today, false);
  assert.ok(preview.opted_out >= 1, 'the owner who opted out is counted');
  await page.getByRole('button', { name: '预览提醒短信' }).click();
  const dialog = page.getByTestId('reminder-preview');
  await dialog.getByText(`将发送 ${preview.messages} 条`).waitFor();
  await dialog.getByText(`已关闭短信通知 ${preview.opted_out} 人`).waitFor();
  await dialog.getByText(`预计费用 ${(preview.estimated_cost_fen / 100).toFixed(2)} 元`).waitFor();
  await screenshot(page, '71-reminder-preview');
  await page.getByRole('button', { name: '发送', exact: true }).click();
  await page.getByText(`已提交发送 ${preview.messages} 条提醒`).waitFor();
  assert.equal((await api('/reminder')).sent_today, true);

  // A second reminder the same day is refused; the dialog says so and sending is disabled.
  await page.getByRole('button', { name: '预览提醒短信' }).click();
  await page.getByTestId('reminder-preview').getByText('今天已发送过提醒').waitFor();
  assert.equal(await page.getByRole('button', { name: '发送', exact: true }).isDisabled(), true);
  await screenshot(page, '72-reminder-sent-today');
  const again = await b.context.request.post(`/api/v1/compounds/${compoundId}/ballots/${ballotId}/reminder`, {
    headers: { 'X-CSRF-Token': (await b.context.cookies()).find((c) => c.name.includes('csrf'))?.value || '' },
  });
  assert.equal(again.status(), 409);
});
