import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';
import Components from 'unplugin-vue-components/vite';
import { VantResolver } from '@vant/auto-import-resolver';

const backend = process.env.GONGJUE_BACKEND || 'http://127.0.0.1:8000';

export default defineConfig({
  plugins: [
    vue(),
    // Vant components are imported on demand, each with its own CSS, to keep phones' downloads small.
    Components({ resolvers: [VantResolver()], dts: false }),
  ],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2020',
    cssCodeSplit: true,
    reportCompressedSize: true,
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    proxy: {
      '/api': { target: backend, changeOrigin: false },
      '/healthz': { target: backend, changeOrigin: false },
    },
  },
});
