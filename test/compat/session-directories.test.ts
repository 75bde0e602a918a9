// Session ids are any string; the directory each gets is derived safely (the id itself only when
// it is one plain path component, else a hash), so no two ids share one and none leaves the root.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { sessionDirectoryName, sessionPaths } from '../../src/executions/session-paths.js';

describe('session directories', () => {
  it('a plain id is its own directory name; anything else a hashed one', () => {
    assert.equal(sessionDirectoryName('sess_1.a-b'), 'sess_1.a-b');
    assert.equal(sessionDirectoryName('rc_dots..1'), 'rc_dots..1');
    for (const id of ['a/b', '.', '..', '../x', '.hidden', 'a\u0000b', 'sp ace', 'ü', 'x'.repeat(129)]) {
      assert.match(sessionDirectoryName(id), /^@[A-Za-z0-9_-]{43}$/, id);
    }
  });

  it('ids that a sanitizer would map together keep distinct directories', () => {
    const ids = ['a/b', 'a_b', 'a\\b', 'a b', 'a.b', 'a..b', 'a-b', '@a', '.a', 'a', 'A', '..', '.', '/', '//', 'x'.repeat(128), 'x'.repeat(129)];
    const names = ids.map(sessionDirectoryName);
    assert.equal(new Set(names).size, ids.length, names.join(' '));
  });

  it('every directory stays inside its root; flat: the workspace is the root itself', () => {
    for (const id of ['../../etc', '/abs', 'x/../../y', '..']) {
      const p = sessionPaths('/w', '/s', id);
      assert.equal(path.dirname(p.workspace), '/w');
      assert.ok(p.tmp.startsWith('/s/sessions/@'));
    }
    assert.equal(sessionPaths('/w', '/s', 'a/b', 'flat').workspace, '/w');
  });
});
