// What the Redis side of this instance has done (stats.ts), on /metrics: whether Redis is up, the
// lease scripts run and waited for, the requests reconciled after an outage, and the cooldowns,
// deployment health messages and invalidations shared with the other instances. Registered once,
// when Redis is configured.
import { metricsRegistry, type MetricsRegistry, type Sample } from '../metrics/registry';
import { redisStats } from './stats';

const registered = new WeakSet<MetricsRegistry>();

const one = (value: number): Sample[] => [{ labels: {}, value }];
const both = (published: number, received: number): Sample[] => [
  { labels: { direction: 'published' }, value: published },
  { labels: { direction: 'received' }, value: received },
];

export function registerRedisMetrics(registry: MetricsRegistry = metricsRegistry): void {
  if (registered.has(registry)) return;
  registered.add(registry);
  registry.gauge('weir_redis_up', 'Whether this instance reaches its Redis (1) or not (0)', () => one(redisStats.state === 'up' ? 1 : 0));
  registry.counterFrom('weir_lease_refills_total', 'Lease scripts run against Redis (refills ahead of use and the ones a request waited for)', () => one(redisStats.leaseRefills));
  registry.counterFrom('weir_lease_waits_total', 'Requests that found their instance\'s lease spent and waited for one lease script', () => one(redisStats.leaseWaits));
  registry.counterFrom('weir_redis_reconciled_requests_total', 'Requests admitted while Redis was down, added to its counts when it came back', () => one(redisStats.reconciledRequests));
  registry.counterFrom('weir_cooldowns_shared_total', 'Deployment cooldowns shared with the other instances', () => both(redisStats.cooldownsPublished, redisStats.cooldownsReceived));
  registry.counterFrom('weir_deployment_health_messages_total', 'Messages of deployment health (cooldowns, failures this minute, in-flight requests) passed between instances', () => both(redisStats.healthPublished, redisStats.healthReceived));
  registry.counterFrom('weir_invalidations_total', 'Key, team and budget changes passed between instances', () => both(redisStats.invalidationsPublished, redisStats.invalidationsReceived));
}
