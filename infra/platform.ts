/**
 * The program as a function of validated config: `buildPlatform` declares every component of a
 * stack through the per-area wiring in ./wiring and returns the stack outputs. It reads nothing
 * but its arguments (no Pulumi config, no module state), so `infra/index.ts`, the offline
 * evaluator and the tests call the same function, as often as they like in one process.
 */
import * as pulumi from "@pulumi/pulumi";
import type { PlatformSecrets } from "./config/load";
import type { PlatformConfig, ReleaseRecord } from "./config/schema";
import { stackHosts } from "./lib/hosts";
import { appUsersSql, serviceDbUser } from "./lib/mariadb";
import type { Environment } from "./domain";
import type { ServiceOutput } from "./outputs";
import { awsProvider } from "./providers";
import { wireApi } from "./wiring/api";
import { wireApps } from "./wiring/apps";
import { wireCi } from "./wiring/ci";
import { wireCluster } from "./wiring/cluster";
import { wireTestHost } from "./wiring/compute";
import type { Wiring } from "./wiring/context";
import { wireData } from "./wiring/data";
import { wireEdge, wireWebAcl } from "./wiring/edge";
import { wireGitOps } from "./wiring/gitops";
import { wireNetwork } from "./wiring/network";
import { wireObservability } from "./wiring/observability";
import { serviceOutputs } from "./wiring/serviceOutputs";
import { wireImages } from "./wiring/registry";

type Out<T> = pulumi.Output<T> | undefined;

/**
 * The stack outputs. Groups are by concern; a group's fields are undefined where the stack lacks
 * the feature (a top-level undefined output would only produce a warning on every run).
 */
export interface PlatformOutputs {
  readonly environment: Environment;
  readonly url: pulumi.Input<string>;
  readonly hosts: { readonly live: string; readonly preview?: string };
  /** The blue/green state the automation driver reads, per the output contract (`infra/outputs.ts`). */
  readonly services: pulumi.Output<ServiceOutput[]>;
  /** The promotion record (`platform:releases`), so `pulumi stack output` shows what was verified here. */
  readonly releases: Readonly<Record<string, ReleaseRecord>>;
  readonly network: { readonly vpcId: pulumi.Output<string>; readonly publicSubnetIds: pulumi.Output<string[]>; readonly privateSubnetIds: pulumi.Output<string[]> };
  readonly registry: { readonly repositoryUrls: pulumi.Output<Record<string, string>>; readonly imagesBucket: Out<string> };
  readonly database: {
    readonly endpoint: Out<string>;
    readonly name: Out<string>;
    readonly masterSecretArn: Out<string>;
    /** Run once as the master user (through the bastion tunnel): the services' IAM-authenticated users. */
    readonly appUsersSql: string | undefined;
    readonly bastionAsgName: Out<string>;
    readonly tunnelCommand: Out<string>;
  };
  readonly cluster: { readonly name: Out<string>; readonly kubeconfig: Out<string>; readonly nodeGroupNames: Out<string[]> };
  readonly edge: {
    readonly albDnsName: Out<string>;
    readonly accessLogBucket: Out<string>;
    readonly certificateArn: Out<string>;
    readonly webAclArn: Out<string>;
    readonly testHostInstanceId: Out<string>;
    readonly apiUrl: Out<string>;
  };
  readonly observability: {
    readonly efsFileSystemId: Out<string>;
    readonly grafanaPortForwardCommand: Out<string>;
    readonly grafanaAdminSecret: Out<string>;
    readonly prometheusUrl: string | undefined;
    readonly opensearchEndpoint: Out<string>;
    readonly logDashboardsUrl: string | undefined;
  };
  readonly gitops: { readonly argocdUrl: pulumi.Input<string> | undefined; readonly argocdAdminPassword: Out<string> };
  /** The CI runners (CodeBuild projects the workflows' `runs-on` labels name) and their roles. */
  readonly ci: {
    readonly deployProject: Out<string>;
    readonly deployRoleArn: Out<string>;
    readonly previewProject: Out<string>;
    readonly previewRoleArn: Out<string>;
  };
}

/** Declares the stack described by `cfg` (validated by `loadConfig`) and returns its outputs. */
export function buildPlatform(cfg: PlatformConfig, secrets: PlatformSecrets): PlatformOutputs {
  const env = cfg.environment;
  const w: Wiring = { cfg, env, prod: env === "prod", opts: { providers: { aws: awsProvider(cfg) } }, hosts: stackHosts(env, cfg.domain) };

  const network = wireNetwork(w);
  const images = wireImages(w);
  const { database, bastion } = wireData(w, network);
  const cluster = wireCluster(w, network, database);
  const waf = wireWebAcl(w);
  const edge = wireEdge(w, network, cluster, waf);
  const testHost = wireTestHost(w, network, { database, images: images.bucket, waf });
  const services = wireApps(w, cluster, { database, images: images.bucket, edge });
  const argocd = wireGitOps(w, cluster, edge);
  const observability = wireObservability(w, cluster, { network, edge, discordWebhookUrl: secrets.discordWebhookUrl });
  // Alias records and the health check, once every Ingress of the group is declared.
  const alb = edge?.publish([
    ...services.map((b) => b.ingress),
    ...(argocd?.ingress !== undefined ? [argocd.ingress] : []),
    ...observability.ingresses,
  ]);
  const api = wireApi(w);
  const runners = wireCi(w, network, cluster);

  const hosts = w.hosts;
  return {
    environment: env,
    url: testHost?.url ?? `https://${hosts.live}`,
    hosts: { live: hosts.live, ...(cluster !== undefined ? { preview: hosts.preview } : {}) },
    services: serviceOutputs(w, services),
    releases: cfg.releases,
    network: { vpcId: network.vpcId, publicSubnetIds: network.publicSubnetIds, privateSubnetIds: network.privateSubnetIds },
    registry: { repositoryUrls: images.registry.repositoryUrls, imagesBucket: images.bucket?.bucketName },
    database: {
      endpoint: database?.endpoint,
      name: database?.databaseName,
      masterSecretArn: database?.masterUserSecretArn,
      appUsersSql: database !== undefined && cluster !== undefined ? appUsersSql(cfg.database.databaseName, cfg.services.map((s) => serviceDbUser(s.name))) : undefined,
      bastionAsgName: bastion?.asgName,
      tunnelCommand: bastion?.databaseTunnelCommand,
    },
    cluster: { name: cluster?.name, kubeconfig: cluster?.kubeconfig, nodeGroupNames: cluster?.nodeGroupNames },
    edge: {
      albDnsName: alb?.dnsName,
      accessLogBucket: edge?.accessLogBucket,
      certificateArn: edge?.certificateArn,
      webAclArn: waf?.arn,
      testHostInstanceId: testHost?.instanceId,
      apiUrl: api?.url,
    },
    observability: {
      efsFileSystemId: observability.efsFileSystemId,
      grafanaPortForwardCommand: observability.grafanaPortForwardCommand,
      grafanaAdminSecret: observability.grafanaAdminSecret,
      prometheusUrl: observability.prometheusUrl,
      opensearchEndpoint: observability.opensearchEndpoint,
      logDashboardsUrl: observability.logDashboardsUrl,
    },
    gitops: { argocdUrl: argocd?.url, argocdAdminPassword: argocd?.adminPassword },
    ci: {
      deployProject: runners?.deploy.projectName,
      deployRoleArn: runners?.deploy.roleArn,
      previewProject: runners?.preview.projectName,
      previewRoleArn: runners?.preview.roleArn,
    },
  };
}
