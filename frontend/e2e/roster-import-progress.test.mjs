// Roster import of a legacy .xls (issue 17), on a phone (390×844) and on a PC (1366×768): the file
// WPS and older Excel save is read like an .xlsx, and while a check takes longer than a second
// the screen says it is still working and for how long. The request is held back 8 s before it
// reaches the real back end, so the check is slow for certain on any machine.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { PYTHON, SCREENSHOTS, assertAccessible, staffLogin, startBackend, startBrowser } from './harness.mjs';

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

// The import template's rows written as an Excel 97–2003 workbook.
const XLS = `
import csv, io, sys, xlwt
from app.roster.template import template_csv
rows = list(csv.reader(io.StringIO(template_csv().decode("utf-8-sig"))))
book = xlwt.Workbook(encoding="utf-8")
sheet = book.add_sheet("名册")
for r, row in enumerate(rows):
    for c, value in enumerate(row):
        sheet.write(r, c, value)
out = io.BytesIO()
book.save(out)
sys.stdout.buffer.write(out.getvalue())
`;

async function run(page, tag) {
  await staffLogin(page, 'committee');
  if (!compoundId) {
    const compounds = await (await page.context().request.get('/api/v1/compounds')).json();
    compoundId = compounds.find((c) => c.name === '阳光花园').id;
  }
  await page.goto(`/c/${compoundId}/roster`);
  const buffer = execFileSync(PYTHON, ['-c', XLS]);
  assert.equal(buffer.subarray(0, 4).toString('hex'), 'd0cf11e0'); // a legacy OLE file
  const name = `旧版名册-${tag}.xls`;
  await page.locator('#roster-file').setInputFiles({ name, mimeType: 'application/vnd.ms-excel', buffer });
  await page.getByText(`已选择：${name}`).waitFor();

  await page.route('**/roster/imports', async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 8000));
    await route.continue();
  });
  const response = page.waitForResponse((r) => r.url().endsWith('/roster/imports') && r.request().method() === 'POST');
  const started = Date.now();
  await page.getByRole('button', { name: '上传并检查' }).click();
  const progress = page.getByTestId('import-progress');
  await progress.getByText(/正在上传并逐行检查名册，已用时 [1-5] 秒/).waitFor();
  assert.ok(Date.now() - started >= 900, 'shown only after a second');
  assert.equal(await progress.getAttribute('role'), 'status');
  // Not the harness's screenshot(): it waits for the network to go idle, i.e. for the answer.
  await progress.scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(SCREENSHOTS, `roster-import-progress-${tag}-01-checking.png`) });
  await progress.getByText(/已用时 [2-7] 秒/).waitFor(); // the seconds count on
  const r = await response;
  assert.equal(r.status(), 201, await r.text());
  await page.getByRole('heading', { name: `变更预览：${name}` }).waitFor();
  await progress.waitFor({ state: 'detached' });
  await assertAccessible(page, `roster .xls preview (${tag})`);
  assert.equal((await r.json()).row_count, 3);
  await page.unroute('**/roster/imports');
  await page.getByRole('button', { name: '放弃本次导入' }).click();
  assert.deepEqual(b.consoleErrors, []);
}

test('phone 390×844: an .xls roster is checked, with progress while it takes time', async () => {
  await run(b.page, 'phone');
});

test('PC 1366×768: the same on a desktop screen', async () => {
  const context = await b.browser.newContext({
    baseURL: backend.baseURL,
    viewport: { width: 1366, height: 768 },
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
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
