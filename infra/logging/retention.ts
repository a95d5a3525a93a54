import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ResourceRequirements } from "../addons/clusterAutoscaler";
import type { Cluster } from "../cluster/cluster";
import type { IrsaRole } from "../iam/irsaRole";
import { withDefaults } from "../lib/defaults";
import { contentHash, indexPattern, IsmPolicyDocument, retentionPolicy, retentionPolicyId } from "../lib/ism";
import { podSecurityLabels } from "../lib/podSecurity";
import type { ImageProbeFacts } from "../lib/probes";
import { checkedFor } from "../resourceError";
import { defaults as dashboardsDefaults, PROXY_PORT } from "./dashboards";

/**
 * What the Job's main container runs (POSIX sh and curl; `test/retention.test.ts` runs it
 * against a local fake of the ISM API). From the environment: `ISM_URL` (the ISM API through
 * the signing proxy), `POLICY_ID`, `POLICY` (the document) and `INDEX_PATTERN`.
 *
 * 1. GET the policy. ISM refuses to overwrite an existing policy without the `_seq_no` and
 *    `_primary_term` it was read at, so an update passes both (optimistic concurrency: when
 *    someone else wrote in between, the PUT gets 409, the pod fails and the Job's next attempt
 *    starts from a fresh GET). A 404 means a first run: plain PUT.
 * 2. Attach the policy to the indices that already exist: `ism_template` only catches indices
 *    created after the policy, and those written before retention existed are the ones filling
 *    the disk. Indices that already have a policy are reported and left alone.
 * 3. Move the indices still in `hot` onto the new version: ISM keeps running an index on the
 *    policy version it was attached with, so without this a changed retention would only apply
 *    to indices created from now on.
 */
export const ISM_APPLY_SCRIPT = `set -eu
response="\${TMPDIR:-/tmp}/ism-response"
# Sets $status to the HTTP status; the body is in $response. Transient failures (connection
# refused while the proxy starts, 5xx, 429) are retried by curl; anything else is the caller's.
call() {
  method=$1
  url=$2
  shift 2
  status=$(curl --silent --show-error --output "$response" --write-out '%{http_code}' \\
    --connect-timeout 5 --max-time 60 --retry 5 --retry-connrefused --retry-delay 2 \\
    --request "$method" --header 'Content-Type: application/json' "$@" "$url")
}
fail() {
  echo "$1" >&2
  cat "$response" >&2 2>/dev/null || true
  echo >&2
  exit 1
}
# The first number a top-level field of the answer holds (the ISM API answers compact JSON).
number() {
  sed -n "s/.*\\"$1\\"[[:space:]]*:[[:space:]]*\\([0-9][0-9]*\\).*/\\1/p" "$response" | head -n 1
}

policy_url="$ISM_URL/policies/$POLICY_ID"
call GET "$policy_url"
case "$status" in
  200)
    seq_no=$(number _seq_no)
    primary_term=$(number _primary_term)
    if [ -z "$seq_no" ] || [ -z "$primary_term" ]; then
      fail "GET $policy_url: no _seq_no and _primary_term in the answer"
    fi
    put_url="$policy_url?if_seq_no=$seq_no&if_primary_term=$primary_term"
    done_what="updated (was at _seq_no $seq_no, _primary_term $primary_term)"
    ;;
  404)
    put_url="$policy_url"
    done_what="created"
    ;;
  *)
    fail "GET $policy_url answered HTTP $status"
    ;;
esac
call PUT "$put_url" --data-binary "$POLICY"
case "$status" in
  200 | 201) echo "ISM policy $POLICY_ID $done_what" ;;
  *) fail "PUT $put_url answered HTTP $status" ;;
esac

for step in add change_policy; do
  if [ "$step" = add ]; then
    body="{\\"policy_id\\":\\"$POLICY_ID\\"}"
  else
    body="{\\"policy_id\\":\\"$POLICY_ID\\",\\"include\\":[{\\"state\\":\\"hot\\"}]}"
  fi
  call POST "$ISM_URL/$step/$INDEX_PATTERN" --data-binary "$body"
  case "$status" in
    200) echo "$step $INDEX_PATTERN: $(cat "$response")" ;;
    404) echo "$step $INDEX_PATTERN: no index matches yet" ;;
    *) fail "POST $ISM_URL/$step/$INDEX_PATTERN answered HTTP $status" ;;
  esac
done
`;

export interface LogRetentionProps {
  /** The cluster to run on (k8s provider, OIDC provider for IRSA). */
  readonly cluster: Cluster;
  readonly region: string;
  /** OpenSearch domain endpoint without scheme (`LogStore.endpoint`). */
  readonly opensearchEndpoint: pulumi.Input<string>;
  /** OpenSearch domain ARN (`LogStore.domainArn`): the IRSA role may use this domain's ISM API only. */
  readonly opensearchDomainArn: pulumi.Input<string>;
  /** Days after its creation an index is deleted. */
  readonly retentionDays: number;
  /** Index name prefix Fluentd writes; it must be Fluentd's, or no index is ever managed. Default: `logs`. */
  readonly indexPrefix?: string;
  /** Namespace. Default: `log-retention` (restricted; Fluentd's `logging` namespace is privileged). */
  readonly namespace?: string;
  /** Image of the container that calls the ISM API (needs sh, sed and curl 7.76+). Default: `defaults.image`. */
  readonly image?: string;
  /** Image of the signing sidecar. Default: the Dashboards proxy's image. */
  readonly proxyImage?: string;
  /** Resources of each of the two containers. Default: `defaults.resources`. */
  readonly resources?: ResourceRequirements;
}

export const defaults = {
  // The official curl image (Alpine: busybox sh and sed). Pinned to a release tag, never moved
  // by its publisher: bump it explicitly.
  // From quay.io, not Docker Hub (anonymous pulls are rate-limited per NAT address): the curl
  // project's release workflow pushes the same manifest to docker.io/curlimages/curl and
  // quay.io/curl/curl (curl/curl-container .github/workflows/build_latest_release_multi.yml as of 8.11.1).
  image: "quay.io/curl/curl:8.11.1",
  // Not a server: it runs the script and exits, and no probe is vetted for it.
  imageFacts: { tcpPorts: [], http: [], exec: [], source: "quay.io/curl/curl 8.11.1: the Job's one-shot main container, no listener" } satisfies ImageProbeFacts,
  // Same image as Dashboards' proxy, so the same facts (`dashboards.ts` defaults.imageFacts).
  proxyImage: dashboardsDefaults.image,
  namespace: "log-retention",
  indexPrefix: "logs",
  serviceAccountName: "ism-policy",
  resources: {
    requests: { cpu: "10m", memory: "32Mi" },
    limits: { cpu: "200m", memory: "128Mi" },
  } satisfies ResourceRequirements,
};

/** What the retention Job's pods are built from. */
interface JobParams {
  readonly p: typeof defaults & LogRetentionProps;
  readonly region: string;
  readonly labels: Record<string, string>;
  readonly policyId: string;
  readonly pattern: string;
  readonly policy: IsmPolicyDocument;
}

const containerSecurity = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};

/** The Job's pod: the SigV4 proxy as a native sidecar, and curl applying the policy through it. */
function jobPodTemplate({ p, region, labels, policyId, pattern, policy }: JobParams, endpoint: string): k8s.types.input.core.v1.PodTemplateSpec {
  return {
    metadata: { labels },
    spec: {
      serviceAccountName: p.serviceAccountName,
      restartPolicy: "Never",
      securityContext: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, fsGroup: 65534, seccompProfile: { type: "RuntimeDefault" } },
      initContainers: [
        {
          name: "sigv4-proxy",
          image: p.proxyImage,
          // A native sidecar: it starts before the main container, keeps running beside it,
          // and is stopped once the main container has finished, so the Job can complete.
          restartPolicy: "Always",
          args: ["--name", "es", "--region", region, "--host", endpoint],
          ports: [{ name: "http", containerPort: PROXY_PORT, protocol: "TCP" }],
          // The main container starts once the proxy listens. TCP, because the proxy has no
          // health route: an HTTP probe would be signed and forwarded to OpenSearch, where this
          // role may only read its own policy (`defaults.imageFacts` of dashboards.ts).
          startupProbe: { tcpSocket: { port: PROXY_PORT }, periodSeconds: 1, failureThreshold: 30 },
          resources: p.resources,
          securityContext: containerSecurity,
        },
      ],
      containers: [
        {
          name: "apply",
          image: p.image,
          command: ["/bin/sh", "-c", ISM_APPLY_SCRIPT],
          env: [
            { name: "ISM_URL", value: `http://127.0.0.1:${PROXY_PORT}/_plugins/_ism` },
            { name: "POLICY_ID", value: policyId },
            { name: "INDEX_PATTERN", value: pattern },
            { name: "POLICY", value: JSON.stringify(policy) },
          ],
          resources: p.resources,
          securityContext: containerSecurity,
          volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
        },
      ],
      volumes: [{ name: "tmp", emptyDir: { sizeLimit: "16Mi" } }],
    },
  };
}

/**
 * Index retention on the log domain: a Kubernetes Job that stores the ISM retention policy
 * (`infra/lib/ism.ts`) on the domain and attaches it to the existing indices.
 *
 * Why from inside the cluster: the domain lives in private subnets and answers the cluster nodes
 * only, so neither CI nor the Pulumi engine can reach it. Why a Job and not a reconciling
 * CronJob: the policy's `ism_template` attaches every new daily index by itself, so the policy
 * only has to be written when it changes. The Job's name carries a hash of its pod template
 * (policy, endpoint, images, script), so any change makes Pulumi replace it and the new Job
 * runs, and `pulumi up` waits for it and fails when it fails, where a failing CronJob would
 * only be noticed later. The cost: a policy deleted by hand on the domain comes back with the
 * next change, not by itself.
 *
 * Signing: a native sidecar (an init container that keeps running) with the same SigV4 proxy
 * image as Dashboards, so the script speaks plain HTTP to localhost. It has its own IRSA role
 * instead of going through the Dashboards proxy Service: that role reads every index and is
 * shared with whoever reaches Dashboards, exists only where Dashboards is exposed, and any pod
 * of the cluster can call its Service. This role may GET and PUT exactly the retention policy,
 * and POST `add` and `change_policy` for the prefix's indices (steps 2 and 3 of
 * `ISM_APPLY_SCRIPT`), and nothing else.
 */
export class LogRetention extends pulumi.ComponentResource {
  readonly job: k8s.batch.v1.Job;
  readonly roleArn: pulumi.Output<string>;
  /** The policy's id on the domain. */
  readonly policyId: string;
  /** The policy document the Job PUTs. */
  readonly policy: IsmPolicyDocument;

  constructor(name: string, props: LogRetentionProps, opts?: pulumi.ComponentResourceOptions) {
    super("platform:logging:LogRetention", name, { retentionDays: props.retentionDays }, opts);

    const p = withDefaults(defaults, props);
    const cluster = props.cluster;
    const k8sOpts = { provider: cluster.provider, parent: this };
    const labels = { "app.kubernetes.io/name": "ism-policy", "app.kubernetes.io/part-of": "logging" };
    const policy: IsmPolicyDocument = checkedFor(this, () => retentionPolicy({ indexPrefix: p.indexPrefix, retentionDays: props.retentionDays }));
    const policyId = retentionPolicyId(p.indexPrefix);
    const pattern = indexPattern(p.indexPrefix);

    const namespace = new k8s.core.v1.Namespace(
      `${name}-ns`,
      { metadata: { name: p.namespace, labels: podSecurityLabels("restricted") } },
      k8sOpts,
    );

    const role = this.ismRole(name, p, props, { policyId, pattern });

    const serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-sa`,
      { metadata: { name: p.serviceAccountName, namespace: namespace.metadata.name, labels, annotations: { "eks.amazonaws.com/role-arn": role.roleArn } } },
      k8sOpts,
    );

    const rendered = pulumi.output(props.opensearchEndpoint).apply((endpoint) => {
      const template = jobPodTemplate({ p, region: props.region, labels, policyId, pattern, policy }, endpoint);
      return { template, hash: contentHash(template) };
    });

    this.job = new k8s.batch.v1.Job(
      `${name}-job`,
      {
        metadata: {
          // A Job's pod template is immutable, so a changed one needs a new Job: with a new name
          // Pulumi creates it (and it runs) before the old one is deleted.
          name: rendered.hash.apply((hash) => `${policyId}-${hash.slice(0, 10)}`),
          namespace: namespace.metadata.name,
          labels,
          annotations: {
            "platform.io/pod-template-sha256": rendered.hash,
            // A Job that failed in an earlier update is re-created (and re-run) by the next one,
            // instead of Pulumi waiting again on the failed one.
            "pulumi.com/replaceUnready": "true",
          },
        },
        spec: {
          // Each attempt is a new pod, whose log stays for inspection; the exponential back-off
          // (10s, 20s, ...) covers a new role's IAM propagation and a 409 from a concurrent write.
          backoffLimit: 4,
          // Below the provider's 10-minute wait for a Job, so a stuck run fails as
          // DeadlineExceeded on the Job rather than as a timeout of the update.
          activeDeadlineSeconds: 480,
          // No ttlSecondsAfterFinished: Pulumi owns this object, so the TTL controller deleting
          // it would turn every refresh into a diff that re-creates (and re-runs) it. The finished
          // Job and its pod stay for `kubectl logs` until the next change replaces them.
          template: rendered.template,
        },
      },
      // The role's inline policy must be attached before the first request is signed with it.
      { ...k8sOpts, dependsOn: [role, serviceAccount] },
    );

    this.roleArn = role.roleArn;
    this.policyId = policyId;
    this.policy = policy;

    this.registerOutputs({ roleArn: this.roleArn, policyId, jobName: this.job.metadata.name });
  }

  /** The Job's IRSA role: GET/PUT of its one policy, and attaching it to the prefix's indices; nothing else. */
  private ismRole(name: string, p: typeof defaults & LogRetentionProps, props: LogRetentionProps, ism: { readonly policyId: string; readonly pattern: string }): IrsaRole {
    const domainArn = props.opensearchDomainArn;
    const { policyId, pattern } = ism;
    return props.cluster.irsaRole(
      `${name}-irsa`,
      {
        namespace: p.namespace,
        serviceAccount: p.serviceAccountName,
        description: `ISM retention policy Job of EKS cluster ${props.cluster.clusterName}`,
        inlinePolicies: {
          opensearch: aws.iam.getPolicyDocumentOutput(
            {
              statements: [
                {
                  sid: "RetentionPolicy",
                  actions: ["es:ESHttpGet", "es:ESHttpPut"],
                  resources: [pulumi.interpolate`${domainArn}/_plugins/_ism/policies/${policyId}`],
                },
                {
                  sid: "AttachToPrefixIndices",
                  actions: ["es:ESHttpPost"],
                  resources: [
                    pulumi.interpolate`${domainArn}/_plugins/_ism/add/${pattern}`,
                    pulumi.interpolate`${domainArn}/_plugins/_ism/change_policy/${pattern}`,
                  ],
                },
              ],
            },
            { parent: this },
          ).json,
        },
      },
      { parent: this },
    );
  }
}
