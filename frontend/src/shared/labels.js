// Chinese labels for codes the API returns, and date formatting in Beijing time.

export const ROLE_LABELS = {
  platform_admin: '平台管理员',
  committee: '业委会委员',
  reviewer: '社区党组织审核人',
  observer: '观察员（两代表一委员）',
  clerk: '物业工作人员',
  owner: '业主',
  system: '系统',
};

export const ACTION_LABELS = {
  'compound.created': '创建小区',
  'roster.imported': '导入名册',
  'role.granted': '授予角色',
  'role.revoked': '撤销角色',
  'subject.representative_set': '指定代表人',
  'audit.checkpoint_signed': '签署检查点',
  'file.stored': '存档文件',
  'voting.settings_changed': '修改表决规则设置',
  'ballot.drafted': '起草表决',
  'ballot.draft_updated': '修改表决草稿',
  'ballot.noticed': '发布表决公告',
  'ballot.opened': '开始表决',
  'ballot.closed': '结束表决',
  'ballot.tallied': '完成计票',
  'ballot.published': '公布表决结果',
  'vote.cast': '投票',
  'vote.changed': '修改投票',
  'vote.conflict_recorded': '记录投票冲突',
  'vote.conflict_resolved': '处理投票冲突',
  'proxy.submitted': '提交委托投票',
  'proxy.accepted': '接受委托投票',
  'proxy.rejected': '驳回委托投票',
  'paper.entered': '录入纸质表决票',
  'paper.rejected': '认定纸质表决票无效',
  'objection.raised': '提出异议',
  'objection.answered': '答复异议',
};

export const OBJECT_LABELS = {
  compound: '小区',
  roster_import: '名册导入',
  role_grant: '角色授权',
  voting_subject: '表决主体',
  audit_checkpoint: '检查点',
  checkpoint: '检查点',
  ballot: '表决',
  file: '文件',
};

export const UNIT_STATUS_LABELS = {
  delivered: '已交付',
  unsold: '未售',
  undelivered: '已售未交付',
};

export const AREA_SOURCE_LABELS = {
  register: '不动产登记',
  survey: '测绘',
  contract: '合同',
};

export const CHECKPOINT_REASONS = {
  manual: '手动签署',
  daily: '每日签署',
  ballot_closed: '表决结束',
  ballot_published: '结果公布',
};

export const roleLabel = (code) => ROLE_LABELS[code] || code;
export const actionLabel = (code) => ACTION_LABELS[code] || code;
export const objectLabel = (code) => OBJECT_LABELS[code] || code;

const beijing = new Intl.DateTimeFormat('zh-CN', {
  timeZone: 'Asia/Shanghai',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23', // never "24:00:00" at midnight
});

/** The Beijing wall-clock parts of an ISO timestamp (UTC), or null when it is not a date. */
function beijingParts(iso) {
  if (!iso) return null;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return null;
  return Object.fromEntries(beijing.formatToParts(d).map((p) => [p.type, p.value]));
}

/** An ISO timestamp (UTC) shown as Beijing time: 2026-11-21 23:37:05. */
export function formatTime(iso) {
  const p = beijingParts(iso);
  if (!p) return iso ? String(iso) : '';
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

const cnDay = (y, m, d) => `${y}年${Number(m)}月${Number(d)}日`;

/** 2026年11月21日 08:00 (Beijing time). */
export function formatDateTime(iso) {
  const p = beijingParts(iso);
  if (!p) return '';
  return `${cnDay(p.year, p.month, p.day)} ${p.hour}:${p.minute}`;
}

/** 2026年11月21日, from an ISO timestamp (Beijing day) or a plain YYYY-MM-DD date. */
export function formatDate(value) {
  if (!value) return '';
  const plain = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(value));
  if (plain) return cnDay(plain[1], plain[2], plain[3]);
  const p = beijingParts(value);
  return p ? cnDay(p.year, p.month, p.day) : '';
}

/** An end time; midnight is shown as 24:00 of the day before, as people say it ("27日24时"). */
export function formatEnd(iso) {
  const p = beijingParts(iso);
  if (!p) return '';
  if (p.hour === '00' && p.minute === '00') {
    const q = beijingParts(new Date(new Date(iso).getTime() - 60_000).toISOString());
    return `${cnDay(q.year, q.month, q.day)} 24:00`;
  }
  return formatDateTime(iso);
}

/** "2026年11月21日 00:00 至 2026年11月27日 24:00" */
export function formatPeriod(start, end) {
  return `${formatDateTime(start)} 至 ${formatEnd(end)}`;
}

/** The value of an <input type="datetime-local"> showing a UTC timestamp in Beijing time. */
export function toShanghaiInput(iso) {
  const p = beijingParts(iso);
  return p ? `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}` : '';
}

/** A datetime-local value read as Beijing time (UTC+8 all year, no daylight saving). */
export function fromShanghaiInput(value) {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(value || '') ? `${value}:00+08:00` : '';
}

/** Today's date in Beijing, YYYY-MM-DD. */
export function shanghaiToday() {
  const p = beijingParts(new Date().toISOString());
  return `${p.year}-${p.month}-${p.day}`;
}

/** A YYYY-MM-DD date plus n days (calendar arithmetic in UTC, so no time zone creeps in). */
export function addDays(day, n) {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

export const shortHash = (h) => (h ? String(h).slice(0, 12) : '');

/** "1栋1单元101" from a unit's parts. */
export function unitLabel(u) {
  if (!u) return '';
  return `${u.building || ''}${u.entrance ? u.entrance + '单元' : ''}${u.room || ''}`;
}

/** Integer hundredths of m² as an exact 2-decimal string: 12345 → "123.45". */
export function formatArea(hundredths) {
  const n = Number(hundredths);
  if (!Number.isInteger(n)) return '—';
  const abs = Math.abs(n);
  return `${n < 0 ? '-' : ''}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}
