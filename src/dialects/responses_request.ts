/**
 * OpenAI Responses request (`POST /v1/responses`, OpenAI API reference "Create a model
 * response"), stateless subset → chat completions request. The gateway stores nothing, so
 * `previous_response_id` and `conversation` are refused with a message that says to send the
 * whole conversation in `input`.
 *
 * @module
 */

import {
  checkFields,
  type FieldRules,
  isRecord,
  isSet,
  type Json,
  numberIn,
  optionalArray,
  positiveInt,
  readObject,
  refuse,
  setStream,
  streamFlag,
} from "./request_body.ts";
import { responsesInput } from "./responses_items.ts";
import type { DialectEnv } from "./types.ts";

/** What the way back needs: ids and the request fields a response object echoes. */
export interface ResponsesCtx {
  /** `resp_…` id; item ids derive from it. */
  readonly id: string;
  readonly model: string;
  /** Seconds since the epoch. */
  readonly createdAt: number;
  /** Request fields echoed in every response object (`instructions`, `tools`, `text`, …). */
  readonly echo: Readonly<Json>;
}

const STATELESS = "this gateway is stateless and stores no responses: send the whole conversation in input.";

/** Every top-level field of a Responses request and what the gateway does with it. */
export const RESPONSES_FIELDS: FieldRules = {
  model: "map",
  input: "map",
  instructions: "map",
  tools: "map",
  tool_choice: "map",
  parallel_tool_calls: "map",
  text: "map",
  max_output_tokens: "map",
  temperature: "map",
  top_p: "map",
  stream: "map",
  user: "map",
  safety_identifier: "map",
  metadata: "map",
  reasoning: "map",
  store: "ignore",
  include: "ignore",
  stream_options: "ignore",
  service_tier: "ignore",
  truncation: "ignore",
  prompt_cache_key: "ignore",
  prompt_cache_retention: "ignore",
  previous_response_id: { refuse: STATELESS },
  conversation: { refuse: STATELESS },
  background: { refuse: "background responses need storage; this gateway is stateless." },
  prompt: { refuse: "stored prompt templates live on OpenAI's platform." },
  top_logprobs: { refuse: "log probabilities are not translated." },
  max_tool_calls: { refuse: "built-in tools are not served here, so there is nothing to cap." },
};

function convertTool(tool: unknown, i: number): Json {
  if (!isRecord(tool) || tool.type !== "function" || typeof tool.name !== "string") {
    refuse(
      `tools[${i}]: only function tools ({"type":"function","name",…}) are served; built-in tools ` +
        "(web search, file search, code interpreter…) run on OpenAI's platform.",
      "tools",
    );
  }
  const fn: Json = {
    name: tool.name,
    parameters: isRecord(tool.parameters) ? tool.parameters : { type: "object" },
  };
  if (typeof tool.description === "string") fn.description = tool.description;
  if (typeof tool.strict === "boolean") fn.strict = tool.strict;
  return { type: "function", function: fn };
}

function convertToolChoice(choice: unknown): unknown {
  if (choice === "auto" || choice === "none" || choice === "required") return choice;
  if (isRecord(choice) && choice.type === "function" && typeof choice.name === "string") {
    return { type: "function", function: { name: choice.name } };
  }
  refuse('"tool_choice" must be auto, none, required or {"type":"function","name"}.', "tool_choice");
}

function convertText(text: unknown, out: Json): void {
  if (!isRecord(text)) refuse('"text" must be an object.', "text");
  const format = text.format;
  if (!isSet(format)) return;
  if (!isRecord(format)) refuse('"text.format" must be an object.', "text");
  if (format.type === "json_object") out.response_format = { type: "json_object" };
  else if (format.type === "json_schema") {
    if (typeof format.name !== "string" || !isRecord(format.schema)) {
      refuse('"text.format" of type json_schema needs a "name" and a "schema".', "text");
    }
    const schema: Json = { name: format.name, schema: format.schema };
    if (typeof format.strict === "boolean") schema.strict = format.strict;
    if (typeof format.description === "string") schema.description = format.description;
    out.response_format = { type: "json_schema", json_schema: schema };
  } else if (format.type !== "text") {
    refuse('"text.format.type" must be text, json_object or json_schema.', "text");
  }
}

/** Copies the fields a response object echoes (defaults as OpenAI reports them). */
function echoOf(req: Json): Json {
  return {
    instructions: typeof req.instructions === "string" ? req.instructions : null,
    max_output_tokens: req.max_output_tokens ?? null,
    metadata: isRecord(req.metadata) ? req.metadata : {},
    parallel_tool_calls: req.parallel_tool_calls ?? true,
    temperature: req.temperature ?? null,
    text: isRecord(req.text) ? req.text : { format: { type: "text" } },
    tool_choice: req.tool_choice ?? "auto",
    tools: Array.isArray(req.tools) ? req.tools : [],
    top_p: req.top_p ?? null,
    user: typeof req.user === "string" ? req.user : null,
  };
}

/**
 * Translates a Responses request body; throws a `Refusal` for what cannot be served.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { translateResponses } from "./responses_request.ts";
 * const bytes = new TextEncoder().encode(JSON.stringify({ model: "m", instructions: "brief", input: "hi" }));
 * const { body, ctx } = translateResponses(bytes, { clock: () => 5000, randomId: () => "x" });
 * assert.deepEqual(body.messages, [{ role: "system", content: "brief" }, { role: "user", content: "hi" }]);
 * assert.equal(ctx.id, "resp_x");
 * ```
 */
export function translateResponses(bytes: Uint8Array, env: DialectEnv): { body: Json; ctx: ResponsesCtx } {
  const req = readObject(bytes);
  checkFields(req, RESPONSES_FIELDS, "Responses");
  const out: Json = { model: req.model };
  const messages: Json[] = [];
  if (isSet(req.instructions)) {
    if (typeof req.instructions !== "string") refuse('"instructions" must be a string.', "instructions");
    messages.push({ role: "system", content: req.instructions });
  }
  out.messages = responsesInput(req.input, messages);
  const tools = optionalArray(req.tools, "tools");
  if (tools && tools.length > 0) out.tools = tools.map(convertTool);
  if (isSet(req.tool_choice)) out.tool_choice = convertToolChoice(req.tool_choice);
  if (typeof req.parallel_tool_calls === "boolean") out.parallel_tool_calls = req.parallel_tool_calls;
  if (isSet(req.text)) convertText(req.text, out);
  if (isSet(req.max_output_tokens)) {
    out.max_tokens = positiveInt(req.max_output_tokens, "max_output_tokens");
  }
  if (isSet(req.temperature)) out.temperature = numberIn(req.temperature, "temperature", 0, 2);
  if (isSet(req.top_p)) out.top_p = numberIn(req.top_p, "top_p", 0, 1);
  const user = typeof req.user === "string" ? req.user : req.safety_identifier;
  if (typeof user === "string") out.user = user;
  if (isRecord(req.reasoning) && typeof req.reasoning.effort === "string") {
    out.reasoning_effort = req.reasoning.effort;
  }
  // OpenAI's API refuses a non-boolean `stream` (400), and so does every dialect here.
  setStream(out, streamFlag(req.stream, false));
  const id = env.randomId();
  return {
    body: out,
    ctx: {
      id: `resp_${id}`,
      model: req.model as string,
      createdAt: Math.floor(env.clock() / 1000),
      echo: echoOf(req),
    },
  };
}
