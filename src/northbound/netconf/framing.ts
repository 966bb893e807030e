/**
 * NETCONF message framing over SSH (RFC 6242). A session starts with end-of-message framing
 * (`]]>]]>` after each message) and switches to chunked framing (`\n#<len>\n...\n##\n`) once both
 * hellos advertise base:1.1. The decoder is streaming: a read may carry part of a message, several
 * messages, or a multi-byte UTF-8 character cut in two; messages are decoded to text only once
 * complete. Every message is bounded: past `maxMessage` bytes the decoder fails with too-big
 * instead of buffering without end.
 */
import { YangError } from '../../errors.ts';

export type Framing = 'eom' | 'chunked';

const EOM = Buffer.from(']]>]]>');
/** Largest chunk RFC 6242 allows (4294967295); we refuse sooner through maxMessage. */
const MAX_CHUNK_DIGITS = 10;

/**
 * The bytes received and not yet cut into messages: one growing buffer (capacity doubles), so a
 * large message arriving in many small reads is copied a bounded number of times, not once per
 * read.
 */
class ByteQueue {
  private buf = Buffer.alloc(4096);
  private start = 0;
  private end = 0;

  get length(): number {
    return this.end - this.start;
  }

  append(data: Buffer): void {
    if (this.end + data.length > this.buf.length) {
      const needed = this.length + data.length;
      const next = needed > this.buf.length ? Buffer.alloc(Math.max(needed, this.buf.length * 2)) : this.buf;
      this.buf.copy(next, 0, this.start, this.end);
      this.buf = next;
      this.end -= this.start;
      this.start = 0;
    }
    data.copy(this.buf, this.end);
    this.end += data.length;
  }

  /** The queued bytes; valid until the next append. */
  view(): Buffer {
    return this.buf.subarray(this.start, this.end);
  }

  consume(n: number): void {
    this.start += n;
    if (this.start !== this.end) return;
    this.start = this.end = 0;
    // An idle session does not keep the room a large message needed.
    if (this.buf.length > 1 << 20) this.buf = Buffer.alloc(4096);
  }
}

export class FrameDecoder {
  framing: Framing = 'eom';
  private readonly queue = new ByteQueue();
  /** eom: how far the queue was already searched for the delimiter (so each byte is scanned once). */
  private scanned = 0;
  /** chunked: the complete chunks of the message being assembled (copied out of the queue). */
  private chunks: Buffer[] = [];
  private chunkedSize = 0;
  private failed = false;

  constructor(
    private readonly maxMessage: number,
    /** Called once per complete message; may switch `framing` before the next one is cut. */
    private readonly onMessage: (text: string) => void,
  ) {}

  /** Feeds bytes as they arrive. Throws a YangError (malformed-message or too-big) on bad framing. */
  push(data: Buffer): void {
    if (this.failed) return;
    this.queue.append(data);
    try {
      while (this.queue.length && (this.framing === 'eom' ? this.cutEom() : this.cutChunk()));
    } catch (e) {
      this.failed = true;
      throw e;
    }
  }

  private cutEom(): boolean {
    const b = this.queue.view();
    const from = Math.max(0, this.scanned - (EOM.length - 1));
    const at = b.indexOf(EOM, from);
    if (at < 0) {
      this.scanned = b.length;
      if (b.length > this.maxMessage + EOM.length) throw tooBig(this.maxMessage);
      return false;
    }
    if (at > this.maxMessage) throw tooBig(this.maxMessage);
    const text = b.toString('utf8', 0, at);
    this.queue.consume(at + EOM.length);
    this.scanned = 0;
    // Whitespace between messages (a client's trailing newline) is not a message.
    if (text.trim()) this.onMessage(text);
    return true;
  }

  /** Cuts one chunk or the end-of-chunks marker; false when more bytes are needed. */
  private cutChunk(): boolean {
    const b = this.queue.view();
    if (b.length < 4) return this.expectStart(b);
    if (b[0] !== 0x0a || b[1] !== 0x23) throw malformed('chunked framing: expected "\\n#"');
    if (b[2] === 0x23) {
      if (b[3] !== 0x0a) throw malformed('chunked framing: expected "\\n##\\n"');
      if (!this.chunks.length) throw malformed('chunked framing: end of message without a chunk');
      const text = Buffer.concat(this.chunks).toString('utf8');
      this.chunks = [];
      this.chunkedSize = 0;
      this.queue.consume(4);
      this.onMessage(text);
      return true;
    }
    let i = 2;
    let size = 0;
    while (i < b.length && b[i] >= 0x30 && b[i] <= 0x39) {
      if (i === 2 && b[i] === 0x30) throw malformed('chunked framing: chunk size starts with 0');
      size = size * 10 + (b[i] - 0x30);
      i++;
      if (i - 2 > MAX_CHUNK_DIGITS) throw malformed('chunked framing: chunk size too long');
    }
    if (i === b.length) return false;
    if (i === 2 || b[i] !== 0x0a) throw malformed('chunked framing: bad chunk size');
    if (this.chunkedSize + size > this.maxMessage) throw tooBig(this.maxMessage);
    if (b.length < i + 1 + size) return false;
    this.chunks.push(Buffer.from(b.subarray(i + 1, i + 1 + size)));
    this.chunkedSize += size;
    this.queue.consume(i + 1 + size);
    return true;
  }

  /** With fewer than 4 bytes, only checks that they can begin a chunk header. */
  private expectStart(b: Buffer): false {
    if (b[0] !== 0x0a || (b.length > 1 && b[1] !== 0x23)) throw malformed('chunked framing: expected "\\n#"');
    return false;
  }
}

/** Frames one outgoing message. */
export function frame(text: string, framing: Framing): Buffer {
  if (framing === 'eom') return Buffer.from(`${text}]]>]]>`);
  const body = Buffer.from(text);
  return Buffer.concat([Buffer.from(`\n#${body.length}\n`), body, Buffer.from('\n##\n')]);
}

function malformed(message: string): YangError {
  return new YangError({ tag: 'malformed-message', type: 'rpc', message });
}

function tooBig(max: number): YangError {
  return new YangError({ tag: 'too-big', type: 'transport', message: `NETCONF message larger than ${max} bytes` });
}
