// A unified diff drawn as a diff: file headers, hunk headers, added and removed lines each in their
// colour, as text. A very long diff shows its first MAX_LINES lines and says so.
import { useMemo } from 'preact/hooks';

const MAX_LINES = 5000;

function kind(line: string): string {
  if (line.startsWith('diff --git') || line.startsWith('index ') || line.startsWith('+++ ') || line.startsWith('--- ') || line.startsWith('new file') || line.startsWith('deleted file')) return 'file';
  if (line.startsWith('@@')) return 'hunk';
  if (line.startsWith('+')) return 'add';
  if (line.startsWith('-')) return 'del';
  return 'ctx';
}

export function DiffView({ text }: { text: string }) {
  const lines = useMemo(() => text.split('\n'), [text]);
  const shown = lines.length > MAX_LINES ? lines.slice(0, MAX_LINES) : lines;
  return (
    <div class="diff" data-testid="diff" role="document" aria-label="Diff">
      {shown.map((l, i) => (
        <div key={i} class={`dl ${kind(l)}`}>
          {l || ' '}
        </div>
      ))}
      {lines.length > MAX_LINES && <p class="muted">… {lines.length - MAX_LINES} more lines not shown.</p>}
    </div>
  );
}
