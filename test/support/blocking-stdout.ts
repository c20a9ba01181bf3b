// Preloaded into every test file's process by the runner (test/run.ts, `--require`): its stdout and
// stderr are written synchronously.
//
// Why: under `--test-force-exit` a file's process exits as soon as its tests are done, and what it
// had still queued on its stdout pipe (the test runner sends each verdict to the parent there) is
// lost. The parent then reports fewer tests than ran, with no error (nodejs/node#64833): our CI
// runs twice showed the last 5 to 9 tests of a file missing from the totals. A blocking write
// leaves nothing queued when the process exits.
for (const stream of [process.stdout, process.stderr]) {
  const handle = (stream as unknown as { _handle?: { setBlocking?: (on: boolean) => void } })._handle;
  handle?.setBlocking?.(true);
}
