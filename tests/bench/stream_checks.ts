/**
 * Issue 12 wants streams cheaper without losing what the gateway does to them, so the bench checks
 * it on the running gateway before measuring: usage accounting (the completion tokens of streamed
 * answers reach `dairouter_tokens_total`) and the SSE error event when the upstream breaks a stream
 * mid-way (the fake upstream breaks any stream whose request holds `BENCH_BREAK`).
 *
 * @module
 */

import { CHAT_MODEL } from "./gateway_config.ts";
import type { FeatureCheck } from "./targets.ts";

/** Completion tokens the upstream reports per stream (its last chunk's `usage`, `upstream.ts`). */
const TOKENS_PER_STREAM = 50;
const STREAMS = 3;

const body = (content: string) =>
  JSON.stringify({ model: CHAT_MODEL, messages: [{ role: "user", content }], stream: true });

async function post(base: string, content: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${base}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: body(content),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, text: await res.text() };
}

/** Sum of `dairouter_tokens_total{…direction="out"…}` on `/metrics`. */
export function tokensOut(metrics: string): number {
  let sum = 0;
  for (const line of metrics.split("\n")) {
    if (line.startsWith("dairouter_tokens_total{") && line.includes('direction="out"')) {
      sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return sum;
}

async function scrape(base: string): Promise<number> {
  const res = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(10_000) });
  return tokensOut(await res.text());
}

async function usageCheck(base: string): Promise<FeatureCheck> {
  const name = "streams keep usage accounting";
  const before = await scrape(base);
  for (let i = 0; i < STREAMS; i++) await post(base, "Say hello in one short sentence.");
  const want = STREAMS * TOKENS_PER_STREAM;
  let got = 0;
  // The gateway records usage when the relay ends, just after the client read the last byte.
  for (let tries = 0; tries < 20 && got < want; tries++) {
    got = (await scrape(base)) - before;
    if (got < want) await new Promise((r) => setTimeout(r, 100));
  }
  return {
    name,
    ok: got === want,
    detail: `${STREAMS} streams → ${got} output tokens counted (expected ${want})`,
  };
}

async function breakCheck(base: string): Promise<FeatureCheck> {
  const name = "streams keep the SSE error event when the upstream breaks";
  const { status, text } = await post(base, "BENCH_BREAK");
  const events = text.split("\n\n").filter((e) => e.startsWith("data: "));
  const last = events.at(-1) ?? "";
  const chunks = events.filter((e) => e.includes('"chat.completion.chunk"')).length;
  const ok = status === 200 && chunks === 3 && last.includes('"error"') && !text.includes("[DONE]");
  return {
    name,
    ok,
    detail: `${status}, ${chunks} chunks relayed, then ${
      ok ? "an error event" : JSON.stringify(last.slice(0, 120))
    }`,
  };
}

/** Runs both checks against the gateway at `base`; a failure is a result, not an exception. */
export async function streamChecks(base: string): Promise<FeatureCheck[]> {
  const safe = async (name: string, check: () => Promise<FeatureCheck>): Promise<FeatureCheck> => {
    try {
      return await check();
    } catch (error) {
      return { name, ok: false, detail: `check failed: ${(error as Error).message}` };
    }
  };
  return [
    await safe("streams keep usage accounting", () => usageCheck(base)),
    await safe("streams keep the SSE error event when the upstream breaks", () => breakCheck(base)),
  ];
}
