// Issue 14 item 8: on a 1366×768 PC the committee's screens take the width and list records in
// tables (search, filters, sorting by column, a count, a print view); choosing a flat for a
// proxy is a searchable picker. On a 390×844 phone the same screens keep their cards and never
// scroll sideways; an owner's screens stay the phone column on a PC too.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  confirmStep,
  CHROMIUM,
  OWNER_PHONES,
  assertAccessible,
  openCompound,
  ownerLogin,
  screenshot,
  staffLogin,
  startBackend,
  startBrowser,
} from './harness.mjs';

const OPEN_BALLOT = '2026年第二次业主大会';
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');

let backend;
let phone; // the harness's phone context
let pc; // a 1366×768 desktop context in the same browser
let compoundId;
let ballotId;

before(async () => {
  backend = await startBackend();
  phone = await startBrowser(backend.baseURL);
  const context = await phone.browser.newContext({
    baseURL: backend.baseURL,
    viewport: { width: 1366, height: 768 },
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
  });
  context.setDefaultTimeout(Number(process.env.GONGJUE_E2E_TIMEOUT_MS) || 30_000);
  const page = await context.newPage();
  const consoleErrors = [];
  page.on('pageerror', (err) => consoleErrors.push(String(err)));
  pc = { context, page, consoleErrors };
  assert.ok(CHROMIUM);
});

after(async () => {
  await phone?.browser.close();
  await backend?.stop();
});

const api = (ctx, path) => ctx.request.get(`/api/v1/compounds/${compoundId}${path}`).then((r) => r.json());
const noSideways = (page) => page.evaluate(() => document.scrollingElement.scrollWidth);
const count = (table) => table.locator('.dt-count').textContent();

test('PC: the roster is a table with search, building filter, sorting by area and a count', async () => {
  const { page } = pc;
  await staffLogin(page, 'committee');
  compoundId = await openCompound(page);
  await page.goto(`/c/${compoundId}/roster`);
  const table = page.getByTestId('roster-units');
  await table.locator('table tbody tr').first().waitFor();
  // The desk layout: a wide page, not the 640 px phone column.
  assert.equal(await page.locator('.app-frame.desk').count(), 1);
  const width = await page.locator('.page').evaluate((el) => el.getBoundingClientRect().width);
  assert.ok(width > 1100, `page width ${width}`);

  const all = await api(pc.context, '/units?limit=1');
  assert.match(await count(table), new RegExp(`共 ${all.total} 套，第 1 / ${Math.ceil(all.total / 50)} 页`));
  assert.equal(await table.locator('tbody tr').count(), 50);
  await screenshot(page, 'desk-01-roster-1366');
  await assertAccessible(page, 'roster table (1366)');

  // Search as people type a flat.
  await table.getByLabel('房号').fill('3-201');
  await table.getByLabel('房号').press('Enter');
  const found = await api(pc.context, `/units?q=${encodeURIComponent('3-201')}`);
  assert.ok(found.total >= 1);
  await table.locator('.dt-count', { hasText: `共 ${found.total} 套` }).waitFor();
  const labels = await table.locator('tbody tr td:first-child').allTextContents();
  assert.equal(labels.length, found.total);
  for (const label of labels) assert.match(label.trim(), /^3栋(\d+单元)?201$/);
  // Each row leads to the unit's page.
  const href = await table.locator('tbody tr td:first-child a').first().getAttribute('href');
  assert.match(href, new RegExp(`^/c/${compoundId}/units/\\d+$`));
  await table.getByLabel('房号').fill('');
  await table.getByLabel('房号').press('Enter');

  // Filter by building: the count is the server's, the rows all in that building.
  await table.getByLabel('楼栋').selectOption('2栋');
  const b2 = await api(pc.context, `/units?building=${encodeURIComponent('2栋')}&limit=1`);
  await table.locator('.dt-count', { hasText: `共 ${b2.total} 套` }).waitFor();
  for (const label of await table.locator('tbody tr td:first-child').allTextContents()) assert.match(label.trim(), /^2栋/);
  // The entrances of that building are offered.
  assert.deepEqual(
    await table.getByLabel('单元').locator('option').allTextContents(),
    ['全部单元', ...b2.entrances.map((e) => `${e}单元`)],
  );

  // Sort by area, smallest first, then largest first.
  const areaHeader = table.getByRole('columnheader', { name: /^面积（㎡）/ });
  await areaHeader.getByRole('button').click();
  const smallest = (await api(pc.context, `/units?building=${encodeURIComponent('2栋')}&sort=area&limit=1`)).items[0];
  await table.locator('tbody tr').first().locator('td').nth(1).getByText(smallest.area, { exact: true }).waitFor();
  assert.equal(await areaHeader.getAttribute('aria-sort'), 'ascending');
  await areaHeader.getByRole('button').click();
  const largest = (await api(pc.context, `/units?building=${encodeURIComponent('2栋')}&sort=-area&limit=1`)).items[0];
  await table.locator('tbody tr').first().locator('td').nth(1).getByText(largest.area, { exact: true }).waitFor();
  assert.equal(await areaHeader.getAttribute('aria-sort'), 'descending');
  assert.notEqual(smallest.area, largest.area);
  await screenshot(page, 'desk-02-roster-filtered-1366');
  assert.deepEqual(pc.consoleErrors, []);
});

test('PC: non-voters filter by building and entrance, and print every one of them', async () => {
  const { page } = pc;
  const ballots = await api(pc.context, '/ballots');
  ballotId = ballots.find((x) => x.title === OPEN_BALLOT).id;
  await page.goto(`/c/${compoundId}/manage/ballots/${ballotId}`);
  await page.getByRole('tab', { name: '未投票户' }).click();
  const table = page.getByTestId('non-voter-table');
  await table.locator('table tbody tr').first().waitFor();
  const everyone = await api(pc.context, `/ballots/${ballotId}/non-voters?limit=1`);
  assert.match(await count(table), new RegExp(`共 ${everyone.total} 户未投票`));

  await table.getByLabel('楼栋').selectOption('3栋');
  const b3 = await api(pc.context, `/ballots/${ballotId}/non-voters?building=${encodeURIComponent('3栋')}&limit=500`);
  assert.ok(b3.total > 0 && b3.total < everyone.total);
  await table.locator('.dt-count', { hasText: `共 ${b3.total} 户未投票` }).waitFor();
  for (const label of await table.locator('tbody tr td:first-child').allTextContents()) assert.match(label, /3栋/);
  await table.getByLabel('单元').selectOption('2');
  const e2 = await api(pc.context, `/ballots/${ballotId}/non-voters?building=${encodeURIComponent('3栋')}&entrance=2&limit=500`);
  await table.locator('.dt-count', { hasText: `共 ${e2.total} 户未投票` }).waitFor();
  // A subject with flats in several places is listed under each of them.
  for (const label of await table.locator('tbody tr td:first-child').allTextContents()) assert.match(label, /3栋2单元/);
  await table.getByLabel('单元').selectOption('');
  await table.locator('.dt-count', { hasText: `共 ${b3.total} 户未投票` }).waitFor();
  await screenshot(page, 'desk-03-non-voters-1366');
  await assertAccessible(page, 'non-voters table (1366)');

  // Print: every non-voter of the building (not just one page), without bars or buttons.
  await page.evaluate(() => {
    window.__printed = 0;
    window.print = () => (window.__printed += 1);
  });
  await table.getByRole('button', { name: '打印' }).click();
  await page.waitForFunction(() => window.__printed === 1);
  const printed = page.getByTestId('non-voter-table-print');
  assert.equal(await printed.locator('tbody tr').count(), b3.total);
  assert.match(await printed.locator('h2').textContent(), new RegExp(`「${OPEN_BALLOT}」未投票户 · 3栋`));
  assert.deepEqual(
    await printed.locator('tbody tr td:first-child').allTextContents(),
    b3.items.map((s) => s.label),
  );
  await page.emulateMedia({ media: 'print' });
  try {
    assert.equal(await printed.isVisible(), true);
    assert.equal(await page.locator('.van-nav-bar').isVisible(), false);
    assert.equal(await table.getByRole('button', { name: '打印' }).isVisible(), false);
    assert.equal(await table.locator('.dt-screen').isVisible(), false);
    await screenshot(page, 'desk-04-non-voters-print', { here: true });
  } finally {
    await page.emulateMedia({ media: 'screen' });
  }
  await page.evaluate(() => window.dispatchEvent(new Event('afterprint')));
  assert.equal(await printed.isVisible(), false);
  assert.deepEqual(pc.consoleErrors, []);
});

test('PC: a proxy\'s flat is found by typing "3-201" or "3号楼201" and picked with the keyboard', async () => {
  const { page } = pc;
  await page.getByRole('tab', { name: '委托' }).click();
  const panel = page.getByTestId('proxies');
  const box = panel.getByRole('combobox', { name: '委托人（房屋）' });
  await box.fill('3号楼201');
  const options = panel.getByRole('listbox').getByRole('option');
  await options.first().waitFor();
  const texts = await options.allTextContents();
  assert.ok(texts.length >= 1 && texts.length <= 4, texts.join(' | '));
  for (const t of texts) assert.match(t, /3栋\d单元201/);
  await box.fill('3-20');
  await options.first().waitFor();
  for (const t of await options.allTextContents()) assert.match(t, /3栋\d单元20/);
  // A flat that has not voted, typed as building-entrance-room, picked with the arrows and Enter.
  const waiting = await api(pc.context, `/ballots/${ballotId}/non-voters?building=${encodeURIComponent('4栋')}&limit=500`);
  const wanted = waiting.items.map((s) => s.label).find((l) => /^4栋\d单元\d+$/.test(l));
  const [, bld, ent, room] = wanted.match(/^(\d+)栋(\d+)单元(\d+)$/);
  await box.fill(`${bld}-${ent}-${room}`);
  await panel.getByRole('listbox').getByRole('option', { name: wanted }).waitFor();
  assert.equal((await options.first().locator('.fp-label').textContent()).trim(), wanted);
  await box.press('ArrowDown');
  await box.press('ArrowUp');
  await box.press('Enter');
  await panel.getByTestId('flat-picked').getByText(wanted, { exact: true }).waitFor();
  assert.equal(await box.inputValue(), wanted);
  await screenshot(page, 'desk-05-proxy-picker-1366', { at: page.getByRole('tab', { name: '委托' }) });

  await panel.getByLabel('受托人姓名').fill('钱受托');
  await panel.getByLabel('受托人手机号').fill('13900000021');
  await panel.locator('#proxy-file').setInputFiles({ name: '委托书.pdf', mimeType: 'application/pdf', buffer: PDF });
  await panel.getByText('已上传：委托书.pdf').waitFor();
  await panel.getByRole('button', { name: '登记委托' }).click();
  const row = panel.getByTestId('proxy-table').locator('tbody tr', { hasText: wanted });
  await row.getByText('待审核').waitFor();
  // The proxies table filters by state and accepts in the row.
  await panel.getByTestId('proxy-table').getByLabel('状态').selectOption('pending');
  await row.getByRole('button', { name: '接受委托' }).click();
  await confirmStep(page, '接受委托', /受托人即可代该户投票.*不能撤销/);
  await panel.getByTestId('proxy-table').locator('.dt-count', { hasText: '共 0 份委托' }).waitFor();
  await panel.getByTestId('proxy-table').getByLabel('状态').selectOption('accepted');
  await row.getByText('已接受').waitFor();
  await screenshot(page, 'desk-06-proxies-1366', { at: page.getByRole('tab', { name: '委托' }) });
  await assertAccessible(page, 'proxies (1366)');
  assert.deepEqual(pc.consoleErrors, []);
});

test('PC: ledger entries of a period are a table; an owner\'s screens stay the phone column', async () => {
  const { page, context } = pc;
  // Three entries of today, through the API (with their vouchers).
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
  const csrf = (await context.cookies()).find((c) => c.name === 'gj_csrf').value;
  const post = async (path, options) => {
    const res = await context.request.post(`/api/v1/compounds/${compoundId}${path}`, { ...options, headers: { 'X-CSRF-Token': csrf } });
    assert.ok(res.ok(), `${path}: ${res.status()} ${await res.text()}`);
    return res.json();
  };
  for (const body of [
    { direction: 'income', category: '停车', amount: '1,200.00', counterparty: '某某停车管理公司', description: '地面停车位收益' },
    { direction: 'income', category: '广告', amount: '3,600.00', counterparty: '某某传媒有限公司', description: '电梯广告位租金' },
    { direction: 'expense', category: '审计费', amount: '2,000.00', counterparty: '某某会计师事务所', description: '公共收益专项审计费' },
  ]) {
    const file = await post('/files', { multipart: { purpose: 'voucher', file: { name: '凭证.pdf', mimeType: 'application/pdf', buffer: PDF } } });
    await post('/ledger/entries', { data: { ...body, entry_date: today, voucher_file_ids: [file.id] } });
  }
  const periods = await api(context, '/ledger/periods');
  let withEntries = null;
  for (const p of periods) {
    const full = await api(context, `/ledger/periods/${p.start_date}`);
    if (full.entries && full.entries.length) withEntries = full;
  }
  assert.ok(withEntries, 'the demo has a period with entries');
  await page.goto(`/c/${compoundId}/ledger/periods/${withEntries.start_date}`);
  const entries = page.getByTestId('period-entries');
  await entries.locator('table tbody tr').first().waitFor();
  assert.match(await count(entries), new RegExp(`共 ${withEntries.entries.length} 笔`));
  const amountHeader = entries.getByRole('columnheader', { name: /金额/ });
  await amountHeader.getByRole('button').click();
  assert.equal(await amountHeader.getAttribute('aria-sort'), 'ascending');
  await entries.locator('tbody tr').first().getByText('−2,000.00').waitFor();
  await entries.getByLabel('类别').selectOption('广告');
  await entries.locator('.dt-count', { hasText: '共 1 笔' }).waitFor();
  await entries.locator('tbody tr').first().getByText('电梯广告位租金').waitFor();
  await screenshot(page, 'desk-07-ledger-period-1366');
  await assertAccessible(page, 'ledger period (1366)');

  // An owner on the same PC: the phone column, cards, no tables.
  await context.clearCookies();
  await ownerLogin(page, backend, OWNER_PHONES[0]);
  await page.goto(`/c/${compoundId}`);
  await page.locator('.page').first().waitFor();
  assert.equal(await page.locator('.app-frame.desk').count(), 0);
  const width = await page.locator('.page').first().evaluate((el) => el.getBoundingClientRect().width);
  assert.ok(width <= 640, `owner page width ${width}`);
  await page.goto(`/c/${compoundId}/ledger`);
  await page.locator('.page').first().waitFor();
  assert.equal(await page.locator('.app-frame.desk').count(), 0);
  assert.deepEqual(pc.consoleErrors, []);
});

test('phone: the same screens keep their cards and never scroll sideways', async () => {
  const { page } = phone;
  await staffLogin(page, 'committee');
  await page.goto(`/c/${compoundId}/roster`);
  const table = page.getByTestId('roster-units');
  await table.locator('.dt-cards .unit').first().waitFor();
  assert.equal(await page.locator('.app-frame.desk').count(), 0);
  assert.equal(await table.locator('table').count(), 0);
  assert.equal(await table.locator('.dt-cards > li').count(), 20);
  const all = await api(phone.context, '/units?limit=1');
  assert.match(await count(table), new RegExp(`共 ${all.total} 套，第 1 / ${Math.ceil(all.total / 20)} 页`));
  assert.ok((await noSideways(page)) <= 390);
  await screenshot(page, 'desk-11-roster-390', { at: page.locator('#units-title') });
  await table.getByLabel('房号').fill('3-201');
  await table.getByLabel('房号').press('Enter');
  await table.locator('.dt-count', { hasText: /共 [12] 套/ }).waitFor();
  assert.ok((await noSideways(page)) <= 390);

  await page.goto(`/c/${compoundId}/manage/ballots/${ballotId}`);
  await page.getByRole('tab', { name: '未投票户' }).click();
  const nv = page.getByTestId('non-voter-table');
  await nv.locator('.dt-cards .nv-card').first().waitFor();
  assert.equal(await nv.locator('table').count(), 0);
  await nv.getByLabel('楼栋').selectOption('3栋');
  const b3 = await api(phone.context, `/ballots/${ballotId}/non-voters?building=${encodeURIComponent('3栋')}&limit=1`);
  await nv.locator('.dt-count', { hasText: `共 ${b3.total} 户未投票` }).waitFor();
  assert.ok((await noSideways(page)) <= 390);
  await screenshot(page, 'desk-12-non-voters-390', { at: page.getByRole('tab', { name: '未投票户' }) });

  // The flat picker by tapping.
  await page.getByRole('tab', { name: '委托' }).click();
  const panel = page.getByTestId('proxies');
  await panel.locator('.dt-cards .record').first().waitFor();
  assert.equal(await panel.locator('table').count(), 0);
  const box = panel.getByRole('combobox', { name: '委托人（房屋）' });
  await box.fill('4-30');
  const option = panel.getByRole('listbox').getByRole('option').first();
  await option.waitFor();
  assert.ok((await noSideways(page)) <= 390);
  await screenshot(page, 'desk-13-proxy-picker-390', { here: true });
  const wanted = (await option.locator('.fp-label').textContent()).trim();
  assert.match(wanted, /^4栋\d单元30/);
  await option.tap();
  await panel.getByTestId('flat-picked').getByText(wanted, { exact: true }).waitFor();
  assert.equal(await option.isVisible(), false);
  await assertAccessible(page, 'proxy picker (390)');
  assert.deepEqual(phone.consoleErrors, []);
});
