// Procedures (三议一审两公开): labels and small helpers shared by the screens (the API calls are
// in api.js).

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

const beijingDay = new Intl.DateTimeFormat('zh-CN', {
  timeZone: 'Asia/Shanghai',
  year: 'numeric',
  month: 'long',
  day: 'numeric',
});

/** An ISO timestamp as a Beijing date: 2026年3月17日. */
export function formatDay(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : beijingDay.format(d);
}

/** Today's date in Beijing as YYYY-MM-DD (for a date input's default). */
export function todayInBeijing() {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' })
      .formatToParts(new Date())
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day}`;
}

/** The due line of an item: "3月20日前" or "已逾期". */
export function dueText(item) {
  if (!item || !item.due_at) return '';
  return item.overdue ? `已逾期（应于${formatDay(item.due_at)}前办理）` : `请于${formatDay(item.due_at)}前办理`;
}
