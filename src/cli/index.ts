/**
 * The command line (`wasmhive spec | bench | demo`). `bin/wasmhive.js` runs
 * `main` from the build; the commands themselves live with what they run.
 */
export { main } from './main.js';
