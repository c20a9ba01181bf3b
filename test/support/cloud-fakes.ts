// The sandbox a test's agent runs use, by provider: `local`, or `e2b` / `daytona` served by their
// fakes on loopback (the real SDKs, pointed there by api_url). Gives the config line of the `dev`
// sandbox, the fake (to inject faults and count live machines) and its close.
import { FakeDaytona } from './fake-daytona';
import { FakeE2B } from './fake-e2b';

export type ProviderName = 'local' | 'e2b' | 'daytona';

export const E2B_TEST_KEY = 'e2b_fake_key_4c1b9a';
export const DAYTONA_TEST_KEY = 'dtn_fake_key_77e0d2';

export interface TestCloud {
  provider: ProviderName;
  fake: FakeE2B | FakeDaytona | null;
  /** `{name, provider: …, …}` for agent_settings.sandboxes. */
  sandbox(name: string, extra?: Record<string, unknown>): string;
  /** Machines the fake still runs (0 for local). */
  live(): number;
  close(): Promise<void>;
}

export async function startCloud(provider: ProviderName): Promise<TestCloud> {
  if (provider === 'local') {
    return { provider, fake: null, sandbox: (name, extra = {}) => JSON.stringify({ name, provider: 'local', ...extra }), live: () => 0, close: async () => {} };
  }
  const fake = provider === 'e2b' ? await FakeE2B.start({ apiKey: E2B_TEST_KEY }) : await FakeDaytona.start({ apiKey: DAYTONA_TEST_KEY });
  const base = provider === 'e2b' ? { api_key: E2B_TEST_KEY, api_url: fake.url, sandbox_url: fake.url } : { api_key: DAYTONA_TEST_KEY, api_url: (fake as FakeDaytona).apiUrl };
  return {
    provider,
    fake,
    sandbox: (name, extra = {}) => JSON.stringify({ name, provider, ...base, ...extra }),
    live: () => fake.machines.live().length,
    close: () => fake.close(),
  };
}

/** The provider a parametrized suite runs on, from its file name (`agents-runs-e2b.test.js` → e2b). */
export function providerOf(file: string): ProviderName {
  const m = /-(e2b|daytona)\.test\.js$/.exec(file);
  return (m?.[1] as ProviderName | undefined) ?? 'local';
}
