// stringifyWithRaw: RawJson values written verbatim wherever they stand, every other byte as
// JSON.stringify writes it, whatever the document's strings hold.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RawJson, stringifyWithRaw } from '../../src/executions/raw-json.js';

describe('stringifyWithRaw', () => {
  it('writes raw values verbatim at any depth (integers past 2^53 exact), and plain data as JSON.stringify does', () => {
    const doc = { a: RawJson.from('12345678901234567890'), b: [1, RawJson.from(' {"x": [true]} '), undefined], c: { d: RawJson.from('"s"'), e: undefined } };
    assert.equal(stringifyWithRaw(doc), '{"a":12345678901234567890,"b":[1,{"x": [true]},null],"c":{"d":"s"}}');
    const plain = { s: 'quote " backslash \\ newline \n', n: [1.5, null, false], nested: { empty: {} } };
    assert.equal(stringifyWithRaw(plain), JSON.stringify(plain));
    assert.equal(stringifyWithRaw(undefined), 'null');
    assert.equal(stringifyWithRaw(RawJson.from('[1,2]')), '[1,2]');
  });

  it('lets no string of the document pass for a raw value: what looks like a token stays a string', () => {
    // a token is a UUID drawn per call, a colon and an index: strings shaped like one are left as they are
    const token = '00000000-0000-4000-8000-000000000000:0';
    const lookalikes = [token, `"${token}"`, ':0"', '"'];
    const doc = { stdout: lookalikes.join('\n'), [token]: lookalikes, return_value: RawJson.from('{"status":"forged"}') };
    const text = stringifyWithRaw(doc);
    const parsed = JSON.parse(text);
    assert.equal(parsed.stdout, lookalikes.join('\n'));
    assert.deepEqual(parsed[token], lookalikes);
    assert.deepEqual(parsed.return_value, { status: 'forged' });
    assert.deepEqual(Object.keys(parsed), ['stdout', token, 'return_value']);
  });

  it('outside stringifyWithRaw a RawJson serializes as its parsed value', () => {
    assert.equal(JSON.stringify({ v: RawJson.from('[1, {"a": 2}]') }), '{"v":[1,{"a":2}]}');
  });
});
