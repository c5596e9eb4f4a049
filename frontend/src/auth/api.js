// Sign-in calls. Their 401s are answers (a wrong code, a bad password), not lost sessions.
import { api } from '../shared/api.js';
import { irreversible } from '../shared/irreversible.js';

export const requestOtp = (phone) => api.post('/auth/otp/request', { phone }, { auth: false });
export const verifyOtp = (phone, code) => api.post('/auth/otp/verify', { phone, code, mode: 'cookie' }, { auth: false });
export const login = (username, password) => api.post('/auth/login', { username, password, mode: 'cookie' }, { auth: false });
export const signOut = () => api.post('/auth/logout', {});

// One's own password (a temporary one must be changed before anything else).
export const changePassword = (currentPassword, newPassword) => api.post('/auth/password', { current_password: currentPassword, new_password: newPassword, mode: 'cookie' });

// The platform administrator's accounts and grants.
export const listAccounts = (q) => api.get('/accounts', { q });
export const createAccount = (body) => api.post('/accounts', body);
export const disableAccount = irreversible((userId, reason) => api.post(`/accounts/${userId}/disable`, { reason }));
export const enableAccount = (userId, reason) => api.post(`/accounts/${userId}/enable`, { reason });
export const resetPassword = irreversible((userId, reason) => api.post(`/accounts/${userId}/password-reset`, { reason }));
export const listGrants = (cid) => api.get(`/compounds/${cid}/grants`);
export const grantRole = (cid, body) => api.post(`/compounds/${cid}/grants`, body);
export const revokeGrant = irreversible((cid, grantId) => api.del(`/compounds/${cid}/grants/${grantId}`));
