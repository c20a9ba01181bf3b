// The wire of a Bedrock model served through Converse: paths, the request and answer mappings of
// converse.ts, the signature. Token counting is the local estimate (CountTokens serves Claude).
import type { Wire } from '../wire';
import { anthropicMessage, converseRequest, ConverseStreamDecoder } from './converse';
import type { AwsSigner } from './sign';

export function converseWire(modelPath: string, id: string, signer: AwsSigner): Wire {
  const whole = `${modelPath}/converse`;
  const stream = `${modelPath}/converse-stream`;
  return {
    dialectHeaders: false,
    path: (s) => (s ? stream : whole),
    body: (body, _s, _headers, dropped) => converseRequest(body, dropped),
    sign: (method, path, headers, body) => signer.sign(method, path, headers, body),
    decoder: () => new ConverseStreamDecoder(id),
    response: (body) => anthropicMessage(body, id),
    countTokens: null,
  };
}
