// Finding a flat as people type it: "3-201", "3 201", "3号楼201", "3栋1单元201", or any part of
// its label. The same rules as the server's (app/search.py label_matches).
const SEPARATORS = /号楼|栋|幢|座|单元|室|[\s\-－—–]+/;

/** '3号楼201' → ['3', '201']; '1栋1单元101' → ['1', '1', '101']. */
export function flatParts(text) {
  return String(text).trim().split(SEPARATORS).filter(Boolean);
}

function partsMatch(labelParts, wanted) {
  if (labelParts.length < 2 || wanted.length > labelParts.length) return false;
  const low = labelParts.map((p) => p.toLowerCase());
  const want = wanted.map((w) => w.toLowerCase());
  if (low[0] !== want[0] || !low[low.length - 1].startsWith(want[want.length - 1])) return false;
  return want.slice(1, -1).every((w, i) => low[i + 1] === w);
}

/** Whether a subject's label ('1栋1单元101、1栋1单元102') matches the typed text. */
export function labelMatches(label, text) {
  const typed = String(text || '').trim();
  if (!typed || label.toLowerCase().includes(typed.toLowerCase())) return true;
  const wanted = flatParts(typed);
  if (wanted.length < 2) return false;
  return label.split(' 等')[0].split('、').some((unit) => partsMatch(flatParts(unit), wanted));
}
