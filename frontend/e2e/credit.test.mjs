// (issue 16 item 5) 信用评价与红黑榜 (seeds 002, 003, 004): the committee records its property
// company on the phone (a wrong 统一社会信用代码 is refused with its reason); on a PC the street's
// supervisor computes 朝阳区's list for the last ended quarter, opens 阳光花园's basis, records a
// 负面清单 finding, sees its company on the black list and publishes (confirmed), then exports the
// list; the seeded appraisal's rectification item is past its deadline, so the committee's
// compound and ballots screens show the dismissal prompt: it proposes the dismissal, which lands in
// the procedure at its beginning (提议 recorded, 商议 next); an owner sees the company's place and
// the score's basis on the phone. Screens at 390×844 and 1366×768.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  OWNER_PHONES, PC, PHONE, REPO, assertAccessible, confirmStep, openCompound, openScreen, ownerLogin, screenshot, staffLogin, startBackend, startBrowser,
} from './harness.mjs';

process.env.GONGJUE_E2E_SEED ||= join(REPO, 'frontend', 'e2e', 'seed_credit.py');

const SUN_CODE = '91350100M000100Y43';

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

function context({ phone }) {
  return openScreen(b.browser, backend.baseURL, phone ? PHONE : PC);
}

test('company recorded → list published with it on the black list → the committee proposes the dismissal; owners see the place', async () => {
  // 1. The committee records the company serving 阳光花园 (phone).
  const wy = await context({ phone: true });
  await staffLogin(wy.page, 'committee');
  const sun = await openCompound(wy.page);
  await wy.page.getByTestId('entry-credit').click();
  await wy.page.waitForURL(`**/c/${sun}/credit`);
  await wy.page.getByTestId('company-none').waitFor();
  await wy.page.locator('#cc-name').fill('阳光物业服务有限公司');
  await wy.page.locator('#cc-code').fill(SUN_CODE.slice(0, 17) + '4');
  await wy.page.locator('#cc-start').fill('2024-01-01');
  await wy.page.locator('#cc-end').fill('2026-12-31');
  await wy.page.getByTestId('company-submit').click();
  await wy.page.getByRole('alert').filter({ hasText: '校验位' }).waitFor();
  await wy.page.locator('#cc-code').fill(SUN_CODE);
  await wy.page.getByTestId('company-submit').click();
  await wy.page.getByTestId('company-name').filter({ hasText: '阳光物业服务有限公司' }).waitFor();
  assert.match(await wy.page.getByTestId('credit-company').innerText(), /91350100M000100Y43/);
  assert.match(await wy.page.getByTestId('place-none').innerText(), /尚未列入/);
  await screenshot(wy.page, 'credit-company-phone');

  // 2. The supervisor computes the district's list on a PC, records a finding, publishes.
  const sv = await context({ phone: false });
  await staffLogin(sv.page, 'supervisor');
  await sv.page.getByTestId('work-supervision').click();
  await sv.page.waitForURL('**/oversight');
  await sv.page.getByTestId('to-credit-desk').click();
  await sv.page.waitForURL('**/oversight/credit');
  await sv.page.getByTestId('credit-compute').waitFor();
  assert.equal(await sv.page.locator('#cd-district').inputValue(), '朝阳区');
  const period = await sv.page.locator('#cd-period option:checked').innerText();
  assert.match(period, /^\d{4}年第[1-4]季度$/);
  await sv.page.getByTestId('credit-compute-button').click();
  const preview = sv.page.getByTestId('credit-preview');
  await preview.locator('tbody tr').nth(1).waitFor();
  assert.equal(await preview.locator('tbody tr').count(), 2);
  // Why 阳光花园 scores what it does: six criteria, the survey's 83.3%, no data said as such.
  await sv.page.getByTestId(`basis-toggle-${sun}`).click();
  const basis = sv.page.getByTestId(`basis-${sun}`);
  await basis.waitFor();
  assert.equal(await basis.locator('li.point').count(), 6);
  assert.match(await basis.getByTestId('point-satisfaction').innerText(), /满意度83\.3%/);
  assert.match(await basis.getByTestId('point-timeliness').innerText(), /无数据/);
  // A 负面清单 finding in the quarter; the list is computed again with it.
  const [y, q] = period.match(/\d+/g).map(Number);
  const inQuarter = `${y}-${String(3 * q - 1).padStart(2, '0')}-15`;
  await sv.page.getByTestId(`finding-toggle-${sun}`).click();
  await sv.page.locator(`#fd-date-${sun}`).fill(inQuarter);
  await sv.page.locator(`#fd-text-${sun}`).fill('擅自占用消防通道停放车辆');
  await sv.page.getByRole('button', { name: '登记', exact: true }).click();
  await sv.page.getByTestId(`basis-${sun}`).getByTestId('point-findings').filter({ hasText: '擅自占用消防通道' }).waitFor();
  const row = preview.getByTestId(`company-${SUN_CODE}`);
  assert.match(await row.innerText(), /阳光物业服务有限公司[\s\S]*黑榜[\s\S]*阳光花园/);
  const total = await sv.page.getByTestId(`basis-${sun}`).getByTestId('basis-total').innerText();
  assert.match(await row.innerText(), new RegExp(total.replace('.', '\\.')));
  assert.doesNotMatch(await preview.getByTestId('company-91110000802100433B').innerText(), /黑榜/);
  await screenshot(sv.page, 'credit-desk-pc');
  await assertAccessible(sv.page, 'credit desk');
  await sv.page.getByTestId('credit-publish-button').click();
  await confirmStep(sv.page, '发布', /不能撤回/);
  await sv.page.waitForURL(/\/oversight\/credit\/\d+$/);
  const entries = sv.page.getByTestId('list-entries');
  await entries.locator('tbody tr').first().waitFor();
  assert.match(await entries.innerText(), /阳光物业服务有限公司[\s\S]*黑榜/);
  const [download] = await Promise.all([
    sv.page.waitForEvent('download'),
    sv.page.getByTestId('credit-list-xlsx').click(),
  ]);
  assert.equal((await readFile(await download.path())).subarray(0, 2).toString(), 'PK');
  assert.match(download.suggestedFilename(), /红黑榜.*\.xlsx$/);
  await screenshot(sv.page, 'credit-list-pc');
  assert.deepEqual(sv.errors, []);
  await sv.context.close();

  // 3. The committee is prompted on its compound page and its ballots screen; it proposes.
  await wy.page.goto(`/c/${sun}`);
  const prompt = wy.page.getByTestId('dismissal-prompt');
  await prompt.waitFor();
  assert.match(await prompt.innerText(), /阳光物业服务有限公司列入朝阳区\d{4}年第[1-4]季度物业服务企业黑榜/);
  assert.match(await prompt.innerText(), /修复地下车库照明/);
  await screenshot(wy.page, 'credit-prompt-phone', { at: prompt });
  await wy.page.goto(`/c/${sun}/manage/ballots`);
  await wy.page.getByTestId('dismissal-prompt').waitFor();
  await wy.page.getByTestId('prompt-propose').click();
  const dialog = wy.page.getByRole('dialog');
  await dialog.waitFor();
  assert.equal(await dialog.locator('#dp-title-input').inputValue(), '解聘物业服务企业：阳光物业服务有限公司');
  assert.match(await dialog.locator('#dp-text-input').inputValue(), /第二百七十八条第一款第（四）项/);
  await screenshot(wy.page, 'credit-proposal-phone', { here: true });
  await dialog.getByRole('button', { name: '提交议题' }).click();
  await wy.page.waitForURL(/\/c\/\d+\/procedures\/\d+$/);
  await wy.page.getByText('当前步骤').waitFor();
  const facts = await wy.page.locator('dl.facts').innerText();
  assert.match(facts, /当前步骤\s*商议/);
  assert.match(facts, /业主委员会/);
  const itemId = Number(new URL(wy.page.url()).pathname.split('/').pop());
  await wy.page.goto(`/c/${sun}/procedures`);
  const item = wy.page.getByTestId('items').locator('li', { hasText: '解聘物业服务企业：阳光物业服务有限公司' });
  await item.waitFor();
  assert.match(await item.innerText(), /当前：商议/);
  await wy.page.goto(`/c/${sun}`);
  const drafted = wy.page.getByTestId('dismissal-drafted');
  await drafted.waitFor();
  assert.match(await drafted.innerText(), /当前步骤：商议/);
  assert.equal(await wy.page.getByTestId('dismissal-prompt').count(), 0);
  assert.equal(await drafted.getByRole('link').getAttribute('href'), `/c/${sun}/procedures/${itemId}`);
  await wy.page.goto(`/c/${sun}/credit`);
  await wy.page.getByTestId('place-tag').filter({ hasText: '黑榜' }).waitFor();
  await assertAccessible(wy.page, 'compound credit (committee, phone)');
  assert.deepEqual(wy.errors, []);
  await wy.context.close();

  // The committee's credit page on a PC.
  const pc = await context({ phone: false });
  await staffLogin(pc.page, 'committee');
  await pc.page.goto(`/c/${sun}/credit`);
  await pc.page.getByTestId('place-tag').waitFor();
  await screenshot(pc.page, 'credit-compound-pc');
  await pc.context.close();

  // 4. An owner sees the company's place and why on the phone; no prompt, no form.
  const owner = await context({ phone: true });
  await ownerLogin(owner.page, backend, OWNER_PHONES[0]);
  await openCompound(owner.page);
  await owner.page.getByTestId('entry-credit-owner').click();
  await owner.page.waitForURL(`**/c/${sun}/credit`);
  await owner.page.getByTestId('place-tag').filter({ hasText: '黑榜' }).waitFor();
  const place = await owner.page.getByTestId('credit-place').innerText();
  assert.match(place, /阳光物业服务有限公司：企业得分 [\d.]+ 分，排名第 2（共 2 家）/);
  assert.match(await owner.page.getByTestId('point-findings').innerText(), /擅自占用消防通道停放车辆/);
  assert.equal(await owner.page.getByTestId('dismissal-prompt').count(), 0);
  assert.equal(await owner.page.getByTestId('company-form').count(), 0);
  const text = await owner.page.locator('main').innerText();
  assert.doesNotMatch(text, /1[3-9]\d{9}/);
  await screenshot(owner.page, 'credit-owner-phone');
  await assertAccessible(owner.page, 'compound credit (owner, phone)');
  assert.deepEqual(owner.errors, []);
  await owner.context.close();
});
