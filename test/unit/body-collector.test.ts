// BodyCollector: memory follows what the client sent, not what it announced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { announcesBody, BodyCollector, shouldDrain } from '../../src/server/body-collector';

test('a body announced as 64 MB holds only the bytes that arrived', () => {
  const c = new BodyCollector(64 * 1024 * 1024);
  assert.equal(c.bytesHeld, 0);
  c.add(Buffer.from('{"model":"x"'), false);
  assert.equal(c.bytesHeld, 12);
  assert.equal(c.state, 'reading');
});

test('a small announced body is read into one buffer of its size', () => {
  const c = new BodyCollector(10);
  c.add(Buffer.from('01234'), false);
  c.add(Buffer.from('56789'), true);
  assert.equal(c.state, 'complete');
  assert.equal(c.take().toString(), '0123456789');
});

test('more bytes than announced, or than the limit, refuse the body and drop what was kept', () => {
  const c = new BodyCollector(4);
  c.add(Buffer.from('12345'), true);
  assert.equal(c.state, 'too-large');
  assert.equal(c.bytesHeld, 0);
  const d = new BodyCollector(NaN); // chunked: no length announced
  d.add(Buffer.alloc(100), false);
  d.setLimit(50); // the limit is known only once the caller is: what was held counts
  assert.equal(d.state, 'too-large');
  assert.equal(d.bytesHeld, 0);
});

test('a body without content-length arrives in parts and is joined once', () => {
  const c = new BodyCollector(NaN);
  c.add(Buffer.from('ab'), false);
  c.add(Buffer.from('cd'), true);
  assert.equal(c.take().toString(), 'abcd');
});

test('a request head announces a body by a non-zero content-length or a transfer-encoding', () => {
  assert.equal(announcesBody({}), false);
  assert.equal(announcesBody({ 'content-length': '0' }), false);
  assert.equal(announcesBody({ 'content-length': '12' }), true);
  assert.equal(announcesBody({ 'transfer-encoding': 'chunked' }), true);
});

test('a discarded body keeps nothing and completes when its last byte arrives', () => {
  const c = new BodyCollector(10);
  c.add(Buffer.from('01234'), false);
  c.discard();
  assert.equal(c.bytesHeld, 0);
  c.add(Buffer.from('56789'), true);
  assert.equal(c.state, 'complete');
  assert.equal(shouldDrain({ 'content-length': String(8 * 1024 * 1024) }), true);
  assert.equal(shouldDrain({ 'content-length': String(8 * 1024 * 1024 + 1) }), false, 'past DRAIN_MAX the connection is closed instead');
  assert.equal(shouldDrain({ 'transfer-encoding': 'chunked' }), false);
});
