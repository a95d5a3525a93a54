// `npm run tools`: builds the integration tier's binaries from Go modules into .cache/tools/bin,
// skipping each tool whose build key is unchanged. The key covers the tool module's go.mod and
// go.sum (so a version bump rebuilds), this project's own sources in it, the build flags and the Go
// version. Prints each step with its time, then each binary's own version once.

import { execFileSync, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { binDir, GoRunner, GoTool, repoRoot, stampDir, tools, toolVersions } from "./tools";

// Build with the machine's Go only: no module needs a newer one, and a silent toolchain download
// would hide a version drift. -mod=readonly: go.mod and go.sum are committed and complete;
// -buildvcs=false: the binaries do not depend on the state of this repository's git checkout.
const goEnv = { ...process.env, GOTOOLCHAIN: "local", GOFLAGS: "-mod=readonly -buildvcs=false" };

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** A command line as a POSIX shell reads it (printed so a step can be re-run by hand). */
function shellLine(args: readonly string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}

function goRunner(dir: string, cgo: boolean): GoRunner {
  return (args) =>
    execFileSync("go", args, {
      cwd: dir,
      env: { ...goEnv, CGO_ENABLED: cgo ? "1" : "0" },
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    });
}

function buildArgs(tool: GoTool): string[][] {
  const common = ["build", "-trimpath"];
  if (tool.tags.length > 0) common.push("-tags", tool.tags.join(","));
  common.push("-ldflags", tool.ldflags.join(" "));
  // One `go build` per binary: `-o dir/` with several packages would name etcd's binary after
  // its module path's last element ("v3").
  return tool.builds.map((b) => [...common, "-o", path.join(binDir, b.bin), b.pkg]);
}

function buildKey(tool: GoTool, goVersion: string): string {
  const h = crypto.createHash("sha256");
  const dir = path.join(repoRoot, tool.dir);
  for (const f of ["go.mod", "go.sum", ...(tool.ownSources ?? [])]) {
    h.update(`${f}\0`).update(fs.readFileSync(path.join(dir, f))).update("\0");
  }
  // The prepare/after steps' code too: a change to what they copy or gather redoes the step.
  const hooks = [tool.prepare?.toString() ?? "", tool.after?.toString() ?? ""];
  h.update(JSON.stringify({ goVersion, goflags: goEnv.GOFLAGS, cgo: tool.cgo, args: buildArgs(tool), hooks }));
  return h.digest("hex");
}

function stampPath(tool: GoTool): string {
  return path.join(stampDir, `${tool.name}.key`);
}

function upToDate(tool: GoTool, key: string): boolean {
  const stamp = stampPath(tool);
  return (
    fs.existsSync(stamp) &&
    fs.readFileSync(stamp, "utf8").trim() === key &&
    tool.builds.every((b) => fs.existsSync(path.join(binDir, b.bin)))
  );
}

function build(tool: GoTool, key: string): void {
  const dir = path.join(repoRoot, tool.dir);
  const run = goRunner(dir, tool.cgo);
  fs.rmSync(stampPath(tool), { force: true });
  tool.prepare?.(run);
  for (const args of buildArgs(tool)) {
    console.log(`[tools]   (cd ${tool.dir} && CGO_ENABLED=${tool.cgo ? 1 : 0} GOTOOLCHAIN=local GOFLAGS='${goEnv.GOFLAGS}' ${shellLine(["go", ...args])})`);
    const r = spawnSync("go", args, { cwd: dir, env: { ...goEnv, CGO_ENABLED: tool.cgo ? "1" : "0" }, stdio: "inherit" });
    if (r.status !== 0) {
      throw new Error(`go build of ${tool.name} ${tool.version} failed (exit ${r.status ?? r.signal}); see the output above`);
    }
  }
  tool.after?.(run);
  fs.writeFileSync(stampPath(tool), key + "\n");
}

async function main(): Promise<void> {
  const start = Date.now();
  fs.mkdirSync(binDir, { recursive: true });
  fs.mkdirSync(stampDir, { recursive: true });
  const goVersion = execFileSync("go", ["env", "GOVERSION"], { env: goEnv, encoding: "utf8" }).trim();
  console.log(`[tools] ${goVersion}, output ${path.relative(repoRoot, binDir)}/`);

  let built = 0;
  for (const tool of tools) {
    const key = buildKey(tool, goVersion);
    const bins = tool.builds.map((b) => b.bin).join(", ");
    if (upToDate(tool, key)) {
      console.log(`[tools] ${tool.name} ${tool.version}: up to date (${bins})`);
      continue;
    }
    const t0 = Date.now();
    console.log(`[tools] ${tool.name} ${tool.version}: building ${bins}`);
    build(tool, key);
    built++;
    console.log(`[tools] ${tool.name} ${tool.version}: built in ${seconds(Date.now() - t0)}`);
  }

  console.log(`[tools] ${built === 0 ? "nothing to build" : `built ${built} tool(s)`} in ${seconds(Date.now() - start)}`);
  console.log("[tools] versions the binaries report:");
  for (const line of await toolVersions()) console.log(`[tools]   ${line}`);
}

main().catch((err: unknown) => {
  console.error(`[tools] ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
