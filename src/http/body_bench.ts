/**
 * The cost of reading `model` from a JSON body on the happy path (one `"model"`, no escapes), for
 * a small chat request and a large one, and of the refusal check's slow path.
 */

import { parseJsonBody } from "./body.ts";

const enc = new TextEncoder();
const small = enc.encode(JSON.stringify({
  model: "qwen2.5-7b-instruct",
  stream: true,
  messages: [{ role: "system", content: "You are helpful." }, {
    role: "user",
    content: "hello ".repeat(120),
  }],
}));
const large = enc.encode(JSON.stringify({
  model: "qwen2.5-7b-instruct",
  messages: Array.from(
    { length: 60 },
    (_, i) => ({ role: i % 2 ? "assistant" : "user", content: "word ".repeat(200) }),
  ),
}));
const nested = enc.encode(JSON.stringify({
  model: "qwen2.5-7b-instruct",
  messages: [{ role: "user", content: "hi ".repeat(300) }],
  response_format: {
    type: "json_schema",
    json_schema: { schema: { properties: { model: { type: "string" } } } },
  },
}));

Deno.bench("parseJsonBody() small chat body (~800 B)", { group: "small", baseline: true }, () => {
  parseJsonBody(small);
});
Deno.bench("parseJsonBody() large chat body (~60 KB)", { group: "large" }, () => {
  parseJsonBody(large);
});
Deno.bench('parseJsonBody() nested "model" key (slow path)', { group: "nested" }, () => {
  parseJsonBody(nested);
});
