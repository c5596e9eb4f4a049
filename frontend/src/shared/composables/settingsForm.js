// A compound's settings screen: one record read when the compound changes, written back whole,
// with the refusal to read it, the refusal to save it, and the save in progress.
import { ref, watch } from 'vue';
import { showSuccessToast } from '../ui.js';

/**
 * `useSettingsForm(compoundId, { read, write, fill })`: `read(cid)` and `write(cid, body)` return
 * the settings; `fill(settings)` copies them into the screen's form. `save(body, done)` writes and
 * toasts `done` (a text, or a function of the saved settings giving one).
 */
export function useSettingsForm(compoundId, { read, write, fill = () => {} }) {
  const settings = ref(null);
  const error = ref('');
  const saving = ref(false);
  const saveError = ref('');

  function take(s) {
    settings.value = s;
    fill(s);
  }

  async function load() {
    error.value = '';
    try {
      take(await read(compoundId.value));
    } catch (err) {
      error.value = err.detail;
    }
  }

  async function save(body, done) {
    saveError.value = '';
    saving.value = true;
    try {
      take(await write(compoundId.value, body));
      showSuccessToast(typeof done === 'function' ? done(settings.value) : done);
    } catch (err) {
      saveError.value = err.detail;
    } finally {
      saving.value = false;
    }
  }

  watch(compoundId, load, { immediate: true });
  return { settings, error, saving, saveError, load, save };
}
