import assert from "node:assert/strict";
import { HeaderList } from "../header_list.ts";
import type { AdapterName } from "../types.ts";
import { getAdapter } from "./mod.ts";
import { EXTRA_ROUTES } from "./extra_routes.ts";

const T = "/v1/audio/translations";
const V = "/v1/images/variations";
const M = "/v1/moderations";

/** What each backend serves of the extra endpoints (from their sources, see extra_routes.ts). */
const SERVED: Readonly<Record<AdapterName, Partial<Record<string, string>>>> = {
  openai: { [T]: T, [V]: V, [M]: M },
  normal: { [T]: T, [V]: V, [M]: M },
  vllm: { [T]: T },
  xinference: { [T]: T, [V]: V },
  localai: { [M]: M },
  gpustack: { [T]: T, [V]: V, [M]: M },
  ollama: {},
  llamacpp: {},
  tei: {},
  triton: {},
  infinity: {},
};

const MULTIPART = "multipart/form-data; boundary=b";
const form = new TextEncoder().encode(
  '--b\r\nContent-Disposition: form-data; name="model"\r\n\r\nw\r\n--b--\r\n',
);
const json = {
  kind: "json" as const,
  bytes: new TextEncoder().encode('{"model":"g","input":"x"}'),
  value: { model: "g", input: "x" },
};

function prepare(adapter: AdapterName, route: string, path?: string) {
  const extra = EXTRA_ROUTES[route];
  return getAdapter(adapter).prepare({
    service: extra.service,
    route,
    target: { baseUrl: "http://127.0.0.1:1", path, headers: {} },
    body: route === M ? json : { kind: "raw", bytes: form, contentType: MULTIPART },
    stream: false,
    headers: new HeaderList(),
  });
}

for (const [adapter, served] of Object.entries(SERVED) as [AdapterName, Partial<Record<string, string>>][]) {
  Deno.test(`${adapter} adapter: the extra endpoints it serves are forwarded untouched, the others refused`, () => {
    for (const route of [T, V, M]) {
      const path = served[route];
      if (path === undefined) {
        assert.throws(() => prepare(adapter, route), (e: Error & { status?: number }) => {
          assert.equal(e.status, 400);
          assert.match(e.message, new RegExp(`backend does not serve ${EXTRA_ROUTES[route].label}\\.$`));
          return true;
        });
        continue;
      }
      const call = prepare(adapter, route);
      assert.equal(call.url, `http://127.0.0.1:1${path}`);
      assert.equal(call.body, route === M ? json.bytes : form, "the client's bytes");
      assert.equal(call.mapJson, undefined);
      assert.equal(call.mapStream, undefined);
    }
  });
}

Deno.test("an instance path gives the extra endpoint's path beside it, or a clear refusal", () => {
  assert.equal(
    prepare("xinference", T, "/xinf/v1/audio/transcriptions").url,
    "http://127.0.0.1:1/xinf/v1/audio/translations",
  );
  assert.equal(prepare("openai", V, "/v2/images/edits/").url, "http://127.0.0.1:1/v2/images/variations");
  assert.equal(prepare("localai", M, "/v1/chat/completions").url, "http://127.0.0.1:1/v1/moderations");
  assert.throws(() => prepare("vllm", T, "/asr"), /path "\/asr" does not end in "\/audio\/transcriptions"/);
});

Deno.test("a translation asks the backend's transcription formats", () => {
  const bad = new TextEncoder().encode(
    '--b\r\nContent-Disposition: form-data; name="model"\r\n\r\nw\r\n--b\r\nContent-Disposition: form-data; name="response_format"\r\n\r\nsrt\r\n--b--\r\n',
  );
  assert.throws(
    () =>
      getAdapter("vllm").prepare({
        service: "stt",
        route: T,
        target: { baseUrl: "http://127.0.0.1:1", headers: {} },
        body: { kind: "raw", bytes: bad, contentType: MULTIPART },
        stream: false,
        headers: new HeaderList(),
      }),
    /srt/,
  );
});
