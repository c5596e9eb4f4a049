import { createRouter, createWebHistory } from 'vue-router';
import { loadMe, clearMe } from './session.js';
import { setSessionLostHandler } from './api.js';

const routes = [
  { path: '/login', name: 'login', component: () => import('./views/LoginView.vue'), meta: { title: '登录', public: true } },
  { path: '/', name: 'home', component: () => import('./views/HomeView.vue'), meta: { title: '我的小区' } },
  { path: '/c/:compoundId(\\d+)', name: 'compound', component: () => import('./views/CompoundView.vue'), meta: { title: '小区' } },
  { path: '/c/:compoundId(\\d+)/roster', name: 'roster', component: () => import('./views/RosterView.vue'), meta: { title: '名册' } },
  { path: '/c/:compoundId(\\d+)/audit', name: 'audit', component: () => import('./views/AuditView.vue'), meta: { title: '审计记录' } },
  { path: '/c/:compoundId(\\d+)/ballots/:ballotId(\\d+)', name: 'ballot', component: () => import('./views/BallotView.vue'), meta: { title: '表决' } },
  { path: '/c/:compoundId(\\d+)/ballots/:ballotId(\\d+)/receipt/:subjectId(\\d+)', name: 'receipt', component: () => import('./views/ReceiptView.vue'), meta: { title: '投票回执' } },
  { path: '/c/:compoundId(\\d+)/notices/:noticeId(\\d+)', name: 'notice', component: () => import('./views/NoticeView.vue'), meta: { title: '公告' } },
  { path: '/c/:compoundId(\\d+)/manage/ballots', name: 'ballot-admin-list', component: () => import('./views/BallotAdminList.vue'), meta: { title: '表决管理' } },
  { path: '/c/:compoundId(\\d+)/manage/voting-settings', name: 'voting-settings', component: () => import('./views/VotingSettingsView.vue'), meta: { title: '本小区表决规则' } },
  { path: '/c/:compoundId(\\d+)/manage/ballots/new', name: 'ballot-new', component: () => import('./views/BallotEditor.vue'), meta: { title: '新建表决' } },
  { path: '/c/:compoundId(\\d+)/manage/ballots/:ballotId(\\d+)/edit', name: 'ballot-edit', component: () => import('./views/BallotEditor.vue'), meta: { title: '修改表决草稿' } },
  { path: '/c/:compoundId(\\d+)/manage/ballots/:ballotId(\\d+)', name: 'ballot-admin', component: () => import('./views/BallotAdmin.vue'), meta: { title: '表决管理' } },
  { path: '/c/:compoundId(\\d+)/manage/notices', name: 'notice-admin-list', component: () => import('./views/NoticeAdminList.vue'), meta: { title: '公告管理' } },
  { path: '/c/:compoundId(\\d+)/manage/notices/new', name: 'notice-new', component: () => import('./views/NoticeAdmin.vue'), meta: { title: '新建公告' } },
  { path: '/c/:compoundId(\\d+)/manage/notices/:noticeId(\\d+)', name: 'notice-admin', component: () => import('./views/NoticeAdmin.vue'), meta: { title: '公告管理' } },
  { path: '/c/:compoundId(\\d+)/ledger', name: 'ledger', component: () => import('./views/ledger/LedgerView.vue'), meta: { title: '公共收益' } },
  { path: '/c/:compoundId(\\d+)/ledger/new', name: 'ledger-new', component: () => import('./views/ledger/LedgerEntryNewView.vue'), meta: { title: '记一笔收支' } },
  { path: '/c/:compoundId(\\d+)/ledger/imports', name: 'ledger-imports', component: () => import('./views/ledger/LedgerImportView.vue'), meta: { title: '导入流水' } },
  { path: '/c/:compoundId(\\d+)/ledger/entries/:entryId(\\d+)', name: 'ledger-entry', component: () => import('./views/ledger/LedgerEntryView.vue'), meta: { title: '账目' } },
  { path: '/c/:compoundId(\\d+)/ledger/periods/:start(\\d{4}-\\d{2}-\\d{2})', name: 'ledger-period', component: () => import('./views/ledger/LedgerPeriodView.vue'), meta: { title: '收支明细' } },
  { path: '/c/:compoundId(\\d+)/procedures', name: 'procedures', component: () => import('./views/procedures/ProceduresView.vue'), meta: { title: '重大事项' } },
  { path: '/c/:compoundId(\\d+)/procedures/settings', name: 'procedure-settings', component: () => import('./views/procedures/ProcedureSettingsView.vue'), meta: { title: '议事程序设置' } },
  { path: '/c/:compoundId(\\d+)/procedures/new', name: 'procedure-new', component: () => import('./views/procedures/ProposeView.vue'), meta: { title: '发起议题' } },
  { path: '/c/:compoundId(\\d+)/procedures/:itemId(\\d+)', name: 'procedure-item', component: () => import('./views/procedures/ItemView.vue'), meta: { title: '议题办理记录' } },
  { path: '/c/:compoundId(\\d+)/procedures/:itemId(\\d+)/timeline', name: 'procedure-timeline', component: () => import('./views/procedures/TimelineView.vue'), meta: { title: '重大事项公开' } },
  { path: '/review', name: 'review-queue', component: () => import('./views/procedures/ReviewQueueView.vue'), meta: { title: '审核工作台' } },
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
