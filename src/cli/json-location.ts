// Where a JSON text stops being JSON. V8's JSON.parse errors often carry no position at all
// ("Unexpected token ']', "[1,]" is not valid JSON"), so after a failed parse this small scanner
// walks the text to find the line and column. It is iterative: a deeply nested file must not
// overflow the stack.

export interface JsonSyntaxError {
  line: number;
  column: number;
  message: string;
}

class ScanError extends Error {
  readonly offset: number;
  constructor(offset: number, message: string) {
    super(message);
    this.offset = offset;
  }
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
const SIMPLE_ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);

function describeChar(char: string | undefined): string {
  if (char === undefined) return 'end of input';
  if (char === '"') return `character '"'`;
  return `character ${JSON.stringify(char)}`;
}

function skipWhitespace(text: string, offset: number): number {
  let index = offset;
  while (index < text.length && WHITESPACE.has(text[index] ?? '')) index += 1;
  return index;
}

/** Returns the offset just after the closing quote. */
function scanString(text: string, start: number): number {
  let index = start + 1;
  for (;;) {
    const char = text[index];
    if (char === undefined) throw new ScanError(start, 'unterminated string');
    if (char === '"') return index + 1;
    if (char.charCodeAt(0) < 0x20) throw new ScanError(index, 'control character in a string (write it as an escape such as \\n)');
    if (char === '\\') {
      const escaped = text[index + 1];
      if (escaped === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(index + 2, index + 6)))
          throw new ScanError(index, 'invalid \\u escape: expected 4 hex digits');
        index += 6;
        continue;
      }
      if (escaped === undefined || !SIMPLE_ESCAPES.has(escaped))
        throw new ScanError(index, `invalid escape ${JSON.stringify(`\\${escaped ?? ''}`)}`);
      index += 2;
      continue;
    }
    index += 1;
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

function scanNumber(text: string, start: number): number {
  NUMBER.lastIndex = start;
  const match = NUMBER.exec(text);
  if (match === null || match[0] === '-') throw new ScanError(start, 'invalid number');
  const end = start + match[0].length;
  if (/[0-9.eE+-]/.test(text[end] ?? '')) throw new ScanError(end, 'invalid number');
  return end;
}

type Container = 'object' | 'array';

/** Offset and reason of the first syntax error, or undefined if the text is valid JSON. */
function scan(text: string): ScanError | undefined {
  const open: Container[] = [];
  let index = skipWhitespace(text, 0);
  let expecting: 'value' | 'key' | 'after-value' = 'value';
  try {
    for (;;) {
      index = skipWhitespace(text, index);
      const char = text[index];
      if (expecting === 'value') {
        if (char === '{' || char === '[') {
          index = skipWhitespace(text, index + 1);
          const closing = char === '{' ? '}' : ']';
          if (text[index] === closing) {
            index += 1;
            expecting = 'after-value';
          } else {
            open.push(char === '{' ? 'object' : 'array');
            expecting = char === '{' ? 'key' : 'value';
          }
        } else if (char === '"') {
          index = scanString(text, index);
          expecting = 'after-value';
        } else if (char === '-' || (char !== undefined && char >= '0' && char <= '9')) {
          index = scanNumber(text, index);
          expecting = 'after-value';
        } else {
          const keyword = ['true', 'false', 'null'].find((word) => text.startsWith(word, index));
          if (keyword === undefined) throw new ScanError(index, `unexpected ${describeChar(char)}, expected a value`);
          index += keyword.length;
          expecting = 'after-value';
        }
      } else if (expecting === 'key') {
        if (char !== '"') throw new ScanError(index, `unexpected ${describeChar(char)}, expected a property name in double quotes`);
        index = skipWhitespace(text, scanString(text, index));
        if (text[index] !== ':')
          throw new ScanError(index, `unexpected ${describeChar(text[index])}, expected ":" after the property name`);
        index += 1;
        expecting = 'value';
      } else {
        const container = open[open.length - 1];
        if (container === undefined) {
          if (char !== undefined) throw new ScanError(index, `unexpected ${describeChar(char)} after the end of the JSON value`);
          return undefined;
        }
        const closing = container === 'object' ? '}' : ']';
        if (char === ',') {
          const next = skipWhitespace(text, index + 1);
          if (text[next] === closing) throw new ScanError(index, `trailing comma before "${closing}"`);
          index = next;
          expecting = container === 'object' ? 'key' : 'value';
        } else if (char === closing) {
          open.pop();
          index += 1;
        } else {
          const after = container === 'object' ? 'a property value' : 'an array element';
          throw new ScanError(index, `unexpected ${describeChar(char)}, expected "," or "${closing}" after ${after}`);
        }
      }
    }
  } catch (failure) {
    if (failure instanceof ScanError) return failure;
    throw failure;
  }
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let index = 0; index < offset && index < text.length; index += 1) {
    if (text[index] === '\n') {
      line += 1;
      lineStart = index + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

export function locateJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  const failure = scan(text);
  if (failure === undefined) return undefined;
  return { ...lineAndColumn(text, failure.offset), message: failure.message };
}
