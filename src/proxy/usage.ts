/**
 * Token usage from the end of a response body. OpenAI puts `usage` last in a JSON answer and in
 * the final chunk of a stream (with `stream_options.include_usage`), so the body's tail — the
 * relay keeps its last 2 KiB, in as many chunks as they came — is enough: no body is parsed on
 * the hot path.
 *
 * @module
 */

// OpenAI chat's names; Ollama's native ones (its NDJSON ends with prompt_eval_count/eval_count);
// Anthropic's and OpenAI Responses' (input_tokens/output_tokens, in `message_delta` and
// `response.completed`), for answers passed through natively in those dialects.
const PROMPT = /"(?:prompt_tokens|prompt_eval_count|input_tokens)"\s*:\s*(\d+)/g;
const COMPLETION = /"(?:completion_tokens|eval_count|output_tokens)"\s*:\s*(\d+)/g;
const DECODER = new TextDecoder();

function lastMatch(re: RegExp, text: string): number | undefined {
  let value: number | undefined;
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) value = Number(m[1]);
  return value;
}

/** Tokens in and out, when the body's tail reports them. */
export interface Usage {
  readonly tokensIn?: number;
  readonly tokensOut?: number;
}

/**
 * Reads `usage` from the last chunks of a body.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { usageFromTail } from "./usage.ts";
 * const tail = [new TextEncoder().encode('{"usage":{"prompt_tokens":3,"completion_tokens":5}}')];
 * const u = usageFromTail(tail);
 * assert(u.tokensIn === 3 && u.tokensOut === 5);
 * ```
 */
export function usageFromTail(tail: readonly Uint8Array[]): Usage {
  if (tail.length === 0) return {};
  let text = "";
  for (const chunk of tail) {
    // Only the last 2 KiB of each chunk can hold the usage object.
    const start = Math.max(0, chunk.byteLength - 2048);
    text += DECODER.decode(chunk.subarray(start));
  }
  if (!text.includes("_tokens") && !text.includes("eval_count")) return {};
  return { tokensIn: lastMatch(PROMPT, text), tokensOut: lastMatch(COMPLETION, text) };
}
