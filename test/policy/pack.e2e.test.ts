/**
 * The real policy pack, started the way the Pulumi CLI starts it (the Node.js language host's
 * run-policy-pack, which compiles infra/policy/index.ts with ts-node and type-checks it against
 * infra/policy/tsconfig.json), driven over its gRPC analyzer interface with what the prod stack
 * declares. Its findings must be exactly the offline runner's: one copy of every rule.
 *
 * What the CLI does that this test does itself: reconciling the config file (`all`, per-policy
 * entries, schema defaults) into the Configure call, and sending every resource to Analyze
 * before the update and all of them to AnalyzeStack after it.
 */
import { strict as assert } from "assert";
import { ChildProcess, spawn } from "child_process";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import * as pb from "@pulumi/pulumi/proto/analyzer_pb";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import type { Environment } from "../../infra/policy/engine";
import { resolveSettings } from "../../infra/policy/engine";
import { enforcementLevel, loadPolicyConfig, OfflineResource, runPolicies } from "../../infra/policy/offline";
import { RULES } from "../../infra/policy/rules";
import { REPO_ROOT, shippedStack } from "../stack";
import { policyInput } from "./harness";

const PACK_DIR = path.join(REPO_ROOT, "infra", "policy");
const LEVEL = { advisory: pb.EnforcementLevel.ADVISORY, mandatory: pb.EnforcementLevel.MANDATORY, disabled: pb.EnforcementLevel.DISABLED } as const;

function struct(value: unknown): Struct {
  // Struct takes plain JSON: drop undefined values and anything that is not data.
  return Struct.fromJavaScript(JSON.parse(JSON.stringify(value ?? {})) as Record<string, never>);
}

function unary<Req, Res>(fn: (req: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    fn(req, (err, res) => (err !== null ? reject(err) : resolve(res)));
  });
}

function urnOf(stack: string, r: { type: string; name: string }): string {
  return `urn:pulumi:${stack}::platform::${r.type}::${r.name}`;
}

/** `policy|level|message` of a diagnostic (its message is the policy's description, a newline, then ours). */
function key(policy: string, level: string, message: string): string {
  return `${policy}|${level}|${message}`;
}

describe("policy pack over gRPC (as `pulumi preview --policy-pack infra/policy` runs it)", function () {
  this.timeout(180_000);
  let child: ChildProcess | undefined;
  let client: AnalyzerClient;

  before(async () => {
    const runner = path.join(REPO_ROOT, "node_modules", "@pulumi", "pulumi", "cmd", "run-policy-pack");
    // The engine address is unused until the pack logs; the pack prints the port it serves on.
    const proc = spawn(process.execPath, [runner, "127.0.0.1:1", "."], { cwd: PACK_DIR, stdio: ["ignore", "pipe", "pipe"] });
    child = proc;
    let stderr = "";
    proc.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    const port = await new Promise<string>((resolve, reject) => {
      proc.stdout?.once("data", (d: Buffer) => resolve(d.toString().trim()));
      proc.once("exit", (code) => reject(new Error(`policy pack exited with ${String(code)}: ${stderr}`)));
    });
    client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });

  after(() => {
    client?.close();
    child?.kill();
  });

  it("announces the pack and one policy per rule, with the rule's default level and description", async () => {
    const info = await unary<Empty, pb.AnalyzerInfo>(client.getAnalyzerInfo.bind(client), new Empty());
    assert.equal(info.getName(), "platform");
    const policies = info.getPoliciesList();
    assert.deepEqual(
      policies.map((p) => p.getName()),
      RULES.map((r) => r.name),
    );
    const efs = policies.find((p) => p.getName() === "prometheus-tsdb-on-efs");
    assert.equal(efs?.getEnforcementlevel(), pb.EnforcementLevel.ADVISORY);
    assert.match(policies[0].getDescription(), /\[CKV_AWS_17\]$/);
  });

  async function configure(stack: Environment): Promise<void> {
    const config = loadPolicyConfig(stack);
    const request = new pb.ConfigureAnalyzerRequest();
    for (const rule of RULES) {
      const entry = config[rule.name];
      const policyConfig = new pb.PolicyConfig();
      policyConfig.setEnforcementlevel(LEVEL[enforcementLevel(rule, config)]);
      policyConfig.setProperties(struct(resolveSettings(rule, typeof entry === "object" ? entry : undefined)));
      request.getPolicyconfigMap().set(rule.name, policyConfig);
    }
    await unary(client.configure.bind(client), request);
  }

  /** Every diagnostic the real pack reports for these resources: Analyze per resource, then AnalyzeStack. */
  async function realPack(stack: Environment, resources: readonly OfflineResource[]): Promise<string[]> {
    await configure(stack);
    const providers = resources.filter((r) => r.type.startsWith("pulumi:providers:"));
    const providerOf = (r: OfflineResource): pb.AnalyzerProviderResource | undefined => {
      if (typeof r.provider !== "string") {
        return undefined;
      }
      const ref = r.provider;
      const p = providers.find((x) => ref.includes(`${x.type}::${x.name}::`));
      return p === undefined ? undefined : new pb.AnalyzerProviderResource().setType(p.type).setName(p.name).setUrn(urnOf(stack, p)).setProperties(struct(p.props));
    };
    const level = (l: pb.EnforcementLevel): string => (l === pb.EnforcementLevel.MANDATORY ? "mandatory" : "advisory");
    const found: string[] = [];
    const record = (response: pb.AnalyzeResponse): void => {
      for (const d of response.getDiagnosticsList()) {
        const message = d.getMessage();
        found.push(key(d.getPolicyname(), level(d.getEnforcementlevel()), message.slice(message.indexOf("\n") + 1)));
      }
    };
    const declared = resources.filter((r) => r.type !== "pulumi:pulumi:Stack");
    for (const r of declared) {
      const request = new pb.AnalyzeRequest()
        .setType(r.type)
        .setName(r.name)
        .setUrn(urnOf(stack, r))
        .setProperties(struct(r.props))
        .setOptions(new pb.AnalyzerResourceOptions().setProtect(r.protect === true));
      const provider = providerOf(r);
      if (provider !== undefined) {
        request.setProvider(provider);
      }
      record(await unary<pb.AnalyzeRequest, pb.AnalyzeResponse>(client.analyze.bind(client), request));
    }
    const stackRequest = new pb.AnalyzeStackRequest().setResourcesList(
      declared.map((r) => {
        const resource = new pb.AnalyzerResource()
          .setType(r.type)
          .setName(r.name)
          .setUrn(urnOf(stack, r))
          // After the update the engine sends outputs, which echo the inputs.
          .setProperties(struct({ ...r.props, ...(r.outputs ?? {}) }))
          .setOptions(new pb.AnalyzerResourceOptions().setProtect(r.protect === true));
        const provider = providerOf(r);
        if (provider !== undefined) {
          resource.setProvider(provider);
        }
        return resource;
      }),
    );
    record(await unary<pb.AnalyzeStackRequest, pb.AnalyzeResponse>(client.analyzeStack.bind(client), stackRequest));
    return found.sort();
  }

  function offline(stack: Environment, resources: readonly OfflineResource[]): string[] {
    return runPolicies(resources, stack)
      .map((v) => key(v.policy, v.enforcementLevel, v.message))
      .sort();
  }

  it("reports exactly what the offline runner reports for an insecure prod (resource and stack rules)", async () => {
    const shipped = policyInput(await shippedStack("prod"));
    const insecure = shipped
      .filter((r) => r.type !== "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
      .map((r) => (r.type === "aws:rds/instance:Instance" ? { ...r, props: { ...r.props, publiclyAccessible: true, multiAz: false } } : r))
      .map((r) => (r.type === "eks:index:Cluster" ? { ...r, props: { ...r.props, endpointPublicAccess: true, publicAccessCidrs: ["0.0.0.0/1", "128.0.0.0/1"] } } : r))
      // The `protect` option travels in the request's options (CrossGuard's opts.protect).
      .map((r) => (r.type === "aws:opensearch/domain:Domain" ? { ...r, protect: false } : r));
    const expected = offline("prod", insecure);
    for (const rule of ["rds-not-publicly-accessible", "rds-multi-az", "s3-bucket-encryption", "eks-endpoint-restricted", "stateful-resources-protected"]) {
      assert.ok(
        expected.some((k) => k.startsWith(`${rule}|mandatory|`)),
        `${rule} fires offline`,
      );
    }
    assert.deepEqual(await realPack("prod", insecure), expected);
  });

  it("applies the test stack's config: advisory levels and the test host's documented exceptions", async () => {
    const resources = policyInput(await shippedStack("test"));
    const withPublicDb = resources.map((r) => (r.type === "aws:rds/instance:Instance" ? { ...r, props: { ...r.props, publiclyAccessible: true } } : r));
    const real = await realPack("test", withPublicDb);
    assert.deepEqual(real, offline("test", withPublicDb));
    assert.equal(real.length, 1);
    assert.match(real[0], /^rds-not-publicly-accessible\|advisory\|aws:rds\/instance:Instance "test-db-instance": publiclyAccessible is true/);
  });
});
