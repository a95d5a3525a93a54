/**
 * Observability: the EFS file system and its CSI driver, kube-prometheus-stack on EFS (or gp3),
 * Grafana's and Alertmanager's secrets, Fluentd -> OpenSearch, the Dashboards proxy, and the
 * config rules that switch them. Each EKS stack is evaluated through the program with its own
 * config file, with Prometheus and Dashboards opened to an office range and a Discord webhook set.
 */
import { strict as assert } from "assert";
import { isSecretValue, mockedOutputs, REGION, unwrapSecrets } from "../automation/offline/mocks";
import type { DeclaredResource } from "../automation/offline/mocks";
import { Cluster } from "../infra/cluster/cluster";
import { LogRetention } from "../infra/logging/retention";
import { Evaluation, evaluateStack, Json, MOCK_SECRET_VALUE, named, ofType, readStackConfig, settleProgram, StackConfig } from "./stack";

const ROLE = "aws:iam/role:Role";
const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
const ROLE_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const SECRET = "kubernetes:core/v1:Secret";
const NAMESPACE = "kubernetes:core/v1:Namespace";
const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";
const DAEMONSET = "kubernetes:apps/v1:DaemonSet";
const JOB = "kubernetes:batch/v1:Job";
const DOMAIN = "aws:opensearch/domain:Domain";
const SG = "aws:ec2/securityGroup:SecurityGroup";
const SG_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const SG_EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule";
const SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule";

/** What a `secure:` Discord webhook in the stack file decrypts to under the mocks. */
const DISCORD_URL = MOCK_SECRET_VALUE;
const OFFICE = "203.0.113.0/24";
/** The IngressGroup-wide ALB annotations every Ingress of the group carries. */
const GROUP_KEYS = ["scheme", "listen-ports", "ssl-redirect", "certificate-arn", "ssl-policy", "load-balancer-attributes"].map((k) => `alb.ingress.kubernetes.io/${k}`);

type Obj = Record<string, unknown>;
const o = (v: unknown): Obj => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {});
const a = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource?: string | string[];
  Principal?: Record<string, string | string[]>;
  Condition?: Record<string, Record<string, string | string[]>>;
}
const statements = (json: unknown): Statement[] => (JSON.parse(String(json)) as { Statement: Statement[] }).Statement;

/** A config edit of `platform:observability` (each part created if the stack file leaves it to the defaults). */
function observability(edit: (observability: { [key: string]: { [key: string]: Json } }) => void): (config: StackConfig) => void {
  return (config) => {
    const obs = (config["platform:observability"] ?? {}) as { [key: string]: { [key: string]: Json } };
    for (const part of ["efs", "monitoring", "logging"]) {
      obs[part] = obs[part] ?? {};
    }
    edit(obs);
    config["platform:observability"] = obs;
  };
}

/** The stack file's config with `edit` applied to `platform:observability`. */
function stackConfig(stack: string, edit?: (observability: { [key: string]: { [key: string]: Json } }) => void): StackConfig {
  const config = readStackConfig(stack);
  observability(edit ?? ((): void => undefined))(config);
  return config;
}

function platformRaw(config: StackConfig): Record<string, Json> {
  return Object.fromEntries(
    Object.entries(config)
      .filter(([k]) => k.startsWith("platform:"))
      .map(([k, v]) => [k.slice("platform:".length), v]),
  );
}

/** Prometheus and Dashboards opened to the office, and an encrypted Discord webhook. */
function exposedWithWebhook(config: StackConfig): void {
  observability((obs) => {
    obs["monitoring"]["allowedCidrs"] = [OFFICE];
    obs["logging"]["dashboardsCidrs"] = [OFFICE];
  })(config);
  config["platform:discordWebhookUrl"] = { secure: "v1:AAAA" };
}

/** The stack's `observability` output group. */
function outputs(ev: Evaluation): Obj {
  return o(ev.outputs["observability"]);
}

/** The OIDC issuer of the stack's cluster, as the mocked eks.Cluster computes it. */
function oidcIssuer(ev: Evaluation, env: string): string {
  return String(mockedOutputs(named(ev, "eks:index:Cluster", `${env}-eks`))["oidcProviderUrl"]);
}

/** The stack's live host (prod serves the apex). */
function liveHost(env: string): string {
  return env === "prod" ? "karina-univ.com" : `${env}.karina-univ.com`;
}

/** Every `storageClassName` in a values tree, with its dotted path. */
function storageClasses(values: unknown, path = ""): Array<[string, string]> {
  if (Array.isArray(values)) {
    return values.flatMap((v, i) => storageClasses(v, `${path}[${i}]`));
  }
  if (values === null || typeof values !== "object") {
    return [];
  }
  return Object.entries(values as Obj).flatMap(([k, v]) => {
    const here = path === "" ? k : `${path}.${k}`;
    return k === "storageClassName" ? [[here, String(v)] as [string, string]] : storageClasses(v, here);
  });
}

for (const stack of ["staging", "prod"] as const) {
  describe(`observability (${stack})`, () => {
    let ev: Evaluation;
    const env = stack;
    const clusterSg = `${env}-eks-cluster-sg`;
    const privateSubnets = [`${env}-vpc-private-ap-northeast-2a`, `${env}-vpc-private-ap-northeast-2c`];
    before(async () => {
      ev = await evaluateStack(stack, exposedWithWebhook);
    });

    describe("EFS", () => {
      it("is encrypted with its own rotating KMS key", () => {
        const fs = named(ev, "aws:efs/fileSystem:FileSystem", `${env}-efs-fs`).inputs;
        assert.equal(fs["encrypted"], true);
        assert.equal(fs["kmsKeyId"], `arn:aws:kms:${REGION}:123456789012:key/${env}-efs-kms`);
        assert.equal(named(ev, "aws:kms/key:Key", `${env}-efs-kms`).inputs["enableKeyRotation"], true);
      });

      it("has exactly one mount target per private subnet, each in the EFS security group", () => {
        const mounts = ofType(ev, "aws:efs/mountTarget:MountTarget");
        assert.deepEqual(mounts.map((m) => m.inputs["subnetId"]).sort(), [...privateSubnets].sort());
        assert.deepEqual(mounts.map((m) => m.name).sort(), [`${env}-efs-mount-ap-northeast-2a`, `${env}-efs-mount-ap-northeast-2c`]);
        for (const m of mounts) {
          assert.deepEqual(m.inputs["securityGroups"], [`${env}-efs-sg-id`]);
          assert.equal(m.inputs["fileSystemId"], `${env}-efs-fs-id`);
        }
      });

      it("admits only NFS (TCP 2049) from the node security group, with a description", () => {
        const sgId = `${env}-efs-sg-id`;
        const sg = named(ev, SG, `${env}-efs-sg`).inputs;
        assert.equal(sg["ingress"], undefined, "no inline rules");
        const rules = [...ofType(ev, SG_INGRESS), ...ofType(ev, SG_EGRESS), ...ofType(ev, SG_RULE)].filter((r) => r.inputs["securityGroupId"] === sgId);
        assert.equal(rules.length, 1);
        const [rule] = rules;
        assert.equal(rule.type, SG_INGRESS);
        assert.equal(rule.inputs["ipProtocol"], "tcp");
        assert.equal(rule.inputs["fromPort"], 2049);
        assert.equal(rule.inputs["toPort"], 2049);
        assert.equal(rule.inputs["referencedSecurityGroupId"], clusterSg);
        assert.equal(rule.inputs["cidrIpv4"], undefined);
        assert.match(String(rule.inputs["description"]), /NFS/);
      });

      it(stack === "prod" ? "is backed up daily into its own encrypted vault" : "has no backup plan", () => {
        const plans = ofType(ev, "aws:backup/plan:Plan");
        if (stack !== "prod") {
          assert.equal(plans.length, 0);
          return;
        }
        const [rule] = a(named(ev, "aws:backup/plan:Plan", `${env}-efs-plan`).inputs["rules"]).map(o);
        assert.equal(rule["targetVaultName"], `${env}-efs-vault`);
        assert.equal(o(rule["lifecycle"])["deleteAfter"], 35);
        assert.match(String(rule["schedule"]), /^cron\(/);
        assert.equal(named(ev, "aws:backup/vault:Vault", `${env}-efs-vault`).inputs["kmsKeyArn"], `arn:aws:kms:${REGION}:123456789012:key/${env}-efs-backup-kms`);
        const selection = named(ev, "aws:backup/selection:Selection", `${env}-efs-selection`).inputs;
        assert.deepEqual(selection["resources"], [`arn:aws:efs:${REGION}:123456789012:filesystem/${env}-efs-fs`]);
        assert.equal(selection["iamRoleArn"], `arn:aws:iam::123456789012:role/${env}-efs-backup`);
      });
    });

    describe("EFS CSI driver", () => {
      it("is the EKS managed add-on with its own IRSA role and AmazonEFSCSIDriverPolicy", () => {
        const addon = named(ev, "aws:eks/addon:Addon", `${env}-efs-csi-addon`).inputs;
        assert.equal(addon["addonName"], "aws-efs-csi-driver");
        assert.equal(addon["clusterName"], `platform-${env}`);
        assert.match(String(addon["addonVersion"]), /^v\d/);
        assert.equal(addon["serviceAccountRoleArn"], `arn:aws:iam::123456789012:role/${env}-efs-csi-irsa-role`);
        assert.equal(
          named(ev, ROLE_ATTACHMENT, `${env}-efs-csi-irsa-efs`).inputs["policyArn"],
          "arn:aws:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy",
        );
      });

      it("trusts exactly the add-on's controller and node service accounts (kube-system/efs-csi-*) of this cluster's OIDC provider", () => {
        const [s, ...rest] = statements(named(ev, ROLE, `${env}-efs-csi-irsa-role`).inputs["assumeRolePolicy"]);
        assert.equal(rest.length, 0);
        assert.deepEqual(list(s.Action), ["sts:AssumeRoleWithWebIdentity"]);
        const issuer = oidcIssuer(ev, env);
        const eq = s.Condition?.["StringEquals"] ?? {};
        // The add-on puts serviceAccountRoleArn on both (AWS's add-on guide widens the trust to
        // efs-csi-*); the node's pods otherwise get a role ARN they cannot assume.
        assert.deepEqual(list(eq[`${issuer}:sub`]), ["system:serviceaccount:kube-system:efs-csi-controller-sa", "system:serviceaccount:kube-system:efs-csi-node-sa"]);
        assert.deepEqual(list(eq[`${issuer}:aud`]), ["sts.amazonaws.com"]);
        assert.deepEqual(Object.keys(s.Condition ?? {}), ["StringEquals"]);
      });

      it("declares efs-sc with dynamic access points on the file system", () => {
        const sc = named(ev, "kubernetes:storage.k8s.io/v1:StorageClass", `${env}-efs-csi-storage-class`).inputs;
        assert.equal(o(sc["metadata"])["name"], "efs-sc");
        assert.equal(sc["provisioner"], "efs.csi.aws.com");
        assert.deepEqual(sc["parameters"], {
          provisioningMode: "efs-ap",
          fileSystemId: `${env}-efs-fs-id`,
          directoryPerms: "700",
          uid: "1000",
          gid: "1000",
          basePath: "/dynamic",
        });
        assert.equal(sc["reclaimPolicy"], "Retain");
        assert.equal(sc["volumeBindingMode"], "Immediate");
      });
    });

    describe("monitoring", () => {
      let release: DeclaredResource;
      let values: Obj;
      before(() => {
        release = named(ev, RELEASE, `${env}-monitoring-release`);
        values = o(release.inputs["values"]);
      });

      it("installs the pinned official kube-prometheus-stack chart into monitoring", () => {
        assert.equal(release.inputs["chart"], "kube-prometheus-stack");
        assert.equal(release.inputs["version"], "79.7.1");
        assert.deepEqual(release.inputs["repositoryOpts"], { repo: "https://prometheus-community.github.io/helm-charts" });
        assert.equal(release.inputs["namespace"], "monitoring");
        assert.equal(release.inputs["skipCrds"], undefined, "Helm installs the chart's CRDs before its templates");
        assert.equal(o(values["crds"])["enabled"], true);
        assert.match(String(release.provider), new RegExp(`::${env}-k8s::`));
      });

      it("puts every volume claim on efs-sc", () => {
        assert.deepEqual(storageClasses(values).sort(), [
          ["alertmanager.alertmanagerSpec.storage.volumeClaimTemplate.spec.storageClassName", "efs-sc"],
          ["grafana.persistence.storageClassName", "efs-sc"],
          ["prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.storageClassName", "efs-sc"],
        ]);
        assert.equal(o(o(values["grafana"])["persistence"])["enabled"], true);
        assert.equal(ofType(ev, "kubernetes:core/v1:PersistentVolumeClaim").length, 0);
      });

      it("sizes retention and volumes from config", () => {
        const cfg = o(o(readStackConfig(stack)["platform:observability"])["monitoring"]);
        const spec = o(o(values["prometheus"])["prometheusSpec"]);
        const expected = { staging: { days: 7, gi: 20 }, prod: { days: 30, gi: 100 } }[stack];
        assert.equal(spec["retention"], `${(cfg["retentionDays"] as number | undefined) ?? expected.days}d`);
        const claim = o(o(o(spec["storageSpec"])["volumeClaimTemplate"])["spec"]);
        assert.deepEqual(o(claim["resources"])["requests"], { storage: `${(cfg["prometheusVolumeGi"] as number | undefined) ?? expected.gi}Gi` });
        assert.match(String(spec["retentionSize"]), /^\d+GB$/);
      });

      it("keeps Grafana's generated password out of every input but its own Secret, which is a Pulumi secret", () => {
        const password = `mock-password-${env}-monitoring-grafana-admin-Zq7`;
        const holders = ev.resources.filter((r) => JSON.stringify(r.inputs).includes(password)).map((r) => `${r.type} ${r.name}`);
        assert.deepEqual(holders, [`${SECRET} ${env}-monitoring-grafana-admin`]);
        const secret = named(ev, SECRET, `${env}-monitoring-grafana-admin`).inputs;
        assert.equal(o(secret["metadata"])["name"], "grafana-admin");
        assert.ok(isSecretValue(secret["stringData"]), "stringData is a Pulumi secret (encrypted in state)");
        assert.equal(o(unwrapSecrets(secret["stringData"]))["admin-password"], password);
        const admin = o(o(values["grafana"])["admin"]);
        assert.deepEqual(admin, { existingSecret: "grafana-admin", userKey: "admin-user", passwordKey: "admin-password" });
        assert.equal(o(values["grafana"])["adminPassword"], undefined);
      });

      it("routes alerts to Discord from a mounted Secret, never with the URL in Helm values", () => {
        const holders = ev.resources.filter((r) => JSON.stringify(r.inputs).includes(DISCORD_URL)).map((r) => `${r.type} ${r.name}`);
        assert.deepEqual(holders, [`${SECRET} ${env}-monitoring-alertmanager-discord`]);
        assert.ok(isSecretValue(named(ev, SECRET, `${env}-monitoring-alertmanager-discord`).inputs["stringData"]), "stringData is a Pulumi secret");
        const am = o(values["alertmanager"]);
        assert.deepEqual(o(am["alertmanagerSpec"])["secrets"], ["alertmanager-discord"]);
        const config = o(am["config"]);
        assert.equal(o(config["route"])["receiver"], "discord");
        const discord = a(config["receivers"]).map(o).find((r) => r["name"] === "discord");
        assert.deepEqual(a(o(discord)["discord_configs"]), [
          { webhook_url_file: "/etc/alertmanager/secrets/alertmanager-discord/webhook-url", send_resolved: true },
        ]);
        assert.doesNotMatch(JSON.stringify(values), /discord\.com\/api\/webhooks/);
      });

      it("keeps Grafana internal (ClusterIP, no Ingress)", () => {
        const grafana = o(values["grafana"]);
        assert.equal(o(grafana["service"])["type"], "ClusterIP");
        assert.equal(o(grafana["ingress"])["enabled"], false);
        const hosts = ofType(ev, INGRESS).flatMap((i) => a(o(i.inputs["spec"])["rules"]).map((r) => String(o(r)["host"])));
        assert.ok(!hosts.some((h) => h.startsWith("grafana")), hosts.join(", "));
        assert.equal(outputs(ev)["grafanaPortForwardCommand"], "kubectl -n monitoring port-forward svc/grafana 3000:80");
      });

      it("serves Prometheus on the monitoring host only to the configured CIDRs, in the shared IngressGroup", () => {
        const ingress = named(ev, INGRESS, `${env}-monitoring-prometheus-ingress`).inputs;
        const annotations = o(o(ingress["metadata"])["annotations"]);
        assert.equal(annotations["alb.ingress.kubernetes.io/group.name"], env);
        const group = o(o(named(ev, INGRESS, "student-ingress").inputs["metadata"])["annotations"]);
        for (const k of GROUP_KEYS) {
          assert.ok(group[k] !== undefined, k);
          assert.equal(annotations[k], group[k], k);
        }
        assert.equal(annotations["alb.ingress.kubernetes.io/inbound-cidrs"], undefined, "inbound-cidrs is group-wide");
        assert.deepEqual(JSON.parse(String(annotations["alb.ingress.kubernetes.io/conditions.kps-prometheus"])), [
          { field: "source-ip", sourceIpConfig: { values: [OFFICE] } },
        ]);
        const [rule] = a(o(ingress["spec"])["rules"]).map(o);
        assert.equal(rule["host"], `monitoring.${liveHost(env)}`);
        const [path] = a(o(rule["http"])["paths"]).map(o);
        assert.deepEqual(o(path["backend"])["service"], { name: "kps-prometheus", port: { number: 9090 } });
        assert.equal(outputs(ev)["prometheusUrl"], `https://monitoring.${liveHost(env)}`);
      });

      it("enforces the restricted Pod Security level in monitoring; only node-exporter's namespace is privileged", () => {
        const level = (n: string): unknown => o(o(named(ev, NAMESPACE, n).inputs["metadata"])["labels"])["pod-security.kubernetes.io/enforce"];
        assert.equal(level(`${env}-monitoring-ns`), "restricted");
        assert.equal(level(`${env}-monitoring-node-exporter-ns`), "privileged");
        assert.equal(o(values["prometheus-node-exporter"])["namespaceOverride"], "node-exporter");
        assert.equal(o(o(values["grafana"])["initChownData"])["enabled"], false, "the chown init container runs as root");
      });
    });

    describe("OpenSearch", () => {
      let domain: Obj;
      before(() => {
        domain = named(ev, DOMAIN, `${env}-logs-domain`).inputs;
      });

      it("lives in the private subnets behind a security group admitting HTTPS from the nodes only", () => {
        const vpc = o(domain["vpcOptions"]);
        const count = stack === "prod" ? 2 : 1;
        assert.deepEqual(vpc["subnetIds"], privateSubnets.slice(0, count));
        assert.deepEqual(vpc["securityGroupIds"], [`${env}-logs-sg-id`]);
        const rules = [...ofType(ev, SG_INGRESS), ...ofType(ev, SG_RULE)].filter((r) => r.inputs["securityGroupId"] === `${env}-logs-sg-id`);
        assert.equal(rules.length, 1);
        assert.equal(rules[0].inputs["fromPort"], 443);
        assert.equal(rules[0].inputs["referencedSecurityGroupId"], clusterSg);
      });

      it("encrypts at rest with its own key and between nodes, and enforces HTTPS with TLS 1.2+", () => {
        assert.deepEqual(domain["encryptAtRest"], { enabled: true, kmsKeyId: `arn:aws:kms:${REGION}:123456789012:key/${env}-logs-kms` });
        assert.deepEqual(domain["nodeToNodeEncryption"], { enabled: true });
        assert.deepEqual(domain["domainEndpointOptions"], { enforceHttps: true, tlsSecurityPolicy: "Policy-Min-TLS-1-2-PFS-2023-10" });
        assert.deepEqual(domain["ebsOptions"], { ebsEnabled: true, volumeType: "gp3", volumeSize: stack === "prod" ? 100 : 20 });
      });

      it(stack === "prod" ? "spreads two data nodes over two zones" : "runs one data node", () => {
        const cluster = o(domain["clusterConfig"]);
        if (stack === "prod") {
          assert.equal(cluster["instanceCount"], 2);
          assert.equal(cluster["zoneAwarenessEnabled"], true);
          assert.deepEqual(cluster["zoneAwarenessConfig"], { availabilityZoneCount: 2 });
        } else {
          assert.equal(cluster["instanceCount"], 1);
          assert.equal(cluster["zoneAwarenessEnabled"], false);
        }
      });

      it(stack === "prod" ? "has three dedicated m6g.large master nodes" : "has no dedicated master nodes", () => {
        const cluster = o(domain["clusterConfig"]);
        if (stack === "prod") {
          assert.equal(cluster["dedicatedMasterEnabled"], true);
          assert.equal(cluster["dedicatedMasterType"], "m6g.large.search");
          assert.equal(cluster["dedicatedMasterCount"], 3);
        } else {
          assert.equal(cluster["dedicatedMasterEnabled"], false);
          assert.equal(cluster["dedicatedMasterType"], undefined);
          assert.equal(cluster["dedicatedMasterCount"], undefined);
        }
      });

      it("publishes its application logs to CloudWatch, which a scoped resource policy allows", () => {
        assert.deepEqual(domain["logPublishingOptions"], [
          { logType: "ES_APPLICATION_LOGS", cloudwatchLogGroupArn: `arn:aws:cloudwatch:${REGION}:123456789012:loggroup/${env}-logs-application-logs`, enabled: true },
        ]);
        const [s] = statements(named(ev, "aws:cloudwatch/logResourcePolicy:LogResourcePolicy", `${env}-logs-logs-policy`).inputs["policyDocument"]);
        assert.deepEqual(s.Principal, { Service: ["es.amazonaws.com"] });
        assert.deepEqual(list(s.Condition?.["ArnLike"]?.["aws:SourceArn"]), [`arn:aws:es:${REGION}:123456789012:domain/platform-${env}-logs`]);
      });

      it("delegates authorisation to IAM identity policies of this account only", () => {
        const [s, ...rest] = statements(domain["accessPolicies"]);
        assert.equal(rest.length, 0);
        assert.deepEqual(s.Principal, { AWS: ["arn:aws:iam::123456789012:root"] });
        assert.deepEqual(list(s.Resource), [`arn:aws:es:${REGION}:123456789012:domain/platform-${env}-logs/*`]);
      });
    });

    describe("Fluentd", () => {
      let pod: Obj;
      before(() => {
        pod = o(o(o(named(ev, DAEMONSET, `${env}-fluentd-daemonset`).inputs["spec"])["template"])["spec"]);
      });

      it("runs on every node, tainted ones included", () => {
        assert.deepEqual(pod["tolerations"], [{ operator: "Exists" }]);
        assert.equal(pod["nodeSelector"], undefined);
        assert.equal(pod["affinity"], undefined);
      });

      it("mounts /var/log read-only and only its buffer directory writable", () => {
        const [container] = a(pod["containers"]).map(o);
        const mounts = a(container["volumeMounts"]).map(o);
        const volumes = new Map(a(pod["volumes"]).map(o).map((v) => [String(v["name"]), v]));
        const hostMounts = mounts.filter((m) => o(volumes.get(String(m["name"])))["hostPath"] !== undefined);
        assert.deepEqual(
          hostMounts.map((m) => [m["mountPath"], m["readOnly"] === true, o(o(volumes.get(String(m["name"])))["hostPath"])["path"]]),
          [
            ["/var/log", true, "/var/log"],
            ["/var/log/fluentd-buffers", false, "/var/log/fluentd-buffers"],
          ],
        );
        assert.equal(o(container["securityContext"])["readOnlyRootFilesystem"], true);
        assert.equal(o(container["securityContext"])["allowPrivilegeEscalation"], false);
      });

      it("has requests, limits, a liveness and a readiness probe and a pinned image", () => {
        const [container] = a(pod["containers"]).map(o);
        const resources = o(container["resources"]);
        for (const kind of ["requests", "limits"]) {
          assert.ok(o(resources[kind])["cpu"] && o(resources[kind])["memory"], kind);
        }
        assert.ok(container["livenessProbe"]);
        assert.ok(container["readinessProbe"]);
        assert.match(String(container["image"]), /^fluent\/fluentd-kubernetes-daemonset:v\d+\.\d+\.\d+-debian-opensearch-\d+\.\d+$/);
      });

      it("ships to the domain endpoint with SigV4 (IRSA), one index per service", () => {
        const conf = String(o(named(ev, "kubernetes:core/v1:ConfigMap", `${env}-fluentd-config`).inputs["data"])["fluent.conf"]);
        assert.match(conf, /@type opensearch/);
        assert.ok(conf.includes(`url https://vpc-platform-${env}-logs-mockid.${REGION}.es.amazonaws.com\n`), "endpoint");
        assert.match(conf, /assume_role_web_identity_token_file "#\{ENV\['AWS_WEB_IDENTITY_TOKEN_FILE'\]\}"/);
        assert.match(conf, /logstash_format true/);
        assert.match(conf, /logstash_prefix logs-\$\{service\}/);
        assert.match(conf, /<buffer service>/, "service must be a chunk key for the placeholder");
        assert.match(conf, /app_kubernetes_io\/name/);
        assert.match(conf, /@type file\n\s+path \/var\/log\/fluentd-buffers\/opensearch/);
        assert.match(conf, /retry_timeout 72h/);
        assert.match(conf, /retry_forever false/);
        assert.match(conf, /overflow_action block/);
        assert.match(conf, /@type cri/);
        assert.match(conf, /@type kubernetes_metadata/);
      });

      it("may only read pods and namespaces, and write to its own domain", () => {
        const rules = a(named(ev, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", `${env}-fluentd-reader`).inputs["rules"]);
        assert.deepEqual(rules, [{ apiGroups: [""], resources: ["pods", "namespaces"], verbs: ["get", "list", "watch"] }]);
        const [trust] = statements(named(ev, ROLE, `${env}-fluentd-irsa-role`).inputs["assumeRolePolicy"]);
        const issuer = oidcIssuer(ev, env);
        assert.deepEqual(list(trust.Condition?.["StringEquals"]?.[`${issuer}:sub`]), ["system:serviceaccount:logging:fluentd"]);
        const [s] = statements(named(ev, ROLE_POLICY, `${env}-fluentd-irsa-opensearch`).inputs["policy"]);
        const arn = `arn:aws:es:${REGION}:123456789012:domain/platform-${env}-logs`;
        assert.deepEqual(list(s.Resource), [arn, `${arn}/*`]);
        assert.ok(list(s.Action).every((x) => /^es:ESHttp(Get|Head|Post|Put)$/.test(x)), list(s.Action).join(", "));
        const sa = named(ev, "kubernetes:core/v1:ServiceAccount", `${env}-fluentd-sa`).inputs;
        assert.equal(o(o(sa["metadata"])["annotations"])["eks.amazonaws.com/role-arn"], `arn:aws:iam::123456789012:role/${env}-fluentd-irsa-role`);
      });

      it("runs in the logging namespace labelled privileged", () => {
        const labels = o(o(named(ev, NAMESPACE, `${env}-fluentd-ns`).inputs["metadata"])["labels"]);
        assert.equal(labels["pod-security.kubernetes.io/enforce"], "privileged");
        assert.equal(o(named(ev, DAEMONSET, `${env}-fluentd-daemonset`).inputs["metadata"])["namespace"], "logging");
      });
    });

    describe("index retention (ISM)", () => {
      let job: Obj;
      let pod: Obj;
      let apply: Obj;
      let env_: Map<string, string>;
      const retentionDays = { staging: 7, prod: 30 }[stack];
      const arn = `arn:aws:es:${REGION}:123456789012:domain/platform-${env}-logs`;
      before(() => {
        job = named(ev, JOB, `${env}-log-retention-job`).inputs;
        pod = o(o(o(job["spec"])["template"])["spec"]);
        [apply] = a(pod["containers"]).map(o);
        env_ = new Map(a(apply["env"]).map(o).map((e) => [String(e["name"]), String(e["value"])]));
      });

      it("is a Job in its own namespace, which enforces the restricted level (Fluentd's is privileged)", () => {
        const ns = o(named(ev, NAMESPACE, `${env}-log-retention-ns`).inputs["metadata"]);
        assert.equal(ns["name"], "log-retention");
        assert.equal(o(ns["labels"])["pod-security.kubernetes.io/enforce"], "restricted");
        assert.equal(o(job["metadata"])["namespace"], "log-retention");
        assert.equal(named(ev, JOB, `${env}-log-retention-job`).parentType, "platform:logging:LogRetention");
      });

      it("PUTs the retention policy with the configured days, attached to Fluentd's index prefix", async () => {
        const { ISM_APPLY_SCRIPT } = await import("../infra/logging/retention");
        assert.deepEqual(apply["command"], ["/bin/sh", "-c", ISM_APPLY_SCRIPT]);
        assert.equal(env_.get("ISM_URL"), "http://127.0.0.1:8080/_plugins/_ism");
        assert.equal(env_.get("POLICY_ID"), "logs-retention");
        assert.equal(env_.get("INDEX_PATTERN"), "logs-*");
        const { policy } = JSON.parse(env_.get("POLICY") ?? "{}") as { policy: { states: Obj[]; ism_template: Obj[] } };
        assert.deepEqual(policy.ism_template, [{ index_patterns: ["logs-*"], priority: 100 }]);
        const [hot, del] = policy.states;
        assert.deepEqual(a(hot["transitions"]), [{ state_name: "delete", conditions: { min_index_age: `${retentionDays}d` } }]);
        assert.deepEqual(a(del["actions"]), [{ delete: {} }]);
        // The writer's prefix is the pattern's.
        const conf = String(o(named(ev, "kubernetes:core/v1:ConfigMap", `${env}-fluentd-config`).inputs["data"])["fluent.conf"]);
        assert.match(conf, /logstash_prefix logs-\$\{service\}/);
      });

      it("GETs first and passes _seq_no and _primary_term, so re-running it updates the policy in place", () => {
        const script = String(a(apply["command"])[2]);
        assert.ok(script.indexOf("call GET") < script.indexOf("call PUT"), "GET before PUT");
        assert.match(script, /\?if_seq_no=\$seq_no&if_primary_term=\$primary_term/);
      });

      it("is named after a hash of its pod template, so a change replaces (and re-runs) it", () => {
        const metadata = o(job["metadata"]);
        const hash = String(o(metadata["annotations"])["platform.io/pod-template-sha256"]);
        assert.match(hash, /^[0-9a-f]{64}$/);
        assert.equal(metadata["name"], `logs-retention-${hash.slice(0, 10)}`);
      });

      it("signs through a native sidecar running the Dashboards proxy's pinned image, bound to this domain", async () => {
        const { defaults } = await import("../infra/logging/dashboards");
        const [proxy, ...more] = a(pod["initContainers"]).map(o);
        assert.equal(more.length, 0);
        assert.equal(proxy["restartPolicy"], "Always", "a native sidecar, stopped when the main container is done");
        assert.equal(proxy["image"], defaults.image);
        assert.deepEqual(proxy["args"], ["--name", "es", "--region", REGION, "--host", `vpc-platform-${env}-logs-mockid.${REGION}.es.amazonaws.com`]);
        // TCP: the proxy has no health route, any HTTP path is forwarded to OpenSearch.
        assert.deepEqual(o(proxy["startupProbe"])["tcpSocket"], { port: 8080 });
        assert.equal(o(proxy["startupProbe"])["httpGet"], undefined);
      });

      it("runs under the restricted profile with requests, limits, pinned images and bounded retries", () => {
        const podSc = o(pod["securityContext"]);
        assert.equal(podSc["runAsNonRoot"], true);
        assert.notEqual(podSc["runAsUser"], 0);
        assert.deepEqual(podSc["seccompProfile"], { type: "RuntimeDefault" });
        const containers = [...a(pod["initContainers"]), ...a(pod["containers"])].map(o);
        assert.equal(containers.length, 2);
        for (const c of containers) {
          assert.deepEqual(
            c["securityContext"],
            { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } },
            String(c["name"]),
          );
          const resources = o(c["resources"]);
          for (const kind of ["requests", "limits"]) {
            assert.ok(o(resources[kind])["cpu"] && o(resources[kind])["memory"], `${String(c["name"])} ${kind}`);
          }
          assert.match(String(c["image"]), /:[0-9][\w.-]*$/, "pinned to a release tag");
        }
        assert.equal(apply["image"], "quay.io/curl/curl:8.11.1");
        for (const flag of ["hostNetwork", "hostPID", "hostIPC"]) {
          assert.equal(pod[flag], undefined, flag);
        }
        assert.deepEqual(a(pod["volumes"]).map(o), [{ name: "tmp", emptyDir: { sizeLimit: "16Mi" } }]);
        assert.equal(pod["restartPolicy"], "Never");
        const spec = o(job["spec"]);
        assert.equal(spec["backoffLimit"], 4);
        assert.ok((spec["activeDeadlineSeconds"] as number) < 600, "ends before the provider stops waiting for the Job (10 minutes)");
        assert.equal(o(o(job["metadata"])["annotations"])["pulumi.com/replaceUnready"], "true");
        assert.equal(spec["ttlSecondsAfterFinished"], undefined, "Pulumi owns the Job; see infra/logging/retention.ts");
      });

      it("has its own IRSA role, trusted by log-retention/ism-policy only, limited to the ISM API of this domain", () => {
        const [trust] = statements(named(ev, ROLE, `${env}-log-retention-irsa-role`).inputs["assumeRolePolicy"]);
        const issuer = oidcIssuer(ev, env);
        assert.deepEqual(list(trust.Condition?.["StringEquals"]?.[`${issuer}:sub`]), ["system:serviceaccount:log-retention:ism-policy"]);
        const granted = statements(named(ev, ROLE_POLICY, `${env}-log-retention-irsa-opensearch`).inputs["policy"]).map((s) => ({
          effect: s.Effect,
          actions: list(s.Action).sort(),
          resources: list(s.Resource).sort(),
        }));
        assert.deepEqual(granted, [
          { effect: "Allow", actions: ["es:ESHttpGet", "es:ESHttpPut"], resources: [`${arn}/_plugins/_ism/policies/logs-retention`] },
          { effect: "Allow", actions: ["es:ESHttpPost"], resources: [`${arn}/_plugins/_ism/add/logs-*`, `${arn}/_plugins/_ism/change_policy/logs-*`] },
        ]);
        const sa = o(named(ev, "kubernetes:core/v1:ServiceAccount", `${env}-log-retention-sa`).inputs["metadata"]);
        assert.equal(sa["name"], "ism-policy");
        assert.equal(o(sa["annotations"])["eks.amazonaws.com/role-arn"], `arn:aws:iam::123456789012:role/${env}-log-retention-irsa-role`);
        assert.equal(pod["serviceAccountName"], "ism-policy");
      });
    });

    describe("OpenSearch Dashboards", () => {
      it("is served at log.<domain> to the configured CIDRs through the SigV4 proxy", () => {
        const ingress = named(ev, INGRESS, `${env}-log-dashboards-ingress`).inputs;
        const annotations = o(o(ingress["metadata"])["annotations"]);
        const sourceIp = [{ field: "source-ip", sourceIpConfig: { values: [OFFICE] } }];
        assert.deepEqual(JSON.parse(String(annotations["alb.ingress.kubernetes.io/conditions.dashboards-proxy"])), sourceIp);
        assert.deepEqual(JSON.parse(String(annotations["alb.ingress.kubernetes.io/conditions.dashboards-root"])), sourceIp);
        const [rule] = a(o(ingress["spec"])["rules"]).map(o);
        assert.equal(rule["host"], `log.${liveHost(env)}`);
        const deployment = named(ev, "kubernetes:apps/v1:Deployment", `${env}-log-dashboards-deployment`).inputs;
        const [container] = a(o(o(o(deployment["spec"])["template"])["spec"])["containers"]).map(o);
        assert.deepEqual(container["args"], ["--name", "es", "--region", REGION, "--host", `vpc-platform-${env}-logs-mockid.${REGION}.es.amazonaws.com`]);
        assert.equal(outputs(ev)["logDashboardsUrl"], `https://log.${liveHost(env)}/_dashboards/`);
      });

      it("health-checks through the proxy a path OpenSearch answers 200 for this role; the pods' own probes are TCP", () => {
        const annotations = o(o(named(ev, INGRESS, `${env}-log-dashboards-ingress`).inputs["metadata"])["annotations"]);
        // The proxy forwards `/` to OpenSearch (cluster info); the role may GET the domain itself.
        assert.equal(annotations["alb.ingress.kubernetes.io/healthcheck-path"], "/");
        assert.equal(annotations["alb.ingress.kubernetes.io/success-codes"], "200");
        const read = statements(named(ev, ROLE_POLICY, `${env}-log-dashboards-irsa-opensearch`).inputs["policy"]).find((st) => list(st.Action).includes("es:ESHttpGet"));
        assert.ok(read !== undefined && list(read.Resource).includes(`arn:aws:es:${REGION}:123456789012:domain/platform-${env}-logs`), "GET / is on the domain ARN itself");
        const deployment = named(ev, "kubernetes:apps/v1:Deployment", `${env}-log-dashboards-deployment`).inputs;
        const [container] = a(o(o(o(deployment["spec"])["template"])["spec"])["containers"]).map(o);
        assert.deepEqual(o(container["readinessProbe"])["tcpSocket"], { port: 8080 });
        assert.deepEqual(o(container["livenessProbe"])["tcpSocket"], { port: 8080 });
      });
    });
  });
}

describe("observability variants", () => {
  it("puts Prometheus alone on gp3 through the EBS CSI managed add-on when configured", async () => {
    const ev = await evaluateStack(
      "prod",
      observability((obs) => {
        obs["monitoring"]["prometheusStorage"] = "gp3";
      }),
    );
    const values = named(ev, RELEASE, "prod-monitoring-release").inputs["values"];
    assert.deepEqual(storageClasses(values).sort(), [
      ["alertmanager.alertmanagerSpec.storage.volumeClaimTemplate.spec.storageClassName", "efs-sc"],
      ["grafana.persistence.storageClassName", "efs-sc"],
      ["prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.storageClassName", "gp3"],
    ]);
    const sc = named(ev, "kubernetes:storage.k8s.io/v1:StorageClass", "prod-ebs-csi-storage-class").inputs;
    assert.equal(sc["provisioner"], "ebs.csi.aws.com");
    assert.deepEqual(sc["parameters"], { type: "gp3", encrypted: "true", "csi.storage.k8s.io/fstype": "ext4" });
    assert.equal(sc["volumeBindingMode"], "WaitForFirstConsumer");
    const addon = named(ev, "aws:eks/addon:Addon", "prod-ebs-csi-addon").inputs;
    assert.equal(addon["addonName"], "aws-ebs-csi-driver");
    assert.equal(addon["serviceAccountRoleArn"], "arn:aws:iam::123456789012:role/prod-ebs-csi-irsa-role");
    const [trust] = statements(named(ev, ROLE, "prod-ebs-csi-irsa-role").inputs["assumeRolePolicy"]);
    assert.ok(JSON.stringify(trust.Condition).includes("system:serviceaccount:kube-system:ebs-csi-controller-sa"));
  });

  it("does not expose Prometheus or Dashboards without CIDRs (as staging ships)", async () => {
    const ev = await evaluateStack("staging");
    assert.deepEqual(
      ofType(ev, INGRESS).filter((i) => i.name.startsWith("staging-monitoring") || i.name.startsWith("staging-log")),
      [],
    );
    assert.equal(ofType(ev, "kubernetes:apps/v1:Deployment").filter((d) => d.name.startsWith("staging-log-dashboards")).length, 0);
    assert.equal(outputs(ev)["prometheusUrl"], undefined);
    assert.equal(outputs(ev)["logDashboardsUrl"], undefined);
    const spec = o(o(o(named(ev, RELEASE, "staging-monitoring-release").inputs["values"])["prometheus"])["prometheusSpec"]);
    assert.equal(spec["externalUrl"], undefined);
  });

  it("passes configured dedicated masters through to the domain, and null drops prod's default", async () => {
    const masters = async (stack: string, value: Json | undefined): Promise<Obj> => {
      const ev = await evaluateStack(
        stack,
        observability((obs) => {
          if (value !== undefined) {
            obs["logging"]["dedicatedMasters"] = value;
          }
        }),
      );
      const cluster = o(named(ev, DOMAIN, `${stack}-logs-domain`).inputs["clusterConfig"]);
      return { enabled: cluster["dedicatedMasterEnabled"], type: cluster["dedicatedMasterType"], count: cluster["dedicatedMasterCount"] };
    };
    assert.deepEqual(await masters("staging", { instanceType: "t3.medium.search", count: 5 }), { enabled: true, type: "t3.medium.search", count: 5 });
    assert.deepEqual(await masters("prod", null), { enabled: false, type: undefined, count: undefined });
  });

  it("the retention component itself refuses a retention or prefix the config would have rejected", async () => {
    for (const [props, message] of [
      [{ retentionDays: 0 }, /retentionDays 0 is not a whole number of days from 1 to 365/],
      [{ retentionDays: 7, indexPrefix: "Logs-*" }, /indexPrefix "Logs-\*" is not a usable index prefix/],
    ] as const) {
      // The component with explicit args (the config rejects these values before the program runs).
      const { error, evaluation } = await settleProgram("staging", {}, () => {
        const cluster = new Cluster("staging", { clusterName: "platform-staging", vpcId: "vpc-1", privateSubnetIds: ["subnet-a", "subnet-c"], publicSubnetIds: [], version: "1.35" });
        new LogRetention("staging-log-retention", { cluster, region: REGION, opensearchEndpoint: "vpc-x", opensearchDomainArn: "arn:aws:es:::domain/x", ...props });
        return {};
      });
      assert.match(String(error), message);
      assert.deepEqual(ofType(evaluation, JOB), []);
    }
  });

  it("declares the retention Job only where logging is on", async () => {
    const ev = await evaluateStack(
      "staging",
      observability((obs) => {
        obs["logging"]["enabled"] = false;
      }),
    );
    assert.deepEqual(ofType(ev, JOB), []);
    assert.deepEqual(ofType(ev, DOMAIN), []);
    assert.ok(!ofType(ev, NAMESPACE).some((n) => o(n.inputs["metadata"])["name"] === "log-retention"));
    assert.ok(!ev.resources.some((r) => r.type === "platform:logging:LogRetention"));
  });

  it("gives the Job a new name when the retention changes, so Pulumi replaces it and the new policy is applied", async () => {
    const job = async (days?: number): Promise<{ name: string; minAge: unknown }> => {
      const ev = await evaluateStack(
        "staging",
        observability((obs) => {
          if (days !== undefined) {
            obs["logging"]["retentionDays"] = days;
          }
        }),
      );
      const inputs = named(ev, JOB, "staging-log-retention-job").inputs;
      const [container] = a(o(o(o(inputs["spec"])["template"])["spec"])["containers"]).map(o);
      const policy = a(container["env"]).map(o).find((e) => e["name"] === "POLICY");
      const { policy: doc } = JSON.parse(String(o(policy)["value"])) as { policy: { states: Array<{ transitions: Array<{ conditions: Obj }> }> } };
      return { name: String(o(inputs["metadata"])["name"]), minAge: doc.states[0].transitions[0].conditions["min_index_age"] };
    };
    const shipped = await job();
    const again = await job(7);
    const longer = await job(14);
    assert.equal(shipped.minAge, "7d");
    assert.equal(again.name, shipped.name, "the same policy keeps the same Job (no re-run)");
    assert.equal(longer.minAge, "14d");
    assert.notEqual(longer.name, shipped.name);
  });

  it("declares nothing in the test stack (monitoring and logging are off there)", async () => {
    const ev = await evaluateStack("test");
    const observabilityTypes = [RELEASE, DOMAIN, DAEMONSET, JOB, "aws:efs/fileSystem:FileSystem", "aws:eks/addon:Addon"];
    assert.deepEqual(ev.resources.filter((r) => observabilityTypes.includes(r.type)), []);
  });
});

describe("observability config", () => {
  async function problems(stack: string, config: StackConfig): Promise<string> {
    const { parsePlatformConfig } = await import("../infra/config/load");
    try {
      parsePlatformConfig(stack, platformRaw(config) as never, REGION);
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
    return "";
  }
  async function parsed(stack: string): Promise<Obj> {
    const { parsePlatformConfig } = await import("../infra/config/load");
    return o(parsePlatformConfig(stack, platformRaw(readStackConfig(stack)) as never, REGION).observability);
  }

  it("ships prod on, staging on at a smaller size, test off", async () => {
    const [test, staging, prod] = await Promise.all(["test", "staging", "prod"].map(parsed));
    assert.equal(o(test["monitoring"])["enabled"], false);
    assert.equal(o(test["logging"])["enabled"], false);
    for (const cfg of [staging, prod]) {
      assert.equal(o(cfg["monitoring"])["enabled"], true);
      assert.equal(o(cfg["logging"])["enabled"], true);
      assert.equal(o(cfg["monitoring"])["prometheusStorage"], "efs");
    }
    assert.ok((o(staging["monitoring"])["prometheusVolumeGi"] as number) < (o(prod["monitoring"])["prometheusVolumeGi"] as number));
    assert.ok((o(staging["logging"])["instanceCount"] as number) < (o(prod["logging"])["instanceCount"] as number));
    assert.equal(o(prod["efs"])["backup"], true);
    assert.equal(o(staging["efs"])["backup"], false);
  });

  it("rejects monitoring or logging without the cluster, naming the key, the value and the fix", async () => {
    const message = await problems(
      "test",
      stackConfig("test", (obs) => {
        obs["monitoring"]["enabled"] = true;
        obs["logging"]["enabled"] = true;
      }),
    );
    assert.match(message, /platform:observability\.monitoring\.enabled: is true but cluster\.enabled is false.*\(value: true\)\. Fix: set observability\.monitoring\.enabled to false in the test stack, or turn cluster\.enabled on/);
    assert.match(message, /platform:observability\.logging\.enabled: is true but cluster\.enabled is false/);
  });

  it("rejects an odd number of zone-aware OpenSearch data nodes", async () => {
    const message = await problems(
      "prod",
      stackConfig("prod", (obs) => {
        obs["logging"]["instanceCount"] = 3;
      }),
    );
    assert.match(message, /platform:observability\.logging\.instanceCount: 3 data nodes cannot be spread evenly over two availability zones.*\(value: 3\)\. Fix: use an even count, e\.g\. 4/);
  });

  it("rejects opening Prometheus or Dashboards to the whole internet", async () => {
    const message = await problems(
      "prod",
      stackConfig("prod", (obs) => {
        obs["monitoring"]["allowedCidrs"] = ["0.0.0.0/0"];
        obs["logging"]["dashboardsCidrs"] = [OFFICE, "0.0.0.0/0"];
      }),
    );
    assert.match(message, /platform:observability\.monitoring\.allowedCidrs: opens Prometheus, which has no login of its own, to the whole internet: the union covers all of 0\.0\.0\.0\/0/);
    assert.match(message, /platform:observability\.logging\.dashboardsCidrs: opens OpenSearch Dashboards, which has no login of its own, to the whole internet/);
    assert.match(message, /platform:observability\.logging\.dashboardsCidrs\[0\]: 203\.0\.113\.0\/24 is inside 0\.0\.0\.0\/0 \(entry 1\)/);
  });

  it("rejects an unknown Prometheus storage and suggests the allowed ones", async () => {
    const message = await problems(
      "prod",
      stackConfig("prod", (obs) => {
        obs["monitoring"]["prometheusStorage"] = "nfs";
      }),
    );
    assert.match(message, /platform:observability\.monitoring\.prometheusStorage: .*\(value: "nfs"\)\. Fix: use one of "efs", "gp3"/);
  });
});

describe("Fluentd pipeline", () => {
  it("excludes its own logs and names the index after the service", async () => {
    const { fluentdPipeline } = await import("../infra/logging/fluentdPipeline");
    const conf = fluentdPipeline({
      endpoint: "vpc-x.ap-northeast-2.es.amazonaws.com",
      region: "ap-northeast-2",
      namespace: "logs",
      indexPrefix: "app",
      bufferLimit: "1GB",
      retryTimeout: "1h",
    });
    assert.match(conf, /exclude_path \["\/var\/log\/containers\/\*_logs_fluentd-\*\.log"\]/);
    assert.match(conf, /logstash_prefix app-\$\{service\}/);
    assert.match(conf, /service \$\{\(record\.dig\("kubernetes", "labels", "app_kubernetes_io\/name"\)/);
    assert.match(conf, /total_limit_size 1GB/);
    assert.match(conf, /region ap-northeast-2\n/);
    // One `${...}` spanning the whole value: record_transformer (enable_ruby, auto_typecast)
    // evaluates the text between `${` and the final `}` as one Ruby expression.
    const expression = /\n\s+service (\$\{.*\})\n/.exec(conf)?.[1] ?? "";
    assert.ok(expression.length > 0 && expression.split("${").length === 2, expression);
  });
});
