// A cloud SDK's error as one clear sentence for the run: which provider, what Weir was doing, and
// what the API said (refused key, missing template, rate limit, server error, no answer in time).
// The message never carries the API key: SDK messages that echo request headers are not used as
// they are, and anything that looks like a key is masked.

const KEYLIKE = /\b(e2b_|dtn_|sk-)[A-Za-z0-9_-]{6,}/g;

export function describeCloudError(provider: 'e2b' | 'daytona', doing: string, e: unknown, template?: string): Error {
  const err = e as { name?: string; message?: string; statusCode?: number; status?: number; response?: { status?: number }; code?: string };
  const raw = String(err?.message ?? e).replace(KEYLIKE, '$1…').slice(0, 400);
  const status = err?.statusCode ?? err?.status ?? err?.response?.status ?? statusIn(raw);
  let why: string;
  if (status === 401 || status === 403 || err?.name === 'AuthenticationError' || err?.name === 'DaytonaAuthenticationError') why = `the ${provider} API refused the API key (${status ?? 401}): check api_key`;
  else if (status === 404 && doing === 'create') why = `the ${provider} API does not know the template${template ? ` "${template}"` : ''} (404): ${raw}`;
  else if (status === 429 || err?.name === 'RateLimitError') why = `the ${provider} API is rate limiting (429): ${raw}`;
  else if (err?.name === 'TimeoutError' || err?.name === 'DaytonaTimeoutError' || err?.code === 'ECONNABORTED' || /timed? ?out|aborted/i.test(raw)) why = `the ${provider} API did not answer in time: ${raw}`;
  else if (status !== undefined && status >= 500) why = `the ${provider} API failed (${status}): ${raw}`;
  else why = raw;
  const out = new Error(`${provider} ${doing}: ${why}`);
  out.name = 'CloudError';
  (out as Error & { status?: number }).status = status;
  return out;
}

function statusIn(message: string): number | undefined {
  const m = /^(\d{3})\b|status code (\d{3})/.exec(message);
  const n = m ? Number(m[1] ?? m[2]) : NaN;
  return Number.isFinite(n) ? n : undefined;
}
