/**
 * Validating request bodies: JSON or multipart by endpoint, and the `model` / `stream` fields
 * that drive routing. The bytes come from a {@linkcode BodyReader} (`readGuarded` in
 * `body_guard.ts`, which bounds them by `server.body-limit` and the body timeouts).
 *
 * @module
 */

import { BadRequestError, UnsupportedMediaTypeError } from "../errors.ts";
import type { JsonBody, RawBody } from "../types.ts";
import { hasDuplicateKey } from "./duplicate_key.ts";

/** Which body shapes an endpoint takes. */
export type BodyKind = "json" | "multipart" | "json-or-multipart";

/** A parsed body plus the routing fields read from it. */
export interface ParsedBody {
  readonly body: JsonBody | RawBody;
  readonly model: string;
  readonly stream: boolean;
}

const DECODER = new TextDecoder();

function requireModel(model: unknown): string {
  if (model === undefined || model === null || model === "") {
    throw new BadRequestError("You must provide a model parameter.", "missing_model", "model");
  }
  if (typeof model !== "string") {
    throw new BadRequestError("The model parameter must be a string.", "invalid_model", "model");
  }
  return model;
}

/** 400 for a body that names `model` twice (a backend might read the other one). */
export function duplicateModel(): BadRequestError {
  return new BadRequestError(
    "The request body names the model parameter more than once; send it exactly once.",
    "duplicate_model",
    "model",
  );
}

/** Parses a JSON body: an object with a string `model`, named once. */
export function parseJsonBody(bytes: Uint8Array): ParsedBody {
  let value: unknown;
  const text = DECODER.decode(bytes);
  try {
    value = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new BadRequestError(
      `We could not parse the JSON body of your request (${detail}).`,
      "invalid_json",
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new BadRequestError("The request body must be a JSON object.", "invalid_json");
  }
  const obj = value as Record<string, unknown>;
  // The original bytes go upstream: they must not name another model than the one authorised.
  if (hasDuplicateKey(text, "model")) throw duplicateModel();
  return {
    body: { kind: "json", bytes, value: obj },
    model: requireModel(obj.model),
    stream: streamFlag(obj.stream),
  };
}

/**
 * The `stream` field: `true` or not. Anything but a boolean (or null) is refused: a backend that
 * coerces `"yes"` to true would stream an answer the gateway relays, counts and logs as a whole one.
 */
function streamFlag(value: unknown): boolean {
  if (value === undefined || value === null || typeof value === "boolean") return value === true;
  throw new BadRequestError(
    `Invalid type for 'stream': expected a boolean, but got ${
      Array.isArray(value) ? "an array" : `a ${typeof value}`
    } instead.`,
    "invalid_type",
    "stream",
  );
}

/**
 * Parses a multipart body only to validate it and read `model`; the original bytes are what is
 * forwarded.
 */
export async function parseMultipartBody(bytes: Uint8Array, contentType: string): Promise<ParsedBody> {
  // Deno's parser forgives a missing close delimiter (RFC 2046 §5.1.1); a truncated upload must
  // not reach a model server as if it were whole.
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (boundary) {
    const close = `--${boundary}--`;
    const tail = DECODER.decode(bytes.subarray(Math.max(0, bytes.byteLength - close.length - 64)));
    if (!tail.includes(close)) {
      throw new BadRequestError(
        "The multipart/form-data body is truncated: its closing boundary is missing.",
        "invalid_multipart",
      );
    }
  }
  let form: FormData;
  try {
    // The buffer is already bounded; parsing a view of it adds at most one more copy.
    form = await new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { "content-type": contentType } })
      .formData();
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new BadRequestError(
      `The multipart/form-data body could not be parsed (${detail}).`,
      "invalid_multipart",
    );
  }
  const models = form.getAll("model");
  if (models.length > 1) throw duplicateModel();
  const model = models[0] ?? null;
  if (model !== null && typeof model !== "string") {
    throw new BadRequestError("The model field must be a text field.", "invalid_model", "model");
  }
  return {
    body: { kind: "raw", bytes, contentType },
    model: requireModel(model ?? undefined),
    stream: form.get("stream") === "true",
  };
}

/** Reads a whole request body (bounded, see `body_guard.ts`). */
export type BodyReader = (req: Request) => Promise<Uint8Array>;

/** Checks the content type against the endpoint, reads (with `read`) and parses the body. */
export async function readRequestBody(req: Request, kind: BodyKind, read: BodyReader): Promise<ParsedBody> {
  const contentType = req.headers.get("content-type") ?? "";
  // The usual value as is; anything else (parameters, case, spaces) normalised.
  const media = contentType === "application/json"
    ? contentType
    : contentType.split(";", 1)[0].trim().toLowerCase();
  const isJson = media === "application/json" || media.endsWith("+json");
  const isMultipart = media === "multipart/form-data";
  if (kind === "json" && !isJson) {
    throw new UnsupportedMediaTypeError(
      `This endpoint expects Content-Type: application/json, received "${contentType || "none"}".`,
    );
  }
  if (kind === "multipart" && !isMultipart) {
    throw new UnsupportedMediaTypeError(
      `This endpoint expects Content-Type: multipart/form-data, received "${contentType || "none"}".`,
    );
  }
  if (kind === "json-or-multipart" && !isJson && !isMultipart) {
    throw new UnsupportedMediaTypeError(
      `This endpoint expects multipart/form-data or application/json, received "${contentType || "none"}".`,
    );
  }
  const bytes = await read(req);
  return isMultipart ? await parseMultipartBody(bytes, contentType) : parseJsonBody(bytes);
}
