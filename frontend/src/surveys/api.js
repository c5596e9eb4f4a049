// Surveys' API calls (/compounds/{id}/surveys/…), named for what they do.
import { api } from '../shared/api.js';
import { irreversible } from '../shared/irreversible.js';

export const listSurveys = (cid) => api.get(`/compounds/${cid}/surveys`);
export const listSurveyTemplates = (cid) => api.get(`/compounds/${cid}/surveys/templates`);
export const createSurvey = (cid, body) => api.post(`/compounds/${cid}/surveys`, body);
export const getSurvey = (cid, sid) => api.get(`/compounds/${cid}/surveys/${sid}`);
/** The committee's steps by name ("open", "close", "publish"). */
export const SURVEY_STEPS = {
  open: irreversible((cid, sid) => api.post(`/compounds/${cid}/surveys/${sid}/open`)),
  close: irreversible((cid, sid) => api.post(`/compounds/${cid}/surveys/${sid}/close`)),
  publish: irreversible((cid, sid) => api.post(`/compounds/${cid}/surveys/${sid}/publish`)),
};
export const getMyAnswers = (cid, sid) => api.get(`/compounds/${cid}/surveys/${sid}/my-answers`);
export const submitAnswers = (cid, sid, body) => api.post(`/compounds/${cid}/surveys/${sid}/answers`, body);
export const getSurveyResults = (cid, sid) => api.get(`/compounds/${cid}/surveys/${sid}/results`);
