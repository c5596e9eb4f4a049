// Voting's API calls (/compounds/{id}/ballots/…, /voting/settings), named for what they do.
// Every path the voting screens reach is written here once; tests/test_frontend_api.py checks each
// against the server's OpenAPI document.
import { api, apiUrl, download } from '../shared/api.js';
import { irreversible } from '../shared/irreversible.js';


// Ballots and their lifecycle.
export const listBallots = (cid) => api.get(`/compounds/${cid}/ballots`);
export const getBallot = (cid, bid) => api.get(`/compounds/${cid}/ballots/${bid}`);
export const createBallot = (cid, body) => api.post(`/compounds/${cid}/ballots`, body);
export const updateBallot = (cid, bid, body) => api.put(`/compounds/${cid}/ballots/${bid}`, body);
/** The lifecycle steps a committee takes on a ballot, by name; each returns the ballot. */
export const BALLOT_STEPS = {
  notice: irreversible((cid, bid, body) => api.post(`/compounds/${cid}/ballots/${bid}/notice`, body)),
  open: irreversible((cid, bid, body) => api.post(`/compounds/${cid}/ballots/${bid}/open`, body)),
  close: irreversible((cid, bid, body) => api.post(`/compounds/${cid}/ballots/${bid}/close`, body)),
  publish: irreversible((cid, bid, body) => api.post(`/compounds/${cid}/ballots/${bid}/publish`, body)),
  cancel: irreversible((cid, bid, body) => api.post(`/compounds/${cid}/ballots/${bid}/cancel`, body)),
  postpone: irreversible((cid, bid, body) => api.post(`/compounds/${cid}/ballots/${bid}/postpone`, body)),
};
/** Delete a draft (never noticed); it disappears from every list. */
export const deleteDraft = irreversible((cid, bid) => api.del(`/compounds/${cid}/ballots/${bid}`));

// What an owner reads and does.
export const castVote = (cid, bid, body) => api.post(`/compounds/${cid}/ballots/${bid}/votes`, body);
export const getMyVotes = (cid, bid) => api.get(`/compounds/${cid}/ballots/${bid}/my-votes`);
export const getResults = (cid, bid) => api.get(`/compounds/${cid}/ballots/${bid}/results`);
export const getReceipts = (cid, bid) => api.get(`/compounds/${cid}/ballots/${bid}/receipts`);
/** Each flat's choices (no names), where the compound's rules publish them after the result. */
export const getUnitRecord = (cid, bid) => api.get(`/compounds/${cid}/ballots/${bid}/unit-record`);
export const checkReceipt = (cid, bid, code) => api.get(`/compounds/${cid}/ballots/${bid}/receipts/check`, { receipt: code });
/** Participation so far against the quorum (every member, while open; never choices). */
export const getTurnout = (cid, bid) => api.get(`/compounds/${cid}/ballots/${bid}/turnout`);
export const listObjections = (cid, bid) => api.get(`/compounds/${cid}/ballots/${bid}/objections`);
export const submitObjection = (cid, bid, body) => api.post(`/compounds/${cid}/ballots/${bid}/objections`, body);
export const answerObjection = irreversible((cid, bid, id, body) =>
  api.post(`/compounds/${cid}/ballots/${bid}/objections/${id}/answer`, body));

// Watching a ballot: progress, who has not voted, the tally's inputs.
export const getProgress = (cid, bid) => api.get(`/compounds/${cid}/ballots/${bid}/progress`);
export const listNonVoters = (cid, bid, query) => api.get(`/compounds/${cid}/ballots/${bid}/non-voters`, query);
export const tallyInputsUrl = (cid, bid, format) => apiUrl(`/compounds/${cid}/ballots/${bid}/tally-inputs`, { format });
export const downloadTallyInputs = (cid, bid, format, filename) =>
  download(`/compounds/${cid}/ballots/${bid}/tally-inputs`, { format }, filename);

// Proxies, paper ballots and conflicts between channels.
export const listProxies = (cid, bid) => api.get(`/compounds/${cid}/ballots/${bid}/proxies`);
export const submitProxy = (cid, bid, body) => api.post(`/compounds/${cid}/ballots/${bid}/proxies`, body);
export const acceptProxy = irreversible((cid, bid, id, body) => api.post(`/compounds/${cid}/ballots/${bid}/proxies/${id}/accept`, body));
export const rejectProxy = irreversible((cid, bid, id, body) => api.post(`/compounds/${cid}/ballots/${bid}/proxies/${id}/reject`, body));
export const listPaper = (cid, bid) => api.get(`/compounds/${cid}/ballots/${bid}/paper`);
export const enterPaper = (cid, bid, body) => api.post(`/compounds/${cid}/ballots/${bid}/paper`, body);
export const confirmPaper = irreversible((cid, bid, id, body) => api.post(`/compounds/${cid}/ballots/${bid}/paper/${id}/confirm`, body));
export const rejectPaper = irreversible((cid, bid, id, body) => api.post(`/compounds/${cid}/ballots/${bid}/paper/${id}/reject`, body));
// Paper ballots door to door: the subject a serial names (or a chosen one) and its standing,
// the printed ballots, and the worklist of flats that have not voted.
export const paperLookup = (cid, bid, query) => api.get(`/compounds/${cid}/ballots/${bid}/paper-lookup`, query);
export const downloadPaperBallots = (cid, bid, filename) =>
  download(`/compounds/${cid}/ballots/${bid}/paper-ballots`, undefined, filename);
export const downloadWorklist = (cid, bid, format, filename) =>
  download(`/compounds/${cid}/ballots/${bid}/non-voters/worklist`, { format }, filename);
export const listConflicts = (cid, bid) => api.get(`/compounds/${cid}/ballots/${bid}/conflicts`);
export const resolveConflict = irreversible((cid, bid, id, body) =>
  api.post(`/compounds/${cid}/ballots/${bid}/conflicts/${id}/resolve`, body));

// The compound's voting rules.
export const getVotingSettings = (cid) => api.get(`/compounds/${cid}/voting/settings`);
export const putVotingSettings = (cid, body) => api.put(`/compounds/${cid}/voting/settings`, body);
