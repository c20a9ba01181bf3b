// Preloaded into a gateway under test (NODE_OPTIONS=--require this file, WEIR_TEST_MODULE_LIST=1):
// as the process exits, its main thread (the control thread) prints every module it loaded, one line, for tests of what a
// config makes it load. A pipe to stderr is written synchronously on Linux, so the line is whole.
import { isMainThread } from 'node:worker_threads';

export const MODULES_LINE = 'WEIR_TEST_MODULES ';

if (isMainThread && process.env.WEIR_TEST_MODULE_LIST === '1') process.on('exit', () => process.stderr.write(`${MODULES_LINE}${JSON.stringify(Object.keys(require.cache))}\n`));
