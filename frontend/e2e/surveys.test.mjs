// (issue 16) The annual property service satisfaction survey (seed 002, 红色物业 创建标准 四（三）):
// the committee creates it from the template on a PC and opens it; six owners answer on their
// phones (one changes the answer); the committee sees only the count, closes and publishes; an
// owner reads the per-item results with the 90% line and the charts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PHONE, assertAccessible, openCompound, openScreen, ownerLogin, screenshot, staffLogin, startBackend, startBrowser,
} from './harness.mjs';

// Demo owners who answer for a flat (sole owner, or the co-owners' representative).
const ANSWERING_PHONES = ['13800000001', '13800000002', '13800000004', '13800000006', '13800000008', '13800000010'];
const ITEMS = 8; // the template's items (app/surveys/rules.py)

let backend;
let b;
let pc;
let compoundId;
let surveyPath;
let reader; // one owner's phone, kept signed in to read the results (codes are rate-limited)

before(async () => {
  backend = await startBackend();
  b = await startBrowser(backend.baseURL);
  const context = await b.browser.newContext({
    baseURL: backend.baseURL, viewport: { width: 1366, height: 768 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai',
  });
  context.setDefaultTimeout(30_000);
  pc = { context, page: await context.newPage(), errors: [] };
  pc.page.on('pageerror', (err) => pc.errors.push(String(err)));
});

after(async () => {
  await pc?.context.close();
  await b?.browser.close();
  await backend?.stop();
});

function phone() {
  return openScreen(b.browser, backend.baseURL, PHONE);
}

async function confirmStep(page, button, ok) {
  await page.getByRole('button', { name: button }).click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  await dialog.getByRole('button', { name: ok }).click();
  await dialog.waitFor({ state: 'hidden' });
}

/** Pick the value on every item (3 满意, 2 基本满意, 1 不满意); `first` for item 1 if given. */
async function answerAll(page, value, first = value) {
  for (let n = 1; n <= ITEMS; n += 1) {
    await page.locator(`[data-testid="question-${n}"] label.v${n === 1 ? first : value}`).click();
  }
}

test('the committee creates the annual satisfaction survey from the template and opens it', async () => {
  const { page } = pc;
  await staffLogin(page, 'committee');
  compoundId = await openCompound(page);
  await page.getByText('满意度调查', { exact: true }).click();
  await page.waitForURL(/\/surveys$/);
  const form = page.getByTestId('survey-new');
  await form.getByText('四（三）').waitFor();
  await screenshot(page, 'survey-committee-new');
  await form.getByRole('button', { name: '创建问卷' }).click();
  await page.waitForURL(/\/surveys\/\d+$/);
  surveyPath = new URL(page.url()).pathname;
  await page.getByText(/年度物业服务满意度调查/).first().waitFor();
  assert.equal((await page.getByTestId('survey-status').textContent()).trim(), '未开启');
  await confirmStep(page, '开启问卷', '开启');
  await page.getByTestId('survey-status').getByText('作答中').waitFor();
  await assertAccessible(page, 'survey (committee)');
});

test('six owners answer on their phones; one changes the answer before the close', async () => {
  for (const [n, number] of ANSWERING_PHONES.entries()) {
    const p = await phone();
    await ownerLogin(p.page, backend, number);
    await openCompound(p.page);
    const list = p.page.getByTestId('survey-list');
    await list.getByText(/年度物业服务满意度调查/).click();
    await p.page.waitForURL(/\/surveys\/\d+$/);
    const form = p.page.getByTestId('answer-form');
    await form.waitFor();
    if (n === 0) {
      // First everything 不满意, then changed to 满意: the change replaces the answer.
      await answerAll(p.page, 1);
      await form.getByRole('button', { name: '提交答卷' }).click();
      await p.page.getByText('已收到您的答卷，谢谢参与').waitFor();
      await form.getByText('您已作答，截止前可以修改').waitFor();
      await answerAll(p.page, 3);
      await form.getByLabel('意见建议（选填）').fill('希望电梯维修更及时');
      await screenshot(p.page, 'survey-owner-answer', { at: p.page.getByTestId('question-1') });
      await assertAccessible(p.page, 'survey answer form (owner)');
      await form.getByRole('button', { name: '修改答卷' }).click();
      await p.page.getByText('已修改您的答卷').waitFor();
    } else if (n === ANSWERING_PHONES.length - 1) {
      await answerAll(p.page, 2, 1); // item 1 不满意, the others 基本满意
      await form.getByRole('button', { name: '提交答卷' }).click();
      await p.page.getByText('已收到您的答卷，谢谢参与').waitFor();
    } else {
      await answerAll(p.page, 3);
      await form.getByRole('button', { name: '提交答卷' }).click();
      await p.page.getByText('已收到您的答卷，谢谢参与').waitFor();
    }
    assert.deepEqual(p.errors, []);
    if (n === 2) reader = p;
    else await p.context.close();
  }
});

test('the committee sees the count, not the answers, then closes and publishes', async () => {
  const { page } = pc;
  await page.goto(surveyPath);
  await page.getByTestId('response-count').getByText('已收答卷：6 份').waitFor();
  assert.equal(await page.getByText('希望电梯维修更及时').count(), 0);
  assert.equal(await page.getByRole('link', { name: '查看结果' }).count(), 0);
  await screenshot(page, 'survey-committee-open');
  await confirmStep(page, '结束问卷', '结束');
  await page.getByTestId('survey-status').getByText('已结束').waitFor();
  await confirmStep(page, '公布结果', '公布');
  await page.getByTestId('survey-status').getByText('已公布结果').waitFor();
  assert.deepEqual(pc.errors, []);
});

test('an owner reads the per-item results with the 90% line and the charts', async () => {
  const p = reader;
  await p.page.goto(`/c/${compoundId}`);
  await p.page.getByTestId('survey-list').getByText('查看结果').click();
  await p.page.waitForURL(/\/surveys\/\d+\/results$/);
  // Item 1: 满意 ×5, 不满意 ×1 → 5/6 = 83.3%; the other seven: all satisfied → 100%.
  // Overall: (5 + 7 × 6) / (8 × 6) = 47/48 = 97.9%.
  await p.page.getByTestId('overall-rate').getByText('97.9%').waitFor();
  await p.page.getByText('符合“红色物业”小区创建标准').waitFor();
  const items = p.page.getByTestId('item-results');
  await items.getByText('83.3%', { exact: true }).waitFor();
  assert.equal(await items.getByText('100.0%', { exact: true }).count(), ITEMS - 1);
  assert.match(await p.page.getByTestId('rate-definition').textContent(), /“满意”答复数 \+ “基本满意”答复数/);
  const chart = p.page.getByTestId('item-rates-chart');
  await chart.locator('text', { hasText: '90%达标线' }).waitFor();
  assert.equal(await chart.locator('rect.bar.low').count(), 1);
  const series = p.page.getByTestId('year-series-chart');
  await series.locator('text', { hasText: '97.9%' }).waitFor();
  await p.page.getByTestId('comments').getByText('希望电梯维修更及时').waitFor();
  // Nothing names a flat.
  assert.equal(await p.page.getByText(/\d+栋\d+单元/).count(), 0);
  await screenshot(p.page, 'survey-owner-results');
  await assertAccessible(p.page, 'survey results (owner)');
  assert.deepEqual(p.errors, []);
  await p.context.close();
});
