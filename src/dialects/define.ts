/**
 * Building a {@linkcode Dialect} from its parts: the request translator (which throws a
 * `Refusal`), the answer translators and the error shape. `parseRequest` is the same for every
 * dialect: translate, or turn the refusal into the failure value.
 *
 * @module
 */

import { type Json, translate } from "./request_body.ts";
import type { Dialect, DialectEnv } from "./types.ts";

/** The parts of a dialect endpoint: a {@linkcode Dialect} with a throwing `read` for `parseRequest`. */
export interface DialectSpec<C extends { readonly model: string }> extends Omit<Dialect<C>, "parseRequest"> {
  /** Translates the body; throws a `Refusal` for what cannot be served. */
  readonly read: (bytes: Uint8Array, env: DialectEnv) => { body: Json; ctx: C };
}

/**
 * A dialect endpoint from its spec.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defineDialect } from "./define.ts";
 * import { refuse } from "./request_body.ts";
 * const d = defineDialect({
 *   name: "ollama", route: "/x", service: "chat", upstreamRoute: "/v1/chat/completions",
 *   contentType: "application/json", streamContentType: "application/x-ndjson",
 *   read: () => refuse("no", "f"), toResponse: (v) => v,
 *   streamTransformer: () => ({ push: () => undefined, end: () => undefined, fail: () => undefined }),
 *   errorBody: (_s, m) => ({ error: m }), native: {},
 * });
 * const out = d.parseRequest(new Uint8Array(), { clock: () => 0, randomId: () => "r" });
 * assert(!out.ok && out.param === "f");
 * ```
 */
export function defineDialect<C extends { readonly model: string }>(spec: DialectSpec<C>): Dialect<C> {
  const { read, ...parts } = spec;
  const { service, upstreamRoute } = spec;
  return {
    ...parts,
    parseRequest: (bytes, env) =>
      translate(() => {
        const { body, ctx } = read(bytes, env);
        return {
          ok: true as const,
          body,
          model: ctx.model,
          stream: body.stream === true,
          service,
          route: upstreamRoute,
          ctx,
        };
      }),
  };
}
