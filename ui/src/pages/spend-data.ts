// What /global/spend/breakdown answers, and the shapes the Spend page draws from it: every day of
// the range (days without traffic as zero), each top group's spend per day.
export const GROUPINGS = [
  { id: 'model', title: 'Model' },
  { id: 'api_key', title: 'Key' },
  { id: 'team', title: 'Team' },
  { id: 'user', title: 'User' },
  { id: 'end_user', title: 'End user' },
] as const;
export type GroupBy = (typeof GROUPINGS)[number]['id'];

export interface Sums {
  spend: number;
  api_requests: number;
  successful_requests: number;
  failed_requests: number;
  prompt_tokens: number;
  completion_tokens: number;
}

export interface Day extends Sums {
  date: string;
}

export interface Group extends Sums {
  id: string;
  label: string;
  daily: Record<string, number>;
}

export interface Breakdown {
  group_by: GroupBy;
  start_date: string;
  end_date: string;
  totals: Sums;
  days: Day[];
  groups: Group[];
  total_groups: number;
  other: Sums | null;
}

const DAY_MS = 86_400_000;
/** At most this many days drawn (a year and a day): a longer range is cut at its end. */
export const MAX_DAYS = 366;

export const isoDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** The range ending today (UTC) that covers `days` days. */
export function lastDays(days: number, now = Date.now()): { start: string; end: string } {
  return { start: isoDay(now - (days - 1) * DAY_MS), end: isoDay(now) };
}

/** Every date of the range, in order. */
export function datesOf(start: string, end: string): string[] {
  const out: string[] = [];
  const last = Date.parse(`${end}T00:00:00Z`);
  for (let t = Date.parse(`${start}T00:00:00Z`); t <= last && out.length < MAX_DAYS; t += DAY_MS) out.push(isoDay(t));
  return out;
}

const ZERO: Sums = { spend: 0, api_requests: 0, successful_requests: 0, failed_requests: 0, prompt_tokens: 0, completion_tokens: 0 };

/** Each date of the range with its sums (zero where nothing was spent). */
export function everyDay(b: Breakdown): Day[] {
  const byDate = new Map(b.days.map((d) => [d.date, d]));
  return datesOf(b.start_date, b.end_date).map((date) => byDate.get(date) ?? { date, ...ZERO });
}

/** uPlot's aligned data: x in seconds, then one series per value list. */
export function seriesData(dates: string[], ...values: Array<(date: string) => number>): [number[], ...number[][]] {
  const xs = dates.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
  return [xs, ...values.map((v) => dates.map(v))];
}
