// A KeyProfile as the control thread builds one for a plain key (no team, user, limits or route
// restrictions), with the fields a unit test cares about overridden.
import type { KeyProfile } from '../../src/gateway/governance';

export function keyProfile(record: number, over: Partial<KeyProfile> = {}): KeyProfile {
  return {
    record,
    tokenHash: '',
    keyAlias: null,
    keyName: null,
    models: [],
    aliases: {},
    userId: null,
    userRecord: -1,
    userRole: null,
    teamId: null,
    teamAlias: null,
    teamRecord: -1,
    teamModels: [],
    memberRecord: -1,
    orgId: null,
    orgRecord: -1,
    tags: [],
    spendLogsMetadata: null,
    allowedRoutes: [],
    passThroughRoutes: [],
    modelLimits: null,
    ...over,
  };
}
