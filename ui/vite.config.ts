/**
 * The upload page: `npm run build:ui` builds it into dist/ui (served by the local stack at `/`, deployed by
 * the component); `npm run dev:ui` serves it with hot reload, proxying the API and videos to a running local
 * stack (`npm start`, or LOCAL_STACK_URL).
 */
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import tailwindcss from '@tailwindcss/vite';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const stack = process.env.LOCAL_STACK_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  root,
  base: './', // relative asset URLs: the page works under any path prefix
  plugins: [tailwindcss(), svelte()],
  build: {
    outDir: '../dist/ui',
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: false,
  },
  server: {
    host: '127.0.0.1',
    fs: { allow: ['..'] }, // contracts/ lives beside ui/
    proxy: { '/api': stack, '/videos': stack, '/config.json': stack },
  },
});
