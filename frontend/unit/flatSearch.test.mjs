// Finding a flat as people type it (shared/flatSearch.js; the same rules as app/search.py,
// whose cases are in tests/roster/test_unit_filters.py and tests/voting/test_non_voter_filters.py).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flatParts, labelMatches } from '../src/shared/flatSearch.js';

test('a typed flat splits into building, entrance and room', () => {
  assert.deepEqual(flatParts('3-201'), ['3', '201']);
  assert.deepEqual(flatParts('3号楼201'), ['3', '201']);
  assert.deepEqual(flatParts('3栋2单元1201室'), ['3', '2', '1201']);
  assert.deepEqual(flatParts(' 3 201 '), ['3', '201']);
  assert.deepEqual(flatParts('1201'), ['1201']);
});

test('labels match literally or part by part', () => {
  const cases = [
    ['3栋1单元201', '3-201', true],
    ['3栋1单元201', '3号楼201', true],
    ['3栋1单元201', '3号楼20', true], // the room as it is being typed
    ['3栋1单元201', '3-1-201', true],
    ['3栋1单元201', '3-2-201', false], // another entrance
    ['13栋1单元201', '3-201', false], // another building
    ['3栋1单元1201', '3-201', false], // the room begins with what was typed
    ['3栋1单元201', '1单元20', true], // literally
    ['1栋1单元301、3栋2单元1502', '3-1502', true], // any of a subject's flats
    ['1栋1单元301、3栋2单元1502', '301-3', false], // never across two flats
    ['开发建设单位（未售/未交付2套）', '开发', true],
    ['3栋1单元201', '', true],
  ];
  for (const [label, typed, expected] of cases) assert.equal(labelMatches(label, typed), expected, `${label} ~ ${typed}`);
});
