// The desktop layout: from 1024 px wide, the staff's screens (committee, reviewer, observer,
// clerk, administrator) use the width, with tables instead of cards. Owners' screens, and every
// screen on a phone, keep the phone column.
import { computed, ref } from 'vue';
import { useRoute } from 'vue-router';
import { can, me } from './session.js';

export const DESK_MEDIA = '(min-width: 1024px)';

const media = typeof window !== 'undefined' && window.matchMedia ? window.matchMedia(DESK_MEDIA) : null;
const wideScreen = ref(Boolean(media && media.matches));
if (media) media.addEventListener('change', (e) => (wideScreen.value = e.matches));

// Screens that only staff use, or that staff use to work (by path, so that screens other
// branches add under these paths follow): the roster and its units, audit, everything under
// manage, the ledger, procedures (not the owners' public timeline), grants, the platform
// administrator's and the reviewer's desks.
const COMPOUND_DESK = /^\/c\/\d+\/(roster|units|audit|manage|ledger|grants|procedures(?!\/\d+\/timeline))(\/|$)/;
const GLOBAL_DESK = /^\/(admin|review)(\/|$)/;

/** Whether a route is a staff screen for this account (its role in the route's compound). */
export function isStaffScreen(route) {
  if (route.meta && route.meta.desk === false) return false;
  const compoundId = route.params && route.params.compoundId;
  if (compoundId && COMPOUND_DESK.test(route.path)) return can(compoundId, 'staff');
  if (GLOBAL_DESK.test(route.path)) return Boolean(me.value);
  return Boolean(route.meta && route.meta.desk) && Boolean(me.value);
}

/** True on a wide screen showing a staff screen: use the desktop layout. */
export function useDesk() {
  const route = useRoute();
  return computed(() => wideScreen.value && isStaffScreen(route));
}
