// 属地监管 API calls (/supervision), named for what they do.
import { api, download } from '../shared/api.js';

export const getSupervision = () => api.get('/supervision');
/** The same table as an XLSX workbook. */
export const downloadSupervisionXlsx = () => download('/supervision', { format: 'xlsx' });
