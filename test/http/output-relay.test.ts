// The per-connection output buffer of ?stream=true (src/http/output-relay.ts) driven by an
// execution's output subscriptions directly: code that prints one byte per write must not make a
// connection keep more than its budget in bookkeeping, and every byte is delivered or counted.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OutputSubscriptions } from '../../src/executions/output-subscriptions.js';
import { OutputRelay, STREAM_BUFFER_BYTES } from '../../src/http/output-relay.js';

describe('output relay', () => {
  it('bounds the items it keeps when the output comes one byte at a time, and counts every byte', async () => {
    const output = new OutputSubscriptions();
    const relay = new OutputRelay((listener) => output.subscribe('exec_tiny', listener));
    const written = 200_000; // one-byte writes: 200 KB, far below the budget in bytes alone
    for (let i = 0; i < written; i++) output.publish('exec_tiny', { stream: i % 2 ? 'stderr' : 'stdout', text: 'x' });
    relay.end();
    assert.equal(output.count('exec_tiny'), 0);
    let items = 0;
    let delivered = 0;
    let dropped = 0;
    for (let item = await relay.next(); item; item = await relay.next()) {
      items++;
      if (item.kind === 'output') delivered += Buffer.byteLength(item.event.text);
      else dropped += item.droppedBytes.stdout + item.droppedBytes.stderr;
    }
    assert.ok(items <= STREAM_BUFFER_BYTES / 64 + 1, `${items} items kept for one connection`);
    assert.equal(delivered + dropped, written);
    assert.ok(dropped > 0);
  });
});
