/**
 * Anthropic message content → OpenAI chat messages: text and image blocks become content parts,
 * `tool_use` blocks become the assistant's `tool_calls`, `tool_result` blocks become `tool`
 * messages placed right after the call they answer (Anthropic API reference, "Messages" and
 * "Tool use"; OpenAI API reference, "Chat messages").
 *
 * @module
 */

import { isRecord, type Json, refuse } from "./request_body.ts";

const BLOCKS_DROPPED = new Set(["thinking", "redacted_thinking"]);

function imagePart(block: Json, at: string): Json {
  const src = block.source;
  if (!isRecord(src)) refuse(`${at}.source must be an object.`, "messages");
  if (src.type === "base64" && typeof src.media_type === "string" && typeof src.data === "string") {
    return { type: "image_url", image_url: { url: `data:${src.media_type};base64,${src.data}` } };
  }
  if (src.type === "url" && typeof src.url === "string") {
    return { type: "image_url", image_url: { url: src.url } };
  }
  refuse(`${at}.source must be {"type":"base64","media_type","data"} or {"type":"url","url"}.`, "messages");
}

/** Text and image blocks → OpenAI content (a plain string when there is only text). */
function contentParts(blocks: Json[], at: string, images: boolean): string | Json[] {
  const parts: Json[] = [];
  let onlyText = true;
  blocks.forEach((block, j) => {
    const where = `${at}[${j}]`;
    if (block.type === "text" && typeof block.text === "string") {
      parts.push({ type: "text", text: block.text });
    } else if (block.type === "image" && images) {
      parts.push(imagePart(block, where));
      onlyText = false;
    } else {
      refuse(
        `${where}: content blocks of type ${JSON.stringify(block.type)} are not supported here.`,
        "messages",
      );
    }
  });
  return onlyText ? parts.map((p) => p.text as string).join("") : parts;
}

function toolResult(block: Json, at: string): Json {
  if (typeof block.tool_use_id !== "string") refuse(`${at}.tool_use_id must be a string.`, "messages");
  let content = block.content;
  if (content === undefined || content === null) content = "";
  if (Array.isArray(content)) {
    // OpenAI tool messages carry text only.
    content = contentParts(blocksOf(content, `${at}.content`), `${at}.content`, false);
  } else if (typeof content !== "string") {
    refuse(`${at}.content must be a string or text blocks.`, "messages");
  }
  if (block.is_error === true) content = `[tool error] ${content}`;
  return { role: "tool", tool_call_id: block.tool_use_id, content };
}

function toolCall(block: Json, at: string): Json {
  if (typeof block.id !== "string" || typeof block.name !== "string") {
    refuse(`${at} needs an "id" and a "name".`, "messages");
  }
  const input = block.input ?? {};
  if (!isRecord(input)) refuse(`${at}.input must be an object.`, "messages");
  return { id: block.id, type: "function", function: { name: block.name, arguments: JSON.stringify(input) } };
}

function blocksOf(content: unknown[], at: string): Json[] {
  return content.map((b, j) => {
    if (!isRecord(b)) refuse(`${at}[${j}] must be an object.`, "messages");
    return b;
  });
}

function userMessage(blocks: Json[], at: string, out: Json[]): void {
  const rest: Json[] = [];
  blocks.forEach((block, j) => {
    if (block.type === "tool_result") out.push(toolResult(block, `${at}[${j}]`));
    else rest.push(block);
  });
  if (rest.length > 0) out.push({ role: "user", content: contentParts(rest, at, true) });
}

function assistantMessage(blocks: Json[], at: string, out: Json[]): void {
  const text: Json[] = [];
  const calls: Json[] = [];
  blocks.forEach((block, j) => {
    if (block.type === "tool_use") calls.push(toolCall(block, `${at}[${j}]`));
    else if (!BLOCKS_DROPPED.has(block.type as string)) text.push(block);
  });
  const content = contentParts(text, at, false);
  const msg: Json = { role: "assistant", content: content === "" && calls.length > 0 ? null : content };
  if (calls.length > 0) msg.tool_calls = calls;
  out.push(msg);
}

/**
 * Appends the OpenAI form of Anthropic `messages` to `out` and returns it. Thinking blocks in
 * the history are left out: chat backends take no reasoning input.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { anthropicMessages } from "./anthropic_content.ts";
 * const out = anthropicMessages([
 *   { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "f", input: { a: 1 } }] },
 *   { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: "ok" }] },
 * ], []);
 * assert.deepEqual(out[1], { role: "tool", tool_call_id: "t1", content: "ok" });
 * ```
 */
export function anthropicMessages(messages: unknown, out: Json[]): Json[] {
  if (!Array.isArray(messages) || messages.length === 0) {
    refuse('"messages" must be a non-empty array.', "messages");
  }
  messages.forEach((m, i) => {
    const at = `messages[${i}]`;
    if (!isRecord(m)) refuse(`${at} must be an object.`, "messages");
    if (m.role !== "user" && m.role !== "assistant") {
      refuse(`${at}.role must be "user" or "assistant" (the system prompt goes in "system").`, "messages");
    }
    if (typeof m.content === "string") {
      out.push({ role: m.role, content: m.content });
      return;
    }
    if (!Array.isArray(m.content)) {
      refuse(`${at}.content must be a string or an array of blocks.`, "messages");
    }
    const blocks = blocksOf(m.content, `${at}.content`);
    if (m.role === "user") userMessage(blocks, `${at}.content`, out);
    else assistantMessage(blocks, `${at}.content`, out);
  });
  return out;
}
