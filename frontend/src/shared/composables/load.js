// A screen's one read: the record (null until it is there), the refusal to read it, and the read
// itself, repeated whenever the route's ids change.
import { ref, watch } from 'vue';

/**
 * `useLoad(read, sources)`: `data` holds what `read()` resolved to, `error` the server's refusal.
 * `load()` reads again; with `sources` it runs at once and whenever they change. With `clear` the
 * old record is dropped before each read, so "正在加载…" shows instead of the previous one.
 */
export function useLoad(read, sources = null, { clear = false } = {}) {
  const data = ref(null);
  const error = ref('');

  async function load() {
    error.value = '';
    if (clear) data.value = null;
    try {
      data.value = await read();
    } catch (err) {
      error.value = err.detail;
    }
  }

  if (sources) watch(sources, load, { immediate: true });
  return { data, error, load };
}
