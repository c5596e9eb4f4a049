// Vant's function APIs are not seen by the component resolver: import them and their CSS here.
import { showToast, showFailToast, showSuccessToast, showConfirmDialog } from 'vant';
import 'vant/es/toast/style';
import 'vant/es/dialog/style';

export { showToast, showFailToast, showSuccessToast, showConfirmDialog };

/** Show an API error's Chinese detail (or a generic message). */
export function showError(err) {
  showFailToast({ message: (err && err.detail) || (err && err.message) || '操作失败，请重试', wordBreak: 'break-word', duration: 3000 });
}
