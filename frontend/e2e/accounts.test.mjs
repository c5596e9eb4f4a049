// The platform administrator's screens: a compound, a committee account with a temporary
// password, a grant; the member must change the password before anything else, then reaches
// the committee's home; a revocation takes the compound away; the audit trail shows both.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PHONE, assertAccessible, openScreen, screenshot, staffLogin, startBackend, startBrowser } from './harness.mjs';

let backend;
let b;
let member; // a second browser: the committee member's own phone
const COMPOUND = '春晖园';
const TEMP = 'Chunhui-temp-01';
const OWN = 'wang-own-secret-2027';

before(async () => {
  backend = await startBackend();
  b = await startBrowser(backend.baseURL);
  member = await openScreen(b.browser, backend.baseURL, PHONE);
});

after(async () => {
  await member?.context.close();
  await b?.browser.close();
  await backend?.stop();
});

async function memberLogin(password) {
  const { page } = member;
  await page.goto('/login');
  await page.getByRole('tab', { name: '工作人员登录' }).click();
  await page.getByLabel('用户名').fill('wang.jg');
  await page.getByLabel('密码').fill(password);
  await page.getByRole('button', { name: '登录', exact: true }).click();
}

test('administrator sets up a compound and a committee member who must change the password', async () => {
  const { page } = b;
  await page.setViewportSize({ width: 1366, height: 768 });
  await staffLogin(page, 'admin');
  await page.getByTestId('to-admin').click();
  await page.waitForURL(/\/admin$/);

  // the compound
  await page.getByLabel('小区名称').fill(COMPOUND);
  await page.getByLabel('区', { exact: true }).fill('海淀区');
  await page.getByLabel('街道', { exact: true }).fill('学院路街道');
  await page.getByLabel('社区', { exact: true }).fill('春晖社区');
  await page.getByRole('button', { name: '创建小区' }).click();
  const row = page.getByTestId('compound-table').locator('tr', { hasText: COMPOUND });
  await row.waitFor();
  await screenshot(page, 'accounts-01-admin-1366');
  await assertAccessible(page, 'platform admin home (1366)');

  // the committee member's account, with a temporary password
  await page.getByTestId('to-accounts').click();
  await page.waitForURL(/\/admin\/accounts$/);
  await page.getByLabel('用户名').fill('wang.jg');
  await page.getByLabel('姓名').fill('王建国');
  await page.getByLabel('初始密码').fill(TEMP);
  await page.getByRole('button', { name: '创建账号' }).click();
  const accountRow = page.locator('tr[data-username="wang.jg"]');
  await accountRow.getByText('待修改临时密码').waitFor();
  await screenshot(page, 'accounts-02-accounts-1366');
  await assertAccessible(page, 'accounts (1366)');

  // the grant: 业委会委员 in the new compound
  await page.goto('/admin');
  await row.getByRole('link', { name: '角色授权' }).click();
  await page.waitForURL(/\/c\/\d+\/grants$/);
  await page.getByLabel('账号', { exact: true }).selectOption({ label: '王建国（wang.jg）' });
  await page.getByLabel('角色', { exact: true }).selectOption('committee');
  await page.getByRole('button', { name: '授予角色' }).click();
  await page.locator('tr[data-username="wang.jg"]').getByText('业委会委员').waitFor();
  await screenshot(page, 'accounts-03-grants-1366');
  await assertAccessible(page, 'grants (1366)');

  // the member signs in with the temporary password and is sent to change it
  await memberLogin(TEMP);
  await member.page.waitForURL(/\/password/);
  await member.page.getByTestId('must-change').waitFor();
  await screenshot(member.page, 'accounts-04-must-change-390');
  await assertAccessible(member.page, 'change password (390)');
  // typing another address does not get around it
  await member.page.goto('/');
  await member.page.waitForURL(/\/password/);
  await member.page.getByLabel('当前密码').fill(TEMP);
  await member.page.getByLabel('新密码').fill(OWN);
  await member.page.getByLabel('再次输入').fill(OWN);
  await member.page.getByRole('button', { name: '保存新密码' }).click();
  await member.page.waitForURL((url) => url.pathname === '/');
  await member.page.getByText(COMPOUND, { exact: true }).click();
  await member.page.waitForURL(/\/c\/\d+$/);
  await member.page.getByText('业委会委员').first().waitFor();
  await screenshot(member.page, 'accounts-05-committee-home-390');
  const cid = Number(new URL(member.page.url()).pathname.split('/')[2]);
  assert.equal((await member.context.request.get(`/api/v1/compounds/${cid}/grants`)).status(), 200);

  // the administrator revokes: the member loses the compound at once
  await page.getByRole('button', { name: '撤销' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByText('立即不能再以业委会委员身份').waitFor();
  await dialog.getByRole('button', { name: '撤销角色' }).click();
  await page.getByText('本小区还没有授予任何角色。').waitFor();
  assert.equal((await member.context.request.get(`/api/v1/compounds/${cid}/grants`)).status(), 403);
  await member.page.goto('/');
  await member.page.getByText('暂未关联任何小区').waitFor();
  assert.equal(await member.page.getByText(COMPOUND, { exact: true }).count(), 0);

  // the compound's audit trail holds the grant and the revocation
  await page.goto(`/c/${cid}/audit`);
  const events = page.getByTestId('events');
  await events.getByText(/授予.*角色/).first().waitFor();
  await events.getByText(/撤销.*角色/).first().waitFor();
  await screenshot(page, 'accounts-06-audit-1366');
  assert.deepEqual(b.consoleErrors, []);
  assert.deepEqual(member.errors, []);
});

test('administrator resets a forgotten password and disables an account, on a phone', async () => {
  const { page } = b;
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto('/admin/accounts');
  const accountRow = page.locator('tr[data-username="wang.jg"]');
  await accountRow.getByRole('button', { name: '重置密码' }).click();
  let dialog = page.getByRole('dialog');
  await dialog.getByText('原密码立即作废').waitFor();
  await dialog.getByLabel('原因').fill('本人电话申请，已核实身份');
  await dialog.getByRole('button', { name: '重置密码' }).click();
  const temporary = (await page.getByTestId('temporary-password').textContent()).trim();
  assert.match(temporary, /^[A-Za-z0-9]{4}-[A-Za-z0-9]{4}-[A-Za-z0-9]{4}$/);
  await screenshot(page, 'accounts-07-reset-390', { here: true });
  await page.getByRole('button', { name: '我已记下' }).click();

  // the old password is gone: the member's session ended, the temporary one must be changed
  await member.page.goto('/');
  await member.page.waitForURL(/\/login/);
  await memberLogin(temporary);
  await member.page.waitForURL(/\/password/);

  // disabling ends that session too
  await accountRow.getByRole('button', { name: '停用' }).click();
  dialog = page.getByRole('dialog');
  await dialog.getByText('立即退出所有登录').waitFor();
  await dialog.getByLabel('原因').fill('已离任');
  await dialog.getByRole('button', { name: '停用账号' }).click();
  await accountRow.getByText('已停用').waitFor();
  await screenshot(page, 'accounts-08-accounts-390');
  await assertAccessible(page, 'accounts (390)');
  await member.page.getByLabel('当前密码').fill(temporary);
  await member.page.getByLabel('新密码').fill(OWN + '-2');
  await member.page.getByLabel('再次输入').fill(OWN + '-2');
  await member.page.getByRole('button', { name: '保存新密码' }).click();
  await member.page.waitForURL(/\/login/);
  await memberLogin(temporary);
  await member.page.getByRole('tabpanel', { name: '工作人员登录' }).getByText('账号已停用').waitFor();
  assert.deepEqual(b.consoleErrors, []);
});
