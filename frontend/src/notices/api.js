// Notices' API calls (/compounds/{id}/notices/…), named for what they do.
import { api, apiUrl, download } from '../shared/api.js';
import { irreversible } from '../shared/irreversible.js';

export const listNotices = (cid, query) => api.get(`/compounds/${cid}/notices`, query);
export const getNotice = (cid, nid) => api.get(`/compounds/${cid}/notices/${nid}`);
export const createNotice = (cid, body) => api.post(`/compounds/${cid}/notices`, body);
export const updateNotice = (cid, nid, body) => api.patch(`/compounds/${cid}/notices/${nid}`, body);
export const publishNotice = irreversible((cid, nid) => api.post(`/compounds/${cid}/notices/${nid}/publish`, {}));
export const correctNotice = irreversible((cid, nid, body) => api.post(`/compounds/${cid}/notices/${nid}/corrections`, body));
export const getDelivery = (cid, nid) => api.get(`/compounds/${cid}/notices/${nid}/delivery`);
export const addPosting = irreversible((cid, nid, body) => api.post(`/compounds/${cid}/notices/${nid}/postings`, body));
export const addDeliveries = irreversible((cid, nid, body) => api.post(`/compounds/${cid}/notices/${nid}/deliveries`, body));
export const noticePdfUrl = (cid, nid) => apiUrl(`/compounds/${cid}/notices/${nid}/pdf`);
export const downloadNoticePdf = (cid, nid, filename) => download(`/compounds/${cid}/notices/${nid}/pdf`, undefined, filename);
