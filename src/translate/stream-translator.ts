// What the three stream translators share: upstream bytes go through one SSE parser, translated
// events accumulate in `out` and are handed over after each push; once the translator has
// finished (its closing or error event written) it ignores everything. A subclass says what an
// upstream event becomes, how a clean upstream end closes the stream (or, when the upstream
// stopped short, the error event that ends it) and how a failure ends it.
//
// A translator's closures over `this` (the handler of each parsed chunk, say) are field
// initializers, never made in a subclass's constructor. Made there (after super()), such a closure
// kept every translator of a worker alive through the young generation's collections until the
// next mark-compact: all of them were promoted, 1.2 KB a stream, and the mark-compacts that then
// freed them were most of the translated path's GC time (V8 11.3, PERF.md). The same closure made
// by a field initializer dies young with its translator.
import { SseParser } from './sse';

export abstract class StreamTranslator {
  /** Translated SSE text not yet handed over. */
  protected out = '';
  /** Set once the closing or error event is written. */
  protected finished = false;
  private readonly parser = new SseParser((event, data) => this.onEvent(event, data));

  /** Feeds upstream bytes; returns the translated SSE text to send now ('' if none). Never throws. */
  push(chunk: Uint8Array | string): string {
    if (this.finished) return '';
    try {
      this.parser.push(chunk);
    } catch (e) {
      this.untranslatable(e);
    }
    return this.take();
  }

  /** The upstream ended cleanly: the closing events, or an error event when it stopped short. */
  end(): string {
    if (this.finished) return '';
    try {
      this.parser.end();
      if (!this.finished) this.upstreamEnded();
    } catch (e) {
      this.untranslatable(e);
    }
    return this.take();
  }

  /**
   * An upstream event the translator could not turn into the client's (a value nested too deep
   * to serialize again, say): the stream ends with an error event rather than an exception in
   * the gateway's response handler. Whole events only ever reach `out`, so what is there stays.
   */
  private untranslatable(e: unknown): void {
    if (!this.finished) this.failWith(`the upstream stream could not be translated: ${e instanceof Error ? e.message : String(e)}`, 502);
  }

  /** The stream failed (upstream error, timeout): returns the error event to end it with. */
  fail(message: string, status = 500): string {
    if (this.finished) return '';
    this.failWith(message, status);
    return this.take();
  }

  /** True once the closing or error event was produced. */
  get done(): boolean {
    return this.finished;
  }

  /** One upstream SSE event (never called once finished). */
  protected abstract onEvent(event: string, data: string): void;
  /** The upstream's bytes ended and the stream is not finished yet. */
  protected abstract upstreamEnded(): void;
  protected abstract failWith(message: string, status: number): void;

  protected take(): string {
    const s = this.out;
    this.out = '';
    return s;
  }
}
