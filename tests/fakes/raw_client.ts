/**
 * A raw HTTP/1.1 client over a real TCP connection, for tests of slow and half-sent requests: it
 * writes exactly what it is told (a head, part of a body, nothing at all) and collects what comes
 * back, noting when the server closes the connection.
 *
 * @module
 */

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A raw HTTP/1.1 client that writes what it is told and collects what comes back. */
export class RawClient {
  #conn: Deno.Conn;
  #received = "";
  readonly closed: Promise<number>;
  readonly #t0 = performance.now();

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
    this.closed = this.#pump();
  }

  static async open(url: string): Promise<RawClient> {
    const { hostname, port } = new URL(url);
    return new RawClient(await Deno.connect({ hostname, port: Number(port) }));
  }

  async #pump(): Promise<number> {
    const buf = new Uint8Array(16 * 1024);
    try {
      for (;;) {
        const n = await this.#conn.read(buf);
        if (n === null) break;
        this.#received += dec.decode(buf.subarray(0, n));
      }
    } catch { /* reset by the server: closed too */ }
    this.#closedYet = true;
    return performance.now() - this.#t0;
  }

  /** Resolves with the ms since opening once a response head arrived (or the connection closed). */
  async answered(timeoutMs = 5000): Promise<number> {
    const until = performance.now() + timeoutMs;
    while (!this.#received.includes("\r\n\r\n") && !this.#closedYet) {
      if (performance.now() > until) throw new Error(`no answer within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return performance.now() - this.#t0;
  }

  #closedYet = false;

  /** The status line's code, once a response head arrived. */
  get status(): number | undefined {
    const m = /^HTTP\/1\.1 (\d{3})/.exec(this.#received);
    return m ? Number(m[1]) : undefined;
  }

  get received(): string {
    return this.#received;
  }

  async write(text: string | Uint8Array): Promise<void> {
    await this.#conn.write(typeof text === "string" ? enc.encode(text) : text);
  }

  close(): void {
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }
}
