// (issue 16) Quarterly reports and the annual appraisal (述职评议, seed 002 三(二)3): the property
// company (clerk) files a quarterly report on a PC and the community party organization
// (reviewer) acknowledges it; the committee and the company file their accounts, the reviewer
// and the committee enter scores, a rectification item is set and the result is published
// (the owners' part is this year's published satisfaction survey, seeded: 5 of 6 satisfied);
// the company reports the item done with evidence; an owner reads the result and the item's
// progress on a phone.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PC, PHONE, REPO, assertAccessible, confirmStep, openCompound, openScreen, ownerLogin, screenshot, staffLogin, startBackend, startBrowser,
} from './harness.mjs';
import { join } from 'node:path';

process.env.GONGJUE_E2E_SEED ||= join(REPO, 'frontend', 'e2e', 'seed_appraisal.py');

let backend;
let b;
let compoundId;
const YEAR = new Date().getFullYear();

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

async function asStaff(username) {
  const s = await context('pc');
  await staffLogin(s.page, username);
  compoundId = await openCompound(s.page);
  return s;
}

test('the clerk files a quarterly report and the reviewer acknowledges it', async () => {
  const clerk = await asStaff('clerk');
  await clerk.page.goto(`/c/${compoundId}/appraisals`);
  const form = clerk.page.getByTestId('report-form');
  await form.getByLabel('报告内容').fill('本季度完成电梯年检，处理报修126件，公共收益已公示。');
  await form.getByRole('button', { name: '提交报告' }).click();
  await clerk.page.getByText('本季度完成电梯年检').waitFor();
  await screenshot(clerk.page, 'appraisal-quarterly-clerk');
  assert.deepEqual(clerk.errors, []);
  await clerk.context.close();

  const reviewer = await asStaff('reviewer');
  await reviewer.page.goto(`/c/${compoundId}/appraisals`);
  const row = reviewer.page.locator('tr', { hasText: '本季度完成电梯年检' });
  await row.getByText('已报告待签收').waitFor();
  await row.getByPlaceholder('签收意见').fill('收悉，报修处置情况请按月公示。');
  await row.getByRole('button', { name: '签收' }).click();
  await confirmStep(reviewer.page, '签收', /不能修改或撤回/);
  await row.getByText('已签收').waitFor();
  await row.getByText('收悉，报修处置情况请按月公示。').waitFor();
  await assertAccessible(reviewer.page, 'quarterly reports (reviewer, PC)');
  assert.deepEqual(reviewer.errors, []);
  await reviewer.context.close();
});

async function fillScores(page, name, values, kind = null) {
  const form = page.getByTestId('score-form');
  if (kind) await form.getByLabel('评议方').selectOption(kind);
  await form.getByLabel('评议人').fill(name);
  const inputs = form.locator('input[type="number"]');
  for (let i = 0; i < values.length; i += 1) await inputs.nth(i).fill(String(values[i]));
  await form.getByRole('button', { name: '保存评分' }).click();
  await page.locator('[data-testid="score-table"] td', { hasText: name }).waitFor();
}

test('accounts are filed, the appraisal entered and published', async () => {
  const committee = await asStaff('committee');
  await committee.page.goto(`/c/${compoundId}/appraisals/${YEAR}`);
  await committee.page.getByText('本年度述职评议尚未开始').waitFor();
  await committee.page.getByTestId('account-form').getByLabel('述职报告').fill('业委会本年度召开业主大会两次，监督公共收益公示。');
  await committee.page.getByRole('button', { name: '提交述职报告' }).click();
  await committee.page.getByTestId('accounts').getByText('业委会本年度召开业主大会两次').waitFor();
  await fillScores(committee.page, '业委会', [80, 80, 80, 80, 80], 'committee');
  await fillScores(committee.page, '业主代表甲', [70, 70, 70, 70, 70], 'owner_rep');
  await committee.context.close();

  const clerk = await asStaff('clerk');
  await clerk.page.goto(`/c/${compoundId}/appraisals/${YEAR}`);
  await clerk.page.getByTestId('account-form').getByLabel('述职报告').fill('物业全年履行服务合同情况述职。');
  await clerk.page.getByRole('button', { name: '提交述职报告' }).click();
  await clerk.page.getByTestId('accounts').getByText('物业全年履行服务合同情况述职。').waitFor();
  assert.equal(await clerk.page.getByTestId('score-form').count(), 0); // the company does not appraise
  await clerk.context.close();

  const reviewer = await asStaff('reviewer');
  await reviewer.page.goto(`/c/${compoundId}/appraisals/${YEAR}`);
  await fillScores(reviewer.page, '社区党委', [90, 90, 90, 90, 90]);
  await reviewer.page.getByLabel('整改事项').fill('地下车库照明修复');
  await reviewer.page.getByLabel('整改期限').fill(`${YEAR + 1}-01-31`);
  await reviewer.page.getByRole('button', { name: '添加整改事项' }).click();
  await reviewer.page.getByTestId('rectification-1').waitFor();
  // By hand: 0.4×90 + 0.2×80 + 0.1×70 + 0.3×83.3 (5 of 6 flats satisfied) = 36 + 16 + 7 + 24.99 = 83.99 → 84.0.
  const score = reviewer.page.getByTestId('appraisal-score');
  await score.getByText('84.0').waitFor();
  assert.match(await score.textContent(), /合格/);
  assert.match(await reviewer.page.getByTestId('weights').textContent(), /业主满意度调查30%83\.3/);
  await screenshot(reviewer.page, 'appraisal-reviewer-before-publish');
  await reviewer.page.getByRole('button', { name: '公布评议结果' }).click();
  await confirmStep(reviewer.page, '公布', /不能修改或撤回/);
  await reviewer.page.getByTestId('appraisal-status').getByText('已公布').waitFor();
  await assertAccessible(reviewer.page, 'appraisal (reviewer, PC)');
  assert.deepEqual(reviewer.errors, []);
  await reviewer.context.close();

  const clerk2 = await asStaff('clerk');
  await clerk2.page.goto(`/c/${compoundId}/appraisals/${YEAR}`);
  const item = clerk2.page.getByTestId('rectification-1');
  await item.getByLabel('整改情况').fill('已更换车库灯具32盏。');
  await item.locator('input[type="file"]').setInputFiles({
    name: '整改照片.png', mimeType: 'image/png',
    buffer: Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex'),
  });
  await item.getByText('已上传：整改照片.png').waitFor();
  await item.getByRole('button', { name: '报告整改完成' }).click();
  await item.getByText('已整改待确认').waitFor();
  assert.deepEqual(clerk2.errors, []);
  await clerk2.context.close();
});

test('an owner reads the result and a rectification item on a phone', async () => {
  const owner = await context('phone');
  await ownerLogin(owner.page, backend, '13800000002');
  await owner.page.goto(`/c/${compoundId}/appraisals`);
  await owner.page.getByTestId(`appraisal-${YEAR}`).click();
  await owner.page.waitForURL(new RegExp(`/appraisals/${YEAR}$`));
  await owner.page.getByTestId('appraisal-score').getByText('84.0').waitFor();
  const item = owner.page.getByTestId('rectification-1');
  await item.getByText('地下车库照明修复').waitFor();
  await item.getByText('已整改待确认').waitFor();
  await item.getByText('已更换车库灯具32盏。').waitFor();
  // Owners see no appraiser's sheet and no filing forms.
  assert.equal(await owner.page.getByTestId('score-form').count(), 0);
  assert.equal(await owner.page.getByTestId('score-table').count(), 0);
  await screenshot(owner.page, 'appraisal-owner-phone');
  await assertAccessible(owner.page, 'appraisal result (owner, phone)');
  assert.deepEqual(owner.errors, []);
  await owner.context.close();
});
