// Roster safety (issue 14), on a phone (390×844) and on a PC (1366×768): the roster exports to an
// XLSX in the import template; a 2-row file imported from it removes nothing; what a file lacks is
// removed only by the explicit step (typed count, reason, a confirmation naming the consequence);
// a unit's area is corrected with a reason and the change shows in the audit trail.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { PYTHON, assertAccessible, screenshot, staffLogin, startBackend, startBrowser } from './harness.mjs';
import { addOneSquareMetre } from './roster-files.mjs';

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

// The exported workbook's rows as CSV files: its first two rows, and all rows but the last.
const SPLIT = `
import csv, io, json, sys
from openpyxl import load_workbook
rows = [["" if v is None else (repr(v) if isinstance(v, float) else str(v)) for v in r]
        for r in load_workbook(io.BytesIO(open(sys.argv[1], "rb").read()), read_only=True)["名册"]
        .iter_rows(values_only=True)]
def text(part):
    out = io.StringIO(newline="")
    csv.writer(out).writerows([rows[0], *part])
    return out.getvalue()
print(json.dumps({"count": len(rows) - 1, "two": text(rows[1:3]), "most": text(rows[1:-1]),
                  "last": rows[-1][:3]}, ensure_ascii=False))
`;

const csvFile = (name, text) => ({ name, mimeType: 'text/csv', buffer: Buffer.from(text, 'utf8') });

async function summary(request) {
  return (await request.get(`/api/v1/compounds/${compoundId}/roster/summary`)).json();
}

async function upload(page, file) {
  await page.locator('#roster-file').setInputFiles(file);
  await page.getByText(`已选择：${file.name}`).waitFor();
  const response = page.waitForResponse((r) => r.url().endsWith('/roster/imports') && r.request().method() === 'POST');
  await page.getByRole('button', { name: '上传并检查' }).click();
  const r = await response;
  assert.equal(r.status(), 201, await r.text());
  await page.getByRole('heading', { name: /变更预览/ }).waitFor();
  return r.json();
}

async function confirmImport(page, expectMissingText) {
  await page.getByRole('button', { name: '确认导入' }).click();
  const dialog = page.getByRole('dialog');
  if (expectMissingText) await dialog.getByText(/不会被移除/).waitFor();
  const applied = page.waitForResponse((r) => r.url().endsWith('/apply') && r.request().method() === 'POST');
  await dialog.getByRole('button', { name: '确认导入' }).click();
  assert.equal((await applied).status(), 200);
  await page.getByRole('heading', { name: /变更预览/ }).waitFor({ state: 'detached' });
}

async function run(page, tag) {
  const request = page.context().request;
  await staffLogin(page, 'committee');
  if (!compoundId) {
    const compounds = await (await request.get('/api/v1/compounds')).json();
    compoundId = compounds.find((c) => c.name === '阳光花园').id;
  }
  await page.goto(`/c/${compoundId}/roster`);
  const start = await summary(request);
  await page.getByTestId('unit-count').filter({ hasText: String(start.unit_count) }).waitFor();

  // 1. Export: an XLSX in the import template, downloaded through the page.
  const exported = page.waitForResponse((r) => r.url().includes('/roster/export'));
  const downloading = page.waitForEvent('download');
  await page.getByTestId('roster-export').click();
  const answer = await exported;
  assert.equal(answer.status(), 200, `${answer.status()} ${JSON.stringify(answer.headers())}`);
  const download = await downloading;
  assert.match(download.suggestedFilename(), /^业主名册-.+\.xlsx$/);
  const path = await download.path();
  assert.equal((await readFile(path)).subarray(0, 2).toString(), 'PK');
  const files = JSON.parse(execFileSync(PYTHON, ['-c', SPLIT, path], { encoding: 'utf8' }));
  assert.equal(files.count, start.unit_count);
  assert.doesNotMatch(files.most, /(^|[,；])\d{17}[\dX](?=[,；\r])/); // no ID number in clear
  assert.match(files.most, /已登记尾号/);

  // 2. A 2-row file: the preview shows what the file lacks apart, in the danger colour, and says
  // the import will not remove it; applying it removes nothing.
  const two = await upload(page, csvFile(`两行-${tag}.csv`, files.two));
  assert.equal(two.counts.units_missing, start.unit_count - 2);
  assert.equal(two.counts.units_added + two.counts.units_changed + two.counts.owners_moved, 0);
  const missing = page.getByTestId('missing-in-file');
  await missing.getByText('本次导入不会移除它们').waitFor();
  await missing.getByText(String(start.unit_count - 2), { exact: true }).waitFor();
  const colour = await missing.locator('.missing-title').evaluate((el) => getComputedStyle(el).color);
  assert.equal(colour, 'rgb(179, 38, 30)');
  const badge = await page.locator('.group-count').first().evaluate((el) => getComputedStyle(el).backgroundColor);
  assert.notEqual(badge, 'rgb(179, 38, 30)'); // additions and changes never in the danger colour
  assert.equal(await page.getByText('移除房屋').count(), 0);
  await screenshot(page, `roster-safety-${tag}-01-preview`, { at: missing });
  await assertAccessible(page, `roster 2-row preview (${tag})`);
  await confirmImport(page, true);
  let now = await summary(request);
  assert.equal(now.unit_count, start.unit_count);
  assert.equal(now.total_area, start.total_area);
  assert.equal(now.subject_count, start.subject_count);
  await page.getByTestId('unit-count').filter({ hasText: String(start.unit_count) }).waitFor();
  const pending = page.getByTestId('pending-removals');
  await pending.getByText(`房屋 ${start.unit_count - 2} 套`).waitFor();

  // 3. The export minus its last row imports back unchanged but for that row, which waits.
  const most = await upload(page, csvFile(`名册-${tag}.csv`, files.most));
  assert.deepEqual(
    [most.counts.units_missing, most.counts.units_unchanged, most.counts.units_added, most.counts.units_changed],
    [1, start.unit_count - 1, 0, 0],
  );
  await confirmImport(page, true);
  await pending.getByText('房屋 1 套').waitFor();

  // 4. The explicit removal step: the count must be typed and a reason given.
  const removeButton = pending.getByRole('button', { name: '移除这些房屋和业主' });
  await page.locator('#removal-reason').fill('房屋已与隔壁合并，不动产登记已注销');
  await page.locator('#removal-count').fill('2');
  assert.equal(await removeButton.isDisabled(), true);
  await page.locator('#removal-count').fill('1');
  assert.equal(await removeButton.isDisabled(), false);
  await screenshot(page, `roster-safety-${tag}-02-removal`, { at: pending });
  await assertAccessible(page, `roster removal step (${tag})`);
  await removeButton.click();
  const dialog = page.getByRole('dialog');
  await dialog.getByText(/将从名册中移除房屋 1 套.*不能撤销/).waitFor();
  await page.waitForTimeout(400); // the dialog fades in
  await screenshot(page, `roster-safety-${tag}-03-removal-confirm`, { here: true });
  const removed = page.waitForResponse((r) => r.url().endsWith('/roster/removals') && r.request().method() === 'POST');
  await dialog.getByRole('button', { name: '确认移除' }).click();
  assert.equal((await removed).status(), 200);
  await pending.waitFor({ state: 'detached' });
  now = await summary(request);
  assert.equal(now.unit_count, start.unit_count - 1);
  await page.getByTestId('unit-count').filter({ hasText: String(start.unit_count - 1) }).waitFor();

  // 5. One unit's area corrected on its own screen, with a reason, seen in the audit trail.
  const units = (await (await request.get(`/api/v1/compounds/${compoundId}/units?limit=1`)).json()).items;
  const unit = units[0];
  await page.goto(`/c/${compoundId}/units/${unit.id}`);
  await page.getByTestId('unit-area').filter({ hasText: `${unit.area} ㎡` }).waitFor();
  const area = addOneSquareMetre(unit.area);
  await page.getByLabel(/专有面积（㎡/).fill(area);
  const save = page.getByRole('button', { name: '保存修改' });
  assert.equal(await save.isDisabled(), true); // no reason yet
  const reason = `按不动产登记簿更正面积（${tag}）`;
  await page.locator('#unit-reason').fill(reason);
  await save.click();
  await page.getByTestId('unit-area').filter({ hasText: `${area} ㎡` }).waitFor();
  await screenshot(page, `roster-safety-${tag}-04-unit`);
  await assertAccessible(page, `unit screen (${tag})`);
  await page.getByRole('link', { name: '查看这套房屋的修改记录' }).click();
  await page.waitForURL(new RegExp(`/c/${compoundId}/audit\\?`));
  const event = page.getByTestId('events').locator('li').filter({ hasText: reason }).first();
  await event.waitFor();
  assert.match(await event.textContent(), /修改房屋.+的专有面积/);
  await screenshot(page, `roster-safety-${tag}-05-audit`);
  assert.deepEqual(b.consoleErrors, []);
}

test('phone 390×844: a 2-row import removes nothing; removal, export and edit', async () => {
  await run(b.page, 'phone');
});

test('PC 1366×768: the same on a desktop screen', async () => {
  const context = await b.browser.newContext({
    baseURL: backend.baseURL,
    viewport: { width: 1366, height: 768 },
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    acceptDownloads: true,
  });
  context.setDefaultTimeout(Number(process.env.GONGJUE_E2E_TIMEOUT_MS) || 30_000);
  const page = await context.newPage();
  page.on('pageerror', (err) => b.consoleErrors.push(String(err)));
  try {
    await run(page, 'pc');
  } finally {
    await context.close();
  }
});
