/**
 * OpenAI-shaped answers shared by the fakes of OpenAI-compatible servers (OpenAI API reference:
 * chat completion and chunk objects, embeddings list, images, transcriptions), plus the
 * deterministic vectors and rerank scores every fake uses so tests can predict them.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { json, type RouteContext, type Seen } from "./server.ts";

/** Words of every streamed or whole chat answer. */
export const REPLY_WORDS: readonly string[] = ["Hello", " from", " the", " fake"];

/**
 * Embedding of the i-th input: values exactly representable in float32, so base64 round trips
 * compare equal.
 */
export function vectorOf(i: number): number[] {
  return [0.5, -0.25, i];
}

/** Rerank score of a document: documents mentioning the query score high, later ones a little lower. */
export function scoreOf(query: string, doc: string, i: number): number {
  // Integer hundredths, so the expected values are exact decimals.
  return doc.includes(query) ? (90 - i) / 100 : (10 + i) / 100;
}

/** The document texts of a Jina/Cohere rerank request (`documents`) or a TEI one (`texts`). */
export function docsOf(body: Record<string, unknown> | undefined): string[] {
  const docs = body?.documents ?? body?.texts ?? body?.text_2;
  if (!Array.isArray(docs)) return [];
  return docs.map((d) => (typeof d === "string" ? d : String((d as { text?: unknown }).text)));
}

/** Little-endian float32 bytes in base64, as servers answer `encoding_format: "base64"`. */
export function base64Floats(v: readonly number[]): string {
  const bytes = Buffer.alloc(v.length * 4);
  v.forEach((x, i) => bytes.writeFloatLE(x, i * 4));
  return bytes.toString("base64");
}

function modelOf(req: Seen): string {
  return typeof req.json?.model === "string" ? req.json.model : "";
}

/**
 * Chat completions, whole or as SSE chunks ending with `data: [DONE]`; a final usage chunk when
 * `stream_options.include_usage` is set. `fingerprint` names the backend in the answer.
 */
export function openaiChat(req: Seen, ctx: RouteContext, fingerprint: string): Response {
  const id = `chatcmpl-${fingerprint}`;
  const model = modelOf(req);
  const body = req.json ?? {};
  const calls = toolCallsFor(body);
  const call = calls[0];
  if (body.stream === true) {
    const chunk = (delta: unknown, finish: string | null) => ({
      id,
      object: "chat.completion.chunk",
      created: 1,
      model,
      choices: [{ index: 0, delta, finish_reason: finish }],
    });
    const piece = (index: number, part: string) =>
      chunk({ tool_calls: [{ index, function: { arguments: part } }] }, null);
    // Arguments arrive in pieces, as vLLM streams them; parallel calls' pieces take turns. Asked
    // for SAME_INDEX, each call comes whole under index 0, as Ollama streams them.
    const messages = Array.isArray(body.messages) ? body.messages as { content?: unknown }[] : [];
    const sameIndex = textOf(messages.at(-1)?.content) === SAME_INDEX;
    const start = (c: { id: string; name: string }, index: number, args: string) =>
      chunk({
        tool_calls: [{ index, id: c.id, type: "function", function: { name: c.name, arguments: args } }],
      }, null);
    const pieces = calls.map((c) => splitArguments(c.arguments, calls.length > 1 ? 3 : 2));
    const turns = pieces[0]?.flatMap((_, k) => pieces.map((p, index) => piece(index, p[k]))) ?? [];
    const events: unknown[] = call
      ? [
        chunk({ role: "assistant", content: null }, null),
        ...(sameIndex
          ? calls.map((c) => start(c, 0, c.arguments))
          : [...calls.map((c, index) => start(c, index, "")), ...turns]),
        chunk({}, "tool_calls"),
      ]
      : [
        chunk({ role: "assistant", content: "" }, null),
        ...REPLY_WORDS.map((w) => chunk({ content: w }, null)),
        chunk({}, "stop"),
      ];
    const opts = body.stream_options as { include_usage?: boolean } | undefined;
    if (opts?.include_usage) {
      events.push({ id, object: "chat.completion.chunk", created: 1, model, choices: [], usage: usage() });
    }
    const parts = [...events.map((e) => `data: ${JSON.stringify(e)}\n\n`), "data: [DONE]\n\n"];
    return ctx.stream(parts, "text/event-stream");
  }
  return json({
    id,
    object: "chat.completion",
    created: 1,
    model,
    system_fingerprint: fingerprint,
    choices: [{
      index: 0,
      message: call
        ? {
          role: "assistant",
          content: null,
          tool_calls: calls.map((c) => ({
            id: c.id,
            type: "function",
            function: { name: c.name, arguments: c.arguments },
          })),
        }
        : { role: "assistant", content: REPLY_WORDS.join("") },
      finish_reason: call ? "tool_calls" : "stop",
    }],
    usage: usage(),
  });
}

/** The arguments of every tool call the fakes make. */
export const TOOL_ARGUMENTS: Readonly<Record<string, unknown>> = Object.freeze({ city: "Paris" });

/**
 * The last user message that makes a chat answer call its first two tools in parallel, with
 * {@linkcode PARALLEL_ARGUMENTS}; streamed, the calls' argument pieces interleave (0, 1, 0, 1…),
 * as some backends send parallel calls.
 */
export const INTERLEAVE = "Call both tools at once.";

/**
 * Like {@linkcode INTERLEAVE}, but streamed as Ollama's OpenAI endpoint streams parallel calls: each
 * whole in one delta, every one under `index` 0 with its own id (ollama/ollama#15457).
 */
export const SAME_INDEX = "Call both tools, numbered alike.";

/** The arguments of the two parallel calls {@linkcode INTERLEAVE} and {@linkcode SAME_INDEX} ask for. */
export const PARALLEL_ARGUMENTS: readonly Readonly<Record<string, unknown>>[] = Object.freeze([
  Object.freeze({ city: "Paris" }),
  Object.freeze({ tz: "Europe/Paris" }),
]);

const PARALLEL = new Set([INTERLEAVE, SAME_INDEX]);

/** The text of a chat message's content (a string or text parts). */
function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((p) => (typeof p?.text === "string" ? p.text : "")).join("");
}

/**
 * The tool calls a chat answer makes: when the request offers function tools and its last
 * message is not a tool's result, the first tool is called with {@linkcode TOOL_ARGUMENTS}, or the
 * first two in parallel when the last message says {@linkcode INTERLEAVE} or {@linkcode SAME_INDEX}.
 */
function toolCallsFor(body: Record<string, unknown>): { id: string; name: string; arguments: string }[] {
  const tools = Array.isArray(body.tools) ? body.tools as { function?: { name?: unknown } }[] : [];
  const messages = Array.isArray(body.messages)
    ? body.messages as { role?: unknown; content?: unknown }[]
    : [];
  const [first, second] = tools.map((t) => t.function?.name);
  const last = messages.at(-1);
  if (typeof first !== "string" || last?.role === "tool") return [];
  if (typeof second === "string" && last?.role === "user" && PARALLEL.has(textOf(last.content))) {
    return [first, second].map((name, i) => ({
      id: `call_fake${i + 1}`,
      name,
      arguments: JSON.stringify(PARALLEL_ARGUMENTS[i]),
    }));
  }
  return [{ id: "call_fake1", name: first, arguments: JSON.stringify(TOOL_ARGUMENTS) }];
}

/** `args` cut into `n` pieces of about the same length. */
function splitArguments(args: string, n: number): string[] {
  const size = Math.ceil(args.length / n);
  return Array.from({ length: n }, (_, k) => args.slice(k * size, (k + 1) * size));
}

function usage() {
  return { prompt_tokens: 9, completion_tokens: REPLY_WORDS.length, total_tokens: 9 + REPLY_WORDS.length };
}

/** Legacy text completions (`/v1/completions`), whole only. */
export function openaiCompletion(req: Seen, fingerprint: string): Response {
  return json({
    id: `cmpl-${fingerprint}`,
    object: "text_completion",
    created: 1,
    model: modelOf(req),
    choices: [{ index: 0, text: REPLY_WORDS.join(""), finish_reason: "stop", logprobs: null }],
    usage: usage(),
  });
}

/** An OpenAI embeddings list; vectors as base64 when asked and `base64` is supported. */
export function openaiEmbeddings(req: Seen, base64 = true): Response {
  const input = req.json?.input;
  const inputs = Array.isArray(input) ? input : [input];
  const asBase64 = base64 && req.json?.encoding_format === "base64";
  return json({
    object: "list",
    model: modelOf(req),
    data: inputs.map((_, index) => ({
      object: "embedding",
      index,
      embedding: asBase64 ? base64Floats(vectorOf(index)) : vectorOf(index),
    })),
    usage: { prompt_tokens: inputs.length * 2, total_tokens: inputs.length * 2 },
  });
}

/** An images answer naming the backend and the prompt. */
export function openaiImages(req: Seen, fingerprint: string): Response {
  const prompt = req.json?.prompt ?? req.form?.get("prompt");
  const image = req.form?.get("image");
  const size = image instanceof File ? `:${image.size}` : "";
  return json({ created: 1, data: [{ b64_json: btoa(`${fingerprint}:${prompt}${size}`) }] });
}

/** A transcription in the requested `response_format` (json, text, srt, vtt, verbose_json). */
export function openaiTranscription(req: Seen, fingerprint: string): Response {
  const file = req.form?.get("file");
  const text = `${fingerprint} heard ${file instanceof File ? file.size : 0} bytes`;
  switch (req.form?.get("response_format") ?? "json") {
    case "text":
      return new Response(text, { headers: { "content-type": "text/plain; charset=utf-8" } });
    case "srt":
      return new Response(`1\n00:00:00,000 --> 00:00:01,000\n${text}\n`, {
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    case "vtt":
      return new Response(`WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n${text}\n`, {
        headers: { "content-type": "text/vtt" },
      });
    case "verbose_json":
      return json({ task: "transcribe", language: "english", duration: 1, text, segments: [] });
    default:
      return json({ text });
  }
}

/** Audio bytes in the requested format, streamed in a few parts. */
export function openaiSpeech(req: Seen, ctx: RouteContext, fingerprint: string): Response {
  const format = typeof req.json?.response_format === "string" ? req.json.response_format : "mp3";
  const types: Record<string, string> = { mp3: "audio/mpeg", wav: "audio/wav", pcm: "audio/pcm" };
  return ctx.stream(
    ["RIFF", `${fingerprint}:${format}:`, String(req.json?.input ?? "")],
    types[format] ?? `audio/${format}`,
  );
}

/** `GET /v1/models` as OpenAI-compatible servers answer it. */
export function openaiModels(ids: readonly string[], ownedBy: string): Response {
  return json({
    object: "list",
    data: ids.map((id) => ({ id, object: "model", created: 1, owned_by: ownedBy })),
  });
}

/** An audio translation (`/v1/audio/translations`): JSON `{text}` naming the backend. */
export function openaiTranslation(req: Seen, fingerprint: string): Response {
  const file = req.form?.get("file");
  return json({ text: `${fingerprint} translated ${file instanceof File ? file.size : 0} bytes` });
}

/** A moderation answer (OpenAI API reference, "The moderation object"): flags inputs with "kill". */
export function openaiModeration(req: Seen, fingerprint: string): Response {
  const input = req.json?.input;
  const inputs = Array.isArray(input) ? input.map(String) : [String(input)];
  return json({
    id: `modr-${fingerprint}`,
    model: modelOf(req),
    results: inputs.map((text) => {
      const violent = text.includes("kill");
      return {
        flagged: violent,
        categories: { violence: violent, hate: false },
        category_scores: { violence: violent ? 0.9 : 0.01, hate: 0.01 },
      };
    }),
  });
}
