/**
 * The model catalogue over real sockets, with the official `openai` SDK: `GET /v1/models` and
 * `/v1/models/{id}` (aliases listed unless hidden, a key sees only its models), `upstream-model`
 * in a multipart upload, and a cross-model fallback chain — taken when the model's instance is
 * down, refused with `X-DAiRouter-No-Substitute`, counted in the metrics.
 */

import assert from "node:assert/strict";
import OpenAI, { toFile } from "openai";
import { startVllm } from "./fakes/dialects/mod.ts";
import { startGateway } from "./fakes/gateway.ts";

const KEY = "sk-catalogue-e2e-0123456789";

function yaml(vllm: string, dead: string): string {
  return `
auth:
  enabled: true
  keys:
    - { name: all, key: ${KEY} }
    - { name: small, key: ${KEY}-small, models: [qwen3-8b, small-alias] }
model:
  health-check: { enabled: false }
  aliases:
    gpt-4o: qwen3-32b
    small-alias: qwen3-8b
    secret: { model: qwen3-8b, hidden: true }
    "claude-*": qwen3-32b
  fallbacks:
    qwen3-32b: [qwen3-8b]
  services:
    chat:
      retry: { max-attempts: 3 }
      instances:
        - { name: qwen3-32b, base-url: "${dead}", adapter: vllm }
        - { name: qwen3-8b, base-url: "${vllm}", adapter: vllm, upstream-model: Qwen/Qwen3-8B }
    stt:
      instances:
        - { name: whisper, base-url: "${vllm}", adapter: vllm, upstream-model: openai/whisper-large-v3 }
`;
}

/** A port nothing listens on: connections are refused at once. */
function deadUrl(): string {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return `http://127.0.0.1:${port}`;
}

async function withCatalogue(fn: (url: string, vllm: ReturnType<typeof startVllm>) => Promise<void>) {
  const vllm = startVllm();
  const gw = startGateway(yaml(vllm.url, deadUrl()));
  try {
    await fn(gw.url, vllm);
    assert.equal(gw.gateway.inFlight(), 0);
  } finally {
    await gw.close();
    await vllm.close();
  }
}

const sdk = (url: string, key = KEY) => new OpenAI({ baseURL: `${url}/v1`, apiKey: key, maxRetries: 0 });

Deno.test("GET /v1/models lists models and visible aliases; a key with a models list sees only those", async () => {
  await withCatalogue(async (url) => {
    const all = await sdk(url).models.list();
    assert.deepEqual(all.data.map((m) => [m.id, (m as unknown as { alias_of?: string }).alias_of ?? null]), [
      ["gpt-4o", "qwen3-32b"],
      ["qwen3-32b", null],
      ["qwen3-8b", null],
      ["small-alias", "qwen3-8b"],
      ["whisper", null],
    ]);
    const small = await sdk(url, `${KEY}-small`).models.list();
    assert.deepEqual(small.data.map((m) => m.id), ["qwen3-8b", "small-alias"]);
    // By id: a hidden alias and a name a pattern matches answer too; an unknown one is a 404.
    assert.equal(
      (await sdk(url).models.retrieve("secret") as unknown as { alias_of: string }).alias_of,
      "qwen3-8b",
    );
    assert.equal((await sdk(url).models.retrieve("claude-opus-4-1")).id, "claude-opus-4-1");
    await assert.rejects(sdk(url).models.retrieve("gpt-5"), OpenAI.NotFoundError);
    await assert.rejects(sdk(url, `${KEY}-small`).models.retrieve("qwen3-32b"), OpenAI.NotFoundError);
    await assert.rejects(sdk(url, "wrong").models.retrieve("qwen3-8b"), OpenAI.AuthenticationError);
  });
});

Deno.test("a down model falls back along its chain: the answer names the model that served, the metrics count it", async () => {
  await withCatalogue(async (url, vllm) => {
    const { data, response } = await sdk(url).chat.completions.create({
      model: "gpt-4o",
      messages: [{ role: "user", content: "hi" }],
    }).withResponse();
    assert.equal(data.model, "qwen3-8b");
    assert.equal(response.headers.get("x-dairouter-model"), "qwen3-8b");
    assert.equal(response.headers.get("x-dairouter-fallback"), "model");
    assert.equal(vllm.last("/v1/chat/completions").json!.model, "Qwen/Qwen3-8B");
    // Streamed too: nothing was sent before the substitution.
    let text = "";
    for await (
      const chunk of await sdk(url).chat.completions.create({
        model: "qwen3-32b",
        stream: true,
        messages: [{ role: "user", content: "hi" }],
      })
    ) {
      assert.equal(chunk.model, "qwen3-8b");
      text += chunk.choices[0]?.delta?.content ?? "";
    }
    assert.equal(text, "Hello from the fake");
    const metrics = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${KEY}` } }))
      .text();
    assert.match(metrics, /dairouter_fallbacks_total\{service="chat",model="qwen3-32b",strategy="model"\} 2/);
  });
});

Deno.test("X-DAiRouter-No-Substitute: the client gets the model it named or an error, never another", async () => {
  await withCatalogue(async (url, vllm) => {
    const before = vllm.requests.length;
    const err = await sdk(url).chat.completions.create(
      { model: "qwen3-32b", messages: [{ role: "user", content: "hi" }] },
      { headers: { "X-DAiRouter-No-Substitute": "true" } },
    ).catch((e) => e);
    assert(err instanceof OpenAI.APIError);
    assert.equal(err.status, 502, "the connection to its instance was refused");
    assert.equal(vllm.requests.length, before, "qwen3-8b was not asked");
  });
});

Deno.test("upstream-model replaces the model field of a multipart upload; the file goes as sent", async () => {
  await withCatalogue(async (url, vllm) => {
    const audio = new Uint8Array([82, 73, 70, 70, 0, 1, 2, 255, 254]);
    const res = await sdk(url).audio.transcriptions.create({
      model: "whisper",
      file: await toFile(audio, "a.wav", { type: "audio/wav" }),
    });
    assert.equal(res.text, "vllm heard 9 bytes");
    const seen = vllm.last("/v1/audio/transcriptions").form!;
    assert.equal(seen.get("model"), "openai/whisper-large-v3");
    assert.deepEqual(new Uint8Array(await (seen.get("file") as File).arrayBuffer()), audio);
  });
});
