import assert from "node:assert/strict";
import { createMetrics, type Metrics } from "../observe/metrics.ts";
import { accessRecord } from "../observe/_testing.ts";
import { createScrapes } from "./scrapes.ts";

/** A scrape table on a hand-driven deadline; `scrape` returns the aggregate once settled. */
function rig() {
  let expire = () => {};
  const scrapes = createScrapes({
    timeoutMs: 2000,
    schedule: (fn) => ((expire = fn), () => {}),
    onLate() {},
  });
  let id = 0;
  /** Asks `asked`; each worker in `answers` answers with its metrics, the others miss the deadline. */
  const scrape = async (asked: number[], answers: Map<number, Metrics>): Promise<string> => {
    const text = new Promise<string>((reply) => id = scrapes.start(asked, () => {}, reply));
    for (const [i, m] of answers) scrapes.collected(id, i, await m.snapshot());
    if (asked.some((i) => !answers.has(i))) expire();
    return await text;
  };
  return { scrapes, scrape };
}

const retries = (m: Metrics, n: number) => {
  for (let i = 0; i < n; i++) m.recordRetry("chat", "m", "i");
};
const total = (text: string) =>
  Number(/^dairouter_retries_total\{service="chat",model="m",instance="i"\} (\d+)$/m.exec(text)?.[1] ?? 0);
const record = accessRecord({ model: "m", instance: "i", durationMs: 20, tokensIn: 1, tokensOut: 1 });

Deno.test("a worker that misses a scrape counts with its last answer: the aggregate never goes down", async () => {
  const { scrape } = rig();
  const a = createMetrics(), b = createMetrics();
  retries(a, 3);
  retries(b, 2);
  b.recordRequest(record);
  b.setInFlightSource(() => [{ service: "chat", instance: "i", inFlight: 7 }]);
  const first = await scrape([0, 1], new Map([[0, a], [1, b]]));
  assert.equal(total(first), 5);
  assert.match(first, /^dairouter_in_flight_requests\{service="chat",instance="i"\} 7$/m);
  retries(a, 1);
  const second = await scrape([0, 1], new Map([[0, a]])); // worker 1 is late
  assert.equal(total(second), 6, "4 from worker 0, 2 from worker 1's last answer");
  assert.match(second, /^dairouter_request_duration_seconds_count\{service="chat",model="m"\} 1$/m);
  assert.doesNotMatch(second, /dairouter_in_flight_requests\{/, "a late worker's gauges are not repeated");
});

Deno.test("a worker that is gone keeps what it counted, across replacements, merged into one", async () => {
  const { scrapes, scrape } = rig();
  const a = createMetrics();
  let b = createMetrics();
  retries(a, 3);
  retries(b, 2);
  b.recordRequest(record);
  assert.equal(total(await scrape([0, 1], new Map([[0, a], [1, b]]))), 5);
  scrapes.forget(1); // worker 1 failed; a fresh one takes its place, counting from 0
  b = createMetrics();
  retries(b, 1);
  const after = await scrape([0, 1], new Map([[0, a], [1, b]]));
  assert.equal(total(after), 6, "3 + 2 (gone) + 1 (the fresh one)");
  assert.match(after, /^dairouter_request_duration_seconds_count\{service="chat",model="m"\} 1$/m);
  scrapes.forget(1); // the fresh one fails too, after it had answered with 1
  assert.equal(total(await scrape([0], new Map([[0, a]]))), 6, "both gone workers' counts, once each");
  scrapes.forget(0);
  assert.equal(total(await scrape([], new Map())), 6, "with nobody left to ask, what was counted stays");
});

Deno.test("a worker gone before it ever answered adds nothing", async () => {
  const { scrapes, scrape } = rig();
  const a = createMetrics();
  retries(a, 3);
  scrapes.forget(1);
  assert.equal(total(await scrape([0], new Map([[0, a]]))), 3);
});

Deno.test("a worker that answered and then failed before the scrape settled is counted once", async () => {
  const { scrapes } = rig();
  const a = createMetrics(), b = createMetrics();
  retries(a, 3);
  retries(b, 2);
  const ask = (asked: number[]) => {
    let id = 0;
    const text = new Promise<string>((reply) => id = scrapes.start(asked, () => {}, reply));
    return { id, text };
  };
  const first = ask([0, 1]);
  scrapes.collected(first.id, 0, await a.snapshot());
  scrapes.collected(first.id, 1, await b.snapshot());
  assert.equal(total(await first.text), 5);
  const racing = ask([0, 1]);
  scrapes.collected(racing.id, 1, await b.snapshot());
  scrapes.forget(1); // worker 1 fails while worker 0 has not answered yet
  scrapes.collected(racing.id, 0, await a.snapshot());
  assert.equal(total(await racing.text), 5, "worker 1's 2 once (kept as gone), not its answer as well");
  const after = ask([0]);
  scrapes.collected(after.id, 0, await a.snapshot());
  assert.equal(total(await after.text), 5);
});

Deno.test("a worker that misses the deadline shows as a loop late by at least the deadline", async () => {
  const { scrape } = rig();
  const a = createMetrics(), b = createMetrics();
  a.setLoopLagSource(() => 4);
  b.setLoopLagSource(() => 3);
  const lag = (text: string) => Number(/^dairouter_event_loop_lag_seconds (\S+)$/m.exec(text)?.[1]);
  assert.equal(lag(await scrape([0, 1], new Map([[0, a], [1, b]]))), 0.004);
  assert.equal(lag(await scrape([0, 1], new Map([[0, a]]))), 2, "worker 1 missed the 2 s deadline");
});
