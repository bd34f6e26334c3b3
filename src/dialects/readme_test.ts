/** The coverage tables in README.md name every field each dialect maps, ignores or refuses. */
import assert from "node:assert/strict";
import { ANTHROPIC_FIELDS, COUNT_TOKENS_FIELDS } from "./anthropic_request.ts";
import { OPTION_FIELDS } from "./ollama_options.ts";
import { OLLAMA_CHAT_FIELDS, OLLAMA_EMBED_FIELDS, OLLAMA_GENERATE_FIELDS } from "./ollama_request.ts";
import { RESPONSES_FIELDS } from "./responses_request.ts";

const README = await Deno.readTextFile(new URL("./README.md", import.meta.url));

Deno.test("README.md documents every field of every dialect's field list", () => {
  const lists = {
    ANTHROPIC_FIELDS,
    COUNT_TOKENS_FIELDS,
    RESPONSES_FIELDS,
    OLLAMA_CHAT_FIELDS,
    OLLAMA_GENERATE_FIELDS,
    OLLAMA_EMBED_FIELDS,
    OPTION_FIELDS,
  };
  for (const [list, fields] of Object.entries(lists)) {
    for (const field of Object.keys(fields)) {
      assert(README.includes(`\`${field}\``), `${list}.${field} is missing from src/dialects/README.md`);
    }
  }
});
