// Dates and times as people in China read them: every timestamp the API sends is UTC and is shown
// in Beijing time (UTC+8 all year); plain YYYY-MM-DD dates are calendar days. The one place the
// front end formats a date or asks what day it is.
//
// The one way to state time (the same rules as the server's app/timefmt.py):
//   a moment      2026年12月10日 18:30 — on screens the year may be left out when it is the
//                 current year (12月10日 18:30): formatMoment(iso, { withYear: false });
//   an end        (voting ends, objection window ends, deadlines) at local midnight is the day
//                 before at 24:00 (12月10日 24:00), never 12月11日 00:00: { end: true };
//   a start       at midnight is 00:00;
//   a date alone  2026年12月10日.

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

/** The Beijing wall-clock parts of an ISO timestamp (UTC) or a Date, or null when it is not a date. */
function beijingParts(value) {
  if (!value) return null;
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) return null;
  return Object.fromEntries(beijing.formatToParts(d).map((p) => [p.type, p.value]));
}

const cnDay = (y, m, d, withYear = true) => `${withYear ? `${y}年` : ''}${Number(m)}月${Number(d)}日`;

/**
 * A moment in Beijing time: "2026年12月10日 18:30".
 * - end: an end at local midnight is written as the day before at 24:00;
 * - withYear (default true): false leaves the year out when it is the current (Beijing) year —
 *   for screens only, never for notices, PDFs and exports;
 * - seconds: add ":ss" (audit records, where the order within a minute matters);
 * - now: the moment that decides "the current year" (tests; default the clock).
 */
export function formatMoment(iso, { end = false, withYear = true, seconds = false, now = new Date() } = {}) {
  let p = beijingParts(iso);
  if (!p) return '';
  let clock = `${p.hour}:${p.minute}${seconds ? `:${p.second}` : ''}`;
  if (end && p.hour === '00' && p.minute === '00' && p.second === '00') {
    p = beijingParts(new Date(new Date(iso).getTime() - 1000));
    clock = seconds ? '24:00:00' : '24:00';
  }
  const current = beijingParts(now);
  const showYear = withYear || !current || current.year !== p.year;
  return `${cnDay(p.year, p.month, p.day, showYear)} ${clock}`;
}

/** 2026年11月21日, from an ISO timestamp (its Beijing day) or a plain YYYY-MM-DD date. */
export function formatDate(value) {
  if (!value) return '';
  const plain = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(value));
  if (plain) return cnDay(plain[1], plain[2], plain[3]);
  const p = beijingParts(value);
  return p ? cnDay(p.year, p.month, p.day) : '';
}

// Screen shorthands: the year is left out in the current year.

/** A start or any moment on a screen: "12月10日 18:30" (with the year when not this year). */
export const formatDateTime = (iso) => formatMoment(iso, { withYear: false });

/** An end on a screen: midnight is 24:00 of the day before ("12月10日 24:00"). */
export const formatEnd = (iso) => formatMoment(iso, { end: true, withYear: false });

/** A recorded moment with seconds (audit, receipts, entries): "12月10日 18:30:05". */
export const formatTime = (iso) => formatMoment(iso, { withYear: false, seconds: true });

/** "12月4日 00:00 至 12月10日 24:00" */
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
