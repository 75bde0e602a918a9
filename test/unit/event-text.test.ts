// The event written from the body's own text when it holds integers a double cannot keep: the
// same text JSON.stringify gives, except that every number is as the client wrote it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exactEventText, MAX_EXACT_EVENT_CHARS } from '../../src/http/event-text.js';

/** Numbers as other encoders write them: each must come out as JSON.stringify writes its value. */
const ALTERNATIVE_FORMS = ['1.0', '1e5', '-0', '2E-3', '1E400', '-1.50', '12345678901234567.5', '0.30000000000000004'];

describe('exactEventText', () => {
  it('is undefined when every integer is exact as a double (JSON.stringify of the parsed event is then the same)', () => {
    assert.equal(exactEventText('{"event":{"id":9007199254740991,"f":0.1},"code":"x"}'), undefined);
    assert.equal(exactEventText('{"event":{"s":"12345678901234567890"},"code":"x"}'), undefined, 'digits inside a string');
    assert.equal(exactEventText('{"code":"x","other":12345678901234567890,"event":{}}'), undefined, 'a big integer outside the event');
    assert.equal(exactEventText('{"code":"x"}'), undefined, 'no event');
  });

  it('keeps an integer beyond 2^53 as sent', () => {
    assert.equal(exactEventText('{"event":{"id":9007199254740993},"code":"x"}'), '{"id":9007199254740993}');
    assert.equal(exactEventText('{"event":[-123456789012345678901234567890],"code":"x"}'), '[-123456789012345678901234567890]');
  });

  it('drops whitespace, writes strings as JSON.stringify does, keeps other tokens; finds the member by its decoded name, the last one', () => {
    const body =
      '{ "code" : "x" ,\n "event" : {"a": 1},\t"ev\\u0065nt" : { "a" : [ 1 , 12345678901234567890 , "\\/x\\u0041\\n\\ud800" , true , false , null , -0.5e-3 , 1E+2 , {} , [ ] ] ,\r\n "k\\"q" : { "event" : 1 } } }';
    const text = exactEventText(body)!;
    assert.equal(text, '{"a":[1,12345678901234567890,"/xA\\n\\ud800",true,false,null,-0.0005,100,{},[]],"k\\"q":{"event":1}}');
    const parsed = JSON.parse(body) as { event: unknown };
    assert.deepEqual(JSON.parse(text), parsed.event, 'the same value, read back as JSON.parse reads it');
  });

  it('writes every other number as JSON.stringify does (1.0, 1e5, -0, 1E400 read as before), and an integer python cannot read (over 4300 digits) too', () => {
    assert.equal(exactEventText('{"event":{"a":1e5,"c":1.0,"z":-0,"d":1E400,"n":9007199254740993}}'), '{"a":100000,"c":1,"z":0,"d":null,"n":9007199254740993}');
    assert.equal(exactEventText(`{"event":{"n":9007199254740993,"huge":${'9'.repeat(5000)}}}`), '{"n":9007199254740993,"huge":null}');
    assert.equal(exactEventText(`{"event":{"huge":${'9'.repeat(5000)}}}`), undefined);
  });

  it('leaves an event over MAX_EXACT_EVENT_CHARS to JSON.stringify (the walk would hold the event loop); keeps members in the order and number sent', () => {
    const padding = 'a'.repeat(MAX_EXACT_EVENT_CHARS);
    assert.equal(exactEventText(`{"event":{"s":"${padding}","id":9007199254740993}}`), undefined);
    assert.equal(exactEventText('{"event":{"b":9007199254740993,"1":2,"b":3}}'), '{"b":9007199254740993,"1":2,"b":3}');
  });

  it('skips long strings without recursion, and is not woken by digits in a float', () => {
    assert.equal(exactEventText(`{"x":"${'a'.repeat(12_000_000)}\\"","event":{"id":9007199254740993}}`), '{"id":9007199254740993}');
    const long = 'a'.repeat(MAX_EXACT_EVENT_CHARS - 64);
    assert.equal(exactEventText(`{"event":{"s":"${long}\\"","id":9007199254740993}}`), `{"s":"${long}\\"","id":9007199254740993}`);
    assert.equal(exactEventText('{"event":{"f":0.30000000000000004}}'), undefined);
  });

  it('agrees with JSON.stringify of the parsed event on random documents, but for the big integers', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const big: string[] = [];
    const value = (depth: number): unknown => {
      const r = random();
      if (depth > 4 || r < 0.3) {
        const kinds = [
          () => Math.floor(random() * 1e6),
          () => `s${Math.floor(random() * 100)}"\\/é`,
          () => true,
          () => null,
          () => random() * 10,
          () => `BIG${big.push(`${Math.floor(random() * 9) + 1}${'7'.repeat(20)}`) - 1}`,
          () => `ALT${Math.floor(random() * ALTERNATIVE_FORMS.length)}`,
        ];
        return kinds[Math.floor(random() * kinds.length)]!();
      }
      if (r < 0.65) return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(random() * 4) }, (_, i) => [`k${i}`, value(depth + 1)]));
    };
    for (let n = 0; n < 500; n++) {
      big.length = 0;
      const event = { root: value(0), marker: 'BIG' };
      const indent = n % 3 === 0 ? 2 : undefined;
      // a placeholder string stands for each big integer; in the body it becomes the bare number
      const body = JSON.stringify({ code: 'x', event, timeout: 5 }, null, indent)
        .replace(/"BIG(\d+)"/g, (_, i: string) => big[Number(i)]!)
        .replace(/"ALT(\d+)"/g, (_, i: string) => ALTERNATIVE_FORMS[Number(i)]!);
      const expected = JSON.stringify(event)
        .replace(/"BIG(\d+)"/g, (_, i: string) => big[Number(i)]!)
        .replace(/"ALT(\d+)"/g, (_, i: string) => JSON.stringify(Number(ALTERNATIVE_FORMS[Number(i)])));
      assert.equal(exactEventText(body), big.length > 0 ? expected : undefined, body);
    }
  });
});
