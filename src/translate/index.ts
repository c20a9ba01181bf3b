// Translation between OpenAI chat completions and Anthropic Messages: requests, responses, error
// bodies and streams. Pure and dependency-free: Node built-ins only (crypto for LiteLLM's tool-name
// hash and fresh ids, string_decoder for UTF-8 split across chunks); no I/O; imports nothing from
// the rest of Weir.
//
// ─── Using it ───────────────────────────────────────────────────────────────────────────────────
//
// Client speaks Anthropic (/v1/messages), upstream speaks OpenAI:
//
//   const { body, ctx } = anthropicToOpenAIChat(JSON.parse(req), { model: deployment.model });
//   // → POST body to /chat/completions
//   non-stream:  res = openAIChatResponseToAnthropic(JSON.parse(upstreamRes), ctx)
//   stream:      const s = new OpenAIToAnthropicStream(ctx);
//                for each upstream chunk: write(s.push(chunk));  at EOF: write(s.end());
//                on upstream error/timeout/abort: write(s.fail(message, status));
//                bill with s.usage (s.usageReported says whether the upstream reported it)
//   error:       openAIErrorToAnthropic(status, upstreamBody) (status passes through unchanged)
//
// Client speaks OpenAI (/v1/chat/completions), upstream speaks Anthropic:
//
//   const { body, ctx } = openAIChatToAnthropic(JSON.parse(req), { model: deployment.model });
//   non-stream:  anthropicResponseToOpenAIChat(upstreamJson, ctx)
//   stream:      new AnthropicToOpenAIStream(ctx) — same push / end / fail / usage
//   error:       anthropicErrorToOpenAI(status, upstreamBody)
//
// Client speaks the Responses API (/v1/responses, Codex), upstream speaks chat completions:
//
//   const { body, ctx } = responsesToChat(JSON.parse(req), { model: deployment.model });
//   non-stream:  chatResponseToResponses(upstreamJson, ctx)
//   stream:      new ChatToResponsesStream(ctx) — same push / end / fail / usage
//   upstream Anthropic: chain openAIChatToAnthropic(body, …) and, back, AnthropicToOpenAIStream →
//   ChatToResponsesStream (or anthropicResponseToOpenAIChat → chatResponseToResponses).
//   Mapping in responses-request.ts and responses-stream.ts.
//
// Upstream speaks Gemini (generateContent; gemini-*.ts): chat is the one form translated to it.
//
//   const { body, ctx } = chatToGemini(chatBody, deployment.model, { thinkingBudget });
//   non-stream:  geminiResponseToChat(upstreamJson, ctx)
//   stream:      new GeminiToChatStream(ctx), or new GeminiToAnthropicStream(ctx, toAnthropicCtx) for
//                Anthropic clients (whose request went anthropicToOpenAIChat → chatToGemini)
//
// /v1/messages/count_tokens for an OpenAI-compatible deployment: { input_tokens: estimateTokens(body) }.
//
// A request the translator cannot express throws TranslationError {status: 400, message, param,
// type}; answer it with err.toAnthropic() or err.toOpenAI(). A malformed upstream response body
// throws TranslationError with status 502. push() never throws: what cannot be parsed is skipped.
//
// `ctx` carries what the response side needs: the model name the client asked for (responses
// echo it), the truncated-tool-name map, stop sequences, the input-token estimate for
// message_start, and whether the OpenAI client asked for stream usage. It is a plain object; the
// caller may set `messageId` / `id` / `created` to fix ids.
//
// ─── Mapping choices (where the APIs leave room) ────────────────────────────────────────────────
//
// Anthropic → OpenAI request
//  - system (string or text blocks) → one system message, blocks joined with a blank line.
//  - A system message inside `messages` (Claude Code's mid-conversation system messages, beta
//    mid-conversation-system-2026-04-07) → a chat system message at the same place: chat takes
//    them anywhere. One that sits between tool calls and their results follows the tool messages
//    (chat wants those right after the calls); a user turn it splits becomes two user messages.
//  - cache_control is dropped (OpenAI caches by itself and refuses unknown fields) unless
//    opts.keepCacheControl: then breakpoints stay where LiteLLM's OpenAI format puts them (text and
//    image parts, system as parts, tool messages, tools) — for OpenAI-compatible upstreams that
//    serve Claude (a LiteLLM proxy, OpenRouter), where dropping them silently ends prompt caching.
//  - Consecutive messages of one role are one turn (as Anthropic treats them). tool_result blocks
//    become `tool` messages placed right after the assistant message, one per result, in order;
//    the rest of that user turn follows as a user message. Images inside a tool_result go into
//    that user message (OpenAI tool messages carry text only) and the tool text says so.
//    `is_error: true` prefixes the tool text with "Error: " (OpenAI has no error flag).
//  - Every tool_use must be answered by a tool_result in the next user turn and every tool_result
//    must answer a tool_use of the previous assistant turn, else 400 (both APIs require it).
//  - thinking / redacted_thinking in the history are dropped by default (OpenAI refuses unknown
//    message fields, and signatures mean nothing to other models); options keep them as
//    `reasoning_content` or as LiteLLM's `thinking_blocks` for backends that want them.
//  - Assistant text blocks are joined with a blank line into a string; a user turn that is one
//    text block becomes a string, otherwise content parts.
//  - tools: input_schema → function.parameters, unchanged. Names over 64 characters are truncated
//    LiteLLM's way (55 chars + '_' + 8 hex of SHA-256) and restored in responses and streams.
//    bash_* and text_editor_* (client-executed, fixed schema) are offered as functions with their
//    schema; server tools (web_search, web_fetch, code_execution, computer, memory, …) and tool
//    types newer than the translator are left out and named (opts.serverTools 'error': a 400).
//    A tool_choice naming a tool left out is left out too. mcp_servers → 400.
//  - tool_choice auto/any/tool/none → auto/required/{function}/none; disable_parallel_tool_use →
//    parallel_tool_calls: false. tool_choice without tools is dropped.
//  - thinking enabled → reasoning_effort by budget on LiteLLM's thresholds: ≥ 4096 high,
//    ≥ 2048 medium, else low. thinking adaptive → output_config.effort (max → high), default medium.
//  - max_tokens → max_tokens (opts.maxTokensField 'max_completion_tokens' for o-series/gpt-5;
//    opts.maxTokensCap clamps). stop_sequences → stop; metadata.user_id → user (its SHA-256
//    when longer than the 64 characters OpenAI takes); temperature, top_p kept; top_k dropped;
//    output_format / output_config.format (json_schema) → response_format json_schema.
//    stream → stream + stream_options.include_usage.
//  - Other Anthropic-only fields (context_management, container, service_tier, …) are dropped.
//
// OpenAI → Anthropic request
//  - system and developer messages before the first turn → `system` text blocks in order; text
//    parts stay separate blocks. Later ones stay in place, as `<system-reminder>` text in the user
//    turn there (Anthropic takes system turns only with a beta; hoisting them would move them to
//    the start and break the prompt cache's prefix: request-openai-to-anthropic.ts).
//  - cache_control set by OpenAI-format clients (on a part, on a message → its last block, on a
//    tool message, on a tool) is kept: those clients know they talk to Claude, and dropping the
//    breakpoints turns every cache read into full-price input (cline #5067).
//  - Consecutive same-role messages are merged into one turn (Anthropic requires alternation);
//    consecutive tool messages become one user turn of tool_result blocks, placed before any
//    other content of that turn. Empty text is left out (Anthropic refuses empty text blocks).
//  - tool_calls → tool_use blocks (arguments parsed; invalid JSON or a non-object → 400; '' → {});
//    ids made valid for Anthropic the same way in tool_calls and tool messages.
//  - Legacy functions / function_call / `function` messages are translated as tools.
//  - reasoning_content in the history is dropped (Anthropic needs signed thinking); LiteLLM-style
//    `thinking_blocks` with signatures are replayed as thinking / redacted_thinking blocks.
//  - max_completion_tokens ?? max_tokens ?? defaultMaxTokens (4096, LiteLLM's default).
//  - reasoning_effort → thinking budget: minimal/low 1024, medium 2048, high 4096, xhigh, max and
//    ultra 8192, none → off. The budget must stay below max_tokens: with an explicit max it is clamped to
//    max − 1 (and thinking is left off below Anthropic's 1024 minimum); with the default max,
//    max_tokens = 4096 + budget. A LiteLLM-style `thinking` param is passed on. Thinking is left
//    off when the assistant turn being continued called tools without thinking first (Anthropic
//    would refuse the request). With thinking on, temperature ≠ 1 and top_p < 0.95 are dropped.
//  - temperature is clamped to Anthropic's 0–1; stop (string or list) → stop_sequences without
//    whitespace-only entries; user → metadata.user_id; parallel_tool_calls: false →
//    disable_parallel_tool_use; response_format json_schema → output_config.format, json_object →
//    a system instruction to answer in JSON; n > 1 → 400; penalties, logit_bias, seed, logprobs
//    are dropped.
//
// Validation (TranslationError, 400, with `param`): what is certainly invalid. Messages missing,
// not an array, empty, or with an unknown role; content of the wrong type; a block or part whose
// type is not a string, or of a type its own API allows only elsewhere (tool_use in a user
// message, an image in a system message); tools with an invalid name ([a-zA-Z0-9_-]; toward
// Anthropic at most 128 characters, its limit), an input_schema that is not {type: 'object'},
// parameters that are not an object or not of type object, duplicate names; tool_choice naming no
// tool; images with a media type other than jpeg / png / gif / webp or over 5 MB decoded;
// non-base64 data URLs; unpaired tool calls and results; arguments that are not JSON.
//
// Left out and named (`dropped` on the result, see dropped.ts; the gateway sends it as the
// x-weir-dropped-tools and x-weir-dropped headers): what is merely new, or what the other API
// cannot carry — block, part and item types the translator does not know, server-tool blocks,
// hosted and server tools, audio toward Anthropic. Refusing them would refuse requests the
// client's own API serves.
//
// Responses
//  - finish_reason → stop_reason: stop → end_turn (stop_sequence when vLLM/SGLang say which
//    sequence matched; OpenAI never does), length → max_tokens, tool_calls/function_call →
//    tool_use, content_filter → refusal (and a message.refusal → refusal). Whenever tool calls were
//    made the stop reason is tool_use, whatever the upstream said (LiteLLM #34692).
//  - stop_reason → finish_reason: end_turn/stop_sequence/pause_turn → stop, max_tokens/
//    model_context_window_exceeded → length, tool_use → tool_calls, refusal → content_filter.
//  - Usage: Anthropic input_tokens = prompt_tokens − cached − cache writes; cache_read from
//    prompt_tokens_details.cached_tokens; cache_creation from LiteLLM/OpenRouter fields or 0. The
//    reverse sums them into prompt_tokens and fills prompt_tokens_details.cached_tokens, plus
//    LiteLLM's cache_read_input_tokens / cache_creation_input_tokens.
//  - Thinking from an OpenAI upstream has no signature (signature ''); from Anthropic it becomes
//    reasoning_content plus thinking_blocks with signatures, so OpenAI clients can replay it.
//  - Ids: msg_<upstream id without chatcmpl-> for Anthropic clients; the upstream msg_ id as is for
//    OpenAI clients (LiteLLM does the same), so spend logs join on the provider id.
//
// Streams: see stream-openai-to-anthropic.ts and stream-anthropic-to-openai.ts for the event
// mapping; usage: message_start carries ctx.estimatedInputTokens (set by anthropicToOpenAIChat for
// stream requests), message_delta the upstream's real input, cache and output tokens. A stream
// that ends without a finish (cut upstream) ends with an error event from end().

export { TranslationError, anthropicErrorToOpenAI, openAIErrorToAnthropic, anthropicErrorType, openAIErrorType } from './errors';
export type { RequestTranslation, ToAnthropicContext, ToOpenAIContext } from './context';
export { anthropicToOpenAIChat, type AnthropicToOpenAIOptions } from './request-anthropic-to-openai';
export { openAIChatToAnthropic, type OpenAIToAnthropicOptions } from './request-openai-to-anthropic';
export { openAIChatResponseToAnthropic, anthropicResponseToOpenAIChat, type AnthropicMessage, type ChatCompletion } from './response';
export { OpenAIToAnthropicStream } from './stream-openai-to-anthropic';
export { AnthropicToOpenAIStream } from './stream-anthropic-to-openai';
export { SseParser, type SseHandler } from './sse';
export { estimateTokens } from './count-tokens';
export { responsesToChat, type ResponsesToChatOptions, type ToResponsesContext } from './responses-request';
export { chatResponseToResponses, type ResponsesUsage } from './responses-response';
export { ChatToResponsesStream } from './responses-stream';
export { truncateToolName, restoreToolName, type ToolNameMap } from './names';
export { usageFromOpenAI, usageFromAnthropic, usageToOpenAI, type Usage, type OpenAIUsage } from './usage';
export { MAX_IMAGE_BYTES } from './content';
export { Dropped } from './dropped';
export { chatToGemini, type GeminiContext, type ChatToGeminiOptions } from './gemini-request';
export { geminiResponseToChat } from './gemini-response';
export { GeminiToChatStream, GeminiToAnthropicStream } from './gemini-stream';
export { geminiSchema } from './gemini-schema';
