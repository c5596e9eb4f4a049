// (e) The public-revenue ledger: the clerk records income with its vouchers, an owner is warned
// that the quarter ended without a statement, a committee member approves, closes and publishes
// the quarter, and the owner then reads the chart, the entries and their vouchers on a phone.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DEMO_PASSWORD,
  OWNER_PHONES,
  REPO,
  assertAccessible,
  confirmStep as confirmDialog,
  openCompound,
  screenshot,
  staffLogin,
  startBackend,
  startBrowser,
} from './harness.mjs';

// Until the lead regenerates the migrations, the ledger's tables come from the models.
const versions = join(REPO, 'migrations', 'versions');
const migrated = readdirSync(versions).some((f) => f.endsWith('.py') && readFileSync(join(versions, f), 'utf8').includes('ledger_entry'));
if (!migrated && !process.env.GONGJUE_E2E_SEED) process.env.GONGJUE_E2E_SEED = join(REPO, 'tests', 'ledger', 'e2e_seed.py');

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000'
  + '1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082', 'hex');
const PDF = Buffer.from('%PDF-1.4\n% 2026 年度公共收益专项审计报告\n');

let backend;
let b;
let compoundId;

before(async () => {
  backend = await startBackend();
  b = await startBrowser(backend.baseURL);
});

after(async () => {
  await b?.browser.close();
  await backend?.stop();
});

/** Another phone: a fresh context with the harness's phone settings. */
async function phone() {
  const context = await b.browser.newContext({
    baseURL: backend.baseURL,
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true,
    deviceScaleFactor: 2,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
  });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  return { context, page, errors };
}

/** The quarter before today's (Beijing time): its first and last day, YYYY-MM-DD. */
function previousQuarter() {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
  const [y, m] = today.split('-').map(Number);
  const startMonth = 3 * Math.floor((m - 1) / 3) + 1; // this quarter's first month
  const prevStart = startMonth === 1 ? [y - 1, 10] : [y, startMonth - 3];
  const end = new Date(Date.UTC(prevStart[0], prevStart[1] + 2, 0)); // last day of its third month
  const pad = (n) => String(n).padStart(2, '0');
  return {
    start: `${prevStart[0]}-${pad(prevStart[1])}-01`,
    end: `${end.getUTCFullYear()}-${pad(end.getUTCMonth() + 1)}-${pad(end.getUTCDate())}`,
  };
}
const quarter = previousQuarter();

/** A write through the API with the page's cookie session (CSRF header from its cookie). */
async function apiPost(context, path, options) {
  const csrf = (await context.cookies()).find((c) => c.name === 'gj_csrf').value;
  const res = await context.request.post(`/api/v1${path}`, { ...options, headers: { 'X-CSRF-Token': csrf } });
  assert.ok(res.ok(), `${path}: ${res.status()} ${await res.text()}`);
  return res.json();
}

/** Let the confirmation toast fade before a screenshot, so it does not cover the screen. */
const toastGone = (page) => page.waitForSelector('.gj-toast--shown', { state: 'detached' });

async function ownerLogin(page) {
  const number = OWNER_PHONES[0];
  await page.goto('/login');
  await page.getByLabel('手机号').fill(number);
  const seen = backend.codeCount();
  await page.getByRole('button', { name: '获取验证码' }).click();
  const code = await backend.otp(number, seen);
  await page.getByLabel('验证码').fill(code);
  await page.getByRole('button', { name: '登录', exact: true }).click();
  await page.waitForURL((url) => url.pathname === '/' || /^\/c\/\d+$/.test(url.pathname));
}

test('clerk records, committee approves and publishes, owner reads the chart and entries', async () => {
  // 1. The clerk records the quarter's parking income, gross with the deducted cost.
  const { page, context } = b;
  await staffLogin(page, 'clerk', DEMO_PASSWORD);
  compoundId = await openCompound(page);
  await page.getByText('公共收益收支', { exact: true }).click();
  await page.waitForURL(new RegExp(`/c/${compoundId}/ledger$`));
  await page.getByRole('heading', { name: '记账工作台' }).waitFor();
  await page.getByRole('link', { name: '记一笔收支' }).click();
  await page.waitForURL(/\/ledger\/new$/);
  await page.getByLabel('类别').selectOption('停车');
  await page.getByLabel('日期').fill(quarter.end);
  await page.getByLabel('收入总额（元）').fill('12,800.00');
  await page.getByLabel('扣除的成本（元，可不填）').fill('1,280.00');
  await page.getByLabel('成本说明').fill('物业代收停车费的管理成本（10%）');
  await page.locator('#cost-evidence-file').setInputFiles({ name: '管理成本明细.png', mimeType: 'image/png', buffer: PNG });
  await page.getByText('管理成本明细.png').waitFor();
  await page.getByLabel('对方').fill('阳光物业服务有限公司');
  await page.getByLabel('摘要').fill('本季度地面临时停车费');
  await page.locator('#voucher-file').setInputFiles({ name: '停车费收据.png', mimeType: 'image/png', buffer: PNG });
  await page.getByTestId('vouchers').getByText('停车费收据.png').waitFor();
  await screenshot(page, 'ledger-01-record-clerk');
  await assertAccessible(page, 'ledger: record an entry (clerk)');
  await page.getByRole('button', { name: '提交（待审核）' }).click();
  await page.waitForURL(/\/ledger\/entries\/\d+$/);
  await page.getByText('待审核', { exact: true }).first().waitFor();
  await page.getByText('12,800.00').first().waitFor();
  await toastGone(page);
  await screenshot(page, 'ledger-02-entry-pending');
  await assertAccessible(page, 'ledger: pending entry (clerk)');

  // Two more entries of the quarter through the API: advertising income and the audit fee.
  for (const body of [
    { direction: 'income', category: '广告', amount: '3,600.00', counterparty: '某某传媒有限公司', description: '电梯广告位租金' },
    { direction: 'expense', category: '审计费', amount: '2,000.00', counterparty: '某某会计师事务所', description: '公共收益专项审计费' },
  ]) {
    const file = await apiPost(context, `/compounds/${compoundId}/files`, {
      multipart: { purpose: 'voucher', file: { name: '凭证.png', mimeType: 'image/png', buffer: PNG } },
    });
    await apiPost(context, `/compounds/${compoundId}/ledger/entries`, {
      data: { ...body, entry_date: quarter.end, voucher_file_ids: [file.id] },
    });
  }

  // 2. An owner is warned: the quarter ended and nothing was published.
  const owner = await phone();
  await ownerLogin(owner.page);
  await openCompound(owner.page);
  const warning = owner.page.getByTestId('ledger-warning');
  await warning.waitFor();
  assert.match(await warning.textContent(), /尚未公示/);
  await screenshot(owner.page, 'ledger-03-warning-owner', { at: owner.page.getByTestId('ledger-card') });
  await assertAccessible(owner.page, 'compound with ledger warning (owner)');
  // Nothing unpublished is shown to owners.
  await owner.page.goto(`/c/${compoundId}/ledger`);
  await owner.page.getByText('还没有已公示的收支情况。').waitFor();

  // 3. A committee member approves the three entries, closes the quarter and publishes it.
  const committee = await phone();
  await staffLogin(committee.page, 'committee');
  await committee.page.goto(`/c/${compoundId}/ledger`);
  const pending = committee.page.getByTestId('pending-entries').locator('.entry-card');
  await pending.first().waitFor();
  assert.equal(await pending.count(), 3);
  await screenshot(committee.page, 'ledger-04-queue-committee', { at: committee.page.getByRole('heading', { name: '记账工作台' }) });
  for (let i = 0; i < 3; i += 1) {
    await committee.page.goto(`/c/${compoundId}/ledger`);
    await committee.page.getByTestId('pending-entries').locator('.entry-card').first().click();
    await committee.page.getByRole('button', { name: '审核通过' }).click();
    await confirmDialog(committee.page, '审核通过', /计入公共收益余额，不能撤销/);
    await committee.page.getByText('已审核', { exact: true }).first().waitFor();
  }
  await committee.page.goto(`/c/${compoundId}/ledger/periods/${quarter.start}`);
  await committee.page.getByRole('button', { name: '结账并生成报表' }).click();
  await confirmDialog(committee.page, '结账', /报表即固定.*不能撤销/);
  await committee.page.getByText('已结账待公示', { exact: true }).first().waitFor();
  await committee.page.locator('#audit-report-file').setInputFiles({ name: '公共收益专项审计报告.pdf', mimeType: 'application/pdf', buffer: PDF });
  await committee.page.getByText('已附：公共收益专项审计报告.pdf').waitFor();
  await committee.page.getByRole('button', { name: '公示本期收支' }).click();
  await toastGone(committee.page);
  await screenshot(committee.page, 'ledger-05-publish-confirm', { at: committee.page.getByRole('heading', { name: '结账与公示' }) });
  await assertAccessible(committee.page, 'ledger period before publishing (committee)');
  await confirmDialog(committee.page, '公示', /公示后不能撤回或修改/);
  await committee.page.getByText('已公示', { exact: true }).first().waitFor();
  const summary = await committee.page.getByTestId('statement-summary').textContent();
  assert.match(summary, /期末余额\s*13,120\.00/); // 12,800 − 1,280 + 3,600 − 2,000
  await committee.page.goto(`/c/${compoundId}/ledger`);
  await committee.page.getByTestId('category-chart').waitFor();
  await screenshot(committee.page, 'ledger-06-overview-committee');
  await assertAccessible(committee.page, 'ledger overview (committee)');

  // 4. The owner sees no warning any more, the chart, the entries and their vouchers.
  await owner.page.goto(`/c/${compoundId}`);
  await owner.page.getByTestId('ledger-card').getByText(/期末结余 13,120\.00 元/).waitFor();
  assert.equal(await owner.page.getByTestId('ledger-warning').count(), 0);
  await owner.page.getByText('公共收益收支', { exact: true }).click();
  await owner.page.waitForURL(new RegExp(`/c/${compoundId}/ledger$`));
  const chart = owner.page.getByTestId('category-chart');
  await chart.waitFor();
  const chartText = await chart.textContent();
  for (const expected of ['停车', '11,520.00', '广告', '3,600.00', '审计费', '2,000.00', '13,120.00']) {
    assert.ok(chartText.includes(expected), `chart shows ${expected}: ${chartText}`);
  }
  await screenshot(owner.page, 'ledger-07-chart-owner', { at: owner.page.getByRole('heading', { name: '收支情况' }) });
  await assertAccessible(owner.page, 'ledger chart (owner)');
  assert.equal(await owner.page.getByRole('heading', { name: '记账工作台' }).count(), 0);

  await owner.page.getByRole('link', { name: '查看本期明细和凭证' }).click();
  await owner.page.waitForURL(new RegExp(`/ledger/periods/${quarter.start}$`));
  const entries = owner.page.getByTestId('period-entries').locator('article');
  await entries.first().waitFor();
  assert.equal(await entries.count(), 3);
  await owner.page.getByText('本季度地面临时停车费').waitFor();
  await owner.page.getByRole('button', { name: /停车费收据\.png/ }).waitFor();
  await screenshot(owner.page, 'ledger-08-entries-owner', { at: owner.page.getByRole('heading', { name: /明细/ }) });
  await assertAccessible(owner.page, 'ledger entries (owner)');
  // The voucher opens for the owner now that the period is published.
  const period = await (await owner.context.request.get(`/api/v1/compounds/${compoundId}/ledger/periods/${quarter.start}`)).json();
  const voucher = period.entries.find((e) => e.description === '本季度地面临时停车费').vouchers[0];
  const file = await owner.context.request.get(voucher.url);
  assert.equal(file.status(), 200);
  assert.equal(file.headers()['content-type'], 'image/png');
  await screenshot(owner.page, 'ledger-09-period-owner');

  assert.deepEqual([...b.consoleErrors, ...owner.errors, ...committee.errors], []);
  await owner.context.close();
  await committee.context.close();
});

test('a CSV with a bad amount is refused row by row; a good one is reviewed draft by draft', async () => {
  const { page } = await phone();
  await staffLogin(page, 'committee2');
  await page.goto(`/c/${compoundId}/ledger/imports`);
  await page.getByRole('heading', { name: '导入银行或物业流水（CSV）' }).waitFor();
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
  const header = '日期,收支,类别,金额（元）,对方,摘要\n';
  const csv = (name, text) => ({ name, mimeType: 'text/csv', buffer: Buffer.from(text, 'utf8') });

  await page.locator('#ledger-csv').setInputFiles(csv('流水-错误.csv',
    `${header}${today},收入,充电桩,"1,200.00",某某充电运营公司,充电桩场地费\n${today},收入,快递柜,88.888,某某快递柜公司,快递柜场地费\n`));
  await page.getByRole('button', { name: '上传并检查' }).click();
  const report = page.getByRole('alert').filter({ hasText: '未导入任何数据' });
  await report.waitFor();
  assert.match(await report.textContent(), /第3行[\s\S]*最多两位小数/);
  await screenshot(page, 'ledger-10-import-errors');
  await assertAccessible(page, 'ledger import with errors (committee)');

  await page.locator('#ledger-csv').setInputFiles(csv('流水.csv',
    `${header}${today},收入,充电桩,"1,200.00",某某充电运营公司,充电桩场地费\n${today},收入,快递柜,88.80,某某快递柜公司,快递柜场地费\n`));
  await page.getByRole('button', { name: '上传并检查' }).click();
  const rows = page.getByTestId('import-rows').locator('li.row');
  await rows.first().waitFor();
  assert.equal(await rows.count(), 2);
  await rows.nth(0).getByRole('button', { name: '接受' }).click();
  await rows.nth(0).getByText('已接受').waitFor();
  await rows.nth(1).getByRole('button', { name: '舍弃' }).click();
  await page.getByLabel('舍弃原因（如：重复、非公共收益）').fill('与银行回单重复');
  await rows.nth(1).getByRole('button', { name: '确认舍弃' }).click();
  await confirmDialog(page, '舍弃', /不能再改为入账/);
  await rows.nth(1).getByText('已舍弃').waitFor();
  await toastGone(page);
  await screenshot(page, 'ledger-11-import-reviewed', { at: page.getByTestId('import-rows') });
  await assertAccessible(page, 'ledger import reviewed (committee)');
  // The accepted row is now a pending entry, recorded by the reviewer: someone else approves it.
  await rows.nth(0).getByRole('link', { name: '查看账目' }).click();
  await page.getByText('这笔账是您记的，须由另一位业委会委员审核。').waitFor();
  assert.equal(await page.getByRole('button', { name: '审核通过' }).count(), 0);
  await page.context().close();
});
