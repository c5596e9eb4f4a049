// Dates and times as people in China read them: every timestamp the API sends is UTC and is shown
// in Beijing time (UTC+8 all year); plain YYYY-MM-DD dates are calendar days. The one place the
// front end formats a date or asks what day it is.

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

/** 2026年11月21日, from an ISO timestamp (its Beijing day) or a plain YYYY-MM-DD date. */
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

/** Today's date in Beijing, YYYY-MM-DD (the server checks dates in the same zone). */
export function todayInShanghai() {
  const p = beijingParts(new Date().toISOString());
  return `${p.year}-${p.month}-${p.day}`;
}

/** A YYYY-MM-DD date plus n days (calendar arithmetic in UTC, so no time zone creeps in). */
export function addDays(day, n) {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}
