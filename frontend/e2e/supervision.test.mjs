// (issue 16) 属地监管 (seeds 002, 004): the platform administrator grants a street supervisor
// (街道/社区监管) two of three compounds on a PC (1366×768); the supervisor opens the
// supervision screen from the home page, sees exactly those two, 阳光花园 flagged red below 90%
// satisfaction (seeded survey: 83.3%) and with an overdue ledger statement (seeded: started two
// quarters back, nothing published), sorts by satisfaction and downloads the XLSX.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO, assertAccessible, screenshot, staffLogin, startBackend, startBrowser } from './harness.mjs';

process.env.GONGJUE_E2E_SEED ||= join(REPO, 'frontend', 'e2e', 'seed_supervision.py');

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

async function pc() {
  const ctx = await b.browser.newContext({
    baseURL: backend.baseURL, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', acceptDownloads: true,
    viewport: { width: 1366, height: 768 },
  });
  ctx.setDefaultTimeout(30_000);
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  return { ctx, page, errors };
}

test('the administrator grants a supervisor two compounds; the supervisor sees them flagged, sorts, exports', async () => {
  const admin = await pc();
  await staffLogin(admin.page, 'admin');
  const compounds = await (await admin.page.request.get('/api/v1/compounds')).json();
  const idOf = (name) => compounds.find((c) => c.name === name).id;
  for (const name of ['阳光花园', '绿园小区']) {
    await admin.page.goto(`/c/${idOf(name)}/grants`);
    await admin.page.locator('#grant-account').selectOption({ label: '和平街道监管员 周明（supervisor）' });
    await admin.page.locator('#grant-role').selectOption('supervisor');
    await admin.page.locator('#grant-org').fill('和平街道办事处');
    await admin.page.getByRole('button', { name: '授予角色' }).click();
    await admin.page.locator('[data-testid="grant-table"] tr[data-username="supervisor"]').waitFor();
    assert.match(await admin.page.locator('[data-testid="grant-table"] tr[data-username="supervisor"]').innerText(), /街道\/社区监管/);
  }
  // The administrator reaches the same screen from the home page, over every compound.
  await admin.page.goto('/');
  await admin.page.getByTestId('work-supervision').click();
  await admin.page.waitForURL('**/oversight');
  await admin.page.getByTestId('supervision-table').locator('tbody tr').first().waitFor();
  assert.equal(await admin.page.getByTestId('supervision-table').locator('tbody tr').count(), 3);
  assert.deepEqual(admin.errors, []);
  await admin.ctx.close();

  const sup = await pc();
  await staffLogin(sup.page, 'supervisor');
  await sup.page.getByTestId('work-supervision').click();
  await sup.page.waitForURL('**/oversight');
  const table = sup.page.getByTestId('supervision-table');
  await table.locator('tbody tr').first().waitFor();
  const names = await table.locator('tbody tr td:first-child').allInnerTexts();
  assert.deepEqual([...names].sort(), ['绿园小区', '阳光花园'].sort());

  const sun = idOf('阳光花园');
  const sat = sup.page.getByTestId(`sat-${sun}`);
  assert.match(await sat.innerText(), /83\.3%（低于90%）/);
  assert.equal(await sat.evaluate((el) => el.classList.contains('flag')), true);
  assert.equal(await sat.evaluate((el) => getComputedStyle(el).color), 'rgb(179, 38, 30)');
  const stmt = sup.page.getByTestId(`stmt-${sun}`);
  assert.match(await stmt.innerText(), /逾期 \d 个季度/);
  assert.equal(await stmt.evaluate((el) => el.classList.contains('flag')), true);
  // 绿园小区 has no ledger and no survey yet.
  assert.match(await sup.page.getByTestId(`stmt-${idOf('绿园小区')}`).innerText(), /台账未启用/);

  // The chart: one bar per compound, the 90% line, 阳光花园's bar red.
  const chart = sup.page.getByTestId('supervision-chart');
  assert.match(await chart.locator('svg').getAttribute('aria-label'), /阳光花园 83\.3%/);
  assert.equal(await chart.locator('rect.bar.low').count(), 1);
  assert.match(await chart.locator('text.standard-label').textContent(), /90%达标线/);

  // Sorting by satisfaction: ascending puts the compound without a survey first, then 阳光花园.
  await table.getByRole('button', { name: /满意度/ }).click();
  let order = await table.locator('tbody tr td:first-child').allInnerTexts();
  const first = order[0];
  await table.getByRole('button', { name: /满意度/ }).click();
  order = await table.locator('tbody tr td:first-child').allInnerTexts();
  assert.notEqual(order[0], first);
  assert.equal(order[0], '阳光花园');
  await screenshot(sup.page, 'supervision-pc');
  await assertAccessible(sup.page, 'supervision');

  const [download] = await Promise.all([
    sup.page.waitForEvent('download'),
    sup.page.getByTestId('supervision-xlsx').click(),
  ]);
  const bytes = await readFile(await download.path());
  assert.equal(bytes.subarray(0, 2).toString(), 'PK');
  assert.match(download.suggestedFilename(), /\.xlsx$/);
  assert.deepEqual(sup.errors, []);
  await sup.ctx.close();
});
