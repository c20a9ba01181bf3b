// The work the byte scanners do, counted so tests can prove every scan linear in its input
// (test/unit/linear-*.test.ts) without timing anything. The scanners are the code that walks bytes
// a client or an upstream chose: the request body scan, the usage scanners, SSE framing and
// parsing, and the raw-body translation.
//
// What counts as a step: each byte (or UTF-16 unit) examined. A loop adds the distance it moved
// when it stops, a native search (indexOf, lastIndexOf) the distance it searched, to the end of the
// buffer when it found nothing, and a copy, decode or JSON.parse of a span the span's length. So
// the counter costs one addition per call, not one per byte: the hot path pays nothing measurable
// (the figures are in PERF.md). Work that is constant per call is not counted; per byte of input
// there is at least one step anyway.
//
// Tests read `scanSteps.n` before and after a scan. It is never reset, and only ever read as a
// difference; a double counts exactly up to 2^53 steps.
export const scanSteps = { n: 0 };
