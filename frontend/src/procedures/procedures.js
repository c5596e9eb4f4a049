// Procedures (三议一审两公开): labels and small helpers shared by the screens (the API calls are
// in api.js).
import { formatDate } from '../shared/dates.js';

export const STATUS_TAG = {
  in_progress: 'primary',
  returned: 'warning',
  rejected: 'danger',
  closed: 'success',
};

export const ACTION_WORDS = {
  approve: '同意',
  return: '退回修改',
  reject: '不同意',
};

// What an approving action is called at each kind of step.
export const APPROVE_WORDS = {
  meeting: '商议通过',
  review: '同意',
  record: '已办理',
};

/** The due line of an item: "3月20日前" or "已逾期". */
export function dueText(item) {
  if (!item || !item.due_at) return '';
  return item.overdue ? `已逾期（应于${formatDate(item.due_at)}前办理）` : `请于${formatDate(item.due_at)}前办理`;
}
