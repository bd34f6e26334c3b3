/**
 * The edges of a translated stream, over real sockets: an upstream that breaks after its first
 * chunk ends the client's stream with the dialect's own error event (each client library raises
 * it), and a client that leaves mid-stream aborts the upstream at once; every in-flight count is
 * back to zero either way (`withDialectGateway` checks it after each test).
 */

import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { Ollama } from "ollama";
import { accessLines, BROKEN, withDialectGateway } from "./fakes/dialect_gateway.ts";
import { eventually } from "./fakes/gateway.ts";

const FAILURE = /llama runner process has terminated/;

Deno.test("an upstream failing mid-stream ends each dialect's stream with its error event", async () => {
  await withDialectGateway(async ({ gw }) => {
    const anthropic = new Anthropic({ baseURL: gw.url, apiKey: "unused", maxRetries: 0 });
    let text = "";
    const stream = anthropic.messages.stream({
      model: BROKEN,
      max_tokens: 8,
      messages: [{ role: "user", content: "hi" }],
    });
    stream.on("text", (d) => text += d);
    await assert.rejects(
      stream.finalMessage(),
      (err: Error) => err instanceof Anthropic.APIError && FAILURE.test(err.message),
    );
    assert.equal(text, "Hello", "what came before the failure was delivered");

    const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused", maxRetries: 0 });
    await assert.rejects(
      openai.responses.stream({ model: BROKEN, input: "hi" }).finalResponse(),
      (err: Error) => FAILURE.test(err.message),
    );

    const ollama = new Ollama({ host: gw.url });
    const parts: string[] = [];
    await assert.rejects(async () => {
      for await (
        const part of await ollama.chat({
          model: BROKEN,
          messages: [{ role: "user", content: "hi" }],
          stream: true,
        })
      ) {
        parts.push(part.message.content);
      }
    }, FAILURE);
    assert.deepEqual(parts, ["Hello"]);
    const raw = await fetch(`${gw.url}/api/generate`, {
      method: "POST",
      body: JSON.stringify({ model: BROKEN, prompt: "hi" }),
    });
    const lines = (await raw.text()).trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines.at(-1), { error: "llama runner process has terminated" });
    // Ollama's error line fails the attempt (breaker, metrics, log): it is no success that said so.
    await eventually(
      () => accessLines(gw).filter((l) => l.model === BROKEN).length === 4,
      "four access lines",
    );
    assert.deepEqual(
      accessLines(gw).filter((l) => l.model === BROKEN).map((l) => [l.dialect, l.status, l.error]),
      [
        ["anthropic", 200, "upstream_body"],
        ["responses", 200, "upstream_body"],
        ["ollama", 200, "upstream_body"],
        ["ollama", 200, "upstream_body"],
      ],
    );
  });
});

Deno.test("a client leaving a translated stream aborts the upstream at once and is logged as client_abort", async () => {
  await withDialectGateway(async ({ gw, fakeOf }) => {
    for (const model of ["qwen3-vllm", "qwen3-ollama"]) {
      const fake = fakeOf(model);
      const release = fake.hold(10_000); // the upstream holds its last part: it cannot end by itself
      try {
        const anthropic = new Anthropic({ baseURL: gw.url, apiKey: "unused", maxRetries: 0 });
        const stream = anthropic.messages.stream({
          model,
          max_tokens: 8,
          messages: [{ role: "user", content: "hi" }],
        });
        const ended = stream.finalMessage().then(() => "complete", (e: Error) => e.name);
        await new Promise<void>((resolve) => stream.on("text", () => resolve()));
        assert.equal(fake.openStreams, 1);
        stream.abort();
        assert.equal(await ended, "APIUserAbortError");
        await eventually(() => fake.openStreams === 0, `${model}: the upstream stream aborted`);
        await eventually(() => gw.gateway.inFlight() === 0, "in-flight released");
        await eventually(() => accessLines(gw).at(-1)?.error === "client_abort", "logged as client_abort");
        assert.equal(accessLines(gw).at(-1)!.dialect, "anthropic");
      } finally {
        release();
      }
    }
  });
});
