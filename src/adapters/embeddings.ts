/**
 * Embeddings for backends whose native API is not OpenAI's (Ollama `/api/embed`, TEI `/embed`):
 * reading the OpenAI request, and building the OpenAI list response (OpenAI API reference,
 * "Create embeddings"), including `encoding_format: "base64"`, which the official SDKs send by
 * default and decode as little-endian float32.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { BadRequestError, UpstreamError } from "../errors.ts";

/** The parts of an OpenAI embeddings request a translating adapter needs. */
export interface EmbeddingRequest {
  /** The texts, in order (a single string becomes a one-element list). */
  readonly texts: string[];
  /** Whether the client sent one string rather than a list. */
  readonly single: boolean;
  readonly model: string;
  readonly encodingFormat: "float" | "base64";
  /** Every other field, passed on so that vendor options survive. */
  readonly rest: Record<string, unknown>;
}

/** One OpenAI embedding object. */
export interface EmbeddingObject {
  readonly object: "embedding";
  readonly index: number;
  readonly embedding: number[] | string;
}

/** The OpenAI embeddings response. */
export interface EmbeddingList {
  readonly object: "list";
  readonly data: EmbeddingObject[];
  readonly model: string;
  readonly usage: { readonly prompt_tokens: number; readonly total_tokens: number };
}

/**
 * Reads an OpenAI embeddings request. Token-id inputs (`number[]`) are refused: the native APIs
 * take text only.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readEmbeddingRequest } from "./embeddings.ts";
 * const r = readEmbeddingRequest({ model: "m", input: "hi", dimensions: 8 }, "Ollama");
 * assert(r.single && r.texts[0] === "hi" && r.rest.dimensions === 8);
 * ```
 */
export function readEmbeddingRequest(value: Record<string, unknown>, backend: string): EmbeddingRequest {
  const { input, model, encoding_format: format, ...rest } = value;
  const single = typeof input === "string";
  const list = single ? [input] : input;
  if (!Array.isArray(list) || list.length === 0 || !list.every((x) => typeof x === "string")) {
    throw new BadRequestError(
      `"input" must be a string or a non-empty array of strings: ${backend} embeds text, not token ids.`,
      "invalid_request",
      "input",
    );
  }
  if (format !== undefined && format !== "float" && format !== "base64") {
    throw new BadRequestError(
      `"encoding_format" must be "float" or "base64", received ${JSON.stringify(format)}.`,
      "invalid_request",
      "encoding_format",
    );
  }
  return {
    texts: list as string[],
    single,
    model: typeof model === "string" ? model : "",
    encodingFormat: format === "base64" ? "base64" : "float",
    rest,
  };
}

/**
 * Float vector → base64 of its little-endian float32 bytes (what the OpenAI SDKs decode).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toBase64Float32 } from "./embeddings.ts";
 * assert(toBase64Float32([1]) === "AACAPw==");
 * ```
 */
export function toBase64Float32(vector: readonly number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  for (let i = 0; i < vector.length; i++) bytes.writeFloatLE(vector[i], i * 4);
  return bytes.toString("base64");
}

/**
 * Builds the OpenAI list from native vectors. Throws `UpstreamError` when the backend's answer
 * is not a list of number vectors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toEmbeddingList } from "./embeddings.ts";
 * const out = toEmbeddingList([[0.5, 1]], { model: "m", encodingFormat: "float" }, 3);
 * assert(out.data[0].index === 0 && out.usage.prompt_tokens === 3);
 * ```
 */
export function toEmbeddingList(
  vectors: unknown,
  req: Pick<EmbeddingRequest, "model" | "encodingFormat">,
  promptTokens: number,
  model = req.model,
): EmbeddingList {
  if (!Array.isArray(vectors)) {
    throw new UpstreamError("The backend's embeddings response has no vector list.");
  }
  const data = vectors.map((v, index): EmbeddingObject => {
    if (!Array.isArray(v) || !v.every((x) => typeof x === "number")) {
      throw new UpstreamError(`The backend's embedding ${index} is not a list of numbers.`);
    }
    const embedding = req.encodingFormat === "base64" ? toBase64Float32(v) : v;
    return { object: "embedding", index, embedding };
  });
  return { object: "list", data, model, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } };
}
