// 三单一访 work orders' API calls (/compounds/{id}/work-orders/…), named for what they do.
import { api } from '../shared/api.js';
import { irreversible } from '../shared/irreversible.js';

export const listCategories = (cid) => api.get(`/compounds/${cid}/work-orders/categories`);
export const getWorkOrderStats = (cid) => api.get(`/compounds/${cid}/work-orders/stats`);
export const listWorkOrders = (cid, query) => api.get(`/compounds/${cid}/work-orders`, query);
export const getWorkOrder = (cid, oid) => api.get(`/compounds/${cid}/work-orders/${oid}`);
export const reportWorkOrder = irreversible((cid, body) => api.post(`/compounds/${cid}/work-orders`, body));
/** The steps by name, as the order's `actions` lists them. */
export const WORK_ORDER_STEPS = {
  dispatch: irreversible((cid, oid, body) => api.post(`/compounds/${cid}/work-orders/${oid}/dispatch`, body)),
  accept: irreversible((cid, oid) => api.post(`/compounds/${cid}/work-orders/${oid}/accept`)),
  done: irreversible((cid, oid, body) => api.post(`/compounds/${cid}/work-orders/${oid}/done`, body)),
  rate: irreversible((cid, oid, body) => api.post(`/compounds/${cid}/work-orders/${oid}/rating`, body)),
  visit: irreversible((cid, oid, body) => api.post(`/compounds/${cid}/work-orders/${oid}/visit`, body)),
};
