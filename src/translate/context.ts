// What a request translation hands to the response side: everything the response or stream
// translator needs to answer the client in its own terms.
import type { Dropped } from './dropped';
import type { ToolNameMap } from './names';
import type { Obj } from './shape';

/** Context for producing Anthropic output (client speaks Anthropic, upstream speaks OpenAI). */
export interface ToAnthropicContext {
  /** The model name the client asked for; echoed in `model`. */
  model: string;
  /** Truncated upstream tool names → the client's names (see names.ts). */
  toolNames?: ToolNameMap;
  /** The request's stop_sequences, to report `stop_sequence` when the upstream says which matched. */
  stopSequences?: readonly string[];
  /** input_tokens announced in a stream's `message_start`, before the upstream's usage arrives. */
  estimatedInputTokens?: number;
  /** Message id to use; by default derived from the upstream id (`chatcmpl-x` → `msg_x`). */
  messageId?: string;
}

/** Context for producing OpenAI output (client speaks OpenAI, upstream speaks Anthropic). */
export interface ToOpenAIContext {
  /** The model name the client asked for; echoed in `model`. */
  model: string;
  /** The client sent `stream_options.include_usage: true`: end the stream with a usage chunk. */
  includeUsage?: boolean;
  /** Tool names to restore, when the request translation changed any (it never does today). */
  toolNames?: ToolNameMap;
  /** Completion id; by default the upstream message id. */
  id?: string;
  /** `created` (Unix seconds); by default the time the response or stream started. */
  created?: number;
}

/** A translated request: the upstream body, and the context its response must be translated with. */
export interface RequestTranslation<C> {
  body: Obj;
  ctx: C;
  /** What the upstream API cannot carry and was left out (absent when nothing was). */
  dropped?: Dropped;
}
