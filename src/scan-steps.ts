// The work the byte scanners do, counted so tests can prove every scan linear in its input
// (test/unit/linear-*.test.ts) without timing anything. The scanners are the code that walks bytes
// a client or an upstream chose: the request body scan, the usage scanners, SSE framing and
// parsing, the raw-body translation, and wildcard model names.
//
// What counts as a step: each byte (or UTF-16 unit) examined, counted where the work is done:
// - a walk that only moves forward adds the distance it covered when it stops (or its whole
//   window up front, when it cannot go past it); the helpers it calls to skip spaces, strings and
//   values are part of that distance and add only what is not: the backslashes a string looks
//   back over, a search that ran past the window;
// - any other search, look-back, copy, decode or JSON.parse adds the length it covered;
// - where even an addition per event shows on the hot path (the usage scanners), a chunk adds a
//   bound its code guarantees: a multiple of its length for the walks over its events, each of
//   which crosses its bytes once at most (usage-stream.ts says which).
// So the counter costs an addition per walk or per chunk, not per byte or per string, and the
// hot path pays nothing measurable (PERF.md, History, 2026-12-04). Work that is constant per call
// is not counted; per byte of input there is at least one step anyway.
//
// Tests read `scanSteps.n` before and after a scan. It is never reset, and only ever read as a
// difference; a double counts exactly up to 2^53 steps.
//
// It starts at -0, which V8 cannot hold as a small integer, so the field is a double from the
// first step. Started at 0 it was a small-integer field until the count passed 2^30 (a few
// thousand Claude-Code-sized requests a worker); the field then changed to a double, which changes
// the object's layout, and every scanner optimized for the old layout was deoptimized at once and
// compiled again (PERF.md, issue 15: the translated path's warm-up).
export const scanSteps = { n: -0 };
