// Procedures' API calls (三议一审两公开: /compounds/{id}/procedures/…, /reviewer/queue).
import { api, apiUrl, download } from '../shared/api.js';
import { irreversible } from '../shared/irreversible.js';

export const getProcedureSettings = (cid) => api.get(`/compounds/${cid}/procedures/settings`);
export const putProcedureSettings = (cid, body) => api.put(`/compounds/${cid}/procedures/settings`, body);
export const listTemplates = (cid) => api.get(`/compounds/${cid}/procedures/templates`);
export const createTemplate = (cid, body) => api.post(`/compounds/${cid}/procedures/templates`, body);
export const listObservers = (cid) => api.get(`/compounds/${cid}/procedures/observers`);
export const appointObserver = (cid, body) => api.post(`/compounds/${cid}/procedures/observers`, body);
export const revokeObserver = irreversible((cid, id) => api.post(`/compounds/${cid}/procedures/observers/${id}/revoke`));

export const listItems = (cid) => api.get(`/compounds/${cid}/procedures/items`);
export const proposeItem = (cid, body) => api.post(`/compounds/${cid}/procedures/items`, body);
export const getItem = (cid, id) => api.get(`/compounds/${cid}/procedures/items/${id}`);
export const getTimeline = (cid, id) => api.get(`/compounds/${cid}/procedures/items/${id}/timeline`);
export const listLinkableBallots = (cid, id) => api.get(`/compounds/${cid}/procedures/items/${id}/linkable-ballots`);
export const recordDecision = irreversible((cid, id, body) => api.post(`/compounds/${cid}/procedures/items/${id}/decisions`, body));
export const reviseItem = (cid, id, body) => api.post(`/compounds/${cid}/procedures/items/${id}/revisions`, body);
export const linkBallot = irreversible((cid, id, body) => api.post(`/compounds/${cid}/procedures/items/${id}/ballot-link`, body));
export const recordResolution = irreversible((cid, id) => api.post(`/compounds/${cid}/procedures/items/${id}/resolution`));
export const recordPublication = irreversible((cid, id, body) => api.post(`/compounds/${cid}/procedures/items/${id}/publications`, body));
export const addObservation = (cid, id, body) => api.post(`/compounds/${cid}/procedures/items/${id}/observations`, body);
export const appointItemObserver = (cid, id, body) => api.post(`/compounds/${cid}/procedures/items/${id}/observers`, body);
export const getItemBallotProgress = (cid, id) => api.get(`/compounds/${cid}/procedures/items/${id}/ballot/progress`);
export const itemTallyInputsUrl = (cid, id) => apiUrl(`/compounds/${cid}/procedures/items/${id}/ballot/tally-inputs`);
export const downloadItemTallyInputs = (cid, id, filename) =>
  download(`/compounds/${cid}/procedures/items/${id}/ballot/tally-inputs`, undefined, filename);
export const getItemAudit = (cid, id) => api.get(`/compounds/${cid}/procedures/items/${id}/audit`);
export const itemAuditExportUrl = (cid, id) => apiUrl(`/compounds/${cid}/procedures/items/${id}/audit/export`);
export const downloadItemAuditExport = (cid, id, filename) =>
  download(`/compounds/${cid}/procedures/items/${id}/audit/export`, undefined, filename);

export const getReviewQueue = () => api.get('/reviewer/queue');
