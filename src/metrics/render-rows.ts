// The request metrics, rendered from the rows of every worker's shard: each LiteLLM metric is
// the rows' numbers summed over the labels that metric does not carry (LiteLLM's label lists,
// litellm/types/integrations/prometheus.py). Linear in rows × metrics.
import { errorClass } from '../gateway/error-class';
import {
  API_LATENCY_AT,
  CACHED_TOKENS_AT,
  cellStatus,
  FALLBACKS_AT,
  INPUT_TOKENS_AT,
  LATENCY_BUCKETS,
  OUTPUT_TOKENS_AT,
  OVERHEAD_AT,
  OVERHEAD_BUCKETS,
  SPEND_AT,
  STATUS_AT,
  STATUS_CELLS,
  STATUSES,
  TOTAL_LATENCY_AT,
  TTFT_AT,
  WEIR_OVERHEAD_AT,
} from './layout';
import { L, type LabelName } from './labels';
import { formatValue, TextWriter } from './text-format';

export interface Row {
  labels: string[];
  cells: Float64Array;
}

/** An output label: a row label under LiteLLM's name for it in that metric. */
type Out = [string, LabelName];

const KEY: Out[] = [['hashed_api_key', 'hashed_api_key'], ['api_key_alias', 'api_key_alias']];
const TEAM: Out[] = [['team', 'team'], ['team_alias', 'team_alias']];
const CALLER: Out[] = [['end_user', 'end_user'], ...KEY, ...TEAM, ['user', 'user']];
const DEPLOYMENT: Out[] = [['litellm_model_name', 'model'], ['model_id', 'model_id'], ['api_base', 'api_base'], ['api_provider', 'api_provider']];

/** Sums a value over the rows that share the metric's labels; `extra` splits further (status…). */
class Accumulator {
  private readonly series = new Map<string, { values: string[]; v: number[] }>();

  constructor(readonly out: Out[], readonly width: number) {}

  add(row: Row, extra: string[], v: (i: number) => number): void {
    const values = this.out.map(([, from]) => row.labels[L[from]]!).concat(extra);
    const k = values.join('\u0000');
    let s = this.series.get(k);
    if (!s) {
      s = { values, v: new Array(this.width).fill(0) };
      this.series.set(k, s);
    }
    for (let i = 0; i < this.width; i++) s.v[i]! += v(i);
  }

  entries() {
    return this.series.values();
  }
}

function counter(w: TextWriter, rows: Row[], name: string, help: string, out: Out[], value: (r: Row) => number, when: (r: Row) => boolean = () => true): void {
  const acc = new Accumulator(out, 1);
  for (const r of rows) if (when(r)) acc.add(r, [], () => value(r));
  w.family(name, 'counter', help);
  const names = out.map(([n]) => n);
  for (const s of acc.entries()) w.sample(name, names, s.values, s.v[0]!);
}

function histogram(w: TextWriter, rows: Row[], name: string, help: string, out: Out[], at: number, buckets: readonly number[]): void {
  const width = buckets.length + 2;
  const acc = new Accumulator(out, width);
  for (const r of rows) {
    let n = 0;
    for (let i = 0; i <= buckets.length; i++) n += r.cells[at + i]!;
    if (n > 0) acc.add(r, [], (i) => r.cells[at + i]!);
  }
  w.family(name, 'histogram', help);
  const names = out.map(([n]) => n);
  for (const s of acc.entries()) {
    let cum = 0;
    for (let i = 0; i <= buckets.length; i++) {
      cum += s.v[i]!;
      w.sample(`${name}_bucket`, names, s.values, cum, `le="${i < buckets.length ? formatValue(buckets[i]!) : '+Inf'}"`);
    }
    w.sample(`${name}_sum`, names, s.values, s.v[buckets.length + 1]!);
    w.sample(`${name}_count`, names, s.values, cum);
  }
}

/** Requests by status: one series per status cell with a count. */
function byStatus(w: TextWriter, rows: Row[], name: string, help: string, out: Out[], failedOnly: boolean, when: (r: Row) => boolean = () => true): void {
  const acc = new Accumulator(out, STATUS_CELLS);
  for (const r of rows) if (when(r)) acc.add(r, [], (i) => r.cells[STATUS_AT + i]!);
  w.family(name, 'counter', help);
  const names = out.map(([n]) => n).concat(failedOnly ? ['exception_status', 'exception_class'] : ['status_code']);
  for (const s of acc.entries()) {
    for (let c = 0; c < STATUS_CELLS; c++) {
      const n = s.v[c]!;
      if (n === 0) continue;
      const status = cellStatus(c);
      const code = c < STATUSES.length ? STATUSES[c]! : status === '4xx' ? 400 : 500;
      if (failedOnly && !(code >= 400)) continue;
      w.sample(name, names, failedOnly ? s.values.concat(status, errorClass(code, '')) : s.values.concat(status), n);
    }
  }
}

const reachedDeployment = (r: Row) => r.labels[L.model_id] !== '';
const succeeded = (r: Row) => {
  for (let c = 0; c < STATUSES.length; c++) if (STATUSES[c]! < 400 && r.cells[STATUS_AT + c]! > 0) return true;
  return false;
};

function successes(r: Row): number {
  let n = 0;
  for (let c = 0; c < STATUSES.length; c++) if (STATUSES[c]! < 400) n += r.cells[STATUS_AT + c]!;
  return n;
}

function requests(r: Row): number {
  let n = 0;
  for (let c = 0; c < STATUS_CELLS; c++) n += r.cells[STATUS_AT + c]!;
  return n;
}

export function renderRows(w: TextWriter, all: Row[]): void {
  // A row nothing was counted in yet (the overflow row, a row announced a moment ago) adds nothing.
  const rows = all.filter((r) => requests(r) > 0);
  const requested: Out = ['requested_model', 'requested_model'];
  const model: Out = ['model', 'model'];
  byStatus(w, rows, 'litellm_proxy_total_requests_metric_total', 'Total number of requests made to the proxy server', [...CALLER.slice(0, 3), requested, ...CALLER.slice(3)], false);
  byStatus(w, rows, 'litellm_proxy_failed_requests_metric_total', 'Total number of failed responses from proxy - the client did not get a success response from litellm proxy', [...CALLER.slice(0, 3), requested, ...CALLER.slice(3)], true);
  counter(w, rows, 'litellm_requests_metric_total', 'Total number of LLM calls to litellm - track total per API Key, team, user', [...CALLER.slice(0, 3), model, ...CALLER.slice(3)], requests, reachedDeployment);
  histogram(w, rows, 'litellm_request_total_latency_metric', 'Total latency (seconds) for a request to LiteLLM', [...CALLER.slice(0, 3), requested, ...CALLER.slice(3), model], TOTAL_LATENCY_AT, LATENCY_BUCKETS);
  const apiLabels: Out[] = [model, ...KEY, ...TEAM, requested, ['end_user', 'end_user'], ['user', 'user']];
  histogram(w, rows, 'litellm_llm_api_latency_metric', 'Total latency (seconds) for a models LLM API call', apiLabels, API_LATENCY_AT, LATENCY_BUCKETS);
  histogram(w, rows, 'litellm_llm_api_time_to_first_token_metric', 'Time to first token for a models LLM API call', apiLabels, TTFT_AT, LATENCY_BUCKETS);
  const overheadLabels: Out[] = [['model_group', 'model_group'], ['api_provider', 'api_provider'], ['api_base', 'api_base'], ['litellm_model_name', 'model'], ...KEY];
  histogram(w, rows, 'litellm_overhead_latency_metric', 'Latency overhead (seconds) added by LiteLLM processing', overheadLabels, OVERHEAD_AT, LATENCY_BUCKETS);
  histogram(w, rows, 'weir_overhead_seconds', "Weir's own time in a call (all but waiting on the upstream), in buckets fine enough for sub-millisecond overhead", overheadLabels, WEIR_OVERHEAD_AT, OVERHEAD_BUCKETS);
  const spendLabels: Out[] = [...CALLER.slice(0, 3), model, ...CALLER.slice(3)];
  counter(w, rows, 'litellm_spend_metric_total', 'Total spend on LLM requests', spendLabels, (r) => r.cells[SPEND_AT]!, reachedDeployment);
  const tokenLabels: Out[] = [...spendLabels, requested];
  counter(w, rows, 'litellm_total_tokens_metric_total', 'Total number of input + output tokens from LLM requests', tokenLabels, (r) => r.cells[INPUT_TOKENS_AT]! + r.cells[OUTPUT_TOKENS_AT]!, reachedDeployment);
  counter(w, rows, 'litellm_input_tokens_metric_total', 'Total number of input tokens from LLM requests', tokenLabels, (r) => r.cells[INPUT_TOKENS_AT]!, reachedDeployment);
  counter(w, rows, 'litellm_output_tokens_metric_total', 'Total number of output tokens from LLM requests', tokenLabels, (r) => r.cells[OUTPUT_TOKENS_AT]!, reachedDeployment);
  counter(w, rows, 'litellm_cached_tokens_metric_total', 'Total number of cached (read) input tokens from LLM requests', tokenLabels, (r) => r.cells[CACHED_TOKENS_AT]!, reachedDeployment);
  const depLabels: Out[] = [requested, ...DEPLOYMENT, ...KEY, ...TEAM];
  counter(w, rows, 'litellm_deployment_total_requests_total', 'LLM Deployment Analytics - Total number of LLM API calls via litellm - success + failure', depLabels, requests, reachedDeployment);
  counter(w, rows, 'litellm_deployment_success_responses_total', 'LLM Deployment Analytics - Total number of successful LLM API calls via litellm', depLabels, successes, (r) => reachedDeployment(r) && succeeded(r));
  byStatus(w, rows, 'litellm_deployment_failure_responses_total', 'LLM Deployment Analytics - Total number of failed LLM API calls for a specific LLM deploymeny', depLabels, true, reachedDeployment);
  counter(w, rows, 'weir_fallbacks_total', 'Moves of a call to a fallback model group, by the group asked for and the group that answered last', [requested, ['model_group', 'model_group']], (r) => r.cells[FALLBACKS_AT]!, (r) => r.cells[FALLBACKS_AT]! > 0);
}
