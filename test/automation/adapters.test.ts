/**
 * The real stack adapter passes the driver's options on to the Automation API as the engine needs
 * them: a drift preview refreshes, every preview and up carries the policy packs and their configs,
 * an up refreshes only when asked, and the export a backup stores is the CLI's text.
 */
import { strict as assert } from "assert";
import type { PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { AutomationStack, resolveWorkspaceSettings } from "../../automation/adapters/workspace";

describe("automation: the Automation API adapter", () => {
  function adapter(): { stack: AutomationStack; calls: Array<{ op: string; args: Record<string, unknown> }> } {
    const calls: Array<{ op: string; args: Record<string, unknown> }> = [];
    const fake = {
      name: "prod",
      preview: (args: Record<string, unknown>) => {
        calls.push({ op: "preview", args });
        return Promise.resolve({ stdout: "", stderr: "", changeSummary: { same: 3 } });
      },
      up: (args: Record<string, unknown>) => {
        calls.push({ op: "up", args });
        return Promise.resolve({ stdout: "", stderr: "", outputs: { environment: { value: "prod", secret: false }, token: { value: "x", secret: true } }, summary: { result: "succeeded", resourceChanges: { update: 1 } } });
      },
    };
    const stack = new AutomationStack(fake as unknown as Stack, {} as unknown as PulumiCommand, resolveWorkspaceSettings({}, "/repo"));
    return { stack, calls };
  }

  it("a drift preview refreshes; the policy packs and configs and the targets reach the SDK", async () => {
    const { stack, calls } = adapter();
    await stack.preview({ refresh: true, policyPacks: ["/p"], policyPackConfigs: ["/p/c.json"], target: ["urn:a"] });
    await stack.preview({ policyPacks: ["/p"] });
    assert.deepEqual([calls[0]?.args["refresh"], calls[0]?.args["policyPacks"], calls[0]?.args["policyPackConfigs"], calls[0]?.args["target"]], [true, ["/p"], ["/p/c.json"], ["urn:a"]]);
    assert.equal(calls[1]?.args["refresh"], false);
  });

  it("an up carries the policy packs, refreshes only when asked (up --refresh), and returns only non-secret outputs", async () => {
    const { stack, calls } = adapter();
    const out = await stack.up({ policyPacks: ["/p"], policyPackConfigs: ["/p/c.json"], target: ["urn:a"] });
    assert.deepEqual([calls[0]?.args["policyPacks"], calls[0]?.args["policyPackConfigs"], calls[0]?.args["refresh"]], [["/p"], ["/p/c.json"], false]);
    assert.deepEqual(out.outputs, { environment: "prod" });
    await stack.up({ refresh: true });
    assert.equal(calls[1]?.args["refresh"], true);
  });
});
