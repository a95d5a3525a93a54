import { createHash } from "crypto";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ResourceRequirements } from "../addons/clusterAutoscaler";
import type { Cluster } from "../cluster/cluster";
import type { IrsaRole } from "../iam/irsaRole";
import { withDefaults } from "../lib/defaults";
import { podSecurityLabels } from "../lib/podSecurity";
import type { ImageProbeFacts } from "../lib/probes";

import { BUFFER_DIR, fluentdPipeline, MONITOR_PORT } from "./fluentdPipeline";

export interface FluentdProps {
  /** The cluster to run on (k8s provider, OIDC provider for IRSA). */
  readonly cluster: Cluster;
  readonly region: string;
  /** OpenSearch domain endpoint without scheme (`LogStore.endpoint`). */
  readonly opensearchEndpoint: pulumi.Input<string>;
  /** OpenSearch domain ARN (`LogStore.domainArn`): the IRSA role may write to this domain only. */
  readonly opensearchDomainArn: pulumi.Input<string>;
  /** Namespace. Default: `logging`. */
  readonly namespace?: string;
  /** Image. Default: `defaults.image`. */
  readonly image?: string;
  /** Container resources. Default: `defaults.resources`. */
  readonly resources?: ResourceRequirements;
  /** Index name prefix. Default: `logs` (indices `logs-<service>-YYYY.MM.DD`, index pattern `logs-<service>-*`). */
  readonly indexPrefix?: string;
  /** Cap of the file buffer on each node. Default: `4GB`. */
  readonly bufferLimit?: string;
  /** How long a chunk is retried. Default: `72h` (a weekend-long store outage). */
  readonly retryTimeout?: string;
}

export const defaults = {
  // fluentd 1.19.2 with fluent-plugin-opensearch 1.1, kubernetes_metadata_filter 3.x and the CRI
  // parser (the image's Gemfile). The tag is per release (-1.0), never moved: bump it explicitly.
  image: "fluent/fluentd-kubernetes-daemonset:v1.19.2-debian-opensearch-1.0",
  // What that image serves to probes: only what the pipeline opens. `fluentdPipeline` declares
  // `monitor_agent` on MONITOR_PORT, which (fluent/fluentd v1.19.2
  // lib/fluent/plugin/in_monitor_agent.rb:32-34 bind/port, :210-213 routes) answers
  // /api/plugins, /api/plugins.json, /api/config and /api/config.json, and 404 for anything else.
  imageFacts: {
    tcpPorts: [MONITOR_PORT],
    http: ["/api/plugins", "/api/plugins.json", "/api/config", "/api/config.json"].map((path) => ({ port: MONITOR_PORT, path, scheme: "HTTP" as const })),
    exec: [],
    source: "fluent/fluentd v1.19.2 lib/fluent/plugin/in_monitor_agent.rb:32-34,210-213, opened by fluentdPipeline()'s monitor_agent source",
  } satisfies ImageProbeFacts,
  namespace: "logging",
  indexPrefix: "logs",
  bufferLimit: "4GB",
  retryTimeout: "72h",
  resources: {
    requests: { cpu: "100m", memory: "256Mi" },
    limits: { cpu: "1", memory: "768Mi" },
  } satisfies ResourceRequirements,
  serviceAccountName: "fluentd",
};


/** The Fluentd container: root without capabilities (the node's log files are root-owned 0640), a read-only root filesystem. */
function fluentdContainer(p: typeof defaults & FluentdProps): k8s.types.input.core.v1.Container {
  return {
    name: "fluentd",
    image: p.image,
    env: [
      // kubernetes_metadata then watches only this node's pods.
      { name: "K8S_NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
    ],
    ports: [{ name: "monitor", containerPort: MONITOR_PORT, protocol: "TCP" }],
    resources: p.resources,
    // Root, because the node's log files are root-owned 0640; no capabilities, so
    // root reads only what it owns and cannot escalate.
    securityContext: {
      runAsUser: 0,
      runAsNonRoot: false,
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    },
    readinessProbe: {
      tcpSocket: { port: MONITOR_PORT },
      initialDelaySeconds: 5,
      periodSeconds: 10,
    },
    livenessProbe: {
      httpGet: { path: "/api/plugins.json", port: MONITOR_PORT },
      initialDelaySeconds: 30,
      periodSeconds: 30,
      timeoutSeconds: 5,
      failureThreshold: 5,
    },
    volumeMounts: [
      { name: "varlog", mountPath: "/var/log", readOnly: true },
      // Nested under the read-only /var/log: the only writable host path.
      { name: "buffers", mountPath: BUFFER_DIR },
      { name: "config", mountPath: "/fluentd/etc", readOnly: true },
      { name: "tmp", mountPath: "/tmp" },
    ],
  };
}

/**
 * Fluentd as a DaemonSet on every node (tainted ones included), written as plain manifests:
 * a privileged-level namespace (hostPath /var/log, mounted read-only, plus the buffer directory),
 * a service account whose IRSA role may only write to the log domain, read access to pods and
 * namespaces for metadata, and the pipeline from `fluentdPipeline`.
 */
export class Fluentd extends pulumi.ComponentResource {
  readonly daemonSet: k8s.apps.v1.DaemonSet;
  readonly namespace: pulumi.Output<string>;
  readonly roleArn: pulumi.Output<string>;
  /** The rendered fluent.conf. */
  readonly pipeline: pulumi.Output<string>;

  constructor(name: string, props: FluentdProps, opts?: pulumi.ComponentResourceOptions) {
    super("platform:logging:Fluentd", name, { namespace: props.namespace ?? defaults.namespace }, opts);

    const p = withDefaults(defaults, props);
    const cluster = props.cluster;
    const k8sOpts = { provider: cluster.provider, parent: this };
    const labels = { "app.kubernetes.io/name": "fluentd", "app.kubernetes.io/part-of": "logging" };

    // Privileged: Fluentd reads every container's log files from the node (hostPath /var/log) and
    // keeps its buffers there; baseline and restricted forbid hostPath. Nothing else runs here.
    const namespace = new k8s.core.v1.Namespace(
      `${name}-ns`,
      {
        metadata: {
          name: p.namespace,
          labels: podSecurityLabels("privileged"),
        },
      },
      k8sOpts,
    );

    const role = this.writerRole(name, p, props);

    const serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-sa`,
      {
        metadata: {
          name: p.serviceAccountName,
          namespace: namespace.metadata.name,
          labels,
          annotations: { "eks.amazonaws.com/role-arn": role.roleArn },
        },
      },
      k8sOpts,
    );

    this.podReader(name, labels, serviceAccount, namespace.metadata.name, k8sOpts);

    const pipeline = pulumi.output(props.opensearchEndpoint).apply((endpoint) =>
      fluentdPipeline({
        endpoint,
        region: props.region,
        namespace: p.namespace,
        indexPrefix: p.indexPrefix,
        bufferLimit: p.bufferLimit,
        retryTimeout: p.retryTimeout,
      }),
    );
    const config = new k8s.core.v1.ConfigMap(
      `${name}-config`,
      { metadata: { name: "fluentd-config", namespace: namespace.metadata.name, labels }, data: { "fluent.conf": pipeline } },
      k8sOpts,
    );

    this.daemonSet = this.nodeDaemonSet(name, p, { labels, pipeline, serviceAccount, config, role, namespace: namespace.metadata.name, k8sOpts });

    this.namespace = namespace.metadata.name;
    this.roleArn = role.roleArn;
    this.pipeline = pipeline;

    this.registerOutputs({ namespace: this.namespace, roleArn: this.roleArn });
  }

  /** One Fluentd pod on every node, whatever its taints, rolled when the pipeline changes. */
  private nodeDaemonSet(
    name: string,
    p: typeof defaults & FluentdProps,
    o: {
      readonly labels: Record<string, string>;
      readonly pipeline: pulumi.Output<string>;
      readonly serviceAccount: k8s.core.v1.ServiceAccount;
      readonly config: k8s.core.v1.ConfigMap;
      readonly role: IrsaRole;
      readonly namespace: pulumi.Output<string>;
      readonly k8sOpts: { provider: k8s.Provider; parent: pulumi.Resource };
    },
  ): k8s.apps.v1.DaemonSet {
    const { labels, pipeline, serviceAccount, config, role, k8sOpts } = o;
    return new k8s.apps.v1.DaemonSet(
      `${name}-daemonset`,
      {
        metadata: { name: "fluentd", namespace: o.namespace, labels },
        spec: {
          selector: { matchLabels: labels },
          // One node at a time: the buffers on the node carry over to the new pod.
          updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
          template: {
            metadata: {
              labels,
              // Fluentd reads its config once: a changed pipeline must roll the pods.
              annotations: { "platform.io/config-sha256": pipeline.apply((text) => createHash("sha256").update(text).digest("hex")) },
            },
            spec: {
              serviceAccountName: serviceAccount.metadata.name,
              // Every node, whatever its taints (dedicated, spot, NoExecute): a node without a log
              // shipper is a node whose logs are lost.
              tolerations: [{ operator: "Exists" }],
              // Leaves room for the buffers to flush when a node is drained.
              terminationGracePeriodSeconds: 60,
              containers: [fluentdContainer(p)],
              volumes: [
                { name: "varlog", hostPath: { path: "/var/log", type: "Directory" } },
                // Created by the kubelet on first use, so the nested mount point exists inside /var/log.
                { name: "buffers", hostPath: { path: BUFFER_DIR, type: "DirectoryOrCreate" } },
                { name: "config", configMap: { name: config.metadata.name } },
                { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
              ],
            },
          },
        },
      },
      // dependsOn the role component: its inline policy must be attached before the first _bulk call.
      { ...k8sOpts, dependsOn: [role] },
    );
  }

  /** The IRSA role Fluentd signs its requests with: reads and writes of its own domain only. */
  private writerRole(name: string, p: typeof defaults & FluentdProps, props: FluentdProps): IrsaRole {
    const policy = aws.iam.getPolicyDocumentOutput(
      {
        statements: [
          {
            sid: "WriteLogs",
            // GET/HEAD for the plugin's version and template checks, POST for _bulk, PUT for index creation.
            actions: ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut"],
            resources: [props.opensearchDomainArn, pulumi.interpolate`${props.opensearchDomainArn}/*`],
          },
        ],
      },
      { parent: this },
    ).json;
    return props.cluster.irsaRole(
      `${name}-irsa`,
      {
        namespace: p.namespace,
        serviceAccount: p.serviceAccountName,
        description: `Fluentd of EKS cluster ${props.cluster.clusterName}: writes logs to OpenSearch`,
        inlinePolicies: { opensearch: policy },
      },
      { parent: this },
    );
  }

  /** kubernetes_metadata only reads pod and namespace objects (labels, annotations, owner). */
  private podReader(
    name: string,
    labels: Record<string, string>,
    serviceAccount: k8s.core.v1.ServiceAccount,
    namespaceName: pulumi.Output<string>,
    k8sOpts: { provider: k8s.Provider; parent: pulumi.Resource },
  ): void {
    const clusterRole = new k8s.rbac.v1.ClusterRole(
      `${name}-reader`,
      {
        metadata: { name: "fluentd", labels },
        rules: [{ apiGroups: [""], resources: ["pods", "namespaces"], verbs: ["get", "list", "watch"] }],
      },
      k8sOpts,
    );
    new k8s.rbac.v1.ClusterRoleBinding(
      `${name}-reader`,
      {
        metadata: { name: "fluentd", labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole.metadata.name },
        subjects: [{ kind: "ServiceAccount", name: serviceAccount.metadata.name, namespace: namespaceName }],
      },
      k8sOpts,
    );
  }
}
