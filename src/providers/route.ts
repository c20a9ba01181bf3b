// Where a provider of the OpenAI-compatible table sends a deployment when the table's base URL and
// `/chat/completions` are not the whole story (azure-ai.ts, huggingface.ts, baseten.ts).
export interface Route {
  path: string;
  /** Another origin than the api_base's (a model's own host). */
  origin?: string;
  /** The header the key goes in as it is (Azure's `api-key`); absent: `authorization: Bearer`. */
  keyHeader?: string;
  /** The model id the provider expects, when it differs from the deployment's. */
  upstreamModel?: string;
}
