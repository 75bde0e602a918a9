// Artifacts: the regular files an execution created or modified in its workspace, and nothing
// else: not unchanged or deleted files, not hidden ones, never a symlink (not even one to a host
// file such as /etc/passwd, which is neither reported nor followed). The callback gets the paths;
// ?wait=true and GET also get size, mime type and sha256.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { assertSuccess, describeResult, sessionId, TestServer, type Result } from '../helpers/http.js';

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const PNG_BYTES = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0x10]);

describe('artifacts', () => {
  let t: TestServer;
  before(async () => {
    t = await TestServer.start();
  });
  after(() => t.stop());

  describe('a session whose second execution changes its workspace in every way', () => {
    const session = sessionId('artifacts');
    let r: Result;
    before(async () => {
      const setup = await t.run({
        session_id: session,
        language: 'shell',
        code: 'printf "original\\n" > modify-me.txt; printf "stay\\n" > unchanged.txt; printf "aaaa" > same-size.txt; printf "x" > delete-me.txt; mkdir -p data',
      });
      assertSuccess(setup);
      assert.deepEqual([...setup.artifacts].sort(), ['delete-me.txt', 'modify-me.txt', 'same-size.txt', 'unchanged.txt']);
      r = await t.run({
        session_id: session,
        language: 'python',
        code: `import os
def handler(event):
    open("out.txt", "w").write("hello artifacts\\n")
    open("data/nested.csv", "w").write("a,b\\n1,2\\n")
    open("modify-me.txt", "a").write("appended\\n")
    open("same-size.txt", "w").write("bbbb")
    os.remove("delete-me.txt")
    open("empty.txt", "w").close()
    open("file with space.txt", "w").write("spaced")
    open("image.png", "wb").write(bytes(${JSON.stringify([...PNG_BYTES])}))
    open("blob.bin", "wb").write(b"\\x00\\x01\\x02")
    open(".hidden.txt", "w").write("hidden")
    os.makedirs(".cache", exist_ok=True)
    open(".cache/inner.txt", "w").write("hidden dir")
    open("data/.secret", "w").write("hidden in dir")
    os.symlink("/etc/passwd", "passwd-link.txt")
    os.symlink("/etc", "etc-link")
    os.symlink("out.txt", "out-link.txt")
    os.mkfifo("pipe.fifo")
    return "ok"
`,
      });
      assertSuccess(r);
    });

    const expected: Record<string, { content: string | Buffer; mime: string }> = {
      'blob.bin': { content: Buffer.from([0, 1, 2]), mime: 'application/octet-stream' },
      'data/nested.csv': { content: 'a,b\n1,2\n', mime: 'text/csv' },
      'empty.txt': { content: '', mime: 'text/plain' },
      'file with space.txt': { content: 'spaced', mime: 'text/plain' },
      'image.png': { content: PNG_BYTES, mime: 'image/png' },
      'modify-me.txt': { content: 'original\nappended\n', mime: 'text/plain' },
      'out.txt': { content: 'hello artifacts\n', mime: 'text/plain' },
      'same-size.txt': { content: 'bbbb', mime: 'text/plain' },
    };

    it('lists exactly the created and modified regular files, sorted, workspace-relative', () => {
      assert.deepEqual(r.artifacts, Object.keys(expected));
      assert.equal(r.artifacts_complete, true);
      assert.equal(r.artifacts_incomplete_reason, null);
    });

    it('skips unchanged, deleted and hidden files, symlinks and fifos', () => {
      for (const absent of ['unchanged.txt', 'delete-me.txt', '.hidden.txt', '.cache/inner.txt', 'data/.secret', 'passwd-link.txt', 'out-link.txt', 'pipe.fifo', 'etc-link']) {
        assert.ok(!r.artifacts.includes(absent), `${absent} reported`);
      }
      assert.ok(!r.artifacts.some((a) => a.startsWith('etc-link/')), 'followed a symlinked directory out of the workspace');
    });

    it('never reads through a symlink to a host file (/etc/passwd)', () => {
      const hostPasswd = sha256(readFileSync('/etc/passwd'));
      for (const d of r.artifact_details) {
        assert.notEqual(d.sha256, hostPasswd, `${d.path} carries the host's /etc/passwd`);
        assert.ok(!d.path.includes('passwd'), d.path);
      }
    });

    it('gives size, mime type and sha256 of each artifact on ?wait=true', () => {
      assert.deepEqual(
        r.artifact_details,
        Object.entries(expected).map(([path, { content, mime }]) => ({ path, size: Buffer.byteLength(content), mime_type: mime, sha256: sha256(content) })),
      );
    });

    it('gives the same details on GET /executions/{id}, and the paths in the callback body', async () => {
      const state = await t.state(r.execution_id);
      assert.deepEqual(state.json.result?.artifact_details, r.artifact_details);
      assert.deepEqual(state.json.result?.artifacts, r.artifacts);
      assert.deepEqual(t.callbackOf(r.execution_id).artifacts, r.artifacts);
    });

    it('reports nothing for an execution that only reads', async () => {
      const reader = await t.run({ session_id: session, language: 'shell', code: 'cat out.txt modify-me.txt > /dev/null; ls -R > /dev/null' });
      assertSuccess(reader);
      assert.deepEqual(reader.artifacts, []);
      assert.deepEqual(reader.artifact_details, []);
    });
  });

  it('reports files written by a failed or timed-out execution', async () => {
    const failed = await t.run({ language: 'shell', code: 'echo partial > failed.txt; exit 1' });
    assert.equal(failed.status, 'failed');
    assert.deepEqual(failed.artifacts, ['failed.txt']);
    const timedOut = await t.run({ language: 'shell', code: 'echo partial > slow.txt; sleep 30', timeout: 1 });
    assert.equal(timedOut.status, 'timeout', describeResult(timedOut));
    assert.deepEqual(timedOut.artifacts, ['slow.txt']);
    assert.equal(timedOut.artifact_details[0]?.sha256, sha256('partial\n'));
  });

  it('leaves out a name that is not UTF-8, never reporting another file in its place', async () => {
    // two names that read the same once their invalid byte is U+FFFD, and the real U+FFFD name
    const r = await t.run({
      session_id: sessionId('not-utf8'),
      language: 'python',
      code: "import os\ndef handler(event):\n    for name, text in ((b'a\\xff.txt', b'ff'), (b'a\\xfe.txt', b'fe'), ('a\\ufffd.txt'.encode(), b'real')):\n        with open(os.path.join(b'/workspace', name), 'wb') as f: f.write(text)\n",
    });
    assertSuccess(r);
    assert.deepEqual(r.artifacts, ['a\ufffd.txt'], describeResult(r));
    assert.deepEqual(
      r.artifact_details.map((d) => [d.path, d.size, d.sha256]),
      [['a\ufffd.txt', 4, sha256('real')]],
    );
    assert.equal(r.artifacts_complete, false);
    assert.equal(r.artifacts_incomplete_reason, 'name_not_utf8');
  });

  it("reports each session's own files only", async () => {
    const [a, b] = await Promise.all([t.run({ language: 'shell', code: 'echo a > mine-a.txt' }), t.run({ language: 'shell', code: 'echo b > mine-b.txt' })]);
    assert.deepEqual(a!.artifacts, ['mine-a.txt']);
    assert.deepEqual(b!.artifacts, ['mine-b.txt']);
  });
});

describe('artifacts: the count bound (MAX_ARTIFACTS)', () => {
  let t: TestServer;
  before(async () => {
    t = await TestServer.start({ MAX_ARTIFACTS: '5' });
  });
  after(() => t.stop());

  it('reports at most MAX_ARTIFACTS paths and says the list is incomplete', async () => {
    const r = await t.run({ language: 'shell', code: 'for i in $(seq 10 29); do echo $i > f$i.txt; done' });
    assertSuccess(r);
    assert.deepEqual(r.artifacts, ['f10.txt', 'f11.txt', 'f12.txt', 'f13.txt', 'f14.txt']);
    assert.equal(r.artifacts_complete, false);
    assert.equal(r.artifacts_incomplete_reason, 'max_artifacts');
    assert.equal(r.artifact_details.length, 5);
  });

  it('says a list of exactly MAX_ARTIFACTS paths is complete', async () => {
    const r = await t.run({ language: 'shell', code: 'for i in $(seq 10 14); do echo $i > f$i.txt; done' });
    assertSuccess(r);
    assert.equal(r.artifacts.length, 5);
    assert.equal(r.artifacts_complete, true);
    assert.equal(r.artifacts_incomplete_reason, null);
  });
});
