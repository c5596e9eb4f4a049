// Credit scores and the red and black list (信用评价与红黑榜) API calls, named for what they do.
import { api, download } from '../shared/api.js';
import { irreversible } from '../shared/irreversible.js';

// The supervisors' district lists (/credit, across the compounds granted to them).
export const getCreditOverview = () => api.get('/credit/lists');
/** Every compound's score and basis for the quarter; places when thresholds are given. */
export const previewCreditList = (query) => api.get('/credit/preview', query);
export const publishCreditList = irreversible((body) => api.post('/credit/lists', body));
export const getCreditList = (listId) => api.get(`/credit/lists/${listId}`);
/** The published list with every compound's basis as an XLSX workbook. */
export const downloadCreditListXlsx = (listId) => download(`/credit/lists/${listId}`, { format: 'xlsx' });

// One compound: its company, place and basis; findings; the committee's dismissal prompt.
export const getCompoundCredit = (cid) => api.get(`/compounds/${cid}/credit`);
export const recordCompany = (cid, body) => api.post(`/compounds/${cid}/credit/company`, body);
export const listFindings = (cid) => api.get(`/compounds/${cid}/credit/findings`);
export const recordFinding = (cid, body) => api.post(`/compounds/${cid}/credit/findings`, body);
export const withdrawFinding = irreversible((cid, findingId, body) => api.post(`/compounds/${cid}/credit/findings/${findingId}/withdraw`, body));
export const getDismissalPrompt = (cid) => api.get(`/compounds/${cid}/credit/dismissal-prompt`);
/** Record that the committee was shown the prompt's causes (once per cause). */
export const markDismissalPromptShown = (cid) => api.post(`/compounds/${cid}/credit/dismissal-prompt/shown`);
export const dismissDismissalPrompt = irreversible((cid, body) => api.post(`/compounds/${cid}/credit/dismissal-prompt/dismiss`, body));
/** Propose the dismissal as an agenda item at the first step of the compound's procedure. */
export const proposeDismissal = (cid, body) => api.post(`/compounds/${cid}/credit/dismissal-prompt/proposal`, body);
