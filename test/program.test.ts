/**
 * The program is a function of validated config: infra/index.ts exports exactly what
 * `buildPlatform` returns, and declaring a stack twice in one process declares the same thing
 * (no module state carries over from one evaluation to the next).
 */
import { strict as assert } from "assert";
import * as path from "path";
import { readStackConfig, settleProgram } from "../automation/offline/evaluate";
import { renderGolden } from "../automation/offline/summary";
import { evaluateStack, REPO_ROOT } from "./stack";

const OUTPUT_NAMES = ["environment", "url", "hosts", "services", "releases", "network", "registry", "database", "cluster", "edge", "observability", "gitops", "ci"];

describe("the program", () => {
  it("infra/index.ts exports buildPlatform's outputs, under the contract's names and nothing else", async () => {
    const viaIndex = await settleProgram("test", readStackConfig("test"), () => {
      // Required once, inside the evaluation: the module's only statement runs the program.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const exported = require(path.join(REPO_ROOT, "infra", "index.ts")) as Record<string, unknown>;
      return { ...exported };
    });
    assert.equal(viaIndex.error, undefined, String(viaIndex.error));
    const viaFunction = await evaluateStack("test");
    assert.deepEqual(Object.keys(viaIndex.evaluation.outputs).sort(), [...OUTPUT_NAMES].sort());
    assert.deepEqual(viaIndex.evaluation.outputs, viaFunction.outputs);
    assert.equal(renderGolden(viaIndex.evaluation), renderGolden(viaFunction));
  });

  it("exports credentials only as secrets: the kubeconfig, and prod's ArgoCD admin password", async () => {
    assert.deepEqual((await evaluateStack("test")).secretOutputs, []);
    assert.deepEqual((await evaluateStack("staging")).secretOutputs, ["cluster.kubeconfig"]);
    assert.deepEqual((await evaluateStack("prod")).secretOutputs, ["cluster.kubeconfig", "gitops.argocdAdminPassword"]);
  });

  it("declares the same stack when called again in the same process", async () => {
    const first = await settleProgram("staging", readStackConfig("staging"));
    const second = await settleProgram("staging", readStackConfig("staging"));
    assert.equal(renderGolden(second.evaluation), renderGolden(first.evaluation));
  });
});
