// One request of the logs: what it was, who sent it, what it cost, its error, and its metadata as
// stored. Everything from the server is text: an error carrying markup shows as the markup.
import { money, text, when } from '../components/bits';
import { errorOf, type LogRow, metadataOf, statusOf } from './log-row';

export function LogDetail({ row, onClose }: { row: LogRow; onClose: () => void }) {
  const err = errorOf(row);
  const meta = metadataOf(row);
  const facts: Array<[string, unknown]> = [
    ['Request', row.request_id],
    ['Status', statusOf(row)],
    ['Started', when(row.startTime)],
    ['First token', row.completionStartTime ? when(row.completionStartTime) : null],
    ['Duration', row.request_duration_ms === null || row.request_duration_ms === undefined ? null : `${row.request_duration_ms} ms`],
    ['Weir overhead', typeof meta.litellm_overhead_time_ms === 'number' ? `${meta.litellm_overhead_time_ms} ms` : null],
    ['Call', row.call_type],
    ['Model', row.model],
    ['Model group', row.model_group],
    ['Deployment', row.model_id],
    ['Provider', row.custom_llm_provider],
    ['API base', row.api_base],
    ['Key', row.key_alias ? `${row.key_alias} (${row.api_key})` : row.api_key],
    ['Team', row.team_id],
    ['User', row.user],
    ['End user', row.end_user],
    ['Session', row.session_id],
    ['Tokens', `${row.prompt_tokens} prompt, ${row.completion_tokens} completion`],
    ['Spend', money(row.spend)],
  ];
  return (
    <aside class="panel detail-panel" aria-label="Request detail" data-testid="log-detail">
      <div class="panel-head">
        <h2>Request</h2>
        <button type="button" onClick={onClose} aria-label="Close">
          ✕
        </button>
      </div>
      <dl class="facts">
        {facts
          .filter(([, v]) => v !== null && v !== undefined && v !== '')
          .map(([k, v]) => [<dt key={`t${k}`}>{k}</dt>, <dd key={`d${k}`}>{text(v)}</dd>])}
      </dl>
      {err && (
        <>
          <h3>Error{err.error_code ? ` ${err.error_code}` : ''}{err.error_class ? ` · ${err.error_class}` : ''}</h3>
          <pre class="detail error" data-testid="log-error">
            {err.error_message ?? text(err)}
          </pre>
        </>
      )}
      <h3>Metadata</h3>
      <pre class="detail" data-testid="log-metadata">
        {JSON.stringify(meta, null, 2)}
      </pre>
    </aside>
  );
}
