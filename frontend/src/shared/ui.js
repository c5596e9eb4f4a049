// Feedback: a small live-region toast (Vant's toast is an unnamed role="dialog", which screen
// readers and Lighthouse flag).

let box = null;
let timer = null;

function toastBox() {
  if (!box) {
    box = document.createElement('div');
    box.className = 'gj-toast';
    box.setAttribute('role', 'status');
    box.setAttribute('aria-live', 'polite');
    document.body.appendChild(box);
  }
  return box;
}

function show(message, kind, duration) {
  const el = toastBox();
  clearTimeout(timer);
  el.textContent = message;
  el.dataset.kind = kind;
  el.classList.add('gj-toast--shown');
  timer = setTimeout(() => {
    el.classList.remove('gj-toast--shown');
    el.textContent = '';
  }, duration);
}

export const showSuccessToast = (message) => show(message, 'success', 2500);
export const showFailToast = (message) => show(message, 'fail', 3500);

/** Show an API error's Chinese detail (or a generic message). */
export function showError(err) {
  showFailToast((err && err.detail) || (err && err.message) || '操作失败，请重试');
}
