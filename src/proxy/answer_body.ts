/**
 * How an attempt's committed answer is shaped once the upstream said yes: a stream relayed chunk
 * by chunk (the usage stripper and the client's rewrite inside the relay, or an adapter's mapper
 * and what follows it), or a whole JSON answer rewritten by the adapter and the client's
 * {@linkcode Reply}. Pure shaping: the {@linkcode Attempt} keeps the deadlines and the settlement.
 *
 * @module
 */

import type { HeaderList } from "../header_list.ts";
import type { StreamMapper, UpstreamCall } from "../types.ts";
import type { ChunkReader } from "./chunk_reader.ts";
import { HeldEnd, mappedBody } from "./mapped_body.ts";
import type { Reply, StreamRewrite } from "./reply.ts";
import { chainFilters, type ChunkFilter, usageStripper } from "./stream_usage.ts";
import {
  type BodyObserver,
  ndjsonErrorLine,
  sseErrorEvent,
  streamFailure,
  trackBody,
} from "./tracked_body.ts";

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();
const NOTHING = new Uint8Array(0);

/** What a relayed stream is made of. */
export interface RelayPlan {
  /** The first chunk, already read (the attempt reads one before committing). */
  readonly first: Uint8Array;
  /** The adapter's rewrite of the upstream's stream format (e.g. Ollama NDJSON → SSE). */
  readonly mapStream?: StreamMapper;
  /** The client's rewrite of the (OpenAI) stream: its dialect, the model's public name. */
  readonly rewrite?: StreamRewrite;
  /** Remove the usage-only event the gateway asked for (the client did not). */
  readonly strip: boolean;
  /** The stream is SSE: a broken upstream ends it with the SSE error event. */
  readonly sse: boolean;
  /** The stream is NDJSON (relayed as it came): a broken upstream ends it with an error line. */
  readonly ndjson?: boolean;
  /** Why the upstream body failed, once it ended (a mapped stream says it after the mapper). */
  readonly failure: () => unknown;
}

/**
 * The client's body for a stream: one relay (`trackBody`) that tells `observer` how it went, with
 * the usage stripper and the rewrite inline; behind an adapter's mapper, each is one more hop
 * after it, and the error event comes last, in the client's format.
 */
export function relayBody(
  reader: ChunkReader,
  observer: BodyObserver,
  plan: RelayPlan,
): ReadableStream<Uint8Array> {
  const { rewrite, strip } = plan;
  const errorEvent = rewrite?.fail
    ? failEvent(rewrite)
    : plan.sse
    ? sseErrorEvent
    : plan.ndjson
    ? ndjsonErrorLine
    : undefined;
  if (plan.mapStream === undefined) {
    return trackBody(reader, observer, {
      first: plan.first,
      errorEvent,
      filter: inline(strip ? usageStripper() : undefined, rewrite),
    });
  }
  // The error event after the mapper (`mapped_body.ts`): before it, the mapper would read the
  // event as a line of the upstream's format. The upstream's success is held until the mapped
  // stream ends: a mapper that fails when it flushes then fails the attempt.
  const held = new HeldEnd(observer);
  const body = trackBody(reader, held, { first: plan.first, closeOnError: true });
  return mappedBody(body, plan.mapStream(), {
    strip,
    rewrite,
    errorEvent: errorEvent!,
    failure: plan.failure,
    held,
  });
}

/**
 * A whole successful JSON answer as the client gets it: rewritten by the adapter's `mapJson`,
 * then by the `reply`, with the content type each announces set on `headers`. Throws for an
 * answer that cannot be read (the attempt then fails).
 */
export function wholeAnswer(
  bytes: Uint8Array,
  call: UpstreamCall,
  reply: Reply | undefined,
  headers: HeaderList,
): Uint8Array {
  let out = bytes;
  if (call.mapJson) {
    out = ENCODER.encode(JSON.stringify(call.mapJson(JSON.parse(DECODER.decode(bytes)))));
    headers.set("content-type", "application/json");
  }
  if (reply) {
    out = reply.json(out);
    if (reply.jsonType) headers.set("content-type", reply.jsonType);
  }
  return out;
}

/** The relay's filter: the usage stripper, the answer's rewrite, both, or none. */
function inline(strip: ChunkFilter | undefined, rewrite: ChunkFilter | undefined): ChunkFilter | undefined {
  if (strip === undefined) return rewrite;
  return rewrite === undefined ? strip : chainFilters(strip, rewrite);
}

/** A stream rewrite's own last words when the upstream breaks (a dialect's error event). */
function failEvent(rewrite: StreamRewrite): (error: unknown) => Uint8Array {
  return (error) => rewrite.fail!(streamFailure(error)) ?? NOTHING;
}
