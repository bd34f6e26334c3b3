/**
 * Glue for the adapter end-to-end tests: a gateway config mounting dialect fakes per service
 * with a chosen adapter, `path` and key; the official SDK pointed at it; rerank by `fetch`
 * (the SDK has no rerank method); an adapter's health probe sent to a fake; and the assertions
 * every backend's test ends with (requests the gateway refuses, the probe it sends).
 *
 * @module
 */

import assert from "node:assert/strict";
import OpenAI, { toFile } from "openai";
import { getAdapter } from "../../../src/adapters/mod.ts";
import type { AdapterName, ProbeRequest, ServiceKind } from "../../../src/types.ts";
import { startGateway, type TestGateway } from "../gateway.ts";
import type { DialectFake, Seen } from "./server.ts";

/** One instance in the test config. */
export interface Mount {
  readonly service: ServiceKind;
  /** The instance `name`, which clients send as `model`. */
  readonly model: string;
  readonly fake: DialectFake;
  readonly adapter: AdapterName;
  readonly path?: string;
  readonly apiKey?: string;
}

/** A running gateway and an SDK client for it. */
export interface DialectGateway {
  readonly gw: TestGateway;
  readonly client: OpenAI;
  /** POSTs JSON to a gateway path; returns the status and parsed body. */
  post(path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
}

/** The YAML of a gateway serving `mounts` (health checks off so tests control health). */
export function dialectYaml(mounts: readonly Mount[]): string {
  const byService = new Map<ServiceKind, string[]>();
  for (const m of mounts) {
    const lines = [
      `        - name: ${JSON.stringify(m.model)}`,
      `          base-url: ${JSON.stringify(m.fake.url)}`,
      `          adapter: ${m.adapter}`,
    ];
    if (m.path) lines.push(`          path: ${JSON.stringify(m.path)}`);
    if (m.apiKey) lines.push(`          api-key: ${JSON.stringify(m.apiKey)}`);
    byService.set(m.service, [...byService.get(m.service) ?? [], lines.join("\n")]);
  }
  const services = [...byService].map(([kind, insts]) =>
    `    ${kind}:\n      instances:\n${insts.join("\n")}`
  );
  return `
model:
  load-balance:
    type: round-robin
  health-check:
    enabled: false
  services:
${services.join("\n")}
`;
}

/** Serves `mounts`, runs `fn`, then closes the gateway and every fake. */
export async function withGateway(
  fakes: readonly DialectFake[],
  mounts: readonly Mount[],
  fn: (ctx: DialectGateway) => Promise<void>,
): Promise<void> {
  const gw = startGateway(dialectYaml(mounts));
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "client-key", maxRetries: 0 });
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${gw.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  try {
    await fn({ gw, client, post });
  } finally {
    await gw.close();
    for (const f of fakes) await f.close();
  }
}

/** What a probe sent and how the fake answered. */
export interface ProbeResult {
  readonly probe: ProbeRequest;
  readonly status: number;
  /** The request as the fake recorded it. */
  readonly seen: Seen;
}

/** Builds `adapter`'s probe for an instance on `fake` and sends it there. */
export async function probeFake(
  adapter: AdapterName,
  service: ServiceKind,
  fake: DialectFake,
  apiKey?: string,
): Promise<ProbeResult> {
  const probe = getAdapter(adapter).probe(service, { baseUrl: `${fake.url}/`, apiKey, headers: {} });
  const before = fake.requests.length;
  const res = await fetch(probe.url, { method: probe.method, headers: probe.headers, body: probe.body });
  await res.body?.cancel();
  const seen = fake.requests[before];
  if (!seen) throw new Error(`the ${fake.name} fake did not receive the probe`);
  return { probe, status: res.status, seen };
}

/** A request the gateway must answer with a 400 of its own, without involving the backend. */
export interface Refusal {
  /** The gateway path POSTed to. */
  readonly path: string;
  readonly body: unknown;
  /** The error's message exactly (a string) or by pattern, or the whole `error` object. */
  readonly error: string | RegExp | Readonly<Record<string, unknown>>;
}

/**
 * POSTs each refusal to the gateway and asserts a 400 with the expected error, and that none of
 * them reached `fake`.
 */
export async function assertRefused(
  post: DialectGateway["post"],
  fake: DialectFake,
  refusals: readonly Refusal[],
): Promise<void> {
  const before = fake.requests.length;
  for (const { path, body, error } of refusals) {
    const res = await post(path, body);
    assert.equal(res.status, 400, `POST ${path}`);
    const got = res.body.error as { message: string };
    if (typeof error === "string") assert.equal(got.message, error);
    else if (error instanceof RegExp) assert.match(got.message, error);
    else assert.deepEqual(got, error);
  }
  assert.equal(fake.requests.length, before, `refused requests never reached the ${fake.name} fake`);
}

/** The health probe a backend must get: `adapter`'s probe for a `service` instance. */
export interface ExpectedProbe {
  readonly adapter: AdapterName;
  readonly service: ServiceKind;
  /** The path the probe must GET. */
  readonly path: string;
  /** The instance key, when the instance has one. */
  readonly apiKey?: string;
}

/** Sends the probe to `fake` and asserts it was a GET of the expected path, answered 200. */
export async function assertProbe(fake: DialectFake, expected: ExpectedProbe): Promise<ProbeResult> {
  const result = await probeFake(expected.adapter, expected.service, fake, expected.apiKey);
  assert.equal(result.status, 200);
  assert.deepEqual([result.seen.method, result.seen.path], ["GET", expected.path]);
  return result;
}

/**
 * The end of a backend's test: {@linkcode assertRefused}, then {@linkcode assertProbe}. Returns
 * the probe for further checks.
 */
export async function assertRefusedAndProbe(
  post: DialectGateway["post"],
  fake: DialectFake,
  refusals: readonly Refusal[],
  probe: ExpectedProbe,
): Promise<ProbeResult> {
  await assertRefused(post, fake, refusals);
  return await assertProbe(fake, probe);
}

/** Reads a whole SDK binary response (speech) as text. */
export async function responseText(res: Response): Promise<string> {
  return new TextDecoder().decode(await res.arrayBuffer());
}

/** A one-turn conversation (do not mutate: shared by tests). */
export const USER: OpenAI.ChatCompletionUserMessageParam[] = [{ role: "user", content: "hi" }];

/** Rerank documents: with query "deno", fakes score them 0.1, 0.89, 0.12, 0.87. */
export const DOCS: readonly string[] = ["python snakes", "deno runtime", "rust crabs", "deno deploy"];

/** A tiny upload for transcriptions and image edits (16 bytes). */
export function audioFile(): Promise<File> {
  return toFile(new TextEncoder().encode("RIFF....WAVEfmt "), "hello.wav", { type: "audio/wav" });
}

/** What {@linkcode streamChat} saw. */
export interface StreamedChat {
  readonly text: string;
  /** Upstream streams still open when the first chunk reached the client (1 = incremental). */
  readonly openAtFirst: number;
  readonly finish: string | null | undefined;
  /** Usage of the final chunk, when one came. */
  readonly usage?: OpenAI.CompletionUsage | null;
}

/**
 * Streams a chat with the SDK and reports the text, the finish reason, and how many upstream
 * streams were still open when the first chunk arrived: the fake holds its last part until then.
 */
export async function streamChat(
  client: OpenAI,
  model: string,
  fake: DialectFake,
  extra: Partial<OpenAI.ChatCompletionCreateParamsStreaming> = {},
): Promise<StreamedChat> {
  const release = fake.hold();
  try {
    const stream = await client.chat.completions.create({
      model,
      messages: [...USER],
      ...extra,
      stream: true,
    });
    let text = "";
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | null | undefined;
    let openAtFirst = -1;
    for await (const chunk of stream) {
      if (openAtFirst < 0) {
        openAtFirst = fake.openStreams;
        release();
      }
      text += chunk.choices[0]?.delta?.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    return { text, openAtFirst, finish, usage };
  } finally {
    release();
  }
}
