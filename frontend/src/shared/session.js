// The signed-in account (GET /auth/me), shared by every screen.
import { computed, ref } from 'vue';
import { getMe } from './api.js';

export const me = ref(null);
let loading = null;

/** Load the account once; `force` re-reads it (after creating a compound, for example). */
export function loadMe(force = false) {
  if (me.value && !force) return Promise.resolve(me.value);
  if (!loading) {
    loading = getMe()
      .then((data) => {
        me.value = data;
        return data;
      })
      .finally(() => {
        loading = null;
      });
  }
  return loading;
}

export function setMe(user) {
  me.value = user;
}

export function clearMe() {
  me.value = null;
}

/** The roles the account holds in one compound (a platform admin acts in every compound). */
export function rolesIn(compoundId) {
  const account = me.value;
  if (!account) return [];
  const entry = account.compounds.find((c) => c.compound_id === Number(compoundId));
  const roles = new Set(entry ? entry.roles : []);
  if (account.is_platform_admin) roles.add('platform_admin');
  return [...roles];
}

// The capability names the server serves (app/auth/roles.py CAPABILITIES); which roles grant
// them is the server's to say, in /auth/me.
const CAPABILITIES = new Set([
  'vote', 'staff', 'manage', 'watch', 'roster', 'ledger_record', 'ledger_approve', 'review',
  'propose', 'appoint_observers', 'admin', 'roster_export', 'work_orders', 'work_order_report',
  'company_report', 'appraise', 'committee', 'supervise',
]);

/** The capabilities the account has in one compound, as /auth/me states them. */
export function capabilitiesIn(compoundId) {
  const account = me.value;
  if (!account) return [];
  const entry = account.compounds.find((c) => c.compound_id === Number(compoundId));
  return [...new Set([...(entry ? entry.capabilities : []), ...(account.capabilities_everywhere || [])])];
}

/** Whether the account may `capability` in the compound: every screen's permission check. */
export function can(compoundId, capability) {
  if (!CAPABILITIES.has(capability)) throw new Error(`unknown capability: ${capability}`);
  return capabilitiesIn(compoundId).includes(capability);
}

/** `can` for a screen's compound id ref, as a computed that follows it. */
export function useCan(compoundId, capability) {
  return computed(() => can(compoundId.value, capability));
}
