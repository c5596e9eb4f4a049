// Major matters (三议一审两公开), walked through the screens of every role on the demo compound:
// the committee adopts the default procedure and proposes 续聘物业; the joint meeting is recorded;
// the community party reviewer RETURNS it for revision (queue across compounds), the committee
// resubmits (both versions kept), the reviewer approves; the committee links the resolution to
// the demo's ALREADY PUBLISHED ballot "2026年第一次业主大会" (its notice predates the adoption, so
// the link is allowed and marked — the server's clock is real and a new ballot would need a
// 15-day notice period), records the result, and publishes both publications, which closes the
// item. The observer records an observation and verifies the audit export offline; an owner reads
// the public timeline.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  OWNER_PHONES,
  PYTHON,
  REPO,
  assertAccessible,
  confirmStep,
  openCompound,
  screenshot,
  staffLogin,
  startBackend,
  startBrowser,
} from './harness.mjs';

// The demo on a database that may predate the procedure migrations (creates missing tables only).
process.env.GONGJUE_E2E_SEED ||= 'app/procedures/e2e_seed.py';

const run = promisify(execFile);
const TITLE = '续聘阳光物业服务有限公司为本小区物业服务企业（三年）';
const pdf = (name) => ({ name, mimeType: 'application/pdf', buffer: Buffer.from(`%PDF-1.4\n% ${name}\n`, 'utf8') });

let backend;
let b;
let compoundId;
let itemId;

before(async () => {
  backend = await startBackend();
  b = await startBrowser(backend.baseURL);
});

after(async () => {
  await b?.browser.close();
  await backend?.stop();
});

async function loginAs(username) {
  await b.context.clearCookies();
  await staffLogin(b.page, username);
}

async function openItem() {
  await b.page.goto(`/c/${compoundId}/procedures/${itemId}`);
  await b.page.getByRole('heading', { name: TITLE, level: 1 }).waitFor();
}

// Screenshots without a success toast over the content.
async function shot(name, options) {
  await b.page.locator('.gj-toast--shown').waitFor({ state: 'detached', timeout: 5000 }).catch(() => {});
  await screenshot(b.page, name, options);
}

const currentStep = () => b.page.locator('.facts div').filter({ hasText: '当前步骤' }).locator('dd');

test('committee adopts the procedure and proposes a major matter', async () => {
  const { page } = b;
  await staffLogin(page, 'committee');
  compoundId = await openCompound(page);
  await page.getByText('重大事项议事程序', { exact: true }).click();
  await page.waitForURL(new RegExp(`/c/${compoundId}/procedures$`));
  await page.getByText('本小区尚未采用重大事项议事程序').waitFor();
  await page.getByRole('button', { name: '程序设置与观察员' }).click();
  await page.waitForURL(/\/procedures\/settings$/);
  await page.getByRole('radio', { name: /三议一审两公开（社区党组织前置审核）/ }).check();
  await page.getByRole('button', { name: '采用所选程序' }).click();
  await page.getByRole('status').filter({ hasText: '已采用所选程序' }).waitFor();
  await shot('procedures-01-settings');
  await assertAccessible(page, 'procedure settings');

  await page.getByRole('button', { name: '返回' }).click();
  await page.getByText('本小区采用').waitFor();
  await page.getByRole('button', { name: '发起议题' }).click();
  await page.waitForURL(/\/procedures\/new$/);
  await page.getByLabel('议题标题').fill(TITLE);
  await page.getByLabel('事项类型').selectOption('property_manager');
  assert.equal(await page.getByLabel('业主大会表决类别（民法典第二百七十八条）').inputValue(), '4');
  await page.getByRole('radio', { name: '业主委员会' }).check();
  await page.getByLabel('方案内容').fill('现物业服务合同将于2026年6月30日到期。拟续聘阳光物业服务有限公司，服务期三年，服务标准与收费标准不变。');
  await page.locator('#proposal-docs').setInputFiles(pdf('续聘方案.pdf'));
  await page.getByText('续聘方案.pdf').waitFor();
  await shot('procedures-02-propose');
  await assertAccessible(page, 'propose');
  await page.getByRole('button', { name: '提交议题' }).click();
  await page.waitForURL(/\/procedures\/\d+$/);
  itemId = Number(new URL(page.url()).pathname.split('/').pop());
  await page.getByRole('heading', { name: TITLE, level: 1 }).waitFor();
  assert.match(await currentStep().textContent(), /商议/);

  // The joint meeting (商议), recorded by the committee with its minutes.
  await page.locator('#minutes').setInputFiles(pdf('联席会议纪要.pdf'));
  await page.getByText('联席会议纪要.pdf').waitFor();
  await page.getByLabel('会议结论').fill('联席会议一致同意提交社区党组织审核。');
  await shot('procedures-03-meeting');
  await assertAccessible(page, 'meeting step');
  await page.getByRole('button', { name: '提交商议意见' }).click();
  await confirmStep(page, '提交意见', /议题进入下一步.*不能撤回或修改/);
  await page.getByRole('status').filter({ hasText: '已提交' }).waitFor();
  await page.waitForFunction(() => /审核/.test(document.querySelector('.facts')?.textContent || ''));
  assert.match(await currentStep().textContent(), /审核/);
});

test('the reviewer returns it from the queue; the committee resubmits; both versions are kept', async () => {
  const { page } = b;
  await loginAs('reviewer');
  await openCompound(page);
  await page.getByText('审核工作台', { exact: true }).click();
  await page.waitForURL(/\/review$/);
  const row = page.locator('.queue-item').filter({ hasText: TITLE });
  await row.getByText('待审核人办理').waitFor();
  await row.getByText('续聘方案.pdf').waitFor();
  await shot('procedures-04-review-queue');
  await assertAccessible(page, 'review queue');
  await row.getByRole('link', { name: /办理/ }).click();
  await page.getByRole('heading', { name: TITLE, level: 1 }).waitFor();
  await page.getByLabel('批复意见').fill('请补充业主满意度测评结果和续聘合同主要条款后重新提交。');
  await page.getByRole('radio', { name: '退回修改' }).check();
  await shot('procedures-05-review', { at: page.getByRole('heading', { name: /审核：/ }) });
  await assertAccessible(page, 'review step');
  await page.getByRole('button', { name: '提交审核意见' }).click();
  await confirmStep(page, '提交意见', /退回发起方.*不能撤回或修改/);
  await page.getByText('已退回修改', { exact: true }).first().waitFor();

  await loginAs('committee');
  await openItem();
  await page.getByText('请补充业主满意度测评结果').first().waitFor();
  await page.getByLabel('方案内容').fill('现物业服务合同将于2026年6月30日到期。2026年满意度测评满意率86%。拟续聘阳光物业服务有限公司，服务期三年，合同主要条款见附件。');
  await page.getByLabel('修改说明').fill('补充满意度测评结果和合同主要条款');
  await page.locator('#revision-docs').setInputFiles(pdf('续聘合同主要条款.pdf'));
  await page.getByText('续聘合同主要条款.pdf').waitFor();
  await shot('procedures-06-resubmit', { at: page.getByRole('heading', { name: '修改后重新提交' }) });
  await assertAccessible(page, 'resubmit');
  await page.getByRole('button', { name: '重新提交（第 2 稿）' }).click();
  await page.getByRole('heading', { name: '方案版本（共 2 稿，均留存）' }).waitFor();
  assert.match(await currentStep().textContent(), /审核/);
  const versions = page.locator('details.version').filter({ hasText: /第 [12] 稿/ });
  assert.equal(await versions.count(), 2);

  await loginAs('reviewer');
  await openItem();
  await page.getByLabel('批复意见').fill('同意提交业主大会表决。');
  await page.getByRole('radio', { name: '同意', exact: true }).check();
  await page.getByRole('button', { name: '提交审核意见' }).click();
  await confirmStep(page, '提交意见', /本步骤即告完成/);
  await page.waitForFunction(() => /决议/.test(document.querySelector('.facts')?.textContent || ''));
});

test('committee links the published ballot, records the resolution and publishes twice', async () => {
  const { page } = b;
  await loginAs('committee');
  await openItem();
  await page.getByRole('heading', { name: '决议：业主大会表决' }).waitFor();
  await page.getByRole('radio', { name: new RegExp(`^1\\. ${TITLE.slice(0, 12)}`) }).check();
  await shot('procedures-07-link', { at: page.getByRole('heading', { name: '决议：业主大会表决' }) });
  await assertAccessible(page, 'link ballot');
  await page.getByRole('button', { name: '关联所选事项' }).click();
  await confirmStep(page, '关联', /不能撤销/);
  await page.getByText('该表决在本小区采用议事程序之前已经公告。').waitFor();
  await page.getByRole('button', { name: '记录表决结果，完成决议' }).click();
  await confirmStep(page, '记录决议', /不能撤回或修改/);
  await page.getByRole('heading', { name: '决议公开：发布公告' }).waitFor();
  assert.match(await page.getByLabel('公告正文').inputValue(), /通过/);
  await page.getByRole('button', { name: '发布“决议公开”公告' }).click();
  await confirmStep(page, '发布', /不能撤回或修改/);
  await page.getByRole('heading', { name: '实施结果公开：发布公告' }).waitFor();
  await page.getByLabel('公告正文').fill('续聘合同已于2026年6月签订，服务期三年，合同文本已在物业服务中心备查。');
  await page.getByRole('button', { name: '发布“实施结果公开”公告' }).click();
  await confirmStep(page, '发布', /不能撤回或修改/);
  await page.getByText('已办结', { exact: true }).first().waitFor();
  assert.equal(await page.locator('.track-step[data-state="done"]').count(), 6);
  await shot('procedures-08-closed');
  await assertAccessible(page, 'closed item');
  await page.getByRole('button', { name: '返回' }).click();
  await page.locator('[data-testid="items"]').getByText('已办结').waitFor();
  await shot('procedures-08b-list');
  await assertAccessible(page, 'procedures list (committee)');
});

test('the observer records an observation and verifies the audit export offline', async () => {
  const { page } = b;
  await loginAs('observer');
  await openItem();
  assert.equal(await page.getByRole('button', { name: /提交.*意见/ }).count(), 0, 'no step actions for an observer');
  await page.getByLabel(/记录观察意见/).fill('审核退回意见已落实，表决结果与决议公告一致。');
  await page.getByRole('button', { name: '记录观察意见' }).click();
  await page.getByText('审核退回意见已落实').waitFor();
  await page.getByRole('button', { name: '校验审计记录' }).click();
  assert.match(await page.getByTestId('item-verify').textContent(), /校验通过/);
  await shot('procedures-09-observer', { at: page.getByRole('heading', { name: '观察意见' }) });
  await assertAccessible(page, 'item (observer)');

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: '导出审计记录' }).click(),
  ]);
  const file = await download.path();
  const { stderr } = await run(PYTHON, ['-m', 'app.audit', 'verify', '--file', file], { cwd: REPO });
  assert.match(stderr, /^OK: \d+ events/m);
});

test('an owner reads the public timeline', async () => {
  const { page, context } = b;
  await context.clearCookies();
  await page.goto('/login');
  const phone = OWNER_PHONES[0];
  await page.getByLabel('手机号').fill(phone);
  const seen = backend.codeCount();
  await page.getByRole('button', { name: '获取验证码' }).click();
  await page.getByLabel('验证码').fill(await backend.otp(phone, seen));
  await page.getByRole('button', { name: '登录', exact: true }).click();
  await page.waitForURL((url) => url.pathname === '/' || /^\/c\/\d+$/.test(url.pathname));
  await openCompound(page);
  await page.getByText('重大事项办理经过', { exact: true }).click();
  await page.getByRole('heading', { name: '经审核同意提交业主的重大事项' }).waitFor();
  await page.getByRole('link', { name: new RegExp(TITLE.slice(0, 8)) }).waitFor();
  assert.equal(await page.getByRole('button', { name: '发起议题' }).count(), 0);
  await shot('procedures-10-owner-list');
  await assertAccessible(page, 'procedures list (owner)');
  await page.getByRole('link', { name: new RegExp(TITLE.slice(0, 8)) }).click();
  await page.waitForURL(/\/timeline$/);
  assert.match(await page.getByTestId('where').textContent(), /本事项已办结/);
  assert.match(await page.getByTestId('resolution').textContent(), /通过/);
  await page.getByText('社区党组织审核人（幸福社区党委）').first().waitFor();
  const text = await page.locator('main').textContent();
  assert.ok(!text.includes('郑红') && !text.includes('陈立新'), 'no personal names on the public page');
  await shot('procedures-11-timeline');
  await assertAccessible(page, 'timeline (owner)');
  assert.deepEqual(b.consoleErrors, []);
});
