/**
 * Client dialects: pure translators from what a client speaks to the OpenAI shape the gateway
 * governs, and back — the mirror of `adapters/`. A static registry keyed by `METHOD path`, so the
 * HTTP layer can mount every dialect route from one table.
 *
 * The request path (`http/dialect_routes.ts`, `proxy/dialect_call.ts`) wires a route as:
 * `parseRequest(bytes, env)` → on failure answer `errorBody(status, message, param)` with
 * `contentType`; otherwise dispatch `body` as an OpenAI request of `service` on `route`
 * (governance, limits, failover unchanged); answer JSON with `toResponse(json, ctx)`, a stream
 * through a fresh `streamTransformer(ctx)` announced as `streamContentType`, and every error
 * (gateway or upstream) as `errorBody(status, message)`.
 * `count_tokens`, `/api/tags` and `/api/ps` are answered locally ({@linkcode countTokens},
 * {@linkcode ollamaTags}, {@linkcode ollamaPs}).
 *
 * @module
 */

import { anthropicDialect } from "./anthropic.ts";
import { ollamaChatDialect, ollamaEmbedDialect, ollamaGenerateDialect } from "./ollama.ts";
import { responsesDialect } from "./responses.ts";
import type { Dialect } from "./types.ts";

export { anthropicDialect, countTokens, estimateInputTokens } from "./anthropic.ts";
export {
  ollamaChatDialect,
  ollamaEmbedDialect,
  ollamaGenerateDialect,
  ollamaPs,
  ollamaTags,
} from "./ollama.ts";
export type { ListedModel } from "./ollama.ts";
export { DIALECT_NAMES } from "./types.ts";
export { nativeAdapters } from "./native.ts";
export { NDJSON_CONTENT_TYPE } from "./ollama.ts";
export { responsesDialect } from "./responses.ts";
export { createSseTranslator, translatorStream } from "./sse_reader.ts";
export type {
  Dialect,
  DialectEnv,
  DialectFailure,
  DialectName,
  DialectRequest,
  NativeEndpoint,
  StreamTranslator,
} from "./types.ts";

/** Every dialect endpoint that is translated and dispatched, by `POST <route>`. */
export const DIALECTS: Readonly<Record<string, Dialect>> = Object.freeze(
  Object.fromEntries(
    ([
      anthropicDialect,
      responsesDialect,
      ollamaChatDialect,
      ollamaGenerateDialect,
      ollamaEmbedDialect,
    ] as Dialect[])
      .map((d) => [`POST ${d.route}`, d]),
  ),
);

/**
 * The dialect endpoint for a method and path, or `undefined`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getDialect } from "./mod.ts";
 * assert.equal(getDialect("POST", "/v1/messages")?.name, "anthropic");
 * assert.equal(getDialect("POST", "/api/embed")?.service, "embedding");
 * assert.equal(getDialect("GET", "/v1/messages"), undefined);
 * ```
 */
export function getDialect(method: string, path: string): Dialect | undefined {
  const key = `${method} ${path}`;
  return Object.hasOwn(DIALECTS, key) ? DIALECTS[key] : undefined;
}
