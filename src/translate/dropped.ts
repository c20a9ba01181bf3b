// What a request translation left out because the upstream's API cannot carry it: tools it cannot
// run (hosted and server tools, tool types newer than the translator) and content blocks, parts or
// items of types it does not know. Refusing those would refuse requests the client's own API
// serves (agents add new types every few weeks); sending them would make the upstream refuse. So
// they are dropped, and the client is told which, in response headers (gateway/translation.ts).
// The line: a block whose *type* the upstream cannot take (a new type, audio toward Anthropic, a
// server-tool block) is left out; one of a type it takes but with a value it would refuse (an
// image over 5 MB, a media type no model reads, a source it cannot fetch) is refused with a 400,
// as the upstream would refuse it.
//
// Everything here comes from the client: the lists are bounded, and each label is cut to a short
// run of characters that are safe in a header value.

const MAX_ENTRIES = 16;
const MAX_LABEL = 64;
const SAFE = /[^A-Za-z0-9_.:-]/g;

/** A client-supplied type or name as a short header-safe label. */
function label(v: unknown): string {
  const s = typeof v === 'string' ? v : String(v);
  const cut = s.length > MAX_LABEL ? s.slice(0, MAX_LABEL) : s;
  return cut.length === 0 ? '?' : cut.replace(SAFE, '?');
}

export class Dropped {
  private readonly toolList: string[] = [];
  private readonly itemList: string[] = [];
  private moreTools = 0;
  private moreItems = 0;

  /** A tool not offered to the upstream, by its type (a hosted tool) or name. Listed once. */
  tool(type: unknown): void {
    const l = label(type);
    if (this.toolList.includes(l)) return;
    if (this.toolList.length < MAX_ENTRIES) this.toolList.push(l);
    else this.moreTools++;
  }

  /** Content not sent: where it was (`messages[3].content[1]`) and its type. */
  item(param: string, type: unknown): void {
    if (this.itemList.length < MAX_ENTRIES) this.itemList.push(`${param} (type '${label(type)}')`);
    else this.moreItems++;
  }

  get empty(): boolean {
    return this.toolList.length === 0 && this.itemList.length === 0;
  }

  /** Adds what another translation of the same call dropped (the Responses → chat → Anthropic chain). */
  merge(other: Dropped | undefined): void {
    if (other === undefined) return;
    for (const t of other.toolList) this.tool(t);
    this.moreTools += other.moreTools;
    for (const i of other.itemList) {
      if (this.itemList.length < MAX_ENTRIES) this.itemList.push(i);
      else this.moreItems++;
    }
    this.moreItems += other.moreItems;
  }

  /** The dropped tools, comma-separated (null when none). */
  get tools(): string | null {
    if (this.toolList.length === 0) return null;
    return this.moreTools > 0 ? `${this.toolList.join(', ')}, ... (${this.moreTools} more)` : this.toolList.join(', ');
  }

  /** The dropped content, `; `-separated (null when none). */
  get items(): string | null {
    if (this.itemList.length === 0) return null;
    return this.moreItems > 0 ? `${this.itemList.join('; ')}; ... (${this.moreItems} more)` : this.itemList.join('; ');
  }
}
