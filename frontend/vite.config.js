import { fileURLToPath } from 'node:url';
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

export default defineConfig({
  plugins: [
    slimVantIcons(),
    vue(),
    // Vant components are imported on demand, each with its own CSS, to keep phones' downloads small.
    Components({ resolvers: [VantResolver()], dts: false }),
  ],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2020',
    manifest: true, // read by scripts/size.mjs to measure what each screen downloads
    rollupOptions: {
      output: {
        // Vue and the router change less often than our code: one long-cached vendor file.
        manualChunks(id) {
          if (/[\\/]node_modules[\\/](@vue|vue|vue-router)[\\/]/.test(id)) return 'vue';
          return undefined;
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
