// Sign-in calls. Their 401s are answers (a wrong code, a bad password), not lost sessions.
import { api } from '../shared/api.js';

export const requestOtp = (phone) => api.post('/auth/otp/request', { phone }, { auth: false });
export const verifyOtp = (phone, code) => api.post('/auth/otp/verify', { phone, code, mode: 'cookie' }, { auth: false });
export const login = (username, password) => api.post('/auth/login', { username, password, mode: 'cookie' }, { auth: false });
export const signOut = () => api.post('/auth/logout', {});
