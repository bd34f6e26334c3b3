/**
 * The {@linkcode InstanceTarget} of a configured instance: where its requests, probes and load
 * reports go and what they carry of the configuration. Built once per instance and reload, never
 * per request.
 *
 * @module
 */

import { basicAuthorization, userinfoOf, withoutUserinfo } from "../config/base_url.ts";
import type { InstanceConfig } from "../config/types.ts";
import type { InstanceTarget } from "../types.ts";

/**
 * Where requests and probes of `inst` go: its base URL without credentials (`fetch` refuses a URL
 * that carries them), which are sent as `Authorization: Basic` instead — unless the instance has
 * an `api-key` or an `authorization` header of its own, which wins (the loader warns).
 * `clientKeyHeader` is `auth.header-name`: a client credential kept from instances with their own.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { targetOf } from "./target.ts";
 * const inst = { baseUrl: "http://u:pw@127.0.0.1:1", headers: {} };
 * const t = targetOf(inst as Parameters<typeof targetOf>[0], "x-custom-key");
 * assert.equal(t.baseUrl, "http://127.0.0.1:1");
 * assert.equal(t.headers.authorization, `Basic ${btoa("u:pw")}`);
 * assert.equal(t.clientKeyHeader, "x-custom-key");
 * ```
 */
export function targetOf(inst: InstanceConfig, clientKeyHeader: string | undefined): InstanceTarget {
  const userinfo = userinfoOf(inst.baseUrl);
  const target = {
    baseUrl: inst.baseUrl,
    path: inst.path,
    apiKey: inst.apiKey,
    headers: inst.headers,
    ...(clientKeyHeader !== undefined ? { clientKeyHeader } : {}),
  };
  if (userinfo === undefined) return target;
  const own = inst.apiKey !== undefined ||
    Object.keys(inst.headers).some((h) => h.toLowerCase() === "authorization");
  return {
    ...target,
    baseUrl: withoutUserinfo(inst.baseUrl),
    headers: own ? inst.headers : { ...inst.headers, authorization: basicAuthorization(userinfo) },
  };
}
