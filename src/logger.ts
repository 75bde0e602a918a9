// pino, JSON by default (LOG_FORMAT=text for people). Lines of one execution carry
// execution_id and session_id; code, events, env values and outputs are never logged.
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export function createLogger(level: string, format: 'json' | 'text'): Logger {
  const options = { level, base: { service: 'sandbox-executor' }, timestamp: pino.stdTimeFunctions.isoTime };
  if (format === 'text') return pino(options, pretty({ colorize: false, sync: true, destination: 2 }));
  // Buffered, written by a pool thread when 4 KiB have gathered or every 200 ms (and at exit):
  // two lines per execution each waking a thread would cost the event loop more than the writes.
  const destination = pino.destination({ fd: 2, sync: false, minLength: 4096 });
  setInterval(() => destination.flush(), 200).unref();
  return pino(options, destination);
}
