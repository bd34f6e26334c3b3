/**
 * Audio `response_format` checks. The formats pass through untouched; a backend that cannot
 * produce one is told by a clear 400 instead of an opaque upstream failure.
 *
 * @module
 */

import type { AdapterInput } from "../types.ts";
import { BadRequestError } from "../errors.ts";
import { formField } from "./multipart.ts";

/** Everything OpenAI's `/v1/audio/speech` accepts (OpenAI API reference). */
export const OPENAI_TTS_FORMATS: readonly string[] = ["mp3", "opus", "aac", "flac", "wav", "pcm"];

/** Formats already read from multipart bodies (the dispatcher hands each body over once). */
const scanned = new WeakMap<object, string | undefined>();

/**
 * The `response_format` the client asked for: the JSON field (speech) or the form field
 * (transcription); `undefined` when the client left the backend's default.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { requestedFormat } from "./audio.ts";
 * const body = { kind: "json" as const, bytes: new Uint8Array(), value: { response_format: "wav" } };
 * assert(requestedFormat(body) === "wav");
 * ```
 */
export function requestedFormat(body: AdapterInput["body"]): string | undefined {
  if (body.kind === "json") {
    const f = body.value.response_format;
    return typeof f === "string" ? f : undefined;
  }
  // Scanning a large upload costs ~0.6 ms/MB; the check and a hook may both ask.
  if (scanned.has(body)) return scanned.get(body);
  const format = formField(body.bytes, body.contentType, "response_format");
  scanned.set(body, format);
  return format;
}

/**
 * Throws `BadRequestError` when the requested format is not in `supported`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkAudioFormat } from "./audio.ts";
 * const body = (format: string) => ({ kind: "json" as const, bytes: new Uint8Array(), value: { response_format: format } });
 * assert.doesNotThrow(() => checkAudioFormat(body("mp3"), ["mp3", "wav"], "vox-box speech"));
 * assert.throws(() => checkAudioFormat(body("flac"), ["mp3", "wav"], "vox-box speech"), /"flac" is not supported/);
 * ```
 */
export function checkAudioFormat(
  body: AdapterInput["body"],
  supported: readonly string[],
  what: string,
): void {
  const format = requestedFormat(body);
  if (format === undefined || supported.includes(format)) return;
  throw new BadRequestError(
    `response_format "${format}" is not supported by ${what}; use one of: ${supported.join(", ")}.`,
    "unsupported_response_format",
    "response_format",
  );
}
