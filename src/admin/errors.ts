// Errors of the management API, answered in LiteLLM's ProxyException envelope:
// {"error": {"message", "type", "param", "code": "<status>"}} with the HTTP status = code.
import type { AdminResponse } from './types';

export class AdminError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly type: string = typeForStatus(status),
  ) {
    super(message);
  }
}

function typeForStatus(status: number): string {
  if (status === 401 || status === 403) return 'auth_error';
  if (status === 404) return 'not_found_error';
  if (status >= 500) return 'internal_server_error';
  return 'bad_request_error';
}

export const badRequest = (message: string, param: string | null = null) => new AdminError(400, message, param);
export const notFound = (message: string, param: string | null = null) => new AdminError(404, message, param);

export function errorResponse(e: AdminError): AdminResponse {
  return { status: e.status, body: { error: { message: e.message, type: e.type, param: e.param, code: String(e.status) } } };
}

interface PgError {
  code?: string;
  detail?: string;
  constraint?: string;
  column?: string;
}

/** Maps an error thrown while serving a request to the answer. Postgres constraint errors are the
 *  caller's fault (a race on an id, a row still referenced); anything else is ours (500). */
export function toAdminError(e: unknown): AdminError {
  if (e instanceof AdminError) return e;
  const pg = e as PgError;
  switch (pg?.code) {
    case '23505':
      return new AdminError(400, `Already exists: ${pg.detail ?? pg.constraint ?? 'unique constraint violated'}`);
    case '23503':
    case '23001':
      return new AdminError(400, `Referenced row missing or still in use: ${pg.detail ?? pg.constraint ?? 'foreign key violated'}`);
    case '23502':
      return new AdminError(400, `Missing required value${pg.column ? ` for ${pg.column}` : ''}`, pg.column ?? null);
    case '22021': // invalid byte sequence (a NUL character in text)
    case '22P05': // unsupported Unicode escape (\u0000 inside JSON)
      return new AdminError(400, `Invalid value: text may not contain NUL characters (${(e as Error).message})`);
    case '22P02':
    case '22003':
    case '22007':
    case '22008':
      return new AdminError(400, `Invalid value: ${(e as Error).message}`);
  }
  return new AdminError(500, `Internal error: ${(e as Error)?.message ?? String(e)}`);
}
