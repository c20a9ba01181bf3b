// What the Redis side of this instance has done, as plain counters a metrics module can read
// (control thread only; nothing here is shared with workers).
export type RedisState = 'off' | 'connecting' | 'up' | 'down';

export const redisStats = {
  /** 'off' when no Redis is configured. */
  state: 'off' as RedisState,
  /** Epoch ms of the last move between up and down (0 = never). */
  since: 0,
  /** Lease scripts run (background refills and the ones a refused request waited for). */
  leaseRefills: 0,
  /** Of those, the ones a request waited for (its instance's lease was spent). */
  leaseWaits: 0,
  /** Requests counted locally while Redis was down, later added to Redis's windows. */
  reconciledRequests: 0,
  cooldownsPublished: 0,
  cooldownsReceived: 0,
  /** Deployment health messages (one per 25 ms tick at most: cooldowns, failures, in-flight) sent and received. */
  healthPublished: 0,
  healthReceived: 0,
  invalidationsPublished: 0,
  invalidationsReceived: 0,
};
