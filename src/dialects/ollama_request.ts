/**
 * Ollama native requests (`POST /api/chat`, `/api/generate`, `/api/embed`; field names from
 * Ollama's `api/types.go`) → OpenAI chat completions and embeddings requests. Ollama streams
 * unless `stream: false` is sent, so an absent `stream` means a stream here too.
 *
 * @module
 */

import { applyFormat, applyOptions, withImages } from "./ollama_options.ts";
import {
  checkFields,
  type FieldRules,
  isRecord,
  isSet,
  type Json,
  optionalArray,
  positiveInt,
  readObject,
  refuse,
  setStream,
  streamFlag,
} from "./request_body.ts";
import type { DialectEnv } from "./types.ts";
import type { Clock } from "../types.ts";

/** What the way back needs of an Ollama request. */
export interface OllamaCtx {
  readonly kind: "chat" | "generate" | "embed";
  /** The client's model name, echoed in every answer line. */
  readonly model: string;
  /** When the request was read (ms), for `total_duration`. */
  readonly startedAt: number;
  /** The injected clock, for `created_at` and durations. */
  readonly clock: Clock;
}

const COMMON: FieldRules = {
  model: "map",
  stream: "map",
  format: "map",
  options: "map",
  think: "map",
  keep_alive: "ignore",
  truncate: "ignore",
  shift: "ignore",
  logprobs: { refuse: "log probabilities are not translated." },
  top_logprobs: { refuse: "log probabilities are not translated." },
  _debug_render_only: { refuse: "templates are rendered by the backend, not here." },
};

/** Every top-level field of `/api/chat` and what the gateway does with it. */
export const OLLAMA_CHAT_FIELDS: FieldRules = { ...COMMON, messages: "map", tools: "map" };

/** Every top-level field of `/api/generate` and what the gateway does with it. */
export const OLLAMA_GENERATE_FIELDS: FieldRules = {
  ...COMMON,
  prompt: "map",
  system: "map",
  images: "map",
  suffix: { refuse: "fill-in-the-middle needs a backend's native completion endpoint." },
  template: { refuse: "prompt templates belong to the backend's model configuration." },
  context: {
    refuse: "context tokens from an earlier answer need Ollama's own state; send /api/chat messages.",
  },
  raw: { refuse: "raw prompts bypass the chat template, which a chat backend always applies." },
};

/** Every top-level field of `/api/embed` and what the gateway does with it. */
export const OLLAMA_EMBED_FIELDS: FieldRules = {
  model: "map",
  input: "map",
  dimensions: "map",
  truncate: "ignore",
  keep_alive: "ignore",
  options: "ignore",
};

const ROLES = new Set(["system", "user", "assistant", "tool"]);

function toolCalls(calls: unknown, at: string, pending: Map<string, string>, n: number): Json[] {
  if (!Array.isArray(calls)) refuse(`${at}.tool_calls must be an array.`, "messages");
  return calls.map((call, j) => {
    const fn = isRecord(call) && isRecord(call.function) ? call.function : undefined;
    if (!fn || typeof fn.name !== "string") {
      refuse(`${at}.tool_calls[${j}] has no function name.`, "messages");
    }
    const id = isRecord(call) && typeof call.id === "string" && call.id !== "" ? call.id : `call_${n}_${j}`;
    pending.set(fn.name, id);
    const args = typeof fn.arguments === "string" ? fn.arguments : JSON.stringify(fn.arguments ?? {});
    return { id, type: "function", function: { name: fn.name, arguments: args } };
  });
}

function chatMessages(messages: unknown): Json[] {
  if (!Array.isArray(messages) || messages.length === 0) {
    refuse('"messages" must be a non-empty array.', "messages");
  }
  // Ollama answers a tool by its name; OpenAI by the call's id: remember the last id per name.
  const pending = new Map<string, string>();
  return messages.map((m, i) => {
    const at = `messages[${i}]`;
    if (!isRecord(m) || typeof m.role !== "string" || !ROLES.has(m.role)) {
      refuse(`${at} must have a role of system, user, assistant or tool.`, "messages");
    }
    const text = m.content ?? "";
    if (typeof text !== "string") refuse(`${at}.content must be a string.`, "messages");
    const out: Json = { role: m.role, content: withImages(text, m.images, "messages") };
    if (isSet(m.tool_calls)) {
      out.tool_calls = toolCalls(m.tool_calls, at, pending, i);
    }
    if (m.role === "assistant" && out.tool_calls && text === "") out.content = null;
    if (m.role === "tool") {
      const id = typeof m.tool_call_id === "string"
        ? m.tool_call_id
        : typeof m.tool_name === "string"
        ? pending.get(m.tool_name)
        : undefined;
      if (id === undefined) {
        refuse(`${at}: a tool message needs a tool_call_id or the tool_name of an earlier call.`, "messages");
      }
      out.tool_call_id = id;
    }
    return out;
  });
}

function common(req: Json, out: Json): boolean {
  applyOptions(req.options, out);
  applyFormat(req.format, out);
  if (typeof req.think === "string") out.reasoning_effort = req.think;
  return setStream(out, streamFlag(req.stream, true));
}

function ctxOf(kind: OllamaCtx["kind"], req: Json, env: DialectEnv): OllamaCtx {
  return { kind, model: req.model as string, startedAt: env.clock(), clock: env.clock };
}

/**
 * `/api/chat` body → chat completions body.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { translateOllamaChat } from "./ollama_request.ts";
 * const bytes = new TextEncoder().encode(JSON.stringify({
 *   model: "m", messages: [{ role: "user", content: "hi" }], options: { num_predict: 8 },
 * }));
 * const { body } = translateOllamaChat(bytes, { clock: () => 0, randomId: () => "x" });
 * assert.equal(body.max_tokens, 8);
 * assert.equal(body.stream, true);
 * ```
 */
export function translateOllamaChat(bytes: Uint8Array, env: DialectEnv): { body: Json; ctx: OllamaCtx } {
  const req = readObject(bytes);
  checkFields(req, OLLAMA_CHAT_FIELDS, "Ollama /api/chat");
  const out: Json = { model: req.model, messages: chatMessages(req.messages) };
  const tools = optionalArray(req.tools, "tools");
  if (tools && tools.length > 0) out.tools = tools;
  common(req, out);
  return { body: out, ctx: ctxOf("chat", req, env) };
}

/** `/api/generate` body → chat completions body (the prompt is one user message). */
export function translateOllamaGenerate(bytes: Uint8Array, env: DialectEnv): { body: Json; ctx: OllamaCtx } {
  const req = readObject(bytes);
  // The refused fields at their empty defaults ask for nothing.
  if (req.suffix === "") delete req.suffix;
  if (req.template === "") delete req.template;
  if (req.raw === false) delete req.raw;
  if (Array.isArray(req.context) && req.context.length === 0) delete req.context;
  checkFields(req, OLLAMA_GENERATE_FIELDS, "Ollama /api/generate");
  if (typeof req.prompt !== "string" || req.prompt === "") {
    refuse(
      '"prompt" must be a non-empty string (an empty prompt only preloads a model in Ollama).',
      "prompt",
    );
  }
  const messages: Json[] = [];
  if (typeof req.system === "string" && req.system !== "") {
    messages.push({ role: "system", content: req.system });
  }
  messages.push({ role: "user", content: withImages(req.prompt, req.images, "images") });
  const out: Json = { model: req.model, messages };
  common(req, out);
  return { body: out, ctx: ctxOf("generate", req, env) };
}

/** `/api/embed` body → embeddings body. */
export function translateOllamaEmbed(bytes: Uint8Array, env: DialectEnv): { body: Json; ctx: OllamaCtx } {
  const req = readObject(bytes);
  checkFields(req, OLLAMA_EMBED_FIELDS, "Ollama /api/embed");
  const input = req.input;
  const ok = typeof input === "string" ||
    (Array.isArray(input) && input.length > 0 && input.every((s) => typeof s === "string"));
  if (!ok) refuse('"input" must be a string or a non-empty array of strings.', "input");
  const out: Json = { model: req.model, input, encoding_format: "float" };
  if (isSet(req.dimensions)) {
    out.dimensions = positiveInt(req.dimensions, "dimensions");
  }
  return { body: out, ctx: ctxOf("embed", req, env) };
}
