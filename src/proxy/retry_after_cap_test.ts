/**
 * An upstream's `Retry-After` parks its instance for at most `MAX_PARK_MS` (5 minutes), however
 * long it asks, and the gateway's own `Retry-After` to clients says the same bounded wait. Same
 * harness as `dispatch_test.ts`: manual time, scripted upstreams, every counter back to zero.
 */

import assert from "node:assert/strict";
import { MAX_PARK_MS } from "../breaker/mod.ts";
import { type Case, CHAT, runCases, serviceConfig, type Step } from "./_testing.ts";

const OK: Step = {
  json: {
    id: "c1",
    object: "chat.completion",
    model: "m",
    choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }],
  },
};
const DAY_S = "86400";
const CAP_S = String(MAX_PARK_MS / 1000);
const unavailable = (retryAfter: string): Step => ({
  status: 503,
  headers: { "retry-after": retryAfter },
  json: { error: { message: "warming up" } },
});

const CASES: Case[] = [
  {
    name: "a 503 asking for a day parks its instance for 5 minutes, and the client is told 300 s",
    config: serviceConfig(["a"]),
    script: { a: [unavailable(DAY_S), OK] },
    status: 503,
    headers: { "retry-after": CAP_S },
    tried: ["a"],
    after: (h) => assert.equal(h.upstream("a").breaker.parkedUntil, h.time.now() + MAX_PARK_MS),
  },
  {
    name: "a 429 asking for a day: the client's 429 says 300 s",
    config: serviceConfig(["a", "b"]),
    script: {
      a: [{ status: 429, headers: { "retry-after": DAY_S }, json: {} }],
      b: [{ status: 429, headers: { "retry-after": DAY_S }, json: {} }],
    },
    status: 429,
    headers: { "retry-after": CAP_S },
    tried: ["a", "b"],
    after: (h) => assert.equal(h.upstream("b").breaker.parkedUntil, h.time.now() + MAX_PARK_MS),
  },
  {
    name: "a Retry-After date a day ahead is bounded alike",
    config: serviceConfig(["a"]),
    script: { a: [unavailable(new Date(1_700_000_000_000 + 86_400_000).toUTCString())] },
    status: 503,
    headers: { "retry-after": CAP_S },
    tried: ["a"],
  },
  {
    name:
      "meanwhile requests get 503 with the bounded seconds left; after 5 minutes the instance serves again",
    config: serviceConfig(["a"]),
    script: { a: [unavailable(DAY_S), OK] },
    setup: async (h) => {
      await (await h.post(CHAT)).text();
      await h.time.advance(60_000);
      const parked = await h.post(CHAT);
      await parked.text();
      assert.equal(parked.status, 503);
      assert.equal(parked.headers.get("retry-after"), String(MAX_PARK_MS / 1000 - 60));
      await h.time.advance(MAX_PARK_MS - 60_000);
    },
    status: 200,
    answer: (body) => assert.equal((body as { object: string }).object, "chat.completion"),
    tried: ["a", "a"],
    after: (h) => assert.equal(h.upstream("a").breaker.canPass(), true),
  },
];

runCases("Retry-After cap", CASES);
