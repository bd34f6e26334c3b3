import assert from "node:assert/strict";
import { GatewayError } from "../errors.ts";
import { parseJsonBody, readBounded, readRequestBody } from "./body.ts";

const bounded = (limit: number) => (r: Request) => readBounded(r, limit);

const req = (body: BodyInit, type: string, headers: Record<string, string> = {}) =>
  new Request("http://x/", { method: "POST", body, headers: { "content-type": type, ...headers } });

async function code(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    return `${(e as GatewayError).status} ${(e as GatewayError).code}`;
  }
  return "ok";
}

Deno.test("readBounded() refuses by Content-Length before reading, and by counting when it lies or is absent", async () => {
  assert.equal(await code(readBounded(req("x".repeat(20), "text/plain"), 10)), "413 payload_too_large");
  const chunks = new ReadableStream({
    start(c) {
      for (let i = 0; i < 5; i++) c.enqueue(new Uint8Array(4));
      c.close();
    },
  });
  assert.equal(
    await code(readBounded(new Request("http://x/", { method: "POST", body: chunks }), 10)),
    "413 payload_too_large",
  );
  assert.equal((await readBounded(req("12345", "text/plain"), 5)).byteLength, 5);
  const lying = req("x".repeat(20), "text/plain", { "content-length": "3" });
  assert.equal(await code(readBounded(lying, 10)), "413 payload_too_large");
  assert.equal((await readBounded(req("123", "text/plain", { "content-length": "3" }), 5)).byteLength, 3);
});

Deno.test("parseJsonBody() reads model and stream, and names what is wrong", async () => {
  const ok = parseJsonBody(new TextEncoder().encode('{"model":"m","stream":true}'));
  assert.equal(ok.model, "m");
  assert.equal(ok.stream, true);
  const enc = (s: string) => new TextEncoder().encode(s);
  assert.equal(await code(() => parseJsonBody(enc("{"))), "400 invalid_json");
  assert.equal(await code(() => parseJsonBody(enc("[1]"))), "400 invalid_json");
  assert.equal(await code(() => parseJsonBody(enc("{}"))), "400 missing_model");
  assert.equal(await code(() => parseJsonBody(enc('{"model":3}'))), "400 invalid_model");
});

Deno.test("readRequestBody() checks the content type per endpoint and validates multipart bodies", async () => {
  assert.equal(
    await code(readRequestBody(req("{}", "text/plain"), "json", bounded(100))),
    "415 unsupported_media_type",
  );
  assert.equal(
    await code(readRequestBody(req("{}", "application/json"), "multipart", bounded(100))),
    "415 unsupported_media_type",
  );
  const form = new FormData();
  form.set("model", "whisper");
  form.set("file", new File([new Uint8Array(10)], "a.wav"));
  const r = new Request("http://x/", { method: "POST", body: form });
  const parsed = await readRequestBody(r, "multipart", bounded(10_000));
  assert.equal(parsed.model, "whisper");
  assert.equal(parsed.body.kind, "raw");
  const truncated = '--b\r\nContent-Disposition: form-data; name="model"\r\n\r\nm\r\n';
  assert.equal(
    await code(
      readRequestBody(req(truncated, "multipart/form-data; boundary=b"), "multipart", bounded(1000)),
    ),
    "400 invalid_multipart",
  );
  assert.equal(
    await code(readRequestBody(req("x", "multipart/form-data"), "multipart", bounded(1000))),
    "400 invalid_multipart",
  );
});

Deno.test("parseJsonBody() refuses a body naming model twice with 400 duplicate_model", async () => {
  const enc = new TextEncoder();
  assert.equal(
    await code(() => parseJsonBody(enc.encode('{"model":"other","model":"allowed"}'))),
    "400 duplicate_model",
  );
  assert.equal(await code(() => parseJsonBody(enc.encode('{"model":"a","tools":[{"model":"b"}]}'))), "ok");
});

Deno.test("readRequestBody() refuses a multipart body with two model fields", async () => {
  const form = new FormData();
  form.append("model", "other");
  form.append("model", "allowed");
  form.append("file", new Blob([new Uint8Array(4)]), "a.wav");
  const body = new Request("http://x/", { method: "POST", body: form });
  assert.equal(await code(readRequestBody(body, "multipart", bounded(1 << 20))), "400 duplicate_model");
});
