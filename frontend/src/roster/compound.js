// Loads one compound's public facts (GET /compounds/{id}) for the compound's screens.
import { ref, watch } from 'vue';
import { getCompound } from './api.js';

const cache = new Map();

export function useCompound(idRef) {
  const compound = ref(null);
  const error = ref('');
  watch(
    idRef,
    async (id) => {
      compound.value = cache.get(id) || null;
      error.value = '';
      if (compound.value) return;
      try {
        const data = await getCompound(id);
        cache.set(id, data);
        compound.value = data;
      } catch (err) {
        error.value = err.detail;
      }
    },
    { immediate: true },
  );
  return { compound, error };
}
