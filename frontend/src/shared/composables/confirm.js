// One confirmation dialog for a page's irreversible steps (publish, open, close…), shown by
// <ConfirmDialog :confirm="…">.
import { reactive } from 'vue';
import { runConfirmed } from '../irreversible.js';

/**
 * `ask(title, message, confirmText, run)` opens the dialog; confirming runs `run()` before it
 * closes. A refusal is passed to `onError` when given (the page shows it), else it propagates.
 * `message` names what will happen and that it cannot be undone; `run()` is the confirmed step
 * (irreversible API calls made in it go through: shared/irreversible.js).
 */
export function useConfirm(onError = null) {
  const dialog = reactive({ show: false, title: '', message: '', confirmText: '确定', run: null });
  function ask(title, message, confirmText, run) {
    Object.assign(dialog, { show: true, title, message, confirmText, run });
  }
  async function beforeClose(action) {
    if (action !== 'confirm' || !dialog.run) return true;
    try {
      await runConfirmed(dialog.run);
    } catch (err) {
      if (!onError) throw err;
      onError(err);
    }
    return true;
  }
  return { dialog, ask, beforeClose };
}
