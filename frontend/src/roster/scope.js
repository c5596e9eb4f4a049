// A ballot's scope or a notice's audience in words, as the server writes it (app/roster/scope.py):
// 全体业主, or 3号楼2单元、5号楼.

/** Scope model { all, buildings: [id], entrances: [{ building_id, entrance }] } → words. */
export function scopeWords(scope, buildings) {
  if (scope.all) return '全体业主';
  const names = new Map(buildings.map((b) => [b.id, b.name]));
  const name = (id) => names.get(id) || `楼栋${id}`;
  const parts = [
    ...scope.buildings.map((id) => ({ key: [id, ''], text: name(id) })),
    ...scope.entrances
      .filter((e) => !scope.buildings.includes(e.building_id))
      .map((e) => ({ key: [e.building_id, e.entrance], text: `${name(e.building_id)}${e.entrance}单元` })),
  ];
  parts.sort((a, b) => a.key[0] - b.key[0] || (a.key[1] < b.key[1] ? -1 : a.key[1] > b.key[1] ? 1 : 0));
  return parts.map((p) => p.text).join('、');
}

/** The model from what the API returns: buildings ([] or 'compound') and entrances. */
export function scopeFrom(buildingIds, entrances) {
  const ids = buildingIds === 'compound' ? [] : [...(buildingIds || [])];
  const list = (entrances || []).map((e) => ({ building_id: e.building_id, entrance: e.entrance }));
  return { all: buildingIds === 'compound' || (!ids.length && !list.length), buildings: ids, entrances: list };
}

/** Whether a partial scope has nothing chosen yet. */
export function scopeEmpty(scope) {
  return !scope.all && !scope.buildings.length && !scope.entrances.length;
}
