/**
 * Edits of the YAML document behind the admin API. They change nodes in place where they can —
 * a scalar keeps its comment when only its value changes, a mapping keeps the keys that stay — so
 * that a change made through the API leaves the operator's file recognisable. Keys are found in
 * whatever spelling the file uses (`base-url`, `baseUrl`); new keys are written in kebab-case,
 * except inside `headers`, whose names are data and stay as sent.
 *
 * Values sent to the API are data, written so that the loader reads them back as sent: a `${` in
 * one is escaped as `$${` (see {@linkcode literal}). Otherwise an admin value such as
 * `"${UPSTREAM_KEY}"` would be filled from the gateway's environment, and shown back by the API,
 * `/v1/models` or an error message — any variable of the process, readable by whoever holds the
 * admin token. Placeholders the operator wrote in the file are left as they are.
 *
 * A change edits what it targets and nothing else, even where the file shares nodes through YAML
 * anchors (`weight: &w 3` … `weight: *w`, `<<: *defaults`): before a node is edited in place it is
 * made the edited instance's own (see {@linkcode own}), and before one is dropped the anchors inside
 * it that are used elsewhere are handed over to those uses (see {@linkcode evacuate}).
 *
 * @module
 */

import {
  type Document,
  isAlias,
  isMap,
  isNode,
  isScalar,
  isSeq,
  type Node,
  type Pair,
  YAMLMap,
  YAMLSeq,
} from "yaml";
import { camelize, kebabize, normalizeKey } from "../config/keys.ts";
import { aliasTarget, copyOf, evacuate, own } from "./yaml_anchors.ts";
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

/**
 * `text` as the file must hold it to be read back as `text`: each `${` written `$${`, the file
 * format's literal `${` (`interpolate.ts`), so it is never filled from the environment.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { interpolate } from "../config/interpolate.ts";
 * import { literal } from "./admin_edit.ts";
 * assert.equal(literal("${SECRET}"), "$${SECRET}");
 * const read = interpolate(literal("a$${b}${c:-d}"), { SECRET: "s", c: "x" });
 * assert(read.ok && read.value === "a$${b}${c:-d}");
 * ```
 */
export function literal(text: string): string {
  // A function: in a replacement string, `$$` would itself mean one `$`.
  return text.replaceAll("${", () => "$${");
}

/**
 * `value` as written to the file: strings {@linkcode literal}, mapping keys in kebab-case except
 * inside `headers` (names there are data; keys are never filled from the environment).
 */
function yamlValue(value: unknown, verbatim: boolean): unknown {
  if (typeof value === "string") return literal(value);
  if (Array.isArray(value)) return value.map((v) => yamlValue(v, verbatim));
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const key = verbatim ? k : kebabize(camelize(k));
    Object.defineProperty(out, key, {
      value: yamlValue(v, verbatim || camelize(k) === "headers"),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** Deepest chain of merge keys followed (`<<: *a` where `a` has `<<: *b`…). */
const MAX_MERGE_DEPTH = 64;

/**
 * The mapping `map` inherits as `key` through its merge keys (`<<: *defaults`, `<<: [*a, *b]`),
 * read as the loader reads them: a source's own keys before its merges, earlier sources first.
 * `undefined` when the key is not inherited or not as a mapping.
 */
function inheritedMap(
  doc: Document,
  map: YAMLMap,
  key: string,
  verbatim: boolean,
  depth = 0,
): YAMLMap | undefined {
  if (depth > MAX_MERGE_DEPTH) return undefined;
  const resolve = (n: unknown) => (isAlias(n) ? aliasTarget(doc, n) : n);
  for (const pair of map.items as Pair[]) {
    if (keyText(pair) !== "<<") continue;
    const value = resolve(pair.value);
    for (const source of isSeq(value) ? value.items.map(resolve) : [value]) {
      if (!isMap(source)) continue;
      const found = findPair(source, key, verbatim);
      if (found) {
        const inherited = resolve(found.value);
        return isMap(inherited) ? inherited : undefined;
      }
      const deeper = inheritedMap(doc, source, key, verbatim, depth + 1);
      if (deeper) return deeper;
    }
  }
  return undefined;
}

/** Applies `value` where `pair` holds a node: in place when it can be, else with a new node. */
function assignValue(
  doc: Document,
  pair: Pair,
  value: unknown,
  mode: AssignMode,
  verbatim: boolean,
): void {
  const node = own(doc, pair.value, (n) => (pair.value = n));
  if (isScalar(node) && !isPlainObject(value) && !Array.isArray(value)) {
    node.value = yamlValue(value, verbatim);
    return;
  }
  if (isMap(node) && isPlainObject(value)) {
    assignMap(doc, node, value, mode, verbatim);
    return;
  }
  if (isNode(node)) evacuate(doc, node);
  pair.value = doc.createNode(yamlValue(value, verbatim)) as Node;
}

/**
 * Applies a JSON object to a YAML mapping. `replace` removes the keys `value` does not name;
 * `merge` keeps them and removes those `value` sets to `null` (RFC 7396); a mapping merged into
 * one the map only inherits (`<<: *defaults`) starts from a copy of the inherited one. `map` must
 * be the edited instance's own (as {@linkcode instanceMap} returns it); the nodes below it are
 * made so as they are edited, whatever anchors and aliases they share.
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
      if (pair) {
        evacuate(doc, pair);
        map.items.splice(map.items.indexOf(pair), 1);
      }
      continue;
    }
    // Inside `headers` the names are data: matched and written exactly.
    const childVerbatim = verbatim || camelize(key) === "headers";
    const written = verbatim ? key : kebabize(camelize(key));
    const inherited = !pair && mode === "merge" && isPlainObject(item)
      ? inheritedMap(doc, map, key, verbatim)
      : undefined;
    if (pair) {
      assignValue(doc, pair, item, mode, childVerbatim);
    } else if (inherited && isPlainObject(item)) {
      const copy = copyOf(inherited, false);
      map.items.push(doc.createPair(written, copy) as Pair);
      assignMap(doc, copy, item, mode, childVerbatim);
    } else {
      map.items.push(doc.createPair(written, yamlValue(item, childVerbatim)) as Pair);
    }
  }
  if (mode === "replace") {
    const keys = Object.keys(value);
    const [kept, dropped] = [[], []] as [Pair[], Pair[]];
    for (const p of map.items as Pair[]) {
      (keys.some((k) => sameKey(keyText(p), k, verbatim)) ? kept : dropped).push(p);
    }
    for (const p of dropped) evacuate(doc, p);
    map.items = kept;
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
    const value = own(doc, pair.value, (n) => (pair.value = n));
    if (isMap(value)) return value;
    if (value === null || (isScalar(value) && value.value === null)) {
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
    const value = own(doc, pair.value, (n) => (pair.value = n));
    if (isSeq(value)) return value;
    if (value === null || (isScalar(value) && value.value === null)) {
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
  const item = seq && own(doc, seq.items[index], (n) => (seq.items[index] = n));
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
  const item = seq?.items[index];
  if (!seq || item === undefined) return;
  if (isNode(item)) evacuate(doc, item);
  seq.items.splice(index, 1);
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
    if (pair) {
      evacuate(doc, pair);
      service.items.splice(service.items.indexOf(pair), 1);
    }
  } else if (pair) {
    assignValue(doc, pair, value, "replace", false);
  } else {
    service.items.push(doc.createPair(kebabize(camelize(block)), yamlValue(value, false)) as Pair);
  }
}
