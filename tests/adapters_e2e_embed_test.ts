/**
 * Adapters end to end (issue 5), embedding and rerank servers: text-embeddings-inference (native
 * `/embed` and `/rerank` translated both ways) and Infinity, driven by the official `openai` SDK
 * through a real gateway.
 */

import assert from "node:assert/strict";
import OpenAI from "openai";
import {
  assertRefusedAndProbe,
  DOCS,
  startInfinity,
  startTei,
  vectorOf,
  withGateway,
} from "./fakes/dialects/mod.ts";

Deno.test("tei adapter: OpenAI embeddings ↔ /embed, Jina rerank ↔ /rerank, refusals, /health probe", async () => {
  const fake = startTei();
  const mounts = [
    { service: "embedding" as const, model: "bge-m3", fake, adapter: "tei" as const },
    {
      service: "embedding" as const,
      model: "bge-m3-openai",
      fake,
      adapter: "tei" as const,
      path: "/v1/embeddings",
    },
    { service: "rerank" as const, model: "bge-reranker", fake, adapter: "tei" as const },
    { service: "chat" as const, model: "bge-m3", fake, adapter: "tei" as const },
  ];
  await withGateway([fake], mounts, async ({ client, post }) => {
    const emb = await client.embeddings.create({ model: "bge-m3", input: ["a", "b"] });
    assert.deepEqual(emb.data.map((d) => d.embedding), [vectorOf(0), vectorOf(1)]);
    assert.equal(emb.model, "bge-m3");
    assert.deepEqual(fake.last("/embed").json, { inputs: ["a", "b"] }, "model and encoding_format stay here");
    const floats = await client.embeddings.create({ model: "bge-m3", input: "a", encoding_format: "float" });
    assert.deepEqual(floats.data[0].embedding, vectorOf(0));
    assert.deepEqual(fake.last("/embed").json, { inputs: "a" });

    const openaiRoute = await client.embeddings.create({ model: "bge-m3-openai", input: ["a"] });
    assert.deepEqual(openaiRoute.data[0].embedding, vectorOf(0));
    assert.equal(fake.last("/v1/embeddings").json?.encoding_format, "base64", "forwarded untouched");

    const rr = await post("/v1/rerank", {
      model: "bge-reranker",
      query: "deno",
      documents: DOCS.map((text) => ({ text })),
      top_n: 2,
      return_documents: true,
    });
    assert.equal(rr.status, 200);
    assert.deepEqual(rr.body, {
      model: "bge-reranker",
      results: [
        { index: 1, relevance_score: 0.89, document: { text: "deno runtime" } },
        { index: 3, relevance_score: 0.87, document: { text: "deno deploy" } },
      ],
    });
    assert.deepEqual(fake.last("/rerank").json, { query: "deno", texts: DOCS, return_text: true });

    const before = fake.requests.length;
    await assert.rejects(
      client.chat.completions.create({ model: "bge-m3", messages: [{ role: "user", content: "hi" }] }),
      (e: unknown) =>
        e instanceof OpenAI.BadRequestError &&
        e.message.includes("The text-embeddings-inference backend does not serve chat completions."),
    );
    assert.equal(fake.requests.length, before, "a refused chat never reached TEI");
    const image = {
      path: "/v1/rerank",
      body: { model: "bge-reranker", query: "q", documents: [{ image: "x" }] },
      error: "documents[0] must be a string or {text} object: text-embeddings-inference reranks text only.",
    };
    const tokens = {
      path: "/v1/embeddings",
      body: { model: "bge-m3", input: [[1, 2, 3]] },
      error: /text-embeddings-inference embeds text, not token ids/,
    };
    await assertRefusedAndProbe(post, fake, [image, tokens], {
      adapter: "tei",
      service: "embedding",
      path: "/health",
    });
  });
});

Deno.test("infinity adapter: /embeddings with base64, /rerank under data normalised to results, no chat, /health", async () => {
  const fake = startInfinity();
  const mounts = [
    { service: "embedding" as const, model: "bge-small", fake, adapter: "infinity" as const },
    { service: "rerank" as const, model: "mxbai-rerank", fake, adapter: "infinity" as const },
    { service: "chat" as const, model: "bge-small", fake, adapter: "infinity" as const },
  ];
  await withGateway([fake], mounts, async ({ client, post }) => {
    const emb = await client.embeddings.create({ model: "bge-small", input: ["a", "b", "c"] });
    assert.deepEqual(emb.data.map((d) => d.embedding), [vectorOf(0), vectorOf(1), vectorOf(2)]);
    assert.equal(fake.requests.at(-1)?.path, "/embeddings");

    const rr = await post("/v1/rerank", {
      model: "mxbai-rerank",
      query: "deno",
      documents: DOCS,
      return_documents: true,
      top_n: 3,
    });
    assert.equal(rr.status, 200);
    assert.deepEqual(rr.body, {
      id: "infinity-rerank",
      model: "mxbai-rerank",
      results: [
        { index: 1, relevance_score: 0.89, document: { text: "deno runtime" } },
        { index: 3, relevance_score: 0.87, document: { text: "deno deploy" } },
        { index: 2, relevance_score: 0.12, document: { text: "rust crabs" } },
      ],
      usage: { prompt_tokens: 8, total_tokens: 8 },
    });
    const bare = await post("/v1/rerank", {
      model: "mxbai-rerank",
      query: "deno",
      documents: DOCS,
      top_n: 1,
    });
    assert.deepEqual(bare.body.results, [{ index: 1, relevance_score: 0.89 }]);

    const chat = {
      path: "/v1/chat/completions",
      body: { model: "bge-small", messages: [] },
      error: "The Infinity backend does not serve chat completions.",
    };
    await assertRefusedAndProbe(post, fake, [chat], {
      adapter: "infinity",
      service: "embedding",
      path: "/health",
    });
  });
});
