/**
 * Every dialect endpoint passes the same contract (`_testing.ts`): golden translations, errors in
 * its own shape, and a stream translator that is split-proof, prompt, and ends every stream
 * either complete or with the dialect's error event.
 */
import assert from "node:assert/strict";
import { dialectContract } from "./_testing.ts";
import { anthropicDialect } from "./anthropic.ts";
import { ollamaChatDialect, ollamaEmbedDialect, ollamaGenerateDialect } from "./ollama.ts";
import { isRecord } from "./request_body.ts";
import { responsesDialect } from "./responses.ts";

function lastSseEvent(output: string): string {
  const events = output.split("\n\n").filter((e) => e !== "");
  return events[events.length - 1] ?? "";
}

dialectContract({
  dialect: anthropicDialect,
  requests: [{
    request: "anthropic/messages_request.json",
    openai: "anthropic/messages_request.openai.json",
  }],
  ctxRequest: "anthropic/messages_request.json",
  responses: {
    "openai/chat_text.json": "anthropic/text_response.json",
    "openai/chat_tools.json": "anthropic/tools_response.json",
    "openai/chat_length.json": "anthropic/length_response.json",
  },
  streams: {
    "openai/stream_text.sse": "anthropic/text_stream.sse",
    "openai/stream_tools.sse": "anthropic/tools_stream.sse",
    "openai/stream_error.sse": "anthropic/error_stream.sse",
    "openai/stream_length.sse": "anthropic/length_stream.sse",
  },
  minimal: { model: "m", max_tokens: 16, messages: [{ role: "user", content: "hi" }] },
  endsWithError: (out) => lastSseEvent(out).startsWith("event: error\n"),
  isComplete: (out) => lastSseEvent(out).startsWith("event: message_stop\n"),
  errorMessage(body, status) {
    assert(isRecord(body) && body.type === "error" && isRecord(body.error), JSON.stringify(body));
    assert.equal(typeof body.error.type, "string");
    if (status === 429) assert.equal(body.error.type, "rate_limit_error");
    return body.error.message as string;
  },
});

dialectContract({
  dialect: responsesDialect,
  requests: [{ request: "responses/request.json", openai: "responses/request.openai.json" }],
  ctxRequest: "responses/request.json",
  responses: {
    "openai/chat_text.json": "responses/text_response.json",
    "openai/chat_tools.json": "responses/tools_response.json",
    "openai/chat_length.json": "responses/length_response.json",
  },
  streams: {
    "openai/stream_text.sse": "responses/text_stream.sse",
    "openai/stream_tools.sse": "responses/tools_stream.sse",
    "openai/stream_error.sse": "responses/error_stream.sse",
    "openai/stream_length.sse": "responses/length_stream.sse",
  },
  minimal: { model: "m", input: "hi" },
  endsWithError: (out) => lastSseEvent(out).startsWith("event: error\n"),
  isComplete: (out) => /^event: response\.(completed|incomplete)\n/.test(lastSseEvent(out)),
  errorMessage(body) {
    assert(isRecord(body) && isRecord(body.error), JSON.stringify(body));
    assert.equal(typeof body.error.type, "string");
    assert.equal(typeof body.error.code, "string");
    assert("param" in body.error);
    return body.error.message as string;
  },
});

function lastLine(output: string): Record<string, unknown> {
  const lines = output.split("\n").filter((l) => l !== "");
  const last = lines.length > 0 ? JSON.parse(lines[lines.length - 1]) : {};
  assert(isRecord(last));
  return last;
}

const ollama = {
  endsWithError: (out: string) => typeof lastLine(out).error === "string",
  isComplete: (out: string) => lastLine(out).done === true,
  errorMessage(body: unknown) {
    assert(
      isRecord(body) && typeof body.error === "string" && Object.keys(body).length === 1,
      JSON.stringify(body),
    );
    return body.error;
  },
};

dialectContract({
  dialect: ollamaChatDialect,
  requests: [{ request: "ollama/chat_request.json", openai: "ollama/chat_request.openai.json" }],
  ctxRequest: "ollama/chat_request.json",
  responses: {
    "openai/chat_text.json": "ollama/chat_text_response.json",
    "openai/chat_tools.json": "ollama/chat_tools_response.json",
    "openai/chat_length.json": "ollama/chat_length_response.json",
  },
  streams: {
    "openai/stream_text.sse": "ollama/chat_text_stream.ndjson",
    "openai/stream_tools.sse": "ollama/chat_tools_stream.ndjson",
    "openai/stream_error.sse": "ollama/chat_error_stream.ndjson",
    "openai/stream_length.sse": "ollama/chat_length_stream.ndjson",
  },
  minimal: { model: "m", messages: [{ role: "user", content: "hi" }] },
  ...ollama,
});

dialectContract({
  dialect: ollamaGenerateDialect,
  requests: [{ request: "ollama/generate_request.json", openai: "ollama/generate_request.openai.json" }],
  ctxRequest: "ollama/generate_request.json",
  responses: {
    "openai/chat_text.json": "ollama/generate_text_response.json",
    "openai/chat_length.json": "ollama/generate_length_response.json",
  },
  streams: {
    "openai/stream_text.sse": "ollama/generate_text_stream.ndjson",
    "openai/stream_error.sse": "ollama/generate_error_stream.ndjson",
  },
  minimal: { model: "m", prompt: "hi" },
  ...ollama,
});

dialectContract({
  dialect: ollamaEmbedDialect,
  requests: [{ request: "ollama/embed_request.json", openai: "ollama/embed_request.openai.json" }],
  ctxRequest: "ollama/embed_request.json",
  responses: { "openai/embeddings.json": "ollama/embed_response.json" },
  streams: {},
  streaming: false,
  minimal: { model: "m", input: "hi" },
  ...ollama,
});
