// A pino destination that keeps every line, parsed, for assertions on what was logged.
import type { DestinationStream } from 'pino';

export interface LogCapture {
  destination: DestinationStream;
  /** Every line as written. */
  text(): string;
  lines(): Record<string, unknown>[];
}

export function captureLogs(): LogCapture {
  const written: string[] = [];
  return {
    destination: { write: (line: string) => void written.push(line) },
    text: () => written.join(''),
    lines: () => written.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
