// LiteLLM's named route groups (the members of LiteLLMRoutes in litellm/proxy/_types.py), which a
// key's `allowed_routes` may name instead of paths: `llm_api_routes`, `info_routes`,
// `management_routes`, … Every member is here, not only the ones Weir serves a route of: a key
// LiteLLM wrote may name any of them, and an unknown name would refuse what LiteLLM allows.
// Entries are exact paths, `prefix/*` wildcards, or `{placeholder}` patterns, as in LiteLLM.

const openaiRoutes = [
  '/engines/{model}/chat/completions', '/openai/deployments/{model}/chat/completions', '/chat/completions', '/v1/chat/completions',
  '/cursor/chat/completions', '/cursor/models', '/cursor/v1/models',
  '/engines/{model}/completions', '/openai/deployments/{model}/completions', '/completions', '/v1/completions',
  '/engines/{model}/embeddings', '/openai/deployments/{model}/embeddings', '/embeddings', '/v1/embeddings',
  '/images/generations', '/v1/images/generations', '/images/edits', '/v1/images/edits',
  '/videos', '/v1/videos', '/videos/{video_id}', '/v1/videos/{video_id}', '/videos/{video_id}/content', '/v1/videos/{video_id}/content',
  '/videos/{video_id}/remix', '/v1/videos/{video_id}/remix',
  '/audio/transcriptions', '/v1/audio/transcriptions', '/audio/speech', '/v1/audio/speech', '/moderations', '/v1/moderations',
  '/v1/batches', '/batches', '/v1/batches/{batch_id}', '/batches/{batch_id}', '/v1/batches/{batch_id}/cancel', '/batches/{batch_id}/cancel',
  '/v1/files', '/files', '/v1/files/{file_id}', '/files/{file_id}', '/v1/files/{file_id}/content', '/files/{file_id}/content',
  '/fine_tuning/jobs', '/v1/fine_tuning/jobs', '/fine_tuning/jobs/{fine_tuning_job_id}/cancel', '/v1/fine_tuning/jobs/{fine_tuning_job_id}/cancel',
  '/assistants', '/v1/assistants', '/v1/assistants/{assistant_id}', '/assistants/{assistant_id}', '/threads', '/v1/threads',
  '/threads/{thread_id}', '/v1/threads/{thread_id}', '/threads/{thread_id}/messages', '/v1/threads/{thread_id}/messages',
  '/threads/{thread_id}/runs', '/v1/threads/{thread_id}/runs',
  '/models', '/v1/models', '/utils/token_counter', '/utils/transform_request', '/rerank', '/v1/rerank', '/v2/rerank',
  '/realtime', '/v1/realtime', '/openai/v1/realtime', '/realtime/client_secrets', '/v1/realtime/client_secrets', '/openai/v1/realtime/client_secrets',
  '/realtime/calls', '/v1/realtime/calls', '/openai/v1/realtime/calls', '/realtime/transcription_sessions', '/v1/realtime/transcription_sessions',
  '/openai/v1/realtime/transcription_sessions',
  '/responses', '/v1/responses', '/openai/v1/responses', '/responses/{response_id}', '/v1/responses/{response_id}', '/openai/v1/responses/{response_id}',
  '/responses/{response_id}/input_items', '/v1/responses/{response_id}/input_items', '/openai/v1/responses/{response_id}/input_items',
  '/responses/{response_id}/cancel', '/v1/responses/{response_id}/cancel', '/openai/v1/responses/{response_id}/cancel',
  '/vector_stores', '/v1/vector_stores', '/vector_stores/{vector_store_id}', '/v1/vector_stores/{vector_store_id}',
  '/vector_stores/{vector_store_id}/search', '/v1/vector_stores/{vector_store_id}/search', '/vector_stores/{vector_store_id}/files',
  '/v1/vector_stores/{vector_store_id}/files', '/vector_stores/{vector_store_id}/files/{file_id}', '/v1/vector_stores/{vector_store_id}/files/{file_id}',
  '/vector_stores/{vector_store_id}/files/{file_id}/content', '/v1/vector_stores/{vector_store_id}/files/{file_id}/content',
  '/vector_store/list', '/v1/vector_store/list', '/search', '/v1/search', '/search/{search_tool_name}', '/v1/search/{search_tool_name}',
  '/ocr', '/v1/ocr', '/containers', '/v1/containers', '/containers/*', '/v1/containers/*',
];

const mappedPassThroughRoutes = [
  '/bedrock', '/comprehendmedical', '/vertex-ai', '/vertex_ai', '/cohere', '/cursor', '/gemini', '/anthropic', '/langfuse', '/azure',
  '/azure_ai', '/openai', '/openai_passthrough', '/assemblyai', '/eu.assemblyai', '/vllm', '/mistral', '/milvus', '/watsonx',
];
const passthroughRoutesWildcard = mappedPassThroughRoutes.map((r) => `${r}/*`);
const litellmNativeRoutes = ['/rag/ingest', '/v1/rag/ingest', '/rag/query', '/v1/rag/query'];
const anthropicRoutes = ['/v1/messages', '/v1/messages/count_tokens', '/v1/skills', '/v1/skills/{skill_id}'];
const mcpInferenceRoutes = ['/mcp', '/mcp/', '/mcp/{subpath}', '/mcp/tools', '/mcp/tools/list', '/mcp/tools/call', '/mcp-rest/tools/list', '/mcp-rest/tools/call', '/v1/mcp/tools'];
const mcpManagementRoutes = ['/v1/mcp/server', '/v1/mcp/server/{path:path}'];
const agentInferenceRoutes = ['/agents', '/a2a/{agent_id}', '/a2a/{agent_id}/message/send', '/a2a/{agent_id}/message/stream', '/a2a/{agent_id}/.well-known/agent-card.json'];
const agentManagementRoutes = ['/v1/agents', '/v1/agents/{agent_id}', '/v1/agents/make_public', '/v1/agents/{agent_id}/make_public'];
const googleRoutes = [
  '/v1beta/models/{model_name:path}:countTokens', '/v1beta/models/{model_name:path}:generateContent', '/v1beta/models/{model_name:path}:streamGenerateContent',
  '/models/{model_name:path}:countTokens', '/models/{model_name:path}:generateContent', '/models/{model_name:path}:streamGenerateContent',
  '/interactions', '/v1beta/interactions', '/interactions/{interaction_id}', '/v1beta/interactions/{interaction_id}',
  '/interactions/{interaction_id}/cancel', '/v1beta/interactions/{interaction_id}/cancel', '/v1beta/agents', '/v1beta/agents/{name}', '/v1beta/agents/{name}/versions',
];
const applyGuardrailRoutes = ['/guardrails/apply_guardrail'];
const modelInfoRoutes = ['/model/info', '/v1/model/info'];

const infoRoutes = [
  '/key/info', '/key/health', '/team/info', '/team/list', '/v2/team/list', '/organization/list', '/team/available', '/team/metadata_schema',
  '/user/info', '/v2/user/info', '/model/info', '/v1/model/info', '/v2/model/info', '/v2/key/info', '/model_group/info', '/health',
  '/health/services', '/key/list', '/user/filter/ui', '/models', '/v1/models', '/sso/get/ui_settings', '/get/user_banner',
];

const keyManagementRoutes = [
  '/key/generate', '/key/update', '/key/delete', '/key/info', '/key/regenerate', '/key/service-account/generate', '/key/{key_id}/regenerate',
  '/key/list', '/key/block', '/key/unblock', '/key/bulk_update', '/team/key/bulk_update', '/team/daily/activity', '/team/daily/activity/aggregated',
  '/spend/logs', '/spend/logs/v2', '/key/{key_id}/reset_spend', '/key/aliases', '/key/access_group_assignment',
];

const managementRoutes = [
  '/user/new', '/user/update', '/user/bulk_update', '/user/delete', '/user/info', '/user/list', '/user/daily/activity', '/user/daily/activity/aggregated',
  '/team/new', '/team/update', '/team/{team_id}', '/team/delete', '/team/list', '/v2/team/list', '/team/info', '/team/block', '/team/unblock',
  '/team/available', '/team/metadata_schema', '/team/permissions_list', '/team/permissions_update', '/team/permissions_bulk_update',
  '/team/daily/activity', '/team/daily/activity/aggregated', '/gateway/daily/activity',
  '/model/new', '/model/update', '/model/delete', '/model/info',
  '/jwt/key/mapping/new', '/jwt/key/mapping/update', '/jwt/key/mapping/delete', '/jwt/key/mapping/list', '/jwt/key/mapping/info',
  ...keyManagementRoutes, ...mcpManagementRoutes, ...agentManagementRoutes,
];

const spendTrackingRoutes = [
  '/spend/keys', '/spend/users', '/spend/tags', '/spend/calculate', '/spend/logs', '/spend/logs/v2', '/spend/logs/ui', '/spend/logs/session/ui',
  '/key/spend/report', '/user/spend/report', '/team/spend/report', '/organization/spend/report', '/management/v1/spend_logs/end_users',
  '/management/v1/spend_logs/users', '/cost/estimate',
];

const globalSpendTrackingRoutes = [
  '/global/spend/logs', '/global/spend', '/global/spend/keys', '/global/spend/teams', '/global/spend/end_users', '/global/spend/models',
  '/global/predict/spend/logs', '/global/spend/report', '/global/spend/provider', '/global/spend/tags', '/global/spend/all_tag_names',
];

const publicRoutes = [
  '/routes', '/', '/health/liveliness', '/health/liveness', '/test', '/config/yaml', '/litellm/.well-known/litellm-ui-config',
  '/.well-known/litellm-ui-config', '/public/model_hub', '/public/model_hub/info', '/public/agent_hub', '/public/mcp_hub', '/public/skill_hub',
  '/public/litellm_model_cost_map',
];

const uiRoutes = [
  '/sso', '/sso/get/ui_settings', '/get/ui_settings', '/login', '/key/info', '/config', '/spend', '/model/info', '/v2/model/info', '/v2/key/info',
  '/models', '/v1/models', '/global/spend', '/global/spend/logs', '/global/spend/keys', '/global/spend/models', '/global/spend/tags',
  '/global/predict/spend/logs', '/global/activity', '/gateway/daily/activity', '/health/services', ...infoRoutes,
];

const complianceCheckRoutes = ['/compliance/eu-ai-act', '/compliance/gdpr'];

const internalUserRoutes = [
  '/global/activity', '/global/activity/model', '/global/activity/cache_hits', '/tag/daily/activity', '/tag/list', '/v1/models/{model_id}',
  '/models/{model_id}', '/guardrails/list', '/v2/guardrails/list', '/project/list', '/project/info', '/search_tools/list',
  '/search_tools/ui/available_providers', ...spendTrackingRoutes, ...keyManagementRoutes, ...complianceCheckRoutes,
];

const internalUserViewOnlyRoutes = [...spendTrackingRoutes, ...complianceCheckRoutes, '/tag/daily/activity', '/tag/list'];

const selfManagedRoutes = [
  '/team/member_add', '/team/member_delete', '/team/member_update', '/team/{team_id}/member/{user_id}/reset_spend', '/team/permissions_list',
  '/team/permissions_update', '/team/daily/activity', '/team/daily/activity/aggregated', '/team/{team_id}/members/me', '/model/new', '/model/update',
  '/model/delete', '/user/daily/activity', '/user/daily/activity/aggregated', '/organization/daily/activity', '/user/available_roles', '/user/list',
  '/model/{model_id}/update', '/prompt/list', '/prompt/info', '/project/list', '/project/info', '/health/test_connection', '/invitation/new',
  '/invitation/delete', '/guardrails/register', '/guardrails/submissions', '/guardrails/submissions/{guardrail_id}', '/auto_router/test_routing',
  '/auto_router/validate_complexity_router_config', ...agentManagementRoutes,
];

const orgAdminOnlyRoutes = ['/organization/info', '/organization/delete', '/organization/member_add', '/organization/member_update', '/organization/member_delete'];

const adminViewerRoutes = [
  '/user/list', '/user/available_users', '/user/available_roles', '/user/daily/activity', '/team/daily/activity', '/team/daily/activity/aggregated',
  '/tag/daily/activity', '/tag/list', '/audit', '/audit/{id}', '/global/activity', '/global/activity/model', '/global/activity/cache_hits',
  '/customer/list', '/customer/info', '/spend/logs/ui/{logId}', '/spend/logs/session/ui', '/management/v1/spend_logs/end_users',
  '/management/v1/spend_logs/users', '/callbacks/list', '/callbacks/configs', '/get/config/callbacks', '/alerting/settings', '/config/list',
  '/config/field/info', '/budget/list', '/management/v1/budgets', '/budget/settings', '/invitation/info', '/guardrails/list', '/v2/guardrails/list',
  '/guardrails/submissions', '/guardrails/submissions/{guardrail_id}', '/guardrails/usage/overview', '/policies/attachments/list',
  '/get/mcp_semantic_filter_settings', '/schedule/model_cost_map_reload/status', '/model/cost_map/source', ...spendTrackingRoutes, ...infoRoutes,
];

export const ROUTE_GROUPS: Readonly<Record<string, readonly string[]>> = {
  // Call-type names, not paths: a key naming the group matches no path through it, as in LiteLLM.
  openai_route_names: ['chat_completion', 'completion', 'embeddings', 'image_generation', 'video_generation', 'audio_transcriptions', 'moderations', 'model_list'],
  openai_routes: openaiRoutes,
  mapped_pass_through_routes: mappedPassThroughRoutes,
  passthrough_routes_wildcard: passthroughRoutesWildcard,
  litellm_native_routes: litellmNativeRoutes,
  anthropic_routes: anthropicRoutes,
  mcp_inference_routes: mcpInferenceRoutes,
  mcp_management_routes: mcpManagementRoutes,
  mcp_routes: [...mcpInferenceRoutes, ...mcpManagementRoutes],
  agent_inference_routes: agentInferenceRoutes,
  agent_management_routes: agentManagementRoutes,
  agent_routes: [...agentInferenceRoutes, ...agentManagementRoutes],
  google_routes: googleRoutes,
  apply_guardrail_routes: applyGuardrailRoutes,
  model_info_routes: modelInfoRoutes,
  llm_api_routes: [
    ...openaiRoutes, ...anthropicRoutes, ...googleRoutes, ...mappedPassThroughRoutes, ...passthroughRoutesWildcard, ...applyGuardrailRoutes,
    ...mcpInferenceRoutes, ...litellmNativeRoutes, ...agentInferenceRoutes, ...modelInfoRoutes,
  ],
  info_routes: infoRoutes,
  master_key_only_routes: ['/global/spend/reset', '/memory-usage-in-mem-cache', '/memory-usage-in-mem-cache-items'],
  key_management_routes: keyManagementRoutes,
  management_routes: managementRoutes,
  spend_tracking_routes: spendTrackingRoutes,
  global_spend_tracking_routes: globalSpendTrackingRoutes,
  public_routes: publicRoutes,
  ui_routes: uiRoutes,
  compliance_check_routes: complianceCheckRoutes,
  internal_user_routes: internalUserRoutes,
  internal_user_view_only_routes: internalUserViewOnlyRoutes,
  self_managed_routes: selfManagedRoutes,
  org_admin_only_routes: orgAdminOnlyRoutes,
  admin_viewer_routes: adminViewerRoutes,
  org_admin_allowed_routes: [...orgAdminOnlyRoutes, ...managementRoutes, ...selfManagedRoutes, ...adminViewerRoutes],
};

/** `key_type` of /key/generate → the allowed_routes LiteLLM gives the key (`default`: none, all routes). */
export const ROUTES_BY_KEY_TYPE: Readonly<Record<string, readonly string[]>> = {
  llm_api: ['llm_api_routes'],
  management: ['management_routes'],
  read_only: ['info_routes'],
};
