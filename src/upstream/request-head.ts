// The request line and header fields of a request on the gateway's HTTP/1.1 client, checked as
// undici checks them: a field name is a token, a value holds no line break or NUL (a header could
// otherwise end the request early and start another), the path has no blanks. The length is the
// body's, whatever a caller's fields say, and framing fields are the client's own to write.

export class InvalidRequest extends Error {
  readonly code = 'UPSTREAM_INVALID_REQUEST';
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const BAD_PATH = /[^\x21-\x7e\x80-\xff]/;

/** Fields the client writes itself (framing and the connection's own), dropped from a caller's. */
function framing(lower: string): boolean {
  return lower === 'content-length' || lower === 'transfer-encoding' || lower === 'connection' || lower === 'keep-alive';
}

/**
 * `headers` are name/value pairs. `length` is the body's size, or -1 for a request with no body
 * (no content-length is sent then).
 */
export function requestHead(method: string, path: string, hostHeader: string, headers: readonly string[], length: number): string {
  if (path.length === 0 || BAD_PATH.test(path)) throw new InvalidRequest(`invalid request path ${JSON.stringify(path.slice(0, 80))}`);
  let fields = '';
  let host = false;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i]!;
    const value = headers[i + 1]!;
    if (!TOKEN.test(name)) throw new InvalidRequest(`invalid header name ${JSON.stringify(name.slice(0, 80))}`);
    if (BAD_VALUE.test(value)) throw new InvalidRequest(`invalid value for header ${name}`);
    // Only names of these lengths can be framing or host: most fields skip the lowercasing.
    const n = name.length;
    if (n === 4 || n === 10 || n === 14 || n === 17) {
      const lower = name.toLowerCase();
      if (lower === 'host') host = true;
      else if (framing(lower)) continue;
    }
    fields += `${name}: ${value}\r\n`;
  }
  const hostLine = host ? '' : `host: ${hostHeader}\r\n`;
  const lengthLine = length >= 0 ? `content-length: ${length}\r\n` : '';
  return `${method} ${path} HTTP/1.1\r\n${hostLine}${fields}${lengthLine}\r\n`;
}
