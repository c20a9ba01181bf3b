// The wire of Claude on Bedrock (InvokeModel): paths, body, signature, stream decoding and token
// counting put together for one deployment (see invoke.ts for each piece).
import type { Wire } from '../wire';
import { countTokensAnswer, invokeBody, invokeBodyParts, InvokeStreamDecoder } from './invoke';
import type { AwsSigner } from './sign';

/** Bedrock's CountTokens body wants a max_tokens, which count_tokens requests do not carry. */
const COUNT_MAX_TOKENS = 1024;
/** Inference-profile prefixes: CountTokens takes the base model id. */
const PROFILE_PREFIX = /^(us|eu|apac|au|ca|jp|us-gov|global)\./;

export function invokeWire(modelPath: string, basePath: string, id: string, signer: AwsSigner): Wire {
  const invoke = `${modelPath}/invoke`;
  const stream = `${modelPath}/invoke-with-response-stream`;
  return {
    dialectHeaders: false,
    path: (s) => (s ? stream : invoke),
    body: (body, _s, headers, dropped, scan) => invokeBodyParts(body, headers['anthropic-beta'], dropped, undefined, scan),
    sign: (method, path, headers, body) => signer.sign(method, path, headers, body),
    decoder: () => new InvokeStreamDecoder(),
    countTokens: {
      path: `${basePath}/model/${encodeURIComponent(id.replace(PROFILE_PREFIX, ''))}/count-tokens`,
      body: (body, headers) => Buffer.from(JSON.stringify({ input: { invokeModel: { body: invokeBody(body, headers['anthropic-beta'], undefined, COUNT_MAX_TOKENS).toString('base64') } } })),
      answer: countTokensAnswer,
    },
  };
}
