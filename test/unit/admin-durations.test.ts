// Duration parsing, expiries and calendar-aligned budget resets (LiteLLM's get_next_standardized_reset_time).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addDuration, budgetResetAt, durationSeconds, isValidTimezone, parseDuration } from '../../src/admin/durations';

const at = (iso: string) => new Date(iso);
const reset = (d: string, now: string, tz?: string) => budgetResetAt(d, at(now), tz).toISOString();

test('parseDuration accepts Ns Nm Nh Nd Nw Nmo and nothing else', () => {
  assert.deepEqual(parseDuration('30s'), { value: 30, unit: 's' });
  assert.deepEqual(parseDuration('5m'), { value: 5, unit: 'm' });
  assert.deepEqual(parseDuration('24h'), { value: 24, unit: 'h' });
  assert.deepEqual(parseDuration('30d'), { value: 30, unit: 'd' });
  assert.deepEqual(parseDuration('2w'), { value: 2, unit: 'w' });
  assert.deepEqual(parseDuration('1mo'), { value: 1, unit: 'mo' });
  for (const bad of ['30x', '', 'd', '-1d', '1.5h', '30', '1 d', 'mo', '1month', '1d; DROP TABLE x', 'None', '1D'])
    assert.equal(parseDuration(bad), null, bad);
});

test('addDuration: elapsed time; months keep the day, clamped to the month end', () => {
  assert.equal(addDuration(at('2025-01-31T10:00:00Z'), '30s').toISOString(), '2025-01-31T10:00:30.000Z');
  assert.equal(addDuration(at('2025-01-31T10:00:00Z'), '2h').toISOString(), '2025-01-31T12:00:00.000Z');
  assert.equal(addDuration(at('2025-01-31T10:00:00Z'), '1w').toISOString(), '2025-02-07T10:00:00.000Z');
  assert.equal(addDuration(at('2025-01-31T10:00:00Z'), '1mo').toISOString(), '2025-02-28T10:00:00.000Z');
  assert.equal(addDuration(at('2025-11-15T10:00:00Z'), '3mo').toISOString(), '2026-02-15T10:00:00.000Z');
  assert.equal(durationSeconds('1d'), 86400);
  assert.throws(() => addDuration(new Date(), '30x'), /Invalid duration/);
});

test('daily budgets reset at the next midnight', () => {
  assert.equal(reset('1d', '2025-03-12T15:30:00Z'), '2025-03-13T00:00:00.000Z');
  assert.equal(reset('1d', '2025-12-31T23:59:59Z'), '2026-01-01T00:00:00.000Z');
});

test('7d and 1w reset next Monday 00:00 (a full week when today is Monday)', () => {
  assert.equal(reset('7d', '2025-03-12T15:30:00Z'), '2025-03-17T00:00:00.000Z'); // Wednesday
  assert.equal(reset('7d', '2025-03-17T08:00:00Z'), '2025-03-24T00:00:00.000Z'); // Monday
  assert.equal(reset('1w', '2025-03-16T23:00:00Z'), '2025-03-17T00:00:00.000Z'); // Sunday
  assert.equal(reset('2w', '2025-03-12T15:30:00Z'), '2025-03-26T00:00:00.000Z'); // midnight + 14d
});

test('30d and 1mo reset on the 1st of next month; other day counts are midnight + N days', () => {
  assert.equal(reset('30d', '2025-03-12T15:30:00Z'), '2025-04-01T00:00:00.000Z');
  assert.equal(reset('1mo', '2025-12-05T01:00:00Z'), '2026-01-01T00:00:00.000Z');
  assert.equal(reset('2mo', '2025-11-05T01:00:00Z'), '2026-01-01T00:00:00.000Z');
  assert.equal(reset('3d', '2025-03-12T15:30:00Z'), '2025-03-15T00:00:00.000Z');
});

test('hours, minutes, seconds align to multiples within the day and wrap past midnight', () => {
  assert.equal(reset('1h', '2025-03-12T15:30:00Z'), '2025-03-12T16:00:00.000Z');
  assert.equal(reset('6h', '2025-03-12T15:30:00Z'), '2025-03-12T18:00:00.000Z');
  assert.equal(reset('6h', '2025-03-12T18:00:00Z'), '2025-03-13T00:00:00.000Z');
  assert.equal(reset('24h', '2025-03-12T15:30:00Z'), '2025-03-13T00:00:00.000Z');
  assert.equal(reset('15m', '2025-03-12T15:31:10Z'), '2025-03-12T15:45:00.000Z');
  assert.equal(reset('15m', '2025-03-12T23:50:00Z'), '2025-03-13T00:00:00.000Z');
  assert.equal(reset('30s', '2025-03-12T15:31:10Z'), '2025-03-12T15:31:30.000Z');
  assert.equal(reset('0d', '2025-03-12T15:31:10Z'), '2025-03-12T15:31:10.000Z');
});

test('resets are aligned in the configured time zone', () => {
  // 15:30 UTC = 11:30 in New York (EDT, UTC-4): next local midnight = 04:00 UTC.
  assert.equal(reset('1d', '2025-06-12T15:30:00Z', 'America/New_York'), '2025-06-13T04:00:00.000Z');
  // 02:00 UTC on the 1st is still the previous month in New York (22:00 on May 31st).
  assert.equal(reset('1mo', '2025-06-01T02:00:00Z', 'America/New_York'), '2025-06-01T04:00:00.000Z');
  // Kolkata is UTC+5:30; Monday local midnight.
  assert.equal(reset('7d', '2025-03-12T15:30:00Z', 'Asia/Kolkata'), '2025-03-16T18:30:00.000Z');
  // Across the DST change: midnight after 2025-03-09 in New York is EDT (UTC-4).
  assert.equal(reset('1d', '2025-03-09T12:00:00Z', 'America/New_York'), '2025-03-10T04:00:00.000Z');
  // Unknown zone: UTC.
  assert.equal(isValidTimezone('Mars/Olympus'), false);
  assert.equal(reset('1d', '2025-03-12T15:30:00Z', 'Mars/Olympus'), '2025-03-13T00:00:00.000Z');
});
