/**
 * A configuration published by another replica, on fake files: applied and kept in the file
 * (written aside, then renamed over it), unless the file is newer; an invalid one throws and
 * changes nothing; a file that cannot be written is a warning, the config still runs.
 */

import assert from "node:assert/strict";
import type { Config } from "../config/types.ts";
import { createLogger } from "../observe/logger.ts";
import { clusterConfigApplier, type ConfigFileAccess } from "./apply_config.ts";

const YAML =
  'model:\n  services:\n    chat:\n      instances:\n        - { name: m, base-url: "http://127.0.0.1:9" }\n';

function harness(mtime: number, writable = true) {
  const ops: string[] = [];
  const reloaded: Config[] = [];
  const logs: string[] = [];
  const files: ConfigFileAccess = {
    mtime: () => Promise.resolve(mtime),
    readTextFile: () => Promise.reject(new Error("not read")),
    writeTextFile: (path) =>
      writable ? (ops.push(`write ${path}`), Promise.resolve()) : Promise.reject(new Error("read-only")),
    rename: (from, to) => (ops.push(`rename ${from} ${to}`), Promise.resolve()),
  };
  const logger = createLogger({ level: "info", format: "json", clock: () => 0, write: (l) => logs.push(l) });
  const apply = clusterConfigApplier({
    file: "dairouter.yaml",
    env: {},
    files,
    tempFile: "dairouter.yaml.cluster-1-0.tmp",
    gateway: () => ({ reload: (c) => void reloaded.push(c), logger }),
  });
  return { apply, ops, reloaded, logs: () => logs.map((l) => JSON.parse(l).msg) };
}

Deno.test("clusterConfigApplier(): applies a published config, then writes it aside and renames it over the file", async () => {
  const h = harness(1000);
  await h.apply(YAML, 7, 2000);
  assert.equal(h.reloaded.length, 1);
  assert.equal(h.reloaded[0].services.chat.instances[0].name, "m");
  assert.deepEqual(h.ops, [
    "write dairouter.yaml.cluster-1-0.tmp",
    "rename dairouter.yaml.cluster-1-0.tmp dairouter.yaml",
  ]);
  assert.deepEqual(h.logs(), ["cluster configuration applied"]);
});

Deno.test("clusterConfigApplier(): a file edited after the publication wins; the published config is not applied", async () => {
  const h = harness(3000);
  await h.apply(YAML, 7, 2000);
  assert.deepEqual([h.reloaded.length, h.ops.length], [0, 0]);
  assert.deepEqual(h.logs(), ["config file is newer than the cluster's; keeping the file"]);
});

Deno.test("clusterConfigApplier(): an invalid document throws and changes nothing; an unwritable file is a warning", async () => {
  const h = harness(0);
  await assert.rejects(() => h.apply("model: { services: { chat: 5 } }\n", 8, 2000));
  assert.deepEqual([h.reloaded.length, h.ops.length], [0, 0]);
  const ro = harness(0, false);
  await ro.apply(YAML, 9, 2000);
  assert.equal(ro.reloaded.length, 1);
  assert.deepEqual(ro.logs(), [
    "cluster configuration applied",
    "cluster configuration not written to the file",
  ]);
});
