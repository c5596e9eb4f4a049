// Notify's API calls: an owner's messages (我的消息) and opt-out, a ballot's SMS counts and reminder.
import { api } from '../shared/api.js';
import { irreversible } from '../shared/irreversible.js';

export const getMyMessages = () => api.get('/me/messages');
export const setOptOut = (optedOut) => api.put('/me/messages/opt-out', { opted_out: optedOut });
export const getBallotMessageCounts = (cid, bid) => api.get(`/compounds/${cid}/ballots/${bid}/messages`);
export const previewReminder = (cid, bid) => api.get(`/compounds/${cid}/ballots/${bid}/reminder`);
export const sendReminder = irreversible((cid, bid) => api.post(`/compounds/${cid}/ballots/${bid}/reminder`, {}));
