// A number with its label, the headline figures at the top of the spend and live pages.
export function Card({ label, value, testId, tone }: { label: string; value: string; testId?: string; tone?: 'ok' | 'bad' | 'warn' }) {
  return (
    <div class={tone ? `card ${tone}` : 'card'}>
      <div class="value" data-testid={testId}>
        {value}
      </div>
      <div class="label">{label}</div>
    </div>
  );
}
