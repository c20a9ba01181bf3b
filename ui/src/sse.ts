// Server-sent events read over fetch (not EventSource): the page's session cookie goes along, every
// event type arrives at one callback (a run's events have many types), and it resumes after the last
// id it saw. Lines are split as they come; a frame ends at a blank line.

export interface SseEvent {
  id: string | null;
  event: string;
  data: string;
}

/** Reads `path` as text/event-stream until it ends, the signal aborts, or it fails (thrown). */
export async function readSse(path: string, onEvent: (e: SseEvent) => void, signal: AbortSignal, lastEventId?: string): Promise<void> {
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (lastEventId) headers['last-event-id'] = lastEventId;
  const res = await fetch(path, { headers, credentials: 'same-origin', signal });
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  let id: string | null = null;
  let event = 'message';
  let data: string[] = [];
  const line = (l: string) => {
    if (l === '') {
      if (data.length) onEvent({ id, event, data: data.join('\n') });
      event = 'message';
      data = [];
      return;
    }
    if (l.startsWith(':')) return;
    const colon = l.indexOf(':');
    const field = colon < 0 ? l : l.slice(0, colon);
    const value = colon < 0 ? '' : l.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    else if (field === 'id') id = value;
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let start = 0;
    for (let nl = buf.indexOf('\n', start); nl >= 0; nl = buf.indexOf('\n', start)) {
      line(buf.slice(start, nl).replace(/\r$/, ''));
      start = nl + 1;
    }
    buf = buf.slice(start);
  }
}
