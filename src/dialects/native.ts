/**
 * Backends that serve a client dialect themselves, so the request path may forward such a request to them
 * untranslated (a capability, like envoy ai-gateway's optional translator interfaces). Keyed by
 * adapter name; each entry was confirmed in the backend's own source, named in `since`.
 * An instance uses them only when its `native-dialects` says so (`config/catalogue.ts` checks the
 * adapter against these lists): it may run an older release than the one named.
 *
 * @module
 */

import type { DialectName, NativeEndpoint } from "./types.ts";

/** Backends with Anthropic's `POST /v1/messages` (and `/v1/messages/count_tokens`). */
export const NATIVE_ANTHROPIC: Readonly<Record<string, NativeEndpoint>> = Object.freeze({
  vllm: {
    path: "/v1/messages",
    since: "vllm/entrypoints/anthropic/api_router.py (PR #22627, 2025); count_tokens beside it",
  },
  ollama: { path: "/v1/messages", since: "server/routes.go, Ollama v0.14.0 (commit 2b2cda7a2)" },
  llamacpp: { path: "/v1/messages", since: "tools/server/server.cpp (post_anthropic_messages)" },
});

/** Backends with OpenAI's `POST /v1/responses`. */
export const NATIVE_RESPONSES: Readonly<Record<string, NativeEndpoint>> = Object.freeze({
  vllm: { path: "/v1/responses", since: "vllm/entrypoints/openai/responses/api_router.py (PR #20504, 2025)" },
  ollama: { path: "/v1/responses", since: "server/routes.go, Ollama v0.13.3 (commit 1eb5e7597)" },
  llamacpp: { path: "/v1/responses", since: "tools/server/server.cpp (post_responses_oai)" },
});

/** Ollama itself serves its native API; `path` is the endpoint's own route. */
export function nativeOllama(path: string): Readonly<Record<string, NativeEndpoint>> {
  return Object.freeze({ ollama: { path, since: "server/routes.go (every Ollama release)" } });
}

/**
 * The adapters whose backends serve every endpoint of dialect `name` natively (what an instance
 * may list in `native-dialects`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nativeAdapters } from "./native.ts";
 * assert.deepEqual(nativeAdapters("ollama"), ["ollama"]);
 * assert(nativeAdapters("anthropic").includes("vllm"));
 * ```
 */
export function nativeAdapters(name: DialectName): readonly string[] {
  switch (name) {
    case "anthropic":
      return Object.keys(NATIVE_ANTHROPIC);
    case "responses":
      return Object.keys(NATIVE_RESPONSES);
    case "ollama":
      return ["ollama"];
  }
}
