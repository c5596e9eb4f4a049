// The one way to state time (shared spec with the server's app/timefmt.py): the same table of
// cases — midnight end, midnight start, noon, year boundary — run against shared/dates.js.
// Run: node --test frontend/unit/ (frontend/e2e/run.sh runs it with the browser tests).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  formatDate, formatDateTime, formatEnd, formatMoment, formatPeriod, formatTime,
} from '../src/shared/dates.js';

// "Now" for the current-year rule: 2026-12-05 10:00 Beijing time.
const NOW = new Date('2026-12-05T02:00:00Z');

// [UTC instant, options, expected]
const CASES = [
  // An end at local midnight is the day before at 24:00, never the next day at 00:00.
  ['2026-12-10T16:00:00Z', { end: true }, '2026年12月10日 24:00'],
  ['2026-12-10T16:00:00Z', { end: true, withYear: false }, '12月10日 24:00'],
  // A start at midnight is 00:00 of its own day.
  ['2026-12-10T16:00:00Z', {}, '2026年12月11日 00:00'],
  ['2026-12-10T16:00:00Z', { withYear: false }, '12月11日 00:00'],
  // Noon: an end and a start read the same.
  ['2026-12-10T04:00:00Z', {}, '2026年12月10日 12:00'],
  ['2026-12-10T04:00:00Z', { end: true }, '2026年12月10日 12:00'],
  ['2026-12-10T10:30:00Z', {}, '2026年12月10日 18:30'],
  // Year boundary: an end at midnight of 1 January is 31 December 24:00 of the year before.
  ['2026-12-31T16:00:00Z', { end: true }, '2026年12月31日 24:00'],
  ['2026-12-31T16:00:00Z', { end: true, withYear: false }, '12月31日 24:00'],
  ['2026-12-31T16:00:00Z', {}, '2027年1月1日 00:00'],
  // Another year keeps its year even where the current one may be left out.
  ['2026-12-31T16:00:00Z', { withYear: false }, '2027年1月1日 00:00'],
  ['2025-06-01T01:05:00Z', { withYear: false }, '2025年6月1日 09:05'],
  // One minute past midnight is not midnight.
  ['2026-12-10T16:01:00Z', { end: true }, '2026年12月11日 00:01'],
];

test('formatMoment follows the shared table of cases', () => {
  for (const [iso, opts, expected] of CASES) {
    assert.equal(formatMoment(iso, { ...opts, now: NOW }), expected, `${iso} ${JSON.stringify(opts)}`);
  }
});

test('a date alone keeps its year; plain dates are calendar days', () => {
  assert.equal(formatDate('2026-12-10'), '2026年12月10日');
  assert.equal(formatDate('2026-12-10T16:00:00Z'), '2026年12月11日'); // its Beijing day
  assert.equal(formatDate('2027-01-01'), '2027年1月1日');
  assert.equal(formatDate(''), '');
  assert.equal(formatDate('not a date'), '');
});

test('screen shorthands use the same rules', () => {
  // Relative to the real clock: a far-future year always shows, so these do not depend on today.
  assert.equal(formatEnd('2099-03-01T16:00:00Z'), '2099年3月1日 24:00');
  assert.equal(formatDateTime('2099-03-01T16:00:00Z'), '2099年3月2日 00:00');
  assert.equal(formatPeriod('2099-02-22T16:00:00Z', '2099-03-01T16:00:00Z'), '2099年2月23日 00:00 至 2099年3月1日 24:00');
  assert.equal(formatTime('2099-03-01T15:37:05Z'), '2099年3月1日 23:37:05');
  // This year's moments drop the year on screens.
  const thisYear = new Date().toISOString().slice(0, 4);
  const noonToday = new Date();
  noonToday.setUTCHours(4, 0, 0, 0);
  assert.doesNotMatch(formatDateTime(noonToday.toISOString()), new RegExp(`^${thisYear}年`));
  assert.equal(formatMoment(null), '');
  assert.equal(formatMoment('garbage'), '');
});
