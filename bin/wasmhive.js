#!/usr/bin/env node
// The wasmhive command line. The code lives in dist/cli/, built from
// src/cli by `npm run build` (also run by `npm install` through `prepare`).
let cli;
try {
  cli = await import('../dist/cli/index.js');
} catch (e) {
  if (e && e.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('dist/cli/')) {
    console.error('wasmhive: dist/ is not built; run `npm run build` first');
    process.exit(1);
  }
  throw e;
}
process.exitCode = await cli.main(process.argv.slice(2));
