// Mocha global fixture of the integration tier (loaded with --require by `npm run test:integration`):
// one local control plane for the whole run, started before the first test and stopped after the
// last. When any test failed, the components' logs are kept and their folder is printed.
//
// The tier runs its files in parallel (`--parallel`): mocha runs the global fixtures in its main
// process and the files in worker processes, which it forks after the global setup with a copy of
// the main process's environment (mocha 12.0.3 lib/mocha.cjs:1040-1052, runGlobalSetup before
// runner.runAsync; lib/nodejs/buffered-worker-pool.cjs:85-92, `env: { ...process.env }` when a
// worker is created). So the setup hands the control plane to the workers through one variable,
// and a worker records a failure as a file the teardown finds.

import * as fs from "fs";
import * as path from "path";
import { requireBinaries, toolVersions } from "../../tools/tools";
import { ControlPlane, startControlPlane } from "./controlPlane";
import { Kube } from "./kube";

/** The started control plane as a worker needs it: where it is and how to connect (no process handles). */
type SharedControlPlane = Pick<ControlPlane, "server" | "kubeconfig" | "credentials" | "nodes" | "dir" | "logDir">;

const SHARED_ENV = "PLATFORM_INT_CONTROL_PLANE";
/** Written into the control plane's log folder by any process whose test failed. */
const FAILED_MARKER = "test-failed";

let current: ControlPlane | undefined;
let owned = false;

export async function mochaGlobalSetup(): Promise<void> {
  requireBinaries();
  console.log("[integration] tool versions:");
  for (const line of await toolVersions()) console.log(`[integration]   ${line}`);
  const t0 = Date.now();
  current = await startControlPlane();
  owned = true;
  const shared: SharedControlPlane = { server: current.server, kubeconfig: current.kubeconfig, credentials: current.credentials, nodes: current.nodes, dir: current.dir, logDir: current.logDir };
  process.env[SHARED_ENV] = JSON.stringify(shared);
  console.log(`[integration] control plane at ${current.server} ready in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
}

export async function mochaGlobalTeardown(): Promise<void> {
  if (!owned) return;
  const anyFailed = current !== undefined && fs.existsSync(path.join(current.logDir, FAILED_MARKER));
  await current?.stop({ keepLogs: anyFailed });
  current = undefined;
  delete process.env[SHARED_ENV];
}

export const mochaHooks = {
  afterEach(this: Mocha.Context): void {
    if (this.currentTest?.state === "failed") {
      const cp = current ?? attached();
      if (cp !== undefined) fs.writeFileSync(path.join(cp.logDir, FAILED_MARKER), `${this.currentTest.fullTitle()}\n`, { flag: "a" });
    }
  },
};

/** In a worker: the main process's control plane, reached through the shared variable. */
function attached(): ControlPlane | undefined {
  const raw = process.env[SHARED_ENV];
  if (raw === undefined) return undefined;
  const shared = JSON.parse(raw) as SharedControlPlane;
  current = {
    ...shared,
    kubeconfigContent: fs.readFileSync(shared.kubeconfig, "utf8"),
    kube: new Kube(shared.credentials),
    stop: () => Promise.reject(new Error("the control plane belongs to mocha's main process; its global teardown stops it")),
  };
  return current;
}

/** The running control plane; only inside tests of `npm run test:integration`. */
export function controlPlane(): ControlPlane {
  const cp = current ?? attached();
  if (cp === undefined) {
    throw new Error("no local control plane: run the integration tier with npm run test:integration");
  }
  return cp;
}
