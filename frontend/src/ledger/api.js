// The public-revenue ledger's API calls (/compounds/{id}/ledger/…), named for what they do.
import { api, download } from '../shared/api.js';
import { irreversible } from '../shared/irreversible.js';

export const getLedgerStatus = (cid) => api.get(`/compounds/${cid}/ledger/status`);
export const getLedgerSettings = (cid) => api.get(`/compounds/${cid}/ledger/settings`);
export const putLedgerSettings = (cid, body) => api.put(`/compounds/${cid}/ledger/settings`, body);
export const listDecisions = (cid) => api.get(`/compounds/${cid}/ledger/decisions`);

export const listPeriods = (cid) => api.get(`/compounds/${cid}/ledger/periods`);
export const getPeriod = (cid, start) => api.get(`/compounds/${cid}/ledger/periods/${start}`);
/** A period's closing steps by name ("close", "publish"). */
export const PERIOD_STEPS = {
  close: irreversible((cid, start) => api.post(`/compounds/${cid}/ledger/periods/${start}/close`)),
  publish: irreversible((cid, start) => api.post(`/compounds/${cid}/ledger/periods/${start}/publish`)),
};
export const attachAuditReport = (cid, start, fileId) =>
  api.post(`/compounds/${cid}/ledger/periods/${start}/audit-report`, { file_id: fileId });
export const showAuditReport = (cid, start) =>
  download(`/compounds/${cid}/ledger/periods/${start}/audit-report`, undefined, undefined, { newTab: true });
/** The period's statement as "pdf" or "xlsx". */
export const STATEMENT_DOWNLOADS = {
  pdf: (cid, start) => download(`/compounds/${cid}/ledger/periods/${start}/statement.pdf`),
  xlsx: (cid, start) => download(`/compounds/${cid}/ledger/periods/${start}/statement.xlsx`),
};

export const listEntries = (cid, query) => api.get(`/compounds/${cid}/ledger/entries`, query);
export const getEntry = (cid, eid) => api.get(`/compounds/${cid}/ledger/entries/${eid}`);
export const recordEntry = (cid, body) => api.post(`/compounds/${cid}/ledger/entries`, body);
export const approveEntry = irreversible((cid, eid) => api.post(`/compounds/${cid}/ledger/entries/${eid}/approve`));
export const rejectEntry = irreversible((cid, eid, body) => api.post(`/compounds/${cid}/ledger/entries/${eid}/reject`, body));
export const reverseEntry = irreversible((cid, eid, body) => api.post(`/compounds/${cid}/ledger/entries/${eid}/reverse`, body));
export const openEntryFile = (cid, eid, fileId) =>
  download(`/compounds/${cid}/ledger/entries/${eid}/files/${fileId}`, undefined, undefined, { newTab: true });

export const downloadImportTemplate = (cid) => download(`/compounds/${cid}/ledger/import-template`);
export const listImports = (cid) => api.get(`/compounds/${cid}/ledger/imports`);
export const getImport = (cid, id) => api.get(`/compounds/${cid}/ledger/imports/${id}`);
export const uploadImport = (cid, form) => api.upload(`/compounds/${cid}/ledger/imports`, form);
export const acceptImportRow = (cid, id, rowId, body) =>
  api.post(`/compounds/${cid}/ledger/imports/${id}/rows/${rowId}/accept`, body);
export const discardImportRow = irreversible((cid, id, rowId, body) =>
  api.post(`/compounds/${cid}/ledger/imports/${id}/rows/${rowId}/discard`, body));
