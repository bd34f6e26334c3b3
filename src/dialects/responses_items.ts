/**
 * OpenAI Responses `input` → chat `messages` (OpenAI API reference, "Create a model response",
 * input item list): message items with `input_text` / `input_image` / `output_text` parts,
 * `function_call` items joined into the assistant's `tool_calls`, `function_call_output` items as
 * `tool` messages. `developer` becomes `system`, which every chat backend knows. Reasoning items
 * are left out: chat backends take no reasoning input.
 *
 * @module
 */

import { isRecord, type Json, refuse } from "./request_body.ts";

function where(i: number): string {
  return `input[${i}]`;
}

function imagePart(part: Json, at: string): Json {
  if (typeof part.image_url !== "string") {
    refuse(
      `${at}: input_image needs an "image_url" (a URL or data: URL); file_id needs stored files.`,
      "input",
    );
  }
  const image: Json = { url: part.image_url };
  if (typeof part.detail === "string") image.detail = part.detail;
  return { type: "image_url", image_url: image };
}

/** Message content → chat content (a string when it is only text). */
function content(value: unknown, at: string, images: boolean): string | Json[] {
  if (typeof value === "string") return value;
  if (!Array.isArray(value)) refuse(`${at}.content must be a string or an array of parts.`, "input");
  const parts: Json[] = [];
  let onlyText = true;
  value.forEach((part, j) => {
    const p = `${at}.content[${j}]`;
    if (!isRecord(part)) refuse(`${p} must be an object.`, "input");
    const t = part.type;
    if ((t === "input_text" || t === "output_text") && typeof part.text === "string") {
      parts.push({ type: "text", text: part.text });
    } else if (t === "refusal" && typeof part.refusal === "string") {
      parts.push({ type: "text", text: part.refusal });
    } else if (t === "input_image" && images) {
      parts.push(imagePart(part, p));
      onlyText = false;
    } else refuse(`${p}: content parts of type ${JSON.stringify(t)} are not supported here.`, "input");
  });
  return onlyText ? parts.map((p) => p.text as string).join("") : parts;
}

const ROLES: Readonly<Record<string, string>> = {
  user: "user",
  assistant: "assistant",
  system: "system",
  developer: "system",
};

function functionCall(item: Json, at: string): Json {
  if (
    typeof item.call_id !== "string" || typeof item.name !== "string" || typeof item.arguments !== "string"
  ) {
    refuse(`${at}: a function_call needs "call_id", "name" and "arguments" (a JSON string).`, "input");
  }
  return { id: item.call_id, type: "function", function: { name: item.name, arguments: item.arguments } };
}

function functionOutput(item: Json, at: string): Json {
  if (typeof item.call_id !== "string") refuse(`${at}: a function_call_output needs "call_id".`, "input");
  const output = item.output;
  const text = typeof output === "string" ? output : content(output, at, false);
  return { role: "tool", tool_call_id: item.call_id, content: text };
}

/** The last message, when it is an assistant message that tool calls may join. */
function openAssistant(out: Json[]): Json | undefined {
  const last = out[out.length - 1];
  return last !== undefined && last.role === "assistant" ? last : undefined;
}

/**
 * Appends the chat form of `input` to `out` and returns it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { responsesInput } from "./responses_items.ts";
 * const out = responsesInput([
 *   { role: "user", content: [{ type: "input_text", text: "hi" }] },
 *   { type: "function_call", call_id: "c1", name: "f", arguments: "{}" },
 *   { type: "function_call_output", call_id: "c1", output: "42" },
 * ], []);
 * assert.deepEqual(out[1], { role: "assistant", content: null,
 *   tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" } }] });
 * assert.deepEqual(out[2], { role: "tool", tool_call_id: "c1", content: "42" });
 * ```
 */
export function responsesInput(input: unknown, out: Json[]): Json[] {
  if (typeof input === "string") {
    out.push({ role: "user", content: input });
    return out;
  }
  if (!Array.isArray(input) || input.length === 0) {
    refuse('"input" must be a string or a non-empty array of items.', "input");
  }
  input.forEach((item, i) => {
    const at = where(i);
    if (!isRecord(item)) refuse(`${at} must be an object.`, "input");
    const type = item.type ?? "message";
    if (type === "message") {
      const role = typeof item.role === "string" && Object.hasOwn(ROLES, item.role)
        ? ROLES[item.role]
        : undefined;
      if (!role) refuse(`${at}.role must be user, assistant, system or developer.`, "input");
      out.push({ role, content: content(item.content, at, role === "user") });
    } else if (type === "function_call") {
      const call = functionCall(item, at);
      const prev = openAssistant(out);
      if (prev) prev.tool_calls = [...(Array.isArray(prev.tool_calls) ? prev.tool_calls : []), call];
      else out.push({ role: "assistant", content: null, tool_calls: [call] });
    } else if (type === "function_call_output") out.push(functionOutput(item, at));
    else if (type === "item_reference") {
      refuse(`${at}: item_reference needs stored responses; this gateway is stateless.`, "input");
    } else if (type !== "reasoning") {
      refuse(`${at}: input items of type ${JSON.stringify(type)} are not supported here.`, "input");
    }
  });
  return out;
}
