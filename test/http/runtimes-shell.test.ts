// Shell user code (CONTRACT.md section 5): bash runs the code, the event is in $EVENT_JSON, the
// exit status decides success, there is no return value, and output is exactly what was printed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertSuccess, describeResult, TestServer } from '../helpers/http.js';

let t: TestServer;
const sh = (code: string, fields: Record<string, unknown> = {}) => t.run({ code, language: 'shell', ...fields });

describe('shell runtime', () => {
  before(async () => {
    t = await TestServer.start();
  });
  after(() => t.stop());

  it('runs the code with bash (arrays, [[ ]], $BASH_VERSION)', async () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash code, not a template
    const r = await sh('a=(one two three)\n[[ ${#a[@]} -eq 3 ]] && echo "n=${#a[@]} last=${a[2]}"\n[[ -n $BASH_VERSION ]] && echo bash');
    assertSuccess(r);
    assert.equal(r.stdout, 'n=3 last=three\nbash\n');
    assert.equal(r.return_value, null);
  });

  it('has the event as JSON in $EVENT_JSON', async () => {
    const event = { name: 'O\'Brien "quoted"', n: 3, list: [1, { x: 'ü' }] };
    const r = await sh("printf \"%s\" \"$EVENT_JSON\" | python3 -c \"import json,sys; e=json.load(sys.stdin); print(e['name'], e['n'] * 2, e['list'][1]['x'])\"", { event });
    assertSuccess(r);
    assert.equal(r.stdout, 'O\'Brien "quoted" 6 ü\n');
    const raw = await sh('printf "%s" "$EVENT_JSON"', { event });
    assert.deepEqual(JSON.parse(raw.stdout), event);
  });

  it('has {} in $EVENT_JSON when no event is given', async () => {
    const r = await sh('printf "%s" "$EVENT_JSON"');
    assertSuccess(r);
    assert.equal(r.stdout, '{}');
  });

  it('exports $EVENT_JSON to the programs the code starts', async () => {
    const r = await sh("python3 -c \"import json, os; print(json.loads(os.environ['EVENT_JSON'])['k'])\"", { event: { k: 'v1' } });
    assertSuccess(r);
    assert.equal(r.stdout, 'v1\n');
  });

  it('takes events around and beyond the 128 KiB environment-string limit: $EVENT_JSON, $EVENT_FILE, and programs still start', async () => {
    // 131,072 bytes is the most one environment string may hold (with its name and NUL)
    for (const size of [100_000, 131_050, 131_072, 400_000]) {
      const event = { big: 'x'.repeat(size - 10) };
      const bytes = Buffer.byteLength(JSON.stringify(event));
      const r = await sh('/bin/true && printf "%s" "$EVENT_JSON" | wc -c && wc -c < "$EVENT_FILE"', { event });
      assertSuccess(r);
      assert.deepEqual(r.stdout.trim().split(/\s+/).map(Number), [bytes, bytes], `event of ${bytes} bytes`);
    }
  });

  it('gives stdout and stderr exactly as printed (no newline added, CR and tabs kept)', async () => {
    const r = await sh('printf "a\\r\\nb\\tc"; printf "to stderr" >&2');
    assertSuccess(r);
    assert.equal(r.stdout, 'a\r\nb\tc');
    assert.equal(r.stderr, 'to stderr');
  });

  it('exit status 0 is success, any other is failed with that exit_code', async () => {
    const ok = await sh('echo fine; exit 0');
    assertSuccess(ok);
    const bad = await sh('echo partial; exit 42');
    assert.equal(bad.status, 'failed', describeResult(bad));
    assert.equal(bad.exit_code, 42);
    assert.equal(bad.stdout, 'partial\n');
    const last = await sh('false');
    assert.equal(last.status, 'failed');
    assert.equal(last.exit_code, 1);
  });

  it("a syntax error fails with bash's message", async () => {
    const r = await sh('if then fi (');
    assert.equal(r.status, 'failed', describeResult(r));
    assert.notEqual(r.exit_code, 0);
    assert.match(r.stderr, /syntax error/);
  });

  it('a command that does not exist fails with 127', async () => {
    const r = await sh('no-such-command-xyz');
    assert.equal(r.status, 'failed');
    assert.equal(r.exit_code, 127);
    assert.match(r.stderr, /no-such-command-xyz: command not found/);
  });

  it('killed by a signal: failed, 128+signal, and said so', async () => {
    const r = await sh('echo before; kill -9 $$');
    assert.equal(r.status, 'failed', describeResult(r));
    assert.equal(r.exit_code, 137);
    assert.equal(r.stdout, 'before\n');
    assert.match(r.stderr, /SIGKILL/);
  });

  it('sees no bootstrap arguments: $# is 0', async () => {
    const r = await sh('echo "args=$#"');
    assertSuccess(r);
    assert.equal(r.stdout, 'args=0\n');
  });
});
