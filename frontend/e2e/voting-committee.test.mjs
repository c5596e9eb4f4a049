// Ballots and notices for staff: (c) the committee watches the open ballot's progress and
// non-voters, registers a proxy, drafts a ballot and is refused when its notice comes too late;
// the committee publishes a notice and records its posting; (d) the observer sees progress and
// results but no management buttons.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAccessible, confirmStep, openCompound, screenshot, staffLogin, startBackend, startBrowser } from './harness.mjs';

const OPEN_BALLOT = '2026年第二次业主大会';
const PAST_BALLOT = '2026年第一次业主大会';
// A 1×1 PNG and a tiny PDF, for the uploads.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
const MANAGEMENT_BUTTONS = ['发布会议通知', '开始投票', '结束并计票', '发布决议公告', '登记委托', '接受委托'];

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

const api = (path) => b.context.request.get(`/api/v1/compounds/${compoundId}${path}`).then((r) => r.json());

/** "YYYY-MM-DDTHH:MM" for a day `days` after today in Beijing. */
function beijingInput(days) {
  const d = new Date(Date.now() + 8 * 3600_000 + days * 86400_000);
  return `${d.toISOString().slice(0, 10)}T00:00`;
}

test('committee follows the open ballot: progress, non-voters, proxies', async () => {
  const { page } = b;
  await staffLogin(page, 'committee');
  compoundId = await openCompound(page);
  await page.getByText('表决管理', { exact: true }).click();
  await page.waitForURL(/\/manage\/ballots$/);
  await page.getByTestId('ballot-list').getByText(PAST_BALLOT).waitFor();
  await screenshot(page, '30a-admin-ballot-list');
  await assertAccessible(page, 'ballot list (committee)');
  await page.getByTestId('ballot-list').getByRole('link', { name: new RegExp(OPEN_BALLOT) }).click();
  await page.waitForURL(/\/manage\/ballots\/\d+$/);
  const ballotId = Number(new URL(page.url()).pathname.split('/').pop());
  const progress = await api(`/ballots/${ballotId}/progress`);

  const heads = page.getByTestId('progress-headcount');
  await heads.getByText(String(progress.voted_headcount), { exact: true }).waitFor();
  await heads.getByText(`/ ${progress.total_headcount} 人`).waitFor();
  await heads.getByText(progress.headcount_ratio.percent).waitFor();
  await heads.getByText('三分之二以上').waitFor();
  await page.getByTestId('progress-area').getByText(progress.area_ratio.percent).waitFor();
  await page.getByText('每30秒自动刷新').waitFor();
  await page.getByRole('row', { name: /1栋/ }).waitFor();
  await page.getByTestId('next-step').getByRole('button', { name: /结束并计票/ }).waitFor();
  assert.equal(await page.getByTestId('next-step').getByRole('button', { name: /结束并计票/ }).isDisabled(), true);
  await screenshot(page, '30-admin-progress');
  await assertAccessible(page, 'ballot progress (committee)');

  // Non-voters: building and room only, never names or phones.
  const nonVoters = await api(`/ballots/${ballotId}/non-voters?limit=500`);
  await page.getByRole('tab', { name: '未投票户' }).click();
  const list = page.getByTestId('non-voters');
  await list.getByText(`共 ${nonVoters.total} 户未投票`).waitFor();
  await list.getByText(nonVoters.items[0].label, { exact: true }).first().waitFor();
  const text = await list.textContent();
  assert.doesNotMatch(text, /1[3-9]\d{9}|1[3-9]\d\*{4}\d{4}/, 'no phone numbers');
  assert.doesNotMatch(text, /\*\*/, 'no masked names');
  await screenshot(page, '31-admin-non-voters', { at: page.getByRole('tab', { name: '未投票户' }) });
  await assertAccessible(page, 'non-voters');

  // Register a proxy with an uploaded authorization, then accept it.
  await page.getByRole('tab', { name: '委托' }).click();
  const proxies = page.getByTestId('proxies');
  const subject = nonVoters.items[1];
  await proxies.getByRole('combobox', { name: '委托人（房屋）' }).fill(subject.label);
  await proxies.locator('[role=option] .fp-label').filter({ hasText: new RegExp(`^${subject.label}$`) }).click();
  await proxies.getByTestId('flat-picked').getByText(subject.label, { exact: true }).waitFor();
  await proxies.getByLabel('受托人姓名').fill('赵受托');
  await proxies.getByLabel('受托人手机号').fill('13900000011');
  await proxies.locator('#proxy-file').setInputFiles({ name: '委托书.pdf', mimeType: 'application/pdf', buffer: PDF });
  await proxies.getByText('已上传：委托书.pdf').waitFor();
  await proxies.getByRole('button', { name: '登记委托' }).click();
  const record = proxies.locator('.record', { hasText: subject.label });
  await record.getByText('待审核').waitFor();
  await record.getByText('赵**').waitFor();
  await record.getByRole('button', { name: '接受委托' }).click();
  await confirmStep(page, '接受委托', /受托人即可代该户投票.*不能撤销/);
  await record.getByText('已接受').waitFor();
  await screenshot(page, '32-admin-proxies', { at: page.getByRole('tab', { name: '委托' }) });
  await assertAccessible(page, 'proxies');

  await page.getByRole('tab', { name: '书面票' }).click();
  await page.getByTestId('paper').getByRole('heading', { name: '录入一张书面表决票' }).waitFor();
  await screenshot(page, '33-admin-paper', { at: page.getByRole('tab', { name: '书面票' }) });
  await assertAccessible(page, 'paper ballots');
  assert.deepEqual(b.consoleErrors, []);
});

/** Enter a paper ballot (all 同意, the first candidates) for one flat, with a scan. */
async function enterPaper(page, label, subjectId) {
  const paper = page.getByTestId('paper');
  await paper.getByLabel('表决户（房屋）').fill(label);
  await paper.getByLabel('选择表决户').selectOption({ value: String(subjectId) });
  for (const select of await paper.locator('form select.native-select').all()) {
    if ((await select.getAttribute('id')) !== 'paper-subject-s') await select.selectOption('agree');
  }
  await paper.locator('form fieldset').getByRole('checkbox').nth(1).check(); // the first candidate
  // A flat that already voted is said so before saving; the member acknowledges it.
  await paper.getByTestId('paper-standing').waitFor();
  if (await paper.getByTestId('paper-ack').count()) await paper.getByTestId('paper-ack').check();
  await paper.locator('#paper-file').setInputFiles({ name: '表决票.pdf', mimeType: 'application/pdf', buffer: PDF });
  await paper.getByText('已上传：表决票.pdf').waitFor();
  await paper.getByRole('button', { name: /录入，等待另一名委员确认/ }).click();
  await paper.locator('.record', { hasText: label }).getByText('待复核').waitFor();
}

test('paper ballots: one member enters, another confirms; a second channel becomes a conflict', async () => {
  const { page, context } = b;
  const ballots = await api('/ballots');
  const ballotId = ballots.find((x) => x.title === OPEN_BALLOT).id;
  const nonVoters = (await api(`/ballots/${ballotId}/non-voters?limit=500`)).items;
  const all = [];
  for (let offset = 0; ; offset += 200) {
    const page200 = await api(`/subjects?offset=${offset}&limit=200`);
    all.push(...page200.items);
    if (all.length >= page200.total) break;
  }
  const unvoted = nonVoters[5];
  const waiting = new Set(nonVoters.map((s) => s.subject_id));
  const voted = all.find((s) => !waiting.has(s.id) && s.kind === 'owners');

  await page.goto(`/c/${compoundId}/manage/ballots/${ballotId}`);
  await page.getByRole('tab', { name: '书面票' }).click();
  await enterPaper(page, unvoted.label, unvoted.subject_id);
  await enterPaper(page, voted.label, voted.id);
  // The member who typed it in cannot confirm it.
  await page.getByTestId('paper').locator('.record', { hasText: unvoted.label }).getByText('须由另一名委员核对确认').waitFor();

  await context.clearCookies();
  await staffLogin(page, 'committee2');
  await page.goto(`/c/${compoundId}/manage/ballots/${ballotId}`);
  await page.getByRole('tab', { name: '书面票' }).click();
  const paper = page.getByTestId('paper');
  const first = paper.locator('.record', { hasText: unvoted.label });
  await first.getByRole('button', { name: '核对无误，确认计入' }).click();
  await confirmStep(page, '确认计入', /计入表决.*不能撤销/);
  await first.getByText('已计入').waitFor();
  const second = paper.locator('.record', { hasText: voted.label });
  await second.getByRole('button', { name: '核对无误，确认计入' }).click();
  await confirmStep(page, '确认计入');
  await paper.getByRole('alert').filter({ hasText: '每户只有一票有效' }).waitFor();
  await second.getByText('已复核（冲突待处理）').waitFor();
  await screenshot(page, '40-admin-paper-confirmed', { at: page.getByRole('tab', { name: '书面票' }) });
  await assertAccessible(page, 'paper ballots confirmed');

  await page.getByRole('tab', { name: '冲突' }).click();
  const conflict = page.getByTestId('conflicts').locator('.record', { hasText: voted.label });
  await conflict.getByText('待处理').waitFor();
  await conflict.getByLabel(/处理说明/).fill('已电话联系业主，确认以网上投票为准');
  await conflict.getByRole('button', { name: '保留原有效票' }).click();
  await confirmStep(page, '确认处理', /新提交的票不计入.*不能撤销/);
  await conflict.getByText('已处理').waitFor();
  await conflict.getByText(/保留原有效票；说明：已电话联系业主/).waitFor();
  await screenshot(page, '41-admin-conflicts', { at: page.getByRole('tab', { name: '冲突' }) });
  await assertAccessible(page, 'conflicts');
  await context.clearCookies();
  await staffLogin(page, 'committee');
  assert.deepEqual(b.consoleErrors, []);
});

test('committee drafts a ballot; publishing its notice too late is refused', async () => {
  const { page } = b;
  await page.goto(`/c/${compoundId}/manage/ballots`);
  await page.getByRole('link', { name: /新建表决/ }).click();
  await page.waitForURL(/\/manage\/ballots\/new$/);
  await page.getByLabel('表决标题').fill('2027年第一次业主大会');
  await page.getByLabel('投票开始（北京时间）').fill(beijingInput(1));
  await page.getByLabel('投票结束（北京时间）').fill(beijingInput(8));
  await page.getByRole('radio', { name: /部分楼栋/ }).check();
  await page.getByRole('checkbox', { name: '1栋（整栋）' }).check();
  await page.getByRole('radio', { name: '全体业主' }).check();

  // Matters that need no prior review (三议一审两公开), so the notice period is what refuses.
  const first = page.getByTestId('edit-matter-1');
  await first.getByLabel('事项标题').fill('更新小区绿化和休闲座椅');
  await first.getByLabel(/事项类别/).selectOption('7');
  await first.getByText('四分之三以上').waitFor();
  await first.getByLabel(/事项类别/).selectOption('9');
  await page.getByRole('button', { name: /添加表决事项/ }).click();
  const second = page.getByTestId('edit-matter-2');
  await second.getByLabel('事项标题').fill('增补业主委员会委员');
  await second.getByLabel(/事项类别/).selectOption('3');
  await second.getByLabel(/应选人数/).fill('3');
  for (const name of ['王一', '李二', '张三', '赵四']) {
    await second.getByRole('button', { name: /添加候选人/ }).click();
    await second.getByPlaceholder(/姓名$/).last().fill(name);
  }
  await second.locator('input[type=file]').setInputFiles({ name: '候选人简历.pdf', mimeType: 'application/pdf', buffer: PDF });
  await second.getByText('候选人简历.pdf').waitFor();
  await screenshot(page, '34-ballot-editor');
  await assertAccessible(page, 'ballot editor');
  // The election goes to a later ballot; a survey with a document takes its place.
  await second.getByRole('button', { name: '删除本项' }).click();
  await page.getByRole('button', { name: /添加表决事项/ }).click();
  const survey = page.getByTestId('edit-matter-2');
  await survey.getByLabel('事项标题').fill('物业服务满意度测评');
  await survey.getByLabel(/事项类别/).selectOption('survey');
  await survey.locator('input[type=file]').setInputFiles({ name: '测评说明.pdf', mimeType: 'application/pdf', buffer: PDF });
  await survey.getByText('测评说明.pdf').waitFor();

  await page.getByRole('button', { name: '保存草稿' }).click();
  await page.waitForURL(/\/manage\/ballots\/\d+$/);
  await page.getByTestId('admin-status').filter({ hasText: '草稿' }).waitFor();
  await page.getByText('物业服务满意度测评').waitFor();
  // Documents are listed by their file name.
  await page.getByRole('link', { name: '查看：测评说明.pdf' }).waitFor();

  await page.getByRole('button', { name: '发布会议通知' }).click();
  const dialog = page.getByRole('dialog', { name: '发布会议通知' });
  await dialog.getByRole('button', { name: '发布' }).click();
  const refusal = page.getByTestId('action-error');
  await refusal.filter({ hasText: '会议通知须在投票开始15日前公告' }).waitFor();
  assert.match(await refusal.textContent(), /投票最早可于\d{4}年\d{1,2}月\d{1,2}日 00:00开始/);
  await page.getByTestId('admin-status').filter({ hasText: '草稿' }).waitFor();
  await page.waitForTimeout(400);
  await screenshot(page, '35-admin-notice-refused', { at: page.getByRole('heading', { name: '下一步' }) });
  await assertAccessible(page, 'ballot draft with refused notice');
  assert.deepEqual(b.consoleErrors, []);
});

test('committee publishes a notice and records its posting on the board', async () => {
  const { page } = b;
  await page.goto(`/c/${compoundId}`);
  await page.getByText('公告管理', { exact: true }).click();
  await page.getByTestId('notice-list').getByText(`${PAST_BALLOT}：决议公告`).waitFor();
  await screenshot(page, '38a-notice-list');
  await assertAccessible(page, 'notice list (committee)');
  await page.getByRole('link', { name: /新建公告/ }).click();
  await page.waitForURL(/\/manage\/notices\/new$/);
  await page.getByLabel('标题').fill('关于11月25日停水的通知');
  await page.getByLabel('正文').fill('因市政管网维修，11月25日8:00至18:00停水。\n请提前储水。');
  await page.getByRole('button', { name: '保存草稿' }).click();
  await page.waitForURL(/\/manage\/notices\/\d+$/);
  await page.getByRole('button', { name: '发布', exact: true }).waitFor(); // the draft has loaded
  await screenshot(page, '38-notice-draft');
  await assertAccessible(page, 'notice draft');
  await page.getByRole('button', { name: '发布', exact: true }).click();
  await page.getByRole('dialog', { name: '发布公告' }).getByRole('button', { name: '发布' }).click();
  const delivery = page.getByTestId('delivery');
  await delivery.getByText('尚未送达的房屋（只显示房号）').waitFor();
  const count = await delivery.getByTestId('not-reached-count').textContent();
  assert.match(count, /\d+ 户/);
  assert.doesNotMatch(await delivery.textContent(), /1[3-9]\d{9}|\*\*/);

  await page.getByLabel('张贴位置').fill('1栋1单元大堂公告栏');
  await page.locator('#p-photo').setInputFiles({ name: '张贴.png', mimeType: 'image/png', buffer: PNG });
  await page.getByText('已上传：张贴.png').waitFor();
  await page.getByRole('button', { name: '登记张贴' }).click();
  await confirmStep(page, '登记张贴', /不能撤回或修改/);
  await delivery.getByText('1栋1单元大堂公告栏').waitFor();
  await page.waitForTimeout(2800); // let the success toast fade before the screenshot
  await screenshot(page, '39-notice-admin');
  await assertAccessible(page, 'notice management');

  // Owners read it with line breaks kept.
  const noticeId = Number(new URL(page.url()).pathname.split('/').pop());
  await page.goto(`/c/${compoundId}/notices/${noticeId}`);
  assert.match(await page.getByTestId('notice-body').innerText(), /停水。\n请提前储水/);

  // A correction supersedes it; both stay readable and point at each other.
  await page.goto(`/c/${compoundId}/manage/notices/${noticeId}`);
  await page.getByRole('button', { name: '写更正公告' }).click();
  await page.getByLabel('更正后的正文').fill('因市政管网维修，11月26日8:00至18:00停水。\n请提前储水。');
  await page.getByRole('button', { name: '发布更正公告' }).click();
  await page.getByRole('dialog', { name: '发布更正公告' }).getByRole('button', { name: '发布更正' }).click();
  await page.waitForURL((url) => !url.pathname.endsWith(`/${noticeId}`));
  await page.getByRole('heading', { name: '关于11月25日停水的通知（更正）' }).waitFor();
  await page.goto(`/c/${compoundId}/notices/${noticeId}`);
  await page.getByTestId('superseded').getByText('本公告已被更正').waitFor();
  await page.getByRole('link', { name: '查看更正后的公告' }).click();
  await page.getByText('本公告更正了第').waitFor();
  assert.match(await page.getByTestId('notice-body').innerText(), /11月26日/);
  await screenshot(page, '39b-notice-correction');
  await assertAccessible(page, 'correction notice');
  assert.deepEqual(b.consoleErrors, []);
});

test('observer sees progress and results but no management buttons', async () => {
  const { page, context } = b;
  await context.clearCookies();
  await staffLogin(page, 'observer');
  await openCompound(page);
  assert.equal(await page.getByText('表决管理', { exact: true }).count(), 0);
  assert.equal(await page.getByText('公告管理', { exact: true }).count(), 0);
  await page.getByText('表决进度与结果', { exact: true }).click();
  await page.waitForURL(/\/manage\/ballots$/);
  assert.equal(await page.getByRole('link', { name: /新建表决/ }).count(), 0);
  // Drafts are the committee's: the observer's list has none.
  assert.equal(await page.getByText('2027年第一次业主大会').count(), 0);
  await page.getByTestId('ballot-list').getByRole('link', { name: new RegExp(OPEN_BALLOT) }).click();
  await page.getByTestId('progress-headcount').getByText('三分之二以上').waitFor();
  assert.equal(await page.getByTestId('next-step').count(), 0);
  for (const name of MANAGEMENT_BUTTONS) assert.equal(await page.getByRole('button', { name }).count(), 0, name);
  for (const name of ['未投票户', '委托', '书面票', '冲突']) assert.equal(await page.getByRole('tab', { name }).count(), 0, name);
  await screenshot(page, '36-observer-progress');
  await assertAccessible(page, 'progress (observer)');

  await page.goto(`/c/${compoundId}/manage/ballots`);
  await page.getByTestId('ballot-list').getByRole('link', { name: new RegExp(PAST_BALLOT) }).click();
  await page.getByRole('tab', { name: '计票结果' }).waitFor();
  await page.getByTestId('result-1').getByTestId('verdict').waitFor();
  for (const name of MANAGEMENT_BUTTONS) assert.equal(await page.getByRole('button', { name }).count(), 0, name);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: /导出 CSV/ }).click(),
  ]);
  assert.match(download.suggestedFilename(), /^tally-\d+\.csv$/);
  await screenshot(page, '37-observer-results', { at: page.getByRole('tab', { name: '计票结果' }) });
  await assertAccessible(page, 'results (observer)');
  assert.deepEqual(b.consoleErrors, []);
});
