// (issue 16) 三单一访 work orders (seed 001 §4.7.1: 网格派单、物业接单、群众评单、支部回访):
// an owner reports a problem with a photo on a phone; the committee dispatches it on a PC; the
// property company accepts it and records the work; the owner rates it; the party branch
// (reviewer) records the follow-up visit and the order is closed; another owner sees only the
// anonymous counts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PC, PHONE, assertAccessible, confirmStep, openCompound, openScreen, ownerLogin, screenshot, staffLogin, startBackend, startBrowser,
} from './harness.mjs';

const OWNER = '13800000001';
const OTHER_OWNER = '13800000002';
// A 1×1 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

let backend;
let b;
let orderPath;
let owner; // the reporting owner's phone, kept signed in (codes are rate-limited)

before(async () => {
  backend = await startBackend();
  b = await startBrowser(backend.baseURL);
});

after(async () => {
  await b?.browser.close();
  await backend?.stop();
});

function context(kind) {
  return openScreen(b.browser, backend.baseURL, kind === 'phone' ? PHONE : PC);
}

async function staffStep(username, button, ok, consequence, fill) {
  const s = await context('pc');
  await staffLogin(s.page, username);
  await s.page.goto(orderPath);
  const form = s.page.getByTestId('wo-step');
  await form.waitFor();
  if (fill) await fill(s.page);
  await form.getByRole('button', { name: button }).click();
  await confirmStep(s.page, ok, consequence);
  assert.deepEqual(s.errors, []);
  return s;
}

test('an owner reports a problem with a photo on a phone', async () => {
  const p = await context('phone');
  await ownerLogin(p.page, backend, OWNER);
  await openCompound(p.page);
  await p.page.getByTestId('entry-work-orders-owner').click();
  await p.page.waitForURL(/\/work-orders$/);
  const form = p.page.getByTestId('wo-report');
  await form.getByLabel('问题类别').selectOption('repair');
  await form.getByLabel('位置').fill('3栋1单元楼道');
  await form.getByLabel('问题描述').fill('楼道灯不亮，晚上看不见台阶');
  await p.page.locator('#wo-photo').setInputFiles({ name: '楼道灯.png', mimeType: 'image/png', buffer: PNG });
  await form.getByText('已上传：楼道灯.png').waitFor();
  await screenshot(p.page, 'workorder-owner-report');
  await form.getByRole('button', { name: '提交报事' }).click();
  await confirmStep(p.page, '提交', /不能撤回/);
  await p.page.waitForURL(/\/work-orders\/\d+$/);
  orderPath = new URL(p.page.url()).pathname;
  await p.page.getByTestId('wo-status').getByText('待派单').waitFor();
  await assertAccessible(p.page, 'work order (owner)');
  assert.deepEqual(p.errors, []);
  owner = p;
});

test('the committee dispatches it on a PC', async () => {
  const s = await context('pc');
  await staffLogin(s.page, 'committee');
  const cid = await openCompound(s.page);
  await s.page.goto(`/c/${cid}/work-orders`);
  await s.page.getByText('全部工单').waitFor();
  await s.page.locator(`[data-testid^="wo-row-"]`).first().click();
  await s.page.getByTestId('wo-step').getByRole('button', { name: '派单给物业' }).click();
  await confirmStep(s.page, '派单', /不能撤回/);
  await s.page.getByTestId('wo-status').getByText('待接单').waitFor();
  await s.page.getByTestId('wo-due').waitFor();
  await screenshot(s.page, 'workorder-committee-dispatched');
  assert.deepEqual(s.errors, []);
  await s.context.close();
});

test('the property company accepts it and records the work', async () => {
  let s = await staffStep('clerk', '接单', '接单', /不能撤回/);
  await s.page.getByTestId('wo-status').getByText('处理中').waitFor();
  await s.context.close();
  s = await staffStep('clerk', '登记处理结果', '登记', /不能修改/, async (page) => {
    await page.getByLabel('处理情况').fill('已更换楼道灯泡，并检查了开关');
    await page.locator('#wo-done-photo').setInputFiles({ name: '换好了.png', mimeType: 'image/png', buffer: PNG });
    await page.getByText('已上传：换好了.png').waitFor();
  });
  await s.page.getByTestId('wo-status').getByText('待评价').waitFor();
  await s.context.close();
});

test('the owner rates the result', async () => {
  const p = owner;
  await p.page.goto(orderPath);
  const form = p.page.getByTestId('wo-step');
  await p.page.getByTestId('wo-history').getByText('已更换楼道灯泡，并检查了开关').waitFor();
  await form.getByText('满意', { exact: true }).click();
  await form.getByLabel('评价说明（选填）').fill('很及时');
  await form.getByRole('button', { name: '评价' }).click();
  await confirmStep(p.page, '提交', /不能修改/);
  await p.page.getByTestId('wo-status').getByText('待回访').waitFor();
  assert.deepEqual(p.errors, []);
  await p.context.close();
});

test('the party branch records the follow-up visit and closes it', async () => {
  const s = await staffStep('reviewer', '登记回访并办结', '办结', /不能重新打开/, async (page) => {
    await page.getByLabel('回访情况').fill('电话回访，业主对处理结果满意');
  });
  await s.page.getByTestId('wo-status').getByText('已回访办结').waitFor();
  const history = s.page.getByTestId('wo-history');
  for (const step of ['报事', '派单', '接单', '办结', '评单', '回访']) {
    await history.getByText(step, { exact: true }).first().waitFor();
  }
  await screenshot(s.page, 'workorder-reviewer-closed');
  await s.context.close();
});

test('another owner sees the anonymous counts, not the order', async () => {
  const p = await context('phone');
  await ownerLogin(p.page, backend, OTHER_OWNER);
  const cid = await openCompound(p.page);
  await p.page.goto(`/c/${cid}/work-orders`);
  const stats = p.page.getByTestId('wo-stats');
  await stats.getByTestId('wo-total').getByText('工单总数：1 件').waitFor();
  await stats.getByTestId('wo-satisfied').getByText('100%').waitFor();
  await p.page.getByText('暂无工单。').waitFor();
  assert.equal(await p.page.getByText('楼道灯不亮').count(), 0);
  await assertAccessible(p.page, 'work orders (other owner)');
  await p.page.goto(orderPath);
  await p.page.getByRole('alert').getByText('工单不存在').waitFor();
  assert.deepEqual(p.errors, []);
  await p.context.close();
});
