/**
 * A stdout that stops reading (a paused terminal, a stuck log driver) through a real process and
 * a real pipe: requests are still answered at once, what waits for stdout stays under
 * `log.max-pending-bytes`, and once stdout reads again the gateway says how many lines it dropped.
 * Every request is either in the log or in that count; with workers, the supervisor (which owns
 * stdout) keeps that bound.
 */

import assert from "node:assert/strict";
import { oneInstanceYaml } from "./fakes/gateway.ts";
import { startFakeUpstream } from "./fakes/openai_upstream.ts";
import { spawnGateway } from "./fakes/process.ts";

const REQUESTS = 3000;
const CONCURRENCY = 32;

for (const workers of [1, 2]) {
  Deno.test(`a stdout that stops reading costs dropped, counted log lines, never a stalled request (workers: ${workers})`, () =>
    stuckStdout(workers));
}

async function stuckStdout(workers: number) {
  const up = startFakeUpstream({ name: "A" });
  const dir = await Deno.makeTempDir({ prefix: "dairouter-log-" });
  const config = `${dir}/config.yaml`;
  await Deno.writeTextFile(
    config,
    oneInstanceYaml(
      up.url,
      `log: { level: info, format: json, max-pending-bytes: 64kb }\nserver: { drain-delay: 0, workers: ${workers} }`,
    ),
  );
  const gw = await spawnGateway(["--config", config, "--no-watch"]);
  try {
    gw.pauseStdout();
    const body = JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] });
    let next = 0;
    const statuses = new Map<number, number>();
    const worker = async () => {
      while (next++ < REQUESTS) {
        const res = await fetch(`${gw.url}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
          signal: AbortSignal.timeout(10_000),
        });
        await res.body?.cancel();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    assert.deepEqual([...statuses], [[200, REQUESTS]], "every request answered while stdout was stuck");

    gw.resumeStdout();
    const warning = JSON.parse(await gw.waitFor(/"msg":"log lines dropped/));
    assert.equal(warning.level, "warn");
    assert.equal(warning.event, "log");
    const access = gw.lines.filter((l) => l.includes('"msg":"access"')).length;
    assert.ok(warning.dropped > 0 && access > 0, `${access} access lines, ${warning.dropped} dropped`);
    // ~400 bytes a line: the 64 KiB bound, the pipe's 64 KiB and a read in flight hold a few hundred.
    assert.ok(access < REQUESTS / 3, `${access} access lines were kept for a stuck stdout`);
    assert.equal(access + warning.dropped, REQUESTS, "every request is logged or counted as dropped");
  } finally {
    gw.kill("SIGTERM");
    await gw.exited;
    await up.close();
    await Deno.remove(dir, { recursive: true });
  }
}
