/**
 * What one attempt sends to the instance it picked, and how the answer comes back: the body with
 * the instance's `upstream-model` in place of the name the client used (JSON and multipart) and
 * with the usage request for streamed chat, or — for an instance whose backend speaks the
 * client's dialect (`native-dialects`) — the client's own bytes to the backend's native route.
 * A body that needs neither change is the client's, byte for byte; a changed one is built once
 * per request and reused by its retries.
 *
 * @module
 */

import { forward } from "../adapters/compat.ts";
import { replaceFormField } from "../adapters/multipart.ts";
import { BadRequestError } from "../errors.ts";
import type { JsonBody, RawBody, UpstreamCall } from "../types.ts";
import type { Reply } from "./reply.ts";
import type { GatewayRequest } from "./request.ts";
import type { Upstream } from "./runtime_types.ts";
import { needsUsageOption, withUsageOption } from "./stream_usage.ts";

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();

/** What an attempt sends and how its answer is read. */
export interface PreparedCall {
  readonly call: UpstreamCall;
  /** The gateway asked for stream usage the client did not: hide that event again. */
  readonly stripUsage: boolean;
  readonly reply?: Reply;
}

/** A body variant built for some instances of one request. */
interface Variant {
  readonly model: string;
  readonly usage: boolean;
  readonly body: JsonBody | RawBody;
}

/**
 * The bodies of one request as its instances need them. Holds the last variant built: the
 * instances of one model share their upstream name, so a retry reuses it.
 */
export class UpstreamBodies {
  #last: Variant | undefined;

  constructor(readonly req: GatewayRequest) {}

  /** The body for `u`, and whether it asks for stream usage on the client's behalf. */
  for(u: Upstream): { body: JsonBody | RawBody; usage: boolean } {
    const req = this.req;
    const body = req.body;
    const usage = req.stream && body.kind === "json" && u.adapter.acceptsStreamOptions === true &&
      needsUsageOption(body.value);
    const model = u.upstreamModel;
    if (!usage && model === req.model) return { body, usage };
    const last = this.#last;
    if (last !== undefined && last.model === model && last.usage === usage) return last;
    this.#last = { model, usage, body: variant(body, model === req.model ? undefined : model, usage) };
    return this.#last;
  }
}

/** `body` with `model` renamed (when given) and stream usage asked for (when `usage`). */
function variant(body: JsonBody | RawBody, model: string | undefined, usage: boolean): JsonBody | RawBody {
  if (body.kind === "raw") {
    const bytes = model === undefined
      ? undefined
      : replaceFormField(body.bytes, body.contentType, "model", model);
    return bytes === undefined ? body : { kind: "raw", bytes, contentType: body.contentType };
  }
  let value = usage ? withUsageOption(body.value)! : body.value;
  if (model !== undefined) value = { ...value, model };
  return { kind: "json", value, bytes: ENCODER.encode(JSON.stringify(value)) };
}

/**
 * The call for one attempt on `u`: native pass-through when the request came in a dialect the
 * instance takes natively, else the adapter's translation of the (OpenAI) body. The answer is
 * turned back into the client's dialect, or has its model's public name put back, when needed.
 */
export function prepareCall(req: GatewayRequest, bodies: UpstreamBodies, u: Upstream): PreparedCall {
  const dialect = req.dialect;
  if (dialect !== undefined && u.nativeDialects.has(dialect.name)) {
    const endpoint = dialect.native[u.adapter.name];
    if (endpoint === undefined) {
      throw new BadRequestError(
        `The ${u.adapter.name} backend does not serve ${dialect.name} requests natively.`,
      );
    }
    return { call: forward(nativeInput(req, u), endpoint.path), stripUsage: false, reply: u.rename };
  }
  const { body, usage } = bodies.for(u);
  const call = u.adapter.prepare({
    service: req.service,
    route: req.route,
    target: u.target,
    body,
    stream: req.stream,
    headers: req.forwardHeaders,
  });
  return { call, stripUsage: usage, reply: dialect ? dialect.translated(u.model) : u.rename };
}

/** The adapter input of a native pass-through: the client's own bytes, renamed if they must be. */
function nativeInput(req: GatewayRequest, u: Upstream) {
  const original = req.dialect!.original;
  let bytes = original;
  if (u.upstreamModel !== req.model) {
    const value = JSON.parse(DECODER.decode(original)) as Record<string, unknown>;
    bytes = ENCODER.encode(JSON.stringify({ ...value, model: u.upstreamModel }));
  }
  return {
    service: req.service,
    route: req.route,
    target: u.target,
    body: { kind: "json" as const, bytes, value: {} },
    stream: req.stream,
    headers: req.forwardHeaders,
  };
}
