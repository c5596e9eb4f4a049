// Chinese labels for codes the API returns, and small display helpers (dates are in dates.js).

export const ROLE_LABELS = {
  platform_admin: '平台管理员',
  committee: '业委会委员',
  reviewer: '社区党组织审核人',
  observer: '观察员（两代表一委员）',
  clerk: '物业工作人员',
  grid_worker: '网格员',
  supervisor: '街道/社区监管',
  owner: '业主',
  system: '系统',
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

export const roleLabel = (code) => ROLE_LABELS[code] || code;

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
