// Entrances (单元) as a scope: on a 1366×768 PC the committee puts a lift (加装电梯) to 3栋2单元
// only; 16 days later it opens with that entrance's totals; on a 390×844 phone an owner in 3栋2单元
// sees it (scope in words) and votes, an owner of 3栋1单元 never sees it; the progress shows the
// entrance's totals. The committee also drafts a notice to one entrance on the phone.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { PYTHON, REPO, assertAccessible, ownerLogin, screenshot, staffLogin, startBackend, startBrowser } from './harness.mjs';

const DAY = 86400;
const OFFSET_DAYS = 16;
const TITLE = '3栋2单元加装电梯';
const INSIDE = '13800000001'; // 王建国: 1栋1单元301 and 3栋2单元1502 (one subject)

// The demo roster, read the way the server derives subjects: the entrance's totals and an owner
// of the other entrance of the same building.
const facts = JSON.parse(spawnSync(PYTHON, ['-c', `
import json
from app.demo import demo_units
units = [u for u in demo_units() if u.building == "3栋"]
inside = [u for u in units if u.entrance == "2"]
keys = {("dev",) if u.status != "已交付" else tuple(sorted(o.id_number for o in u.owners)) for u in inside}
other = next(u for u in units if u.entrance == "1" and u.status == "已交付" and len(u.owners) == 1)
print(json.dumps({"area": sum(u.area_hundredths for u in inside), "headcount": len(keys),
                  "outside_phone": other.owners[0].phone, "outside_label": other.label}))
`], { cwd: REPO, encoding: 'utf8' }).stdout);
const area = (h) => `${Math.floor(h / 100)}.${String(h % 100).padStart(2, '0')}`;

let backend;
let b; // the owners' phone
let pc; // the committee's PC
let compoundId;
let ballotId;

async function newContext(browser, options) {
  const context = await browser.newContext({
    baseURL: backend.baseURL, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', ...options,
  });
  context.setDefaultTimeout(Number(process.env.GONGJUE_E2E_TIMEOUT_MS) || 30_000);
  await context.clock.install({ time: new Date() });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  return { context, page, errors };
}

before(async () => {
  backend = await startBackend();
  b = await startBrowser(backend.baseURL);
  await b.context.clock.install({ time: new Date() });
  pc = await newContext(b.browser, { viewport: { width: 1366, height: 768 } });
});

after(async () => {
  await b?.browser.close();
  await backend?.stop();
});

test('PC: the committee puts a lift to one entrance and publishes its notice', async () => {
  const { page } = pc;
  await staffLogin(page, 'committee');
  await page.getByText('阳光花园', { exact: true }).first().click();
  await page.waitForURL(/\/c\/\d+$/);
  compoundId = Number(new URL(page.url()).pathname.split('/')[2]);
  await page.goto(`/c/${compoundId}/manage/ballots/new`);
  await page.getByLabel('表决标题').fill(TITLE);
  const picker = page.getByTestId('scope-picker');
  await picker.getByText('部分楼栋或单元').click();
  await picker.getByRole('checkbox', { name: '3栋2单元' }).check();
  await picker.getByTestId('scope-words').filter({ hasText: '已选：3栋2单元' }).waitFor();
  const matter = page.getByTestId('edit-matter-1');
  await matter.getByLabel('事项标题').fill('加装电梯');
  await matter.getByLabel(/事项类别/).selectOption('7');
  await screenshot(page, 'entrance-01-scope-picker-1366', { at: picker });
  await assertAccessible(page, 'ballot editor with the scope picker (PC)');
  await page.getByRole('button', { name: '保存草稿' }).click();
  await page.waitForURL(/\/manage\/ballots\/\d+$/);
  ballotId = Number(new URL(page.url()).pathname.split('/').pop());
  await page.getByText('3栋2单元的业主').first().waitFor();
  await page.getByRole('button', { name: '发布会议通知' }).click();
  await page.getByRole('dialog', { name: '发布会议通知' }).getByRole('button', { name: '发布' }).click();
  await page.getByRole('button', { name: '开始投票' }).waitFor();

  const detail = await page.request.get(`/api/v1/compounds/${compoundId}/ballots/${ballotId}`).then((r) => r.json());
  assert.equal(detail.scope_label, '3栋2单元');
  const notice = await page.request.get(`/api/v1/compounds/${compoundId}/notices/${detail.notice_id}`).then((r) => r.json());
  assert.equal(notice.audience_label, '3栋2单元业主');
  assert.match(notice.body, /表决范围：3栋2单元的业主/);
  assert.deepEqual(pc.errors, []);
});

test('16 days later it opens with the entrance totals; the owner inside votes, the one outside never sees it', async () => {
  assert.ok(ballotId, 'runs after the committee test');
  await backend.restart({ clockOffsetSeconds: OFFSET_DAYS * DAY });
  const later = new Date(Date.now() + OFFSET_DAYS * DAY * 1000);
  await pc.context.clock.setSystemTime(later);
  await b.context.clock.setSystemTime(later);

  const { page } = pc;
  await pc.context.clearCookies();
  await staffLogin(page, 'committee');
  await page.goto(`/c/${compoundId}/manage/ballots/${ballotId}`);
  await page.getByRole('button', { name: '开始投票' }).click();
  await page.getByRole('dialog').getByRole('button', { name: '开始投票' }).click();
  await page.getByTestId('admin-status').filter({ hasText: /投票中|进行中/ }).waitFor();
  const heads = page.getByTestId('progress-headcount');
  await heads.getByText(`/ ${facts.headcount} 人`).waitFor();
  await page.getByTestId('progress-area').getByText(`/ ${area(facts.area)} ㎡`).waitFor();

  // The owner inside (phone): the card and the page say whose ballot it is; the flat listed is
  // the one in 3栋2单元 only.
  const p = b.page;
  await ownerLogin(p, backend, INSIDE);
  if (new URL(p.url()).pathname === '/') await p.getByText('阳光花园', { exact: true }).first().click();
  const card = p.getByTestId('open-ballots').getByRole('link', { name: new RegExp(TITLE) });
  await card.getByText('表决范围：3栋2单元的业主').waitFor();
  await card.click();
  await p.waitForURL(/\/ballots\/\d+$/);
  await p.getByTestId('ballot-scope').filter({ hasText: '3栋2单元的业主' }).waitFor();
  await p.getByText('3栋2单元1502').first().waitFor();
  assert.equal(await p.getByText('1栋1单元301').count(), 0, 'the flat outside the scope is not listed');
  await screenshot(p, 'entrance-02-owner-ballot-390');
  await assertAccessible(p, 'entrance-scoped ballot (owner, phone)');
  await p.getByTestId('matter-1').locator('label', { hasText: '同意' }).click();
  await p.getByRole('button', { name: '提交', exact: true }).click();
  await p.getByRole('dialog', { name: '请确认您的选择' }).getByRole('button', { name: '确认提交' }).click();
  await p.getByRole('heading', { name: '投票已提交' }).waitFor();

  // The owner of 3栋1单元: not on the compound page, not by its address.
  await b.context.clearCookies();
  await ownerLogin(p, backend, facts.outside_phone);
  if (new URL(p.url()).pathname === '/') await p.getByText('阳光花园', { exact: true }).first().click();
  await p.getByTestId('open-ballots').waitFor();
  await p.getByTestId('open-ballots').locator('.card, .muted').first().waitFor();
  assert.equal(await p.getByText(TITLE).count(), 0, `${facts.outside_label} does not see the lift ballot`);
  const listed = await p.request.get(`/api/v1/compounds/${compoundId}/ballots`).then((r) => r.json());
  assert.ok(!listed.some((x) => x.id === ballotId));
  assert.equal((await p.request.get(`/api/v1/compounds/${compoundId}/ballots/${ballotId}`)).status(), 404);
  await p.goto(`/c/${compoundId}/ballots/${ballotId}`);
  await p.getByText(/不存在/).first().waitFor();

  // Progress: one subject of the entrance's voted, its 3栋2单元 flat's area only.
  const progress = await page.request.get(`/api/v1/compounds/${compoundId}/ballots/${ballotId}/progress`).then((r) => r.json());
  assert.equal(progress.total_headcount, facts.headcount);
  assert.equal(progress.total_area_hundredths, facts.area);
  assert.equal(progress.voted_headcount, 1);
  await page.getByRole('button', { name: '立即刷新' }).click();
  await heads.getByText('1', { exact: true }).waitFor();
  await screenshot(page, 'entrance-03-progress-1366', { at: page.getByTestId('progress') });
  assert.deepEqual(pc.errors, []);
  assert.deepEqual(b.consoleErrors, []);
});

test('phone: the committee drafts a notice to one entrance', async () => {
  const p = b.page;
  await b.context.clearCookies();
  await staffLogin(p, 'committee');
  await p.goto(`/c/${compoundId}/manage/notices/new`);
  await p.getByLabel('标题').fill('3栋2单元电梯施工通知');
  await p.getByLabel('正文').fill('施工期间请注意安全。');
  const picker = p.getByTestId('audience-picker');
  await picker.getByText('部分楼栋或单元').click();
  await picker.getByRole('checkbox', { name: '3栋2单元' }).check();
  await picker.getByTestId('scope-words').filter({ hasText: '已选：3栋2单元' }).waitFor();
  await screenshot(p, 'entrance-04-notice-audience-390', { at: picker });
  await assertAccessible(p, 'notice editor with the scope picker (phone)');
  await p.getByRole('button', { name: '保存草稿' }).click();
  await p.waitForURL(/\/manage\/notices\/\d+$/);
  const id = Number(new URL(p.url()).pathname.split('/').pop());
  const saved = await p.request.get(`/api/v1/compounds/${compoundId}/notices/${id}`).then((r) => r.json());
  assert.equal(saved.audience_label, '3栋2单元业主');
  assert.deepEqual(saved.audience_entrances.map((e) => e.entrance), ['2']);
  // Reloaded, the picker shows what was saved.
  await p.reload();
  await p.getByTestId('audience-picker').getByRole('checkbox', { name: '3栋2单元' }).waitFor();
  assert.equal(await p.getByTestId('audience-picker').getByRole('checkbox', { name: '3栋2单元' }).isChecked(), true);
  assert.deepEqual(b.consoleErrors, []);
});
