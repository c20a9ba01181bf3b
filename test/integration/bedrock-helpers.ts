// The rig of the Bedrock tests: a fake Bedrock runtime and a fake STS on loopback, and the gateway
// process configured with deployments that reach them with each kind of credentials. Nothing
// leaves loopback: the instance metadata lookups of the AWS SDK are off, STS is the fake, and the
// shared credentials files are the test's own.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startGateway, type GatewayProcess } from '../support/gateway-process';
import { startFakeBedrock, startFakeSts, type AwsKeys, type FakeBedrock, type FakeSts } from '../support/fake-bedrock';

export const MASTER = 'sk-bedrock-master-7f3a';
export const CLAUDE_ID = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
/** The base model of CLAUDE_ID's inference profile (CountTokens takes it). */
export const CLAUDE_BASE_ID = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
export const HAIKU_ID = 'anthropic.claude-3-5-haiku-20241022-v1:0';
export const LLAMA_ID = 'meta.llama3-3-70b-instruct-v1:0';

export const PARAM_KEYS: AwsKeys = { accessKeyId: 'AKIAPARAMSKEY0000001', secretAccessKey: 'params-secret-Xy7/8aBcD+eF' };
export const ENV_KEYS: AwsKeys = { accessKeyId: 'AKIAENVKEY000000002', secretAccessKey: 'env-secret-Gh1/2iJkL+mN' };
export const PROFILE_KEYS: AwsKeys = { accessKeyId: 'AKIAPROFILEKEY00003', secretAccessKey: 'profile-secret-Op3/4qRsT+uV', sessionToken: 'profile-session-token-123456' };
/** The keys that may call STS (the role's trust), not Bedrock. */
export const MASTER_KEYS: AwsKeys = { accessKeyId: 'AKIAMASTERKEY000004', secretAccessKey: 'master-secret-Wx5/6yZaB+cD' };
export const ROLE_ARN = 'arn:aws:iam::123456789012:role/weir-bedrock-test';

export interface BedrockRig {
  bedrock: FakeBedrock;
  sts: FakeSts;
  gw: GatewayProcess;
  dir: string;
  close(): Promise<void>;
}

/** The environment of a gateway that must find nothing of the machine's AWS setup. */
export function isolatedAwsEnv(dir: string, stsUrl: string): Record<string, string | undefined> {
  const credentials = path.join(dir, 'credentials');
  const config = path.join(dir, 'config');
  if (!fs.existsSync(credentials)) fs.writeFileSync(credentials, '');
  if (!fs.existsSync(config)) fs.writeFileSync(config, '');
  return {
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL_STS: stsUrl,
    AWS_SHARED_CREDENTIALS_FILE: credentials,
    AWS_CONFIG_FILE: config,
    AWS_ACCESS_KEY_ID: undefined,
    AWS_SECRET_ACCESS_KEY: undefined,
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
    AWS_REGION: undefined,
    AWS_DEFAULT_REGION: undefined,
    AWS_ROLE_ARN: undefined,
    AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
    AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined,
    AWS_BEDROCK_RUNTIME_ENDPOINT: undefined,
  };
}

/** A deployment of the rig's config (YAML flow mapping of litellm_params). */
export function deployment(name: string, params: string): string {
  return `  - model_name: ${name}\n    litellm_params: { ${params} }\n`;
}

export async function startBedrockRig(o: { models: (bedrockUrl: string) => string; extra?: string; split?: number; env?: Record<string, string> | ((bedrockUrl: string) => Record<string, string>); databaseUrl?: string; workers?: number }): Promise<BedrockRig> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-bedrock-'));
  const bedrock = await startFakeBedrock({ keys: [PARAM_KEYS, ENV_KEYS, PROFILE_KEYS], models: [CLAUDE_ID, CLAUDE_BASE_ID, HAIKU_ID, LLAMA_ID], split: o.split });
  const sts = await startFakeSts({ keys: [MASTER_KEYS], issueTo: bedrock.keys });
  fs.writeFileSync(path.join(dir, 'credentials'), `[weir-test]\naws_access_key_id = ${PROFILE_KEYS.accessKeyId}\naws_secret_access_key = ${PROFILE_KEYS.secretAccessKey}\naws_session_token = ${PROFILE_KEYS.sessionToken}\n`);
  const general = `general_settings: { master_key: ${MASTER}${o.databaseUrl ? `, database_url: "${o.databaseUrl}", proxy_batch_write_at: 1` : ''} }\n`;
  const gw = await startGateway({
    workers: o.workers ?? 1,
    env: { ...isolatedAwsEnv(dir, sts.url), ...(typeof o.env === 'function' ? o.env(bedrock.url) : o.env) },
    config: `model_list:\n${o.models(bedrock.url)}${general}${o.extra ?? 'router_settings: { num_retries: 0 }\n'}`,
  });
  return {
    bedrock,
    sts,
    gw,
    dir,
    close: async () => {
      await gw.stop();
      await bedrock.close();
      await sts.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
