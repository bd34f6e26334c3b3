/**
 * The command line: defaults from the environment, flags over them, and a `TypeError` naming
 * every bad argument (exit code 2 in `main.ts`; the process-level test is tests/ops_test.ts).
 */

import assert from "node:assert/strict";
import { helpText, loadOptionsOf, parseArgs } from "./args.ts";

Deno.test("parseArgs(): DAIROUTER_* give the defaults; flags override them", () => {
  const env = { DAIROUTER_CONFIG: "/etc/d.yaml", DAIROUTER_HOST: "0.0.0.0", DAIROUTER_PORT: "9000" };
  const fromEnv = parseArgs([], env);
  assert.deepEqual(
    [fromEnv.command, fromEnv.config, fromEnv.host, fromEnv.port, fromEnv.watch],
    ["serve", "/etc/d.yaml", "0.0.0.0", 9000, true],
  );
  const args = [
    "serve",
    "--config=x.yaml",
    "--host",
    "127.0.0.1",
    "-p",
    "0",
    "--no-watch",
    "--max-config-size",
    "2kb",
  ];
  const cli = parseArgs(args, env);
  assert.deepEqual(
    [cli.config, cli.host, cli.port, cli.watch, cli.maxConfigBytes],
    ["x.yaml", "127.0.0.1", 0, false, 2048],
  );
  assert.deepEqual(cli.args, args, "kept as given, for the workers");
  assert.deepEqual(loadOptionsOf(cli), { maxBytes: 2048 });
  assert.deepEqual(loadOptionsOf(fromEnv), {});
  assert.equal(parseArgs([], {}).config, "config/dairouter.yaml", "the default file");
});

Deno.test("parseArgs(): help, version and check commands", () => {
  assert.equal(parseArgs(["-h"], {}).command, "help");
  assert.equal(parseArgs(["--version"], {}).command, "version");
  const check = parseArgs(["check", "-c", "a.yaml", "--strict"], {});
  assert.deepEqual([check.command, check.config, check.strict], ["check", "a.yaml", true]);
  assert.match(helpText("1.2.3"), /^dairouter 1\.2\.3 — /);
});

Deno.test("parseArgs(): a bad argument is a TypeError that names it", () => {
  const bad: [string[], Record<string, string>, string][] = [
    [["--frobnicate"], {}, 'Unknown argument "--frobnicate" (see --help)'],
    [["--config"], {}, "Option --config needs a value"],
    [["--port", "65536"], {}, "Port must be an integer 0..65535, received 65536"],
    [[], { DAIROUTER_PORT: "http" }, "Port must be an integer 0..65535, received NaN"],
    [["--max-config-size", "0"], {}, "--max-config-size must be > 0"],
  ];
  for (const [args, env, message] of bad) assert.throws(() => parseArgs(args, env), new TypeError(message));
  assert.throws(() => parseArgs(["--max-config-size", "lots"], {}), TypeError);
});
