// Builds the admin page into dist/ui, which Weir serves at /ui. Hashed file names, so the server
// can cache them for a year; no inline script or style (the page's CSP forbids both).
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

export default {
  root: here,
  base: '/ui/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/ui', import.meta.url)),
    emptyOutDir: true,
    // Vite would inline small assets as data: URLs and add a module-preload polyfill script; keep
    // every byte in a file of its own.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: false,
  },
};
