import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "./mod.ts";

const BASE = `
model:
  aliases:
    gpt-4o-mini: qwen3-8b
    claude-*: qwen3-32b
    claude-haiku-*: qwen3-8b
    internal: { model: qwen3-8b, hidden: true }
  fallbacks:
    qwen3-32b: [qwen3-8b, qwen3-1.7b]
  services:
    chat:
      fallbacks:
        qwen3-8b: qwen3-1.7b
      instances:
        - name: qwen3-32b
          base-url: http://127.0.0.1:8001
        - name: qwen3-8b
          base-url: http://127.0.0.1:8002
          adapter: vllm
          upstream-model: Qwen/Qwen3-8B
          native-dialects: [anthropic, responses]
        - name: qwen3-1.7b
          base-url: http://127.0.0.1:8003
          adapter: ollama
          upstreamModel: "qwen3:1.7b"
          nativeDialects: ollama, anthropic
`;

function load(yaml: string) {
  return parseConfig(yaml, { source: "c.yaml", env: {} });
}

function problems(yaml: string): string {
  try {
    load(yaml);
  } catch (error) {
    assert(error instanceof ConfigError);
    return error.message;
  }
  throw new Error("expected a ConfigError");
}

Deno.test("catalogue keys load: aliases keep their names, patterns sort most specific first, chains merge per service", () => {
  const { config, warnings } = load(BASE);
  assert.deepEqual(warnings, []);
  assert.deepEqual(config.catalogue.aliases.map((a) => [a.name, a.model, a.hidden, a.pattern]), [
    ["gpt-4o-mini", "qwen3-8b", false, false],
    ["internal", "qwen3-8b", true, false],
    ["claude-haiku-*", "qwen3-8b", false, true],
    ["claude-*", "qwen3-32b", false, true],
  ]);
  assert.deepEqual(config.services.chat.fallbacks, [
    { model: "qwen3-8b", then: ["qwen3-1.7b"] },
    { model: "qwen3-32b", then: ["qwen3-8b", "qwen3-1.7b"] },
  ]);
  assert.deepEqual(config.services.embedding.fallbacks, [{
    model: "qwen3-32b",
    then: ["qwen3-8b", "qwen3-1.7b"],
  }]);
  const [big, small, tiny] = config.services.chat.instances;
  assert.equal(big.upstreamModel, undefined);
  assert.equal(big.nativeDialects, undefined);
  assert.equal(small.upstreamModel, "Qwen/Qwen3-8B");
  assert.deepEqual(small.nativeDialects, ["anthropic", "responses"]);
  assert.equal(tiny.upstreamModel, "qwen3:1.7b");
  assert.deepEqual(tiny.nativeDialects, ["ollama", "anthropic"]);
});

Deno.test("an alias may not hide a model, nor point to another alias", () => {
  assert.match(
    problems(BASE.replace("gpt-4o-mini: qwen3-8b", "qwen3-32b: qwen3-8b")),
    /model\.aliases\.qwen3-32b is the name of a model that instances serve; an alias cannot hide it \(line 4\)/,
  );
  assert.match(
    problems(BASE.replace("gpt-4o-mini: qwen3-8b", "gpt-4o-mini: internal")),
    /model\.aliases\.gpt-4o-mini points to "internal", which is an alias itself: name a model/,
  );
  assert.match(
    problems(BASE.replace("gpt-4o-mini: qwen3-8b", "gpt-4o-mini: [1]")),
    /model\.aliases\.gpt-4o-mini must be a model name or \{ model, hidden \}, received a list \(line 4\)/,
  );
  assert.match(
    problems(
      BASE.replace(
        "internal: { model: qwen3-8b, hidden: true }",
        "internal: { model: qwen3-8b, hiden: true }",
      ),
    ),
    /model\.aliases\.internal must be a model name or \{ model, hidden \}/,
  );
});

Deno.test("a chain may not name its own model or one model twice", () => {
  assert.match(
    problems(BASE.replace("qwen3-32b: [qwen3-8b, qwen3-1.7b]", "qwen3-32b: [qwen3-8b, qwen3-32b]")),
    /model\.fallbacks\.qwen3-32b\[1\] falls back to "qwen3-32b" itself \(line 9\)/,
  );
  assert.match(
    problems(BASE.replace("qwen3-8b: qwen3-1.7b", "qwen3-8b: [qwen3-1.7b, qwen3-1.7b]")),
    /model\.services\.chat\.fallbacks\.qwen3-8b\[1\] names "qwen3-1\.7b" twice in one chain/,
  );
  assert.match(
    problems(BASE.replace("qwen3-8b: qwen3-1.7b", "qwen3-8b: []")),
    /fallbacks\.qwen3-8b must name at least one model/,
  );
});

Deno.test("names no instance serves are warnings with their line", () => {
  const { warnings } = load(
    BASE.replace("gpt-4o-mini: qwen3-8b", "gpt-4o-mini: qwen3-70b").replace(
      "[qwen3-8b, qwen3-1.7b]",
      "[qwen3-8b, llama4]",
    ),
  );
  assert.deepEqual(warnings.map((w) => [w.kind, w.message]), [
    ["unserved-model", 'model.aliases.gpt-4o-mini points to "qwen3-70b", which no instance serves (line 4)'],
    ["unserved-model", 'model.fallbacks.qwen3-32b[1] names "llama4", which no instance serves (line 9)'],
  ]);
});

Deno.test("native-dialects must name dialects the instance's backend speaks natively", () => {
  assert.match(
    problems(BASE.replace("native-dialects: [anthropic, responses]", "native-dialects: [ollama]")),
    /instances\[1\]\.native-dialects names ollama, which the vllm adapter's backend does not serve natively \(backends that do: ollama\)/,
  );
  assert.match(
    problems(BASE.replace("native-dialects: [anthropic, responses]", "native-dialects: [klingon]")),
    /native-dialects\[0\] must be one of anthropic, responses, ollama, received "klingon"/,
  );
  assert.match(
    problems(BASE.replace("adapter: vllm", "adapter: openai")),
    /names anthropic, which the openai adapter's backend does not serve natively/,
  );
});

Deno.test("upstream-model must not be empty", () => {
  assert.match(
    problems(BASE.replace("upstream-model: Qwen/Qwen3-8B", 'upstream-model: ""')),
    /upstream-model must not be empty/,
  );
});
