/**
 * End-to-end through the real gateway process: an API key is accepted only exactly. Keys given
 * each way the config allows (`key` from `${ENV}`, `key-file`, `key-sha256`) are tried with a
 * character appended, truncated, one character changed at the start, middle and end, and with
 * one letter's case flipped — in `Authorization: Bearer` and in `X-API-Key` — and every one must
 * be a 401 that reaches no upstream, while the exact keys pass (so the test cannot pass by
 * refusing everything).
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { postChat } from "./fakes/gateway.ts";
import { startFakeUpstream } from "./fakes/openai_upstream.ts";
import { spawnGateway } from "./fakes/process.ts";

const KEYS = {
  env: "sk-env-Alpha-7f3a9c21",
  file: "sk-file-Bravo-0b8e44d6",
  sha: "sk-sha-Charlie-5d19e2aa",
};

/** Near misses of `key`: appended, truncated, one character off, case flipped. */
function nearMisses(key: string): Record<string, string> {
  const swap = (i: number) => key.slice(0, i) + (key[i] === "x" ? "y" : "x") + key.slice(i + 1);
  const letter = [...key].findIndex((c) => /[A-Z]/.test(c));
  const mid = Math.floor(key.length / 2);
  return {
    "one character appended": `${key}0`,
    "a suffix appended": `${key}-and-more`,
    "last character cut": key.slice(0, -1),
    "cut to half": key.slice(0, mid),
    "first character changed": swap(0),
    "middle character changed": swap(mid),
    "last character changed": swap(key.length - 1),
    "one letter's case flipped": key.slice(0, letter) + key[letter].toLowerCase() + key.slice(letter + 1),
  };
}

const HEADERS = {
  "Authorization: Bearer": (key: string) => ({ authorization: `Bearer ${key}` }),
  "X-API-Key": (key: string) => ({ "x-api-key": key }),
};

Deno.test("auth e2e: a key with characters appended, truncated or one off is 401 via both headers; the exact key passes", async () => {
  const up = startFakeUpstream({ name: "U" });
  const dir = await Deno.makeTempDir({ prefix: "dairouter-keys-" });
  await Deno.writeTextFile(`${dir}/client.key`, `${KEYS.file}\n`);
  const sha = createHash("sha256").update(KEYS.sha).digest("hex");
  await Deno.writeTextFile(
    `${dir}/gw.yaml`,
    `log: { format: json }
model:
  health-check: { enabled: false }
  services:
    chat:
      instances:
        - { name: m, base-url: "${up.url}" }
auth:
  keys:
    - { name: env, key: "\${CLIENT_KEY}" }
    - { name: file, key-file: client.key }
    - { name: sha, key-sha256: ${sha} }
`,
  );
  const gw = await spawnGateway(["--config", `${dir}/gw.yaml`, "--no-watch"], { CLIENT_KEY: KEYS.env });
  const post = async (headers: Record<string, string>) => {
    const res = await postChat(gw.url, { headers });
    const body = await res.json();
    return { status: res.status, body };
  };
  try {
    const all = new Set(Object.values(KEYS));
    let upstreamCalls = 0;
    for (const [header, make] of Object.entries(HEADERS)) {
      for (const [form, key] of Object.entries(KEYS)) {
        const exact = await post(make(key));
        assert.equal(exact.status, 200, `${form} key via ${header}: ${JSON.stringify(exact.body)}`);
        assert.equal(up.requests.length, ++upstreamCalls);
        for (const [how, wrong] of Object.entries(nearMisses(key))) {
          assert.ok(!all.has(wrong) && wrong !== key, `${how} of ${form} is a configured key`);
          const res = await post(make(wrong));
          assert.equal(res.status, 401, `${form} key with ${how} via ${header} was accepted`);
          assert.equal(res.body.error.code, "invalid_api_key");
          assert.equal(up.requests.length, upstreamCalls, `${form} key with ${how} reached the upstream`);
        }
      }
    }
  } finally {
    gw.kill("SIGTERM");
    await gw.exited;
    await up.close();
    await Deno.remove(dir, { recursive: true });
  }
});
