// At most N calls of an async function at once; the rest wait their turn in order.
//
// Agent runs mint and block their keys through the management API, whose transactions hold a
// database connection while they take another for some reads: dozens of runs starting at once
// would hold every connection of the pool and wait for one forever (until the pool's timeout).

export function limitConcurrency<A extends unknown[], R>(n: number, fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  let active = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    active--;
    waiting.shift()?.();
  };
  return async (...args: A) => {
    if (active >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await fn(...args);
    } finally {
      release();
    }
  };
}
