import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ResourceRequirements } from "../addons/clusterAutoscaler";
import type { Cluster } from "../cluster/cluster";
import type { IrsaRole } from "../iam/irsaRole";
import { withDefaults } from "../lib/defaults";
import { ALB_READINESS_GATE_LABEL, podSecurityLabels } from "../lib/podSecurity";
import type { ImageProbeFacts } from "../lib/probes";

/** Port the proxy listens on (its default `--port :8080`; the program passes no `--port`). */
export const PROXY_PORT = 8080;

/**
 * OpenSearch's answer to `GET /` (cluster name and version): what the ALB health check asks
 * through the proxy. 200 only once the proxy signs with this role and reaches the domain, whose
 * policy grants `es:ESHttpGet` on the domain (`ReadIndices` below).
 */
const ALB_HEALTH_PATH = "/";
/** Name of the proxy's Service (the Ingress' condition annotation is keyed by it). */
const SERVICE_NAME = "dashboards-proxy";

export interface LogDashboardsProps {
  /** The cluster to run on (k8s provider, OIDC provider for IRSA). */
  readonly cluster: Cluster;
  readonly region: string;
  /** OpenSearch domain endpoint without scheme (`LogStore.endpoint`). */
  readonly opensearchEndpoint: pulumi.Input<string>;
  /** OpenSearch domain ARN (`LogStore.domainArn`). */
  readonly opensearchDomainArn: pulumi.Input<string>;
  /** Host Dashboards is served on, e.g. `log.example.com`. */
  readonly host: string;
  /** Source CIDRs the ALB forwards from. Must not be empty: without them there is nothing to serve. */
  readonly allowedCidrs: readonly string[];
  /** The stack's shared IngressGroup (one ALB). */
  readonly ingressGroupName: string;
  /** Group-wide ALB annotations (listeners, certificate, TLS policy, WAF), identical on every Ingress of the group. */
  readonly ingressGroupAnnotations?: Readonly<Record<string, pulumi.Input<string>>>;
  /** `group.order` of the Ingress. Default: 910 (its host condition keeps it disjoint from the apps' rules). */
  readonly ingressOrder?: number;
  /** Namespace. Default: `log-dashboards` (restricted; Fluentd's `logging` namespace is privileged). */
  readonly namespace?: string;
  /** Proxy replicas, spread over zones. Default: 2. */
  readonly replicas?: number;
  /** Proxy image. Default: `defaults.image`. */
  readonly image?: string;
  /** Container resources. Default: `defaults.resources`. */
  readonly resources?: ResourceRequirements;
}

export const defaults = {
  // awslabs/aws-sigv4-proxy: signs each request with the pod's IRSA credentials. Pinned release.
  image: "public.ecr.aws/aws-observability/aws-sigv4-proxy:1.11.1",
  // What that image serves to probes (read at awslabs/aws-sigv4-proxy tag v1.11.1, ed72b374):
  // one handler for every path, `http.ListenAndServe(*port, &handler.Handler{...})`
  // (cmd/aws-sigv4-proxy/main.go:43 `--port` default ":8080", :157), and that handler signs and
  // forwards every request to `--host` (handler/handler.go:36-62, proxy_client.go:132-186): there
  // is no /health of its own, `GET /health` becomes OpenSearch's `GET /health` (an index named
  // "health": 404, or 403 for a role without that path). The image is FROM scratch with the
  // binary only (Dockerfile), so no exec probe. A TCP probe on 8080 passes once it listens.
  imageFacts: {
    tcpPorts: [PROXY_PORT],
    http: [],
    exec: [],
    source: "awslabs/aws-sigv4-proxy v1.11.1 (ed72b374): cmd/aws-sigv4-proxy/main.go:43,157; handler/handler.go:36-62; Dockerfile (FROM scratch)",
  } satisfies ImageProbeFacts,
  namespace: "log-dashboards",
  replicas: 2,
  ingressOrder: 910,
  serviceAccountName: "dashboards-proxy",
  resources: {
    requests: { cpu: "50m", memory: "64Mi" },
    limits: { cpu: "500m", memory: "256Mi" },
  } satisfies ResourceRequirements,
};


/**
 * OpenSearch Dashboards at `https://<host>/_dashboards` for a list of source CIDRs.
 *
 * The domain sits in private subnets and authorises by IAM (SigV4), which a browser cannot speak,
 * and the AWS Load Balancer Controller cannot target an ExternalName Service (issue
 * kubernetes-sigs/aws-load-balancer-controller#3505). So the ALB forwards, for the allowed
 * sources only, to a small SigV4 signing proxy in the cluster whose IRSA role may use Dashboards
 * and read the indices. There is no per-user login: whoever reaches the host from an allowed
 * CIDR acts as that role (Dev Tools included), which is why the CIDR list must stay tight;
 * per-user access needs Cognito or SAML on the domain.
 */
export class LogDashboards extends pulumi.ComponentResource {
  readonly ingress: k8s.networking.v1.Ingress;
  readonly roleArn: pulumi.Output<string>;
  readonly url: string;

  constructor(name: string, props: LogDashboardsProps, opts?: pulumi.ComponentResourceOptions) {
    super("platform:logging:LogDashboards", name, { host: props.host }, opts);

    if (props.allowedCidrs.length === 0) {
      throw new pulumi.ResourceError("allowedCidrs is empty; list the sources allowed to reach Dashboards, or do not declare it", this);
    }
    const p = withDefaults(defaults, props);
    const cluster = props.cluster;
    const k8sOpts = { provider: cluster.provider, parent: this };
    const labels = { "app.kubernetes.io/name": "dashboards-proxy", "app.kubernetes.io/part-of": "logging" };

    const namespace = new k8s.core.v1.Namespace(
      `${name}-ns`,
      {
        metadata: {
          name: p.namespace,
          // The proxy pods are ALB targets: readiness gates keep a rollout from outrunning registration.
          labels: { ...podSecurityLabels("restricted"), ...ALB_READINESS_GATE_LABEL },
        },
      },
      k8sOpts,
    );

    const policy = this.readPolicy(props.opensearchDomainArn);
    const role = cluster.irsaRole(
      `${name}-irsa`,
      {
        namespace: p.namespace,
        serviceAccount: p.serviceAccountName,
        description: `OpenSearch Dashboards proxy of EKS cluster ${cluster.clusterName}`,
        inlinePolicies: { opensearch: policy },
      },
      { parent: this },
    );

    const serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-sa`,
      {
        metadata: { name: p.serviceAccountName, namespace: namespace.metadata.name, labels, annotations: { "eks.amazonaws.com/role-arn": role.roleArn } },
      },
      k8sOpts,
    );

    this.proxyDeployment(name, p, props, { namespace: namespace.metadata.name, labels, serviceAccount, role, k8sOpts });

    new k8s.policy.v1.PodDisruptionBudget(
      `${name}-pdb`,
      { metadata: { name: "dashboards-proxy", namespace: namespace.metadata.name, labels }, spec: { maxUnavailable: 1, selector: { matchLabels: labels } } },
      k8sOpts,
    );

    const service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: { name: SERVICE_NAME, namespace: namespace.metadata.name, labels },
        spec: { type: "ClusterIP", selector: labels, ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }] },
      },
      k8sOpts,
    );

    this.ingress = this.dashboardsIngress(name, p, props, { namespace: namespace.metadata.name, labels, service, k8sOpts });

    this.roleArn = role.roleArn;
    this.url = `https://${props.host}/_dashboards/`;

    this.registerOutputs({ url: this.url, roleArn: this.roleArn });
  }

  /** The SigV4 signing proxy: non-root, read-only, spread over zones, signing with its IRSA role. */
  private proxyDeployment(
    name: string,
    p: typeof defaults & LogDashboardsProps,
    props: LogDashboardsProps,
    o: {
      readonly namespace: pulumi.Output<string>;
      readonly labels: Record<string, string>;
      readonly serviceAccount: k8s.core.v1.ServiceAccount;
      readonly role: IrsaRole;
      readonly k8sOpts: { provider: k8s.Provider; parent: pulumi.Resource };
    },
  ): void {
    const { labels, serviceAccount, role, k8sOpts } = o;
    new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata: { name: "dashboards-proxy", namespace: o.namespace, labels },
        spec: {
          replicas: p.replicas,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              serviceAccountName: serviceAccount.metadata.name,
              securityContext: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, fsGroup: 65534, seccompProfile: { type: "RuntimeDefault" } },
              topologySpreadConstraints: [
                { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: labels } },
              ],
              containers: [
                {
                  name: "proxy",
                  image: p.image,
                  args: ["--name", "es", "--region", props.region, "--host", props.opensearchEndpoint],
                  ports: [{ name: "http", containerPort: PROXY_PORT, protocol: "TCP" }],
                  resources: p.resources,
                  securityContext: {
                    allowPrivilegeEscalation: false,
                    readOnlyRootFilesystem: true,
                    capabilities: { drop: ["ALL"] },
                    seccompProfile: { type: "RuntimeDefault" },
                  },
                  // TCP only: the proxy has no health route of its own (`defaults.imageFacts`),
                  // any HTTP path would be forwarded to OpenSearch. Whether it can sign and reach
                  // the domain is what the ALB health check (and so the readiness gate) asks.
                  readinessProbe: { tcpSocket: { port: PROXY_PORT }, periodSeconds: 5, failureThreshold: 3 },
                  livenessProbe: { tcpSocket: { port: PROXY_PORT }, initialDelaySeconds: 10, periodSeconds: 20, failureThreshold: 3 },
                },
              ],
            },
          },
        },
      },
      { ...k8sOpts, dependsOn: [role] },
    );
  }

  /** Dashboards at `props.host` in the stack's IngressGroup: the bare host redirects to /_dashboards/, both rules for the allowed CIDRs only. */
  private dashboardsIngress(
    name: string,
    p: typeof defaults & LogDashboardsProps,
    props: LogDashboardsProps,
    o: {
      readonly namespace: pulumi.Output<string>;
      readonly labels: Record<string, string>;
      readonly service: k8s.core.v1.Service;
      readonly k8sOpts: { provider: k8s.Provider; parent: pulumi.Resource };
    },
  ): k8s.networking.v1.Ingress {
    const { labels, service, k8sOpts } = o;
    const sourceIp = JSON.stringify([{ field: "source-ip", sourceIpConfig: { values: [...props.allowedCidrs] } }]);
    const rootRedirect = "dashboards-root";
    return new k8s.networking.v1.Ingress(
      `${name}-ingress`,
      {
        metadata: {
          name: "dashboards",
          namespace: o.namespace,
          labels,
          annotations: {
            ...(props.ingressGroupAnnotations ?? {}),
            "alb.ingress.kubernetes.io/group.name": props.ingressGroupName,
            "alb.ingress.kubernetes.io/group.order": String(p.ingressOrder),
            "alb.ingress.kubernetes.io/target-type": "ip",
            // Forwarded by the proxy (it has no route of its own): 200 from OpenSearch proves the
            // whole path (proxy up, role assumed, request signed, domain reachable).
            "alb.ingress.kubernetes.io/healthcheck-path": ALB_HEALTH_PATH,
            "alb.ingress.kubernetes.io/success-codes": "200",
            // The bare host opens Dashboards (OpenSearch serves it under /_dashboards).
            [`alb.ingress.kubernetes.io/actions.${rootRedirect}`]: JSON.stringify({
              type: "redirect",
              redirectConfig: { path: "/_dashboards/", statusCode: "HTTP_302" },
            }),
            // A rule condition, not `inbound-cidrs` (which applies to the whole group's listener).
            [`alb.ingress.kubernetes.io/conditions.${rootRedirect}`]: sourceIp,
            [`alb.ingress.kubernetes.io/conditions.${SERVICE_NAME}`]: sourceIp,
          },
        },
        spec: {
          ingressClassName: "alb",
          rules: [
            {
              host: props.host,
              http: {
                paths: [
                  { path: "/", pathType: "Exact", backend: { service: { name: rootRedirect, port: { name: "use-annotation" } } } },
                  { path: "/", pathType: "Prefix", backend: { service: { name: service.metadata.name, port: { name: "http" } } } },
                ],
              },
            },
          ],
        },
      },
      k8sOpts,
    );
  }

  /** Reads of the domain, and writes only of Dashboards' own saved objects. */
  private readPolicy(domainArn: pulumi.Input<string>): pulumi.Output<string> {
    return aws.iam.getPolicyDocumentOutput(
      {
        statements: [
          {
            sid: "ReadIndices",
            // Searches are POSTs; no PUT or DELETE outside Dashboards' own saved objects.
            actions: ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost"],
            resources: [domainArn, pulumi.interpolate`${domainArn}/*`],
          },
          {
            sid: "DashboardsSavedObjects",
            // Index patterns, saved searches and visualisations.
            actions: ["es:ESHttpPut", "es:ESHttpDelete", "es:ESHttpPatch"],
            resources: [pulumi.interpolate`${domainArn}/_dashboards/*`, pulumi.interpolate`${domainArn}/.kibana*`],
          },
        ],
      },
      { parent: this },
    ).json;
  }
}
