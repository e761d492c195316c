import { defineConfig } from 'vite';

// Grafana loads a plugin's module.js as an AMD module and supplies these
// packages itself, so they stay out of the bundle.
const external = [
  'react',
  'react-dom',
  '@grafana/data',
  '@grafana/ui',
  '@grafana/runtime',
  '@grafana/schema',
  '@grafana/i18n',
  'rxjs',
  'lodash',
  '@emotion/css',
  '@emotion/react',
];

export default defineConfig({
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: 'dist',
    emptyOutDir: false, // the Go binaries live there too
    sourcemap: true,
    // Rollup writes AMD; Vite's types list only its own library formats.
    lib: { entry: 'src/module.ts', formats: ['amd' as 'es'], fileName: () => 'module.js' },
    rollupOptions: { external: (id) => external.some((e) => id === e || id.startsWith(e + '/')) && id !== 'react/jsx-runtime' },
  },
  test: {
    environment: 'jsdom',
    globals: true,
    // One worker, modules shared across files: @grafana/ui is loaded once.
    pool: 'forks',
    poolOptions: { forks: { singleFork: true } },
    isolate: false,
    setupFiles: ['src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    // @grafana/* ship ESM that imports CommonJS and CSS: let Vite transform them.
    server: { deps: { inline: [/@grafana/] } },
    alias: { 'monaco-editor': new URL('./src/test/monaco-stub.ts', import.meta.url).pathname },
  },
});
