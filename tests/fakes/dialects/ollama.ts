/**
 * A fake Ollama server (Ollama API docs, docs/api.md and docs/openai.md): native `GET /api/tags`,
 * `POST /api/embed`, the legacy `POST /api/embeddings` and `POST /api/chat` (NDJSON stream unless
 * `stream: false`), and its OpenAI-compatible `/v1/chat/completions`, `/v1/completions`,
 * `/v1/embeddings`, `/v1/audio/transcriptions`. Unknown routes get Go's plain-text
 * `404 page not found`; an unknown model gets Ollama's `{error}` body.
 *
 * The legacy and transcription routes follow ollama/ollama at commit
 * fb30760996871fa9460115c753afd2c60d4ab0f7: `EmbeddingsHandler` (server/routes.go) binds
 * `{model, prompt, keep_alive, options}`, ignores other fields and answers an empty prompt with an
 * empty vector; `TranscriptionMiddleware` (middleware/openai.go) needs `model` and a non-empty
 * `file`, answers plain text for `response_format: text` and `{text}` otherwise.
 *
 * @module
 */

import { OLLAMA_PATHS } from "../../../src/adapters/mod.ts";
import { OLLAMA_GENERATE } from "./native.ts";
import { type DialectFake, json, type Seen, serveDialect } from "./server.ts";
import {
  openaiChat,
  openaiCompletion,
  openaiEmbeddings,
  openaiImages,
  REPLY_WORDS,
  vectorOf,
} from "./shapes.ts";

/**
 * Models the fake pretends to have pulled; others answer 404. `broken` fails mid-stream with an
 * error line; `cut` loses its connection mid-stream (the body errors after the first line);
 * `html` answers its chat with an HTML page and a 200, as a proxy in front of Ollama may.
 */
export const OLLAMA_MODELS: Readonly<
  Record<"chat" | "embed" | "legacyEmbed" | "stt" | "native" | "broken" | "cut" | "html", string>
> = Object.freeze({
  chat: "llama3.2:1b",
  embed: "nomic-embed-text",
  // The embedding model of JAiRouter's own services.yml, served there through /api/embeddings.
  legacyEmbed: "shaw/dmeta-embedding-zh:latest",
  stt: "gemma4:e2b",
  native: "qwen3:0.6b",
  broken: "broken:7b",
  cut: "cut:7b",
  html: "html:7b",
});

/** The page the `html` model answers with. */
export const HTML_PAGE = "<!DOCTYPE html><html><body><h1>Upstream under maintenance</h1></body></html>";

/** An NDJSON answer that sends `line` and then loses its connection (a reset, not a clean end). */
function cutAfter(line: unknown): Response {
  let sent = false;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent) {
        await new Promise((r) => setTimeout(r, 20));
        return controller.error(new Error("simulated connection reset"));
      }
      sent = true;
      controller.enqueue(new TextEncoder().encode(`${JSON.stringify(line)}\n`));
    },
  });
  return new Response(body, { headers: { "content-type": "application/x-ndjson" } });
}

/** The vector the legacy route returns for a prompt: its length in characters, then a constant. */
export function legacyVectorOf(prompt: string): number[] {
  return [prompt.length, 0.125];
}

/** OpenAI's error shape, as Ollama's OpenAI middleware writes it (openai.NewError). */
const openaiError = (status: number, message: string) =>
  json({ error: { message, type: "invalid_request_error", param: null, code: null } }, status);

function transcription(req: Seen): Response {
  const model = req.form?.get("model");
  if (!model) return openaiError(400, "model is required");
  const file = req.form?.get("file");
  if (!(file instanceof File)) return openaiError(400, "file is required: http: no such file");
  if (file.size === 0) return openaiError(400, "audio file is empty");
  const text = `heard ${file.size} bytes of ${file.name}`;
  if (req.form?.get("response_format") === "text") {
    return new Response(text, { headers: { "content-type": "text/plain" } });
  }
  return json({ text });
}

/** The tool call the fake makes when the request offers tools (and no tool answered yet). */
export const OLLAMA_TOOL_CALL: { readonly name: string; readonly arguments: Record<string, unknown> } = Object
  .freeze({ name: "get_weather", arguments: { city: "Paris" } });

const CREATED_AT = "2024-06-01T12:00:00.000000Z";

function missing(req: Seen): Response | undefined {
  const model = req.json?.model;
  if (Object.values(OLLAMA_MODELS).some((m) => m === model)) return undefined;
  return json({ error: `model "${model}" not found, try pulling it first` }, 404);
}

/** The assistant messages of one answer: a tool call when tools are offered, else the reply words. */
function messagesOf(req: Seen): Record<string, unknown>[] {
  const messages = Array.isArray(req.json?.messages) ? req.json.messages : [];
  const answered = messages.at(-1)?.role === "tool";
  if (Array.isArray(req.json?.tools) && !answered) {
    return [{ role: "assistant", content: "", tool_calls: [{ function: OLLAMA_TOOL_CALL }] }];
  }
  return REPLY_WORDS.map((w) => ({ role: "assistant", content: w }));
}

function chat(req: Seen, stream: (parts: readonly string[], type: string) => Response): Response {
  const model = String(req.json?.model);
  if (model === OLLAMA_MODELS.html) {
    return new Response(HTML_PAGE, { headers: { "content-type": "text/html; charset=utf-8" } });
  }
  const parts = messagesOf(req);
  const final = {
    model,
    created_at: CREATED_AT,
    done: true,
    done_reason: "stop",
    total_duration: 1000,
    prompt_eval_count: 11,
    eval_count: parts.length,
  };
  // Ollama streams unless the body says `stream: false`.
  if (req.json?.stream !== false) {
    const lines: unknown[] = parts.map((message) => ({
      model,
      created_at: CREATED_AT,
      message,
      done: false,
    }));
    if (model === OLLAMA_MODELS.cut) return cutAfter(lines[0]);
    if (model === OLLAMA_MODELS.broken) {
      lines.splice(1, lines.length, { error: "llama runner process has terminated" });
    } else lines.push({ ...final, message: { role: "assistant", content: "" } });
    return stream(lines.map((l) => `${JSON.stringify(l)}\n`), "application/x-ndjson");
  }
  const content = parts.map((p) => p.content).join("");
  return json({ ...final, message: { ...parts[0], content } });
}

/** Starts the fake Ollama. */
export function startOllama(): DialectFake {
  return serveDialect({
    name: "ollama",
    notFound: () =>
      new Response("404 page not found", { status: 404, headers: { "content-type": "text/plain" } }),
    routes: {
      [`GET ${OLLAMA_PATHS.probe}`]: () =>
        json({
          models: Object.values(OLLAMA_MODELS).map((name) => ({
            name,
            model: name,
            modified_at: CREATED_AT,
            size: 1,
            digest: "sha256:0",
            details: { format: "gguf", family: "llama" },
          })),
        }),
      [`POST ${OLLAMA_PATHS.embed}`]: (req) => {
        const input = req.json?.input;
        const inputs = Array.isArray(input) ? input : [input];
        return missing(req) ?? json({
          model: req.json?.model,
          embeddings: inputs.map((_, i) => vectorOf(i)),
          total_duration: 1000,
          load_duration: 10,
          prompt_eval_count: inputs.length * 3,
        });
      },
      [`POST ${OLLAMA_PATHS.legacyEmbeddings}`]: (req) => {
        const prompt = typeof req.json?.prompt === "string" ? req.json.prompt : "";
        // An empty prompt only loads the model (EmbeddingsHandler): an empty vector, status 200.
        return missing(req) ?? json({ embedding: prompt === "" ? [] : legacyVectorOf(prompt) });
      },
      [`POST ${OLLAMA_PATHS.stt}`]: transcription,
      [`POST ${OLLAMA_PATHS.nativeChat}`]: (req, ctx) => missing(req) ?? chat(req, ctx.stream),
      "POST /api/generate": (req, ctx) => missing(req) ?? OLLAMA_GENERATE(req, ctx),
      [`POST ${OLLAMA_PATHS.chat}`]: (req, ctx) => openaiChat(req, ctx, "fp_ollama"),
      [`POST ${OLLAMA_PATHS.completions}`]: (req) => openaiCompletion(req, "fp_ollama"),
      // Floats whatever `encoding_format` says, as older Ollama releases did: the SDK must cope.
      "POST /v1/embeddings": (req) => openaiEmbeddings(req, false),
      [`POST ${OLLAMA_PATHS.imgGen}`]: (req) => openaiImages(req, "ollama"),
    },
  });
}
