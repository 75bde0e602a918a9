// pino-roll ships no types: what logger.ts uses of it.
declare module 'pino-roll' {
  import type { DestinationStream } from 'pino';

  interface RollOptions {
    file: string;
    size?: string | number;
    frequency?: 'daily' | 'hourly' | number;
    dateFormat?: string;
    limit?: { count?: number; removeOtherLogFiles?: boolean };
    mkdir?: boolean;
    minLength?: number;
  }

  export default function roll(options: RollOptions): Promise<DestinationStream>;
}
