/**
 * Request bodies: forwarding the client's bytes untouched, or encoding a rewritten JSON object.
 *
 * @module
 */

import type { AdapterInput, JsonBody } from "../types.ts";
import { BadRequestError } from "../errors.ts";

const encoder = new TextEncoder();

/**
 * Encodes a rewritten JSON body. Only called when a field really changed: unchanged bodies are
 * forwarded as the client's bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeJson } from "./body.ts";
 * assert(new TextDecoder().decode(encodeJson({ a: 1 })) === '{"a":1}');
 * ```
 */
export function encodeJson(value: unknown): Uint8Array<ArrayBuffer> {
  return encoder.encode(JSON.stringify(value));
}

/**
 * The body's bytes as a fetch body, without copying.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bodyBytes } from "./body.ts";
 * const bytes = new Uint8Array([123, 125]);
 * assert(bodyBytes({ kind: "json", bytes, value: {} }) === bytes);
 * ```
 */
export function bodyBytes(body: AdapterInput["body"]): BodyInit {
  // JsonBody/RawBody declare `Uint8Array` (any buffer); the dispatcher's bytes live in a plain
  // ArrayBuffer, which is what fetch accepts.
  return body.bytes as Uint8Array<ArrayBuffer>;
}

/**
 * The parsed JSON body, or a `BadRequestError` when a backend needs JSON but got multipart.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { requireJson } from "./body.ts";
 * const body = requireJson({ kind: "json", bytes: new Uint8Array(), value: { model: "m" } }, "embeddings");
 * assert(body.value.model === "m");
 * ```
 */
export function requireJson(body: AdapterInput["body"], what: string): JsonBody {
  if (body.kind !== "json") throw new BadRequestError(`The ${what} endpoint expects a JSON body.`);
  return body;
}
