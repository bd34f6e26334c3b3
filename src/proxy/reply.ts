/**
 * How a successful answer is rewritten on its way to the client: the interface a client dialect's
 * translation and the model-name rename (`model_rename.ts`) implement, and the relay and the
 * whole-answer path (`answer_body.ts`) run.
 *
 * @module
 */

import type { ChunkFilter } from "./stream_usage.ts";

/**
 * How an attempt's successful answer is rewritten on its way to the client, when it must be: a
 * client dialect's translation, or the model's public name put back. Absent, bytes pass as they
 * came. Error answers are not rewritten here (the route shapes them).
 */
export interface Reply {
  /** Read a JSON answer whole even when its length was not declared (it is rewritten as a whole). */
  readonly whole: boolean;
  /** Rewrites a whole successful JSON answer; throws for one it cannot read (the attempt fails, 502). */
  json(bytes: Uint8Array): Uint8Array;
  /** Content type of a rewritten JSON answer (absent: the upstream's). */
  readonly jsonType?: string;
  /** A fresh rewrite of a successful stream of `contentType`; `undefined` passes it as it is. */
  stream(contentType: string): StreamRewrite | undefined;
  /** Content type of a rewritten stream (absent: the upstream's). */
  readonly streamType?: string;
  /**
   * The shape the client asked for, when only that one can be rewritten (a dialect translates a
   * stream into its stream, a whole answer into its whole answer): an answer in the other shape
   * fails the attempt instead of reaching the client unreadable. Absent: any shape passes.
   */
  readonly shape?: "whole" | "stream";
}

/** A chunk-by-chunk stream rewrite, run inside the relay like any {@linkcode ChunkFilter}. */
export interface StreamRewrite extends ChunkFilter {
  /** The upstream broke: the client's last bytes (its dialect's error event); absent: the SSE error event. */
  fail?(message: string): Uint8Array | undefined;
}
