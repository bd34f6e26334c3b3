/**
 * Pass-through adapter for any OpenAI-compatible server (`adapter: openai`, alias `normal`).
 * Bodies are forwarded byte for byte; only rerank answers are normalised (documents sorted by
 * score), since "OpenAI-compatible" rerank servers disagree on the shape.
 *
 * @module
 */

import type { Adapter } from "../types.ts";
import { createCompatAdapter } from "./compat.ts";
import { OPENAI_PATHS } from "./url.ts";
import { OPENAI_EXTRA_PATHS } from "./extra_routes.ts";

/** Probe path: listing models spends no tokens (OpenAI API reference, "List models"). */
export const OPENAI_PROBE_PATH = "/v1/models";

/**
 * The OpenAI pass-through adapter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openaiAdapter } from "./openai.ts";
 * import { HeaderList } from "../header_list.ts";
 * const bytes = new TextEncoder().encode('{"model":"m","messages":[]}');
 * const call = openaiAdapter.prepare({
 *   service: "chat", route: "/v1/chat/completions", stream: false, headers: new HeaderList(),
 *   target: { baseUrl: "http://127.0.0.1:8000/", apiKey: "sk-1", headers: {} },
 *   body: { kind: "json", bytes, value: { model: "m", messages: [] } },
 * });
 * assert(call.url === "http://127.0.0.1:8000/v1/chat/completions");
 * assert(call.body === bytes && call.headers.get("authorization") === "Bearer sk-1");
 * ```
 */
export const openaiAdapter: Adapter = createCompatAdapter({
  name: "openai",
  acceptsStreamOptions: true,
  label: "OpenAI-compatible",
  paths: OPENAI_PATHS,
  completionsPath: "/v1/completions",
  probePath: OPENAI_PROBE_PATH,
  // Any OpenAI-compatible server: the extra endpoints go to their OpenAI paths too.
  extraPaths: OPENAI_EXTRA_PATHS,
});
