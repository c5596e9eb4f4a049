// (d) The observer reads the audit trail but gets no roster import controls; the clerk reads the
// roster without them too; the platform admin creates a compound.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAccessible, openCompound, screenshot, staffLogin, startBackend, startBrowser } from './harness.mjs';

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

test('observer sees the audit page and no import controls', async () => {
  const { page } = b;
  await staffLogin(page, 'observer');
  await page.getByText('观察员（两代表一委员）', { exact: true }).first().waitFor();
  const compoundId = await openCompound(page);
  await page.getByText('审计记录', { exact: true }).waitFor();
  assert.equal(await page.getByText('名册', { exact: true }).count(), 0, 'no roster entry for an observer');
  await screenshot(page, '14-compound-observer');

  await page.getByText('审计记录', { exact: true }).click();
  await page.waitForURL(new RegExp(`/c/${compoundId}/audit$`));
  await page.getByTestId('events').locator('li').first().waitFor();
  await page.getByRole('button', { name: '校验记录链' }).click();
  assert.match(await page.getByTestId('verify-result').textContent(), /校验通过/);
  await screenshot(page, '15-audit-observer');
  await assertAccessible(page, 'audit (observer)');

  // Even by typing the roster's address: totals are readable, nothing can be imported.
  await page.goto(`/c/${compoundId}/roster`);
  await page.getByTestId('total-area').waitFor();
  await page.getByText('您可以查看名册，但不能修改。').waitFor();
  assert.equal(await page.getByRole('heading', { name: '导入名册' }).count(), 0);
  assert.equal(await page.locator('input[type=file]').count(), 0);
  assert.equal(await page.getByRole('link', { name: /下载.*模板/ }).count(), 0);
  // The unit list holds personal data the observer may not read.
  await page.getByText('房屋列表含业主个人信息').waitFor();
  assert.equal(await page.locator('.unit').count(), 0);
  await screenshot(page, '16-roster-observer');
  await assertAccessible(page, 'roster (observer)');
  assert.deepEqual(b.consoleErrors, []);
});

test('clerk reads the roster but cannot import', async () => {
  const { page, context } = b;
  await context.clearCookies();
  await staffLogin(page, 'clerk');
  const compoundId = await openCompound(page);
  assert.equal(await page.getByText('审计记录', { exact: true }).count(), 0, 'no audit entry for a clerk');
  await page.getByText('名册', { exact: true }).click();
  await page.waitForURL(new RegExp(`/c/${compoundId}/roster$`));
  await page.getByTestId('total-area').waitFor();
  await page.locator('.unit').first().waitFor();
  assert.equal(await page.getByRole('heading', { name: '导入名册' }).count(), 0);
  assert.equal(await page.locator('input[type=file]').count(), 0);
  // Direct API calls are refused too: the page hides the controls, the server enforces the role.
  const res = await context.request.post(`/api/v1/compounds/${compoundId}/roster/imports`, {
    headers: { 'X-CSRF-Token': (await context.cookies()).find((c) => c.name === 'gj_csrf')?.value || '' },
    multipart: { file: { name: 'x.csv', mimeType: 'text/csv', buffer: Buffer.from('楼栋\n') } },
  });
  assert.equal(res.status(), 403);
  await screenshot(page, '17-roster-clerk', { at: page.getByRole('heading', { name: '房屋列表' }) });
});

test('platform admin creates a compound', async () => {
  const { page, context } = b;
  await context.clearCookies();
  await staffLogin(page, 'admin');
  await page.getByText('阳光花园', { exact: true }).waitFor();
  await page.getByText('平台管理员', { exact: true }).first().waitFor();
  await page.getByRole('heading', { name: '新建小区' }).waitFor();

  await page.getByRole('button', { name: '创建小区' }).click();
  await page.getByRole('alert').filter({ hasText: '请填写小区名称' }).waitFor();
  await page.getByLabel('小区名称', { exact: true }).fill('幸福里');
  await page.getByLabel('区', { exact: true }).fill('海淀区');
  await page.getByLabel('街道', { exact: true }).fill('学院路街道');
  await page.getByLabel('社区', { exact: true }).fill('幸福里社区');
  await page.getByRole('button', { name: '创建小区' }).click();
  await page.getByText('幸福里', { exact: true }).waitFor();
  await screenshot(page, '18-home-admin');
  await assertAccessible(page, 'home (admin)');

  await page.getByText('幸福里', { exact: true }).click();
  await page.waitForURL(/\/c\/\d+$/);
  await page.getByText('海淀区 · 学院路街道 · 幸福里社区').waitFor();
  await page.getByText('名册', { exact: true }).waitFor();
  await page.getByText('审计记录', { exact: true }).click();
  await page.getByTestId('events').getByText('创建小区').waitFor();
  assert.match(await page.getByTestId('events').textContent(), /平台管理员/);
  assert.deepEqual(b.consoleErrors, []);
});
