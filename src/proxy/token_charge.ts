/**
 * How much a request's token charge is corrected once an attempt has ended (limits with
 * `unit: tokens` reserve the estimate before the call, see `token_estimate.ts`):
 *
 * - the answer reported `usage` (JSON body, or the last event of a stream): actual − estimated;
 * - nothing reported, but the answer arrived whole: 0 (the estimate stands);
 * - the attempt broke after its answer began (committed, then failed or cut): 0 — the engine
 *   produced tokens nobody counted, and the estimate is the best guess;
 * - no answer was produced (failed before commit, refused with a 4xx, never sent): −estimated,
 *   a refund.
 *
 * @module
 */

import type { Decision } from "../types.ts";
import { isDenial } from "./access.ts";
import type { Admission, DEFERRED, ScopeDecider } from "./request.ts";
import type { Usage } from "./usage.ts";

/** What the correction reads of an attempt. */
export interface ChargedAttempt {
  readonly outcome: "success" | "failure" | "ignored" | "abort";
  /** The attempt's answer went to the client. */
  readonly committed: boolean;
}

/**
 * The correction (tokens to take, > 0, or give back, < 0) for an attempt that reserved
 * `estimate` tokens; see the module doc.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tokenDelta } from "./token_charge.ts";
 * const ok = { outcome: "success" as const, committed: true };
 * assert.equal(tokenDelta(ok, 300, { tokensIn: 120, tokensOut: 40 }), -140);
 * assert.equal(tokenDelta(ok, 300, {}), 0);
 * assert.equal(tokenDelta({ outcome: "failure", committed: false }, 300, {}), -300);
 * ```
 */
export function tokenDelta(a: ChargedAttempt, estimate: number, usage: Usage): number {
  if (usage.tokensIn !== undefined || usage.tokensOut !== undefined) {
    return (usage.tokensIn ?? 0) + (usage.tokensOut ?? 0) - estimate;
  }
  if (a.outcome === "success") return 0;
  if (a.committed && a.outcome !== "ignored") return 0;
  return -estimate;
}

/**
 * Corrects the request-level token charge once, when the request ends: by `delta` (from
 * {@linkcode tokenDelta} of the attempt that answered), or — `undefined`, no attempt answered —
 * a refund of the whole `estimate`. Nothing for a denial or an admission nothing limited; a
 * decider's failure is its own to log, never the client's.
 */
export function correctAdmission(
  decider: ScopeDecider,
  admission: Admission | Decision | typeof DEFERRED,
  delta: number | undefined,
  estimate: number,
): void {
  if (admission === undefined || typeof admission === "symbol" || isDenial(admission)) return;
  const d = delta ?? -estimate;
  if (d === 0 || decider.correct === undefined) return;
  const done = decider.correct(admission, d);
  if (done instanceof Promise) done.catch(() => {});
}
