// Issue 14, items 3 and 4: the compound's settings on screens, with the legal floor explained and
// laxer values refused by the server (Art. 278); irreversible steps behind a confirmation that
// names the consequence; the per-unit voting record where the compound's rules publish it.
//
// Phone (390×844): the committee reaches 本小区设置 from its home, raises a threshold, is refused a
// laxer one with the Art. 278 message, is refused a 14-day ledger display, starts the ledger and
// closes its first period through a confirmation (cancelled once: nothing happens).
// PC (1366×768): the committee counts parking spaces as area (totals recomputed and audited); an
// owner and the committee read the per-unit record of a published ballot, without names.
//
// Seeded by e2e/seed_unit_record.py (the demo plus a ballot published under rules that publish
// the per-unit record).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  OWNER_PHONES, PHONE, assertAccessible, confirmStep, openCompound, openScreen, ownerLogin, screenshot, staffLogin, startBackend, startBrowser,
} from './harness.mjs';

process.env.GONGJUE_E2E_SEED ||= join(import.meta.dirname, 'seed_unit_record.py');

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

const toastGone = (page) => page.waitForSelector('.gj-toast--shown', { state: 'detached' }).catch(() => {});

/** The quarter before today's (Beijing time): its first day, YYYY-MM-DD. */
function previousQuarterStart() {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
  const [y, m] = today.split('-').map(Number);
  const startMonth = 3 * Math.floor((m - 1) / 3) + 1;
  const [py, pm] = startMonth === 1 ? [y - 1, 10] : [y, startMonth - 3];
  return `${py}-${String(pm).padStart(2, '0')}-01`;
}

async function api(context, path) {
  const res = await context.request.get(`/api/v1${path}`);
  assert.equal(res.status(), 200, `${path}: ${res.status()}`);
  return res.json();
}

async function events(context, action) {
  // Newest first (below any sequence number), so a long demo history does not hide them.
  const page = await api(context, `/compounds/${compoundId}/audit/events?before_seq=2000000000&limit=500`);
  return page.items.filter((e) => e.action === action);
}

test('phone: stricter threshold kept, laxer refused citing Art. 278, ledger period closed after a confirmation', async () => {
  const { page, context } = b;
  await staffLogin(page, 'committee');
  compoundId = await openCompound(page);
  await page.getByText('本小区设置', { exact: true }).click();
  await page.waitForURL(new RegExp(`/c/${compoundId}/settings$`));
  const hub = page.getByTestId('settings-hub');
  await hub.getByText(/参与表决 ≥2\/3；一般事项同意 >1\/2/).waitFor();
  await hub.getByText(/不计入（默认）/).waitFor();
  await screenshot(page, 'settings-01-hub-390');
  await assertAccessible(page, 'settings hub (phone)');

  // Voting rules: every field says its meaning and its floor.
  const changedBefore = (await events(context, 'voting.settings_changed')).length;
  await hub.getByText('表决规则', { exact: true }).click();
  await page.waitForURL(/\/manage\/voting-settings$/);
  const form = page.getByTestId('voting-settings');
  await form.getByText(/底线：《民法典》第二百七十八条第二款规定均不低于三分之二/).waitFor();
  await form.getByText(/底线：《物业管理条例》第十四条规定至少提前15日/).waitFor();
  await page.getByLabel('一般事项同意比例').fill('>=2/3');
  await page.getByRole('button', { name: '保存表决规则' }).click();
  await page.getByText('已保存；此后发布会议通知的表决适用新规则').waitFor();
  assert.equal((await api(context, `/compounds/${compoundId}/voting/settings`)).thresholds.simple_majority, '>=2/3');
  const changed = await events(context, 'voting.settings_changed');
  assert.equal(changed.length, changedBefore + 1);
  assert.equal(changed[0].payload.after.thresholds.simple_majority, '>=2/3');

  // A laxer special majority is refused by the server, citing Art. 278; nothing changes.
  await toastGone(page);
  await page.getByLabel('第（六）至（八）项同意比例').fill('>2/3');
  await page.getByRole('button', { name: '保存表决规则' }).click();
  const refusal = form.getByRole('alert');
  await refusal.waitFor();
  const refusalText = await refusal.textContent();
  assert.match(refusalText, /不得低于《中华人民共和国民法典》第二百七十八条第二款规定的四分之三以上/);
  assert.match(refusalText, /已拒绝/);
  await screenshot(page, 'settings-02-voting-refused-390', { at: refusal });
  await assertAccessible(page, 'voting settings refused (phone)');
  assert.equal((await api(context, `/compounds/${compoundId}/voting/settings`)).thresholds.special_majority, '>=3/4');
  assert.equal((await events(context, 'voting.settings_changed')).length, changedBefore + 1);

  // Ledger settings: a display under 15 days is refused; the ledger starts last quarter.
  const start = previousQuarterStart();
  await page.goto(`/c/${compoundId}/settings`);
  await page.getByTestId('hub-ledger').click();
  await page.waitForURL(/\/ledger\/settings$/);
  await page.getByText(/底线：每期报表公示不少于15日/).waitFor();
  await page.getByLabel('账簿起始日期').fill(start);
  await page.getByLabel('公示期（天）').fill('14');
  await page.getByRole('button', { name: '保存公共收益设置' }).click();
  await page.getByRole('alert').filter({ hasText: '公示期不得少于15日' }).waitFor();
  await page.getByLabel('公示期（天）').fill('20');
  await page.getByRole('button', { name: '保存公共收益设置' }).click();
  await page.getByText('公共收益设置已保存').waitFor();
  const ledger = await api(context, `/compounds/${compoundId}/ledger/settings`);
  assert.equal(ledger.display_days, 20);
  assert.equal(ledger.starts_on, start);
  await toastGone(page);
  await screenshot(page, 'settings-03-ledger-390');
  await assertAccessible(page, 'ledger settings (phone)');

  // Closing the (empty) first period asks first and names the consequence; cancelling does nothing.
  await page.goto(`/c/${compoundId}/ledger/periods/${start}`);
  await page.getByRole('button', { name: '结账并生成报表' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  assert.match(await dialog.textContent(), /结账后本期报表即固定（期末余额 0\.00 元），不能撤销，也不能再记入本期/);
  await screenshot(page, 'settings-04-close-confirm-390', { here: true });
  await dialog.getByRole('button', { name: '取消' }).click();
  await dialog.waitFor({ state: 'hidden' });
  assert.equal((await api(context, `/compounds/${compoundId}/ledger/periods/${start}`)).status, 'ended');
  assert.equal((await events(context, 'ledger.period_closed')).length, 0);
  await page.getByRole('button', { name: '结账并生成报表' }).click();
  await confirmStep(page, '结账', /不能撤销/);
  await page.getByText('已结账待公示', { exact: true }).first().waitFor();
  assert.equal((await api(context, `/compounds/${compoundId}/ledger/periods/${start}`)).status, 'closed');
  assert.equal((await events(context, 'ledger.period_closed')).length, 1);
  assert.deepEqual(b.consoleErrors, []);
});

test('PC: parking spaces carry area (audited); the per-unit record is read by the committee and an owner', async () => {
  const context = await b.browser.newContext({
    baseURL: backend.baseURL, viewport: { width: 1366, height: 768 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai',
  });
  context.setDefaultTimeout(Number(process.env.GONGJUE_E2E_TIMEOUT_MS) || 30_000);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  await staffLogin(page, 'committee');
  compoundId = await openCompound(page);
  await page.getByText('本小区设置', { exact: true }).click();
  await page.getByTestId('hub-parking').click();
  await page.waitForURL(/\/roster\/settings$/);
  const before = await api(context, `/compounds/${compoundId}/roster/settings`);
  assert.equal(before.parking_counts_as_area, false);
  assert.ok(before.parking_unit_count > 0);
  await page.getByTestId('parking-area').getByText(`${before.total_area} ㎡`).waitFor();
  await page.getByRole('radio', { name: /计入：车位、车库的面积计入/ }).check();
  await page.getByRole('button', { name: '保存' }).click();
  await page.getByTestId('parking-current').getByText('计入', { exact: true }).waitFor();
  const after = await api(context, `/compounds/${compoundId}/roster/settings`);
  assert.equal(after.parking_counts_as_area, true);
  assert.ok(after.total_area_hundredths > before.total_area_hundredths);
  const [event] = await events(context, 'roster.parking_setting_changed');
  assert.deepEqual(event.payload.before, { subject_count: before.subject_count, total_area_hundredths: before.total_area_hundredths });
  assert.deepEqual(event.payload.after, { subject_count: after.subject_count, total_area_hundredths: after.total_area_hundredths });
  await toastGone(page);
  await screenshot(page, 'settings-05-parking-1366');
  await assertAccessible(page, 'parking setting (PC)');

  // The hub lists the published per-unit record; the committee reads it as a table.
  await page.goto(`/c/${compoundId}/settings`);
  const records = page.getByTestId('hub-unit-records');
  await records.getByText('2026年第五次业主大会').click();
  await page.waitForURL(/\/ballots\/\d+\/unit-record$/);
  const table = page.getByTestId('unit-record-table');
  await table.waitFor();
  const header = await table.locator('thead').textContent();
  assert.match(header, /房屋[\s\S]*表决方式[\s\S]*更换小区门禁系统/);
  const counts = await page.getByTestId('record-counts').textContent();
  assert.match(counts, /共 \d+ 户（表决主体），已表决 \d+ 户/);
  await screenshot(page, 'settings-06-unit-record-1366');
  await assertAccessible(page, 'per-unit record (PC)');
  // No names or phones in the record.
  const text = await table.textContent();
  assert.doesNotMatch(text, /王建国|李秀英|1[3-9]\d{9}/);
  await page.getByLabel('按楼栋房号查找').fill('1栋1单元301');
  assert.equal(await table.locator('tbody tr').count(), 1);
  assert.match(await table.locator('tbody tr').textContent(), /线上投票[\s\S]*同意/);
  assert.deepEqual(errors, []);
  await context.close();

  // An owner reaches it from the ballot's page, on a phone.
  const { context: owner, page: phone } = await openScreen(b.browser, backend.baseURL, PHONE);
  await ownerLogin(phone, backend, OWNER_PHONES[0]);
  const ballots = await api(owner, `/compounds/${compoundId}/ballots`);
  const published = ballots.find((x) => x.title === '2026年第五次业主大会');
  await phone.goto(`/c/${compoundId}/ballots/${published.id}`);
  await phone.getByTestId('unit-record-link').click();
  await phone.waitForURL(/\/unit-record$/);
  await phone.getByLabel('按楼栋房号查找').fill('1栋1单元301');
  const mine = phone.getByTestId('unit-record-table').locator('tbody tr');
  await mine.first().waitFor();
  assert.equal(await mine.count(), 1);
  await screenshot(phone, 'settings-07-unit-record-owner-390');
  await assertAccessible(phone, 'per-unit record (owner phone)');
  await owner.close();
});
