// The server's memory settings have one source, scripts/server-memory.env: scripts/start.sh and
// the bench's executor child read it, and the Dockerfile's ENV (which cannot read a file) must
// carry the same values. A setting changed in one place and not the others fails here.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { serverMemorySettings } from '../../tools/bench/server-child.js';

const root = (file: string) => fileURLToPath(new URL(`../../../${file}`, import.meta.url));

/** The environment start.sh's own reading loop (cut from the script, not a copy) exports. */
function startShExports(callerEnv: Record<string, string>): Record<string, string> {
  const script = readFileSync(root('scripts/start.sh'), 'utf8');
  const loop = /^while IFS='=' read[^\n]*\n(?:.*\n)*?done < scripts\/server-memory\.env$/m.exec(script);
  assert.ok(loop, 'scripts/start.sh reads scripts/server-memory.env');
  const out = execFileSync('bash', ['-c', `${loop[0]}\nenv -0`], { cwd: root(''), env: { PATH: process.env.PATH!, ...callerEnv }, encoding: 'utf8' });
  return Object.fromEntries(
    out
      .split('\0')
      .filter(Boolean)
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );
}

describe('server memory settings', () => {
  const settings = serverMemorySettings(root('scripts/server-memory.env'), {});

  it('scripts/server-memory.env names the young generation and the malloc arenas', () => {
    assert.deepEqual(Object.keys(settings).sort(), ['MALLOC_ARENA_MAX', 'NODE_OPTIONS']);
  });

  it("the Dockerfile's ENV carries the same values", () => {
    const dockerfile = readFileSync(root('Dockerfile'), 'utf8');
    for (const [name, value] of Object.entries(settings)) {
      const env = new RegExp(`^(?:ENV |\\s+)${name}=(\\S+)`, 'm').exec(dockerfile);
      assert.equal(env?.[1], value, `Dockerfile ENV ${name}`);
    }
  });

  it('scripts/start.sh exports them, and a value the caller set wins', () => {
    const exported = startShExports({});
    for (const [name, value] of Object.entries(settings)) assert.equal(exported[name], value, name);
    assert.equal(startShExports({ MALLOC_ARENA_MAX: '4' }).MALLOC_ARENA_MAX, '4');
  });
});
