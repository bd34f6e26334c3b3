/**
 * Test fixtures of the observability modules: one access record with every field a test does not
 * care about filled in.
 *
 * @module
 */

import type { AccessRecord } from "../types.ts";

/** A 200 chat request to `chat/qwen#0`, 300 ms, not streamed; `over` sets what a test cares about. */
export function accessRecord(over: Partial<AccessRecord> = {}): AccessRecord {
  return {
    requestId: "r",
    clientIp: "127.0.0.1",
    method: "POST",
    route: "/v1/chat/completions",
    service: "chat",
    model: "qwen",
    instance: "chat/qwen#0",
    status: 200,
    durationMs: 300,
    stream: false,
    retries: 0,
    ...over,
  };
}
