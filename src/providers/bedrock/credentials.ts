// AWS credentials for a Bedrock deployment, as LiteLLM's params name them, resolved by the AWS SDK's
// own providers and cached per thread:
//   aws_access_key_id / aws_secret_access_key (/ aws_session_token)  → those keys
//   aws_role_name (+ aws_session_name)                                 → STS AssumeRole (fromTemporaryCredentials),
//                                                                        from the keys above when given
//   aws_profile_name                                                   → the shared files (fromIni)
//   nothing                                                            → the default chain (environment, shared
//                                                                        files, web identity, ECS, instance metadata)
//
// A request never waits on a fetch while credentials are valid: `get()` answers at once with the
// cached identity and, once it is within REFRESH_BEFORE_MS of expiring, starts a refresh in the
// background. It returns a promise only when nothing valid is held (the first call, or after
// expiry). Deployments naming the same credentials share one cache (one STS call per thread).
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

export interface AwsCredentialSpec {
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  roleArn?: string;
  sessionName?: string;
  profile?: string;
  /** Region for the STS client of an assumed role. */
  region: string;
}

/** Refresh this long before expiry, so requests never see an expired identity. */
const REFRESH_BEFORE_MS = 5 * 60_000;
/** After a failed fetch, the next request tries again no sooner than this. */
const RETRY_AFTER_FAILURE_MS = 1_000;

export class CachedCredentials {
  private current: AwsCredentialIdentity | null = null;
  private pending: Promise<AwsCredentialIdentity> | null = null;
  private failedAt = 0;
  private lastError: Error | null = null;

  constructor(private readonly provider: AwsCredentialIdentityProvider) {}

  /** The identity, at once when one is held and valid; a promise only when one must be fetched. */
  get(): AwsCredentialIdentity | Promise<AwsCredentialIdentity> {
    const c = this.current;
    const now = Date.now();
    if (c && (!c.expiration || c.expiration.getTime() > now)) {
      if (c.expiration && c.expiration.getTime() - now < REFRESH_BEFORE_MS) void this.refresh().catch(() => {});
      return c;
    }
    if (this.lastError && now - this.failedAt < RETRY_AFTER_FAILURE_MS && !this.pending) return Promise.reject(this.lastError);
    return this.refresh();
  }

  /** Starts fetching now (at config load), so the first request finds credentials ready. */
  warm(): void {
    void this.refresh().catch(() => {});
  }

  private refresh(): Promise<AwsCredentialIdentity> {
    this.pending ??= this.provider().then(
      (c) => {
        this.current = c;
        this.pending = null;
        this.lastError = null;
        return c;
      },
      (e: unknown) => {
        this.pending = null;
        this.failedAt = Date.now();
        this.lastError = new Error(`no AWS credentials: ${(e as Error).message ?? String(e)}`);
        throw this.lastError;
      },
    );
    return this.pending;
  }
}

function providerFor(spec: AwsCredentialSpec): AwsCredentialIdentityProvider {
  // Loaded here, not at the top: only installations with AWS deployments need the SDK's chain.
  const { fromIni, fromTemporaryCredentials } = require('@aws-sdk/credential-providers') as typeof import('@aws-sdk/credential-providers');
  const { defaultProvider } = require('@aws-sdk/credential-provider-node') as typeof import('@aws-sdk/credential-provider-node');
  const keys = spec.accessKeyId && spec.secretAccessKey ? { accessKeyId: spec.accessKeyId, secretAccessKey: spec.secretAccessKey, ...(spec.sessionToken ? { sessionToken: spec.sessionToken } : {}) } : null;
  if (spec.roleArn) {
    const stsEndpoint = process.env.AWS_ENDPOINT_URL_STS;
    return fromTemporaryCredentials({
      params: { RoleArn: spec.roleArn, RoleSessionName: spec.sessionName ?? `weir-${process.pid}` },
      ...(keys ? { masterCredentials: keys } : spec.profile ? { masterCredentials: fromIni({ profile: spec.profile }) } : {}),
      clientConfig: { region: spec.region, ...(stsEndpoint ? { endpoint: stsEndpoint } : {}) },
    });
  }
  if (keys) return () => Promise.resolve(keys);
  if (spec.profile) return fromIni({ profile: spec.profile });
  return defaultProvider();
}

const caches = new Map<string, CachedCredentials>();
/** Specs come from the config (one per distinct set of credentials); reloads may add more. */
const MAX_CACHES = 256;

/** The thread's cache for these credentials (the same spec, the same cache). */
export function credentialsFor(spec: AwsCredentialSpec): CachedCredentials {
  const key = JSON.stringify([spec.accessKeyId, spec.secretAccessKey, spec.sessionToken, spec.roleArn, spec.sessionName, spec.profile, spec.region]);
  let c = caches.get(key);
  if (!c) {
    if (caches.size >= MAX_CACHES) caches.delete(caches.keys().next().value!);
    caches.set(key, (c = new CachedCredentials(providerFor(spec))));
    c.warm();
  }
  return c;
}
