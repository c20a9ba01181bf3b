// Calls of an async function that can share one run of it: a caller gets the next run that starts
// after it asked (so whatever it did before asking is covered), and callers waiting for that same
// run share it. Runs ending together write their spend once, not once each.

export function coalesce(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | null = null;
  let next: Promise<void> | null = null;
  return () => {
    if (next) return next;
    const mine: Promise<void> = (running ?? Promise.resolve())
      .catch(() => {})
      .then(() => {
        next = null;
        running = mine;
        return fn();
      })
      .finally(() => {
        if (running === mine) running = null;
      });
    next = mine;
    return mine;
  };
}
