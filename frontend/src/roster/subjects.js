// The compound's voting subjects (表决户) by id and label, for the committee's forms and lists.
import { computed, ref, watch } from 'vue';
import { listSubjects } from './api.js';

const PAGE = 200;

async function fetchAll(compoundId) {
  const out = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await listSubjects(compoundId, { offset, limit: PAGE });
    out.push(...page.items.map((s) => ({ id: s.id, label: s.label, area: s.area })));
    if (out.length >= page.total || !page.items.length) return out;
  }
}

/** Subjects are loaded only when `enabledRef` is true (the list is for committee members). */
export function useSubjects(idRef, enabledRef) {
  const subjects = ref([]);
  const error = ref('');
  watch(
    [idRef, enabledRef],
    async ([id, enabled]) => {
      if (!enabled) return;
      error.value = '';
      try {
        subjects.value = await fetchAll(id);
      } catch (err) {
        error.value = err.detail;
      }
    },
    { immediate: true },
  );
  const byId = computed(() => new Map(subjects.value.map((s) => [s.id, s])));
  const labelOf = (id) => (byId.value.get(id) || {}).label || `表决户 ${id}`;
  return { subjects, error, labelOf };
}
