// pino, JSON by default (LOG_FORMAT=text for people), on stderr and/or in a rotated file (LOG_FILE,
// rolled by pino-roll). Lines of one execution carry execution_id and session_id; code, events,
// env values and outputs are never logged.
import { accessSync, constants, mkdirSync } from 'node:fs';
import path from 'node:path';
import pino, { type DestinationStream, type Logger, type StreamEntry } from 'pino';
import type { Config } from './config.js';

export type { Logger };

export type LogSettings = Pick<Config, 'logLevel' | 'logFormat' | 'logFile' | 'logToStderr'>;

export interface Logs {
  logger: Logger;
  /** writes out what is buffered (before the process ends) */
  flush(): Promise<void>;
}

/** Each stream takes every line the logger lets through (LOG_LEVEL is the logger's). */
const ALL = 'trace';

/** A line in a buffered stream is written out at most this long after it was logged (and at flush). */
const FLUSH_DELAY_MS = 200;

/** Daily and hourly files carry their period in their name: executor.2026-12-04.1.log */
const DATE_FORMATS = { daily: 'yyyy-MM-dd', hourly: 'yyyy-MM-dd-HH', size: undefined } as const;

export async function createLogs(settings: LogSettings): Promise<Logs> {
  const { logLevel: level, logFormat, logFile, logToStderr } = settings;
  const options = { level, base: { service: 'sandbox-executor' }, timestamp: pino.stdTimeFunctions.isoTime };
  const buffered: pino.DestinationStream[] = [];
  const streams: StreamEntry[] = [];
  if (logToStderr) {
    if (logFormat === 'text') {
      // loaded only when asked for, like pino-roll below: what an executor never uses costs it no memory
      const { default: pretty } = await import('pino-pretty');
      streams.push({ level: ALL, stream: pretty({ colorize: false, sync: true, destination: 2 }) });
    } else {
      // Buffered, written by a pool thread when 4 KiB have gathered or 200 ms after a line (and at
      // exit): two lines per execution each waking a thread would cost the event loop more than the writes.
      const stderr = pino.destination({ fd: 2, sync: false, minLength: 4096 });
      buffered.push(stderr);
      streams.push({ level: ALL, stream: stderr });
    }
  }
  if (logFile) {
    // JSON whatever LOG_FORMAT says: the file is for collectors
    const file = await openLogFile(logFile);
    buffered.push(file);
    streams.push({ level: ALL, stream: file });
  }
  const flushes = flushSoonAfterWrites(buffered);
  const destination: DestinationStream = streams.length === 1 ? streams[0]!.stream : pino.multistream(streams);
  return {
    logger: pino(options, destination),
    flush: async () => {
      flushes.stop();
      await Promise.all(buffered.map((s) => new Promise<void>((resolve) => (s as unknown as Flushable).flush(() => resolve()))));
      // A flush that finds a write in flight calls back when that write is done, with the lines
      // logged meanwhile still buffered when they are under minLength: the last lines of a
      // shutdown were lost that way. Nothing is in flight now: write the rest out here.
      for (const stream of buffered) flushRestNow(stream);
    },
  };
}

/** A log's line written before the file is opened would be lost: a directory we cannot write stops the start. */
async function openLogFile(logFile: NonNullable<LogSettings['logFile']>) {
  const dir = path.dirname(logFile.path);
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw new Error(`LOG_FILE: cannot write in ${dir} (${(error as NodeJS.ErrnoException).code}): create it writable by uid ${process.getuid?.()} or choose another path`);
  }
  const { default: roll } = await import('pino-roll');
  return roll({
    file: logFile.path,
    size: `${logFile.maxBytes}b`,
    ...(logFile.rotate === 'size' ? {} : { frequency: logFile.rotate, dateFormat: DATE_FORMATS[logFile.rotate] }),
    // files of earlier runs count too: the directory never holds more than keep + 1
    limit: { count: logFile.keep, removeOtherLogFiles: true },
    minLength: 4096,
  });
}

interface Flushable {
  flush(cb?: (error?: Error) => void): void;
  flushSync(): void;
}

function flushRestNow(stream: pino.DestinationStream): void {
  try {
    (stream as unknown as Flushable).flushSync();
  } catch {
    // not open (nothing was written to it) or already closed: nothing of ours is buffered
  }
}

/**
 * Flushes the streams FLUSH_DELAY_MS after the first line written since the last flush: lines
 * reach the log soon, and an idle executor has no timer waking it.
 */
function flushSoonAfterWrites(streams: pino.DestinationStream[]): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const flushAll = () => {
    timer = undefined;
    // sonic-boom's flush does nothing while a write is in flight, and the lines logged meanwhile
    // (under minLength) would wait for the next line's timer, on an idle executor for ever: retry.
    const busy = streams.some(writeInFlight);
    streams.forEach((s) => flushNow(s));
    if (busy && !stopped) timer = setTimeout(flushAll, FLUSH_DELAY_MS).unref();
  };
  for (const stream of streams) {
    const write = stream.write.bind(stream);
    stream.write = (line: string) => {
      if (!timer && !stopped) timer = setTimeout(flushAll, FLUSH_DELAY_MS).unref();
      return write(line);
    };
  }
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

function flushNow(stream: pino.DestinationStream): void {
  try {
    (stream as unknown as Flushable).flush();
  } catch {
    // destroyed (closed at shutdown): nothing left to write
  }
}

/** sonic-boom's own flag (pino.destination and pino-roll both make one); false where a version lacks it. */
function writeInFlight(stream: pino.DestinationStream): boolean {
  return (stream as unknown as { _writing?: unknown })._writing === true;
}
