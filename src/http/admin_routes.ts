/**
 * The admin API's routes, relative to its prefix and behind its token check (both in `admin.ts`),
 * and the one path every change takes: edit the YAML document, refuse unknown keys, validate and
 * write with `updateYamlFile`, then `gateway.reload` — serialised, one change at a time.
 *
 * @module
 */

import { Hono } from "hono";
import { type Document, YAMLMap } from "yaml";
import type { ReadFile } from "../config/access.ts";
import { normalizeKey } from "../config/keys.ts";
import { ConfigError, loadConfigFile, type LoadResult, parseConfig } from "../config/load.ts";
import { redactConfig, REDACTED } from "../config/redact.ts";
import type { Config, ConfigWarning, InstanceConfig } from "../config/types.ts";
import { updateYamlFile } from "../config/write.ts";
import { BadRequestError, errorResponse, NotFoundError } from "../errors.ts";
import type { Logger } from "../observe/logger.ts";
import type { Runtime } from "../proxy/runtime.ts";
import { upstreamOf } from "../proxy/upstream_index.ts";
import type { ServiceKind } from "../types.ts";
import { SERVICE_KINDS } from "../types.ts";
import {
  assignMap,
  type AssignMode,
  conflict,
  instanceMap,
  instancesSeq,
  removeInstance,
  serviceMap,
  setServiceBlock,
} from "./admin_edit.ts";
import { type BodyGuardOptions, readGuarded } from "./body_guard.ts";

/** What the admin API needs of a gateway (`Gateway` from `gateway.ts` fits). */
export interface AdminGateway {
  runtime(): Runtime;
  reload(config: Config): void;
  readonly logger: Logger;
  /** The body limits and deadlines of the current `server.*` (admin bodies are bounded to 1 MB). */
  bodyGuard(): BodyGuardOptions;
}

/** Options of `createAdminApp` and `adminExtension` (`admin.ts`). */
export interface AdminOptions {
  /** The YAML file changes are written to. @default {the running config's `source`} */
  readonly file?: string;
  /**
   * Environment for the file's own `${VAR}` placeholders when a change is validated (`main.ts`:
   * `Deno.env`); values sent through the API are written as literal text and never filled from it.
   * @default {{}}
   */
  readonly env?: Readonly<Record<string, string>>;
  /** Reads `key-file`s while validating. @default {fileReader(file)} */
  readonly readFile?: ReadFile;
  /** Called after a change was written and applied here (the cluster publishes it to the others). */
  readonly changed?: (file: string) => void;
  /**
   * Called after `POST /reload` applied the re-read file here: the other workers of this process
   * re-read it too (other replicas are not told: a replica's file is its own, as with SIGHUP).
   */
  readonly reloaded?: () => void;
}

const BLOCKS: Readonly<Record<string, "loadBalance" | "rateLimit" | "circuitBreaker">> = {
  "load-balance": "loadBalance",
  "rate-limit": "rateLimit",
  "circuit-breaker": "circuitBreaker",
};
const BODY_LIMIT = 1024 * 1024;

function serviceOf(name: string): ServiceKind {
  const kind = normalizeKey(["model", "services"], name) as ServiceKind;
  if (!SERVICE_KINDS.includes(kind)) {
    throw new NotFoundError(
      `Unknown service "${name}"; one of ${SERVICE_KINDS.join(", ")}.`,
      "service_not_found",
      null,
    );
  }
  return kind;
}

/** The index of instance `ref` (an index or an id) in the running config. */
function indexOf(config: Config, kind: ServiceKind, ref: string): number {
  const list = config.services[kind].instances;
  const index = /^\d+$/.test(ref) ? Number(ref) : list.findIndex((i) => i.id === ref);
  if (index < 0 || index >= list.length) {
    throw new NotFoundError(`Service ${kind} has no instance "${ref}".`, "instance_not_found", null);
  }
  return index;
}

/**
 * The id instance `ref` means when the request arrives: an index is pinned to the instance the
 * running config has there, the one the caller saw in its listing. Changes queued before this one
 * may still move it (a removal before it) or remove it; {@linkcode locate} finds it again.
 */
function idOf(config: Config, kind: ServiceKind, ref: string): string {
  return /^\d+$/.test(ref) ? config.services[kind].instances[indexOf(config, kind, ref)].id : ref;
}

/**
 * Where instance `id` is in the file as it is now (`file`, loaded from it inside the serialised
 * step), with what the file says of it. Positions are never carried over from before the wait: a
 * change ahead in the queue may have removed or moved instances, and replicas share their name.
 */
function locate(
  file: Config,
  running: Config,
  kind: ServiceKind,
  id: string,
  ref: string,
): { index: number; instance: InstanceConfig } {
  const list = file.services[kind].instances;
  const index = list.findIndex((i) => i.id === id);
  if (index >= 0) return { index, instance: list[index] };
  if (running.services[kind].instances.some((i) => i.id === id)) {
    throw conflict(
      `Instance "${id}" of ${kind} is in the running config but not in the file: the file changed since it ` +
        "was loaded; reload it first.",
    );
  }
  const was = id === ref ? "" : ` (instance ${ref} when the request arrived; a change before it removed it)`;
  throw new NotFoundError(`Service ${kind} has no instance "${id}"${was}.`, "instance_not_found", null);
}

/** The instances of a service as the API shows them: config (redacted), index and live state. */
function instanceViews(rt: Runtime, kind: ServiceKind): Record<string, unknown>[] {
  const shown = redactConfig(rt.config) as { services: Record<ServiceKind, { instances: object[] }> };
  return rt.config.services[kind].instances.map((inst, index) => {
    const live = upstreamOf(rt, inst.id);
    return {
      index,
      ...shown.services[kind].instances[index],
      healthy: live ? live.health.healthy : false,
      breaker: live ? live.breaker.state : "closed",
      inFlight: live ? live.stats.inFlight : 0,
    };
  });
}

/** The request's JSON object, read under the server's body deadlines with a 1 MB bound. */
async function jsonObject(req: Request, gateway: AdminGateway): Promise<Record<string, unknown>> {
  const bytes = await readGuarded(req, { ...gateway.bodyGuard(), limit: BODY_LIMIT });
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new BadRequestError(`The body must be JSON (${(error as Error).message}).`, "invalid_json");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new BadRequestError("The body must be a JSON object.", "invalid_json");
  }
  // The validation and the YAML writer recurse: a body nested thousands deep overflowed the stack
  // (a 500). A config change is a few levels deep.
  if (deeperThan(value, MAX_DEPTH)) {
    throw new BadRequestError(`The body is nested more than ${MAX_DEPTH} levels deep.`, "invalid_json");
  }
  // What GET shows of a secret, sent back whole (a GET-then-PUT): it would replace the secret.
  const redacted = redactedAt(value);
  if (redacted !== undefined) {
    throw new BadRequestError(
      `The body's ${redacted} holds "${REDACTED}", the placeholder GET shows for a secret: send the real ` +
        "value, or leave the field out (a PATCH keeps what the file holds).",
      "redacted_value",
      redacted,
    );
  }
  return value as Record<string, unknown>;
}

/** The path of the first string holding the redaction placeholder, if any (walked without recursion). */
function redactedAt(value: unknown): string | undefined {
  const stack: [unknown, string][] = [[value, ""]];
  while (stack.length > 0) {
    const [v, path] = stack.pop()!;
    if (typeof v === "string" && v.includes(REDACTED)) return path || "value";
    if (v === null || typeof v !== "object") continue;
    for (const [k, child] of Object.entries(v)) stack.push([child, path ? `${path}.${k}` : k]);
  }
  return undefined;
}

/** Deepest nesting an admin body may have. */
const MAX_DEPTH = 32;

/** Whether `value` nests objects or arrays more than `limit` deep (walked without recursion). */
function deeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (depth > limit) return true;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

/** The admin routes, relative to the prefix, without the token check. */
export function adminRoutes(gateway: AdminGateway, options: AdminOptions): Hono {
  const env = options.env ?? {};
  let queue: Promise<unknown> = Promise.resolve();
  /** Runs `run` after every change before it: two admin calls never interleave. */
  const serialized = <T>(run: () => Promise<T>): Promise<T> => {
    const next = queue.then(run, run);
    queue = next.catch(() => {});
    return next;
  };
  const fileOf = () => options.file ?? gateway.runtime().config.source;

  /**
   * Edits the file, validates, writes, reloads — one change at a time. `mutate` gets the document
   * and the configuration the file holds as it is read for this change (before `mutate`), to find
   * what it edits; `what` names the change for the log once `mutate` ran.
   */
  const change = (
    what: () => string,
    mutate: (doc: Document, current: () => Config) => void,
    checkKeys = true,
  ): Promise<Runtime> => {
    const run = async () => {
      const file = fileOf();
      const parseOptions = { source: file, env, ...(options.readFile ? { readFile: options.readFile } : {}) };
      let config: Config;
      try {
        ({ config } = await updateYamlFile(file, (doc) => {
          const loaded = loadDocument(doc, parseOptions);
          const current = () => {
            if (loaded instanceof Error) {
              throw conflict(`The file does not load as it is now; fix it first. ${loaded.message}`);
            }
            return loaded.config;
          };
          // Keys the loader only warns about (JAiRouter/Spring keys it ignores) are refused from the API.
          const before = checkKeys ? unknownKeys(loaded) : new Map<string, ConfigWarning>();
          mutate(doc, current);
          if (!checkKeys) return;
          const added = [...unknownKeys(loadDocument(doc, parseOptions))].filter(([path]) =>
            !before.has(path)
          );
          if (added.length > 0) {
            const list = added.map(([path, w]) => (w.line === undefined ? path : `${path} (line ${w.line})`))
              .join("; ");
            throw new BadRequestError(`Unknown key: ${list}. Nothing was written.`, "invalid_config");
          }
        }, parseOptions));
      } catch (error) {
        if (error instanceof ConfigError) throw new BadRequestError(error.message, "invalid_config");
        throw error;
      }
      gateway.reload(config);
      gateway.logger.info("admin change applied", { event: "admin", change: what(), source: file });
      options.changed?.(file);
      return gateway.runtime();
    };
    return serialized(run);
  };

  const app = new Hono();
  app.get("/config", (c) => c.json(redactConfig(gateway.runtime().config)));

  app.get("/services/:service/instances", (c) => {
    const kind = serviceOf(c.req.param("service") ?? "");
    const rt = gateway.runtime();
    return c.json({ service: kind, instances: instanceViews(rt, kind) });
  });

  app.get("/services/:service/instances/:ref", (c) => {
    const kind = serviceOf(c.req.param("service") ?? "");
    const rt = gateway.runtime();
    return c.json(instanceViews(rt, kind)[indexOf(rt.config, kind, c.req.param("ref") ?? "")]);
  });

  app.post("/services/:service/instances", async (c) => {
    const kind = serviceOf(c.req.param("service") ?? "");
    const body = await jsonObject(c.req.raw, gateway);
    let index = -1;
    const rt = await change(() => `add instance to ${kind}`, (doc) => {
      const service = serviceMap(doc, kind, true)!;
      const seq = instancesSeq(doc, service, true)!;
      index = seq.items.length;
      const item = new YAMLMap(doc.schema);
      assignMap(doc, item, body, "replace");
      seq.items.push(item);
    });
    return c.json(instanceViews(rt, kind)[index], 201);
  });

  const edit = (mode: AssignMode) => async (c: import("hono").Context) => {
    const kind = serviceOf(c.req.param("service") ?? "");
    const ref = c.req.param("ref") ?? "";
    const id = idOf(gateway.runtime().config, kind, ref);
    const body = await jsonObject(c.req.raw, gateway);
    let index = -1;
    const rt = await change(
      () => `${mode === "merge" ? "patch" : "replace"} instance ${index} of ${kind}`,
      (doc, current) => {
        const found = locate(current(), gateway.runtime().config, kind, id, ref);
        index = found.index;
        assignMap(doc, instanceMap(doc, kind, index, found.instance), body, mode);
      },
    );
    return c.json(instanceViews(rt, kind)[index]);
  };
  app.put("/services/:service/instances/:ref", edit("replace"));
  app.patch("/services/:service/instances/:ref", edit("merge"));

  app.delete("/services/:service/instances/:ref", async (c) => {
    const kind = serviceOf(c.req.param("service") ?? "");
    const ref = c.req.param("ref") ?? "";
    const id = idOf(gateway.runtime().config, kind, ref);
    let index = -1;
    await change(() => `remove instance ${index} of ${kind}`, (doc, current) => {
      const found = locate(current(), gateway.runtime().config, kind, id, ref);
      index = found.index;
      instanceMap(doc, kind, index, found.instance);
      removeInstance(doc, kind, index);
    }, false);
    return c.json({ removed: { index, id } });
  });

  // Re-reads the file, as SIGHUP does; an invalid file is a 400 and the running config stays.
  app.post("/reload", async (c) => {
    const rt = await serialized(async () => {
      const file = fileOf();
      try {
        const { config } = await loadConfigFile(file, env);
        gateway.reload(config);
      } catch (error) {
        if (error instanceof ConfigError) throw new BadRequestError(error.message, "invalid_config");
        throw error;
      }
      gateway.logger.info("admin change applied", { event: "admin", change: "reload", source: file });
      options.reloaded?.();
      return gateway.runtime();
    });
    return c.json({ reloaded: true, source: rt.config.source, instances: rt.upstreams.length });
  });

  // Closes an instance's breaker now (state only: nothing is written to the file).
  app.post("/services/:service/instances/:ref/breaker/reset", (c) => {
    const kind = serviceOf(c.req.param("service") ?? "");
    const rt = gateway.runtime();
    const index = indexOf(rt.config, kind, c.req.param("ref") ?? "");
    const id = rt.config.services[kind].instances[index].id;
    const live = rt.upstreams.find((u) => u.id === id);
    if (!live) throw conflict(`Instance ${index} of ${kind} is disabled: it has no breaker to reset.`);
    const from = live.breaker.state;
    live.breaker.restore({ state: "closed", failures: 0, successes: 0, openUntil: 0, parkedUntil: 0 });
    gateway.logger.info("admin change applied", {
      event: "admin",
      change: `reset breaker of instance ${index} of ${kind}`,
      instance: id,
      from,
    });
    return c.json(instanceViews(gateway.runtime(), kind)[index]);
  });

  const block = (remove: boolean) => async (c: import("hono").Context) => {
    const kind = serviceOf(c.req.param("service") ?? "");
    const name = c.req.param("block") ?? "";
    const field = Object.hasOwn(BLOCKS, name) ? BLOCKS[name] : undefined;
    if (!field) {
      throw new NotFoundError(
        `Unknown block "${name}"; one of ${Object.keys(BLOCKS).join(", ")}.`,
        "unknown_url",
        null,
      );
    }
    const body = remove ? null : await jsonObject(c.req.raw, gateway);
    const rt = await change(() => `${remove ? "remove" : "set"} ${name} of ${kind}`, (doc) => {
      setServiceBlock(doc, kind, name, body);
    }, !remove);
    const svc = rt.config.services[kind];
    return c.json({ service: kind, [field]: svc[field] ?? null });
  };
  app.put("/services/:service/:block", block(false));
  app.delete("/services/:service/:block", block(true));

  app.notFound((c) =>
    errorResponse(new NotFoundError(`Unknown admin URL: ${c.req.method} ${c.req.path}.`, "unknown_url", null))
  );
  app.onError((err) => errorResponse(err));
  return app;
}

/** `doc` loaded as the gateway would load it, or why it does not load. */
function loadDocument(
  doc: Document,
  options: { source: string; env: Readonly<Record<string, string>>; readFile?: ReadFile },
): LoadResult | ConfigError {
  try {
    return parseConfig(doc.toString({ lineWidth: 0 }), options);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
}

/** Keys the loader ignores (unknown keys) in a loaded document, by written path. */
function unknownKeys(loaded: LoadResult | ConfigError): Map<string, ConfigWarning> {
  // An invalid document: updateYamlFile words the problems (with lines) when it validates.
  if (loaded instanceof ConfigError) return new Map();
  return new Map(loaded.warnings.filter((w) => w.kind === "unknown-key").map((w) => [w.path, w]));
}
