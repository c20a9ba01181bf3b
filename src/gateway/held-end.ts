// The last act of an answer (its end, a whole response, or a cut) held until the worker's spend
// journal has the call's record in the file: the journal writes all the records of a turn with one
// write and then calls journaled() on each (src/accounting/journal.ts). So a client that saw its
// answer end has its record in the kernel's page cache, which a kill -9 cannot take back.
// Writes before the end (stream chunks, an error event) are not held: only the end tells the
// client that the call is over.
import type { JournalWaiter } from '../accounting/journal';
import type { Exchange, HeaderList } from '../server/exchange';

const NONE = 0;
const END = 1;
const RESPOND = 2;
const DESTROY = 3;

export class HeldEnd implements JournalWaiter {
  private held = false;
  private act = NONE;
  private status = 0;
  private headers: HeaderList | null = null;
  private body: string | Buffer | undefined;

  constructor(private readonly ex: Exchange) {}

  /** From now until journaled(), the end waits. */
  hold(): void {
    this.held = true;
  }

  respond(status: number, headers: HeaderList, body: string | Buffer): void {
    if (!this.held) return this.ex.respond(status, headers, body);
    if (this.act !== NONE) return;
    this.act = RESPOND;
    this.status = status;
    this.headers = headers;
    this.body = body;
  }

  end(chunk?: Buffer | string): void {
    if (!this.held) return this.ex.end(chunk);
    if (this.act !== NONE) return;
    this.act = END;
    this.body = chunk;
  }

  destroy(): void {
    if (!this.held) return this.ex.destroy();
    if (this.act === NONE) this.act = DESTROY;
  }

  journaled(): void {
    this.held = false;
    const act = this.act;
    this.act = NONE;
    if (act === END) this.ex.end(this.body);
    else if (act === RESPOND) this.ex.respond(this.status, this.headers!, this.body!);
    else if (act === DESTROY) this.ex.destroy();
    this.headers = null;
    this.body = undefined;
  }
}
