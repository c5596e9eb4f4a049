// The readable audit trail (issue 15 item 5): two committee members enter and confirm a paper
// ballot; the observer filters the trail by kind and date, reads the paper ballot's two
// confirmers by name, and follows the link to the ballot. Phone (390×844) and desktop (1366×768).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { assertAccessible, openCompound, screenshot, staffLogin, startBackend, startBrowser } from './harness.mjs';

const OPEN_BALLOT = '2026年第二次业主大会';
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
const SHOTS = '/tmp/audit';

let backend;
let b;

before(async () => {
  backend = await startBackend();
  b = await startBrowser(backend.baseURL);
  mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await b?.browser.close();
  await backend?.stop();
});

async function apiPost(context, path, options) {
  const csrf = (await context.cookies()).find((c) => c.name === 'gj_csrf').value;
  const res = await context.request.post(`/api/v1${path}`, { ...options, headers: { 'X-CSRF-Token': csrf } });
  assert.ok(res.ok(), `${path}: ${res.status()} ${await res.text()}`);
  return res.json();
}
const apiGet = (context, path) => context.request.get(`/api/v1${path}`).then((r) => r.json());

test('an observer filters the trail, reads a paper ballot\'s two confirmers and follows its link', async () => {
  const { page, context } = b;
  // Two committee members: one types in a paper ballot with its scan, the other confirms it.
  await staffLogin(page, 'committee');
  const compoundId = await openCompound(page);
  const c = `/compounds/${compoundId}`;
  const ballotId = (await apiGet(context, `${c}/ballots`)).find((x) => x.title === OPEN_BALLOT).id;
  const ballot = await apiGet(context, `${c}/ballots/${ballotId}`);
  const subject = (await apiGet(context, `${c}/ballots/${ballotId}/non-voters?limit=50`)).items[3];
  const scan = await apiPost(context, `${c}/files`, {
    multipart: { purpose: 'paper_ballot', file: { name: '表决票.pdf', mimeType: 'application/pdf', buffer: PDF } },
  });
  const choices = Object.fromEntries(ballot.matters.map((m) => [String(m.id),
    m.seats ? { approve: [m.candidates[0].id] } : 'agree']));
  const entry = await apiPost(context, `${c}/ballots/${ballotId}/paper`, {
    data: { subject_id: subject.subject_id, choices, scan_file_id: scan.id },
  });
  await context.clearCookies();
  await staffLogin(page, 'committee2');
  await apiPost(context, `${c}/ballots/${ballotId}/paper/${entry.id}/confirm`, {});

  // The observer opens the trail: sentences, named staff, no raw codes or JSON on the list.
  await context.clearCookies();
  await staffLogin(page, 'observer');
  await page.goto(`/c/${compoundId}/audit`);
  const events = page.getByTestId('events');
  await events.locator('li').first().waitFor();
  const listText = await events.evaluate((el) => [...el.querySelectorAll('.description, .actor')].map((n) => n.textContent).join('\n'));
  assert.doesNotMatch(listText, /procedure\.|paper\.entered|vote\.cast|\{"/, 'no raw codes or JSON');
  await screenshot(page, '60-audit-trail-observer');

  // Filter: kind 投票与计票, from today to today (Beijing).
  const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
  await page.getByLabel('类别').selectOption({ label: '投票与计票' });
  await page.getByLabel('从').fill(today);
  await page.getByLabel('至').fill(today);
  await page.getByRole('button', { name: '筛选' }).click();
  await page.waitForURL(/kind=vote/);
  await page.getByTestId('filter-note').getByText(/类别：投票与计票/).waitFor();
  const confirmed = events.locator('li', { hasText: '复核确认' }).first();
  await confirmed.waitFor();
  const groups = await events.locator('.group').allTextContents();
  assert.ok(groups.length > 0 && groups.every((g) => g === '投票与计票'), groups.join());
  await page.screenshot({ path: `${SHOTS}/audit-filtered-390.png`, fullPage: false });

  // The paper ballot's own record: typed in by one member, confirmed by another, both named.
  await confirmed.getByText('详细内容').click();
  await confirmed.locator('dd', { hasText: `书面表决票 #${entry.id}` }).getByRole('button', { name: '相关记录' }).click();
  await page.waitForURL(new RegExp(`object_type=paper_entry&object_id=${entry.id}`));
  await page.getByTestId('filter-note').getByText(`对象：书面表决票 #${entry.id}`, { exact: false }).waitFor();
  await events.locator('li').nth(1).waitFor();
  assert.equal(await events.locator('li').count(), 2);
  const actors = await events.getByTestId('actor').allTextContents();
  // Newest first: the confirmation, then the entry.
  assert.match(actors[0], /刘芳（业委会委员/);
  assert.match(actors[1], /陈立新（业委会委员/);
  const descriptions = await events.getByTestId('description').allTextContents();
  assert.match(descriptions[0], /^复核确认.*书面表决票/);
  assert.match(descriptions[1], /录入.*书面表决票，待另一名委员复核/);
  assert.match(descriptions[1], new RegExp(subject.label.split('、')[0]));
  await screenshot(page, '61-audit-paper-ballot-confirmers');
  await page.screenshot({ path: `${SHOTS}/audit-paper-390.png`, fullPage: true });
  await assertAccessible(page, 'audit trail filtered (observer)');

  // The desktop width reads the same.
  await page.setViewportSize({ width: 1366, height: 768 });
  await page.screenshot({ path: `${SHOTS}/audit-paper-1366.png`, fullPage: false });
  await page.setViewportSize({ width: 390, height: 844 });

  // The chain still verifies.
  await page.getByRole('button', { name: '校验记录链' }).click();
  assert.match(await page.getByTestId('verify-result').textContent(), /校验通过/);

  // The object link leads to the ballot.
  await events.locator('li').first().getByTestId('object-link').click();
  await page.waitForURL(new RegExp(`/c/${compoundId}/ballots/${ballotId}$`));
  await page.getByText(OPEN_BALLOT).first().waitFor();
  assert.deepEqual(b.consoleErrors, []);
});
