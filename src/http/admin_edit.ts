/**
 * Edits of the YAML document behind the admin API. They change nodes in place where they can —
 * a scalar keeps its comment when only its value changes, a mapping keeps the keys that stay — so
 * that a change made through the API leaves the operator's file recognisable. Keys are found in
 * whatever spelling the file uses (`base-url`, `baseUrl`); new keys are written in kebab-case,
 * except inside `headers`, whose names are data and stay as sent.
 *
 * @module
 */

import { type Document, isAlias, isMap, isScalar, isSeq, type Node, type Pair, YAMLMap, YAMLSeq } from "yaml";
import { camelize, kebabize, normalizeKey } from "../config/keys.ts";
import { GatewayError, NotFoundError } from "../errors.ts";
import type { ServiceKind } from "../types.ts";

/** How a JSON value is applied to a node: `replace` (PUT) or RFC 7396 merge patch (PATCH). */
export type AssignMode = "replace" | "merge";

/** 409: the file does not have the shape an edit needs; the operator must look at it. */
export function conflict(message: string): GatewayError {
  return new GatewayError(409, "invalid_request_error", "conflict", message);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function keyText(pair: Pair): string | undefined {
  return isScalar(pair.key) ? String(pair.key.value) : undefined;
}

function sameKey(written: string | undefined, key: string, verbatim: boolean): boolean {
  if (written === undefined) return false;
  return verbatim ? written === key : camelize(written) === camelize(key);
}

/** The pair of `map` whose key is `key` in any spelling (exactly, inside `headers`). */
function findPair(map: YAMLMap, key: string, verbatim: boolean): Pair | undefined {
  return (map.items as Pair[]).find((p) => sameKey(keyText(p), key, verbatim));
}

/** `value` with its mapping keys in kebab-case, except inside `headers` (names there are data). */
function yamlKeys(value: unknown, verbatim: boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => yamlKeys(v, verbatim));
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const key = verbatim ? k : kebabize(camelize(k));
    Object.defineProperty(out, key, {
      value: yamlKeys(v, verbatim || camelize(k) === "headers"),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** Applies `value` to `node` and returns the node to keep (the same one when it could be edited). */
function assignValue(
  doc: Document,
  node: unknown,
  value: unknown,
  mode: AssignMode,
  verbatim: boolean,
): Node {
  if (isScalar(node) && !isPlainObject(value) && !Array.isArray(value)) {
    node.value = value;
    return node;
  }
  if (isMap(node) && isPlainObject(value)) {
    assignMap(doc, node, value, mode, verbatim);
    return node;
  }
  return doc.createNode(yamlKeys(value, verbatim)) as Node;
}

/**
 * Applies a JSON object to a YAML mapping. `replace` removes the keys `value` does not name;
 * `merge` keeps them and removes those `value` sets to `null` (RFC 7396).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDocument, type YAMLMap } from "yaml";
 * import { assignMap } from "./admin_edit.ts";
 * const doc = parseDocument("base-url: http://a # main\nweight: 1\n");
 * assignMap(doc, doc.contents as YAMLMap, { baseUrl: "http://b", weight: null }, "merge");
 * assert(doc.toString() === "base-url: http://b # main\n");
 * ```
 */
export function assignMap(
  doc: Document,
  map: YAMLMap,
  value: Record<string, unknown>,
  mode: AssignMode,
  verbatim = false,
): void {
  for (const [key, item] of Object.entries(value)) {
    const pair = findPair(map, key, verbatim);
    if (item === null && mode === "merge") {
      if (pair) map.items.splice(map.items.indexOf(pair), 1);
      continue;
    }
    // Inside `headers` the names are data: matched and written exactly.
    const childVerbatim = verbatim || camelize(key) === "headers";
    if (pair) {
      pair.value = assignValue(doc, pair.value, item, mode, childVerbatim);
    } else {
      const written = verbatim ? key : kebabize(camelize(key));
      map.items.push(doc.createPair(written, yamlKeys(item, childVerbatim)) as Pair);
    }
  }
  if (mode === "replace") {
    const keys = Object.keys(value);
    map.items = (map.items as Pair[]).filter((p) => keys.some((k) => sameKey(keyText(p), k, verbatim)));
  }
}

/** The mapping under `key` of `parent`, created when asked; a 409 when the file has something else. */
function childMap(
  doc: Document,
  parent: YAMLMap,
  matches: (written: string) => boolean,
  create: string | undefined,
  where: string,
): YAMLMap | undefined {
  const pair = (parent.items as Pair[]).find((p) => {
    const k = keyText(p);
    return k !== undefined && matches(k);
  });
  if (pair) {
    if (isMap(pair.value)) return pair.value;
    if (pair.value === null || (isScalar(pair.value) && pair.value.value === null)) {
      if (create === undefined) return undefined;
      pair.value = new YAMLMap(doc.schema);
      return pair.value as YAMLMap;
    }
    throw conflict(`${where} is not a plain mapping in the file (an alias or a scalar?); edit it by hand.`);
  }
  if (create === undefined) return undefined;
  const map = new YAMLMap(doc.schema);
  parent.items.push(doc.createPair(create, map) as Pair);
  return map;
}

/**
 * The mapping of service `kind` (`model.services.<kind>`, in any spelling the loader accepts).
 * With `create`, missing levels are added.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDocument } from "yaml";
 * import { serviceMap } from "./admin_edit.ts";
 * const doc = parseDocument("model:\n  services:\n    embeddings:\n      adapter: tei\n");
 * assert(serviceMap(doc, "embedding", false)?.get("adapter") === "tei");
 * ```
 */
export function serviceMap(doc: Document, kind: ServiceKind, create: boolean): YAMLMap | undefined {
  if (doc.contents === null && create) doc.contents = new YAMLMap(doc.schema) as never;
  const root = doc.contents;
  if (!isMap(root)) {
    if (create) throw conflict("The configuration file is not a YAML mapping.");
    return undefined;
  }
  const named = (key: string) => (create ? key : undefined);
  const model = childMap(doc, root, (k) => k === "model", named("model"), "model");
  if (!model) return undefined;
  const services = childMap(
    doc,
    model,
    (k) => camelize(k) === "services",
    named("services"),
    "model.services",
  );
  if (!services) return undefined;
  return childMap(
    doc,
    services,
    (k) => normalizeKey(["model", "services"], k) === kind,
    named(kind),
    `model.services.${kind}`,
  );
}

/** The `instances` list of a service mapping (created when asked). */
export function instancesSeq(doc: Document, service: YAMLMap, create: boolean): YAMLSeq | undefined {
  const pair = findPair(service, "instances", false);
  if (pair) {
    if (isSeq(pair.value)) return pair.value;
    if (
      !isAlias(pair.value) && (pair.value === null || (isScalar(pair.value) && pair.value.value === null))
    ) {
      pair.value = new YAMLSeq(doc.schema);
      return pair.value as YAMLSeq;
    }
    throw conflict("The instances of this service are not a plain list in the file; edit it by hand.");
  }
  if (!create) return undefined;
  const seq = new YAMLSeq(doc.schema);
  service.items.push(doc.createPair("instances", seq) as Pair);
  return seq;
}

/** What an instance is known as: its id, and the name and base-url the id is built from. */
export interface InstanceIdentity {
  readonly id: string;
  readonly name: string;
  readonly baseUrl: string;
}

/** A scalar's text as written, when it is literal (no `${…}` to fill, which the loader would change). */
function literalText(node: unknown): string | undefined {
  if (!isScalar(node) || node.value === null || typeof node.value === "object") return undefined;
  const text = String(node.value);
  return text.includes("${") ? undefined : text.trim();
}

/**
 * The mapping of instance `index`, checked against the instance it must be (found at that index
 * when the same document was loaded): the `instance-id`, `name` and `base-url` written there must
 * be that instance's, where they are literal. Replicas share a name, so the name alone does not
 * tell them apart; a mismatch means the list in the file is not the list the loader read (409).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDocument } from "yaml";
 * import { instanceMap } from "./admin_edit.ts";
 * const doc = parseDocument(
 *   "model:\n  services:\n    chat:\n      instances:\n" +
 *     "        - { name: m, base-url: http://127.0.0.1:1 }\n        - { name: m, base-url: http://127.0.0.1:2 }\n",
 * );
 * const second = { id: "chat/m@http://127.0.0.1:2", name: "m", baseUrl: "http://127.0.0.1:2" };
 * assert.equal(instanceMap(doc, "chat", 1, second).get("base-url"), "http://127.0.0.1:2");
 * assert.throws(() => instanceMap(doc, "chat", 0, second), /base-url/);
 * ```
 */
export function instanceMap(
  doc: Document,
  kind: ServiceKind,
  index: number,
  expected: InstanceIdentity,
): YAMLMap {
  const service = serviceMap(doc, kind, false);
  const seq = service && instancesSeq(doc, service, false);
  const item = seq?.items[index];
  if (item === undefined) {
    throw new NotFoundError(
      `Service ${kind} has no instance ${index} in the file.`,
      "instance_not_found",
      null,
    );
  }
  if (!isMap(item)) throw conflict(`Instance ${index} of ${kind} is not a plain mapping in the file.`);
  const checks: Array<[string, string, (written: string) => string]> = [
    ["instance-id", expected.id, (w) => w],
    ["name", expected.name, (w) => w],
    ["base-url", expected.baseUrl, (w) => w.replace(/\/+$/, "")],
  ];
  for (const [key, value, normalise] of checks) {
    const written = literalText(findPair(item, key, false)?.value);
    if (written !== undefined && normalise(written) !== value) {
      throw conflict(
        `Instance ${index} of ${kind} has the ${key} "${written}" in the file, not "${value}": ` +
          "the file is not the list the change was resolved against; reload it and retry.",
      );
    }
  }
  return item;
}

/** Removes instance `index` of the list (after {@linkcode instanceMap} checked it). */
export function removeInstance(doc: Document, kind: ServiceKind, index: number): void {
  const service = serviceMap(doc, kind, false);
  const seq = service && instancesSeq(doc, service, false);
  seq?.items.splice(index, 1);
}

/** Sets (or, with `null`, removes) a policy block of a service: `load-balance`, `rate-limit`… */
export function setServiceBlock(
  doc: Document,
  kind: ServiceKind,
  block: string,
  value: Record<string, unknown> | null,
): void {
  const service = serviceMap(doc, kind, value !== null);
  if (!service) return;
  const pair = findPair(service, block, false);
  if (value === null) {
    if (pair) service.items.splice(service.items.indexOf(pair), 1);
  } else if (pair && isMap(pair.value)) {
    assignMap(doc, pair.value, value, "replace");
  } else if (pair) {
    pair.value = doc.createNode(yamlKeys(value, false));
  } else {
    service.items.push(doc.createPair(kebabize(camelize(block)), yamlKeys(value, false)) as Pair);
  }
}
