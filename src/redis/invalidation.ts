// Key, team and budget changes made through any instance reach the others at once: the instance
// that changed the tables publishes on a Redis channel once its own state has the change, and
// every other instance re-reads the tables on that message. The 2-second table poll stays as the
// fallback (a lost message, a change made by LiteLLM itself, Redis down).
import type { RedisLink } from './link';
import { redisStats } from './stats';

const CHANNEL = 'weir:invalidate';

export class Invalidation {
  constructor(
    private readonly link: RedisLink,
    private readonly instanceId: string,
    resync: () => void,
  ) {
    link.listen(CHANNEL, (message) => {
      if (message === instanceId) return;
      redisStats.invalidationsReceived++;
      resync();
    });
  }

  /** Tells the other instances the tables changed (resolves once Redis took the message, or failed). */
  async changed(): Promise<void> {
    if (!this.link.up) return;
    try {
      await this.link.cmd.publish(CHANNEL, this.instanceId);
      redisStats.invalidationsPublished++;
    } catch {
      // the poll brings the change to the others
    }
  }
}
