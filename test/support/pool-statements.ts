// The statements a pool's connection is sent, recorded (each query's text, in order): a test makes
// the pool's one idle connection record, then calls the code that takes a connection from it.
// pg's pool hands out the connection released last, so that code gets the recording one.
import type pg from 'pg';

export async function recordStatements(pool: pg.Pool): Promise<string[]> {
  const client = await pool.connect();
  const sent: string[] = [];
  const query = client.query.bind(client) as (...a: unknown[]) => unknown;
  (client as unknown as { query: (...a: unknown[]) => unknown }).query = (...a: unknown[]) => {
    sent.push(typeof a[0] === 'string' ? a[0] : String((a[0] as { text?: string } | undefined)?.text));
    return query(...a);
  };
  client.release();
  return sent;
}
