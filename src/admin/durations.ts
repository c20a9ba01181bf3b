// Budget and expiry durations as LiteLLM writes them: `Ns`, `Nm`, `Nh`, `Nd`, `Nw`, `Nmo`
// (N a non-negative integer, no sign, no spaces inside, no other unit).
//
// Two different clocks use them, as in LiteLLM:
//  - expiries (`duration` of a key, rotation grace periods) are plain elapsed time:
//    now + N units, where `Nmo` is N calendar months later on the same day-of-month (clamped to the
//    month's last day) at the same time of day (`duration_in_seconds`).
//  - budget resets (`budget_duration` → `budget_reset_at`) are aligned to the calendar in a time zone
//    (`litellm_settings.timezone`, UTC by default; an unknown zone falls back to UTC), exactly as
//    LiteLLM's `get_next_standardized_reset_time` (duration_parser.py) computes them on the wall clock
//    of that zone:
//      Nd: N=0 → now; N=1 → next midnight; N=7 → next Monday 00:00 (a week later when today is Monday);
//          N=30 → the 1st of next month 00:00; any other N → today's midnight + N days.
//      Nw: as (7·N)d — so `1w` is next Monday 00:00 and `2w` is today's midnight + 14 days.
//      Nh: N=0 → now; else the next hour of the day that is a multiple of N strictly after the current
//          hour (`h + N - h % N`), at :00:00; past 23 it wraps to (that hour mod 24) of the next day.
//      Nm / Ns: the same on minutes / seconds (carrying into hours; past 23h wraps to the next day).
//      Nmo: the 1st of the month N months ahead, 00:00 (LiteLLM only accepts 1mo there and raises on
//          others; Weir extends it to N months). `1mo` and `30d` therefore give the same instant.
//    The wall-clock result is converted back to UTC with the zone's offset at that wall time.

export type DurationUnit = 's' | 'm' | 'h' | 'd' | 'w' | 'mo';

export interface Duration {
  value: number;
  unit: DurationUnit;
}

const DURATION_RE = /^(\d{1,9})(mo|s|m|h|d|w)$/;

/** The duration, or null when the text is not of the accepted form (e.g. `30x`, `-1d`, `1.5h`, `d`). */
export function parseDuration(text: string): Duration | null {
  if (typeof text !== 'string') return null;
  const m = DURATION_RE.exec(text.trim());
  if (!m) return null;
  return { value: Number(m[1]), unit: m[2] as DurationUnit };
}

export function isValidDuration(text: string): boolean {
  return parseDuration(text) !== null;
}

function mustParse(text: string): Duration {
  const d = parseDuration(text);
  if (!d) throw new RangeError(`Invalid duration '${text}': expected a number followed by s, m, h, d, w or mo (e.g. 30s, 30m, 24h, 30d, 1w, 1mo)`);
  return d;
}

const UNIT_SECONDS: Record<Exclude<DurationUnit, 'mo'>, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

function daysInMonthUTC(year: number, month0: number): number {
  return new Date(Date.UTC(year, month0 + 1, 0)).getUTCDate();
}

/** now + duration as elapsed time (expiries). `Nmo` moves N calendar months in UTC, clamping the day. */
export function addDuration(now: Date, text: string): Date {
  const d = mustParse(text);
  if (d.unit !== 'mo') return new Date(now.getTime() + d.value * UNIT_SECONDS[d.unit] * 1000);
  const total = now.getUTCMonth() + d.value;
  const year = now.getUTCFullYear() + Math.floor(total / 12);
  const month0 = total % 12;
  const day = Math.min(now.getUTCDate(), daysInMonthUTC(year, month0));
  return new Date(Date.UTC(year, month0, day, now.getUTCHours(), now.getUTCMinutes(), now.getUTCSeconds(), now.getUTCMilliseconds()));
}

/** The duration in seconds as LiteLLM's duration_in_seconds counts it (months from `now`). */
export function durationSeconds(text: string, now: Date = new Date()): number {
  return Math.round((addDuration(now, text).getTime() - now.getTime()) / 1000);
}

// ---- wall clock in a time zone --------------------------------------------------------------------

interface Wall {
  y: number;
  mo: number; // 1-12
  d: number;
  h: number;
  mi: number;
  s: number;
  ms: number;
}

const formatters = new Map<string, Intl.DateTimeFormat | null>();

function formatter(tz: string): Intl.DateTimeFormat | null {
  let f = formatters.get(tz);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: tz,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      f = null; // unknown zone: UTC, like LiteLLM's _setup_timezone
    }
    formatters.set(tz, f);
  }
  return f;
}

/** True when the zone name is known to this runtime's ICU data. */
export function isValidTimezone(tz: string): boolean {
  return formatter(tz) !== null;
}

function wallOf(t: number, tz: string): Wall {
  const f = formatter(tz);
  const ms = ((t % 1000) + 1000) % 1000;
  if (!f || tz === 'UTC') {
    const d = new Date(t);
    return { y: d.getUTCFullYear(), mo: d.getUTCMonth() + 1, d: d.getUTCDate(), h: d.getUTCHours(), mi: d.getUTCMinutes(), s: d.getUTCSeconds(), ms };
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(t))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return { y: p.year!, mo: p.month!, d: p.day!, h: p.hour! % 24, mi: p.minute!, s: p.second!, ms };
}

function naive(w: Wall): number {
  return Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s, w.ms);
}

function offsetAt(t: number, tz: string): number {
  return naive(wallOf(t, tz)) - t;
}

/** The instant whose wall clock in `tz` is `w` (the earlier one in a fold, shifted forward in a gap). */
function instantOf(w: Wall, tz: string): Date {
  if (!formatter(tz) || tz === 'UTC') return new Date(naive(w));
  const guess = naive(w);
  const o1 = offsetAt(guess, tz);
  const t1 = guess - o1;
  const o2 = offsetAt(t1, tz);
  return new Date(o1 === o2 ? t1 : Math.min(t1, guess - o2));
}

/** Wall-clock arithmetic on a naive UTC-based timestamp (no zone involved). */
function wallFromNaive(n: number): Wall {
  const d = new Date(n);
  return { y: d.getUTCFullYear(), mo: d.getUTCMonth() + 1, d: d.getUTCDate(), h: d.getUTCHours(), mi: d.getUTCMinutes(), s: d.getUTCSeconds(), ms: d.getUTCMilliseconds() };
}

const DAY_MS = 86_400_000;

function midnightPlusDays(w: Wall, days: number, h = 0, mi = 0, s = 0): Wall {
  const base = Date.UTC(w.y, w.mo - 1, w.d) + days * DAY_MS;
  return wallFromNaive(base + ((h * 60 + mi) * 60 + s) * 1000);
}

function firstOfMonthAhead(w: Wall, months: number): Wall {
  return wallFromNaive(Date.UTC(w.y, w.mo - 1 + months, 1));
}

/** Next `budget_reset_at` for a budget duration, calendar aligned in `timezone` (see the top of file). */
export function budgetResetAt(budgetDuration: string, now: Date, timezone = 'UTC'): Date {
  const { value, unit } = mustParse(budgetDuration);
  const tz = timezone || 'UTC';
  const w = wallOf(now.getTime(), tz);
  if (value === 0 && unit !== 'mo') return new Date(now.getTime());
  let r: Wall;
  switch (unit) {
    case 'd':
    case 'w': {
      const days = unit === 'w' ? value * 7 : value;
      if (days === 1) r = midnightPlusDays(w, 1);
      else if (days === 7) {
        const weekday = (new Date(Date.UTC(w.y, w.mo - 1, w.d)).getUTCDay() + 6) % 7; // Monday = 0
        r = midnightPlusDays(w, (7 - weekday) % 7 || 7);
      } else if (days === 30) r = firstOfMonthAhead(w, 1);
      else r = midnightPlusDays(w, days);
      break;
    }
    case 'h': {
      const next = w.h + value - (w.h % value);
      if (next >= 24) r = midnightPlusDays(w, 1, next % 24);
      else r = midnightPlusDays(w, 0, next);
      break;
    }
    case 'm': {
      const nm = w.mi + value - (w.mi % value);
      const nh = w.h + Math.floor(nm / 60);
      r = nh >= 24 ? midnightPlusDays(w, 1, nh % 24, nm % 60) : midnightPlusDays(w, 0, nh, nm % 60);
      break;
    }
    case 's': {
      const ns = w.s + value - (w.s % value);
      const nm = w.mi + Math.floor(ns / 60);
      const nh = w.h + Math.floor(nm / 60);
      r = nh >= 24 ? midnightPlusDays(w, 1, nh % 24, nm % 60, ns % 60) : midnightPlusDays(w, 0, nh, nm % 60, ns % 60);
      break;
    }
    case 'mo':
      r = firstOfMonthAhead(w, Math.max(1, value));
      break;
  }
  return instantOf(r, tz);
}
