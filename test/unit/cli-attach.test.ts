// `weir attach`'s command line: the session, the address and key (flags over the environment), and
// a clear usage error for everything else, before anything is sent.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AttachUsageError, parseAttachArgs } from '../../src/cli-attach';

describe('weir attach arguments', () => {
  it('a session, with the address and key from flags over WEIR_URL / WEIR_API_KEY / LITELLM_MASTER_KEY', () => {
    assert.deepEqual(parseAttachArgs(['ses_1'], { WEIR_URL: 'http://h:1', LITELLM_MASTER_KEY: 'sk-m' }), { url: 'http://h:1', key: 'sk-m', session: 'ses_1', help: false });
    assert.deepEqual(parseAttachArgs(['--url', 'https://w', 'ses_2', '--key', 'sk-k'], { WEIR_API_KEY: 'sk-e' }), { url: 'https://w', key: 'sk-k', session: 'ses_2', help: false });
    assert.equal(parseAttachArgs(['ses_3'], {}).url, 'http://127.0.0.1:4000');
  });

  it('help needs no session', () => {
    assert.equal(parseAttachArgs(['--help'], {}).help, true);
  });

  it('no session, two sessions, an unknown flag, a flag without its value, a URL that is not http: usage errors', () => {
    for (const argv of [[], ['a', 'b'], ['--nope', 'a'], ['a', '--key'], ['a', '--url', 'ftp://x']]) {
      assert.throws(() => parseAttachArgs(argv, {}), AttachUsageError, JSON.stringify(argv));
    }
  });
});
