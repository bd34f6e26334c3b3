/**
 * End-to-end: a real gateway in front of two fake OpenAI-compatible upstreams, driven by the
 * official `openai` SDK the way an application would, over real sockets.
 */

import assert from "node:assert/strict";
import OpenAI, { toFile } from "openai";
import { eventually, startGateway, type TestGateway } from "./fakes/gateway.ts";
import { toneOf } from "./fakes/media.ts";
import { type FakeUpstream, startFakeUpstream } from "./fakes/openai_upstream.ts";
import { parsePng } from "./fakes/png.ts";
import { parseWav } from "./fakes/wav.ts";

function config(a: FakeUpstream, b: FakeUpstream, extra = ""): string {
  const pair = (model: string) => `
        - name: "${model}"
          base-url: "${a.url}"
        - name: "${model}"
          base-url: "${b.url}/"`;
  return `
server:
  body-limit: 64kb
model:
  load-balance:
    type: round-robin
  adapter: normal
  health-check:
    enabled: false
${extra}
  services:
    chat:
      instances:${pair("qwen3:1.7B")}
    embedding:
      instances:${pair("bge-m3")}
    rerank:
      instances:${pair("bge-reranker")}
    tts:
      instances:${pair("cosyvoice")}
    stt:
      instances:${pair("whisper")}
    imgGen:
      instances:${pair("sd")}
    imgEdit:
      instances:${pair("sd")}
`;
}

async function withGateway(
  fn: (gw: TestGateway, a: FakeUpstream, b: FakeUpstream, client: OpenAI) => Promise<void>,
) {
  const a = startFakeUpstream({ name: "A", chunkDelayMs: 20 });
  const b = startFakeUpstream({ name: "B", chunkDelayMs: 20 });
  const gw = startGateway(config(a, b));
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "client-key", maxRetries: 0 });
  try {
    await fn(gw, a, b, client);
  } finally {
    await gw.close();
    await a.close();
    await b.close();
  }
}

Deno.test("chat completion through the SDK is spread round-robin across both upstreams", async () => {
  await withGateway(async (gw, a, b, client) => {
    const names = [];
    for (let i = 0; i < 4; i++) {
      const res = await client.chat.completions.create({
        model: "qwen3:1.7B",
        messages: [{ role: "user", content: "hi" }],
      });
      names.push(res.system_fingerprint);
      assert.match(res.choices[0].message.content ?? "", /^[AB]: w0/);
    }
    assert.deepEqual(names.sort(), ["A", "A", "B", "B"]);
    assert.equal(a.requests.length, 2);
    assert.equal(b.requests.length, 2);
    for (const u of gw.gateway.runtime().upstreams) assert.equal(u.stats.inFlight, 0);
  });
});

Deno.test("a JSON body the adapter does not change is forwarded byte for byte", async () => {
  await withGateway(async (gw, a, b) => {
    const raw =
      `{"model":"qwen3:1.7B",  "messages":[{"role":"user","content":"héllo"}],"tools":[{"type":"function"}],"x_vendor":1}`;
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: raw,
    });
    assert.equal(res.status, 200);
    await res.body?.cancel();
    const seen = [...a.requests, ...b.requests].at(-1)!;
    assert.equal(new TextDecoder().decode(seen.body), raw);
    assert.equal(seen.path, "/v1/chat/completions");
  });
});

Deno.test("streamed chat arrives chunk by chunk while the upstream is still sending", async () => {
  await withGateway(async (_gw, a, b, client) => {
    const stream = await client.chat.completions.create({
      model: "qwen3:1.7B",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    const parts: string[] = [];
    let openWhenFirst = -1;
    for await (const chunk of stream) {
      if (parts.length === 0) openWhenFirst = a.openStreams + b.openStreams;
      parts.push(chunk.choices[0]?.delta?.content ?? "");
    }
    assert.equal(openWhenFirst, 1, "the first chunk reached the client before the upstream finished");
    assert.equal(parts.join(""), "w0 w1 w2 w3 w4 ");
  });
});

Deno.test("client abort mid-stream aborts the upstream and releases the in-flight count", async () => {
  await withGateway(async (gw, a, b) => {
    const ctrl = new AbortController();
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "qwen3:1.7B", messages: [], stream: true }),
      signal: ctrl.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    ctrl.abort();
    await reader.closed.catch(() => {});
    await eventually(() => a.aborted + b.aborted === 1, "upstream saw the abort");
    await eventually(
      () => gw.gateway.runtime().upstreams.every((u) => u.stats.inFlight === 0),
      "in-flight back to 0",
    );
    await eventually(() => gw.logs.some((l) => l.includes("client_abort")), "access log records the abort");
  });
});

Deno.test("embeddings, rerank, speech, transcription, image generation and edit all pass through", async () => {
  await withGateway(async (gw, a, b, client) => {
    const emb = await client.embeddings.create({ model: "bge-m3", input: ["a", "b"] });
    assert.equal(emb.data.length, 2);

    const rerank = await fetch(`${gw.url}/v1/rerank`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "bge-reranker", query: "q", documents: ["x", "y", "z"], top_n: 2 }),
    });
    assert.equal(rerank.status, 200);
    const rr = await rerank.json();
    assert.equal(rr.results.length, 2);
    assert.ok(rr.results[0].relevance_score >= rr.results[1].relevance_score);

    // Speech is a real WAV; transcribing it tells its length and the speaker's note.
    const speech = await client.audio.speech.create({
      model: "cosyvoice",
      voice: "alloy",
      input: "hello there",
    });
    assert.equal(speech.headers.get("content-type"), "audio/wav");
    const wav = new Uint8Array(await speech.arrayBuffer());
    const spoken = parseWav(wav);
    assert.equal(spoken.seconds, 0.3);
    const speaker = spoken.toneHz === toneOf("A") ? "A" : "B";
    assert.equal(spoken.toneHz, toneOf(speaker));
    const tr = await client.audio.transcriptions.create({
      model: "whisper",
      file: await toFile(wav, "speech.wav", { type: "audio/wav" }),
    });
    assert.match(
      tr.text,
      new RegExp(`^[AB] heard 0\\.30 s of a ${toneOf(speaker)} Hz tone in speech\\.wav$`),
    );
    const upload = [...a.requests, ...b.requests].find((r) => r.path === "/v1/audio/transcriptions")!;
    assert.match(upload.headers.get("content-type") ?? "", /^multipart\/form-data; boundary=/);
    // Bytes that are not a WAV get the upstream's 400, passed through as it came.
    await assert.rejects(
      client.audio.transcriptions.create({
        model: "whisper",
        file: await toFile(new Uint8Array(1000).fill(7), "noise.wav", { type: "audio/wav" }),
      }),
      (e: unknown) => e instanceof OpenAI.BadRequestError && /noise\.wav is not a valid WAV/.test(e.message),
    );

    // Images are real PNGs, and the edit takes the generated one back.
    const gen = await client.images.generate({ model: "sd", prompt: "a cat", size: "256x256" });
    const png = Uint8Array.from(atob(gen.data![0].b64_json!), (c) => c.charCodeAt(0));
    assert.deepEqual([parsePng(png).width, parsePng(png).height], [256, 256]);
    assert.match(gen.data![0].revised_prompt!, /^[AB]: a cat$/);
    const image = await toFile(png, "cat.png", { type: "image/png" });
    const edit = await client.images.edit({ model: "sd", image, prompt: "add a hat" });
    const edited = parsePng(Uint8Array.from(atob(edit.data![0].b64_json!), (c) => c.charCodeAt(0)));
    assert.deepEqual([edited.width, edited.height], [256, 256]);
    assert.match(edit.data![0].revised_prompt!, /^[AB]: add a hat$/);
  });
});

Deno.test("models list is the union of configured models in OpenAI's list shape", async () => {
  await withGateway(async (_gw, _a, _b, client) => {
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    assert.deepEqual(ids, ["bge-m3", "bge-reranker", "cosyvoice", "qwen3:1.7B", "sd", "whisper"]);
  });
});

Deno.test("unknown model is a 404 listing what is available; missing model is a 400", async () => {
  await withGateway(async (gw, _a, _b, client) => {
    await assert.rejects(
      client.chat.completions.create({ model: "nope", messages: [] }),
      (e: InstanceType<typeof OpenAI.NotFoundError>) => {
        assert.equal(e.status, 404);
        assert.match(e.message, /"nope" does not exist.*Available: "qwen3:1\.7B"/);
        return true;
      },
    );
    const res = await fetch(`${gw.url}/v1/embeddings`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ input: "x" }),
    });
    assert.equal(res.status, 400);
    const body = await res.json();
    assert.equal(body.error.type, "invalid_request_error");
    assert.equal(body.error.code, "missing_model");
  });
});

Deno.test("malformed JSON, wrong content type, oversized and broken multipart bodies get clear errors", async () => {
  await withGateway(async (gw) => {
    const post = (path: string, body: BodyInit, type: string) =>
      fetch(`${gw.url}${path}`, { method: "POST", headers: { "content-type": type }, body });
    const bad = await post("/v1/chat/completions", "{not json", "application/json");
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error.code, "invalid_json");

    const wrongType = await post("/v1/chat/completions", "model=x", "application/x-www-form-urlencoded");
    assert.equal(wrongType.status, 415);
    assert.equal((await wrongType.json()).error.type, "invalid_request_error");

    const big = await post(
      "/v1/embeddings",
      JSON.stringify({ model: "bge-m3", input: "x".repeat(70_000) }),
      "application/json",
    );
    assert.equal(big.status, 413);
    assert.equal((await big.json()).error.code, "payload_too_large");

    const broken = await post(
      "/v1/audio/transcriptions",
      "--xx\r\nnot a part",
      "multipart/form-data; boundary=xx",
    );
    assert.equal(broken.status, 400);
    assert.equal((await broken.json()).error.code, "invalid_multipart");

    // The gateway keeps serving everyone else.
    const ok = await post(
      "/v1/embeddings",
      JSON.stringify({ model: "bge-m3", input: "x" }),
      "application/json",
    );
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
  });
});

Deno.test("X-Request-Id is accepted or generated and returned; X-Forwarded-For is appended", async () => {
  await withGateway(async (gw, a, b) => {
    const res = await fetch(`${gw.url}/v1/embeddings`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-request-id": "abc-123",
        "x-forwarded-for": "6.6.6.6",
      },
      body: JSON.stringify({ model: "bge-m3", input: "x" }),
    });
    await res.body?.cancel();
    assert.equal(res.headers.get("x-request-id"), "abc-123");
    const seen = [...a.requests, ...b.requests].at(-1)!;
    assert.equal(seen.headers.get("x-request-id"), "abc-123");
    // The peer is not a trusted proxy, so the forged chain is dropped and the socket address used.
    assert.equal(seen.headers.get("x-forwarded-for"), "127.0.0.1");
    assert.match(seen.headers.get("traceparent") ?? "", /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);

    const gen = await fetch(`${gw.url}/healthz`);
    assert.match(gen.headers.get("x-request-id") ?? "", /^[\w-]+$/);
    await gen.body?.cancel();
  });
});

Deno.test("status endpoints report every instance with health, in-flight and breaker state", async () => {
  await withGateway(async (gw) => {
    for (
      const path of [
        "/v1/chat/status",
        "/v1/embeddings/status",
        "/v1/rerank/status",
        "/v1/audio/speech/status",
        "/v1/audio/transcriptions/status",
        "/v1/images/generations/status",
        "/v1/images/edits/status",
      ]
    ) {
      const res = await fetch(`${gw.url}${path}`);
      assert.equal(res.status, 200, path);
      const body = await res.json();
      assert.equal(body.instances.length, 2, path);
      for (const inst of body.instances) {
        assert.equal(inst.healthy, true);
        assert.equal(inst.inFlight, 0);
        assert.equal(inst.breaker, "closed");
        assert.match(inst.url, /^http:\/\/127\.0\.0\.1:\d+/);
      }
    }
    assert.equal((await fetch(`${gw.url}/healthz`).then((r) => r.json())).status, "ok");
    assert.equal((await fetch(`${gw.url}/readyz`)).status, 200);
    const unknown = await fetch(`${gw.url}/v1/nothing`);
    assert.equal(unknown.status, 404);
    assert.equal((await unknown.json()).error.code, "unknown_url");
  });
});
