// The signed-in account (GET /auth/me), shared by every screen.
import { ref } from 'vue';
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

// What the account may do in a compound, by capability: the server's one declaration of role
// groups, mirrored here until /auth/me sends each compound's `capabilities` (then
// capabilitiesIn() reads those and this table goes).
const CAPABILITY_ROLES = {
  vote: ['owner'],
  staff: ['committee', 'clerk', 'reviewer', 'observer', 'platform_admin'],
  manage: ['committee', 'platform_admin'], // run ballots, notices, settings, roster imports
  watch: ['committee', 'platform_admin', 'reviewer', 'observer'], // read-only progress, results, audit
  roster: ['committee', 'platform_admin', 'clerk'],
  ledger_record: ['committee', 'clerk'],
  ledger_approve: ['committee'],
  review: ['reviewer'],
  propose: ['committee', 'clerk', 'reviewer'],
  appoint_observers: ['reviewer', 'platform_admin'],
  admin: ['platform_admin'],
};

/** The capabilities the account has in one compound. */
export function capabilitiesIn(compoundId) {
  const roles = rolesIn(compoundId);
  return Object.keys(CAPABILITY_ROLES).filter((c) => CAPABILITY_ROLES[c].some((r) => roles.includes(r)));
}

/** Whether the account may `capability` in the compound: every screen's permission check. */
export function can(compoundId, capability) {
  if (!(capability in CAPABILITY_ROLES)) throw new Error(`unknown capability: ${capability}`);
  return capabilitiesIn(compoundId).includes(capability);
}
