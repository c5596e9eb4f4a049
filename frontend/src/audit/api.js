// Audit's API calls: the event chain, its checkpoints, verification and the export.
import { api, apiUrl, download } from '../shared/api.js';

export const listAuditEvents = (cid, query) => api.get(`/compounds/${cid}/audit/events`, query);
export const getAuditVocabulary = (cid) => api.get(`/compounds/${cid}/audit/vocabulary`);
export const listCheckpoints = (cid) => api.get(`/compounds/${cid}/audit/checkpoints`);
export const verifyAudit = (cid) => api.get(`/compounds/${cid}/audit/verify`);
export const auditExportUrl = (cid) => apiUrl(`/compounds/${cid}/audit/export`);
export const downloadAuditExport = (cid, filename) => download(`/compounds/${cid}/audit/export`, undefined, filename);
