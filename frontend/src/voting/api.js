// Voting's API calls (/compounds/{id}/ballots/…, /voting/settings), named for what they do.
// Every path the voting screens reach is written here once; tests/test_frontend_api.py checks each
// against the server's OpenAPI document.
import { api, apiUrl, download } from '../shared/api.js';


// Ballots and their lifecycle.
export const listBallots = (cid) => api.get(`/compounds/${cid}/ballots`);
export const getBallot = (cid, bid) => api.get(`/compounds/${cid}/ballots/${bid}`);
export const createBallot = (cid, body) => api.post(`/compounds/${cid}/ballots`, body);
export const updateBallot = (cid, bid, body) => api.put(`/compounds/${cid}/ballots/${bid}`, body);
/** The lifecycle steps a committee takes on a ballot, by name; each returns the ballot. */
export const BALLOT_STEPS = {
  notice: (cid, bid, body) => api.post(`/compounds/${cid}/ballots/${bid}/notice`, body),
  open: (cid, bid, body) => api.post(`/compounds/${cid}/ballots/${bid}/open`, body),
  close: (cid, bid, body) => api.post(`/compounds/${cid}/ballots/${bid}/close`, body),
  publish: (cid, bid, body) => api.post(`/compounds/${cid}/ballots/${bid}/publish`, body),
  cancel: (cid, bid, body) => api.post(`/compounds/${cid}/ballots/${bid}/cancel`, body),
  postpone: (cid, bid, body) => api.post(`/compounds/${cid}/ballots/${bid}/postpone`, body),
};
/** Delete a draft (never noticed); it disappears from every list. */
export const deleteDraft = (cid, bid) => api.del(`/compounds/${cid}/ballots/${bid}`);

// What an owner reads and does.
export const castVote = (cid, bid, body) => api.post(`/compounds/${cid}/ballots/${bid}/votes`, body);
export const getMyVotes = (cid, bid) => api.get(`/compounds/${cid}/ballots/${bid}/my-votes`);
export const getResults = (cid, bid) => api.get(`/compounds/${cid}/ballots/${bid}/results`);
export const getReceipts = (cid, bid) => api.get(`/compounds/${cid}/ballots/${bid}/receipts`);
export const checkReceipt = (cid, bid, code) => api.get(`/compounds/${cid}/ballots/${bid}/receipts/check`, { receipt: code });
/** Participation so far against the quorum (every member, while open; never choices). */
export const getTurnout = (cid, bid) => api.get(`/compounds/${cid}/ballots/${bid}/turnout`);
export const listObjections = (cid, bid) => api.get(`/compounds/${cid}/ballots/${bid}/objections`);
export const submitObjection = (cid, bid, body) => api.post(`/compounds/${cid}/ballots/${bid}/objections`, body);
export const answerObjection = (cid, bid, id, body) =>
  api.post(`/compounds/${cid}/ballots/${bid}/objections/${id}/answer`, body);

// Watching a ballot: progress, who has not voted, the tally's inputs.
export const getProgress = (cid, bid) => api.get(`/compounds/${cid}/ballots/${bid}/progress`);
export const listNonVoters = (cid, bid, query) => api.get(`/compounds/${cid}/ballots/${bid}/non-voters`, query);
export const tallyInputsUrl = (cid, bid, format) => apiUrl(`/compounds/${cid}/ballots/${bid}/tally-inputs`, { format });
export const downloadTallyInputs = (cid, bid, format, filename) =>
  download(`/compounds/${cid}/ballots/${bid}/tally-inputs`, { format }, filename);

// Proxies, paper ballots and conflicts between channels.
export const listProxies = (cid, bid) => api.get(`/compounds/${cid}/ballots/${bid}/proxies`);
export const submitProxy = (cid, bid, body) => api.post(`/compounds/${cid}/ballots/${bid}/proxies`, body);
export const acceptProxy = (cid, bid, id, body) => api.post(`/compounds/${cid}/ballots/${bid}/proxies/${id}/accept`, body);
export const rejectProxy = (cid, bid, id, body) => api.post(`/compounds/${cid}/ballots/${bid}/proxies/${id}/reject`, body);
export const listPaper = (cid, bid) => api.get(`/compounds/${cid}/ballots/${bid}/paper`);
export const enterPaper = (cid, bid, body) => api.post(`/compounds/${cid}/ballots/${bid}/paper`, body);
export const confirmPaper = (cid, bid, id, body) => api.post(`/compounds/${cid}/ballots/${bid}/paper/${id}/confirm`, body);
export const rejectPaper = (cid, bid, id, body) => api.post(`/compounds/${cid}/ballots/${bid}/paper/${id}/reject`, body);
export const listConflicts = (cid, bid) => api.get(`/compounds/${cid}/ballots/${bid}/conflicts`);
export const resolveConflict = (cid, bid, id, body) =>
  api.post(`/compounds/${cid}/ballots/${bid}/conflicts/${id}/resolve`, body);

// The compound's voting rules.
export const getVotingSettings = (cid) => api.get(`/compounds/${cid}/voting/settings`);
export const putVotingSettings = (cid, body) => api.put(`/compounds/${cid}/voting/settings`, body);
