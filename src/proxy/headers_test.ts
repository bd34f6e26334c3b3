import assert from "node:assert/strict";
import { forwardRequestHeaders, responseHeaders } from "./headers.ts";

const base = { clientIp: "10.0.0.9", requestId: "rid", dropClientAuth: false, proto: "https" };

Deno.test("forwardRequestHeaders() strips RFC 9110 hop-by-hop headers and those named in Connection", () => {
  const h = forwardRequestHeaders(
    new Headers({
      connection: "keep-alive, x-private",
      "keep-alive": "timeout=5",
      "x-private": "1",
      te: "trailers",
      upgrade: "h2c",
      "proxy-authorization": "Basic x",
      host: "gateway",
      "content-length": "10",
      "accept-encoding": "gzip",
      "x-keep": "yes",
    }),
    base,
  );
  assert.deepEqual(h.entries.map(([k]) => k).sort(), [
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-keep",
    "x-request-id",
  ]);
  assert.equal(h.get("x-forwarded-proto"), "https");
});

Deno.test("forwardRequestHeaders() appends the peer to a trusted X-Forwarded-For chain and sets traceparent", () => {
  const h = forwardRequestHeaders(new Headers({ "x-forwarded-for": "forged", traceparent: "old" }), {
    ...base,
    forwardedFor: "1.1.1.1, 2.2.2.2",
    traceparent: "00-aa-bb-01",
  });
  assert.equal(h.get("x-forwarded-for"), "1.1.1.1, 2.2.2.2, 10.0.0.9");
  assert.equal(h.get("traceparent"), "00-aa-bb-01");
});

Deno.test("forwardRequestHeaders() drops the client's credentials only when the gateway consumed them", () => {
  const incoming = new Headers({ authorization: "Bearer k", "x-api-key": "k" });
  assert.equal(forwardRequestHeaders(incoming, base).get("authorization"), "Bearer k");
  const dropped = forwardRequestHeaders(incoming, { ...base, dropClientAuth: true });
  assert.equal(dropped.has("authorization") || dropped.has("x-api-key"), false);
});

Deno.test("responseHeaders() drops hop-by-hop, length and encoding but keeps repeated headers", () => {
  const up = new Headers({
    "transfer-encoding": "chunked",
    "content-length": "5",
    "content-encoding": "gzip",
  });
  up.append("set-cookie", "a=1");
  up.append("set-cookie", "b=2");
  up.set("content-type", "text/event-stream");
  const h = responseHeaders(up);
  assert.equal(h.get("content-type"), "text/event-stream");
  assert.equal(h.has("transfer-encoding") || h.has("content-length") || h.has("content-encoding"), false);
  assert.deepEqual(new Headers(h).getSetCookie(), ["a=1", "b=2"]);
});

Deno.test("forwardRequestHeaders() drops X-Real-IP and its kin from an untrusted peer, keeps them from a trusted one", () => {
  const claims = { "x-real-ip": "6.6.6.6", "true-client-ip": "6.6.6.6", "x-client-ip": "6.6.6.6" };
  const untrusted = forwardRequestHeaders(new Headers(claims), base);
  for (const name of Object.keys(claims)) assert.equal(untrusted.has(name), false, name);
  const trusted = forwardRequestHeaders(new Headers(claims), { ...base, trustedPeer: true });
  for (const name of Object.keys(claims)) assert.equal(trusted.get(name), "6.6.6.6", name);
});
