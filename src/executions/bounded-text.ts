// Output as the control plane can store it: UTF-8 (invalid bytes replaced), at most `limit`
// bytes, cut on a character boundary, with a notice saying how much was cut.

export interface BoundedText {
  text: string;
  truncated: boolean;
  totalBytes: number;
}

export function boundedUtf8(head: Buffer, totalBytes: number, limit: number): BoundedText {
  const decoded = new TextDecoder('utf-8', { fatal: false }).decode(head);
  let text = decoded;
  let truncated = totalBytes > head.length;
  if (Buffer.byteLength(text, 'utf8') > limit || truncated) {
    const notice = `\n[output truncated: ${totalBytes} bytes in total, first bytes kept]\n`;
    const room = Math.max(0, limit - Buffer.byteLength(notice, 'utf8'));
    text = cutAtCharacter(decoded, room) + notice;
    truncated = true;
  }
  return { text, truncated, totalBytes };
}

/** The longest prefix of `text` whose UTF-8 encoding fits in `bytes`, never splitting a character. */
export function cutAtCharacter(text: string, bytes: number): string {
  const encoded = Buffer.from(text, 'utf8');
  if (encoded.length <= bytes) return text;
  let end = bytes;
  // back up over continuation bytes (10xxxxxx) to the start of the character we would split
  while (end > 0 && (encoded[end]! & 0xc0) === 0x80) end--;
  return encoded.subarray(0, end).toString('utf8');
}
