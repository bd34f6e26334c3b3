/**
 * The endpoints beside the services' main routes, over real sockets with the official `openai`
 * SDK: audio translations (stt: vLLM, Xinference), image variations (imgEdit: Xinference) and
 * moderations (chat: LocalAI), balanced like any request of their service, and refused with a
 * clear 400 by a backend that lacks them (nothing sent to it).
 */

import assert from "node:assert/strict";
import OpenAI, { toFile } from "openai";
import { startLocalai, startOllama, startVllm, startXinference } from "./fakes/dialects/mod.ts";
import { startGateway } from "./fakes/gateway.ts";
import { encodePng } from "./fakes/png.ts";

Deno.test("translations, variations and moderations reach the backends that serve them; others refuse", async () => {
  const [vllm, xinf, localai, ollama] = [startVllm(), startXinference(), startLocalai(), startOllama()];
  const gw = startGateway(`
model:
  load-balance: { type: round-robin }
  health-check: { enabled: false }
  services:
    stt:
      instances:
        - { name: whisper, base-url: "${vllm.url}", adapter: vllm }
        - { name: whisper, base-url: "${xinf.url}", adapter: xinference }
        - { name: whisper-ollama, base-url: "${ollama.url}", adapter: ollama }
    imgEdit:
      instances:
        - { name: sd, base-url: "${xinf.url}", adapter: xinference }
        - { name: sd-local, base-url: "${localai.url}", adapter: localai }
    chat:
      instances:
        - { name: guard, base-url: "${localai.url}", adapter: localai }
        - { name: guard-vllm, base-url: "${vllm.url}", adapter: vllm }
`);
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused", maxRetries: 0 });
  const audio = () => toFile(new Uint8Array(12), "a.wav", { type: "audio/wav" });
  try {
    const heard = [];
    for (let i = 0; i < 2; i++) {
      heard.push((await client.audio.translations.create({ model: "whisper", file: await audio() })).text);
    }
    assert.deepEqual(heard.sort(), ["vllm translated 12 bytes", "xinference translated 12 bytes"]);
    assert.equal(vllm.last("/v1/audio/translations").form!.get("model"), "whisper");

    const png = await toFile(encodePng(2, 2, () => [255, 0, 0]), "a.png", { type: "image/png" });
    const variation = await client.images.createVariation({ model: "sd", image: png });
    assert.match(atob(variation.data![0].b64_json!), /^xinference-variation:/);

    const mod = await client.moderations.create({ model: "guard", input: ["hello", "I will kill it"] });
    assert.deepEqual(mod.results.map((r) => r.flagged), [false, true]);
    assert.equal(localai.last("/v1/moderations").json!.model, "guard");

    const before = [ollama, localai, vllm].map((f) => f.requests.length);
    await assert.rejects(
      client.audio.translations.create({ model: "whisper-ollama", file: await audio() }),
      (e: Error) =>
        e instanceof OpenAI.BadRequestError &&
        /The Ollama backend does not serve audio translations\./.test(e.message),
    );
    await assert.rejects(
      client.images.createVariation({ model: "sd-local", image: png }),
      (e: Error) =>
        e instanceof OpenAI.BadRequestError &&
        /The LocalAI backend does not serve image variations\./.test(e.message),
    );
    await assert.rejects(
      client.moderations.create({ model: "guard-vllm", input: "x" }),
      (e: Error) =>
        e instanceof OpenAI.BadRequestError &&
        /The vLLM backend does not serve moderations\./.test(e.message),
    );
    assert.deepEqual(
      [ollama, localai, vllm].map((f) => f.requests.length),
      before,
      "nothing sent to a backend that lacks it",
    );
    const lines = gw.logs.filter((l) => l.includes('"msg":"access"')).map((l) => JSON.parse(l));
    assert.deepEqual(lines.slice(0, 4).map((l) => [l.route, l.service]), [
      ["/v1/audio/translations", "stt"],
      ["/v1/audio/translations", "stt"],
      ["/v1/images/variations", "imgEdit"],
      ["/v1/moderations", "chat"],
    ]);
  } finally {
    await gw.close();
    for (const f of [vllm, xinf, localai, ollama]) await f.close();
  }
});
