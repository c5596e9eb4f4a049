// What owners read (issue 15): results in plain words with the verification material folded away,
// short receipt codes (copy, QR check link, check with any separators), turnout while a ballot is
// open, open ballots before upcoming ones, an owner of one compound landing in it, each role's
// home leading to its work, and the text size switch (the vote screen still fits at 特大).
// Phone size 390×844 throughout.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  OWNER_PHONES, assertAccessible, ownerLogin, screenshot, staffLogin, startBackend, startBrowser,
} from './harness.mjs';

const OPEN_BALLOT = '2026年第二次业主大会';
const PAST_BALLOT = '2026年第一次业主大会';
const UPCOMING = '加装电梯意见征集（e2e）';
const SHORT = /^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{2}$/;

let backend;
let b;
let compoundId;
let openId;
let pastId;

before(async () => {
  backend = await startBackend();
  b = await startBrowser(backend.baseURL);
  await b.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: backend.baseURL });
});

after(async () => {
  await b?.browser.close();
  await backend?.stop();
});

const get = async (path) => {
  const res = await b.context.request.get(`/api/v1${path}`);
  assert.ok(res.ok(), `${path}: ${res.status()} ${await res.text()}`);
  return res.json();
};
const post = async (path, data) => {
  const csrf = (await b.context.cookies()).find((c) => c.name === 'gj_csrf').value;
  const res = await b.context.request.post(`/api/v1${path}`, { data, headers: { 'X-CSRF-Token': csrf } });
  assert.ok(res.ok(), `${path}: ${res.status()} ${await res.text()}`);
  return res.json();
};

/** Beijing midnight `days` from today, as an ISO instant. */
function beijingMidnight(days) {
  const now = new Date(Date.now() + 8 * 3600_000); // Beijing wall clock read as UTC
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + days));
  return new Date(d.getTime() - 8 * 3600_000).toISOString();
}

/** No sideways scrolling on the current screen. */
async function assertNoHorizontalOverflow(page, screen) {
  const { scroll, client } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth,
  }));
  assert.ok(scroll <= client, `${screen}: scrollWidth ${scroll} > clientWidth ${client}`);
}

test('staff homes lead to their work; the committee announces an upcoming ballot', async () => {
  const { page, context } = b;
  await staffLogin(page, 'reviewer');
  await page.getByTestId('work-review').click();
  await page.waitForURL(/\/review$/);
  await page.getByRole('heading', { name: /审核/ }).first().waitFor();

  await context.clearCookies();
  await staffLogin(page, 'observer');
  await page.getByTestId('work-audit').first().click();
  await page.waitForURL(/\/c\/\d+\/audit$/);
  compoundId = Number(new URL(page.url()).pathname.split('/')[2]);

  await context.clearCookies();
  await staffLogin(page, 'committee');
  await screenshot(page, 'words-01-home-committee');
  await assertAccessible(page, 'home (committee)');
  await page.getByTestId('work-ballots').first().click();
  await page.waitForURL(new RegExp(`/c/${compoundId}/manage/ballots$`));

  // An upcoming ballot, created after the open one so that the API lists it first.
  const created = await post(`/compounds/${compoundId}/ballots`, {
    title: UPCOMING,
    starts_at: beijingMidnight(20),
    ends_at: beijingMidnight(27),
    matters: [{ title: '是否同意在1栋加装电梯', category: 'survey' }],
  });
  await post(`/compounds/${compoundId}/ballots/${created.id}/notice`, {});
  const all = await get(`/compounds/${compoundId}/ballots`);
  openId = all.find((x) => x.title === OPEN_BALLOT).id;
  pastId = all.find((x) => x.title === PAST_BALLOT).id;
  await context.clearCookies();
});

test('an owner of one compound lands in it: open before upcoming, turnout while open', async () => {
  const { page } = b;
  await ownerLogin(page, backend, OWNER_PHONES[0]);
  await page.waitForURL(new RegExp(`/c/${compoundId}$`));

  const cards = page.getByTestId('open-ballots').locator('.card-title');
  await cards.nth(1).waitFor();
  assert.deepEqual((await cards.allTextContents()).map((t) => t.trim()), [OPEN_BALLOT, UPCOMING]);
  // The upcoming ballot's start is a start at midnight: 00:00 of its own day.
  await page.getByTestId('open-ballots').getByText(/投票将于 .*月.*日 00:00 开始/).waitFor();

  const turnout = await get(`/compounds/${compoundId}/ballots/${openId}/turnout`);
  const card = page.getByTestId('open-ballots').getByTestId('turnout');
  await card.getByTestId('turnout-area').getByText(turnout.area_ratio.percent).waitFor();
  await card.getByTestId('turnout-headcount').getByText(turnout.headcount_ratio.percent).waitFor();
  await card.getByText(`须达到${turnout.quorum_label}（${turnout.quorum_percent}）`).waitFor();
  assert.equal(await page.getByTestId('open-ballots').getByTestId('turnout').count(), 1, 'only the open ballot');
  await screenshot(page, 'words-02-compound-owner');
  await assertAccessible(page, 'compound with turnout (owner)');

  // The ballot page shows the same turnout, and its end the way the notice writes it (24:00).
  await page.getByTestId('open-ballots').getByRole('link', { name: new RegExp(OPEN_BALLOT) }).click();
  await page.waitForURL(new RegExp(`/ballots/${openId}$`));
  await page.getByTestId('turnout').getByText(turnout.headcount_ratio.percent).waitFor();
  assert.match(await page.getByTestId('ballot-period').textContent(), /24:00$/);
});

test('the receipt: a short code, a copy button, a QR code; the full receipt folded away', async () => {
  const { page } = b;
  const detail = await get(`/compounds/${compoundId}/ballots/${openId}`);
  const subject = detail.my_subjects.find((s) => s.may_vote && !s.voted);
  const choices = Object.fromEntries(detail.matters.map((m) => [
    String(m.id), m.category === '3' ? { approve: [m.candidates[0].id] } : 'agree',
  ]));
  const receipt = await post(`/compounds/${compoundId}/ballots/${openId}/votes`, { subject_id: subject.subject_id, choices });
  assert.match(receipt.receipt_short, SHORT);

  await page.goto(`/c/${compoundId}/ballots/${openId}/receipt/${subject.subject_id}`);
  const code = page.getByTestId('receipt-code');
  await code.waitFor();
  assert.equal((await code.textContent()).trim(), receipt.receipt_short);
  assert.equal(await page.getByText('请截图或抄下').count(), 0);
  await page.getByTestId('copy-code').click();
  await page.getByTestId('copy-state').filter({ hasText: receipt.receipt_short }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), receipt.receipt_short);
  await page.getByRole('img', { name: '核对回执码的二维码' }).waitFor();
  // The full receipt and the audit position are in a closed 核验信息.
  const verify = page.getByTestId('receipt-verify');
  assert.equal(await verify.evaluate((el) => el.open), false);
  assert.equal(await page.getByTestId('receipt-full').isVisible(), false);
  await verify.locator('summary').click();
  assert.equal((await page.getByTestId('receipt-full').textContent()).trim(), receipt.receipt_code);
  await verify.locator('summary').click();
  await screenshot(page, 'words-03-receipt');
  await assertAccessible(page, 'receipt');
  await assertNoHorizontalOverflow(page, 'receipt');
});

test('the result page in plain words; 核验信息 folded; receipt check with any separators', async () => {
  const { page } = b;
  const results = await get(`/compounds/${compoundId}/ballots/${pastId}/results`);
  await page.goto(`/c/${compoundId}/ballots/${pastId}`);
  await page.getByRole('heading', { name: '表决结果（已公告）' }).waitFor();
  for (const m of results.matters) {
    const card = page.getByTestId(`result-${m.position}`);
    const sentence = (await card.getByTestId('result-sentence').textContent()).trim();
    assert.match(sentence, new RegExp(`^${m.passed ? '通过' : '未通过'}：`));
    assert.ok(sentence.includes(m.result.participation_area_ratio.percent), sentence);
    assert.ok(sentence.includes(m.result.approval_headcount_ratio.percent), sentence);
    assert.match(sentence, /\d+\.\d{2}%/);
  }
  // No raw fractions anywhere on the owner's result view (explanations included).
  const text = await page.getByTestId('results').evaluate((el) => el.textContent);
  assert.doesNotMatch(text, /\d+\/\d+/);
  assert.doesNotMatch(text, /python|app\.audit/);
  const verify = page.getByTestId('verify-info');
  assert.equal(await verify.evaluate((el) => el.open), false);
  assert.equal(await verify.getByText(results.closing_audit.hash).isVisible(), false);
  await screenshot(page, 'words-04-results', { at: page.getByRole('heading', { name: '表决结果（已公告）' }) });
  await verify.locator('summary').click();
  await verify.getByText(results.closing_audit.hash).waitFor();
  await screenshot(page, 'words-05-verify-info', { at: verify });
  await assertAccessible(page, 'results with 核验信息 open');
  await assertNoHorizontalOverflow(page, 'results');

  // Any published code, typed in lower case with spaces instead of dashes, is found.
  const published = await get(`/compounds/${compoundId}/ballots/${pastId}/receipts`);
  const short = published.short_codes[2];
  const receipts = page.getByTestId('receipts');
  await receipts.getByLabel('回执码', { exact: true }).fill(short.toLowerCase().replace(/-/g, ' '));
  await receipts.getByRole('button', { name: '核对', exact: true }).click();
  await receipts.getByTestId('code-found').filter({ hasText: short }).waitFor();
  // The full receipt still checks.
  await receipts.getByLabel('回执码', { exact: true }).fill(published.receipt_codes[0].toUpperCase());
  await receipts.getByRole('button', { name: '核对', exact: true }).click();
  await receipts.getByTestId('code-found').waitFor();
  await receipts.getByLabel('回执码', { exact: true }).fill('12345');
  await receipts.getByRole('button', { name: '核对', exact: true }).click();
  await receipts.getByTestId('code-not-found').filter({ hasText: '格式不正确' }).waitFor();
  await screenshot(page, 'words-06-receipt-check', { at: page.getByRole('heading', { name: '核对我的回执码' }) });

  // The QR code's link checks the code on arrival.
  await page.goto(`/c/${compoundId}/ballots/${pastId}?receipt=${encodeURIComponent(short.toLowerCase())}`);
  await page.getByTestId('receipts').getByTestId('code-found').filter({ hasText: short }).waitFor();
});

test('text sizes: kept per device, applied app wide, the vote screen fits 390 px at each size', async () => {
  const { page } = b;
  const detail = await get(`/compounds/${compoundId}/ballots/${openId}`);
  const todo = detail.my_subjects.find((s) => s.may_vote);
  assert.ok(todo, 'the owner may vote');
  // A flat that has voted shows the same form to change the vote.
  const form = todo.voted ? `subject=${todo.subject_id}&edit=1` : `subject=${todo.subject_id}`;
  const sizes = [['标准', 1], ['大', 1.15], ['特大', 1.3]];
  let standardTitle = 0;
  for (const [label, scale] of sizes) {
    await page.goto('/');
    const sw = page.getByTestId('text-size');
    await sw.locator('label', { hasText: new RegExp(`^${label}$`) }).click();
    assert.equal(await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--gj-text-scale').trim()), String(scale));
    if (label === '特大') {
      await screenshot(page, 'words-07-home-text-size');
      await assertAccessible(page, 'home with the text size switch');
    }
    await page.goto(`/c/${compoundId}/ballots/${openId}?${form}`);
    const title = page.getByRole('heading', { name: /^(请投票|修改投票)$/ });
    await title.waitFor();
    // Kept on this device: still applied after a reload.
    await page.reload();
    await title.waitFor();
    const height = (await title.boundingBox()).height;
    if (scale === 1) standardTitle = height;
    else assert.ok(height > standardTitle, `${label}: the text grows (${height} vs ${standardTitle})`);
    await assertNoHorizontalOverflow(page, `vote screen at ${label}`);
    // Every choice and the submit button are within the phone's width.
    const submit = page.getByRole('button', { name: '提交', exact: true });
    await submit.scrollIntoViewIfNeeded();
    const box = await submit.boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= 390, `${label}: submit at ${box.x}+${box.width}`);
    for (const choice of ['同意', '反对', '弃权']) {
      const c = await page.getByTestId('matter-1').locator('label', { hasText: choice }).boundingBox();
      assert.ok(c.x >= 0 && c.x + c.width <= 390, `${label}: ${choice} at ${c.x}+${c.width}`);
    }
    if (label === '特大') {
      await page.evaluate(() => window.scrollTo(0, 0));
      await screenshot(page, 'words-08-vote-xlarge');
      await screenshot(page, 'words-09-vote-xlarge-submit', { at: submit });
      await assertAccessible(page, 'vote screen at 特大');
    }
  }
  // Back to the standard size for whoever uses this browser next.
  await page.goto('/');
  await page.getByTestId('text-size').locator('label', { hasText: /^标准$/ }).click();
  assert.deepEqual(b.consoleErrors, []);
});
