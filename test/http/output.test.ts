// stdout and stderr as the control plane can store them (CONTRACT.md section 3): exactly what the
// code printed while it fits, at most 60 KiB of UTF-8 per stream otherwise, cut on a character
// boundary and with a notice saying how much there was; invalid UTF-8 replaced, never fatal; and
// the child never blocked on a full pipe, however much it prints.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertSuccess, describeResult, OUTPUT_LIMIT_BYTES, TestServer, type Result } from '../helpers/http.js';

let t: TestServer;
const py = (code: string, fields: Record<string, unknown> = {}) => t.run({ code, language: 'python', ...fields });

const NOTICE = /\n\[output truncated: (\d+) bytes in total, first bytes kept\]\n$/;

/** The kept text of a truncated stream (without the notice) and the total the notice reports. */
function splitTruncated(text: string): { kept: string; total: number } {
  const match = NOTICE.exec(text);
  assert.ok(match, `no truncation notice at the end of: ...${JSON.stringify(text.slice(-200))}`);
  return { kept: text.slice(0, match.index), total: Number(match[1]) };
}

/** Python that writes event.text to a stream in one write. */
const writeExactly = (stream: 'stdout' | 'stderr') => `import sys\ndef handler(event):\n    sys.${stream}.write(event["text"])\n    sys.${stream}.flush()\n    return 1\n`;

describe('output', () => {
  before(async () => {
    t = await TestServer.start();
  });
  after(() => t.stop());

  it('is exactly what the code printed: no newline added, CR, tabs, NUL and non-ASCII kept, streams apart', async () => {
    const r = await py('import sys\ndef handler(event):\n    sys.stdout.write("a\\r\\nb\\tc\\x00d é€😀")\n    sys.stderr.write("only err")\n    return None\n');
    assertSuccess(r);
    assert.equal(r.stdout, 'a\r\nb\tc\u0000d é€😀');
    assert.equal(r.stderr, 'only err');
    assert.equal(r.stdout_truncated, false);
    assert.equal(r.stderr_truncated, false);
  });

  it('keeps output of exactly the limit whole, without a notice', async () => {
    const text = 'x'.repeat(OUTPUT_LIMIT_BYTES - 1) + '\n';
    const r = await py(writeExactly('stdout'), { event: { text } });
    assertSuccess(r);
    assert.equal(r.stdout_truncated, false);
    assert.equal(r.stdout, text);
  });

  it('cuts one byte over the limit, says so, and reports the total', async () => {
    const text = 'y'.repeat(OUTPUT_LIMIT_BYTES + 1);
    const r = await py(writeExactly('stdout'), { event: { text } });
    assertSuccess(r);
    assert.equal(r.stdout_truncated, true);
    assert.ok(Buffer.byteLength(r.stdout) <= OUTPUT_LIMIT_BYTES, `${Buffer.byteLength(r.stdout)} bytes`);
    const { kept, total } = splitTruncated(r.stdout);
    assert.equal(total, OUTPUT_LIMIT_BYTES + 1);
    assert.ok(text.startsWith(kept));
    assert.ok(kept.length > OUTPUT_LIMIT_BYTES - 200, `kept only ${kept.length} bytes`);
  });

  for (const [name, char] of [
    ['2-byte é', 'é'],
    ['3-byte €', '€'],
    ['4-byte 😀', '😀'],
  ] as const) {
    it(`cuts ${name} text on a character boundary, whatever the alignment at the limit`, async () => {
      const width = Buffer.byteLength(char);
      // every shift of the characters against the limit, so the cut lands inside one each time
      const runs = await Promise.all(
        Array.from({ length: width }, (_, shift) => {
          const text = 'a'.repeat(shift) + char.repeat(Math.ceil((OUTPUT_LIMIT_BYTES + 5000) / width));
          return py(writeExactly('stdout'), { event: { text } }).then((r) => ({ r, text }));
        }),
      );
      for (const { r, text } of runs) {
        assertSuccess(r);
        assert.equal(r.stdout_truncated, true);
        assert.ok(Buffer.byteLength(r.stdout) <= OUTPUT_LIMIT_BYTES, `${Buffer.byteLength(r.stdout)} bytes`);
        assert.ok(!r.stdout.includes('\uFFFD'), 'a character was split (U+FFFD in the output)');
        const { kept, total } = splitTruncated(r.stdout);
        assert.equal(total, Buffer.byteLength(text));
        assert.ok(text.startsWith(kept), 'the kept text is not a prefix of what was printed');
        assert.ok(Buffer.byteLength(kept) >= OUTPUT_LIMIT_BYTES - 200, `kept only ${Buffer.byteLength(kept)} bytes`);
      }
    });
  }

  it('bounds stderr the same way, apart from stdout', async () => {
    const r = await py('import sys\ndef handler(event):\n    sys.stderr.write("€" * 40000)\n    print("small")\n    return 1\n');
    assertSuccess(r);
    assert.equal(r.stdout, 'small\n');
    assert.equal(r.stdout_truncated, false);
    assert.equal(r.stderr_truncated, true);
    assert.ok(Buffer.byteLength(r.stderr) <= OUTPUT_LIMIT_BYTES);
    assert.ok(!r.stderr.includes('\uFFFD'));
    assert.equal(splitTruncated(r.stderr).total, 120_000);
  });

  it('replaces invalid UTF-8 with U+FFFD instead of failing', async () => {
    const r = await py(
      'import sys\ndef handler(event):\n    sys.stdout.buffer.write(b"ok \\xff\\xfe end\\n\\xc3")\n    sys.stderr.buffer.write(b"\\xed\\xa0\\x80 lone surrogate\\n")\n    return "fine"\n',
    );
    assertSuccess(r);
    assert.equal(r.return_value, 'fine');
    assert.equal(r.stdout, 'ok \uFFFD\uFFFD end\n\uFFFD');
    assert.match(r.stderr, /^\uFFFD+ lone surrogate\n$/);
    // the GET copy is valid JSON with the same text
    assert.equal((await t.state(r.execution_id)).json.result?.stdout, r.stdout);
  });

  it('never blocks the child: python printing 5 MiB to each stream finishes promptly', async () => {
    const r = await py(
      'import sys\ndef handler(event):\n    line = "z" * 1023 + "\\n"\n    for _ in range(5 * 1024):\n        sys.stdout.write(line)\n        sys.stderr.write(line)\n    return "done"\n',
      { timeout: 60 },
    );
    assertSuccess(r);
    assert.equal(r.return_value, 'done');
    assert.equal(r.limit_exceeded, null);
    assert.ok(r.execution_time < 20, `took ${r.execution_time} s: was the child blocked?`);
    for (const stream of ['stdout', 'stderr'] as const) {
      assert.equal(r[`${stream}_truncated`], true);
      assert.ok(Buffer.byteLength(r[stream]) <= OUTPUT_LIMIT_BYTES);
      assert.equal(splitTruncated(r[stream]).total, 5 * 1024 * 1024, stream);
    }
  });

  it('keeps what was printed before a timeout', async () => {
    const r = await py('import time\ndef handler(event):\n    print("before the wait")\n    time.sleep(30)\n', { timeout: 1 });
    assert.equal(r.status, 'timeout', describeResult(r));
    assert.equal(r.stdout, 'before the wait\n');
  });
});

describe('output: the total output bound (MAX_OUTPUT_TOTAL_MB)', () => {
  let small: TestServer;
  before(async () => {
    small = await TestServer.start({ MAX_OUTPUT_TOTAL_MB: '1' });
  });
  after(() => small.stop());

  it('stops endless output at the bound instead of running into the timeout', async () => {
    const r: Result = await small.run({ code: 'yes "endless output"', language: 'shell', timeout: 60 });
    assert.equal(r.status, 'failed', describeResult(r));
    assert.equal(r.limit_exceeded, 'output');
    assert.ok(r.execution_time < 20, `${r.execution_time} s`);
    assert.match(r.stderr, /output exceeded/);
    assert.ok(Buffer.byteLength(r.stdout) <= OUTPUT_LIMIT_BYTES);
    assert.ok(r.stdout.startsWith('endless output\nendless output\n'));
  });
});
