import assert from "node:assert/strict";
import { GatewayError } from "../errors.ts";
import { type BodyReader, parseJsonBody, readRequestBody } from "./body.ts";

/** The body as it came; limits and deadlines are readGuarded's (body_guard_test.ts). */
const whole: BodyReader = (r) => r.bytes();

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

Deno.test("parseJsonBody() reads model and stream, and names what is wrong", async () => {
  const ok = parseJsonBody(new TextEncoder().encode('{"model":"m","stream":true}'));
  assert.equal(ok.model, "m");
  assert.equal(ok.stream, true);
  const enc = (s: string) => new TextEncoder().encode(s);
  assert.equal(await code(() => parseJsonBody(enc("{"))), "400 invalid_json");
  assert.equal(await code(() => parseJsonBody(enc("[1]"))), "400 invalid_json");
  assert.equal(await code(() => parseJsonBody(enc("{}"))), "400 missing_model");
  assert.equal(await code(() => parseJsonBody(enc('{"model":3}'))), "400 invalid_model");
  assert.equal(parseJsonBody(enc('{"model":"m","stream":null}')).stream, false);
  assert.equal(parseJsonBody(enc('{"model":"m","stream":false}')).stream, false);
  for (const bad of ['"yes"', "1", "[]", "{}"]) {
    assert.equal(
      await code(() => parseJsonBody(enc(`{"model":"m","stream":${bad}}`))),
      "400 invalid_type",
      bad,
    );
  }
  assert.throws(
    () => parseJsonBody(enc('{"model":"m","stream":"yes"}')),
    (e: Error & { param?: string }) =>
      e.message === "Invalid type for 'stream': expected a boolean, but got a string instead." &&
      e.param === "stream",
  );
});

Deno.test("readRequestBody() checks the content type per endpoint and validates multipart bodies", async () => {
  assert.equal(
    await code(readRequestBody(req("{}", "text/plain"), "json", whole)),
    "415 unsupported_media_type",
  );
  assert.equal(
    await code(readRequestBody(req("{}", "application/json"), "multipart", whole)),
    "415 unsupported_media_type",
  );
  const form = new FormData();
  form.set("model", "whisper");
  form.set("file", new File([new Uint8Array(10)], "a.wav"));
  const r = new Request("http://x/", { method: "POST", body: form });
  const parsed = await readRequestBody(r, "multipart", whole);
  assert.equal(parsed.model, "whisper");
  assert.equal(parsed.body.kind, "raw");
  const truncated = '--b\r\nContent-Disposition: form-data; name="model"\r\n\r\nm\r\n';
  assert.equal(
    await code(
      readRequestBody(req(truncated, "multipart/form-data; boundary=b"), "multipart", whole),
    ),
    "400 invalid_multipart",
  );
  assert.equal(
    await code(readRequestBody(req("x", "multipart/form-data"), "multipart", whole)),
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
  assert.equal(await code(readRequestBody(body, "multipart", whole)), "400 duplicate_model");
});
