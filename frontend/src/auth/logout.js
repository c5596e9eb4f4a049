// Signing out from a screen: revoke the session, forget the account, go to the login page.
import { ref } from 'vue';
import { useRouter } from 'vue-router';
import { signOut } from './api.js';
import { clearMe } from '../shared/session.js';

export function useLogout() {
  const router = useRouter();
  const leaving = ref(false);

  async function logout() {
    leaving.value = true;
    try {
      await signOut();
    } catch {
      // Leaving anyway: an expired session has nothing left to revoke.
    } finally {
      leaving.value = false;
      clearMe();
      router.replace({ name: 'login' });
    }
  }

  return { leaving, logout };
}
