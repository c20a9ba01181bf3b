// A run's (or anything's) state as a coloured badge.
export function StatusBadge({ status, tone }: { status: string; tone?: 'ok' | 'bad' | 'warn' | undefined }) {
  return (
    <span class={tone ? `badge ${tone}` : 'badge'} data-testid="status">
      {status}
    </span>
  );
}
