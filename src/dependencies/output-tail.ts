// The last bytes of a command's output: pip's error is at the end, and what we keep in memory and
// hand back to the control plane stays bounded however much pip prints.

/** Bytes set aside for the omission notice. */
const NOTICE_RESERVE = 64;

export class OutputTail {
  private chunks: Buffer[] = [];
  private kept = 0;
  private total = 0;

  constructor(private readonly capacityBytes: number) {}

  push(chunk: Buffer): void {
    this.total += chunk.length;
    this.chunks.push(chunk);
    this.kept += chunk.length;
    while (this.chunks.length > 1 && this.kept - this.chunks[0]!.length >= this.capacityBytes) {
      this.kept -= this.chunks.shift()!.length;
    }
  }

  get totalBytes(): number {
    return this.total;
  }

  /** At most `limitBytes` of UTF-8 from the end, starting on a character boundary, with a notice when cut. */
  text(limitBytes: number): string {
    const all = Buffer.concat(this.chunks);
    if (this.total <= limitBytes) return all.toString('utf8');
    const room = Math.max(0, limitBytes - NOTICE_RESERVE);
    let start = Math.max(0, all.length - room);
    // skip continuation bytes (10xxxxxx): never start inside a character
    while (start < all.length && (all[start]! & 0xc0) === 0x80) start++;
    const notice = `[${this.total - (all.length - start)} earlier bytes of output omitted]\n`;
    return notice + all.subarray(start).toString('utf8');
  }
}
