/**
 * Anthropic Messages request (`POST /v1/messages`, Anthropic API reference "Create a Message")
 * → OpenAI chat completions request. The field list below is the whole contract: `map` fields
 * are translated, `ignore` fields are accepted without effect (reason in the README), anything
 * else is refused with a 400 in Anthropic's error shape — Anthropic's own API refuses unknown
 * fields too ("Extra inputs are not permitted").
 *
 * @module
 */

import { anthropicMessages } from "./anthropic_content.ts";
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
  stringList,
} from "./request_body.ts";
import type { DialectEnv } from "./types.ts";

/** What the way back needs to know of an Anthropic request. */
export interface AnthropicCtx {
  /** `msg_…` id of the answer. */
  readonly id: string;
  /** The client's model name, echoed in the answer. */
  readonly model: string;
  /** `stop_sequences` of the request, to tell `stop_sequence` from `end_turn`. */
  readonly stopSequences: readonly string[];
  /** `thinking.type` was `enabled`: reasoning comes back as `thinking` blocks. */
  readonly thinking: boolean;
}

/** Every top-level field of a Messages request and what the gateway does with it. */
export const ANTHROPIC_FIELDS: FieldRules = {
  model: "map",
  messages: "map",
  max_tokens: "map",
  system: "map",
  metadata: "map",
  stop_sequences: "map",
  stream: "map",
  temperature: "map",
  top_p: "map",
  top_k: "map",
  tools: "map",
  tool_choice: "map",
  thinking: "map",
  output_config: "map",
  cache_control: "ignore",
  service_tier: "ignore",
  speed: "ignore",
  inference_geo: "ignore",
  workspace_id: "ignore",
  user_profile_id: "ignore",
  diagnostics: "ignore",
  container: { refuse: "containers belong to Anthropic's code-execution platform." },
  mcp_servers: { refuse: "remote MCP servers are called by Anthropic's platform, not by a model server." },
  context_management: { refuse: "context editing is done by Anthropic's platform, not by a model server." },
};

/** `count_tokens` takes the same fields less the sampling and output ones. */
export const COUNT_TOKENS_FIELDS: FieldRules = {
  model: "map",
  messages: "map",
  system: "map",
  tools: "map",
  tool_choice: "map",
  thinking: "ignore",
  output_config: "ignore",
  cache_control: "ignore",
  mcp_servers: ANTHROPIC_FIELDS.mcp_servers,
  context_management: ANTHROPIC_FIELDS.context_management,
};

function systemText(system: unknown): string {
  if (typeof system === "string") return system;
  if (!Array.isArray(system)) refuse('"system" must be a string or an array of text blocks.', "system");
  return system.map((block, i) => {
    if (!isRecord(block) || block.type !== "text" || typeof block.text !== "string") {
      refuse(`system[${i}] must be a text block ({"type":"text","text":…}).`, "system");
    }
    return block.text;
  }).join("\n");
}

function convertTool(tool: unknown, i: number): Json {
  if (!isRecord(tool) || typeof tool.name !== "string") refuse(`tools[${i}] must have a "name".`, "tools");
  if (isSet(tool.type) && tool.type !== "custom") {
    refuse(
      `tools[${i}] has type ${JSON.stringify(tool.type)}: Anthropic's server tools run on Anthropic's ` +
        "platform; only client tools (with an input_schema) can be served here.",
      "tools",
    );
  }
  if (!isRecord(tool.input_schema)) refuse(`tools[${i}].input_schema must be a JSON schema object.`, "tools");
  const fn: Json = { name: tool.name, parameters: tool.input_schema };
  if (typeof tool.description === "string") fn.description = tool.description;
  if (typeof tool.strict === "boolean") fn.strict = tool.strict;
  return { type: "function", function: fn };
}

function convertToolChoice(choice: unknown, out: Json): void {
  if (!isRecord(choice)) refuse('"tool_choice" must be an object with a "type".', "tool_choice");
  if (choice.type === "auto") out.tool_choice = "auto";
  else if (choice.type === "any") out.tool_choice = "required";
  else if (choice.type === "none") out.tool_choice = "none";
  else if (choice.type === "tool" && typeof choice.name === "string") {
    out.tool_choice = { type: "function", function: { name: choice.name } };
  } else refuse('"tool_choice.type" must be auto, any, tool (with a name) or none.', "tool_choice");
  if (choice.disable_parallel_tool_use === true) out.parallel_tool_calls = false;
}

function convertOutputConfig(config: unknown, out: Json): void {
  if (!isRecord(config)) refuse('"output_config" must be an object.', "output_config");
  const { effort, format, ...rest } = config;
  for (const key in rest) refuse(`"output_config.${key}" is not supported.`, "output_config");
  if (typeof effort === "string") {
    out.reasoning_effort = effort === "low" || effort === "medium" ? effort : "high";
  }
  if (!isSet(format)) return;
  if (!isRecord(format) || format.type !== "json_schema" || !isRecord(format.schema)) {
    refuse('"output_config.format" must be {"type":"json_schema","schema":{…}}.', "output_config");
  }
  out.response_format = {
    type: "json_schema",
    json_schema: { name: "output", schema: format.schema, strict: true },
  };
}

/** Translates the common part of a Messages and a count_tokens body. */
export function anthropicToChat(body: Json): Json {
  const out: Json = { model: body.model };
  const messages: Json[] = [];
  if (isSet(body.system)) {
    const text = systemText(body.system);
    if (text !== "") messages.push({ role: "system", content: text });
  }
  out.messages = anthropicMessages(body.messages, messages);
  const tools = optionalArray(body.tools, "tools");
  if (tools && tools.length > 0) out.tools = tools.map(convertTool);
  if (isSet(body.tool_choice)) convertToolChoice(body.tool_choice, out);
  return out;
}

/**
 * Translates a Messages request body; throws a `Refusal` for what cannot be served.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { translateAnthropic } from "./anthropic_request.ts";
 * const bytes = new TextEncoder().encode(JSON.stringify({
 *   model: "m", max_tokens: 5, system: "be brief", messages: [{ role: "user", content: "hi" }],
 * }));
 * const { body } = translateAnthropic(bytes, { clock: () => 0, randomId: () => "x" });
 * assert.deepEqual(body.messages, [{ role: "system", content: "be brief" }, { role: "user", content: "hi" }]);
 * assert.equal(body.max_tokens, 5);
 * ```
 */
export function translateAnthropic(bytes: Uint8Array, env: DialectEnv): { body: Json; ctx: AnthropicCtx } {
  const req = readObject(bytes);
  checkFields(req, ANTHROPIC_FIELDS, "Anthropic Messages");
  const out = anthropicToChat(req);
  out.max_tokens = positiveInt(req.max_tokens, "max_tokens");
  if (isSet(req.temperature)) out.temperature = numberIn(req.temperature, "temperature", 0, 1);
  if (isSet(req.top_p)) out.top_p = numberIn(req.top_p, "top_p", 0, 1);
  // Not an OpenAI field; vLLM, SGLang, llama.cpp and Ollama's OpenAI routes read `top_k` as given.
  if (isSet(req.top_k)) out.top_k = positiveInt(req.top_k, "top_k");
  const stops = isSet(req.stop_sequences) ? stringList(req.stop_sequences, "stop_sequences") : [];
  if (stops.length > 0) out.stop = stops;
  if (isRecord(req.metadata) && typeof req.metadata.user_id === "string") out.user = req.metadata.user_id;
  if (isSet(req.output_config)) convertOutputConfig(req.output_config, out);
  setStream(out, streamFlag(req.stream, false));
  const thinking = isRecord(req.thinking) && req.thinking.type === "enabled";
  return {
    body: out,
    ctx: { id: `msg_${env.randomId()}`, model: req.model as string, stopSequences: stops, thinking },
  };
}
