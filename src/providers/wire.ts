// A deployment's *wire*: how a provider that speaks a dialect (Anthropic messages, OpenAI chat)
// differs from that dialect on the wire. Claude on Bedrock or on Vertex AI takes the Anthropic body,
// but the model goes in the URL path (which depends on stream or not), the body gets an
// `anthropic_version` and loses `model`, authentication is computed per request over the body
// (SigV4, a refreshed bearer token), and Bedrock streams AWS event-stream frames instead of SSE.
//
// The Target is plain data: the control thread builds it and the snapshot is cloned to every
// worker, so it cannot hold functions. It carries a `WireSpec` (a kind and the plain parameters the
// kind needs); each thread makes the live `Wire` from it on first use (`liveWire`) and keeps it for
// as long as the target lives. A kind registers its factory here, from its provider's module.
//
// The gateway applies the wire around the dialect it already speaks: the body it would have sent
// (the client's, or the translated one) goes through `body`, the path comes from `path`, `sign`
// adds the per-request headers, and the answer comes back through `decoder` (streams) or
// `response` (whole answers), so accounting, translation and the client see the dialect as an
// ordinary upstream of it would have sent it.

/** What a target carries of its wire: the kind (its factory) and plain, cloneable parameters. */
export interface WireSpec {
  kind: string;
  [param: string]: unknown;
}

/** Turns a provider's stream framing into the dialect's SSE bytes, chunk by chunk. */
export interface WireDecoder {
  /** SSE bytes for what `chunk` completed (possibly empty); a partial frame waits for the rest. */
  push(chunk: Buffer): Buffer;
  /** The stream ended: SSE bytes for what remains (an error event if it ended inside a frame). */
  end(): Buffer;
}

export interface Wire {
  /** The request path (with query) of one call. */
  path(stream: boolean): string;
  /** The provider's body from the dialect's body; `headers` are the client's (anthropic-beta…). */
  body(body: Buffer, stream: boolean, headers: Readonly<Record<string, string>>): Buffer;
  /** Whether the dialect's own headers (anthropic-version, anthropic-beta) also go as headers. */
  readonly dialectHeaders: boolean;
  /**
   * Headers to add to `headers` (flat name/value pairs, those already set) for this request:
   * authentication computed over the body. A promise when something must be awaited first.
   */
  sign(method: string, path: string, headers: readonly string[], body: Buffer): string[] | Promise<string[]>;
  /** A decoder for one streamed answer, or null when the provider already streams the dialect's SSE. */
  decoder(): WireDecoder | null;
  /** A whole (non-streamed, successful) answer in the dialect, when the provider's differs. */
  response?(body: Buffer): Buffer;
  /**
   * The provider's token counting for /v1/messages/count_tokens, or null: the local estimate.
   * `answer` turns its reply into `{"input_tokens": N}`.
   */
  readonly countTokens: { path: string; body(body: Buffer, headers: Readonly<Record<string, string>>): Buffer; answer(reply: Buffer): string } | null;
}

/** What a factory reads from the target. */
export interface WireTarget {
  upstreamModel: string;
  origin: string;
  wire?: WireSpec | null;
}

export type WireFactory = (spec: WireSpec, t: WireTarget) => Wire;

const factories = new Map<string, WireFactory>();
/** Per thread: the live wire of each target object (a wildcard's concrete targets included). */
const live = new WeakMap<WireTarget, Wire>();

export function registerWire(kind: string, factory: WireFactory): void {
  factories.set(kind, factory);
}

/** The live wire of a target that has one, made on first use in this thread. */
export function liveWire(t: WireTarget & { wire: WireSpec }): Wire {
  let w = live.get(t);
  if (!w) {
    const f = factories.get(t.wire.kind);
    if (!f) throw new Error(`no wire of kind ${t.wire.kind} in this build`);
    live.set(t, (w = f(t.wire, t)));
  }
  return w;
}
