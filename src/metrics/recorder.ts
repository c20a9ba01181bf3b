// The worker's side of the metrics: finds the row of a call's label set (nested maps keyed by
// objects and strings the call already holds, so a call allocates nothing to find it) and adds
// the call's numbers to it. Label sets are capped across all workers: the first N keys, end users
// and requested models get their own series, the rest are counted under `other`. A new row is
// announced to the control thread once, with its labels, by message.
import type { Identity } from '../gateway/identity';
import type { KeyProfile } from '../gateway/governance';
import type { Target } from '../gateway/snapshot';
import {
  API_LATENCY_AT,
  bucketOf,
  CACHED_TOKENS_AT,
  FALLBACKS_AT,
  INPUT_TOKENS_AT,
  LAG_AT,
  LAG_BUCKETS,
  LAG_MAX_AT,
  LATENCY_BUCKETS,
  OUTPUT_TOKENS_AT,
  OVERHEAD_AT,
  OVERHEAD_BUCKETS,
  SPEND_AT,
  STATUS_AT,
  statusCell,
  TOTAL_LATENCY_AT,
  TTFT_AT,
  WEIR_OVERHEAD_AT,
} from './layout';
import { L, LABEL_NAMES, MASTER_KEY_LABEL, OTHER, type MetricsCaps } from './labels';
import { ADMITTED_END_USERS, ADMITTED_KEYS, ADMITTED_MODELS, Admissions, MetricsShard, type ShardBuffers } from './shard';

export interface MetricsInit {
  shard: ShardBuffers;
  admissions: SharedArrayBuffer;
  caps: MetricsCaps;
}

/** One call's numbers; times in seconds, -1 for a time that does not apply or was not measured. */
export interface CallSample {
  status: number;
  totalS: number;
  apiS: number;
  ttftS: number;
  overheadS: number;
  spendUsd: number;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  fallbacks: number;
}

type ByTarget = WeakMap<object, number>;
/** `folded`: the one map of a ByModel that every model name past the cap shares. */
type ByGroup = Map<string, ByTarget> & { folded?: true };
type ByModel = Map<string, ByGroup>;
type ByEndUser = { admitted: Map<string, ByModel>; none: ByModel; other: ByModel };

/** Stands for "no deployment" (a call refused before one was picked) in the target map. */
const NO_TARGET = {};
/** Stands for "some deployment" for a folded model name (it reached one; which is not kept). */
const SOME_TARGET = {};
/** Key of the folded models' map in a ByModel (no model name can be it). */
const FOLDED = '\u0000folded';
const OVERFLOW_ROW = 0;
/** Bound on the requested-model names one worker remembers as folded, so it need not ask again. */
const FOLDED_MEMORY = 4096;

export class CallMetrics {
  readonly shard: MetricsShard;
  private readonly admissions: Admissions;
  private readonly caps: MetricsCaps;
  private readonly byIdentity = new WeakMap<object, ByEndUser>();
  /** Label set → row: the slow path when an object is met for the first time (and after a reload). */
  private readonly rowOf = new Map<string, number>();
  private nextRow: number;
  private readonly admittedKeys = new Set<string>();
  private readonly admittedModels = new Set<string>();
  private readonly admittedEndUsers = new Set<string>();
  /** Model names found past the cap (up to FOLDED_MEMORY of them), not to ask the shared table again. */
  private readonly folded = new Set<string>();
  private readonly keyOther: ByEndUser = newByEndUser();

  constructor(
    init: MetricsInit,
    private readonly announce: (row: number, labels: string[]) => void,
  ) {
    this.shard = new MetricsShard(init.shard);
    this.admissions = new Admissions(init.admissions, [init.caps.keys, init.caps.endUsers, init.caps.models]);
    this.caps = init.caps;
    this.nextRow = OVERFLOW_ROW + 1;
    this.announce(OVERFLOW_ROW, LABEL_NAMES.map(() => OTHER));
  }

  private forIdentity(id: Identity): ByEndUser {
    const owner: object = id.kind === 'key' ? id.profile : id;
    let e = this.byIdentity.get(owner);
    if (e) return e;
    if (id.kind === 'key') {
      const hash = id.profile.tokenHash;
      if (!this.admittedKeys.has(hash)) {
        if (!this.admissions.admit(ADMITTED_KEYS, hash)) {
          this.byIdentity.set(owner, this.keyOther);
          return this.keyOther;
        }
        this.admittedKeys.add(hash);
      }
    }
    e = newByEndUser();
    this.byIdentity.set(owner, e);
    return e;
  }

  private forEndUser(e: ByEndUser, endUser: string | null): ByModel {
    if (endUser === null) return e.none;
    const known = e.admitted.get(endUser);
    if (known) return known;
    if (!this.admittedEndUsers.has(endUser)) {
      if (this.admittedEndUsers.size >= this.caps.endUsers || !this.admissions.admit(ADMITTED_END_USERS, endUser)) return e.other;
      this.admittedEndUsers.add(endUser);
    }
    const m: ByModel = new Map();
    e.admitted.set(endUser, m);
    return m;
  }

  private forModel(m: ByModel, requested: string): ByGroup {
    let g = m.get(requested);
    if (g) return g;
    if (this.modelName(requested) === requested) {
      g = new Map();
      m.set(requested, g);
      return g;
    }
    // Not remembered under its own name: the names folded are as many as clients care to send.
    g = m.get(FOLDED);
    if (!g) {
      g = Object.assign(new Map<string, ByTarget>(), { folded: true as const });
      m.set(FOLDED, g);
    }
    return g;
  }

  private modelName(requested: string): string {
    if (requested === '' || this.admittedModels.has(requested)) return requested;
    if (this.folded.has(requested)) return OTHER;
    if (this.admittedModels.size < this.caps.models && this.admissions.admit(ADMITTED_MODELS, requested)) {
      this.admittedModels.add(requested);
      return requested;
    }
    if (this.folded.size < FOLDED_MEMORY) this.folded.add(requested);
    return OTHER;
  }

  /** The row of a call's label set; `target` undefined for a call refused before a deployment was picked. */
  rowFor(id: Identity, endUser: string | null, requested: string, group: string, target: Target | undefined): number {
    const e = this.forIdentity(id);
    const m = this.forEndUser(e, endUser);
    const g = this.forModel(m, requested);
    // A folded model name could be any group (a wildcard's): its group and deployment are not kept either.
    const folded = g.folded === true;
    const gk = folded ? OTHER : group;
    let t = g.get(gk);
    if (!t) {
      t = new WeakMap();
      g.set(gk, t);
    }
    const tk = target === undefined ? NO_TARGET : folded ? SOME_TARGET : target;
    const row = t.get(tk);
    if (row !== undefined) return row;
    const made = this.newRow(id, e, m, endUser, folded ? OTHER : requested, gk, target, folded);
    t.set(tk, made);
    return made;
  }

  private newRow(id: Identity, e: ByEndUser, m: ByModel, endUser: string | null, requested: string, group: string, target: Target | undefined, folded: boolean): number {
    const p: KeyProfile | null = id.kind === 'key' ? id.profile : null;
    const keyFolded = e === this.keyOther;
    const labels = new Array<string>(LABEL_NAMES.length).fill('');
    labels[L.hashed_api_key] = keyFolded ? OTHER : p ? p.tokenHash : id.kind === 'master' ? MASTER_KEY_LABEL : '';
    if (p && !keyFolded) {
      labels[L.api_key_alias] = p.keyAlias ?? '';
      labels[L.team] = p.teamId ?? '';
      labels[L.team_alias] = p.teamAlias ?? '';
      labels[L.user] = p.userId ?? '';
    }
    labels[L.end_user] = endUser === null ? '' : m === e.other ? OTHER : endUser;
    labels[L.requested_model] = requested;
    labels[L.model_group] = group;
    if (target) {
      labels[L.model] = folded ? OTHER : target.upstreamModel;
      labels[L.model_id] = folded ? OTHER : target.id;
      labels[L.api_base] = folded ? OTHER : target.apiBase;
      labels[L.api_provider] = folded ? OTHER : target.provider;
    }
    const key = labels.join('\u0000');
    const known = this.rowOf.get(key);
    if (known !== undefined) return known;
    if (this.nextRow >= this.shard.rows) return OVERFLOW_ROW;
    const row = this.nextRow++;
    this.rowOf.set(key, row);
    this.announce(row, labels);
    return row;
  }

  /** A call that ended, however it ended. */
  call(row: number, s: CallSample): void {
    const c = this.shard.cells;
    const at = this.shard.rowAt(row);
    this.shard.open(row);
    c[at + STATUS_AT + statusCell(s.status)]! += 1;
    observe(c, at + TOTAL_LATENCY_AT, LATENCY_BUCKETS, s.totalS);
    if (s.apiS >= 0) observe(c, at + API_LATENCY_AT, LATENCY_BUCKETS, s.apiS);
    if (s.ttftS >= 0) observe(c, at + TTFT_AT, LATENCY_BUCKETS, s.ttftS);
    if (s.overheadS >= 0) {
      observe(c, at + OVERHEAD_AT, LATENCY_BUCKETS, s.overheadS);
      observe(c, at + WEIR_OVERHEAD_AT, OVERHEAD_BUCKETS, s.overheadS);
    }
    c[at + SPEND_AT]! += s.spendUsd;
    c[at + INPUT_TOKENS_AT]! += s.inputTokens;
    c[at + OUTPUT_TOKENS_AT]! += s.outputTokens;
    c[at + CACHED_TOKENS_AT]! += s.cachedTokens;
    c[at + FALLBACKS_AT]! += s.fallbacks;
    this.shard.close(row);
  }

  /** A request refused before it reached a deployment (auth, bad input, budget, limits). */
  refused(row: number, status: number): void {
    const at = this.shard.rowAt(row);
    this.shard.open(row);
    this.shard.cells[at + STATUS_AT + statusCell(status)]! += 1;
    this.shard.close(row);
  }

  /** A deployment was put in cooldown after `status` (429, or failures past allowed_fails). */
  cooledDown(slot: number, status: number): void {
    if (slot < 0 || slot >= this.shard.deployments) return;
    this.shard.openMisc();
    this.shard.cells[this.shard.deploymentAt(slot) + (status === 429 ? 0 : 1)]! += 1;
    this.shard.closeMisc();
  }

  /** One event-loop lag sample (seconds), from the worker's lag monitor. */
  lag(seconds: number): void {
    const c = this.shard.cells;
    this.shard.openMisc();
    observe(c, LAG_AT, LAG_BUCKETS, seconds);
    c[LAG_MAX_AT] = seconds;
    this.shard.closeMisc();
  }
}

function newByEndUser(): ByEndUser {
  return { admitted: new Map(), none: new Map(), other: new Map() };
}

function observe(c: Float64Array, at: number, buckets: readonly number[], v: number): void {
  c[at + bucketOf(buckets, v)]! += 1;
  c[at + buckets.length + 1]! += v;
}

/** What a worker's gateway counts into and hands its request timings to. */
export interface WorkerMetrics {
  calls: CallMetrics;
  spans: import('./span-batch').SpanBatcher;
}

/** A traced call's phase ends (performance.now()); 0 until reached. Only made when tracing is on. */
export interface CallTrace {
  auth: number;
  route: number;
  firstByte: number;
}
