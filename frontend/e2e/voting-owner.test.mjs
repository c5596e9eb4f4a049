// Owners and ballots: (a) vote on the open ballot, get a receipt, change the vote; (b) read the
// published ballot's results, check a receipt code in the public list, open the result notice
// and its PDF; a co-owner who is not the representative is told why they cannot vote.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { OWNER_PHONES, assertAccessible, openCompound, ownerLogin, screenshot, startBackend, startBrowser } from './harness.mjs';

const OPEN_BALLOT = '2026年第二次业主大会';
const PAST_BALLOT = '2026年第一次业主大会';

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
/** Hundredths of m² as the API prints them: 2358914 → "23589.14". */
const area = (h) => `${Math.floor(h / 100)}.${String(h % 100).padStart(2, '0')}`;
const receiptCode = async (page) => (await page.getByTestId('receipt-code').textContent()).trim();

/** Tick 同意/反对/弃权 on one matter card of the vote form. */
async function choose(page, position, label) {
  await page.getByTestId(`matter-${position}`).locator('label', { hasText: label }).click();
}

test('owner votes on all matters, gets a receipt, then changes the vote', async () => {
  const { page } = b;
  await ownerLogin(page, backend, OWNER_PHONES[0]);
  compoundId = await openCompound(page);

  // The compound page lists the open ballot with this owner's flats not yet voted.
  const open = page.getByTestId('open-ballots');
  const card = open.getByRole('link', { name: new RegExp(OPEN_BALLOT) });
  await card.getByText('尚未投票').waitFor();
  await page.getByTestId('notices').getByText('决议公告').first().waitFor();
  await page.getByTestId('finished-ballots').getByText(PAST_BALLOT).waitFor();
  await screenshot(page, '20-compound-owner-ballots');
  await assertAccessible(page, 'compound with ballots (owner)');

  await card.click();
  await page.waitForURL(/\/ballots\/\d+$/);
  const ballotId = Number(new URL(page.url()).pathname.split('/')[4]);
  const detail = await api(`/ballots/${ballotId}`);
  const [simple, special, election] = detail.matters;
  assert.equal(special.needs_special_majority, true);
  assert.equal(election.seats, 5);
  await page.getByRole('heading', { name: OPEN_BALLOT }).waitFor();
  await page.getByTestId('ballot-period').filter({ hasText: /月.*日 00:00 至 .*24:00/ }).waitFor();
  await page.getByTestId('matter-2').getByText('四分之三', { exact: false }).first().waitFor();
  await screenshot(page, '21-ballot-open');
  await assertAccessible(page, 'ballot vote form');

  // Submitting with matters left open points at them instead of sending anything.
  await page.getByRole('button', { name: '提交', exact: true }).click();
  await page.getByRole('alert').filter({ hasText: '还有 2 项没有选择' }).waitFor();
  await page.getByTestId('matter-1').getByText('请选择“同意”“反对”或“弃权”').waitFor();
  await page.waitForTimeout(800); // the page scrolls smoothly to the first unanswered matter
  await screenshot(page, '21b-ballot-missing', { here: true });

  await choose(page, 1, '同意');
  await choose(page, 2, '同意');
  const picker = page.getByTestId('matter-3');
  for (const c of election.candidates.slice(0, 5)) await picker.locator('label', { hasText: c.name }).click();
  assert.equal((await page.getByTestId('picked-count').textContent()).trim(), '5');
  // A sixth candidate cannot be ticked.
  assert.equal(await picker.getByRole('checkbox', { name: new RegExp(election.candidates[6].name) }).isDisabled(), true);
  await picker.getByText('已选满 5 人').waitFor();

  await page.getByRole('button', { name: '提交', exact: true }).click();
  const sheet = page.getByRole('dialog', { name: '请确认您的选择' });
  await sheet.waitFor();
  const summary = sheet.getByTestId('confirm-summary');
  await summary.getByText(`同意：${election.candidates.slice(0, 5).map((c) => c.name).join('、')}`).waitFor();
  assert.equal(await summary.getByText('同意', { exact: true }).count(), 2);
  await page.waitForTimeout(400); // the sheet slides in
  await screenshot(page, '22-ballot-confirm', { here: true });
  await assertAccessible(page, 'vote confirmation sheet');
  await sheet.getByRole('button', { name: '确认提交' }).click();

  await page.waitForURL(/\/receipt\/\d+$/);
  await page.getByRole('heading', { name: '投票已提交' }).waitFor();
  const first = await receiptCode(page);
  assert.match(first, /^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{2}$/);
  assert.match(await page.getByTestId('receipt-seq').textContent(), /第 \d+ 条/);
  await page.getByTestId('receipt-choices').getByText(`同意：${election.candidates[0].name}`, { exact: false }).waitFor();
  await screenshot(page, '23-receipt');
  await assertAccessible(page, 'receipt');

  // Change the vote: the form comes back with the recorded choices ticked. The server's answer
  // with the recorded vote is held back 1.5 s (a slow phone network): when it arrives after the
  // owner has started changing the choices, the changes stay.
  let heldBack = 0;
  await page.route('**/my-votes', async (route) => {
    heldBack += 1;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await route.continue();
  });
  await page.getByRole('button', { name: '修改投票' }).click();
  await page.waitForURL(/edit=1/);
  await page.getByRole('heading', { name: '修改投票' }).waitFor();
  assert.equal(await page.getByTestId('matter-1').getByRole('radio', { name: '同意' }).isChecked(), true);
  await choose(page, 1, '反对');
  await choose(page, 2, '弃权');
  await picker.locator('label', { hasText: election.candidates[0].name }).click(); // untick
  await picker.locator('label', { hasText: election.candidates[6].name }).click();
  await page.waitForResponse('**/my-votes', { timeout: 10_000 }).catch(() => {});
  await page.waitForTimeout(300); // let the page apply the late answer
  await page.unroute('**/my-votes');
  assert.ok(heldBack >= 1, 'the ballot page asked for my votes while changing');
  assert.equal(await page.getByTestId('matter-1').getByRole('radio', { name: '反对' }).isChecked(), true);
  assert.equal(await page.getByTestId('matter-2').getByRole('radio', { name: '弃权' }).isChecked(), true);
  await page.getByRole('button', { name: '提交', exact: true }).click();
  await sheet.getByText('反对', { exact: true }).waitFor();
  await sheet.getByRole('button', { name: '确认提交' }).click();
  await page.waitForURL(/\/receipt\/\d+$/);
  await page.getByTestId('receipt-choices').getByText('反对', { exact: true }).waitFor();
  const second = await receiptCode(page);
  assert.notEqual(second, first, 'a changed vote gets a new receipt');
  const choices = page.getByTestId('receipt-choices');
  await choices.getByText('弃权', { exact: true }).waitFor();
  assert.match(await choices.textContent(), new RegExp(election.candidates[6].name));
  assert.doesNotMatch(await choices.textContent(), new RegExp(`同意：${election.candidates[0].name}`));
  await screenshot(page, '25-receipt-changed');

  // The server counts the last vote; the ballot page shows the recorded choices.
  const mine = await api(`/ballots/${ballotId}/my-votes`);
  const casts = mine[0].casts;
  assert.equal(casts.length, 2);
  assert.equal(casts.find((c) => c.effective).receipt_short, second);
  await page.getByRole('link', { name: '返回表决页面' }).click();
  const recorded = page.getByTestId('my-recorded-vote');
  await recorded.getByText('本户已投票').waitFor();
  await recorded.getByText('反对', { exact: true }).waitFor();
  await recorded.getByText(second).waitFor();
  await screenshot(page, '24-ballot-voted');
  await assertAccessible(page, 'ballot already voted');
  assert.deepEqual(b.consoleErrors, []);
});

test('owner reads the published results, checks a receipt code and opens the result notice', async () => {
  const { page, context } = b;
  assert.ok(compoundId, 'runs after the voting test');
  await page.goto(`/c/${compoundId}`);
  await page.getByTestId('finished-ballots').getByRole('link', { name: new RegExp(PAST_BALLOT) }).click();
  await page.waitForURL(/\/ballots\/\d+$/);
  const ballotId = Number(new URL(page.url()).pathname.split('/')[4]);
  const results = await api(`/ballots/${ballotId}/results`);
  assert.equal(results.final, true);

  await page.getByRole('heading', { name: '表决结果（已公告）' }).waitFor();
  for (const m of results.matters) {
    const card = page.getByTestId(`result-${m.position}`);
    assert.equal((await card.getByTestId('verdict').textContent()).trim(), m.passed ? '通过' : '未通过');
    await card.getByText(m.result.participation_area_ratio.percent).first().waitFor();
    await card.getByText(`要求：${m.result.thresholds.approval_area.label}`).first().waitFor();
  }
  await screenshot(page, '26-ballot-results', { at: page.getByRole('heading', { name: '表决结果（已公告）' }) });
  await screenshot(page, '26b-ballot-results-full');
  await assertAccessible(page, 'published results');

  // 查票 and the receipt check: the demo voted for about 80% of flats, so either case can happen.
  const mine = await api(`/ballots/${ballotId}/my-votes`);
  const cast = mine[0].casts.find((c) => c.effective);
  const receipts = page.getByTestId('receipts');
  if (cast) {
    await page.getByTestId('my-votes').getByText(cast.receipt_short).waitFor();
    await receipts.getByRole('button', { name: /核对本户回执码/ }).click();
    await receipts.getByTestId('code-found').filter({ hasText: cast.receipt_short }).waitFor();
  } else {
    await page.getByTestId('my-votes').getByTestId('no-vote').waitFor();
    const published = await api(`/ballots/${ballotId}/receipts`);
    await receipts.getByLabel('回执码', { exact: true }).fill(published.receipt_codes[3].toUpperCase().match(/.{4}/g).join('-'));
    await receipts.getByRole('button', { name: '核对', exact: true }).click();
    await receipts.getByTestId('code-found').waitFor();
  }
  await receipts.getByLabel('回执码', { exact: true }).fill('0000 1111 2222');
  await receipts.getByRole('button', { name: '核对', exact: true }).click();
  await receipts.getByTestId('code-not-found').waitFor();
  await screenshot(page, '27-receipt-check', { at: page.getByRole('heading', { name: '核对我的回执码' }) });
  await assertAccessible(page, 'receipt check');

  // The result notice, with its PDF for the notice board.
  await page.getByRole('link', { name: '决议公告', exact: true }).click();
  await page.waitForURL(/\/notices\/\d+$/);
  await page.getByRole('heading', { name: `${PAST_BALLOT}：决议公告` }).waitFor();
  await page.getByTestId('notice-body').getByText(/[^未]通过。/).first().waitFor(); // each matter's outcome in one plain sentence
  await page.getByRole('heading', { name: '表决结果', exact: true }).waitFor(); // the structured section
  const r0 = results.matters[0].result;
  await page.getByText(`${area(r0.participating_area)}㎡ / ${r0.participating_headcount}人`).first().waitFor();
  // Long hashes and signatures (核验信息) wrap: the phone never scrolls sideways.
  assert.ok(await page.evaluate(() => document.scrollingElement.scrollWidth <= window.innerWidth),
    'the result notice fits the width of the phone');
  await screenshot(page, '28-notice');
  await assertAccessible(page, 'notice');
  const href = await page.getByTestId('pdf-link').getAttribute('href');
  const pdf = await context.request.get(href);
  assert.equal(pdf.status(), 200);
  assert.match(pdf.headers()['content-type'], /^application\/pdf/);
  assert.equal((await pdf.body()).subarray(0, 4).toString(), '%PDF');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('pdf-link').click()]);
  assert.match(download.suggestedFilename(), /\.pdf$/);
  assert.deepEqual(b.consoleErrors, []);
});

test('a co-owner who is not the representative is told why they cannot vote', async () => {
  const { page, context } = b;
  await context.clearCookies();
  await ownerLogin(page, backend, '13800000003');
  await openCompound(page);
  await page.getByTestId('open-ballots').getByText('由共有人代表投票').waitFor();
  await page.getByTestId('open-ballots').getByRole('link', { name: new RegExp(OPEN_BALLOT) }).click();
  const note = page.getByTestId('co-owner-note');
  await note.getByText('您不是本户登记的代表人').waitFor();
  assert.equal(await page.getByRole('button', { name: '提交', exact: true }).count(), 0);
  assert.equal(await page.getByRole('radio').count(), 0);
  await screenshot(page, '29-ballot-co-owner');
  await assertAccessible(page, 'ballot (co-owner)');
  assert.deepEqual(b.consoleErrors, []);
});
