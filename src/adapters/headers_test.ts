import assert from "node:assert/strict";
import { HeaderList } from "../header_list.ts";
import { upstreamHeaders } from "./headers.ts";

const client = () =>
  new HeaderList([["authorization", "Bearer sk-client"], ["x-api-key", "sk-client"], ["x-keep", "1"]]);

Deno.test("upstreamHeaders() never sends a client credential to an instance with an api-key of its own", () => {
  const h = upstreamHeaders(client(), "application/json", {
    baseUrl: "http://h",
    apiKey: "sk-own",
    headers: {},
  });
  assert.equal(h.get("authorization"), "Bearer sk-own");
  assert.equal(h.get("x-api-key"), null);
  assert.equal(h.get("x-keep"), "1");
});

Deno.test("upstreamHeaders() drops the client's credentials when the instance authenticates by a secret header", () => {
  const h = upstreamHeaders(client(), "application/json", {
    baseUrl: "http://h",
    headers: { "x-api-key": "sk-own-header" },
  });
  assert.equal(h.get("authorization"), null);
  assert.equal(h.get("x-api-key"), "sk-own-header");
});

Deno.test("upstreamHeaders() passes the client's credentials through to an instance without one", () => {
  const h = upstreamHeaders(client(), "application/json", {
    baseUrl: "http://h",
    headers: { "x-tenant": "t" },
  });
  assert.equal(h.get("authorization"), "Bearer sk-client");
  assert.equal(h.get("x-api-key"), "sk-client");
});
