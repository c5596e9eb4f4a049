// The current route's numeric parameters (compound, ballot, notice… ids) as computed numbers.
import { computed } from 'vue';
import { useRoute } from 'vue-router';

/** `useRouteId('compoundId')`: the parameter as a number, following the route as it changes. */
export function useRouteId(name) {
  const route = useRoute();
  return computed(() => Number(route.params[name]));
}
