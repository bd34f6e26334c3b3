/**
 * The gateway-wide count of request-body bytes being received, against
 * `server.max-pending-body-bytes` (see `body_guard.ts`, which reserves and releases).
 *
 * @module
 */

/**
 * The gateway-wide count of request-body bytes being received.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PendingBodies } from "./pending_bodies.ts";
 * const pending = new PendingBodies();
 * assert.equal(pending.tryReserve(600, 1000), true);
 * assert.equal(pending.tryReserve(600, 1000), false); // would pass the cap: nothing reserved
 * pending.release(600);
 * assert.equal(pending.bytes, 0);
 * ```
 */
export class PendingBodies {
  #bytes = 0;
  #reads = 0;

  /** Bytes reserved now. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Bodies being received now (a chunked one may have reserved nothing yet): while one is, the
   * listener is not renewed for `header-timeout`, whose shutdown of the old server would cut it.
   */
  get reads(): number {
    return this.#reads;
  }

  /** A body read began (`body_guard.ts`; ended exactly once by {@linkcode PendingBodies.readEnded}). */
  readStarted(): void {
    this.#reads++;
  }

  /** A body read is over: complete, failed, timed out, or drained. */
  readEnded(): void {
    this.#reads--;
  }

  /** Reserves `n` bytes unless that would pass `cap` (the cap of the current config). */
  tryReserve(n: number, cap: number): boolean {
    if (this.#bytes + n > cap) return false;
    this.#bytes += n;
    return true;
  }

  /** Gives back `n` reserved bytes. */
  release(n: number): void {
    this.#bytes -= n;
  }
}
