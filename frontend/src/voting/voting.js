// Words and small rules for ballots as owners read them: choices, categories, statuses, receipts.

export const CHOICES = [
  { value: 'agree', label: '同意' },
  { value: 'oppose', label: '反对' },
  { value: 'abstain', label: '弃权' },
];

const CHOICE_LABELS = { agree: '同意', oppose: '反对', abstain: '弃权', invalid: '无效票', approve: '选举' };
export const choiceLabel = (c) => CHOICE_LABELS[c] || c || '未填写';

export const CHANNEL_LABELS = { online: '线上投票', proxy: '委托投票', paper: '书面表决票' };
export const channelLabel = (c) => CHANNEL_LABELS[c] || c || '';

/** The categories a matter can have (民法典第二百七十八条 (一)–(九), surveys, Art. 279). */
export const CATEGORIES = [
  { value: '1', label: '（一）制定和修改业主大会议事规则' },
  { value: '2', label: '（二）制定和修改管理规约' },
  { value: '3', label: '（三）选举业主委员会或者更换业主委员会成员' },
  { value: '4', label: '（四）选聘和解聘物业服务企业或者其他管理人' },
  { value: '5', label: '（五）使用建筑物及其附属设施的维修资金' },
  { value: '6', label: '（六）筹集建筑物及其附属设施的维修资金（四分之三）' },
  { value: '7', label: '（七）改建、重建建筑物及其附属设施（四分之三）' },
  { value: '8', label: '（八）改变共有部分的用途或者利用共有部分从事经营活动（四分之三）' },
  { value: '9', label: '（九）有关共有和共同管理权利的其他重大事项' },
  { value: 'survey', label: '意见征集（只统计意见，不作决定）' },
  { value: 'art279', label: '第二百七十九条：住宅改为经营性用房（须有利害关系的业主一致同意）' },
];
export const SPECIAL_MAJORITY = new Set(['6', '7', '8']);
export const isElection = (m) => m && m.category === '3';

/**
 * How a matter is decided under the statute's defaults (民法典第二百七十八条), in plain words for
 * owners; used where no ballot has frozen its rules yet (the draft editor).
 */
export function ruleText(m) {
  if (!m) return '';
  if (m.category === '3') {
    return `选举：每户最多选 ${m.seats} 人，可以少选。候选人须得到参与表决的业主中，专有部分面积和人数都过半数的同意，才能当选。`;
  }
  if (m.category === 'survey') return '意见征集：只统计大家的意见，不作为业主共同决定。';
  if (m.category === 'art279') return '须有利害关系的业主全部同意才能通过；不投票、反对、弃权都算作不同意。';
  const quorum = '参与表决的业主须占全体业主专有部分面积和人数的三分之二以上';
  if (m.needs_special_majority || SPECIAL_MAJORITY.has(m.category)) {
    return `${quorum}，并且同意的面积和人数都要达到参与表决的四分之三以上，才能通过。`;
  }
  return `${quorum}，并且同意的面积和人数都要超过参与表决的一半，才能通过。`;
}

/**
 * The rule that decides a matter of a ballot, as owners read it before they vote: `text` (the
 * sentence), `special` (a three-quarters matter, shown highlighted, with its `lead` words) and
 * `tag` (the short label).
 * Every screen reads a matter's rule from here alone.
 */
export function appliedRule(m) {
  const special = !!m && !!(m.needs_special_majority || SPECIAL_MAJORITY.has(m.category));
  // A ballot's matters carry the rule the server applies (from the thresholds frozen at notice);
  // only a draft being written, which has no frozen rules yet, words the statute here.
  const text = m && m.rule_text ? m.rule_text : ruleText(m);
  return { text, special, lead: special ? '特别事项：' : '', tag: ruleTag(m, special) };
}

// The tag names the kind of matter; the numbers are the rule text's alone, so a compound's
// stricter ratios are never contradicted by a statutory tag.
function ruleTag(m, special) {
  if (!m) return '';
  if (m.category === '3') return `选举 · 最多选${m.seats}人`;
  if (m.category === 'survey') return '意见征集';
  if (m.category === 'art279') return '须一致同意';
  return special ? '特别多数通过' : '多数通过';
}

/** Vant tag colours for a ballot's status. */
export function statusTagType(status) {
  return { open: 'success', noticed: 'primary', draft: 'default', published: 'primary', cancelled: 'danger' }[status] || 'warning';
}

export const isClosedStatus = (s) => ['closed', 'tallied', 'published'].includes(s);
export const isOverStatus = (s) => ['ended', 'closed', 'tallied', 'published'].includes(s);

/** A 32-character receipt code in groups of four, easier to read aloud and compare. */
export const groupCode = (code) => (code ? String(code).match(/.{1,4}/g).join(' ') : '');
/** The short code owners keep (7KQ4-M2XD-9P) of a receipt or cast record. */
export const shortOf = (cast) => (cast ? cast.receipt_short || groupCode(cast.receipt_code) : '');

/** num/den as a percentage with two decimals, half up, in integers (BigInt): "30.60%". */
export function percentOf(num, den) {
  if (!den) return '—';
  const n = BigInt(num) * 20000n + BigInt(den);
  const q = n / (2n * BigInt(den));
  return `${q / 100n}.${String(q % 100n).padStart(2, '0')}%`;
}

/** "74.26%" from the API's {fraction, percent}: owners read percentages (the fraction is for recounts). */
export const ratioText = (r) => (r ? r.percent : '无法计算');

/** One matter's recorded choice in words, with candidate names for elections. */
export function describeChoice(matter, value) {
  if (value && typeof value === 'object') {
    const ids = value.approve || [];
    if (!ids.length) return '未选择任何候选人';
    const names = new Map(((matter && matter.candidates) || []).map((c) => [c.id, c.name]));
    return `同意：${ids.map((id) => names.get(id) || `候选人${id}`).join('、')}`;
  }
  return choiceLabel(value);
}

// The receipt just received, kept for this tab so the receipt page survives a reload (a proxy
// cannot read it back through my-votes, which lists the owner's own subjects only).
const receiptKey = (ballotId, subjectId) => `gj-receipt-${ballotId}-${subjectId}`;

export function rememberReceipt(ballotId, subjectId, receipt) {
  try {
    sessionStorage.setItem(receiptKey(ballotId, subjectId), JSON.stringify(receipt));
  } catch {
    // private mode: the receipt page falls back to my-votes
  }
}

export function recallReceipt(ballotId, subjectId) {
  try {
    return JSON.parse(sessionStorage.getItem(receiptKey(ballotId, subjectId)) || 'null');
  } catch {
    return null;
  }
}

/**
 * A cast's choices as { matterId: "agree" | { approve: [ids] } }, from my-votes (a list of
 * {matter_id, choice | approve}) or from a kept receipt (the submitted {"<id>": value} map).
 */
export function castValues(cast) {
  if (!cast) return {};
  if (Array.isArray(cast.choices)) {
    return Object.fromEntries(cast.choices.map((c) => [c.matter_id, c.approve ? { approve: c.approve } : c.choice]));
  }
  return Object.fromEntries(Object.entries(cast.choices || {}).map(([k, v]) => [Number(k), v]));
}
