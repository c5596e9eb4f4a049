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

// Who runs ballots and notices, and who may watch them (read-only progress, results, exports).
export const MANAGER_ROLES = ['committee', 'platform_admin'];
export const WATCHER_ROLES = ['committee', 'platform_admin', 'reviewer', 'observer'];

/** Whether the account holds any of `wanted` in the compound. */
export function holds(compoundId, wanted) {
  const roles = rolesIn(compoundId);
  return wanted.some((r) => roles.includes(r));
}
