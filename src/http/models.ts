/**
 * What the gateway says of its models: `GET /v1/models` (every model instances serve, plus the
 * aliases not marked `hidden`), `GET /v1/models/{id}` (any name that routes: a model, an alias,
 * a name a pattern matches), and the list Ollama's `/api/tags` and `/api/ps` show. A client key
 * with a `models` list sees only what it may use.
 *
 * @module
 */

import type { ApiKeyConfig } from "../config/types.ts";
import { resolveModel } from "../proxy/catalogue.ts";
import { modelAllowed } from "../proxy/api_keys.ts";
import type { Runtime } from "../proxy/runtime.ts";
import type { ServiceKind } from "../types.ts";
import { SERVICE_KINDS } from "../types.ts";

/** One entry of `/v1/models`: OpenAI's model object, plus the services and, for an alias, its model. */
export interface ModelEntry {
  readonly id: string;
  readonly object: "model";
  readonly created: number;
  readonly owned_by: "dairouter";
  readonly services: ServiceKind[];
  /** For an alias: the model it stands for. */
  readonly alias_of?: string;
}

/** Whether `key` may use `name` (an alias also through the model it stands for). */
function mayUse(key: ApiKeyConfig | undefined, name: string, model: string): boolean {
  return key === undefined || modelAllowed(key, name) || modelAllowed(key, model);
}

/** The services whose instances serve `model`. */
function servicesOf(rt: Runtime, model: string): ServiceKind[] {
  return SERVICE_KINDS.filter((kind) => rt.services[kind].pools.has(model));
}

function entry(id: string, services: ServiceKind[], aliasOf?: string): ModelEntry {
  return {
    id,
    object: "model",
    created: 0,
    owned_by: "dairouter",
    services,
    ...(aliasOf !== undefined ? { alias_of: aliasOf } : {}),
  };
}

/**
 * `GET /v1/models`: the served models and the visible exact aliases of a served model, sorted
 * by id, narrowed to what `key` may use. Patterns are not listed (they name no model id).
 */
export function modelList(rt: Runtime, key?: ApiKeyConfig): ModelEntry[] {
  const out: ModelEntry[] = [];
  const models = new Set<string>();
  for (const kind of SERVICE_KINDS) for (const name of rt.services[kind].pools.keys()) models.add(name);
  for (const name of models) if (mayUse(key, name, name)) out.push(entry(name, servicesOf(rt, name)));
  for (const a of rt.config.catalogue.aliases) {
    if (a.hidden || a.pattern || !models.has(a.model) || !mayUse(key, a.name, a.model)) continue;
    out.push(entry(a.name, servicesOf(rt, a.model), a.model));
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * `GET /v1/models/{id}`: the entry of any name that routes in some service — a model, an alias
 * (hidden ones too: whoever knows the name may use it), a name a pattern matches — or
 * `undefined` (also when `key` may not use it).
 */
export function modelDocument(rt: Runtime, id: string, key?: ApiKeyConfig): ModelEntry | undefined {
  let model: string | undefined;
  const services: ServiceKind[] = [];
  for (const kind of SERVICE_KINDS) {
    const route = resolveModel(rt.services[kind].catalogue, id);
    if (route === undefined) continue;
    model ??= route.pool.name;
    services.push(kind);
  }
  if (model === undefined || !mayUse(key, id, model)) return undefined;
  return entry(id, services, model === id ? undefined : model);
}
