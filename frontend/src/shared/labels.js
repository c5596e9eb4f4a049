// Chinese labels for codes the API returns, and small display helpers (dates are in dates.js).

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
  'account.disabled': '停用账号',
  'account.enabled': '启用账号',
  'account.password_reset': '重置账号密码',
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
  user_account: '工作人员账号',
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
