// Small helpers shared by the survey screens.

/** A rate in tenths of a percent as "91.7%". */
export function percentText(tenths) {
  return tenths === null || tenths === undefined ? '' : `${Math.floor(tenths / 10)}.${tenths % 10}%`;
}

/** Mean points in tenths as "4.2 分". */
export function pointsText(tenths) {
  return tenths === null || tenths === undefined ? '' : `${Math.floor(tenths / 10)}.${tenths % 10} 分`;
}

/** Tag colour of a survey's status. */
export function statusTagType(status) {
  return { open: 'success', published: 'primary', closed: 'default', ended: 'warning' }[status] || 'default';
}
