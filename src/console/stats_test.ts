import assert from "node:assert/strict";
import { parseConfig } from "../config/load.ts";
import { createGateway } from "../gateway.ts";
import { DeadlineSweep } from "../proxy/deadlines.ts";
import { ManualTime, ScriptedUpstreams, serviceConfig, type Step } from "../proxy/_testing.ts";
import { createConsoleStats } from "./stats.ts";

const OK: Step = { json: { id: "c1", object: "chat.completion", choices: [] } };
const E500: Step = { status: 500, json: { error: "boom" } };

Deno.test("console stats through gateway.fetch: attempts that fail over count as errors of their instance", async () => {
  const time = new ManualTime();
  const upstreams = new ScriptedUpstreams(time, { a: [E500], b: [OK] });
  const stats = createConsoleStats({ clock: time.now });
  const { config } = parseConfig(JSON.stringify(serviceConfig(["a", "b"])), { source: "t.json", env: {} });
  const gateway = createGateway(config, {
    clock: time.now,
    random: () => 0.5,
    fetch: upstreams.fetch as typeof fetch,
    write: () => {},
    deadlines: new DeadlineSweep(time),
    onAccess: stats.record,
    onAttemptFailed: stats.attemptFailed,
  });
  try {
    for (let i = 0; i < 6; i++) {
      const res = await gateway.fetch(
        new Request("http://x/v1/chat/completions", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }),
        }),
      );
      assert.equal(res.status, 200, "b serves every request");
      await res.body?.cancel();
    }
    await time.advance(1000);
    const [a, b] = gateway.runtime().upstreams.map((u) => u.id);
    const attemptsOnA = upstreams.tried.filter((l) => l === "a").length;
    assert.ok(attemptsOnA >= 3, `a was tried ${attemptsOnA} times`);
    assert.deepEqual(stats.instances.window(a, 5), { requests: attemptsOnA, errors: attemptsOnA, tokens: 0 });
    assert.equal(stats.instances.window(b, 5).requests, 6);
    assert.equal(stats.instances.window(b, 5).errors, 0);
    assert.equal(stats.services.window("chat", 5).errors, 0, "every request was served");
  } finally {
    await gateway.close();
  }
});
