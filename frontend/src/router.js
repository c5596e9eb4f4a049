import { createRouter, createWebHistory } from 'vue-router';
import { loadMe, clearMe } from './shared/session.js';
import { setPasswordChangeHandler, setSessionLostHandler } from './shared/api.js';
import { dropEarlyAnswers } from './shared/earlyAnswers.js';

const routes = [
  { path: '/login', name: 'login', component: () => import('./auth/views/LoginView.vue'), meta: { title: '登录', public: true } },
  { path: '/', name: 'home', component: () => import('./roster/views/HomeView.vue'), meta: { title: '我的小区' } },
  { path: '/c/:compoundId(\\d+)', name: 'compound', component: () => import('./roster/views/CompoundView.vue'), meta: { title: '小区' } },
  { path: '/c/:compoundId(\\d+)/settings', name: 'compound-settings', component: () => import('./roster/views/SettingsHubView.vue'), meta: { title: '本小区设置' } },
  { path: '/c/:compoundId(\\d+)/roster/settings', name: 'roster-settings', component: () => import('./roster/views/RosterSettingsView.vue'), meta: { title: '车位是否计入表决' } },
  { path: '/c/:compoundId(\\d+)/roster', name: 'roster', component: () => import('./roster/views/RosterView.vue'), meta: { title: '名册' } },
  { path: '/c/:compoundId(\\d+)/units/:unitId(\\d+)', name: 'unit', component: () => import('./roster/views/UnitView.vue'), meta: { title: '房屋' } },
  { path: '/c/:compoundId(\\d+)/audit', name: 'audit', component: () => import('./audit/views/AuditView.vue'), meta: { title: '审计记录' } },
  { path: '/c/:compoundId(\\d+)/ballots/:ballotId(\\d+)', name: 'ballot', component: () => import('./voting/views/BallotView.vue'), meta: { title: '表决' } },
  { path: '/c/:compoundId(\\d+)/ballots/:ballotId(\\d+)/unit-record', name: 'unit-record', component: () => import('./voting/views/UnitRecordView.vue'), meta: { title: '分户表决记录' } },
  { path: '/c/:compoundId(\\d+)/ballots/:ballotId(\\d+)/receipt/:subjectId(\\d+)', name: 'receipt', component: () => import('./voting/views/ReceiptView.vue'), meta: { title: '投票回执' } },
  { path: '/c/:compoundId(\\d+)/notices/:noticeId(\\d+)', name: 'notice', component: () => import('./notices/views/NoticeView.vue'), meta: { title: '公告' } },
  { path: '/c/:compoundId(\\d+)/manage/ballots', name: 'ballot-admin-list', component: () => import('./voting/views/BallotAdminList.vue'), meta: { title: '表决管理' } },
  { path: '/c/:compoundId(\\d+)/manage/voting-settings', name: 'voting-settings', component: () => import('./voting/views/VotingSettingsView.vue'), meta: { title: '本小区表决规则' } },
  { path: '/c/:compoundId(\\d+)/manage/ballots/new', name: 'ballot-new', component: () => import('./voting/views/BallotEditor.vue'), meta: { title: '新建表决' } },
  { path: '/c/:compoundId(\\d+)/manage/ballots/:ballotId(\\d+)/edit', name: 'ballot-edit', component: () => import('./voting/views/BallotEditor.vue'), meta: { title: '修改表决草稿' } },
  { path: '/c/:compoundId(\\d+)/manage/ballots/:ballotId(\\d+)', name: 'ballot-admin', component: () => import('./voting/views/BallotAdmin.vue'), meta: { title: '表决管理' } },
  { path: '/c/:compoundId(\\d+)/manage/notices', name: 'notice-admin-list', component: () => import('./notices/views/NoticeAdminList.vue'), meta: { title: '公告管理' } },
  { path: '/c/:compoundId(\\d+)/manage/notices/new', name: 'notice-new', component: () => import('./notices/views/NoticeAdmin.vue'), meta: { title: '新建公告' } },
  { path: '/c/:compoundId(\\d+)/manage/notices/:noticeId(\\d+)', name: 'notice-admin', component: () => import('./notices/views/NoticeAdmin.vue'), meta: { title: '公告管理' } },
  { path: '/c/:compoundId(\\d+)/ledger', name: 'ledger', component: () => import('./ledger/views/LedgerView.vue'), meta: { title: '公共收益' } },
  { path: '/c/:compoundId(\\d+)/ledger/settings', name: 'ledger-settings', component: () => import('./ledger/views/LedgerSettingsView.vue'), meta: { title: '公共收益设置' } },
  { path: '/c/:compoundId(\\d+)/ledger/new', name: 'ledger-new', component: () => import('./ledger/views/LedgerEntryNewView.vue'), meta: { title: '记一笔收支' } },
  { path: '/c/:compoundId(\\d+)/ledger/imports', name: 'ledger-imports', component: () => import('./ledger/views/LedgerImportView.vue'), meta: { title: '导入流水' } },
  { path: '/c/:compoundId(\\d+)/ledger/entries/:entryId(\\d+)', name: 'ledger-entry', component: () => import('./ledger/views/LedgerEntryView.vue'), meta: { title: '账目' } },
  { path: '/c/:compoundId(\\d+)/ledger/periods/:start(\\d{4}-\\d{2}-\\d{2})', name: 'ledger-period', component: () => import('./ledger/views/LedgerPeriodView.vue'), meta: { title: '收支明细' } },
  { path: '/c/:compoundId(\\d+)/procedures', name: 'procedures', component: () => import('./procedures/views/ProceduresView.vue'), meta: { title: '重大事项' } },
  { path: '/c/:compoundId(\\d+)/procedures/settings', name: 'procedure-settings', component: () => import('./procedures/views/ProcedureSettingsView.vue'), meta: { title: '议事程序设置' } },
  { path: '/c/:compoundId(\\d+)/procedures/new', name: 'procedure-new', component: () => import('./procedures/views/ProposeView.vue'), meta: { title: '发起议题' } },
  { path: '/c/:compoundId(\\d+)/procedures/:itemId(\\d+)', name: 'procedure-item', component: () => import('./procedures/views/ItemView.vue'), meta: { title: '议题办理记录' } },
  { path: '/c/:compoundId(\\d+)/procedures/:itemId(\\d+)/timeline', name: 'procedure-timeline', component: () => import('./procedures/views/TimelineView.vue'), meta: { title: '重大事项公开' } },
  { path: '/c/:compoundId(\\d+)/surveys', name: 'surveys', component: () => import('./surveys/views/SurveyListView.vue'), meta: { title: '满意度调查' } },
  { path: '/c/:compoundId(\\d+)/surveys/:surveyId(\\d+)', name: 'survey', component: () => import('./surveys/views/SurveyView.vue'), meta: { title: '问卷' } },
  { path: '/c/:compoundId(\\d+)/work-orders', name: 'work-orders', component: () => import('./workorders/views/WorkOrdersView.vue'), meta: { title: '三单一访工单' } },
  { path: '/c/:compoundId(\\d+)/work-orders/:orderId(\\d+)', name: 'work-order', component: () => import('./workorders/views/WorkOrderView.vue'), meta: { title: '工单' } },
  { path: '/c/:compoundId(\\d+)/surveys/:surveyId(\\d+)/results', name: 'survey-results', component: () => import('./surveys/views/SurveyResultsView.vue'), meta: { title: '问卷结果' } },
  { path: '/c/:compoundId(\\d+)/appraisals', name: 'appraisals', component: () => import('./appraisals/views/AppraisalsView.vue'), meta: { title: '季度报告与述职评议' } },
  { path: '/c/:compoundId(\\d+)/credit', name: 'compound-credit', component: () => import('./credit/views/CompoundCreditView.vue'), meta: { title: '物业服务企业与信用评价' } },
  { path: '/c/:compoundId(\\d+)/appraisals/:year(\\d{4})', name: 'appraisal', component: () => import('./appraisals/views/AppraisalView.vue'), meta: { title: '述职评议' } },
  { path: '/messages', name: 'my-messages', component: () => import('./notify/views/MyMessagesView.vue'), meta: { title: '我的消息' } },
  { path: '/password', name: 'change-password', component: () => import('./auth/views/ChangePasswordView.vue'), meta: { title: '修改密码' } },
  { path: '/admin', name: 'admin', component: () => import('./auth/views/AdminView.vue'), meta: { title: '平台管理' } },
  { path: '/admin/accounts', name: 'admin-accounts', component: () => import('./auth/views/AccountsView.vue'), meta: { title: '工作人员账号' } },
  { path: '/c/:compoundId(\\d+)/grants', name: 'grants', component: () => import('./auth/views/GrantsView.vue'), meta: { title: '角色授权' } },
  { path: '/oversight/credit', name: 'credit-desk', component: () => import('./credit/views/CreditDeskView.vue'), meta: { title: '红黑榜', desk: true } },
  { path: '/oversight/credit/:listId(\\d+)', name: 'credit-list', component: () => import('./credit/views/CreditListView.vue'), meta: { title: '红黑榜', desk: true } },
  { path: '/oversight', name: 'supervision', component: () => import('./supervision/views/SupervisionView.vue'), meta: { title: '属地监管', desk: true } },
  { path: '/review', name: 'review-queue', component: () => import('./procedures/views/ReviewQueueView.vue'), meta: { title: '审核工作台' } },
  { path: '/:pathMatch(.*)*', name: 'not-found', component: () => import('./shared/views/NotFoundView.vue'), meta: { title: '页面不存在', public: true } },
];

const router = createRouter({
  history: createWebHistory(),
  routes,
  scrollBehavior: (to, from, saved) => saved || { top: 0 },
});

router.beforeEach(async (to) => {
  if (to.meta.public) return true;
  try {
    const account = await loadMe();
    // A temporary password set by the administrator is changed before anything else.
    if (account.must_change_password && to.name !== 'change-password') {
      return { name: 'change-password', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} };
    }
    return true;
  } catch {
    return { name: 'login', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} };
  }
});

router.afterEach((to, from) => {
  document.title = `${to.meta.title || ''} - 共决`;
  // Early answers belong to the landing page (frontend/early.js): never served to a later one.
  if (from.matched.length) dropEarlyAnswers();
});

setSessionLostHandler(() => {
  clearMe();
  const current = router.currentRoute.value;
  if (current.name !== 'login') {
    router.replace({ name: 'login', query: current.fullPath !== '/' ? { redirect: current.fullPath } : {} });
  }
});

setPasswordChangeHandler(() => {
  const current = router.currentRoute.value;
  if (current.name === 'change-password') return;
  loadMe(true).finally(() => router.replace({ name: 'change-password' }));
});

export default router;
