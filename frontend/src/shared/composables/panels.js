// The list/form pattern of the staff panels (proxies, paper ballots, conflicts, objections):
// a list loaded from one call, actions on its rows, a rejection with a reason, and a form that
// checks itself before it sends.
import { reactive, ref, watch } from 'vue';

/**
 * A list read by `fetchList()`: `list` is null while loading, `error` holds a refusal to read it.
 * `run(key, action)` runs one row action with `busy` set to `key`, reloads the list after it
 * succeeds, and shows the server's refusal as `actionError`; it resolves to whether it succeeded.
 * With `reloadAlways` the list is reloaded after a failure too (the row may have moved on).
 * `reloadOn` (a watch source) reads the list at once and again whenever it changes; `listState`
 * is what RecordList shows (`v-bind="listState"`).
 */
export function useListPanel(fetchList, { reloadOn = null } = {}) {
  const list = ref(null);
  const error = ref('');
  const actionError = ref('');
  const busy = ref(null);

  async function load() {
    try {
      list.value = await fetchList();
      error.value = '';
    } catch (err) {
      error.value = err.detail;
    }
  }

  async function run(key, action, { reloadAlways = false } = {}) {
    busy.value = key;
    actionError.value = '';
    let ok = false;
    try {
      await action();
      ok = true;
      if (!reloadAlways) await load();
    } catch (err) {
      actionError.value = err.detail;
    } finally {
      busy.value = null;
      if (reloadAlways) await load();
    }
    return ok;
  }

  /** Ask for a text before running a row action: an empty one shows `missing` instead. */
  function runWithText(key, text, missing, action, options) {
    actionError.value = '';
    if (!text) {
      actionError.value = missing;
      return Promise.resolve(false);
    }
    return run(key, action, options);
  }

  if (reloadOn) watch(reloadOn, load, { immediate: true });
  const listState = reactive({ list, error, actionError });
  return { list, error, actionError, busy, load, run, runWithText, listState };
}

/** The one row being rejected (its id, or null) and the reason typed for it. */
export function useRejecting() {
  const rejecting = ref(null);
  const reason = ref('');
  function startReject(row) {
    rejecting.value = row.id;
    reason.value = '';
  }
  return { rejecting, reason, startReject };
}

/**
 * A form's submission: `check()` returns a message when the form is incomplete, `send()` does the
 * work; `formError` shows either, `sending` is true meanwhile.
 */
export function useFormSubmit(check, send) {
  const formError = ref('');
  const sending = ref(false);
  async function submit() {
    formError.value = check() || '';
    if (formError.value) return;
    sending.value = true;
    try {
      await send();
    } catch (err) {
      formError.value = err.detail;
    } finally {
      sending.value = false;
    }
  }
  return { formError, sending, submit };
}
