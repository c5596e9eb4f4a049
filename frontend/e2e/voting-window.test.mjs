// After the vote: an owner checks their recorded vote (查票) and raises an objection in the
// objection window; the committee answers it, is told the result cannot be published before the
// window ends, and closes and tallies a ballot whose voting period is over.
// Seeded by e2e/seed_past_ballots.py (the demo plus two ballots in the past).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { OWNER_PHONES, assertAccessible, confirmStep, openCompound, ownerLogin, screenshot, staffLogin, startBackend, startBrowser } from './harness.mjs';

const TALLIED = '2026年第三次业主大会';
const ENDED = '2026年第四次业主大会';

let backend;
let b;
let compoundId;
let ownerCookies; // the owner's session, restored later (a second code within a minute is refused)

before(async () => {
  process.env.GONGJUE_E2E_SEED ||= join(import.meta.dirname, 'seed_past_ballots.py');
  backend = await startBackend();
  b = await startBrowser(backend.baseURL);
});

after(async () => {
  await b?.browser.close();
  await backend?.stop();
});

test('owner checks the recorded vote and raises an objection during the objection window', async () => {
  const { page } = b;
  await ownerLogin(page, backend, OWNER_PHONES[0]);
  ownerCookies = await b.context.cookies();
  compoundId = await openCompound(page);
  const card = page.getByTestId('finished-ballots').getByRole('link', { name: new RegExp(TALLIED) });
  await card.getByText(/询异期至/).waitFor();
  await card.click();
  await page.getByRole('heading', { name: '表决结果（初步）' }).waitFor();
  await page.getByTestId('result-1').getByTestId('verdict').waitFor();
  await page.getByTestId('result-2').getByTestId('verdict').filter({ hasText: '意见征集结果' }).waitFor();

  const check = page.getByTestId('my-votes');
  await check.getByText('同意', { exact: true }).waitFor();
  await check.getByText('反对', { exact: true }).waitFor();
  await page.getByLabel('异议内容').fill('本户第2项记录为反对，请核实是否与我提交的一致。');
  await page.getByRole('button', { name: '提交异议' }).click();
  await page.getByText('等待业主委员会答复。').waitFor();
  await screenshot(page, '42-ballot-objection', { at: page.getByRole('heading', { name: '查票：本户的投票记录' }) });
  await assertAccessible(page, 'objection window (owner)');
  assert.deepEqual(b.consoleErrors, []);
});

test('committee answers the objection, cannot publish early, and tallies an ended ballot', async () => {
  const { page, context } = b;
  await context.clearCookies();
  await staffLogin(page, 'committee');
  await page.goto(`/c/${compoundId}/manage/ballots`);
  await page.getByTestId('ballot-list').getByRole('link', { name: new RegExp(TALLIED) }).click();
  await page.getByTestId('admin-status').filter({ hasText: '已计票' }).waitFor();
  await page.getByRole('tab', { name: '异议' }).click();
  const objection = page.getByTestId('objections').locator('.record').first();
  await objection.getByText('待答复').waitFor();
  await objection.getByLabel('答复内容').fill('经核对审计记录，本户第2项记录为反对，与提交一致。');
  await objection.getByRole('button', { name: '发送答复' }).click();
  await confirmStep(page, '发送答复', /不能撤回或修改/);
  await objection.getByText('已答复').waitFor();
  await screenshot(page, '43-admin-objections', { at: page.getByRole('tab', { name: '异议' }) });
  await assertAccessible(page, 'objections (committee)');

  await page.getByRole('button', { name: '发布决议公告' }).click();
  await page.getByRole('dialog', { name: '发布决议公告' }).getByRole('button', { name: '发布' }).click();
  await page.getByTestId('action-error').filter({ hasText: /询异期至.*结束后方可公告决议/ }).waitFor();

  await page.goto(`/c/${compoundId}/manage/ballots`);
  await page.getByTestId('ballot-list').getByRole('link', { name: new RegExp(ENDED) }).click();
  await page.getByTestId('admin-status').filter({ hasText: '投票期已结束' }).waitFor();
  await page.getByTestId('next-step').getByRole('button', { name: '结束并计票' }).click();
  await page.getByRole('dialog', { name: '结束并计票' }).getByRole('button', { name: '结束并计票' }).click();
  await page.getByTestId('admin-status').filter({ hasText: '已计票' }).waitFor();
  await page.getByRole('tab', { name: '计票结果' }).waitFor();
  await page.getByTestId('result-1').getByTestId('verdict').waitFor();
  await page.getByTestId('result-2').getByTestId('verdict').filter({ hasText: /选出\d名|无人当选/ }).waitFor();
  await page.getByTestId('result-2').getByText('钱文博', { exact: true }).waitFor();
  await page.getByRole('link', { name: '初步结果公告' }).waitFor();
  await page.waitForTimeout(2800); // the success toast fades
  await screenshot(page, '44-admin-tallied');
  await screenshot(page, '45-election-result', { at: page.getByTestId('result-2') });
  await assertAccessible(page, 'tallied ballot (committee)');

  // The owner now reads the committee's answer.
  await context.clearCookies();
  await context.addCookies(ownerCookies);
  await page.goto(`/c/${compoundId}`);
  await page.getByTestId('finished-ballots').getByRole('link', { name: new RegExp(TALLIED) }).click();
  await page.getByText(/业委会答复/).waitFor();
  await page.getByText('经核对审计记录').waitFor();
  assert.deepEqual(b.consoleErrors, []);
});
