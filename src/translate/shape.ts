// Reading untrusted, already-parsed JSON: narrow `unknown` to the shapes the translators need, and
// refuse the rest with a TranslationError that names the offending path (`messages[2].content[0]`).
import { TranslationError } from './errors';

/** A parsed JSON object. */
export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function expectObj(v: unknown, param: string): Obj {
  if (!isObj(v)) throw new TranslationError(`${param}: expected an object`, param);
  return v;
}

export function expectArray(v: unknown, param: string): unknown[] {
  if (!Array.isArray(v)) throw new TranslationError(`${param}: expected an array`, param);
  return v;
}

export function expectString(v: unknown, param: string): string {
  if (typeof v !== 'string') throw new TranslationError(`${param}: expected a string`, param);
  return v;
}

export function optString(v: unknown, param: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  return expectString(v, param);
}

export function optNumber(v: unknown, param: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TranslationError(`${param}: expected a number`, param);
  return v;
}

export function optPositiveInt(v: unknown, param: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new TranslationError(`${param}: expected a positive integer`, param);
  }
  return v;
}

/** A number field of an upstream payload, or 0 (usage fields are absent, null or junk at times). */
export function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0;
}

/** True when `s` is empty or only whitespace (no allocation, unlike trim()). */
export function isBlank(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return false;
  }
  return true;
}
