// One HTTP request/response pair as the gateway sees it, whatever engine carries it. The gateway
// is written against this interface only, so uWebSockets.js and node:http serve identical routes.

/** Response headers as a flat list: name, value, name, value… (no object allocation per request). */
export type HeaderList = string[];

/** The content type of a JSON answer; callers copy it (concat, spread) and never change it. */
export const JSON_TYPE: HeaderList = ['content-type', 'application/json'];

export interface Exchange {
  readonly method: string; // upper case
  readonly path: string; // without the query string
  readonly query: string; // without the leading '?'
  /** Request headers, names lower-cased. */
  readonly headers: Record<string, string>;
  /** performance.now() when the request arrived. */
  readonly startedAt: number;
  /** True once the client went away; nothing may be written after that. */
  readonly aborted: boolean;

  /**
   * The caller is not known yet (its key is being looked up): keep only what of the body arrived
   * with the headers and read no more from the socket until readBody() is called. Must be called
   * in the synchronous part of the request handler. An answer sent instead closes the connection.
   */
  holdBody(): void;
  /**
   * Reads the whole body. `done(null, true)` when it would exceed `limit` bytes (the rest is not
   * buffered); the callback is never called if the client aborts first.
   */
  readBody(limit: number, done: (body: Buffer | null, tooLarge: boolean) => void): void;
  /** Called once if the client disconnects before the response ends. */
  onAbort(cb: () => void): void;
  /**
   * The client's address as text ('' once it left). uWS can tell only while the request is live:
   * read it in the synchronous part of the handler. Read by the few routes that need it (login
   * rate limits), never on the model path.
   */
  remoteAddress(): string;

  /** A complete response in one go (status line, headers, body). */
  respond(status: number, headers: HeaderList, body: string | Buffer): void;
  /** Starts a streamed response; follow with write()… and end(). */
  startStream(status: number, headers: HeaderList): void;
  /**
   * Writes a chunk (the caller may reuse its buffer at once; the uWS engine sends what one turn
   * wrote together at the turn's end). False means the client is slow: stop producing until
   * onWritable fires.
   */
  write(chunk: Buffer | string): boolean;
  /** Called once when the client has drained what was buffered. */
  onWritable(cb: () => void): void;
  end(chunk?: Buffer | string): void;
  /** Drops the connection (a stream that cannot be finished cleanly). */
  destroy(): void;
  /**
   * Turns a WebSocket upgrade request into a WebSocket (101) with these handlers. Absent when the
   * request is no WebSocket handshake on a WebSocket route (src/server/ws-route.ts).
   */
  upgradeWebSocket?(h: WsHandlers): void;
}

/** One end of a WebSocket, as the gateway writes to it. */
export interface WsPeer {
  /** False when the client is slow (what is sent is buffered; the caller may drop or pause). */
  send(data: Buffer | string, binary: boolean): boolean;
  end(code: number, reason: string): void;
}

/** What a WebSocket's events go to, once upgraded. */
export interface WsHandlers {
  open(peer: WsPeer): void;
  message(data: Buffer, binary: boolean): void;
  close(): void;
}

/** The gateway side of an engine: one call per request. */
export type RequestHandler = (ex: Exchange) => void;

export interface Engine {
  /** Human-readable description for the start line, e.g. "uWebSockets.js (@trufflesuite/uws-js-unofficial)". */
  readonly name: string;
  listen(host: string, port: number): Promise<number>;
  /** Stops accepting; connections in flight are left to finish. */
  stopAccepting(): void;
  /** Responses started from now on ask the client to close its connection. */
  setDraining(): void;
}
