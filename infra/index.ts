/**
 * Composition root: reads the validated stack config and wires the components. No resource
 * logic lives here; see each component for what it declares and why.
 */
import * as pulumi from "@pulumi/pulumi";
import { ArgoCd } from "./addons/argocd";
import { AwsLoadBalancerController } from "./addons/awsLoadBalancerController";
import { ClusterAutoscaler } from "./addons/clusterAutoscaler";
import { MetricsServer } from "./addons/metricsServer";
import { FunctionApi } from "./api/functionApi";
import { AppNamespace, APPS_NAMESPACE } from "./apps/appNamespace";
import { BlueGreenService } from "./apps/blueGreenService";
import { Bastion } from "./compute/bastion";
import { SessionPreferences } from "./compute/sessionPreferences";
import { loadConfig, loadSecrets } from "./config/load";
import { Certificate } from "./edge/certificate";
import { Cluster } from "./cluster/cluster";
import { Database } from "./data/database";
import { Edge } from "./edge/edge";
import { ingressOrder } from "./lib/bluegreen";
import { healthUrl, stackHosts } from "./lib/hosts";
import { Network } from "./network/network";
import type { ServiceOutput } from "./outputs";
import { declareObservability } from "./observability";
import { awsProvider, platformTags } from "./providers";
import { DockerHubCache } from "./registry/dockerHubCache";
import { Registry } from "./registry/registry";
import { ImageBucket } from "./storage/imageBucket";
import { TestHost } from "./compute/testHost";
import { ecrRepositoryArnsForImages } from "./lib/ecr";
import { DOCKER_HUB_CACHE_PREFIX } from "./lib/images";
import { appUsersSql, SERVICE_DATABASE_ENV, serviceDatabaseEnv, serviceDbUser } from "./lib/mariadb";
import { WebAcl } from "./edge/webAcl";

const cfg = loadConfig();
const secrets = loadSecrets();
const aws = awsProvider(cfg);
const opts = { providers: { aws } };
const env = cfg.environment;
const prod = env === "prod";

const network = new Network(
  env,
  {
    cidr: cfg.network.cidr,
    availabilityZones: cfg.availabilityZones,
    privateSubnets: cfg.network.privateSubnets,
    natGateways: cfg.network.natGateways,
    subnetPrefix: cfg.network.subnetPrefix,
    publicSubnetCidrs: cfg.network.publicSubnetCidrs,
    privateSubnetCidrs: cfg.network.privateSubnetCidrs,
    flowLogRetentionDays: cfg.logRetentionDays,
    vpcEndpoints: cfg.network.vpcEndpoints,
  },
  opts,
);

// Named "registry" in every stack, so the repositories' logical names do not depend on which
// stack owns them (moving ownership is then an import, not a rename).
const registry = new Registry(
  "registry",
  { repositories: cfg.services.map((s) => s.name), owner: cfg.registry.owner, keepImages: cfg.registry.keepImages },
  opts,
);

// The account's Docker Hub pull-through cache rule, declared by exactly one stack.
if (cfg.registry.dockerHubCache?.createRule === true) {
  new DockerHubCache(`${env}-docker-hub-cache`, { credentialArn: cfg.registry.dockerHubCache.credentialArn }, opts);
}

const images = cfg.imagesBucket.enabled
  ? new ImageBucket(env, { versioning: cfg.imagesBucket.versioning, forceDestroy: cfg.imagesBucket.forceDestroy }, opts)
  : undefined;

const database = cfg.database.enabled
  ? new Database(
      `${env}-db`,
      {
        vpcId: network.vpcId,
        subnetIds: cfg.network.privateSubnets ? network.privateSubnetIds : network.publicSubnetIds,
        engineVersion: cfg.database.engineVersion,
        instanceClass: cfg.database.instanceClass,
        allocatedStorageGb: cfg.database.allocatedStorageGb,
        maxAllocatedStorageGb: cfg.database.maxAllocatedStorageGb,
        multiAz: cfg.database.multiAz,
        backupRetentionDays: cfg.database.backupRetentionDays,
        deletionProtection: cfg.database.deletionProtection,
        databaseName: cfg.database.databaseName,
        masterUsername: cfg.database.masterUsername,
        logRetentionDays: cfg.logRetentionDays,
        protect: prod,
        finalSnapshot: prod,
        applyImmediately: !prod,
      },
      opts,
    )
  : undefined;

// Account- and region-wide: Session Manager reads one preferences document (see the component).
const sessionPreferences =
  cfg.bastion.enabled && cfg.bastion.sessionLogging
    ? new SessionPreferences(`${env}-ssm-sessions`, { logRetentionDays: cfg.logRetentionDays }, opts)
    : undefined;

const bastion = cfg.bastion.enabled
  ? new Bastion(
      `${env}-bastion`,
      {
        vpcId: network.vpcId,
        subnetIds: network.privateSubnetIds,
        vpcCidr: network.cidr,
        instanceType: cfg.bastion.instanceType,
        minSize: cfg.bastion.minSize,
        maxSize: cfg.bastion.maxSize,
        databaseAddress: database?.address,
        tags: platformTags(cfg),
        sessionLogGroupArn: sessionPreferences?.logGroupArn,
      },
      opts,
    )
  : undefined;
if (bastion !== undefined) {
  database?.allowFrom("bastion", bastion.securityGroupId);
}

const cluster = cfg.cluster.enabled
  ? new Cluster(
      env,
      {
        // The physical name is part of tag keys and IAM conditions; never change it afterwards.
        clusterName: `${pulumi.getProject()}-${env}`,
        vpcId: network.vpcId,
        privateSubnetIds: network.privateSubnetIds,
        publicSubnetIds: network.publicSubnetIds,
        version: cfg.cluster.version,
        supportType: cfg.cluster.supportType,
        publicAccessCidrs: cfg.cluster.publicAccessCidrs,
        adminRoleArns: cfg.cluster.adminRoleArns,
        deployerRoleArn: cfg.cluster.deployerRoleArn,
        nodeGroups: cfg.cluster.nodeGroups,
        logRetentionDays: cfg.logRetentionDays,
        instanceTags: platformTags(cfg),
        deletionProtection: prod,
        pullThroughCachePrefixes: cfg.registry.dockerHubCache !== undefined ? [DOCKER_HUB_CACHE_PREFIX] : undefined,
      },
      opts,
    )
  : undefined;
if (cluster !== undefined) {
  database?.allowFrom("eks-nodes", cluster.clusterSecurityGroupId);
  if (cfg.cluster.autoscaler.enabled) {
    new ClusterAutoscaler(`${env}-cluster-autoscaler`, { cluster, region: cfg.region }, opts);
  }
  if (cfg.cluster.metricsServer.enabled) {
    new MetricsServer(`${env}-metrics-server`, { cluster }, opts);
  }
}

const hosts = stackHosts(env, cfg.domain);

// One web ACL per stack, for whichever ALB the stack has (the EKS IngressGroup's or the test host's).
const waf = cfg.waf.enabled
  ? new WebAcl(`${env}-waf`, { rateLimitPer5Min: cfg.waf.rateLimitPer5Min, logRetentionDays: cfg.logRetentionDays }, opts)
  : undefined;

// The EKS edge: load balancer controller, certificate, access logs and the group's ALB settings.
// Declared before the services, whose Ingresses spread `edge.ingressGroupAnnotations`.
const argocdExposed = cluster !== undefined && cfg.argocd.enabled && cfg.argocd.exposed;
const argocdHost = `argocd.${hosts.live}`;
let edge: Edge | undefined;
if (cluster !== undefined) {
  const lbc = new AwsLoadBalancerController(
    `${env}-aws-load-balancer-controller`,
    { cluster, region: cfg.region, vpcId: network.vpcId, tags: { ...platformTags(cfg), ManagedBy: "aws-load-balancer-controller" } },
    opts,
  );
  const first = cfg.services[0];
  edge = new Edge(
    env,
    {
      domain: cfg.domain,
      hosts,
      extraHosts: argocdExposed ? [argocdHost] : [],
      clusterName: cluster.clusterName,
      groupName: env,
      controller: lbc.release,
      webAclArn: waf?.arn,
      deletionProtection: cfg.edge.deletionProtection,
      idleTimeoutSeconds: cfg.edge.idleTimeoutSeconds,
      accessLogExpirationDays: cfg.edge.accessLogExpirationDays,
      accessLogVersioning: prod,
      healthCheck:
        // The live host forwards the path unchanged to the service config validated it routes to.
        cfg.edge.healthCheck && first !== undefined ? { path: first.healthPath, notifyEmails: cfg.edge.alarmEmails } : undefined,
    },
    opts,
  );
}

let testHost: TestHost | undefined;
if (cfg.testHost.enabled) {
  const testHostServices = cfg.services.map((s) => ({
    name: s.name,
    port: s.port,
    healthPath: s.healthPath,
    paths: s.paths,
    // The test environment has no blue/green: it runs the active color's image (validated to exist).
    image: s[s.active].image ?? "",
    env: s.env,
    imageBucketAccess: s.imageBucketAccess,
  }));
  const certificate = new Certificate(`${env}-edge`, { domain: cfg.domain, hosts: [hosts.live] }, opts);
  testHost = new TestHost(
    `${env}-host`,
    {
      vpcId: network.vpcId,
      publicSubnetIds: network.publicSubnetIds,
      vpcCidr: network.cidr,
      instanceType: cfg.testHost.instanceType,
      rootVolumeGb: cfg.testHost.rootVolumeGb,
      hostname: hosts.live,
      certificateArn: certificate.certificateArn,
      zoneId: certificate.zoneId,
      services: testHostServices,
      database:
        database !== undefined
          ? { endpoint: database.endpoint, secretArn: database.masterUserSecretArn, name: cfg.database.databaseName, secretKmsKeyArn: database.kmsKeyArn }
          : undefined,
      imageBucket: images !== undefined ? { name: images.bucketName, arn: images.bucketArn, kmsKeyArn: images.kmsKeyArn } : undefined,
      logRetentionDays: cfg.logRetentionDays,
      webAclArn: waf?.arn,
      // Pull rights for exactly the repositories the host runs.
      ecrRepositoryArns: ecrRepositoryArnsForImages(testHostServices.map((s) => s.image)),
    },
    opts,
  );
  database?.allowFrom("test-host", testHost.securityGroupId);
}

const blueGreen: BlueGreenService[] = [];
if (cluster !== undefined) {
  const appsNamespace = new AppNamespace("apps", { name: APPS_NAMESPACE }, { ...opts, provider: cluster.provider });
  // Validated in config (interleaving prefixes are rejected there), so an order always exists.
  const routed = ingressOrder(cfg.services);
  const order = "order" in routed ? routed.order : new Map<string, number>();
  for (const svc of cfg.services) {
    const groupName = svc.nodeGroup ?? cfg.cluster.nodeGroups[0].name;
    const group = cfg.cluster.nodeGroups.find((g) => g.name === groupName) ?? cfg.cluster.nodeGroups[0];
    const policies: Record<string, pulumi.Output<string>> = {};
    const dbUser = serviceDbUser(svc.name);
    if (database !== undefined) {
      // The service's own database user through IAM authentication, not the master secret: RDS
      // rotates that every 7 days while pods read it at start, and it can do anything.
      policies["db-connect"] = database.connectPolicy(dbUser);
    }
    if (images !== undefined && svc.imageBucketAccess) {
      policies["images"] = images.readWritePolicy();
    }
    const serviceEnv: Record<string, pulumi.Input<string>> = { SERVICE_NAME: svc.name, AWS_REGION: cfg.region };
    if (database !== undefined) {
      const dbEnv = pulumi
        .all([database.address, database.port, database.databaseName])
        .apply(([host, port, name]) => serviceDatabaseEnv({ host, port, database: name, user: dbUser }));
      for (const key of SERVICE_DATABASE_ENV) {
        serviceEnv[key] = dbEnv.apply((e) => e[key] ?? "");
      }
    }
    if (images !== undefined && svc.imageBucketAccess) {
      serviceEnv["IMAGE_BUCKET"] = images.bucketName;
    }
    blueGreen.push(
      new BlueGreenService(
        svc.name,
        {
          service: svc,
          namespace: appsNamespace,
          liveHost: hosts.live,
          previewHost: hosts.preview,
          ingressGroupName: env,
          ingressOrder: order.get(svc.name) ?? 1000,
          ingressGroupAnnotations: edge?.ingressGroupAnnotations ?? {},
          nodeGroup: { name: group.name, taints: group.taints },
          aws: Object.keys(policies).length > 0 ? { oidcProviderArn: cluster.oidcProviderArn, oidcProviderUrl: cluster.oidcProviderUrl, policies } : undefined,
          env: serviceEnv,
        },
        { ...opts, provider: cluster.provider },
      ),
    );
  }
}

const argocd =
  cluster !== undefined && cfg.argocd.enabled
    ? new ArgoCd(
        `${env}-argocd`,
        {
          provider: cluster.provider,
          highAvailability: cfg.argocd.highAvailability,
          applications: cfg.argocd.applications,
          serviceNames: cfg.services.map((s) => s.name),
          expose:
            argocdExposed && edge !== undefined
              ? { host: argocdHost, allowedCidrs: cfg.argocd.allowedCidrs, ingressGroupName: env, ingressGroupAnnotations: edge.ingressGroupAnnotations }
              : undefined,
        },
        opts,
      )
    : undefined;

const observability = declareObservability(
  {
    cfg,
    cluster,
    vpcId: network.vpcId,
    privateSubnetIds: network.privateSubnetIds,
    discordWebhookUrl: secrets.discordWebhookUrl,
    ingress:
      edge === undefined
        ? undefined
        : { groupName: edge.groupName, groupAnnotations: edge.ingressGroupAnnotations, monitoringHost: hosts.monitoring, logHost: hosts.logs },
  },
  opts,
);

// Alias records and the health check, once every Ingress of the group is declared.
const alb = edge?.publish([
  ...blueGreen.map((b) => b.ingress),
  ...(argocd?.ingress !== undefined ? [argocd.ingress] : []),
  ...observability.ingresses,
]);

const lottery = cfg.api.enabled
  ? new FunctionApi(
      env,
      {
        memoryMb: cfg.api.memoryMb,
        timeoutSeconds: cfg.api.timeoutSeconds,
        throttleRateLimit: cfg.api.throttleRateLimit,
        throttleBurstLimit: cfg.api.throttleBurstLimit,
        logRetentionDays: cfg.logRetentionDays,
      },
      opts,
    )
  : undefined;

// Outputs are grouped by concern; a group's fields are undefined where the stack lacks the
// feature (a top-level undefined output would only produce a warning on every run).
export const environment = env;
export const url = testHost?.url ?? `https://${hosts.live}`;
const hostNames = { live: hosts.live, ...(cluster !== undefined ? { preview: hosts.preview } : {}) };
/** The blue/green state the automation driver reads, per the output contract (`infra/outputs.ts`). */
export const services: ServiceOutput[] = cfg.services.map((s) => ({
  name: s.name,
  active: s.active,
  // `parked` only when set, so the output of a stack that never parks stays as it was.
  blue: { image: s.blue.image, ...(s.blue.parked === true ? { parked: true } : {}) },
  green: { image: s.green.image, ...(s.green.parked === true ? { parked: true } : {}) },
  healthPath: s.healthPath,
  ...(cluster !== undefined ? { namespace: APPS_NAMESPACE, previewHealthUrl: healthUrl(hosts.preview, s) } : {}),
  liveHealthUrl: healthUrl(hosts.live, s),
}));
/** The promotion record (`platform:releases`), so `pulumi stack output` shows what was verified here. */
export const releases = cfg.releases;
const networkInfo = { vpcId: network.vpcId, publicSubnetIds: network.publicSubnetIds, privateSubnetIds: network.privateSubnetIds };
const registryInfo = { repositoryUrls: registry.repositoryUrls, imagesBucket: images?.bucketName };
const databaseInfo = {
  endpoint: database?.endpoint,
  name: database?.databaseName,
  masterSecretArn: database?.masterUserSecretArn,
  /** Run once as the master user (through the bastion tunnel): the services' IAM-authenticated users. */
  appUsersSql: database !== undefined && cluster !== undefined ? appUsersSql(cfg.database.databaseName, cfg.services.map((s) => serviceDbUser(s.name))) : undefined,
  bastionAsgName: bastion?.asgName,
  tunnelCommand: bastion?.databaseTunnelCommand,
};
const clusterInfo = { name: cluster?.name, kubeconfig: cluster?.kubeconfig, nodeGroupNames: cluster?.nodeGroupNames };
const edgeInfo = {
  albDnsName: alb?.dnsName,
  accessLogBucket: edge?.accessLogBucket,
  certificateArn: edge?.certificateArn,
  webAclArn: waf?.arn,
  testHostInstanceId: testHost?.instanceId,
  apiUrl: lottery?.url,
};
const observabilityInfo = {
  efsFileSystemId: observability.efsFileSystemId,
  grafanaPortForwardCommand: observability.grafanaPortForwardCommand,
  grafanaAdminSecret: observability.grafanaAdminSecret,
  prometheusUrl: observability.prometheusUrl,
  opensearchEndpoint: observability.opensearchEndpoint,
  logDashboardsUrl: observability.logDashboardsUrl,
};
export const gitops = { argocdUrl: argocd?.url, argocdAdminPassword: argocd?.adminPassword };
export {
  hostNames as hosts,
  networkInfo as network,
  registryInfo as registry,
  databaseInfo as database,
  clusterInfo as cluster,
  edgeInfo as edge,
  observabilityInfo as observability,
};
