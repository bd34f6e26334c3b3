/**
 * The bench's scenarios, in run order: what each sends, how many at once, and against whom it is
 * compared.
 *
 * @module
 */

import { CHAT_MODEL, EMBED_MODEL } from "./gateway_config.ts";
import type { Measurement } from "./measurement.ts";

/** A scenario of the bench. */
export interface Scenario {
  readonly id: string;
  readonly label: string;
  /** `relay`: the stream-relay capacity search (`relay.ts`), not a fixed load. */
  readonly kind: Measurement["kind"] | "relay";
  readonly path: string;
  readonly body: string;
  readonly concurrency: number;
  /** Also measure the bare Deno proxy. */
  readonly baseline?: boolean;
  /**
   * A client dialect's scenario: measured through the gateway only (the upstream speaks OpenAI)
   * and compared with the plain OpenAI scenario `compare` of the same run.
   */
  readonly compare?: string;
  /** What a complete answer holds: the stream's last event, or a field of the JSON answer. */
  readonly expect?: string;
  /**
   * Compare the gateway with a variant of itself in the same run (issue 13): limits decided in
   * Redis, or `server.workers: 2` (unpinned; the load generator shares the cores).
   */
  readonly variant?: "redis" | "workers-2";
}

const MESSAGES = [{ role: "user", content: "Say hello in one short sentence." }];
const CHAT = JSON.stringify({ model: CHAT_MODEL, messages: MESSAGES, max_tokens: 32 });
const STREAM = JSON.stringify({ model: CHAT_MODEL, messages: MESSAGES, max_tokens: 64, stream: true });
/**
 * An open stream carries its prompt: a chat history of ~16 KB (~4,000 tokens), as an assistant
 * with some context sends, so what a gateway keeps of its requests while they stream shows.
 */
const HISTORY = "Earlier in this conversation the user and the assistant discussed the benchmark. ".repeat(
  200,
);
const HOLD = JSON.stringify({
  model: CHAT_MODEL,
  messages: [{ role: "system", content: HISTORY }, { role: "user", content: "BENCH_HOLD" }],
  stream: true,
});
const EMBED = JSON.stringify({ model: EMBED_MODEL, input: "The quick brown fox jumps over the lazy dog." });

const CHAT_PATH = "/v1/chat/completions";

/** The same question in each client dialect (`compare` is the plain OpenAI scenario). */
function dialect(
  id: string,
  path: string,
  body: Record<string, unknown>,
  stream: { end: string } | { field: string },
): Scenario {
  const streamed = "end" in stream;
  return {
    id: `${id}-${streamed ? "stream-c32" : "c16"}`,
    label: `${id}${streamed ? " stream" : ""} c=${streamed ? 32 : 16}`,
    kind: streamed ? "stream" : "requests",
    path,
    body: JSON.stringify({ model: CHAT_MODEL, ...body }),
    concurrency: streamed ? 32 : 16,
    compare: streamed ? "stream-c32" : "chat-c16",
    expect: streamed ? stream.end : stream.field,
  };
}

/** Every scenario, in run order; `soak` only runs when asked for (or with `--scenario all`). */
export const SCENARIOS: readonly Scenario[] = [
  { id: "chat-c1", label: "chat c=1", kind: "requests", path: CHAT_PATH, body: CHAT, concurrency: 1 },
  {
    id: "chat-c16",
    label: "chat c=16",
    kind: "requests",
    path: CHAT_PATH,
    body: CHAT,
    concurrency: 16,
    baseline: true,
  },
  {
    id: "chat-c64",
    label: "chat c=64",
    kind: "requests",
    path: CHAT_PATH,
    body: CHAT,
    concurrency: 64,
    baseline: true,
  },
  {
    id: "chat-c64-redis",
    label: "chat c=64, limits in Redis vs memory",
    kind: "requests",
    path: CHAT_PATH,
    body: CHAT,
    concurrency: 64,
    variant: "redis",
  },
  {
    id: "chat-c64-workers",
    label: "chat c=64, workers 2 vs 1",
    kind: "requests",
    path: CHAT_PATH,
    body: CHAT,
    concurrency: 64,
    variant: "workers-2",
  },
  {
    id: "embed-c64",
    label: "embeddings c=64",
    kind: "requests",
    path: "/v1/embeddings",
    body: EMBED,
    concurrency: 64,
  },
  {
    id: "stream-c32",
    label: "stream c=32",
    kind: "stream",
    path: CHAT_PATH,
    body: STREAM,
    concurrency: 32,
    baseline: true,
  },
  {
    id: "streams-1000",
    label: "1000 open streams",
    kind: "hold",
    path: CHAT_PATH,
    body: HOLD,
    concurrency: 1000,
    baseline: true,
  },
  {
    id: "relay-capacity",
    label: "stream-relay capacity",
    kind: "relay",
    path: CHAT_PATH,
    body: "",
    concurrency: 0,
    baseline: true,
  },
  dialect("anthropic", "/v1/messages", { max_tokens: 32, messages: MESSAGES }, { field: '"content"' }),
  dialect("responses", "/v1/responses", { input: MESSAGES, max_output_tokens: 32 }, { field: '"output"' }),
  dialect("ollama", "/api/chat", { messages: MESSAGES, stream: false }, { field: '"message"' }),
  dialect("anthropic", "/v1/messages", { max_tokens: 64, messages: MESSAGES, stream: true }, {
    end: "message_stop",
  }),
  dialect("responses", "/v1/responses", { input: MESSAGES, stream: true }, { end: "response.completed" }),
  dialect("ollama", "/api/chat", { messages: MESSAGES }, { end: '"done":true' }),
  { id: "soak", label: "soak chat c=64", kind: "soak", path: CHAT_PATH, body: CHAT, concurrency: 64 },
];
