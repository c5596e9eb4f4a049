// The text size an owner picks (标准 / 大 / 特大), kept on this device and applied app wide: the
// root's --gj-text-scale zooms the whole page, so every screen's type, spacing and touch targets
// grow together and the layout reflows to the phone's width (no sideways scrolling).
import { ref } from 'vue';

export const TEXT_SIZES = [
  { key: 'standard', label: '标准', scale: 1 },
  { key: 'large', label: '大', scale: 1.15 },
  { key: 'xlarge', label: '特大', scale: 1.3 },
];
const KEY = 'gongjue.textSize';

function stored() {
  try {
    const value = window.localStorage.getItem(KEY);
    return TEXT_SIZES.some((s) => s.key === value) ? value : 'standard';
  } catch {
    return 'standard'; // storage blocked (private mode): the standard size
  }
}

export const textSize = ref(stored());

function apply(key) {
  const size = TEXT_SIZES.find((s) => s.key === key) || TEXT_SIZES[0];
  const root = document.documentElement;
  root.style.setProperty('--gj-text-scale', String(size.scale));
  root.dataset.textSize = size.key;
}

/** Apply the stored size (at start-up). */
export function applyStoredTextSize() {
  apply(textSize.value);
}

/** Pick a size: applied at once and kept on this device. */
export function setTextSize(key) {
  if (!TEXT_SIZES.some((s) => s.key === key)) return;
  textSize.value = key;
  try {
    window.localStorage.setItem(KEY, key);
  } catch {
    // not kept, still applied for this visit
  }
  apply(key);
}
