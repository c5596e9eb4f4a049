// Gzip size of what a screen set downloads (JS + CSS, from dist/.vite/manifest.json).
// Usage: node scripts/size.mjs [--max-kb 150]   (owner screens: login, home, compound, ballot,
// receipt, notice)
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const manifest = JSON.parse(readFileSync(join(dist, '.vite', 'manifest.json'), 'utf8'));

const OWNER = ['index.html', 'src/auth/views/LoginView.vue', 'src/roster/views/HomeView.vue', 'src/roster/views/CompoundView.vue',
  'src/voting/views/BallotView.vue', 'src/voting/views/ReceiptView.vue', 'src/notices/views/NoticeView.vue'];
const SETS = {
  // Everything an owner's phone downloads: login, home, compound, voting, receipt, notice.
  owner: OWNER,
  // Opening a ballot from a link (a reminder, a QR code): the app shell and the voting page.
  'ballot page': ['index.html', 'src/voting/views/BallotView.vue'],
  staff: [...OWNER, 'src/roster/views/RosterView.vue', 'src/audit/views/AuditView.vue', 'src/voting/views/BallotAdminList.vue',
    'src/voting/views/BallotEditor.vue', 'src/voting/views/BallotAdmin.vue', 'src/notices/views/NoticeAdminList.vue',
    'src/notices/views/NoticeAdmin.vue'],
};

function closure(keys) {
  const files = new Set();
  const seen = new Set();
  const visit = (key) => {
    if (seen.has(key)) return;
    seen.add(key);
    const chunk = manifest[key];
    if (!chunk) throw new Error(`not in manifest: ${key}`);
    files.add(chunk.file);
    (chunk.css || []).forEach((f) => files.add(f));
    (chunk.imports || []).forEach(visit);
  };
  keys.forEach(visit);
  return [...files];
}

const gz = (file) => gzipSync(readFileSync(join(dist, file)), { level: 9 }).length;
const args = process.argv.slice(2);
const maxKb = args.includes('--max-kb') ? Number(args[args.indexOf('--max-kb') + 1]) : null;
let failed = false;
for (const [name, keys] of Object.entries(SETS)) {
  const files = closure(keys);
  const js = files.filter((f) => f.endsWith('.js')).reduce((n, f) => n + gz(f), 0);
  const css = files.filter((f) => f.endsWith('.css')).reduce((n, f) => n + gz(f), 0);
  const html = gz('index.html');
  const total = js + css;
  console.log(`${name}: JS ${(js / 1024).toFixed(1)} KB + CSS ${(css / 1024).toFixed(1)} KB = ${(total / 1024).toFixed(1)} KB gzip (${files.length} files; index.html ${(html / 1024).toFixed(1)} KB)`);
  if (name === 'owner' && maxKb !== null && total / 1024 > maxKb) failed = true;
}
if (failed) {
  console.error(`owner screens exceed ${maxKb} KB gzip`);
  process.exit(1);
}
