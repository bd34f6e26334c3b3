import assert from "node:assert/strict";
import { UpstreamError } from "../errors.ts";
import { runSplit } from "./_testing.ts";
import { type ChatStreamWriter, createChatStream, TRUNCATED } from "./chat_stream.ts";

const writer = (finish: ChatStreamWriter["finish"] = () => "|"): ChatStreamWriter => ({
  start: () => "<",
  reasoning: () => "",
  content: (s) => s,
  toolCall: () => "",
  finish,
  finalize: () => ">",
  error: (m) => `!${m}`,
});

const chunk = (content: string, finish: string | null = null) =>
  `data: ${JSON.stringify({ choices: [{ delta: { content }, finish_reason: finish }] })}\n\n`;

Deno.test("createChatStream(): failed() says why the translator ended the stream with its error event", () => {
  const complete = createChatStream(writer());
  assert.equal(runSplit(complete, chunk("a") + chunk("", "stop") + "data: [DONE]\n\n"), "<a|>");
  assert.equal(complete.failed?.(), undefined);

  const cut = createChatStream(writer());
  assert.equal(runSplit(cut, chunk("a")), `<a!${TRUNCATED}`);
  assert.equal(cut.failed?.(), TRUNCATED, "closed before its finish reason");

  const refused = createChatStream(writer(() => {
    throw new UpstreamError("tool arguments are not JSON");
  }));
  assert.equal(runSplit(refused, chunk("a", "tool_calls")), "<a!tool arguments are not JSON");
  assert.equal(refused.failed?.(), "tool arguments are not JSON", "a writer's UpstreamError");

  const late = createChatStream(writer());
  assert.equal(
    runSplit(late, chunk("a", "stop") + "data: [DONE]\n\n" + 'data: {"error":{"message":"late"}}\n\n'),
    "<a|>",
    "nothing after the closing events",
  );
  assert.equal(late.failed?.(), undefined, "an error after the whole answer is not the answer's failure");

  const reported = createChatStream(writer());
  runSplit(reported, chunk("a") + 'data: {"error":{"message":"boom"}}\n\n');
  assert.equal(reported.failed?.(), "boom", "the upstream's own error event");
});
