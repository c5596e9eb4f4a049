// Quarterly reports and appraisals' API calls (seed 002 三(二)3), named for what they do.
import { api } from '../shared/api.js';
import { irreversible } from '../shared/irreversible.js';

export const getQuarterlyReports = (cid, year) => api.get(`/compounds/${cid}/quarterly-reports`, { year });
export const fileQuarterlyReport = (cid, body) => api.post(`/compounds/${cid}/quarterly-reports`, body);
export const acknowledgeReport = irreversible((cid, rid, body) => api.post(`/compounds/${cid}/quarterly-reports/${rid}/acknowledge`, body));
export const listAppraisals = (cid) => api.get(`/compounds/${cid}/appraisals`);
export const getAppraisal = (cid, year) => api.get(`/compounds/${cid}/appraisals/${year}`);
export const fileAccount = (cid, year, body) => api.post(`/compounds/${cid}/appraisals/${year}/accounts`, body);
export const enterScore = (cid, year, body) => api.post(`/compounds/${cid}/appraisals/${year}/scores`, body);
export const addRectification = (cid, year, body) => api.post(`/compounds/${cid}/appraisals/${year}/rectifications`, body);
export const publishAppraisal = irreversible((cid, year) => api.post(`/compounds/${cid}/appraisals/${year}/publish`));
export const markRectificationDone = (cid, id, body) => api.post(`/compounds/${cid}/rectifications/${id}/done`, body);
export const confirmRectification = irreversible((cid, id) => api.post(`/compounds/${cid}/rectifications/${id}/confirm`));
