import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';
import Components from 'unplugin-vue-components/vite';
import { VantResolver } from '@vant/auto-import-resolver';

const backend = process.env.GONGJUE_BACKEND || 'http://127.0.0.1:8000';

/** Swap Vant's icon stylesheet (a whole icon font inlined) for the handful of glyphs we draw. */
function slimVantIcons() {
  const replacement = fileURLToPath(new URL('./src/vant-icons.css', import.meta.url));
  return {
    name: 'gongjue-slim-vant-icons',
    enforce: 'pre',
    async resolveId(source, importer, options) {
      if (!importer || !source.endsWith('index.css') || !importer.includes('vant')) return null;
      const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
      if (resolved && /[\\/]vant[\\/]es[\\/]icon[\\/]index\.css$/.test(resolved.id)) return replacement;
      return null;
    },
  };
}

/**
 * The page's early start (early.js): emitted with the chunks and stylesheets of each landing
 * view it names (beyond what the entry already loads), under a content-hashed name, and loaded
 * by index.html with `async` before the app's bundle. Build only: the dev server has no chunks.
 */
function earlyStart() {
  const root = fileURLToPath(new URL('.', import.meta.url));
  const sourcePath = resolve(root, 'early.js');
  return {
    name: 'gongjue-early-start',
    apply: 'build',
    enforce: 'post',
    generateBundle(_options, bundle) {
      const html = bundle['index.html'];
      if (!html) this.error('index.html is not in the bundle: the early start cannot be linked');
      const source = readFileSync(sourcePath, 'utf8');
      const chunks = Object.values(bundle).filter((c) => c.type === 'chunk');
      const byFile = new Map(chunks.map((c) => [c.fileName, c]));
      const closure = (start) => {
        const seen = new Set();
        const visit = (chunk) => {
          if (seen.has(chunk.fileName)) return;
          seen.add(chunk.fileName);
          chunk.imports.forEach((f) => visit(byFile.get(f)));
        };
        visit(start);
        return [...seen].map((f) => byFile.get(f));
      };
      const entry = chunks.find((c) => c.isEntry && c.facadeModuleId && c.facadeModuleId.endsWith('index.html'));
      const loaded = new Set(entry ? closure(entry).map((c) => c.fileName) : []);
      const files = {};
      for (const [, view] of source.matchAll(/view: '([^']+)'/g)) {
        const chunk = chunks.find((c) => c.facadeModuleId === resolve(root, view));
        if (!chunk) this.error(`early.js names ${view}, which is no chunk of the build`);
        const wanted = closure(chunk).filter((c) => !loaded.has(c.fileName));
        files[view] = [
          ...wanted.map((c) => `/${c.fileName}`),
          ...wanted.flatMap((c) => [...(c.viteMetadata?.importedCss || [])].map((f) => `/${f}`)),
        ];
      }
      const code = source
        .replace('__GJ_VIEW_FILES__', JSON.stringify(files))
        .split('\n')
        .filter((line) => !/^\s*\/\//.test(line))
        .map((line) => line.trim())
        .join('\n');
      const fileName = this.getFileName(this.emitFile({ type: 'asset', name: 'early.js', source: code }));
      const tag = `<script async src="/${fileName}"></script>`;
      html.source = String(html.source).replace(/(\s*)<script /, `$1${tag}$1<script `);
      if (!html.source.includes(tag)) this.error('index.html has no script to put the early start before');
    },
  };
}

/**
 * Brotli and gzip copies of every script and stylesheet (`x.js.br`, `x.js.gz`), written once at
 * build time at the highest levels: app/main.py sends them to browsers that accept them, so no
 * request compresses on the fly (brotli is some 15 % smaller than gzip; browsers ask for it over
 * HTTPS).
 */
function precompress() {
  let outDir;
  return {
    name: 'gongjue-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir, config.build.assetsDir);
    },
    closeBundle() {
      for (const name of readdirSync(outDir)) {
        if (!/\.(js|css|svg)$/.test(name)) continue;
        const body = readFileSync(join(outDir, name));
        if (body.length < 1024) continue; // one packet either way
        writeFileSync(join(outDir, `${name}.gz`), gzipSync(body, { level: 9 }));
        writeFileSync(join(outDir, `${name}.br`), brotliCompressSync(body, {
          params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: body.length },
        }));
      }
    },
  };
}

export default defineConfig({
  plugins: [
    slimVantIcons(),
    vue(),
    // Vant components are imported on demand, each with its own CSS, to keep phones' downloads small.
    Components({ resolvers: [VantResolver()], dts: false }),
    earlyStart(),
    precompress(),
  ],
  define: {
    // Every component is written with <script setup> or setup(): Vue's Options API support is
    // dead weight on a phone (about 2 KB gzip of the vendor file).
    __VUE_OPTIONS_API__: 'false',
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2020',
    manifest: true, // read by scripts/size.mjs to measure what each screen downloads
    rollupOptions: {
      output: {
        // Few, larger files: a phone on HTTP/1.1 fetches six at a time, one round trip each, so
        // the owner's ballot page loading 40 small chunks took seven round trips (bench/PROFILE.md
        // §13). Vue and the router change less often than our code: one long-cached file. The UI
        // kit and shared pieces used by three or more screens: one file. Voting's components and
        // calls used by two or more screens: one file. The rest splits as the bundler decides.
        codeSplitting: {
          groups: [
            { name: 'vue', test: /[\\/]node_modules[\\/](@vue|vue|vue-router)[\\/]/, priority: 3 },
            {
              name: 'ui',
              test: /[\\/]node_modules[\\/](vant|@vant)[\\/]|[\\/]src[\\/]shared[\\/]/,
              minShareCount: 3,
              priority: 2,
            },
            { name: 'voting', test: /[\\/]src[\\/]voting[\\/](components[\\/][^\\/]+\.vue|api\.js|voting\.js)$/, minShareCount: 2, priority: 1 },
          ],
        },
      },
    },
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    proxy: {
      '/api': { target: backend },
      '/healthz': { target: backend },
    },
  },
});
