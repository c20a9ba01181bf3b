// The GC trace of the tail scenario (native-bench/gc-trace.ts): lines as Node 20.20's V8 prints them
// with --trace-gc-nvp for each GC kind, a record whose prefix another thread's output split, the
// control thread told from the workers, and the sums over the measured windows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { controlIsolate, GcTrace, MAX_GC_RECORDS, parseGcLine, summariseGc, type GcRecord } from '../../native-bench/gc-trace';

// Printed by `node --trace-gc-nvp` (v20.20.2): a scavenge, a mark-compact after incremental
// marking, and a minor mark-compact (--minor-mc), whole.
const SCAVENGE = '[19957:0x194d5490]      200 ms: pause=15.6 mutator=154.6 gc=s reduce_memory=0 time_to_safepoint=0.00 heap.prologue=0.00 heap.epilogue=0.00 heap.epilogue.reduce_new_space=0.00 heap.external.prologue=0.00 heap.external.epilogue=0.00 heap.external_weak_global_handles=0.00 fast_promote=0.00 complete.sweep_array_buffers=0.00 scavenge=1.18 scavenge.free_remembered_set=0.00 scavenge.roots=0.21 scavenge.weak=0.00 scavenge.weak_global_handles.identify=0.00 scavenge.weak_global_handles.process=0.00 scavenge.parallel=0.84 scavenge.update_refs=0.00 scavenge.sweep_array_buffers=0.01 background.scavenge.parallel=0.00 background.unmapper=0.00 unmapper=0.00 incremental.steps_count=0 incremental.steps_took=0.0 scavenge_throughput=64776 total_size_before=4054360 total_size_after=3211456 holes_size_before=7248 holes_size_after=7248 allocated=4054360 promoted=0 new_space_survived=167952 nodes_died_in_new=0 nodes_copied_in_new=2 nodes_promoted=0 promotion_ratio=0.0% average_survival_ratio=16.6% promotion_rate=0.0% new_space_survive_rate_=16.6% new_space_allocation_throughput=0.0 unmapper_chunks=0';
const MARK_COMPACT = '[19855:0x2a0a1eb0]     1552 ms: pause=26.5 mutator=9.3 gc=mc reduce_memory=0 time_to_safepoint=0.00 heap.prologue=0.00 heap.embedder_tracing_epilogue=0.02 heap.epilogue=0.00 heap.epilogue.reduce_new_space=0.00 heap.external.prologue=0.0 heap.external.epilogue=0.0 heap.external.weak_global_handles=0.0 clear=0 clear.external_string_table=0.0 clear.string_forwarding_table=0.0 clear.weak_global_handles=0.0 clear.dependent_code=0.0 clear.maps=0.0 clear.slots_buffer=0.0 clear.weak_collections=0.0 clear.weak_lists=0.0 clear.weak_references=0.0 clear.join_job=0.1 complete.sweep_array_buffers=0.0 complete.sweeping=0.0 epilogue=0.0 evacuate=0.5 evacuate.candidates=0.0 evacuate.clean_up=0.0 evacuate.copy=0.1 evacuate.prologue=0.1 evacuate.epilogue=0.0 evacuate.rebalance=0.0 evacuate.update_pointers=0.3 evacuate.update_pointers.to_new_roots=0.2 evacuate.update_pointers.slots.main=0.1 evacuate.update_pointers.weak=0.0 finish=0.0 finish.sweep_array_buffers=0.0 mark=25.5 mark.finish_incremental=0.0 mark.roots=0.4 mark.full_closure_parallel=25.2 mark.full_closure=0.0 mark.ephemeron.marking=4.2 mark.ephemeron.linear=0.0 mark.embedder_prologue=0.0 mark.embedder_tracing=0.0 prologue=0.0 sweep=0.1 sweep.code=0.0 sweep.map=0.0 sweep.new=0.0 sweep.new_lo=0.0 sweep.old=0.1 incremental=9.0 incremental.finalize=0.0 incremental.finalize.external.prologue=0.0 incremental.finalize.external.epilogue=0.0 incremental.layout_change=0.0 incremental.sweep_array_buffers=3.4 incremental.sweeping=0.0 incremental.embedder_prologue=0.1 incremental.embedder_tracing=0.0 incremental_wrapper_tracing_longest_step=0.0 incremental_longest_step=8.5 incremental_steps_count=2 incremental_marking_throughput=126917 incremental_walltime_duration=199 background.mark=80.3 background.sweep=0.0 background.evacuate.copy=0.0 background.evacuate.update_pointers=0.0 background.unmapper=0.0 unmapper=0.0 total_size_before=46405040 total_size_after=21688216 holes_size_before=62048 holes_size_after=161720 allocated=115680 promoted=96000 new_space_survived=0 nodes_died_in_new=0 nodes_copied_in_new=0 nodes_promoted=0 promotion_ratio=57.4% average_survival_ratio=79.5% promotion_rate=508.5% new_space_survive_rate=0.0% new_space_allocation_throughput=56562.8 unmapper_chunks=62 compaction_speed=916748';
const MINOR_MC = '[20062:0x1fa91eb0]      211 ms: pause=4.5 mutator=1.9 gc=mmc reduce_memory=0 minor_mc=4.07 time_to_safepoint=0.00 mark=1.43 mark.incremental_roots=0.00 mark.finish_incremental=0.00 mark.seed=0.08 mark.closure_parallel=1.35 mark.closure=0.00 clear=0.00 clear.string_forwarding_table=0.00 clear.string_table=0.00 clear.global_handles=0.00 complete.sweep_array_buffers=0.00 complete.sweeping=0.00 sweep=0.78 sweep.new=0.01 sweep.new_lo=0.00 sweep.update_string_table=0.00 sweep.start_jobs=0.78 sweep.array_buffers=0.00 finish=1.85 finish.ensure_capacity=1.84 background.mark=1.06 background.sweep=0.73 background.sweep.array_buffers=0.00 background.evacuate.copy=0.00 background.unmapper=0.00 unmapper=0.00 total_size_before=4327672 total_size_after=4426840 holes_size_before=7248 holes_size_after=7248 allocated=682424 promoted=687424 new_space_survived=171808 nodes_died_in_new=0 nodes_copied_in_new=0 nodes_promoted=2 promotion_ratio=67.0% average_survival_ratio=68.8% promotion_rate=199.8% new_space_survive_rate_=16.7% new_space_allocation_throughput=257974.3';

test('a scavenge line: isolate, time since the isolate began, pause, bytes allocated since the previous GC and promoted', () => {
  assert.deepEqual(parseGcLine(SCAVENGE), { isolate: '0x194d5490', sinceStartMs: 200, kind: 'scavenge', pauseMs: 15.6, incrementalMs: 0, allocated: 4054360, promoted: 0 });
  assert.equal(parseGcLine(SCAVENGE.replace('promoted=0 ', 'promoted=131072 '))!.promoted, 131072);
});

test('a mark-compact line carries its incremental marking time apart from its pause', () => {
  const g = parseGcLine(MARK_COMPACT)!;
  assert.equal(g.kind, 'mark-compact');
  assert.equal(g.pauseMs, 26.5);
  assert.equal(g.incrementalMs, 9);
  assert.equal(g.allocated, 115680);
});

test('a minor mark-compact line', () => {
  const g = parseGcLine(MINOR_MC)!;
  assert.equal(g.kind, 'minor mark-compact');
  assert.equal(g.pauseMs, 4.5);
  assert.equal(g.allocated, 682424);
  assert.equal(g.promoted, 687424);
});

test("Weir's own output and the --trace-gc (not nvp) format are not GC records", () => {
  assert.equal(parseGcLine('weir: listening on http://127.0.0.1:4000'), null);
  assert.equal(parseGcLine(''), null);
  assert.equal(parseGcLine('[1:0x1]  84 ms: Scavenge 4.4 (4.5) -> 3.6 (5.5) MB, 5.04 / 0.00 ms  allocation failure;'), null);
  assert.equal(parseGcLine('pause=x gc=s'), null);
});

test("two threads printing at once: the record is the last prefix's; a record left without one has no isolate", () => {
  const body = SCAVENGE.slice(SCAVENGE.indexOf('pause='));
  const first = parseGcLine(`[19957:0x7f00aa000f00]      812 ms: [19957:0x7f00bb000f00]      790 ms: ${body}`)!;
  assert.equal(first.isolate, '0x7f00bb000f00');
  assert.equal(first.sinceStartMs, 790);
  const orphan = parseGcLine(body)!;
  assert.equal(orphan.isolate, '');
  assert.equal(orphan.allocated, 4054360);
});

const rec = (isolate: string, arrivedMs: number, sinceStartMs: number, kind: GcRecord['kind'], pauseMs: number, allocated: number, promoted = 0): GcRecord => ({
  isolate, arrivedMs, sinceStartMs, kind, pauseMs, incrementalMs: kind === 'mark-compact' ? 2 : 0, allocated, promoted,
});

test('the control thread is the isolate created first, whatever order its GCs come in', () => {
  const records = [
    rec('0xw1', 1000, 900, 'scavenge', 1, 10), // created at 100
    rec('0xmain', 1005, 1000, 'scavenge', 1, 10), // created at 5
    rec('0xw2', 1010, 880, 'scavenge', 1, 10), // created at 130
    rec('0xw1', 1500, 1398, 'scavenge', 1, 10), // arrived late: origin stays at its earliest
  ];
  assert.equal(controlIsolate(records), '0xmain');
  assert.equal(controlIsolate([]), null);
});

test('the summary counts only records inside the windows: per kind, and bytes per request of workers and control', () => {
  // Each line read as it was printed: the isolates were created at the bench's 0.
  const records = [
    rec('0xw1', 5, 5, 'scavenge', 9, 999_999, 999_999), // before every window
    rec('0xw1', 12, 12, 'scavenge', 0.5, 4_000_000, 200_000),
    rec('0xmain', 15, 15, 'scavenge', 0.25, 100_000, 50_000), // the control thread's: not a worker's promotion
    rec('0xw2', 18, 18, 'mark-compact', 7, 1_000_000, 70_000), // a mark-compact's: not a scavenge's
    rec('0xw2', 25, 25, 'scavenge', 99, 999_999), // between the windows: another target's
    rec('', 31, 31, 'scavenge', 1.5, 2_000_000), // no isolate: counted in its kind only
    rec('0xw1', 40, 40, 'scavenge', 1, 3_000_000, 100_000), // at a window's end: inside
    rec('0xw1', 41, 41, 'scavenge', 99, 999_999), // after
  ];
  const s = summariseGc(records, [{ startMs: 30, endMs: 40, requests: 600 }, { startMs: 10, endMs: 20, requests: 400 }], '0xmain');
  assert.equal(s.requests, 1000);
  assert.deepEqual(s.kinds, [
    { kind: 'scavenge', count: 4, pauseMs: 3.25, maxPauseMs: 1.5, incrementalMs: 0 },
    { kind: 'mark-compact', count: 1, pauseMs: 7, maxPauseMs: 7, incrementalMs: 2 },
  ]);
  assert.equal(s.workerBytesPerReq, 8000); // (4,000,000 + 1,000,000 + 3,000,000) / 1000
  assert.equal(s.controlBytesPerReq, 100);
  assert.equal(s.workerBytesErrPerReq, 5000); // each worker's largest GC (4,000,000 + 1,000,000) / requests
  assert.equal(s.workerPromotedPerReq, 300); // the workers' scavenges (200,000 + 100,000) / 1000
  assert.equal(s.unattributed, 1);
});

test('a GC is dated by its own time, not by when its line was read', () => {
  const records = [
    rec('0xw1', 2, 2, 'scavenge', 1, 1), // read at once: its isolate was created at 0
    rec('0xw1', 45, 38, 'scavenge', 1, 1_000), // ran at 38, inside 30–40; read at 45, after the window
    rec('0xw1', 33, 25, 'scavenge', 1, 1_000_000), // ran at 25, between the windows; read at 33, inside one
    rec('0xw2', 100, 90, 'scavenge', 1, 10_000), // its isolate was created at 10 (below): ran at 100, after every window
    rec('0xw2', 16, 5, 'scavenge', 1, 100_000), // read 1 ms late (16 − 5 = 11 > 10): ran at 15, inside 10–20
  ];
  const s = summariseGc(records, [{ startMs: 30, endMs: 40, requests: 10 }, { startMs: 10, endMs: 20, requests: 10 }], null);
  assert.equal(s.kinds[0]!.count, 2);
  assert.equal(s.workerBytesPerReq, (1_000 + 100_000) / 20);
});

test('no windows, or no requests: nothing counted and the per-request figures are NaN', () => {
  const s = summariseGc([rec('0xw1', 1, 1, 'scavenge', 1, 1)], [], null);
  assert.equal(s.requests, 0);
  assert.deepEqual(s.kinds, []);
  assert.ok(Number.isNaN(s.workerBytesPerReq));
});

test('the trace reads lines split across chunks, stamps each with its arrival and keeps a bound', () => {
  let now = 100;
  const trace = new GcTrace(() => now);
  const cut = 300;
  trace.push(`weir: started\n${SCAVENGE.slice(0, cut)}`);
  now = 200;
  trace.push(`${SCAVENGE.slice(cut)}\n${MINOR_MC}\n`);
  assert.equal(trace.records.length, 2);
  assert.equal(trace.records[0]!.arrivedMs, 200);
  assert.equal(trace.records[0]!.allocated, 4054360);
  assert.equal(trace.records[1]!.kind, 'minor mark-compact');
  // A line that never ends is not kept whole.
  trace.push('x'.repeat(100_000));
  trace.push('\n');
  assert.equal(trace.records.length, 2);
  const full = new GcTrace(() => 0);
  const line = `${SCAVENGE}\n`;
  full.push(line.repeat(MAX_GC_RECORDS + 3));
  assert.equal(full.records.length, MAX_GC_RECORDS);
  assert.equal(full.dropped, 3);
});
