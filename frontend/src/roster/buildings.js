// The compound's buildings as {id, name, entrances}, for ballot scopes and notice audiences.
import { ref, watch } from 'vue';
import { getRosterSummary } from './api.js';
import { getProgress, listBallots } from '../voting/api.js';

const cache = new Map();

/**
 * GET /roster/summary lists buildings by name; when it also carries `building_id` that is used.
 * Otherwise the ids come from the progress of a ballot that has opened (its per-building rows
 * carry id and name), so a compound that never opened a ballot cannot yet pick buildings.
 */
async function fetchBuildings(compoundId) {
  const summary = await getRosterSummary(compoundId);
  const rows = summary.by_building || [];
  if (rows.length && rows.every((b) => Number.isInteger(b.building_id))) {
    return rows.map((b) => ({ id: b.building_id, name: b.building, entrances: b.entrances || [] }));
  }
  const ballots = await listBallots(compoundId);
  const opened = ballots.find((b) => b.opened_at && b.scope_label === '全体业主');
  if (!opened) return [];
  const progress = await getProgress(compoundId, opened.id);
  const ids = new Map(progress.by_building.map((b) => [b.building, b.building_id]));
  return rows
    .filter((b) => ids.has(b.building))
    .map((b) => ({ id: ids.get(b.building), name: b.building, entrances: b.entrances || [] }));
}

export function useBuildings(idRef) {
  const buildings = ref([]);
  const error = ref('');
  watch(
    idRef,
    async (id) => {
      error.value = '';
      if (!cache.has(id)) cache.set(id, fetchBuildings(id).catch((err) => {
        cache.delete(id);
        throw err;
      }));
      try {
        buildings.value = await cache.get(id);
      } catch (err) {
        error.value = err.detail || '无法读取楼栋列表';
      }
    },
    { immediate: true },
  );
  return { buildings, error };
}
