import { createRouter, createWebHistory } from 'vue-router';
import { loadMe, clearMe } from './session.js';
import { setSessionLostHandler } from './api.js';

const routes = [
  { path: '/login', name: 'login', component: () => import('./views/LoginView.vue'), meta: { title: '登录', public: true } },
  { path: '/', name: 'home', component: () => import('./views/HomeView.vue'), meta: { title: '我的小区' } },
  { path: '/c/:compoundId(\\d+)', name: 'compound', component: () => import('./views/CompoundView.vue'), meta: { title: '小区' } },
  { path: '/c/:compoundId(\\d+)/roster', name: 'roster', component: () => import('./views/RosterView.vue'), meta: { title: '名册' } },
  { path: '/c/:compoundId(\\d+)/audit', name: 'audit', component: () => import('./views/AuditView.vue'), meta: { title: '审计记录' } },
  { path: '/:pathMatch(.*)*', name: 'not-found', component: () => import('./views/NotFoundView.vue'), meta: { title: '页面不存在', public: true } },
];

const router = createRouter({
  history: createWebHistory(),
  routes,
  scrollBehavior: (to, from, saved) => saved || { top: 0 },
});

router.beforeEach(async (to) => {
  if (to.meta.public) return true;
  try {
    await loadMe();
    return true;
  } catch {
    return { name: 'login', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} };
  }
});

router.afterEach((to) => {
  document.title = `${to.meta.title || ''} - 共决`;
});

setSessionLostHandler(() => {
  clearMe();
  const current = router.currentRoute.value;
  if (current.name !== 'login') {
    router.replace({ name: 'login', query: current.fullPath !== '/' ? { redirect: current.fullPath } : {} });
  }
});

export default router;
