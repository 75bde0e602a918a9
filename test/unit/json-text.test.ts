// isJsonText decides exactly as JSON.parse does, on chosen texts and on many random ones; a
// return value is kept as its text, so a text JSON.parse refuses must never pass.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isJsonText, nestsDeeperThan } from '../../src/executions/json-text.js';
import { RawJson } from '../../src/executions/raw-json.js';

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

const CHOSEN = [
  // valid
  '0',
  '-0',
  '1.5e-3',
  '-12E+40',
  '0.0',
  '"a"',
  '""',
  'true',
  'false',
  'null',
  ' \t\r\n[ ]\n',
  '{}',
  '{"a":1}',
  '{ "a" : [ 1 , { "b" : null } ] , "c" : "d" }',
  '"\\u00e9\\n\\"\\\\\\/\\b\\f\\r\\t"',
  '"\u00e9\ud83d\ude00"',
  '"\ud800"',
  '[[[[[]]]]]',
  '[1,[2,[3,{"x":[]}]]]',
  '12345678901234567890',
  '"\u007f\u2028"',
  // invalid
  '',
  ' ',
  '01',
  '-',
  '1.',
  '.5',
  '1e',
  '1e+',
  '+1',
  '0x1',
  'NaN',
  'Infinity',
  '-Infinity',
  'tru',
  'nul',
  'True',
  '"a',
  'a"',
  '"\\x"',
  '"\\u12"',
  '"\\u12G4"',
  '"\t"',
  '"\n"',
  '"\u0000"',
  '[1,]',
  '[,1]',
  '[1 2]',
  '{"a"}',
  '{"a":}',
  '{a:1}',
  "{'a':1}",
  '{"a":1,}',
  '{,}',
  '[',
  ']',
  '[[]',
  '[]]',
  '{"a":1}}',
  '1 2',
  '[] []',
  '\u00a01',
  '1\u00a0',
  '\ufeff1',
  '[1}',
  '{"a":1]',
  '"a"b',
  'nulll',
  'true1',
  '- 1',
  '1 .5',
  '[1,2',
  '{"a" 1}',
  '/**/1',
  '"\\',
  '"\\u',
];

/** Random texts near JSON: tokens of the grammar and bytes that break it, joined at random. */
function randomText(random: () => number): string {
  const pieces = ['[', ']', '{', '}', ',', ':', ' ', '\n', '"', '"a"', '"\\n"', '"\\u0041"', '\\', '0', '1', '-', '.', 'e', '+', '12', 'true', 'false', 'null', 'x', '\t', '\u0001', 'é'];
  let text = '';
  const length = Math.floor(random() * 14);
  for (let k = 0; k < length; k++) text += pieces[Math.floor(random() * pieces.length)];
  return text;
}

/** A random valid document, mutated at one place or not. */
function randomDocument(random: () => number, depth = 0): unknown {
  const r = random();
  if (depth > 4 || r < 0.3) return [0, -1.25e-7, 'é"\\\n', true, null, 123456789][Math.floor(random() * 6)];
  if (r < 0.65) return Array.from({ length: Math.floor(random() * 4) }, () => randomDocument(random, depth + 1));
  return Object.fromEntries(Array.from({ length: Math.floor(random() * 4) }, (_v, k) => [`k${k}\u2028`, randomDocument(random, depth + 1)]));
}

function seeded(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
}

describe('isJsonText', () => {
  it('agrees with JSON.parse on every chosen text', () => {
    for (const text of CHOSEN) assert.equal(isJsonText(text), parses(text), JSON.stringify(text));
    assert.ok(CHOSEN.filter(parses).length >= 20 && CHOSEN.filter((t) => !parses(t)).length >= 50);
  });

  it('agrees with JSON.parse on 200,000 random texts and 20,000 mutated documents', () => {
    const random = seeded(17);
    let valid = 0;
    for (let n = 0; n < 200_000; n++) {
      const text = randomText(random);
      const expected = parses(text);
      if (expected) valid++;
      assert.equal(isJsonText(text), expected, JSON.stringify(text));
    }
    assert.ok(valid > 2_000, `only ${valid} valid random texts: the generator no longer reaches the grammar`);
    for (let n = 0; n < 20_000; n++) {
      let text = JSON.stringify(randomDocument(random), null, n % 3 === 0 ? 1 : undefined);
      if (n % 2 === 1) {
        const at = Math.floor(random() * (text.length + 1));
        const cut = Math.floor(random() * 3);
        text = text.slice(0, at) + randomText(random).slice(0, 2) + text.slice(at + cut);
      }
      assert.equal(isJsonText(text), parses(text), JSON.stringify(text));
    }
  });

  it('walks 500,000 levels of nesting without recursion, and refuses them unclosed', () => {
    const depth = 500_000;
    assert.equal(isJsonText('['.repeat(depth) + ']'.repeat(depth)), true);
    assert.equal(isJsonText('{"a":'.repeat(depth) + '1' + '}'.repeat(depth)), true);
    assert.equal(isJsonText('['.repeat(depth) + ']'.repeat(depth - 1)), false);
    assert.equal(isJsonText(`${'['.repeat(depth)}}${']'.repeat(depth - 1)}`), false);
  });

  it('is what RawJson.from accepts', () => {
    assert.equal(RawJson.from(' [1, 2] ').text, '[1, 2]');
    assert.throws(() => RawJson.from('[1, 2] , "status": "forged"'), SyntaxError);
    assert.throws(() => RawJson.from('1}'), SyntaxError);
  });
});

/** How deep a JSON text nests, from what JSON.parse builds (the reference for the scan). */
function depthOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  return 1 + Math.max(0, ...(Array.isArray(value) ? value : Object.values(value)).map(depthOf));
}

describe('nestsDeeperThan', () => {
  it('agrees with the depth of what JSON.parse builds, brackets inside strings and escaped quotes ignored', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const texts = ['[]', '{}', '"[[["', '["\\\\"]', '["\\\\\\"[["]', '{"a":"}}}","b":[[{}]]}', '[[1],[[2]],"[[[[["]'];
    const value = (depth: number): unknown => {
      const r = random();
      if (depth > 6 || r < 0.25) return ['[', '"]\\"', '{"x":"[["}', '\\', 1, null][Math.floor(random() * 6)];
      if (r < 0.6) return Array.from({ length: Math.floor(random() * 3) }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(random() * 3) }, (_, i) => [`k[${i}"`, value(depth + 1)]));
    };
    for (let n = 0; n < 3000; n++) texts.push(JSON.stringify(value(0)));
    for (const text of texts) {
      const depth = depthOf(JSON.parse(text));
      assert.equal(nestsDeeperThan(text, depth), false, text);
      if (depth > 0) assert.equal(nestsDeeperThan(text, depth - 1), true, text);
    }
  });

  it('scans millions of levels without recursion', () => {
    const deep = `${'['.repeat(4_000_000)}${']'.repeat(4_000_000)}`;
    assert.equal(nestsDeeperThan(deep, 3_999_999), true);
    assert.equal(nestsDeeperThan(deep, 4_000_000), false);
    assert.equal(nestsDeeperThan('"unclosed [[[', 1), false, 'a malformed text is left to JSON.parse');
  });
});
