/**
 * A raw TCP upstream that breaks its answers off mid-body, which a `Deno.serve` fake cannot do
 * reliably (it decides itself what it flushes before an erroring body closes the connection).
 * Each request is answered `200` with the start of a body, then the socket is closed before the
 * body's end: a chunked body without its terminating chunk, or fewer bytes than the declared
 * `content-length`. The close comes when the test calls {@linkcode CutUpstream.cut}, or at once
 * after the start was written ({@linkcode CutAnswer.cutAtOnce}).
 *
 * @module
 */

const ENC = new TextEncoder();
const DEC = new TextDecoder();

/** How one request is answered. */
export interface CutAnswer {
  /** The `content-type`. */
  readonly type: string;
  /** What is sent of the body before the cut (one chunk when chunked). */
  readonly body: string;
  /** A declared `content-length` (more bytes than `body`) instead of a chunked body. */
  readonly length?: number;
  /** Closes the socket as soon as `body` is written, without waiting for `cut()`. */
  readonly cutAtOnce?: boolean;
}

/** A running cut upstream. */
export interface CutUpstream {
  readonly url: string;
  /** Paths of the requests received. */
  readonly paths: string[];
  /** Closes every open connection, mid-body. */
  cut(): void;
  close(): Promise<void>;
}

function indexOfHeadEnd(bytes: Uint8Array): number {
  for (let i = 3; i < bytes.length; i++) {
    if (bytes[i - 3] === 13 && bytes[i - 2] === 10 && bytes[i - 1] === 13 && bytes[i] === 10) return i + 1;
  }
  return -1;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
}

/** Reads one request (head and `content-length` body); returns its path. */
async function readRequest(conn: Deno.Conn): Promise<string> {
  let buf = new Uint8Array(0);
  const more = async () => {
    const b = new Uint8Array(16 * 1024);
    const n = await conn.read(b);
    if (n === null) throw new Error("request cut short");
    const next = new Uint8Array(buf.length + n);
    next.set(buf);
    next.set(b.subarray(0, n), buf.length);
    buf = next;
  };
  let end = indexOfHeadEnd(buf);
  while (end < 0) await more(), end = indexOfHeadEnd(buf);
  const head = DEC.decode(buf.subarray(0, end));
  const length = Number(/^content-length:\s*(\d+)/im.exec(head)?.[1] ?? 0);
  while (buf.length < end + length) await more();
  return head.split(" ")[1];
}

/** The bytes of `answer`: its head and the start of its body. */
function encode({ type, body, length }: CutAnswer): Uint8Array {
  const bytes = ENC.encode(body);
  if (length !== undefined) {
    if (length <= bytes.length) throw new RangeError(`a cut answer declares more than it sends: ${length}`);
    return ENC.encode(`HTTP/1.1 200 OK\r\ncontent-type: ${type}\r\ncontent-length: ${length}\r\n\r\n${body}`);
  }
  return ENC.encode(
    `HTTP/1.1 200 OK\r\ncontent-type: ${type}\r\ntransfer-encoding: chunked\r\n\r\n` +
      `${bytes.length.toString(16)}\r\n${body}\r\n`,
  );
}

/** Starts a cut upstream on 127.0.0.1 that answers each request as `first(path)` says. */
export function startCutUpstream(first: (path: string) => CutAnswer): CutUpstream {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const paths: string[] = [];
  const open = new Set<Deno.Conn>();
  const waiting = new Set<() => void>();
  const cut = () => {
    for (const release of waiting) release();
    waiting.clear();
  };
  const serve = async (conn: Deno.Conn) => {
    try {
      const path = await readRequest(conn);
      paths.push(path);
      const answer = first(path);
      await writeAll(conn, encode(answer));
      if (!answer.cutAtOnce) await new Promise<void>((r) => waiting.add(r));
    } catch {
      // the gateway went away first
    } finally {
      if (open.delete(conn)) conn.close();
    }
  };
  const accepting = (async () => {
    for await (const conn of listener) {
      open.add(conn);
      serve(conn);
    }
  })().catch(() => {});
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    paths,
    cut,
    async close() {
      listener.close();
      await accepting;
      for (const conn of open) conn.close();
      open.clear();
      cut();
    },
  };
}
