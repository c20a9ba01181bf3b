// `npm run bench -- …` argument parsing and the --pin CPU split.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SCENARIOS, parseArgs, parseScenarios, UsageError } from '../../native-bench/args';
import { makePlan } from '../../native-bench/plan';
import { pinPlan } from '../../native-bench/pin';

test('defaults: scenarios 1-5 and 7 (no soak), 3 repeats, 2 workers, results in bench-results/latest.json', () => {
  const a = parseArgs([]);
  assert.deepEqual(a.scenarios, DEFAULT_SCENARIOS);
  assert.ok(!a.scenarios.includes('soak'));
  assert.equal(a.repeats, 3);
  assert.equal(a.workers, 2);
  assert.equal(a.json, 'bench-results/latest.json');
  assert.equal(a.quick, false);
  assert.equal(a.mockPort, 0);
  assert.equal(a.durationS, undefined);
});

test('every documented option is understood, in both --flag value and --flag=value forms', () => {
  const a = parseArgs([
    '--quick', '--scenario', '1,claude', '--duration=2.5', '--json', '/tmp/x.json', '--pin', '--nginx',
    '--litellm-cmd', 'litellm --config {config} --port {port}', '--profile', '--workers', '4', '--repeats=5',
  ]);
  assert.equal(a.quick, true);
  assert.deepEqual(a.scenarios, ['chat', 'claude']);
  assert.equal(a.durationS, 2.5);
  assert.equal(a.json, '/tmp/x.json');
  assert.equal(a.pin, true);
  assert.equal(a.nginx, true);
  assert.equal(a.litellmCmd, 'litellm --config {config} --port {port}');
  assert.equal(a.profile, true);
  assert.equal(a.workers, 4);
  assert.equal(a.repeats, 5);
});

test('scenarios by number or name, deduplicated; unknown ones are refused', () => {
  assert.deepEqual(parseScenarios('3, stream,5'), ['stream', 'fanout']);
  assert.deepEqual(parseScenarios('governed,6'), ['governed', 'soak']);
  assert.deepEqual(parseScenarios('7,translated'), ['translated']);
  assert.deepEqual(parseScenarios('8,agents'), ['agents']);
  assert.deepEqual(parseScenarios('9,bedrock'), ['bedrock']);
  assert.deepEqual(parseScenarios('10,google'), ['google']);
  assert.deepEqual(parseScenarios('11,scaleout'), ['scaleout']);
  assert.deepEqual(parseScenarios('12,history'), ['history']);
  assert.deepEqual(parseScenarios('13,tail'), ['tail']);
  assert.throws(() => parseScenarios('14'), UsageError);
  assert.throws(() => parseScenarios(' , '), UsageError);
});

test('--soak adds scenario 6 to the default set; --scenario 6 turns the soak on', () => {
  assert.deepEqual(parseArgs(['--soak']).scenarios, [...DEFAULT_SCENARIOS, 'soak']);
  assert.deepEqual(parseArgs(['--scenario', '1', '--soak', '--soak-requests', '5000', '--soak-rate', '500']).scenarios, ['chat', 'soak']);
  const a = parseArgs(['--scenario', '6']);
  assert.equal(a.soak, true);
  assert.equal(parseArgs(['--soak', '--soak-requests', '5000']).soakRequests, 5000);
});

test('--litellm takes a URL (trailing slash dropped) and then fixes the mock on a known port', () => {
  const a = parseArgs(['--litellm', 'http://127.0.0.1:4000/']);
  assert.equal(a.litellmUrl, 'http://127.0.0.1:4000');
  assert.equal(a.mockPort, 4010);
  assert.equal(parseArgs(['--litellm', 'http://h:1', '--mock-port', '5555']).mockPort, 5555);
  assert.throws(() => parseArgs(['--litellm', 'localhost:4000']), /http/);
  assert.throws(() => parseArgs(['--litellm', 'http://a', '--litellm-cmd', 'x']), /exclusive/);
});

test('bad values and unknown flags are usage errors naming the flag', () => {
  assert.throws(() => parseArgs(['--duration']), /--duration needs a value/);
  assert.throws(() => parseArgs(['--duration', '--quick']), /--duration needs a value/);
  assert.throws(() => parseArgs(['--workers', '0']), /--workers needs an integer >= 1/);
  assert.throws(() => parseArgs(['--repeats', '2.5']), /--repeats/);
  assert.throws(() => parseArgs(['--fast']), /unknown argument --fast/);
});

test('--quick shortens every phase; --duration overrides the run length of rate and throughput steps', () => {
  const q = makePlan(parseArgs(['--quick']));
  const f = makePlan(parseArgs([]));
  assert.ok(q.chat.perRepeat < f.chat.perRepeat);
  assert.ok(q.cannonSteps.length < f.cannonSteps.length);
  assert.equal(q.cannonRepeats, 0);
  assert.equal(f.cannonRepeats, 3);
  // Every target is warmed before the throughput steps, a quick run's no longer than a full one's.
  assert.ok(q.cannonWarmupS > 0 && q.cannonWarmupS <= f.cannonWarmupS);
  // Scenario 7 measures each path after V8 has optimized it (~1,500 calls; plan.ts).
  assert.ok(f.translated.warmup >= 1500 && q.translated.warmup >= 1000);
  assert.equal(q.rateMs, 1000);
  assert.equal(makePlan(parseArgs(['--quick', '--duration', '3'])).rateMs, 3000);
  assert.deepEqual(f.streamLevels, [64, 256, 512]);
  assert.deepEqual(f.rates, [500, 2000]);
});

test('--pin: halves on ≥ 4 CPUs; on 2 CPUs load on cpu0, proxies on cpu1, flagged as not meaningful', () => {
  const two = pinPlan(2)!;
  assert.equal(two.load, '0');
  assert.equal(two.target, '1');
  assert.equal(two.meaningful, false);
  assert.match(two.note, /not meaningful/);
  const eight = pinPlan(8)!;
  assert.equal(eight.load, '0-3');
  assert.equal(eight.target, '4-7');
  assert.equal(eight.meaningful, true);
  assert.equal(pinPlan(5)!.target, '2-4');
  assert.equal(pinPlan(1), null);
});

test('--generator: the C load generator by default, autocannon on request, anything else refused', () => {
  assert.equal(parseArgs([]).generator, 'c');
  assert.equal(parseArgs(['--generator', 'autocannon']).generator, 'autocannon');
  assert.equal(parseArgs(['--generator=c']).generator, 'c');
  assert.throws(() => parseArgs(['--generator', 'wrk']), /--generator needs c or autocannon/);
});

test('--agent-starts-only reaches scenario 8 as startsOnly; off by default', () => {
  assert.equal(makePlan(parseArgs(['--scenario', '8'])).agents.startsOnly, false);
  const a = parseArgs(['--scenario', 'agents', '--agent-starts-only']);
  assert.equal(a.agentStartsOnly, true);
  assert.equal(makePlan(a).agents.startsOnly, true);
});
