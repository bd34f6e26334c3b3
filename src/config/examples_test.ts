import assert from "node:assert/strict";
import { SERVICE_KINDS } from "../types.ts";
import { loadConfigFile } from "./load.ts";

const root = new URL("../../config/", import.meta.url);
const seed = new URL("./testdata/jairouter_seed.yaml", import.meta.url);

Deno.test("config/dairouter.yaml loads without warnings and points only at loopback", async () => {
  const { config, warnings } = await loadConfigFile(new URL("dairouter.yaml", root).pathname, {});
  assert.deepEqual(warnings, []);
  const urls = SERVICE_KINDS.flatMap((k) => config.services[k].instances.map((i) => new URL(i.baseUrl)));
  assert.ok(urls.length >= 7);
  assert.ok(urls.every((u) => u.hostname === "127.0.0.1"), urls.join(", "));
  assert.ok(
    SERVICE_KINDS.every((k) => config.services[k].instances.length > 0),
    "every service has an example",
  );
});

Deno.test("config/jairouter.yaml is the seed with its base URLs moved to 127.0.0.1", async () => {
  const text = await Deno.readTextFile(new URL("jairouter.yaml", root));
  const seedText = await Deno.readTextFile(seed);
  assert.equal(text, seedText.replaceAll("http://172.16.30.6:9090", "http://127.0.0.1:9090"));
  const { config } = await loadConfigFile(new URL("jairouter.yaml", root).pathname, {});
  const urls = SERVICE_KINDS.flatMap((k) => config.services[k].instances.map((i) => i.baseUrl));
  assert.equal(urls.length, 13);
  assert.ok(urls.every((u) => u === "http://127.0.0.1:9090"));
});

Deno.test("loadConfigFile() turns an unreadable file into a ConfigError", async () => {
  await assert.rejects(
    loadConfigFile("/nonexistent/dairouter.yaml", {}),
    (err: Error) =>
      err.name === "ConfigError" &&
      err.message.startsWith('Cannot load config "/nonexistent/dairouter.yaml": cannot be read'),
  );
});
