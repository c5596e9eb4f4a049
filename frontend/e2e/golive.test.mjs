// Go-live (issue 13): a fresh deployment with no demo data and the real Alibaba Cloud SMS SDK
// pointed at the local fake provider. The platform administrator sets up a compound and a
// committee member; the member changes the temporary password, imports a roster, drafts a ballot
// and publishes its meeting notice; 16 days later (the server's and the browsers' clocks moved)
// the member opens the ballot and every owner gets one 表决开始 SMS; an owner logs in with the
// code the provider received and votes; the member sends a reminder, which reaches exactly the
// owners who have not voted, and the delivery counts on screen match what the provider received.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { PC, PHONE, PYTHON, REPO, openScreen, screenshot, staffLogin, startBackend, startBrowser } from './harness.mjs';
import { residentId, toCsv } from './roster-files.mjs';

const ADMIN_PASSWORD = 'Golive-platform-7731';
const COMPOUND = '翠湖苑';
const TEMP = 'Cuihu-temp-2026';
const OWN = 'li-own-secret-2027';
const TITLE = '2027年第一次业主大会';
const PHONES = [1, 2, 3, 4, 5, 6].map((n) => `1390000000${n}`);
const TEMPLATES = { login_code: 'SMS_100000001', ballot_opened: 'SMS_100000002', ballot_reminder: 'SMS_100000003' };
const DAY = 86_400;
const OFFSET_DAYS = 17; // voting starts 16 days after today (Beijing); the notice needs 15

let fake; // { process, url, env }
let backend;
let b; // the administrator's and then the committee member's browser (desktop)
let owner; // an owner's phone

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function startFake() {
  return new Promise((ok, fail) => {
    const child = spawn(PYTHON, ['-m', 'tests.fakes.sms_server', '--provider', 'aliyun', '--port', '0'], {
      cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.on('error', fail);
    child.on('exit', (code) => fail(new Error(`fake SMS server exited with ${code}`)));
    process.once('exit', () => child.exitCode === null && child.kill('SIGKILL'));
    createInterface({ input: child.stdout }).once('line', (line) => ok({ process: child, ...JSON.parse(line) }));
  });
}

/** What the fake provider accepted, optionally of one template. */
async function received(template) {
  const { messages } = await (await fetch(`${fake.url}/_fake/messages`)).json();
  return template ? messages.filter((m) => m.template === template) : messages;
}

/** Poll the fake until `count` messages of `template` arrived, then check that no more follow. */
async function waitReceived(template, count) {
  const until = Date.now() + 60_000;
  for (;;) {
    const got = await received(template);
    if (got.length >= count) {
      await sleep(1500); // the outbox worker would have sent duplicates by now
      return received(template);
    }
    if (Date.now() > until) throw new Error(`fake got ${got.length} of ${count} ${template}:\n${backend.log().slice(-3000)}`);
    await sleep(250);
  }
}

const localPhone = (phone) => phone.replace(/^(\+?86)/, '');

/** "YYYY-MM-DDT00:00" for the day `days` after today in Beijing. */
function beijingInput(days) {
  const d = new Date(Date.now() + 8 * 3600_000 + days * DAY * 1000);
  return `${d.toISOString().slice(0, 10)}T00:00`;
}

async function newContext(browser, size) {
  const screen = await openScreen(browser, backend.baseURL, size);
  await screen.context.clock.install({ time: new Date() });
  return screen;
}

before(async () => {
  fake = await startFake();
  backend = await startBackend({
    seed: false,
    env: { ...fake.env, GONGJUE_ADMIN_PASSWORD: ADMIN_PASSWORD },
    setup: [['-m', 'app.auth', 'create-admin', '--username', 'admin']],
  });
  b = await startBrowser(backend.baseURL);
  await b.page.close();
  await b.context.close();
  Object.assign(b, await newContext(b.browser, PC));
  owner = await newContext(b.browser, PHONE);
});

after(async () => {
  await b?.browser.close();
  await backend?.stop();
  if (fake) {
    fake.process.removeAllListeners('exit');
    fake.process.kill('SIGTERM');
  }
});

let compoundId;
let ballotId;

test('administrator sets up the compound; the committee member imports the roster and notices a ballot', async () => {
  const { page } = b;
  // the platform administrator
  await staffLogin(page, 'admin', ADMIN_PASSWORD);
  await page.getByTestId('to-admin').click();
  await page.waitForURL(/\/admin$/);
  await page.getByLabel('小区名称').fill(COMPOUND);
  await page.getByLabel('区', { exact: true }).fill('西城区');
  await page.getByLabel('街道', { exact: true }).fill('金融街街道');
  await page.getByLabel('社区', { exact: true }).fill('翠湖社区');
  await page.getByRole('button', { name: '创建小区' }).click();
  const row = page.getByTestId('compound-table').locator('tr', { hasText: COMPOUND });
  await row.waitFor();
  await page.getByTestId('to-accounts').click();
  await page.waitForURL(/\/admin\/accounts$/);
  await page.getByLabel('用户名').fill('li.wm');
  await page.getByLabel('姓名').fill('李文明');
  await page.getByLabel('初始密码').fill(TEMP);
  await page.getByRole('button', { name: '创建账号' }).click();
  await page.locator('tr[data-username="li.wm"]').getByText('待修改临时密码').waitFor();
  await page.goto('/admin');
  await row.getByRole('link', { name: '角色授权' }).click();
  await page.waitForURL(/\/c\/\d+\/grants$/);
  compoundId = Number(new URL(page.url()).pathname.split('/')[2]);
  await page.getByLabel('账号', { exact: true }).selectOption({ label: '李文明（li.wm）' });
  await page.getByLabel('角色', { exact: true }).selectOption('committee');
  await page.getByRole('button', { name: '授予角色' }).click();
  await page.locator('tr[data-username="li.wm"]').getByText('业委会委员').waitFor();
  await screenshot(page, 'golive-01-grant-1366');
  await b.context.clearCookies();

  // the committee member: a new password first
  await page.goto('/login');
  await page.getByRole('tab', { name: '工作人员登录' }).click();
  await page.getByLabel('用户名').fill('li.wm');
  await page.getByLabel('密码').fill(TEMP);
  await page.getByRole('button', { name: '登录', exact: true }).click();
  await page.waitForURL(/\/password/);
  await page.getByLabel('当前密码').fill(TEMP);
  await page.getByLabel('新密码').fill(OWN);
  await page.getByLabel('再次输入').fill(OWN);
  await page.getByRole('button', { name: '保存新密码' }).click();
  await page.waitForURL((url) => url.pathname === '/');
  await page.getByText(COMPOUND, { exact: true }).click();
  await page.waitForURL(new RegExp(`/c/${compoundId}$`));

  // the roster: six flats, one owner each, with a phone
  await page.getByText('名册', { exact: true }).click();
  await page.waitForURL(new RegExp(`/c/${compoundId}/roster$`));
  const header = ['楼栋', '单元', '房号', '专有面积（㎡）', '面积来源', '用途', '状态', '业主类型', '业主姓名', '证件号码', '手机号'];
  const rows = PHONES.map((phone, i) => ({
    楼栋: '1栋', 单元: '1', 房号: String(101 + i), '专有面积（㎡）': '90.00', 面积来源: '不动产登记', 用途: '住宅',
    状态: '已交付', 业主类型: '个人', 业主姓名: `业主${i + 1}`, 证件号码: residentId(7000 + i), 手机号: phone,
  }));
  const file = { name: '翠湖苑名册.csv', mimeType: 'text/csv', buffer: Buffer.from(toCsv(header, rows), 'utf8') };
  await page.locator('#roster-file').setInputFiles(file);
  await page.getByText(`已选择：${file.name}`).waitFor();
  await page.getByRole('button', { name: '上传并检查' }).click();
  await page.getByRole('heading', { name: /变更预览/ }).waitFor();
  await page.getByRole('button', { name: '确认导入' }).click();
  await page.getByRole('dialog').getByRole('button', { name: '确认导入' }).click();
  await page.getByTestId('unit-count').filter({ hasText: '6' }).waitFor();
  assert.equal((await page.getByTestId('headcount').textContent()).trim(), '6');

  // the ballot, voting 16 days from today, and its meeting notice
  await page.goto(`/c/${compoundId}/manage/ballots`);
  await page.getByRole('link', { name: /新建表决/ }).click();
  await page.waitForURL(/\/manage\/ballots\/new$/);
  await page.getByLabel('表决标题').fill(TITLE);
  await page.getByLabel('投票开始（北京时间）').fill(beijingInput(16));
  await page.getByLabel('投票结束（北京时间）').fill(beijingInput(23));
  const matter = page.getByTestId('edit-matter-1');
  await matter.getByLabel('事项标题').fill('更新小区绿化和休闲座椅');
  await matter.getByLabel(/事项类别/).selectOption('9');
  await page.getByRole('button', { name: '保存草稿' }).click();
  await page.waitForURL(/\/manage\/ballots\/\d+$/);
  ballotId = Number(new URL(page.url()).pathname.split('/').pop());
  await page.getByTestId('admin-status').filter({ hasText: '草稿' }).waitFor();
  await page.getByRole('button', { name: '发布会议通知' }).click();
  await page.getByRole('dialog', { name: '发布会议通知' }).getByRole('button', { name: '发布' }).click();
  await page.getByRole('button', { name: '开始投票' }).waitFor();
  await screenshot(page, 'golive-02-notice-published-1366');
  assert.deepEqual(await received(TEMPLATES.ballot_opened), []);
  assert.deepEqual(b.errors, []);
});

test('16 days later the ballot opens, every owner is told once, one owner votes', async () => {
  assert.ok(ballotId, 'runs after the setup test');
  await backend.restart({ clockOffsetSeconds: OFFSET_DAYS * DAY });
  const later = new Date(Date.now() + OFFSET_DAYS * DAY * 1000);
  await b.context.clock.setSystemTime(later);
  await owner.context.clock.setSystemTime(later);

  const { page } = b;
  await b.context.clearCookies(); // the session expired meanwhile
  await staffLogin(page, 'li.wm', OWN);
  await page.goto(`/c/${compoundId}/manage/ballots/${ballotId}`);
  await page.getByRole('button', { name: '开始投票' }).click();
  await page.getByRole('dialog').getByRole('button', { name: '开始投票' }).click();
  await page.getByTestId('admin-status').filter({ hasText: /投票中|进行中/ }).waitFor();

  const opened = await waitReceived(TEMPLATES.ballot_opened, PHONES.length);
  assert.deepEqual(opened.map((m) => localPhone(m.phone)).sort(), PHONES);
  for (const m of opened) {
    assert.equal(m.answer, 'OK');
    assert.equal(m.sign_name, '共决');
    assert.deepEqual(Object.keys(m.params).sort(), ['compound', 'end', 'title']);
    assert.equal(m.params.compound, COMPOUND);
    assert.equal(m.params.title, TITLE);
  }
  await screenshot(page, 'golive-03-opened-1366');

  // an owner logs in with the code the provider received, and votes
  const voter = PHONES[2];
  const p = owner.page;
  await p.goto('/login');
  await p.getByLabel('手机号').fill(voter);
  await p.getByRole('button', { name: '获取验证码' }).click();
  let code;
  for (const until = Date.now() + 30_000; !code; await sleep(200)) {
    const hit = (await received(TEMPLATES.login_code)).filter((m) => localPhone(m.phone) === voter).pop();
    code = hit?.params.code;
    if (!code && Date.now() > until) throw new Error('no login code reached the provider');
  }
  assert.match(code, /^\d{6}$/);
  await p.getByLabel('验证码').fill(code);
  await p.getByRole('button', { name: '登录', exact: true }).click();
  await p.waitForURL(new RegExp(`/c/${compoundId}$`));
  await p.getByTestId('open-ballots').getByRole('link', { name: new RegExp(TITLE) }).click();
  await p.waitForURL(/\/ballots\/\d+$/);
  await p.getByTestId('matter-1').locator('label', { hasText: '同意' }).click();
  await p.getByRole('button', { name: '提交', exact: true }).click();
  await p.getByRole('dialog', { name: '请确认您的选择' }).getByRole('button', { name: '确认提交' }).click();
  await p.getByRole('heading', { name: '投票已提交' }).waitFor();
  await screenshot(p, 'golive-04-owner-receipt-390');
  assert.deepEqual(owner.errors, []);
});

test('the reminder reaches exactly the owners who have not voted; the counts match the provider', async () => {
  const { page } = b;
  const voter = PHONES[2];
  const nonVoters = PHONES.filter((phone) => phone !== voter);
  await page.goto(`/c/${compoundId}/manage/ballots/${ballotId}`);
  await page.getByRole('tab', { name: '短信' }).click();
  await page.getByRole('button', { name: '预览提醒短信' }).click();
  const dialog = page.getByTestId('reminder-preview');
  await dialog.getByText(`将发送 ${nonVoters.length} 条`).waitFor();
  await dialog.getByText('已关闭短信通知 0 人').waitFor();
  await page.waitForTimeout(400);
  await screenshot(page, 'golive-05-reminder-preview-1366', { here: true });
  await page.getByRole('button', { name: '发送', exact: true }).click();
  await page.getByText(`已提交发送 ${nonVoters.length} 条提醒`).waitFor();

  const reminders = await waitReceived(TEMPLATES.ballot_reminder, nonVoters.length);
  assert.deepEqual(reminders.map((m) => localPhone(m.phone)).sort(), nonVoters);
  for (const m of reminders) assert.deepEqual([m.params.compound, m.params.title], [COMPOUND, TITLE]);

  // The delivery counts on the 短信 tab settle on what the provider received.
  const ballotMessages = [...(await received(TEMPLATES.ballot_opened)), ...reminders];
  const sent = ballotMessages.filter((m) => m.answer === 'OK').length;
  const failed = ballotMessages.length - sent;
  assert.equal(sent, PHONES.length + nonVoters.length);
  const counts = page.getByTestId('message-counts');
  const value = async (label) => (await counts.locator('div', { has: page.getByText(label, { exact: true }) }).locator('dd').textContent()).trim();
  for (const until = Date.now() + 60_000; ; await sleep(1000)) {
    await page.reload();
    await page.getByRole('tab', { name: '短信' }).click();
    await counts.waitFor();
    const now = { queued: await value('待发送'), sent: await value('已发送'), failed: await value('发送失败') };
    if (now.queued === '0' && now.sent === String(sent) && now.failed === String(failed)) break;
    if (Date.now() > until) throw new Error(`counts on screen ${JSON.stringify(now)}, provider got ${sent} sent, ${failed} failed`);
  }
  await screenshot(page, 'golive-06-message-counts-1366', { at: page.getByRole('tab', { name: '短信' }) });
  assert.deepEqual(b.errors, []);
});
