/**
 * The last problems the console lists: errors (status >= 500), rate-limit denials (429) and other
 * refusals (4xx), newest first, at most `capacity` of them in a fixed array. Only fields of the
 * access record that carry no secret and no prompt text are kept, and the client-chosen ones
 * (`model`, request id) are cut to a bounded length.
 *
 * @module
 */

import type { AccessRecord } from "../types.ts";

/** One listed problem. */
export interface RecentEvent {
  /** Sequence number (increasing): a console asks for the events after the last one it saw. */
  readonly seq: number;
  /** When it was recorded (ms since the epoch). */
  readonly t: number;
  readonly kind: "error" | "denied" | "refused";
  readonly status: number;
  /** The gateway's short error code (`rate_limit_exceeded`, `upstream_error`…). */
  readonly code?: string;
  readonly route: string;
  readonly service?: string;
  readonly model?: string;
  readonly instance?: string;
  readonly clientIp: string;
  readonly requestId: string;
  readonly retries: number;
}

/** A bounded list of recent problems. */
export interface RecentEvents {
  /** Keeps `rec` when it is a problem (not a success, not a client abort); `t` is its time. */
  record(rec: AccessRecord, t: number): void;
  /** The kept events after `seq` (all with `0`), oldest first. */
  since(seq: number): RecentEvent[];
  /** Sequence number of the newest event (0 before the first). */
  readonly last: number;
}

/** Longest `model` or request id kept: both are chosen by the client. */
export const MAX_TEXT = 128;

const cut = (
  s: string | undefined,
) => (s === undefined || s.length <= MAX_TEXT ? s : `${s.slice(0, MAX_TEXT)}…`);

/**
 * Creates the list.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRecentEvents } from "./recent.ts";
 * const recent = createRecentEvents(2);
 * const rec = { requestId: "r", clientIp: "10.0.0.1", method: "POST", route: "/v1/chat/completions", durationMs: 1, stream: false, retries: 0 };
 * recent.record({ ...rec, status: 200 }, 1);
 * recent.record({ ...rec, status: 429, error: "rate_limit_exceeded" }, 2);
 * recent.record({ ...rec, status: 502, error: "upstream_error" }, 3);
 * recent.record({ ...rec, status: 503 }, 4);
 * assert.deepEqual(recent.since(0).map((e) => e.status), [502, 503]);
 * assert.deepEqual(recent.since(2).map((e) => e.kind), ["error"]);
 * ```
 */
export function createRecentEvents(capacity = 100): RecentEvents {
  if (!Number.isInteger(capacity) || capacity < 1) {
    throw new RangeError(
      `Cannot create recent events: "capacity" must be an integer >= 1, received ${capacity}`,
    );
  }
  const ring: (RecentEvent | undefined)[] = new Array(capacity);
  let seq = 0;
  return {
    record(rec, t) {
      if (rec.status < 400 || rec.error === "client_abort") return;
      seq++;
      ring[seq % capacity] = {
        seq,
        t,
        kind: rec.status >= 500 ? "error" : rec.status === 429 ? "denied" : "refused",
        status: rec.status,
        ...(rec.error !== undefined ? { code: rec.error } : {}),
        route: rec.route,
        ...(rec.service !== undefined ? { service: rec.service } : {}),
        ...(rec.model !== undefined ? { model: cut(rec.model) } : {}),
        ...(rec.instance !== undefined ? { instance: rec.instance } : {}),
        clientIp: rec.clientIp,
        requestId: cut(rec.requestId)!,
        retries: rec.retries,
      };
    },
    since(after) {
      const out: RecentEvent[] = [];
      for (let s = Math.max(after + 1, seq - capacity + 1); s <= seq; s++) {
        const e = ring[s % capacity];
        if (e && e.seq === s) out.push(e);
      }
      return out;
    },
    get last() {
      return seq;
    },
  };
}
