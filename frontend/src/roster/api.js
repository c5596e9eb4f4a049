// Roster's API calls: compounds, the roster summary, units, voting subjects and roster imports.
import { api, apiUrl, download } from '../shared/api.js';
import { irreversible } from '../shared/irreversible.js';

export const listCompounds = () => api.get('/compounds');
export const addCompound = (body) => api.post('/compounds', body);
export const getCompound = (cid) => api.get(`/compounds/${cid}`);

export const getRosterSummary = (cid) => api.get(`/compounds/${cid}/roster/summary`);
/** Whether parking spaces carry area and a vote, with the totals under that rule. */
export const getRosterSettings = (cid) => api.get(`/compounds/${cid}/roster/settings`);
export const putRosterSettings = (cid, body) => api.put(`/compounds/${cid}/roster/settings`, body);
export const listUnits = (cid, query) => api.get(`/compounds/${cid}/units`, query);
export const listSubjects = (cid, query) => api.get(`/compounds/${cid}/subjects`, query);

export const rosterTemplateUrl = (cid, format) => apiUrl(`/compounds/${cid}/roster/template`, { format });
export const downloadRosterTemplate = (cid, format) => download(`/compounds/${cid}/roster/template`, { format });
export const previewRosterImport = (cid, form) => api.upload(`/compounds/${cid}/roster/imports`, form);
export const applyRosterImport = irreversible((cid, importId) => api.post(`/compounds/${cid}/roster/imports/${importId}/apply`, {}));

// Roster safety: export (committee only), one unit or owner corrected, the explicit removal step.
export const downloadRosterExport = (cid) => download(`/compounds/${cid}/roster/export`);
export const getUnit = (cid, unitId) => api.get(`/compounds/${cid}/units/${unitId}`);
export const editUnit = (cid, unitId, body) => api.patch(`/compounds/${cid}/units/${unitId}`, body);
export const editOwner = (cid, ownerId, body) => api.patch(`/compounds/${cid}/owners/${ownerId}`, body);
export const getPendingRemovals = (cid) => api.get(`/compounds/${cid}/roster/removals`);
export const removePending = irreversible((cid, body) => api.post(`/compounds/${cid}/roster/removals`, body));
