// (b) A committee member imports a roster: an invalid file is reported row by row, a valid one is
// previewed, confirmed, and the totals change. (c) The audit page lists the import and verifies.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { assertAccessible, openCompound, screenshot, staffLogin, startBackend, startBrowser } from './harness.mjs';
import { addOneSquareMetre, csvHeader, fetchUnits, residentId, rowsFromUnits, toCsv } from './roster-files.mjs';

let backend;
let b;
let compoundId;
let preview; // the accepted upload's JSON, as the page received it

before(async () => {
  backend = await startBackend();
  b = await startBrowser(backend.baseURL);
});

after(async () => {
  await b?.browser.close();
  await backend?.stop();
});

const csvFile = (name, text) => ({ name, mimeType: 'text/csv', buffer: Buffer.from(text, 'utf8') });

async function upload(page, file) {
  await page.locator('#roster-file').setInputFiles(file);
  await page.getByText(`已选择：${file.name}`).waitFor();
  const response = page.waitForResponse(
    (r) => r.url().endsWith('/roster/imports') && r.request().method() === 'POST',
  );
  await page.getByRole('button', { name: '上传并检查' }).click();
  return response;
}

test('committee member imports a roster and the totals change', async () => {
  const { page, context } = b;
  await staffLogin(page, 'committee');
  await page.getByText('业委会委员', { exact: true }).first().waitFor();
  await screenshot(page, '05-home-committee');
  await assertAccessible(page, 'home (committee)');

  compoundId = await openCompound(page);
  await page.getByText('名册', { exact: true }).waitFor();
  await page.getByText('审计记录', { exact: true }).waitFor();
  await screenshot(page, '06-compound-committee');
  await assertAccessible(page, 'compound (committee)');

  await page.getByText('名册', { exact: true }).click();
  await page.waitForURL(new RegExp(`/c/${compoundId}/roster$`));
  const before = await (await context.request.get(`/api/v1/compounds/${compoundId}/roster/summary`)).json();
  const totalArea = page.getByTestId('total-area');
  await assert.doesNotReject(totalArea.filter({ hasText: `${before.total_area} ㎡` }).waitFor());
  assert.equal((await page.getByTestId('headcount').textContent()).trim(), String(before.subject_count));
  assert.equal((await page.getByTestId('unit-count').textContent()).trim(), String(before.unit_count));
  await page.locator('.unit').first().waitFor();
  // People are masked as the API returns them (family name only); organizations keep their name.
  const owners = await page.locator('.owner').allTextContents();
  assert.ok(owners.some((t) => /^\s*\S\*+/.test(t)), owners.join('\n'));
  await screenshot(page, '07-roster');
  await assertAccessible(page, 'roster');
  await screenshot(page, '07b-roster-units', { at: page.getByRole('heading', { name: '房屋列表' }) });

  // The template downloads through the page (the session is checked first).
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: '下载 CSV 模板' }).click(),
  ]);
  const header = csvHeader(await readFile(await download.path(), 'utf8'));
  assert.ok(header.includes('专有面积（㎡）'), `template header: ${header}`);
  const [xlsx] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: '下载 Excel 模板' }).click(),
  ]);
  assert.match(xlsx.suggestedFilename(), /\.xlsx$/);
  assert.equal((await readFile(await xlsx.path())).subarray(0, 2).toString(), 'PK'); // a zip

  const units = await fetchUnits(context.request, compoundId);
  assert.equal(units.length, before.unit_count);
  const rows = rowsFromUnits(units);

  // An invalid file: a bad area (row 3), a wrong ID check character (row 5), a missing room (row 6).
  const broken = rows.map((r) => ({ ...r }));
  broken[1]['专有面积（㎡）'] = '八十';
  const delivered = broken.findIndex((r, i) => i >= 3 && r.证件号码);
  broken[delivered].证件号码 = residentId(99_999).slice(0, 17) + (residentId(99_999).endsWith('0') ? '1' : '0');
  broken[4].房号 = '';
  const bad = await upload(page, csvFile('名册-有错误.csv', toCsv(header, broken)));
  assert.equal(bad.status(), 422);
  const report = page.getByRole('alert').filter({ hasText: '未写入任何数据' });
  await report.waitFor();
  const items = await report.locator('li').allTextContents();
  assert.ok(items.some((t) => t.includes('第3行') && t.includes('专有面积')), items.join('\n'));
  assert.ok(items.some((t) => t.includes(`第${delivered + 2}行`) && t.includes('证件号码')), items.join('\n'));
  assert.ok(items.some((t) => t.includes('第6行') && t.includes('房号')), items.join('\n'));
  await screenshot(page, '08-roster-errors', { at: page.getByRole('heading', { name: '导入名册' }) });
  await assertAccessible(page, 'roster error report');

  // A valid changed file: one area +1 m², the last unit left out (kept: not removed), one unit added.
  const changed = rows.map((r) => ({ ...r }));
  changed[0]['专有面积（㎡）'] = addOneSquareMetre(changed[0]['专有面积（㎡）']);
  const removed = changed.pop();
  changed.push({
    ...changed[1], 房号: '9901', '专有面积（㎡）': '66.66', 业主类型: '个人', 业主姓名: '新业主',
    证件号码: residentId(40_000), 状态: '已交付',
  });
  const good = await upload(page, csvFile('名册-更新.csv', toCsv(header, changed)));
  assert.equal(good.status(), 201, await good.text());
  preview = await good.json();
  assert.equal(preview.counts.units_added, 1);
  assert.equal(preview.counts.units_missing, 1); // listed apart, never removed by the import
  assert.ok(preview.counts.units_changed >= 1);

  await page.getByRole('heading', { name: /变更预览/ }).waitFor();
  await page.getByText(`${preview.summary.total_area} ㎡`).first().waitFor();
  await page.getByRole('button', { name: /新增房屋/ }).click();
  await page.getByText(`${changed[1].楼栋}${changed[1].单元 ? changed[1].单元 + '单元' : ''}9901`).waitFor();
  const missing = page.getByTestId('missing-in-file');
  await missing.getByText('本次导入不会移除它们').waitFor();
  await missing.getByText(`${removed.楼栋}${removed.单元 ? removed.单元 + '单元' : ''}${removed.房号}`).first().waitFor();
  await page.getByRole('button', { name: /房屋信息变更/ }).click();
  await page.getByText(/专有面积（㎡）：.+ → .+/).first().waitFor();
  await page.waitForTimeout(400); // the last group finishes expanding
  await screenshot(page, '09-roster-preview', { at: page.getByRole('heading', { name: /变更预览/ }) });
  await screenshot(page, '09b-roster-preview-lists', { at: page.getByText('与当前名册相比') });
  await assertAccessible(page, 'roster import preview');

  await page.getByRole('button', { name: '确认导入' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByText(`${preview.summary.total_area} ㎡`).waitFor();
  await page.waitForTimeout(500); // the dialog fades in
  await screenshot(page, '10-roster-confirm', { here: true });
  await assertAccessible(page, 'import confirm dialog');
  await dialog.getByRole('button', { name: '确认导入' }).click();

  await totalArea.filter({ hasText: `${preview.summary.total_area} ㎡` }).waitFor();
  assert.notEqual(preview.summary.total_area, before.total_area);
  assert.equal((await page.getByTestId('headcount').textContent()).trim(), String(preview.summary.headcount));
  assert.equal((await page.getByTestId('unit-count').textContent()).trim(), String(before.unit_count + 1));
  await page.getByRole('heading', { name: /变更预览/ }).waitFor({ state: 'detached' });
  const afterSummary = await (await context.request.get(`/api/v1/compounds/${compoundId}/roster/summary`)).json();
  assert.equal(afterSummary.total_area, preview.summary.total_area);
  await page.waitForTimeout(2500); // let the success toast fade before the screenshot
  await screenshot(page, '11-roster-after-import', { at: page.getByRole('heading', { name: '名册汇总' }) });

  // The new unit is in the list.
  await page.getByLabel('房号').fill('9901');
  await page.getByRole('button', { name: '搜索' }).click();
  await page.locator('.unit-name', { hasText: '9901' }).waitFor();
  assert.deepEqual(b.consoleErrors, []);
});

test('the audit page lists the import and verifies the chain', async () => {
  const { page } = b;
  assert.ok(compoundId, 'runs after the import test');
  await page.goto(`/c/${compoundId}`);
  await page.getByText('审计记录', { exact: true }).click();
  await page.waitForURL(new RegExp(`/c/${compoundId}/audit$`));

  const events = page.getByTestId('events');
  const newest = events.locator('li').first();
  await newest.getByText('导入业主名册').waitFor();
  // One way to state time (shared/dates.js): "12月5日 19:09:04" on screens (the year in another year).
  assert.match(await newest.textContent(), /(\d{4}年)?\d{1,2}月\d{1,2}日 \d{2}:\d{2}:\d{2}/);
  assert.match(await newest.textContent(), /业委会委员/);
  // The demo's ballots add many events: the first page holds more than one of them.
  assert.ok((await events.locator('li').count()) > 1);
  await screenshot(page, '12-audit');

  await page.getByRole('button', { name: '校验记录链' }).click();
  const result = page.getByTestId('verify-result');
  await result.waitFor();
  assert.match(await result.textContent(), /校验通过/);

  // Expanding an event shows its payload and hashes.
  await newest.locator('summary').click();
  await newest.getByText('前一条哈希').waitFor();
  await screenshot(page, '13-audit-verified', { at: page.getByRole('heading', { name: '记录链' }) });
  await assertAccessible(page, 'audit');

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: /导出全部记录/ }).click(),
  ]);
  assert.equal(download.suggestedFilename(), `audit-${compoundId}.jsonl`);
  const lines = (await readFile(await download.path(), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines[0].type, 'header');
  assert.ok(lines.some((l) => l.type === 'event' && l.action === 'roster.imported'));
  assert.deepEqual(b.consoleErrors, []);
});
