/**
 * Hot-path costs of the adapters: preparing a pass-through call, reading a form field out of a
 * large multipart upload, translating an Ollama NDJSON stream, and normalising a rerank answer.
 */
import { createOllamaChatStream } from "./ollama_response.ts";
import { formField } from "./multipart.ts";
import { normaliseRerank, readRerankRequest } from "./rerank.ts";
import { openaiAdapter } from "./openai.ts";
import { HeaderList } from "../header_list.ts";

const enc = new TextEncoder();
const chatValue = { model: "m", messages: [{ role: "user", content: "hi" }] };
const chatBytes = enc.encode(JSON.stringify(chatValue));

const audio = new Uint8Array(25 * 1024 * 1024);
const tail = enc.encode(
  '\r\n--b\r\nContent-Disposition: form-data; name="response_format"\r\n\r\nsrt\r\n--b--\r\n',
);
const upload = new Uint8Array(audio.length + tail.length + 200);
const head = enc.encode('--b\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n');
upload.set(head, 0);
upload.set(tail, head.length + audio.length);

const line =
  '{"model":"m","created_at":"2025-05-27T22:54:57Z","message":{"role":"assistant","content":" tok"},"done":false}\n';
const ndjson = enc.encode(line.repeat(1000) + '{"model":"m","message":{"content":""},"done":true}\n');

const rerankReq = readRerankRequest({
  query: "q",
  documents: Array.from({ length: 100 }, (_, i) => `d${i}`),
});
const rerankUp = {
  results: Array.from({ length: 100 }, (_, i) => ({ index: i, relevance_score: (i * 37) % 100 })),
};

Deno.bench("openai prepare(chat) pass-through", () => {
  openaiAdapter.prepare({
    service: "chat",
    route: "/v1/chat/completions",
    stream: false,
    headers: new HeaderList([["x-request-id", "r"]]),
    target: { baseUrl: "http://127.0.0.1:8000", apiKey: "k", headers: {} },
    body: { kind: "json", bytes: chatBytes, value: chatValue },
  });
});

Deno.bench("formField() in a 25 MB multipart upload", () => {
  formField(upload, "multipart/form-data; boundary=b", "response_format");
});

Deno.bench("ollama NDJSON → SSE, 1000 tokens", async () => {
  await new Response(
    new Response(ndjson).body!.pipeThrough(createOllamaChatStream({ model: "m", includeUsage: false })),
  )
    .arrayBuffer();
});

Deno.bench("normaliseRerank() of 100 results", () => {
  normaliseRerank(rerankUp, rerankReq);
});
