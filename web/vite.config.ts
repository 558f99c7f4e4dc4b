import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';
import tailwindcss from '@tailwindcss/vite';

// The Rust server serves `dist/` at `/` (SPA fallback) and the API under `/api/v1`.
// During `npm run dev` the API is proxied to a locally running server.
const target = process.env.TRADESAGE_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react(), tailwindcss()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    // The server's CSP is `default-src 'self'`: no data: URIs, no inline scripts or styles.
    assetsInlineLimit: 0,
  },
  server: {
    proxy: {
      '/api': { target, changeOrigin: false },
      '/health': { target },
    },
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.{ts,tsx}'],
  },
});
