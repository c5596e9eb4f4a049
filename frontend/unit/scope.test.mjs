// A scope in words, the same way the server writes it (app/roster/scope.py scope_words):
// 全体业主, or buildings and entrances by building, an entrance of a whole building left out.
// Run: node --test frontend/unit/
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scopeEmpty, scopeFrom, scopeWords } from '../src/roster/scope.js';

const BUILDINGS = [{ id: 3, name: '3号楼' }, { id: 5, name: '5号楼' }];

test('a scope reads as the server writes it', () => {
  assert.equal(scopeWords(scopeFrom('compound'), BUILDINGS), '全体业主');
  assert.equal(scopeWords(scopeFrom([], [{ building_id: 3, entrance: '2' }]), BUILDINGS), '3号楼2单元');
  assert.equal(
    scopeWords(scopeFrom([5], [{ building_id: 3, entrance: '2' }, { building_id: 3, entrance: '1' }]), BUILDINGS),
    '3号楼1单元、3号楼2单元、5号楼',
  );
  // An entrance of a building chosen whole adds nothing.
  assert.equal(scopeWords(scopeFrom([3], [{ building_id: 3, entrance: '2' }]), BUILDINGS), '3号楼');
});

test('the model from the API, and an empty partial scope', () => {
  assert.deepEqual(scopeFrom([], []), { all: true, buildings: [], entrances: [] });
  assert.equal(scopeFrom([], [{ building_id: 3, entrance: '2' }]).all, false);
  assert.equal(scopeEmpty({ all: false, buildings: [], entrances: [] }), true);
  assert.equal(scopeEmpty({ all: true, buildings: [], entrances: [] }), false);
});
