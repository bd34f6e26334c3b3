/**
 * OpenAI chat request → Ollama native `/api/chat` request (Ollama API docs, "Generate a chat
 * completion"). Used when an instance's `path` points at `/api/chat`; the default Ollama route is
 * its OpenAI-compatible `/v1/chat/completions`, which needs no translation.
 *
 * Sampling fields move into `options`, `response_format` becomes `format`, image parts become
 * base64 `images`, tool-call arguments become objects. Fields Ollama does not know are kept as
 * they are (Ollama ignores them), so vendor extras such as `keep_alive` or `think` survive.
 *
 * @module
 */

import { BadRequestError } from "../errors.ts";

/** OpenAI sampling fields and their Ollama `options` names. */
const OPTION_NAMES: Readonly<Record<string, string>> = {
  temperature: "temperature",
  top_p: "top_p",
  seed: "seed",
  frequency_penalty: "frequency_penalty",
  presence_penalty: "presence_penalty",
  max_tokens: "num_predict",
  max_completion_tokens: "num_predict",
};

type Json = Record<string, unknown>;

function isRecord(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function bad(message: string, param: string): never {
  throw new BadRequestError(message, "unsupported_by_backend", param);
}

function imageData(part: Json, where: string): string {
  const image = part.image_url;
  const url = typeof image === "string" ? image : isRecord(image) ? image.url : undefined;
  const m = typeof url === "string" ? /^data:[^;,]*;base64,(.*)$/s.exec(url) : null;
  if (!m) bad(`${where}: Ollama needs images inline as base64 data: URLs, not remote URLs.`, "messages");
  return m[1];
}

function convertContent(content: unknown, where: string): { text: string; images: string[] } {
  if (content === null || content === undefined) return { text: "", images: [] };
  if (typeof content === "string") return { text: content, images: [] };
  if (!Array.isArray(content)) bad(`${where}.content must be a string or an array of parts.`, "messages");
  const texts: string[] = [];
  const images: string[] = [];
  content.forEach((part, j) => {
    const at = `${where}.content[${j}]`;
    if (!isRecord(part)) bad(`${at} must be an object.`, "messages");
    if (part.type === "text" && typeof part.text === "string") texts.push(part.text);
    else if (part.type === "image_url") images.push(imageData(part, at));
    else bad(`${at}: Ollama cannot take content parts of type ${JSON.stringify(part.type)}.`, "messages");
  });
  return { text: texts.join("\n"), images };
}

function convertToolCalls(calls: unknown, where: string, names: Map<string, string>): Json[] {
  if (!Array.isArray(calls)) bad(`${where}.tool_calls must be an array.`, "messages");
  return calls.map((call, j) => {
    const fn = isRecord(call) && isRecord(call.function) ? call.function : undefined;
    if (!fn || typeof fn.name !== "string") {
      bad(`${where}.tool_calls[${j}] has no function name.`, "messages");
    }
    if (isRecord(call) && typeof call.id === "string") names.set(call.id, fn.name);
    let args: unknown = fn.arguments ?? {};
    if (typeof args === "string") {
      try {
        args = args.trim() === "" ? {} : JSON.parse(args);
      } catch {
        bad(`${where}.tool_calls[${j}].function.arguments is not valid JSON.`, "messages");
      }
    }
    return { function: { name: fn.name, arguments: args } };
  });
}

function convertMessages(messages: unknown): Json[] {
  if (!Array.isArray(messages)) bad('"messages" must be an array.', "messages");
  const toolNames = new Map<string, string>();
  return messages.map((m, i) => {
    const where = `messages[${i}]`;
    if (!isRecord(m)) bad(`${where} must be an object.`, "messages");
    const { content, tool_calls: toolCalls, ...rest } = m;
    const { text, images } = convertContent(content, where);
    const out: Json = { ...rest, content: text };
    if (images.length > 0) out.images = images;
    if (toolCalls !== undefined && toolCalls !== null) {
      out.tool_calls = convertToolCalls(toolCalls, where, toolNames);
    }
    // Ollama matches tool results by function name, OpenAI by call id.
    if (m.role === "tool" && typeof m.tool_call_id === "string" && out.tool_name === undefined) {
      const name = toolNames.get(m.tool_call_id);
      if (name !== undefined) out.tool_name = name;
    }
    return out;
  });
}

function convertFormat(format: unknown): unknown {
  if (!isRecord(format)) return undefined;
  if (format.type === "json_object") return "json";
  if (format.type === "json_schema") {
    const schema = isRecord(format.json_schema) ? format.json_schema.schema : undefined;
    if (!isRecord(schema)) bad("response_format.json_schema.schema must be an object.", "response_format");
    return schema;
  }
  if (format.type === "text") return undefined;
  bad(`Ollama cannot produce response_format ${JSON.stringify(format.type)}.`, "response_format");
}

/**
 * Translates an OpenAI chat body for `/api/chat`. `stream` is always written explicitly
 * because Ollama streams unless told otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toOllamaChat } from "./ollama_chat.ts";
 * const body = toOllamaChat({ model: "m", messages: [{ role: "user", content: "hi" }], max_tokens: 5 }, false);
 * assert(body.stream === false && (body.options as { num_predict: number }).num_predict === 5);
 * ```
 */
export function toOllamaChat(value: Json, stream: boolean): Json {
  const out: Json = {};
  const options: Json = isRecord(value.options) ? { ...value.options } : {};
  for (const [key, field] of Object.entries(value)) {
    if (key in OPTION_NAMES) {
      if (field !== null && field !== undefined) options[OPTION_NAMES[key]] = field;
    } else if (key === "stop") {
      if (field !== null && field !== undefined) options.stop = Array.isArray(field) ? field : [field];
    } else if (key === "n") {
      if (field !== 1 && field !== null && field !== undefined) {
        bad('Ollama returns one choice: "n" must be 1.', "n");
      }
    } else if (key === "messages") {
      out.messages = convertMessages(field);
    } else if (key === "response_format") {
      const format = convertFormat(field);
      if (format !== undefined) out.format = format;
    } else if (key !== "stream" && key !== "stream_options" && key !== "options") {
      out[key] = field;
    }
  }
  if (Object.keys(options).length > 0) out.options = options;
  out.stream = stream;
  return out;
}

/**
 * Whether the client asked for a final usage chunk (`stream_options.include_usage`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { wantsStreamUsage } from "./ollama_chat.ts";
 * assert(wantsStreamUsage({ stream_options: { include_usage: true } }));
 * ```
 */
export function wantsStreamUsage(value: Json): boolean {
  return isRecord(value.stream_options) && value.stream_options.include_usage === true;
}
