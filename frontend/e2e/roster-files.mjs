// Roster files for the import tests, built from the compound's current units (read through the API).

const STATUS = { delivered: '已交付', unsold: '未售', undelivered: '已售未交付' };
const SOURCE = { register: '不动产登记', survey: '测绘', contract: '合同' };
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/** A valid 18-digit resident ID (GB 11643 check character) that is unique for n < 50,000. */
export function residentId(n) {
  const year = 1950 + Math.floor(n / 1000);
  const first17 = `110105${year}0101${String(n % 1000).padStart(3, '0')}`;
  const sum = [...first17].reduce((acc, d, i) => acc + Number(d) * WEIGHTS[i], 0);
  return first17 + '10X98765432'[sum % 11];
}

/** Every unit of the compound, paging through GET /units with the page's cookies. */
export async function fetchUnits(request, compoundId) {
  const units = [];
  for (let offset = 0; ; offset += 200) {
    const res = await request.get(`/api/v1/compounds/${compoundId}/units?offset=${offset}&limit=200`);
    if (!res.ok()) throw new Error(`units: ${res.status()} ${await res.text()}`);
    const page = await res.json();
    units.push(...page.items);
    if (units.length >= page.total || !page.items.length) return units;
  }
}

/**
 * Rows (objects keyed by the template's column names) for the current units, with fresh owners:
 * the same number of owners per unit, each with a valid ID number.
 */
export function rowsFromUnits(units) {
  let n = 0;
  return units.map((u) => {
    const owners = u.status === 'unsold' ? [] : u.owners.map(() => ++n);
    return {
      楼栋: u.building,
      单元: u.entrance,
      房号: u.room,
      '专有面积（㎡）': u.area,
      面积来源: SOURCE[u.area_source] || '不动产登记',
      用途: u.usage,
      状态: STATUS[u.status] || '已交付',
      业主类型: owners.length ? owners.map(() => '个人').join('；') : '',
      业主姓名: owners.map((k) => `测试业主${k}`).join('；'),
      证件号码: owners.map((k) => residentId(k)).join('；'),
      手机号: '',
    };
  });
}

/** Add 1.00 m² to a "123.45" area string, exactly. */
export function addOneSquareMetre(area) {
  const [whole, frac = '00'] = area.split('.');
  return `${Number(whole) + 1}.${frac.padEnd(2, '0')}`;
}

function cell(value) {
  const text = value === undefined || value === null ? '' : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** CSV text (UTF-8 with BOM, as Excel saves it) in the template's column order. */
export function toCsv(header, rows) {
  const lines = [header.map(cell).join(',')];
  for (const row of rows) lines.push(header.map((h) => cell(row[h])).join(','));
  return '\ufeff' + lines.join('\r\n') + '\r\n';
}

/** The header row of a CSV file's text. */
export function csvHeader(text) {
  return text.replace(/^\ufeff/, '').split(/\r?\n/, 1)[0].split(',').map((h) => h.trim());
}
