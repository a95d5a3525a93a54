// Mocha global fixture of the integration tier (loaded with --require by `npm run test:integration`):
// one local control plane for the whole run, started before the first test and stopped after the
// last. When any test failed, the components' logs are kept and their folder is printed.

import { requireBinaries, toolVersions } from "../../tools/tools";
import { ControlPlane, startControlPlane } from "./controlPlane";

let current: ControlPlane | undefined;
let anyFailed = false;

export async function mochaGlobalSetup(): Promise<void> {
  requireBinaries();
  console.log("[integration] tool versions:");
  for (const line of await toolVersions()) console.log(`[integration]   ${line}`);
  const t0 = Date.now();
  current = await startControlPlane();
  console.log(`[integration] control plane at ${current.server} ready in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
}

export async function mochaGlobalTeardown(): Promise<void> {
  await current?.stop({ keepLogs: anyFailed });
  current = undefined;
}

export const mochaHooks = {
  afterEach(this: Mocha.Context): void {
    if (this.currentTest?.state === "failed") anyFailed = true;
  },
};

/** The running control plane; only inside tests of `npm run test:integration`. */
export function controlPlane(): ControlPlane {
  if (!current) {
    throw new Error("no local control plane: run the integration tier with npm run test:integration");
  }
  return current;
}
