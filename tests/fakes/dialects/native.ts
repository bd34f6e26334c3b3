/**
 * Routes of backends that speak a client dialect themselves — vLLM's `/v1/messages` and
 * `/v1/responses`, Ollama's `/api/generate` — for the pass-through tests: they answer with the
 * dialect fixtures of `src/dialects/testdata/` (goldens the official client libraries accept),
 * with the requested model put in, whole or streamed event by event. Their text ("Hello 世界 🎉")
 * differs from the translated fakes' ("Hello from the fake"), so a test sees which way a request
 * went.
 *
 * @module
 */

import type { RouteContext, RouteHandler, Seen } from "./server.ts";
import { json } from "./server.ts";

/** The text of every native answer. */
export const NATIVE_TEXT = "Hello 世界 🎉";

function fixture(path: string): string {
  return Deno.readTextFileSync(new URL(`../../../src/dialects/testdata/${path}`, import.meta.url));
}

/** A fixture with its model replaced by the request's. */
function withModel(text: string, fixtureModel: string, req: Seen): string {
  const model = typeof req.json?.model === "string" ? req.json.model : fixtureModel;
  return text.replaceAll(`"model":${JSON.stringify(fixtureModel)}`, `"model":${JSON.stringify(model)}`)
    .replaceAll(`"model": ${JSON.stringify(fixtureModel)}`, `"model": ${JSON.stringify(model)}`);
}

/** Answers whole or streamed (`stream` absent means `streamByDefault`), split into its events. */
function answer(
  files: { whole: string; stream: string; model: string; separator: string; type: string },
  streamByDefault = false,
): RouteHandler {
  return (req: Seen, ctx: RouteContext) => {
    const stream = req.json?.stream ?? streamByDefault;
    if (stream !== true) {
      return json(JSON.parse(withModel(fixture(files.whole), files.model, req).replace(/\s+\n/g, "\n")));
    }
    const text = withModel(fixture(files.stream), files.model, req);
    const parts = text.split(files.separator).filter((p) => p.trim() !== "").map((p) =>
      `${p}${files.separator}`
    );
    return ctx.stream(parts, files.type);
  };
}

/** vLLM's native Anthropic and Responses routes. */
export const VLLM_NATIVE_ROUTES: Readonly<Record<string, RouteHandler>> = Object.freeze({
  "POST /v1/messages": answer({
    whole: "anthropic/text_response.json",
    stream: "anthropic/text_stream.sse",
    model: "claude-sonnet-4-5",
    separator: "\n\n",
    type: "text/event-stream",
  }),
  "POST /v1/responses": answer({
    whole: "responses/text_response.json",
    stream: "responses/text_stream.sse",
    model: "qwen3-8b",
    separator: "\n\n",
    type: "text/event-stream",
  }),
});

/** Ollama's own `/api/generate` (NDJSON unless `stream: false`). */
export const OLLAMA_GENERATE: RouteHandler = answer({
  whole: "ollama/generate_text_response.json",
  stream: "ollama/generate_text_stream.ndjson",
  model: "llama3.2",
  separator: "\n",
  type: "application/x-ndjson",
}, true);
