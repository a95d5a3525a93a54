/**
 * `plan <stack>`: what a stack declares, checked offline. Runs the program (`buildPlatform`)
 * under the Pulumi SDK's mocks with the stack's own Pulumi.<stack>.yaml, exactly as the tests do
 * (./offline/evaluate.ts), then reports resource counts by component and type, the services with both
 * colors' images and their verified release, validates every Kubernetes object against the
 * upstream schemas and runs the policy pack's rules over the declared resources. The evaluation
 * and checks are in ./plan/report.ts, the component tree and security-group paths in
 * ./plan/graph.ts, the human rendering in ./plan/render.ts.
 *
 * No credentials, no Pulumi CLI, no network: it never builds the driver's dependencies
 * (`ctx.deps`), so it is the README's first command on a fresh machine after `npm ci`.
 */
import { CommandOutput, CommandSpec, stringOpt } from "./cli/registry";
import { jsonFile, knownStack, writablePath } from "./cli/validate";
import { renderPlan } from "./plan/render";
import { PlanOptions, runPlan } from "./plan/report";

/** What the CLI prints and returns for a plan; the tests call it with `mutate`. */
export async function plan(options: PlanOptions): Promise<CommandOutput> {
  const report = await runPlan(options);
  return { exitCode: report.exitCode, human: renderPlan(report), json: report };
}

export const planCommand: CommandSpec = {
  name: "plan",
  summary: "offline: what a stack declares, schema-checked and policy-checked (no credentials, no Pulumi CLI)",
  usage: "plan <stack> [--diagram FILE] [--policy-config FILE]",
  description: [
    "Runs the program under the Pulumi SDK's mocks with Pulumi.<stack>.yaml (nothing is contacted:",
    "no cloud, no Pulumi CLI, no backend) and prints the resource counts by component and by type,",
    "the services with their active color, both colors' images and the verified release. Validates",
    "every Kubernetes object against the upstream schemas and runs the policy pack's rules over the",
    "declared resources with the stack's policy config (advisory findings and exemptions are listed).",
    "Exits 1 on an invalid config, a program error or a schema-invalid Kubernetes object, and 2 on a",
    "mandatory policy violation.",
  ].join("\n"),
  options: {
    diagram: { type: "string", valueName: "FILE", description: "write a Mermaid architecture diagram (flowchart) of the stack to FILE" },
    "policy-config": { type: "string", valueName: "FILE", description: "policy config JSON (default: infra/policy/config/<environment>.json)" },
  },
  positionals: ["stack"],
  validate: (args, catalog) => {
    knownStack(catalog, args.positionals[0] ?? "", "<stack>");
    const diagram = stringOpt(args.values, "diagram");
    if (diagram !== undefined) {
      writablePath(diagram, "--diagram");
    }
    const config = stringOpt(args.values, "policy-config");
    if (config !== undefined) {
      jsonFile(config, "--policy-config");
    }
  },
  // Never calls ctx.deps: that would build the Automation API dependencies (Pulumi CLI lookup).
  run: (args) =>
    plan({ stack: args.positionals[0] ?? "", diagramFile: stringOpt(args.values, "diagram"), policyConfigFile: stringOpt(args.values, "policy-config") }),
};
