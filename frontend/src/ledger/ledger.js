// Shared bits of the public-revenue (公共收益) screens: money in fen, roles, colours.
import { useCan } from '../shared/session.js';

/** Integer fen as yuan with thousands separators: 123456 → "1,234.56" (exact, no floats). */
export function yuan(fen) {
  const n = Number(fen);
  if (!Number.isInteger(n)) return '—';
  const abs = Math.abs(n);
  const whole = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${n < 0 ? '-' : ''}${whole}.${String(abs % 100).padStart(2, '0')}`;
}

export const INCOME_COLOR = '#137333';
export const EXPENSE_COLOR = '#b3261e';

export const PERIOD_STATUS_TAGS = { open: 'primary', ended: 'warning', closed: 'warning', published: 'success' };
export const ENTRY_STATUS_TAGS = { pending: 'warning', approved: 'success', rejected: 'danger', withdrawn: 'default' };

/** The caller's ledger powers in a compound. */
export function useLedgerRoles(compoundId) {
  return {
    isStaff: useCan(compoundId, 'staff'),
    canRecord: useCan(compoundId, 'ledger_record'),
    isCommittee: useCan(compoundId, 'ledger_approve'),
  };
}
