// pino, JSON by default (LOG_FORMAT=text for people). Lines of one execution carry
// execution_id and session_id; code, events, env values and outputs are never logged.
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export function createLogger(level: string, format: 'json' | 'text'): Logger {
  const options = { level, base: { service: 'sandbox-executor' }, timestamp: pino.stdTimeFunctions.isoTime };
  if (format === 'text') return pino(options, pretty({ colorize: false, sync: true, destination: 2 }));
  return pino(options, pino.destination({ fd: 2, sync: false }));
}
