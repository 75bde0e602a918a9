// The layers of src/ (docs/architecture.md): an import may stay in its own layer or go down,
// never up, and everything above sandbox/ reaches it through its façade only. Scans the
// TypeScript sources, so type-only imports count too.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/** Lowest first. Shared leaves (configuration, logging, metrics and its event-loop sampler, version, types/ of untyped packages) are below everything. */
const LAYERS: { layer: string; rank: number; holds: (file: string) => boolean }[] = [
  { layer: 'shared', rank: 0, holds: (f) => ['config.ts', 'logger.ts', 'metrics.ts', 'event-loop-delay.ts', 'version.ts'].includes(f) || f.startsWith('types/') },
  { layer: 'sandbox', rank: 1, holds: (f) => f.startsWith('sandbox/') },
  { layer: 'runtimes', rank: 2, holds: (f) => f.startsWith('runtimes/') },
  { layer: 'executions', rank: 3, holds: (f) => f.startsWith('executions/') || f.startsWith('dependencies/') },
  { layer: 'http', rank: 4, holds: (f) => f.startsWith('http/') || f.startsWith('controlplane/') },
  { layer: 'wiring', rank: 5, holds: (f) => f === 'server.ts' || f === 'state-directory-lock.ts' || f.startsWith('cli/') },
];

/** the TypeScript sources (this file runs as dist/test/layers.test.js) */
const SOURCE_ROOT = fileURLToPath(new URL('../../src/', import.meta.url));

function layerOf(file: string) {
  const found = LAYERS.find((l) => l.holds(file));
  assert.ok(found, `src/${file} is in no layer: add it to LAYERS and to docs/architecture.md`);
  return found;
}

function sourceFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const relative = prefix + entry.name;
    if (entry.isDirectory()) return sourceFiles(path.join(dir, entry.name), `${relative}/`);
    return entry.name.endsWith('.ts') ? [relative] : [];
  });
}

/** Every relative import of a file (static, re-export or dynamic), as paths under src/ with a .ts name. */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(SOURCE_ROOT, file), 'utf8');
  const specifiers = [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]!);
  return specifiers.map((s) => path.posix.join(path.posix.dirname(file), s).replace(/\.js$/, '.ts'));
}

function layerViolations(): string[] {
  const violations: string[] = [];
  for (const file of sourceFiles(SOURCE_ROOT)) {
    const from = layerOf(file);
    for (const target of importsOf(file)) {
      if (target.startsWith('../')) continue; // outside src/
      const to = layerOf(target);
      if (to.rank > from.rank) violations.push(`src/${file} (${from.layer}) imports src/${target} (${to.layer}, a layer above)`);
      if (from.layer !== 'sandbox' && to.layer === 'sandbox' && target !== 'sandbox/index.ts') {
        violations.push(`src/${file} imports src/${target}: outside sandbox/, import sandbox/index.ts (the façade) only`);
      }
    }
  }
  return violations;
}

describe('layers of src/', () => {
  it('has no import running up a layer, and none past the sandbox façade', () => {
    assert.deepEqual(layerViolations(), []);
  });

  it('loads the native addon from one module only', () => {
    const loaders = sourceFiles(SOURCE_ROOT).filter((file) => readFileSync(path.join(SOURCE_ROOT, file), 'utf8').includes('sandbox_native.node'));
    assert.deepEqual(loaders, ['sandbox/native-addon.ts']);
  });
});
