/**
 * Every app Deployment of the EKS stacks: restricted Pod Security profile, probes, resources,
 * PDB, HPA, zone spread, node affinity, and the drain timing inequality.
 */
import { strict as assert } from "assert";
import { DeclaredResource } from "../automation/offline/mocks";
import { Evaluation, ofType, readStackConfig, shippedStack } from "./stack";

type Obj = Record<string, unknown>;
const o = (v: unknown): Obj => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {});
const a = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);

function appDeployments(ev: Evaluation): DeclaredResource[] {
  return ofType(ev, "kubernetes:apps/v1:Deployment").filter((d) => o(o(d.inputs["metadata"])["labels"])["app.kubernetes.io/part-of"] === "platform");
}

for (const stack of ["staging", "prod"] as const) {
  describe(`app workloads (${stack})`, () => {
    let ev: Evaluation;
    before(async () => {
      ev = await shippedStack(stack);
    });
    const services = (readStackConfig(stack)["platform:services"] as Obj[]).map((s) => String(s["name"]));

    it("declares a blue and a green Deployment per service, with the color's image", () => {
      const names = appDeployments(ev).map((d) => d.name).sort();
      assert.deepEqual(names, services.flatMap((s) => [`${s}-blue`, `${s}-green`]).sort());
      const cfg = readStackConfig(stack)["platform:services"] as Array<{ name: string; blue: { image: string }; green: { image: string } }>;
      for (const s of cfg) {
        for (const color of ["blue", "green"] as const) {
          const d = appDeployments(ev).find((x) => x.name === `${s.name}-${color}`);
          assert.ok(d);
          const container = a(o(o(o(o(d.inputs["spec"])["template"])["spec"]))["containers"])[0];
          assert.equal(container["image"], s[color].image);
        }
      }
    });

    it("every app pod meets the restricted Pod Security profile", () => {
      for (const d of appDeployments(ev)) {
        const pod = o(o(o(d.inputs["spec"])["template"])["spec"]);
        const podSc = o(pod["securityContext"]);
        assert.equal(podSc["runAsNonRoot"], true, d.name);
        assert.equal(o(podSc["seccompProfile"])["type"], "RuntimeDefault", d.name);
        for (const c of a(pod["containers"])) {
          const sc = o(c["securityContext"]);
          assert.equal(sc["allowPrivilegeEscalation"], false, d.name);
          assert.equal(sc["readOnlyRootFilesystem"], true, d.name);
          assert.deepEqual(o(sc["capabilities"])["drop"], ["ALL"], d.name);
          assert.equal(o(sc["seccompProfile"])["type"], "RuntimeDefault", d.name);
          const tmp = a(c["volumeMounts"]).find((m) => m["mountPath"] === "/tmp");
          assert.ok(tmp, `${d.name} needs a writable /tmp`);
          assert.ok(a(pod["volumes"]).some((v) => v["name"] === tmp["name"] && v["emptyDir"] !== undefined), `${d.name} /tmp is an emptyDir`);
        }
      }
    });

    it("every app container has requests, limits, and distinct readiness and liveness probes", () => {
      for (const d of appDeployments(ev)) {
        for (const c of a(o(o(o(d.inputs["spec"])["template"])["spec"])["containers"])) {
          const res = o(c["resources"]);
          assert.ok(o(res["requests"])["cpu"] && o(res["requests"])["memory"], d.name);
          assert.ok(o(res["limits"])["cpu"] && o(res["limits"])["memory"], d.name);
          assert.ok(c["readinessProbe"] && c["livenessProbe"], d.name);
          assert.notDeepEqual(c["readinessProbe"], c["livenessProbe"], `${d.name}: identical probes restart pods on a dependency outage`);
        }
      }
    });

    it("deregistration delay <= preStop sleep < terminationGracePeriodSeconds", () => {
      for (const d of appDeployments(ev)) {
        const pod = o(o(o(d.inputs["spec"])["template"])["spec"]);
        const grace = Number(pod["terminationGracePeriodSeconds"]);
        const sleep = Number(o(o(o(a(pod["containers"])[0]["lifecycle"])["preStop"])["sleep"])["seconds"]);
        const svc = ofType(ev, "kubernetes:core/v1:Service").find((s) => s.name === d.name);
        assert.ok(svc, `Service ${d.name}`);
        const attrs = String(o(o(svc.inputs["metadata"])["annotations"])["alb.ingress.kubernetes.io/target-group-attributes"]);
        const delay = Number(/deregistration_delay\.timeout_seconds=(\d+)/.exec(attrs)?.[1]);
        assert.ok(Number.isFinite(delay) && Number.isFinite(sleep) && Number.isFinite(grace), d.name);
        assert.ok(delay <= sleep && sleep < grace, `${d.name}: ${delay} <= ${sleep} < ${grace}`);
      }
    });

    it("every app Deployment has a PDB and an HPA targeting it, spreads across zones and is pinned to a node group", () => {
      const pdbs = ofType(ev, "kubernetes:policy/v1:PodDisruptionBudget");
      const hpas = ofType(ev, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler");
      for (const d of appDeployments(ev)) {
        const spec = o(d.inputs["spec"]);
        const selector = o(o(spec["selector"])["matchLabels"]);
        assert.ok(
          pdbs.some((p) => JSON.stringify(o(o(p.inputs["spec"])["selector"])["matchLabels"]) === JSON.stringify(selector)),
          `${d.name} has no PDB selecting exactly its pods`,
        );
        const hpa = hpas.find((h) => o(o(h.inputs["spec"])["scaleTargetRef"])["name"] === o(d.inputs["metadata"])["name"]);
        assert.ok(hpa, `${d.name} has no HPA`);
        const hs = o(hpa.inputs["spec"]);
        assert.ok(Number(hs["minReplicas"]) <= Number(hs["maxReplicas"]));
        assert.equal(spec["replicas"], hs["minReplicas"], "a warm idle color runs at the HPA minimum");
        const pod = o(o(spec["template"])["spec"]);
        assert.ok(a(pod["topologySpreadConstraints"]).some((t) => t["topologyKey"] === "topology.kubernetes.io/zone"), d.name);
        const terms = a(o(o(o(pod["affinity"])["nodeAffinity"])["requiredDuringSchedulingIgnoredDuringExecution"])["nodeSelectorTerms"]);
        assert.equal(a(terms[0]["matchExpressions"])[0]["key"], "platform.io/node-group", d.name);
      }
    });

    it("the app namespace enforces the restricted profile and injects the ALB readiness gate", () => {
      const ns = ofType(ev, "kubernetes:core/v1:Namespace").find((n) => o(n.inputs["metadata"])["name"] === "apps");
      assert.ok(ns);
      const labels = o(o(ns.inputs["metadata"])["labels"]);
      assert.equal(labels["pod-security.kubernetes.io/enforce"], "restricted");
      assert.equal(labels["elbv2.k8s.aws/pod-readiness-gate-inject"], "enabled");
    });

    it("services with image-bucket access get an IRSA service account; the role trusts exactly that account", () => {
      const sa = ofType(ev, "kubernetes:core/v1:ServiceAccount").find((s) => s.name === "student-sa");
      assert.ok(sa);
      const roleArn = o(o(sa.inputs["metadata"])["annotations"])["eks.amazonaws.com/role-arn"];
      assert.equal(roleArn, "arn:aws:iam::123456789012:role/student-irsa-role");
      const role = ofType(ev, "aws:iam/role:Role").find((r) => r.name === "student-irsa-role");
      assert.ok(role);
      const trust = JSON.parse(String(role.inputs["assumeRolePolicy"])) as { Statement: Array<{ Condition: { StringEquals: Record<string, string[]> } }> };
      const cond = trust.Statement[0].Condition.StringEquals;
      const sub = Object.entries(cond).find(([k]) => k.endsWith(":sub"));
      assert.deepEqual(sub?.[1], ["system:serviceaccount:apps:student"]);
      const policies = ofType(ev, "aws:iam/rolePolicy:RolePolicy").filter((p) => p.name.startsWith("student-irsa-")).map((p) => p.name).sort();
      assert.deepEqual(policies, ["student-irsa-db-connect", "student-irsa-images"]);
    });

    it("routes the course-registration paths: /student, /admin and / to student, /sugang to subject, catch-all evaluated last", () => {
      const ingresses = ofType(ev, "kubernetes:networking.k8s.io/v1:Ingress");
      const orderOf = (name: string): number => {
        const ing = ingresses.find((i) => i.name === `${name}-ingress`);
        assert.ok(ing);
        return Number(o(o(ing.inputs["metadata"])["annotations"])["alb.ingress.kubernetes.io/group.order"]);
      };
      assert.ok(orderOf("subject") < orderOf("student"), "the service owning / must be evaluated after /sugang");
      const student = ingresses.find((i) => i.name === "student-ingress");
      assert.ok(student);
      const livePaths = a(o(a(o(student.inputs["spec"])["rules"])[0]["http"])["paths"]).map((p) => p["path"]);
      assert.deepEqual(livePaths, ["/student", "/admin", "/"]);
    });
  });
}
