// Paper ballots door to door (issue 14, item 7, and the paper-entry warning of item 3): the
// committee downloads the pre-filled paper ballots, types a ballot's serial and sees its flat
// selected, is told before saving that the flat already voted online, and downloads the
// door-to-door worklist of non-voters (PDF and Excel). On a phone (390×844) and a PC (1366×768).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { assertAccessible, openCompound, screenshot, staffLogin, startBackend, startBrowser } from './harness.mjs';

const OPEN_BALLOT = '2026年第二次业主大会';
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
const SIZES = [
  { name: 'phone', viewport: { width: 390, height: 844 } },
  { name: 'pc', viewport: { width: 1366, height: 768 } },
];

let backend;
let b;
let compoundId;
let ballotId;

before(async () => {
  backend = await startBackend();
  b = await startBrowser(backend.baseURL);
});

after(async () => {
  await b?.browser.close();
  await backend?.stop();
});

const api = (path) => b.context.request.get(`/api/v1/compounds/${compoundId}${path}`).then((r) => r.json());

/** Click and save what the browser downloads; returns its bytes and suggested name. */
async function downloaded(page, button) {
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 120_000 }), button.click()]);
  return { bytes: readFileSync(await dl.path()), name: dl.suggestedFilename() };
}

const pdfText = (bytes) => execFileSync('pdftotext', ['-layout', '-', '-'], { input: bytes }).toString();

/** A flat of the open ballot whose vote came in online, and one that has not voted. */
async function flats() {
  const waiting = (await api(`/ballots/${ballotId}/non-voters?limit=500`)).items;
  const waitingIds = new Set(waiting.map((s) => s.subject_id));
  const all = [];
  for (let offset = 0; ; offset += 200) {
    const page200 = await api(`/subjects?offset=${offset}&limit=200`);
    all.push(...page200.items);
    if (all.length >= page200.total) break;
  }
  let online = null;
  for (const s of all.filter((x) => !waitingIds.has(x.id)).slice(0, 40)) {
    const standing = await api(`/ballots/${ballotId}/paper-lookup?subject_id=${s.id}`);
    if (standing.channel === 'online') {
      online = standing;
      break;
    }
  }
  assert.ok(online, 'the demo ballot has an online vote');
  const fresh = await api(`/ballots/${ballotId}/paper-lookup?subject_id=${waiting[7].subject_id}`);
  return { online, fresh, waiting };
}

test('committee prints paper ballots, finds a flat by serial, is warned, downloads the worklist', async () => {
  const { page } = b;
  await staffLogin(page, 'committee');
  compoundId = await openCompound(page);
  ballotId = (await api('/ballots')).find((x) => x.title === OPEN_BALLOT).id;
  const { online, fresh, waiting } = await flats();

  for (const size of SIZES) {
    await page.setViewportSize(size.viewport);
    await page.goto(`/c/${compoundId}/manage/ballots/${ballotId}`);

    // 1. The paper ballots: one page per flat with its label and serial.
    const print = page.getByTestId('paper-print');
    await print.getByRole('heading', { name: '书面表决票' }).waitFor();
    const ballots = await downloaded(page, print.getByTestId('paper-print-download'));
    assert.equal(ballots.name, `书面表决票-${ballotId}.pdf`);
    assert.equal(ballots.bytes.subarray(0, 4).toString(), '%PDF');
    const text = pdfText(ballots.bytes);
    for (const flat of [online, fresh]) {
      assert.ok(text.includes(flat.serial), `serial ${flat.serial} printed`);
      assert.ok(text.includes(flat.label), `flat ${flat.label} printed`);
    }
    assert.ok(text.includes('同意') && text.includes('签名'));
    await screenshot(page, `paper-01-print-${size.name}`, { at: print });
    await assertAccessible(page, `paper ballots print (${size.name})`);

    // 2. Typing a serial selects its flat; the flat voted online: the warning says what happens.
    await page.getByRole('tab', { name: '书面票' }).click();
    const paper = page.getByTestId('paper');
    await paper.getByTestId('paper-serial').fill(` ${online.serial.toLowerCase()} `);
    await paper.getByTestId('paper-serial-find').click();
    const standing = paper.getByTestId('paper-standing');
    await standing.getByText('通过线上投票表决', { exact: false }).waitFor();
    await standing.getByText('记为冲突', { exact: false }).waitFor();
    assert.equal(await paper.locator('#paper-subject-s').inputValue(), String(online.subject_id));
    assert.equal(await standing.getAttribute('role'), 'alert');
    await screenshot(page, `paper-02-warning-${size.name}`, { at: standing });
    await assertAccessible(page, `paper entry warning (${size.name})`);

    // Saving needs the member to acknowledge it first.
    for (const select of await paper.locator('form select.native-select').all()) {
      if ((await select.getAttribute('id')) !== 'paper-subject-s') await select.selectOption('agree');
    }
    await paper.locator('form fieldset').getByRole('checkbox').nth(1).check();
    await paper.locator('#paper-file').setInputFiles({ name: '表决票.pdf', mimeType: 'application/pdf', buffer: PDF });
    await paper.getByText('已上传：表决票.pdf').waitFor();
    await paper.getByRole('button', { name: /录入，等待另一名委员确认/ }).click();
    await paper.getByText('请先阅读上方提示并勾选“我已知晓”').waitFor();

    // A wrong serial is refused; choosing a flat that has not voted shows no warning.
    await paper.getByTestId('paper-serial').fill(online.serial.slice(0, -1) + (online.serial.endsWith('0') ? '1' : '0'));
    await paper.getByTestId('paper-serial-find').click();
    await paper.getByTestId('paper-serial-error').getByText('校验不符', { exact: false }).waitFor();
    await paper.getByTestId('paper-serial').fill(fresh.serial);
    await paper.getByTestId('paper-serial').press('Enter');
    await standing.getByText('该户尚未投票', { exact: false }).waitFor();
    assert.equal(await paper.locator('#paper-subject-s').inputValue(), String(fresh.subject_id));
    assert.equal(await standing.getAttribute('role'), 'status');
    assert.equal(await paper.getByTestId('paper-ack').count(), 0);

    // 3. The worklist of non-voters: PDF grouped by building and entrance, and Excel.
    await page.getByRole('tab', { name: '未投票户' }).click();
    const worklist = page.getByTestId('worklist');
    const pdf = await downloaded(page, worklist.getByTestId('worklist-pdf'));
    assert.equal(pdf.name, `未投票户上门名单-${ballotId}.pdf`);
    const sheet = pdfText(pdf.bytes);
    assert.match(sheet, /未投票户上门名单/);
    assert.match(sheet, /\d+栋(\d+单元)?（\d+ 套未投票）/);
    assert.ok(sheet.includes(fresh.serial), 'a non-voter\'s serial is on the worklist');
    assert.ok(!sheet.includes(online.serial), 'a flat that voted is not');
    assert.doesNotMatch(sheet, /1[3-9]\d{9}/, 'phones are masked');
    const xlsx = await downloaded(page, worklist.getByTestId('worklist-xlsx'));
    assert.equal(xlsx.name, `未投票户上门名单-${ballotId}.xlsx`);
    assert.equal(xlsx.bytes.subarray(0, 2).toString(), 'PK');
    assert.ok(waiting.length > 0);
    await screenshot(page, `paper-03-worklist-${size.name}`, { at: worklist });
    await assertAccessible(page, `non-voters with worklist (${size.name})`);
  }
  assert.deepEqual(b.consoleErrors, []);
});
