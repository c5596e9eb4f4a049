// The ballot lifecycle beyond the happy path: the committee (PC, 1366×768) deletes a draft and
// cancels a noticed ballot with a reason; an owner (phone, 390×844) sees it cancelled with that
// reason, gone from the upcoming ballots; and a noticed ballot opens by itself once its start has
// come, with no one pressing a button (the scheduler runs in the server, as in production).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { OWNER_PHONES, assertAccessible, openCompound, ownerLogin, screenshot, staffLogin, startBackend, startBrowser } from './harness.mjs';

const DAY = 86_400;
const PC = { width: 1366, height: 768 };
const DELETED = '待删除的表决草稿';
const CANCELLED = '更换小区门禁系统';
const REASON = '门禁改造方案需补充第二家供应商报价，重新公告';
const AUTO = '更新小区绿化和休闲座椅';

let backend;
let b; // the owner's phone
let staff; // the committee's PC
let compoundId;

/** "YYYY-MM-DDT00:00" for the day `days` after today in Beijing. */
function beijingInput(days) {
  const d = new Date(Date.now() + 8 * 3600_000 + days * DAY * 1000);
  return `${d.toISOString().slice(0, 10)}T00:00`;
}

before(async () => {
  backend = await startBackend({ env: { GONGJUE_SCHEDULE_WORKER: 'true', GONGJUE_SCHEDULE_POLL_SECONDS: '1' } });
  b = await startBrowser(backend.baseURL);
  const context = await b.browser.newContext({ baseURL: backend.baseURL, viewport: PC, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  context.setDefaultTimeout(Number(process.env.GONGJUE_E2E_TIMEOUT_MS) || 30_000);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  staff = { context, page, errors };
});

after(async () => {
  await b?.browser.close();
  await backend?.stop();
});

/** Draft a one-matter ballot voting `days` days from today (through the editor); returns its id. */
async function draft(page, title, days) {
  await page.goto(`/c/${compoundId}/manage/ballots/new`);
  await page.getByLabel('表决标题').fill(title);
  await page.getByLabel('投票开始（北京时间）').fill(beijingInput(days));
  await page.getByLabel('投票结束（北京时间）').fill(beijingInput(days + 7));
  const matter = page.getByTestId('edit-matter-1');
  await matter.getByLabel('事项标题').fill(title);
  await matter.getByLabel(/事项类别/).selectOption('9');
  await page.getByRole('button', { name: '保存草稿' }).click();
  await page.waitForURL(/\/manage\/ballots\/\d+$/);
  await page.getByTestId('admin-status').filter({ hasText: '草稿' }).waitFor();
  return Number(new URL(page.url()).pathname.split('/').pop());
}

async function publishNotice(page) {
  await page.getByRole('button', { name: '发布会议通知' }).click();
  await page.getByRole('dialog', { name: '发布会议通知' }).getByRole('button', { name: '发布' }).click();
  await page.getByTestId('admin-status').filter({ hasText: '已公告' }).waitFor();
}

test('the committee deletes a draft and cancels a noticed ballot, stating the reason (PC)', async () => {
  const { page } = staff;
  await staffLogin(page, 'committee');
  compoundId = await openCompound(page);

  await draft(page, DELETED, 16);
  const withdraw = page.getByTestId('ballot-withdraw');
  await withdraw.getByRole('button', { name: '删除草稿' }).click();
  const dialog = page.getByRole('dialog', { name: '删除草稿' });
  await dialog.getByText(/不能恢复/).waitFor();
  await dialog.getByRole('button', { name: '删除草稿' }).click();
  await page.waitForURL(new RegExp(`/c/${compoundId}/manage/ballots$`));
  await page.getByTestId('ballot-list').waitFor();
  assert.equal(await page.getByTestId('ballot-list').getByText(DELETED).count(), 0);

  await draft(page, CANCELLED, 16);
  await publishNotice(page);
  // A reason is required: it goes into the notice.
  await withdraw.getByRole('button', { name: '取消表决' }).click();
  await page.getByTestId('withdraw-error').filter({ hasText: '请填写理由' }).waitFor();
  await page.getByLabel('理由（必填，将写入公告）').fill(REASON);
  await screenshot(page, 'lifecycle-01-withdraw-1366', { at: withdraw });
  await withdraw.getByRole('button', { name: '取消表决' }).click();
  const confirm = page.getByRole('dialog', { name: '取消表决' });
  await confirm.getByText(`将发布取消公告（理由：${REASON}）。取消后不能恢复`).waitFor();
  await confirm.getByRole('button', { name: '取消表决' }).click();
  await page.getByTestId('admin-status').filter({ hasText: '已取消' }).waitFor();
  await page.getByTestId('cancelled-note').filter({ hasText: REASON }).waitFor();
  await page.getByRole('link', { name: '取消公告' }).click();
  await page.getByText(`取消理由：${REASON}`).waitFor();
  await screenshot(page, 'lifecycle-02-cancel-notice-1366');
  await assertAccessible(page, 'cancellation notice (PC)');
  assert.deepEqual(staff.errors, []);
});

test('an owner sees the ballot cancelled with its reason, no longer upcoming (phone)', async () => {
  assert.ok(compoundId, 'runs after the committee test');
  const { page } = b;
  await ownerLogin(page, backend, OWNER_PHONES[0]);
  await openCompound(page);
  await page.getByTestId('open-ballots').waitFor();
  assert.equal(await page.getByTestId('open-ballots').getByText(CANCELLED).count(), 0);
  const card = page.getByTestId('finished-ballots').getByRole('link', { name: new RegExp(CANCELLED) });
  await card.getByText(`已取消：${REASON}`).waitFor();
  await card.click();
  await page.getByTestId('ballot-status').filter({ hasText: '已取消' }).waitFor();
  await page.getByTestId('cancelled-note').filter({ hasText: `取消理由：${REASON}` }).waitFor();
  await screenshot(page, 'lifecycle-03-owner-cancelled');
  await assertAccessible(page, 'cancelled ballot (owner, phone)');
  assert.deepEqual(b.consoleErrors, []);
});

test('a noticed ballot opens by itself once its start has come', async () => {
  assert.ok(compoundId, 'runs after the committee test');
  const { page, context } = staff;
  const ballotId = await draft(page, AUTO, 16);
  await publishNotice(page);

  await backend.restart({ clockOffsetSeconds: 17 * DAY });
  await context.clearCookies(); // the session expired meanwhile
  await staffLogin(page, 'committee');
  await page.goto(`/c/${compoundId}/manage/ballots/${ballotId}`);
  await page.getByTestId('admin-status').filter({ hasText: '投票中' }).waitFor();
  assert.equal(await page.getByRole('button', { name: '开始投票' }).count(), 0);
  await screenshot(page, 'lifecycle-04-opened-by-itself-1366');
  // The audit trail names the scheduler, not a member.
  const res = await context.request.get(`/api/v1/compounds/${compoundId}/audit/events`, {
    params: { object_type: 'ballot', object_id: String(ballotId) },
  });
  assert.ok(res.ok(), await res.text());
  const opened = (await res.json()).items.filter((e) => e.action === 'ballot.opened');
  assert.equal(opened.length, 1);
  assert.match(opened[0].description, /由系统定时任务自动开始表决/);

  const owner = b.page;
  await b.context.clearCookies();
  await ownerLogin(owner, backend, OWNER_PHONES[1]);
  await openCompound(owner);
  await owner.getByTestId('open-ballots').getByRole('link', { name: new RegExp(AUTO) }).getByText('去投票').waitFor();
  await screenshot(owner, 'lifecycle-05-owner-open');
  assert.deepEqual(staff.errors, []);
  assert.deepEqual(b.consoleErrors, []);
});
