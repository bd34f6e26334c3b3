/**
 * Through real sockets and the real `openai` client: a `stream` that is not a boolean is refused
 * before any upstream is called, and a 503 for instances that are all parked by their own
 * `Retry-After` says how long to wait.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { oneInstanceYaml, withGateway } from "./fakes/gateway.ts";

const client = (url: string) => new OpenAI({ baseURL: `${url}/v1`, apiKey: "test", maxRetries: 0 });

Deno.test("a non-boolean stream is a 400 invalid_type naming the param; nothing reaches the upstream", async () => {
  await withGateway((u) => oneInstanceYaml(u), async (gw, up) => {
    const err = await client(gw.url).chat.completions.create({
      model: "m",
      messages: [{ role: "user", content: "hi" }],
      stream: "yes" as unknown as false,
    }).then(() => assert.fail("accepted"), (e) => e);
    assert.ok(err instanceof OpenAI.BadRequestError, String(err));
    assert.equal(err.status, 400);
    assert.equal(err.code, "invalid_type");
    assert.equal(err.param, "stream");
    assert.equal(err.message, "400 Invalid type for 'stream': expected a boolean, but got a string instead.");
    assert.equal(up.requests.length, 0);
    assert.match(gw.logs.find((l) => l.includes('"msg":"access"'))!, /"status":400.*"error":"invalid_type"/);
  });
});

Deno.test("an instance parked by its own 429 Retry-After: the next request gets 503 with the seconds left, and the instance is not called", async () => {
  await withGateway((u) => oneInstanceYaml(u), async (gw, up) => {
    up.fault = { kind: "status", status: 429, retryAfter: "30" };
    const first = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }),
    });
    assert.equal(first.status, 429);
    assert.equal(first.headers.get("retry-after"), "30");
    await first.body?.cancel();
    const err = await client(gw.url).chat.completions.create({
      model: "m",
      messages: [{ role: "user", content: "hi" }],
    }).then(() => assert.fail("answered"), (e) => e);
    assert.ok(err instanceof OpenAI.InternalServerError, String(err));
    assert.equal(err.status, 503);
    assert.equal(err.code, "service_unavailable");
    assert.match(err.message, /no available instance for model "m" \(1 circuit-open or parked\)/);
    const seconds = Number(err.headers.get("retry-after"));
    assert.ok(seconds >= 29 && seconds <= 30, `retry-after ${seconds}`);
    assert.equal(up.requests.length, 1, "the parked instance was not called again");
  });
});
