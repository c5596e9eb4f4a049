// Steps that cannot be undone (closing a ledger period, publishing, approving in review, revoking a
// role…) run only from a confirmation that names their consequence.
//
// A domain's api.js wraps each such call in `irreversible(…)`: called outside a confirmation, it
// refuses without reaching the server. A confirmation runs its step through `runConfirmed(…)`
// (useConfirm() and ConfirmDialog do it; a screen with its own dialog, such as one that asks for
// a reason, calls it itself). tests/test_irreversible_confirm.py checks that every irreversible
// route the front end reaches is wrapped, and that every screen calling one has a confirmation.

let confirming = 0;

/** Run `step` as confirmed by the person: irreversible calls made while it runs go through. */
export async function runConfirmed(step) {
  confirming += 1;
  try {
    return await step();
  } finally {
    confirming -= 1;
  }
}

export const UNCONFIRMED = '这一步不可撤销，须先在确认对话框中看清后果并确认';

/** The API call `call`, refused unless made from a confirmation (see runConfirmed). */
export function irreversible(call) {
  const guarded = (...args) => {
    if (confirming === 0) {
      const err = new Error(UNCONFIRMED);
      err.status = 0;
      err.code = 'unconfirmed';
      err.detail = UNCONFIRMED;
      return Promise.reject(err);
    }
    return call(...args);
  };
  guarded.irreversible = true;
  return guarded;
}
