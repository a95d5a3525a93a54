/**
 * A pure model of what the AWS Load Balancer Controller v2.12.0 (Helm chart 1.12.0, the version
 * infra/addons/awsLoadBalancerController.ts pins) makes of one IngressGroup: the Ingress and
 * Service objects as the Kubernetes API server returns them in, the ALB's load balancer,
 * listeners, listener rules and target groups out, each shaped as ELBv2's Describe* calls return
 * them (the AWS SDK v3 types), with the tags the controller puts on them and deterministic ARNs.
 *
 * Every behaviour below was read in kubernetes-sigs/aws-load-balancer-controller at tag v2.12.0
 * (commit 273d2075); the comment next to each piece names the file. Paths are relative to that
 * repository. Where ELBv2 (not the controller) decides a shape, the comment says so.
 *
 * What it deliberately does not model, and refuses with an error instead of silently ignoring
 * (a fake that ignores an input encodes a belief): `conditions.<name>` annotations, authenticate
 * actions (`auth-type`), IngressClassParams, certificate discovery from ACM (HTTPS listeners need
 * an explicit `certificate-arn`). Subnets, security groups, WAF and attributes are accepted and
 * not represented (the double has no VPC).
 *
 * No I/O: the double (./double.ts) feeds it cluster state and serves its result.
 */
import { createHash } from "crypto";
import type { Action, Listener, LoadBalancer, Rule, RuleCondition, Tag, TargetGroup } from "@aws-sdk/client-elastic-load-balancing-v2";

// --- Kubernetes objects, as the API server returns them (the fields the controller reads) ----

export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
  readonly generation?: number;
  readonly creationTimestamp?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly deletionTimestamp?: string;
  readonly finalizers?: readonly string[];
}

export interface IngressServiceBackend {
  readonly name: string;
  readonly port?: { readonly name?: string; readonly number?: number };
}

export interface IngressBackend {
  readonly service?: IngressServiceBackend;
  readonly resource?: { readonly apiGroup?: string; readonly kind: string; readonly name: string };
}

export interface HTTPIngressPath {
  readonly path?: string;
  readonly pathType?: string;
  readonly backend: IngressBackend;
}

export interface IngressRule {
  readonly host?: string;
  readonly http?: { readonly paths: readonly HTTPIngressPath[] };
}

export interface IngressLoadBalancerIngress {
  readonly hostname?: string;
  readonly ip?: string;
}

export interface Ingress {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: ObjectMeta;
  readonly spec?: {
    readonly ingressClassName?: string;
    readonly defaultBackend?: IngressBackend;
    readonly rules?: readonly IngressRule[];
  };
  readonly status?: { readonly loadBalancer?: { readonly ingress?: readonly IngressLoadBalancerIngress[] } };
}

export interface ServicePort {
  readonly name?: string;
  readonly port: number;
  readonly targetPort?: number | string;
  readonly nodePort?: number;
  readonly protocol?: string;
}

export interface Service {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: ObjectMeta;
  readonly spec?: {
    readonly type?: string;
    readonly selector?: Readonly<Record<string, string>>;
    readonly ports?: readonly ServicePort[];
    readonly ipFamilies?: readonly string[];
  };
}

// --- the controller's constants ----------------------------------------------------------------

/** pkg/annotations/constants.go: AnnotationPrefixIngress. */
export const ALB_PREFIX = "alb.ingress.kubernetes.io";
/** pkg/annotations/constants.go: IngressClass (the legacy class annotation, checked before spec.ingressClassName). */
export const INGRESS_CLASS_ANNOTATION = "kubernetes.io/ingress.class";
/** pkg/deploy/tracking/provider.go: tag keys on every AWS resource the controller creates for an Ingress. */
export const CLUSTER_TAG = "elbv2.k8s.aws/cluster";
export const STACK_TAG = "ingress.k8s.aws/stack";
export const RESOURCE_TAG = "ingress.k8s.aws/resource";
/** pkg/ingress/model_build_load_balancer.go: resourceIDLoadBalancer, the LB's `ingress.k8s.aws/resource`. */
export const LOAD_BALANCER_RESOURCE_ID = "LoadBalancer";

const annotation = (suffix: string): string => `${ALB_PREFIX}/${suffix}`;

// --- inputs and outputs ------------------------------------------------------------------------

export interface ModelInput {
  /** The controller's `--cluster-name` (`elbv2.k8s.aws/cluster` tag, part of every generated name). */
  readonly clusterName: string;
  readonly region: string;
  readonly accountId: string;
  /** The explicit IngressGroup (`alb.ingress.kubernetes.io/group.name`) this ALB serves. */
  readonly groupName: string;
  /** Every Ingress the controller's cache holds (members are picked here, as the group loader does). */
  readonly ingresses: readonly Ingress[];
  /** Services the members' backends may reference. */
  readonly services: readonly Service[];
  /** The controller's `--ingress-class` (default `alb`): the class annotation or spec.ingressClassName it manages. */
  readonly ingressClass?: string;
  /** The controller's `--default-tags` (chart value `defaultTags`). */
  readonly defaultTags?: Readonly<Record<string, string>>;
  /** `--default-target-type`; pkg/config/controller_config.go default `instance`. */
  readonly defaultTargetType?: "instance" | "ip";
  /** `--default-load-balancer-scheme`; pkg/config/controller_config.go default `internal`. */
  readonly defaultScheme?: "internal" | "internet-facing";
  /** `--default-ssl-policy`; pkg/config/controller_config.go default `ELBSecurityPolicy-2016-08`. */
  readonly defaultSslPolicy?: string;
}

export interface ModelRule {
  /** As DescribeRules returns it (`Priority` "1".."n", or "default" for the listener's default rule). */
  readonly description: Rule;
  readonly tags: Tag[];
}

export interface ModelListener {
  readonly description: Listener;
  readonly tags: Tag[];
  /** Priority order; the default rule (IsDefault) last, as DescribeRules lists it. */
  readonly rules: readonly ModelRule[];
}

export interface TargetGroupBackend {
  readonly namespace: string;
  readonly ingress: string;
  readonly service: string;
  readonly servicePort: ServicePort;
}

export interface ModelTargetGroup {
  /** As DescribeTargetGroups returns it. */
  readonly description: TargetGroup;
  readonly tags: Tag[];
  /** The Service port whose ready endpoints the controller registers as targets. */
  readonly backend: TargetGroupBackend;
}

export interface AlbModel {
  readonly loadBalancer: LoadBalancer;
  readonly loadBalancerTags: Tag[];
  /** By port. */
  readonly listeners: readonly ModelListener[];
  /** By `ingress.k8s.aws/resource`. */
  readonly targetGroups: readonly ModelTargetGroup[];
  /** `namespace/name` of every member Ingress, in group order. */
  readonly members: readonly string[];
}

export type ModelResult =
  | { readonly kind: "alb"; readonly alb: AlbModel }
  /** No member: the controller deletes the group's ALB (its stack has no resources). */
  | { readonly kind: "empty" }
  /**
   * The group cannot be built. controllers/ingress/group_controller.go: a build error fails the
   * whole reconcile (Warning event `FailedBuildModel` on every member) and nothing is deployed,
   * so one invalid Ingress blocks every change to every Ingress of the group.
   */
  | { readonly kind: "error"; readonly message: string };

class ModelError extends Error {}

// --- small helpers ------------------------------------------------------------------------------

function sha256Hex(parts: readonly string[]): string {
  const h = createHash("sha256");
  for (const p of parts) {
    h.update(p);
  }
  return h.digest("hex");
}

function key(meta: ObjectMeta): string {
  return `${meta.namespace ?? ""}/${meta.name}`;
}

function annotationsOf(meta: ObjectMeta): Readonly<Record<string, string>> {
  return meta.annotations ?? {};
}

/** pkg/algorithm/maps.go MergeStringMap: earlier maps win on duplicate keys. */
function mergeStringMap(...maps: ReadonlyArray<Readonly<Record<string, string>> | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of maps) {
    for (const [k, v] of Object.entries(m ?? {})) {
      if (!(k in out)) {
        out[k] = v;
      }
    }
  }
  return out;
}

/** ELBv2 DescribeTags lists tags unordered; sorted here so every answer is deterministic. */
function toTags(map: Readonly<Record<string, string>>): Tag[] {
  return Object.keys(map)
    .sort()
    .map((k) => ({ Key: k, Value: map[k] }));
}

/** pkg/annotations/parser.go splitCommaSeparatedString. */
function splitCommaSeparated(raw: string): string[] {
  return raw
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}

/** pkg/annotations/parser.go ParseInt32Annotation: strconv.ParseInt(raw, 10, 32). */
function parseInt32Annotation(annotations: Readonly<Record<string, string>>, suffix: string): number | undefined {
  const raw = annotations[annotation(suffix)];
  if (raw === undefined) {
    return undefined;
  }
  if (!/^[+-]?\d+$/.test(raw) || Number(raw) > 2147483647 || Number(raw) < -2147483648) {
    throw new ModelError(`failed to parse int32 annotation, ${annotation(suffix)}: ${raw}`);
  }
  return Number(raw);
}

/** pkg/annotations/parser.go ParseStringMapAnnotation (`k1=v1,k2=v2`). */
function parseStringMapAnnotation(annotations: Readonly<Record<string, string>>, suffix: string): Record<string, string> | undefined {
  const raw = annotations[annotation(suffix)];
  if (raw === undefined) {
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const pair of splitCommaSeparated(raw)) {
    const at = pair.indexOf("=");
    if (at <= 0) {
      throw new ModelError(`failed to parse stringMap annotation, ${annotation(suffix)}: ${raw}`);
    }
    out[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return out;
}

// --- Go's encoding/json, as far as the action annotation needs it ------------------------------

type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
type JsonObject = { [key: string]: JsonValue };

function isObject(v: JsonValue | undefined): v is JsonObject {
  return v !== null && v !== undefined && typeof v === "object" && !Array.isArray(v);
}

/**
 * pkg/annotations/parser.go ParseJSONAnnotation decodes with Go's `encoding/json`, which matches
 * object keys to struct fields preferring an exact match but accepting a case-insensitive one.
 * So `{"Type":"forward","ForwardConfig":{"TargetGroups":[{"ServiceName":...}]}}` (the shape
 * infra/lib/bluegreen.ts forwardAction writes) decodes exactly like the documented camelCase.
 */
function field(obj: JsonObject, name: string): JsonValue | undefined {
  if (name in obj) {
    return obj[name];
  }
  const lower = name.toLowerCase();
  const k = Object.keys(obj).find((candidate) => candidate.toLowerCase() === lower);
  return k === undefined ? undefined : obj[k];
}

function typeError(value: JsonValue, path: string, goType: string): ModelError {
  const got = value === null ? "null" : Array.isArray(value) ? "array" : typeof value === "object" ? "object" : typeof value;
  return new ModelError(`json: cannot unmarshal ${got} into Go struct field ${path} of type ${goType}`);
}

function optString(obj: JsonObject, name: string, path: string): string | undefined {
  const v = field(obj, name);
  if (v === undefined || v === null) {
    return undefined;
  }
  if (typeof v !== "string") {
    throw typeError(v, `${path}.${name}`, "string");
  }
  return v;
}

function optInt32(obj: JsonObject, name: string, path: string): number | undefined {
  const v = field(obj, name);
  if (v === undefined || v === null) {
    return undefined;
  }
  if (typeof v !== "number" || !Number.isInteger(v) || v > 2147483647 || v < -2147483648) {
    throw typeError(v, `${path}.${name}`, "int32");
  }
  return v;
}

function optBool(obj: JsonObject, name: string, path: string): boolean | undefined {
  const v = field(obj, name);
  if (v === undefined || v === null) {
    return undefined;
  }
  if (typeof v !== "boolean") {
    throw typeError(v, `${path}.${name}`, "bool");
  }
  return v;
}

/** A k8s.io/apimachinery intstr.IntOrString after the controller's normalisation. */
type IntOrString = { readonly kind: "int"; readonly value: number } | { readonly kind: "string"; readonly value: string };

function intOrStringText(v: IntOrString): string {
  return v.kind === "int" ? String(v.value) : v.value;
}

/**
 * intstr.Parse: a string that parses as an integer becomes an int. pkg/ingress/
 * enhanced_backend_builder.go normalizeServicePortForBackwardsCompatibility applies it to every
 * `servicePort` of an action annotation, so `"8080"` and `8080` name the same Service port
 * (by number, not as a port *name*).
 */
function parseIntOrString(raw: string): IntOrString {
  return /^[+-]?\d+$/.test(raw) ? { kind: "int", value: Number(raw) } : { kind: "string", value: raw };
}

// --- the action annotation (pkg/ingress/config_types.go) ---------------------------------------

interface TargetGroupTuple {
  readonly targetGroupARN?: string;
  readonly serviceName?: string;
  readonly servicePort?: IntOrString;
  readonly weight?: number;
}

type AnnotationAction =
  | {
      readonly type: "forward";
      readonly targetGroups: readonly TargetGroupTuple[];
      readonly stickiness?: { readonly enabled?: boolean; readonly durationSeconds?: number };
    }
  | { readonly type: "fixed-response"; readonly statusCode: string; readonly contentType?: string; readonly messageBody?: string }
  | {
      readonly type: "redirect";
      readonly statusCode: string;
      readonly host?: string;
      readonly path?: string;
      readonly port?: string;
      readonly protocol?: string;
      readonly query?: string;
    };

/**
 * Decodes and validates `alb.ingress.kubernetes.io/actions.<name>` like pkg/ingress/
 * enhanced_backend_builder.go buildActionViaAnnotation: json.Unmarshal into `Action`
 * (config_types.go), `Action.validate`, then normalizeSimplifiedSchemaForwardAction (a top-level
 * targetGroupARN becomes a one-element forwardConfig) and the servicePort normalisation.
 */
export function parseActionAnnotation(raw: string, annotationKey: string): AnnotationAction {
  let parsed: JsonValue;
  try {
    parsed = JSON.parse(raw) as JsonValue;
  } catch (err) {
    throw new ModelError(`failed to parse json annotation, ${annotationKey}: ${raw}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isObject(parsed)) {
    throw new ModelError(`failed to parse json annotation, ${annotationKey}: ${raw}: ${typeError(parsed, "Action", "ingress.Action").message}`);
  }
  try {
    return decodeAction(parsed);
  } catch (err) {
    if (err instanceof ModelError && err.message.startsWith("json: ")) {
      throw new ModelError(`failed to parse json annotation, ${annotationKey}: ${raw}: ${err.message}`);
    }
    throw err;
  }
}

function decodeAction(obj: JsonObject): AnnotationAction {
  const type = optString(obj, "type", "Action") ?? "";
  const topArn = optString(obj, "targetGroupARN", "Action");
  switch (type) {
    case "forward": {
      const fc = field(obj, "forwardConfig");
      if ((topArn !== undefined) === (fc !== undefined && fc !== null)) {
        throw new ModelError("precisely one of TargetGroupArn and ForwardConfig can be specified");
      }
      if (topArn !== undefined) {
        return { type: "forward", targetGroups: [{ targetGroupARN: topArn }] };
      }
      if (!isObject(fc)) {
        throw typeError(fc ?? null, "Action.forwardConfig", "ingress.ForwardActionConfig");
      }
      const rawGroups = field(fc, "targetGroups") ?? [];
      if (!Array.isArray(rawGroups)) {
        throw typeError(rawGroups, "Action.forwardConfig.targetGroups", "[]ingress.TargetGroupTuple");
      }
      const targetGroups = rawGroups.map((g): TargetGroupTuple => {
        if (!isObject(g)) {
          throw typeError(g, "Action.forwardConfig.targetGroups", "ingress.TargetGroupTuple");
        }
        const path = "Action.forwardConfig.targetGroups";
        const port = field(g, "servicePort");
        let servicePort: IntOrString | undefined;
        if (typeof port === "string") {
          servicePort = parseIntOrString(port);
        } else if (typeof port === "number") {
          if (!Number.isInteger(port)) {
            throw typeError(port, `${path}.servicePort`, "int32");
          }
          servicePort = { kind: "int", value: port };
        } else if (port !== undefined && port !== null) {
          throw typeError(port, `${path}.servicePort`, "intstr.IntOrString");
        }
        return {
          targetGroupARN: optString(g, "targetGroupARN", path),
          serviceName: optString(g, "serviceName", path),
          servicePort,
          weight: optInt32(g, "weight", path),
        };
      });
      for (const t of targetGroups) {
        if ((t.targetGroupARN !== undefined) === (t.serviceName !== undefined)) {
          throw new ModelError("invalid ForwardConfig: invalid TargetGroupTuple: precisely one of targetGroupARN and serviceName can be specified");
        }
        if (t.serviceName !== undefined && t.servicePort === undefined) {
          throw new ModelError("invalid ForwardConfig: invalid TargetGroupTuple: missing servicePort");
        }
      }
      if (targetGroups.length > 1 && targetGroups.some((t) => t.weight === undefined)) {
        throw new ModelError("invalid ForwardConfig: weight must be set when route to multiple target groups");
      }
      const st = field(fc, "targetGroupStickinessConfig");
      let stickiness: { enabled?: boolean; durationSeconds?: number } | undefined;
      if (isObject(st)) {
        const path = "Action.forwardConfig.targetGroupStickinessConfig";
        stickiness = { enabled: optBool(st, "enabled", path), durationSeconds: optInt32(st, "durationSeconds", path) };
      } else if (st !== undefined && st !== null) {
        throw typeError(st, "Action.forwardConfig.targetGroupStickinessConfig", "ingress.TargetGroupStickinessConfig");
      }
      return { type: "forward", targetGroups, stickiness };
    }
    case "fixed-response": {
      const c = field(obj, "fixedResponseConfig");
      if (!isObject(c)) {
        throw new ModelError("missing FixedResponseConfig");
      }
      const path = "Action.fixedResponseConfig";
      const statusCode = optString(c, "statusCode", path) ?? "";
      if (statusCode === "") {
        throw new ModelError("invalid FixedResponseConfig: statusCode is required");
      }
      return { type: "fixed-response", statusCode, contentType: optString(c, "contentType", path), messageBody: optString(c, "messageBody", path) };
    }
    case "redirect": {
      const c = field(obj, "redirectConfig");
      if (!isObject(c)) {
        throw new ModelError("missing RedirectConfig");
      }
      const path = "Action.redirectConfig";
      const statusCode = optString(c, "statusCode", path) ?? "";
      if (statusCode === "") {
        throw new ModelError("invalid RedirectConfig: statusCode is required");
      }
      return {
        type: "redirect",
        statusCode,
        host: optString(c, "host", path),
        path: optString(c, "path", path),
        port: optString(c, "port", path),
        protocol: optString(c, "protocol", path),
        query: optString(c, "query", path),
      };
    }
    default:
      throw new ModelError(`unknown action type: ${type}`);
  }
}

// --- rule conditions -------------------------------------------------------------------------------

/**
 * pkg/ingress/model_build_listener_rules.go buildPathPatterns. Prefix: `/` becomes `/*`, any
 * other path `p` (trailing `/` trimmed) becomes `p` and `p/*`; Exact is the path itself;
 * ImplementationSpecific (or no pathType) is passed through as an ELBv2 pattern. Wildcards are
 * refused in Prefix and Exact paths.
 */
export function pathPatterns(path: string, pathType: string | undefined): string[] {
  switch (pathType ?? "ImplementationSpecific") {
    case "ImplementationSpecific":
      return [path];
    case "Exact":
      if (/[*?]/.test(path)) {
        throw new ModelError(`exact path shouldn't contain wildcards: ${path}`);
      }
      return [path];
    case "Prefix": {
      if (path === "/") {
        return ["/*"];
      }
      if (/[*?]/.test(path)) {
        throw new ModelError(`prefix path shouldn't contain wildcards: ${path}`);
      }
      const normalized = path.replace(/\/$/, "");
      return [normalized, `${normalized}/*`];
    }
    default:
      throw new ModelError(`unsupported pathType: ${pathType ?? ""}`);
  }
}

/**
 * pkg/ingress/model_build_listener_rules.go sortIngressPaths: Exact paths first (in order),
 * then Prefix paths by descending length of the raw path (stable), then ImplementationSpecific
 * or untyped paths in order.
 */
export function sortIngressPaths(paths: readonly HTTPIngressPath[]): HTTPIngressPath[] {
  const exact: HTTPIngressPath[] = [];
  const prefix: HTTPIngressPath[] = [];
  const specific: HTTPIngressPath[] = [];
  for (const p of paths) {
    switch (p.pathType) {
      case "Exact":
        exact.push(p);
        break;
      case "Prefix":
        prefix.push(p);
        break;
      case "ImplementationSpecific":
      case undefined:
        specific.push(p);
        break;
      default:
        throw new ModelError(`unknown pathType for path ${p.path ?? ""}`);
    }
  }
  const sortedPrefix = prefix
    .map((p, i) => ({ p, i }))
    .sort((a, b) => (b.p.path ?? "").length - (a.p.path ?? "").length || a.i - b.i)
    .map((x) => x.p);
  return [...exact, ...sortedPrefix, ...specific];
}

/**
 * How DescribeRules returns a condition. The controller sends only `HostHeaderConfig` /
 * `PathPatternConfig` (pkg/deploy/elbv2/listener_utils.go buildSDKRuleCondition); ELBv2 also
 * fills the legacy top-level `Values` for these two fields, which is why the controller's own
 * comparison ignores `Values` (pkg/equality/elbv2/compare_option_for_rule_conditions.go
 * IgnoreFields(RuleCondition, "Values")). Readers must accept either.
 */
function hostCondition(hosts: readonly string[]): RuleCondition {
  return { Field: "host-header", Values: [...hosts], HostHeaderConfig: { Values: [...hosts] } };
}

function pathCondition(patterns: readonly string[]): RuleCondition {
  return { Field: "path-pattern", Values: [...patterns], PathPatternConfig: { Values: [...patterns] } };
}

// --- the group ---------------------------------------------------------------------------------

/** pkg/ingress/group_loader.go: groupName rules and the group.order range. */
const GROUP_NAME = /^([a-z0-9][-a-z0-9.]*)?[a-z0-9]$/;
const MIN_GROUP_ORDER = -1000;
const MAX_GROUP_ORDER = 1000;

export function validateGroupName(name: string): string | undefined {
  if (!GROUP_NAME.test(name)) {
    return "groupName must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
  }
  if (name.length > 63) {
    return "groupName must be no more than 63 characters";
  }
  return undefined;
}

/**
 * pkg/ingress/group_loader.go loadGroupIDIfAnyHelper / classifyIngress / loadGroupID: an Ingress
 * being deleted belongs to no group; the `kubernetes.io/ingress.class` annotation, when present,
 * decides the class, else `spec.ingressClassName` (the chart's IngressClass `alb` has controller
 * `ingress.k8s.aws/alb`; an Ingress with neither is not managed by default); then the explicit
 * `group.name` (an invalid name means "leaves the group").
 */
export function isGroupMember(ing: Ingress, groupName: string, ingressClass = "alb"): boolean {
  if (ing.metadata.deletionTimestamp !== undefined) {
    return false;
  }
  const a = annotationsOf(ing.metadata);
  const classAnnotation = a[INGRESS_CLASS_ANNOTATION];
  const cls = classAnnotation ?? ing.spec?.ingressClassName;
  if (cls !== ingressClass) {
    return false;
  }
  const group = a[annotation("group.name")];
  return group !== undefined && validateGroupName(group) === undefined && group === groupName;
}

/**
 * pkg/ingress/group_loader.go sortGroupMembers: ascending `group.order` (default 0, explicit
 * values within [-1000, 1000]), ties by `namespace/name`. Listener rule priorities follow this
 * order, so `group.order` is what puts one service's rules before another's.
 */
export function sortGroupMembers(members: readonly Ingress[]): Ingress[] {
  const withOrder = members.map((ing) => {
    let order: number | undefined;
    try {
      order = parseInt32Annotation(annotationsOf(ing.metadata), "group.order");
    } catch (err) {
      throw new ModelError(`failed to load Ingress group order for ingress: ${key(ing.metadata)}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (order !== undefined && (order < MIN_GROUP_ORDER || order > MAX_GROUP_ORDER)) {
      throw new ModelError(
        `explicit Ingress group order must be within [${MIN_GROUP_ORDER}:${MAX_GROUP_ORDER}], Ingress: ${key(ing.metadata)}, order: ${order}`,
      );
    }
    return { ing, order: order ?? 0, name: key(ing.metadata) };
  });
  withOrder.sort((a, b) => a.order - b.order || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return withOrder.map((x) => x.ing);
}

// --- ARNs and names (deterministic; real ones carry random ids) --------------------------------

interface Arns {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
}

function arnPrefix(a: Arns): string {
  return `arn:${a.partition}:elasticloadbalancing:${a.region}:${a.accountId}`;
}

function id16(...parts: string[]): string {
  return sha256Hex(parts).slice(0, 16);
}

/** Rule ARNs are keyed by listener and priority: the controller modifies a rule in place when
 * its priority is kept and only its actions change (pkg/deploy/elbv2/listener_rule_synthesizer.go
 * matchedResAndSDKLRsByPriority -> UpdateRules), so a flip keeps the rule's ARN. */
function ruleArn(listenerArn: string, priority: string): string {
  return `${listenerArn.replace(":listener/", ":listener-rule/")}/${id16(listenerArn, priority)}`;
}

/** ALB DNS names are `<name>-<digits>.<region>.elb.amazonaws.com`, `internal-` first for internal ones. */
function dnsName(name: string, scheme: string, region: string): string {
  const digits = (BigInt(`0x${sha256Hex([name, region]).slice(0, 12)}`) % 10_000_000_000n).toString().padStart(10, "0");
  return `${scheme === "internal" ? "internal-" : ""}${name}-${digits}.${region}.elb.amazonaws.com`;
}

const INVALID_NAME_CHARS = /[^A-Za-z0-9]/g;

/** pkg/ingress/model_build_load_balancer.go buildLoadBalancerName (explicit group). */
export function loadBalancerName(clusterName: string, groupName: string, scheme: string): string {
  const uuid = sha256Hex([clusterName, groupName, scheme]);
  return `k8s-${groupName.replace(INVALID_NAME_CHARS, "").slice(0, 17)}-${uuid.slice(0, 10)}`;
}

// --- the build ---------------------------------------------------------------------------------

interface ListenPortConfig {
  readonly protocol: "HTTP" | "HTTPS";
  readonly certificates: string[];
  readonly sslPolicy?: string;
}

interface BuiltAction {
  readonly action: Action;
}

interface BuildContext {
  readonly input: ModelInput;
  readonly arns: Arns;
  readonly groupName: string;
  readonly stackTags: Record<string, string>;
  readonly defaultTags: Readonly<Record<string, string>>;
  readonly services: ReadonlyMap<string, Service>;
  readonly lbArn: string;
  readonly lbName: string;
  readonly targetGroups: Map<string, ModelTargetGroup>;
}

/** Builds the ALB for `input.groupName`; never throws for bad input (that is a `kind: "error"` result). */
export function buildAlb(input: ModelInput): ModelResult {
  try {
    return build(input);
  } catch (err) {
    if (err instanceof ModelError) {
      return { kind: "error", message: err.message };
    }
    throw err;
  }
}

function build(input: ModelInput): ModelResult {
  const groupError = validateGroupName(input.groupName);
  if (groupError !== undefined) {
    throw new ModelError(`invalid ingress group: ${groupError}`);
  }
  const members = sortGroupMembers(input.ingresses.filter((i) => isGroupMember(i, input.groupName, input.ingressClass ?? "alb")));
  if (members.length === 0) {
    return { kind: "empty" };
  }
  for (const m of members) {
    rejectUnmodelled(m);
  }
  const arns: Arns = { partition: "aws", region: input.region, accountId: input.accountId };

  // pkg/ingress/model_builder.go run: listen ports per Ingress, merged per port.
  const ingListByPort = new Map<number, Ingress[]>();
  const configsByPort = new Map<number, Array<{ ing: string; cfg: ListenPortConfig }>>();
  for (const m of members) {
    let ports: Map<number, ListenPortConfig>;
    try {
      ports = listenPortConfigs(m);
    } catch (err) {
      throw err instanceof ModelError ? new ModelError(`ingress: ${key(m.metadata)}: ${err.message}`) : err;
    }
    for (const [port, cfg] of ports) {
      ingListByPort.set(port, [...(ingListByPort.get(port) ?? []), m]);
      configsByPort.set(port, [...(configsByPort.get(port) ?? []), { ing: key(m.metadata), cfg }]);
    }
  }
  const mergedByPort = new Map<number, ListenPortConfig>();
  for (const [port, cfgs] of configsByPort) {
    mergedByPort.set(port, mergeListenPortConfigs(port, cfgs, input.defaultSslPolicy ?? "ELBSecurityPolicy-2016-08"));
  }

  const scheme = loadBalancerScheme(members, input.defaultScheme ?? "internal");
  const lbName = explicitLoadBalancerName(members) ?? loadBalancerName(input.clusterName, input.groupName, scheme);
  const lbArn = `${arnPrefix(arns)}:loadbalancer/app/${lbName}/${id16(input.clusterName, input.groupName, lbName)}`;
  // pkg/deploy/tracking/provider.go StackTags: cluster and stack (= group name for an explicit group).
  const stackTags = { [CLUSTER_TAG]: input.clusterName, [STACK_TAG]: input.groupName };
  const defaultTags = input.defaultTags ?? {};
  const services = new Map<string, Service>();
  for (const s of input.services) {
    services.set(key(s.metadata), s);
  }
  const ctx: BuildContext = { input, arns, groupName: input.groupName, stackTags, defaultTags, services, lbArn, lbName, targetGroups: new Map() };

  const sslRedirectPort = sslRedirect(members, mergedByPort);

  const listeners: ModelListener[] = [];
  for (const port of [...mergedByPort.keys()].sort((a, b) => a - b)) {
    const cfg = mergedByPort.get(port) as ListenPortConfig;
    const ingList = ingListByPort.get(port) ?? [];
    const lsArn = `${lbArn.replace(":loadbalancer/", ":listener/")}/${id16(lbArn, String(port))}`;
    const defaultActions = listenerDefaultActions(ctx, cfg.protocol, ingList, sslRedirectPort);
    // pkg/ingress/model_build_listener.go buildListenerTags + tracking ResourceTags (resource id = port).
    const lsTags = mergeStringMap(stackTags, { [RESOURCE_TAG]: String(port) }, mergeStringMap(defaultTags, groupResourceTags(ingList)));
    const rules: ModelRule[] = [];
    if (!(sslRedirectPort !== undefined && cfg.protocol === "HTTP")) {
      // pkg/ingress/model_build_listener_rules.go: an HTTP listener has no rules when ssl-redirect is set.
      const built = optimizeRules(port, cfg.protocol, listenerRules(ctx, port, cfg.protocol, ingList));
      built.forEach((r, i) => {
        // Priorities are 1..n in group order, then spec.rules order, then sorted path order.
        const priority = String(i + 1);
        const tags = mergeStringMap(stackTags, { [RESOURCE_TAG]: `${port}:${priority}` }, r.tags);
        rules.push({
          description: { RuleArn: ruleArn(lsArn, priority), Priority: priority, Conditions: r.conditions, Actions: r.actions, IsDefault: false },
          tags: toTags(tags),
        });
      });
    }
    rules.push({ description: { RuleArn: ruleArn(lsArn, "default"), Priority: "default", Conditions: [], Actions: defaultActions, IsDefault: true }, tags: [] });
    listeners.push({
      description: {
        ListenerArn: lsArn,
        LoadBalancerArn: lbArn,
        Port: port,
        Protocol: cfg.protocol,
        // DescribeListeners lists only the default (first) certificate; the others are listener
        // certificates (DescribeListenerCertificates), as the controller adds them.
        Certificates: cfg.protocol === "HTTPS" ? cfg.certificates.slice(0, 1).map((c) => ({ CertificateArn: c })) : undefined,
        SslPolicy: cfg.protocol === "HTTPS" ? cfg.sslPolicy : undefined,
        DefaultActions: defaultActions,
      },
      tags: toTags(lsTags),
      rules,
    });
  }

  const lbTags = mergeStringMap(stackTags, { [RESOURCE_TAG]: LOAD_BALANCER_RESOURCE_ID }, mergeStringMap(defaultTags, groupResourceTags(members)));
  const ipAddressType = single(members, "ip-address-type", "IP address type") ?? "ipv4";
  const loadBalancer: LoadBalancer = {
    LoadBalancerArn: lbArn,
    DNSName: dnsName(lbName, scheme, input.region),
    LoadBalancerName: lbName,
    Scheme: scheme,
    State: { Code: "active" },
    Type: "application",
    IpAddressType: ipAddressType === "dualstack" ? "dualstack" : ipAddressType === "dualstack-without-public-ipv4" ? "dualstack-without-public-ipv4" : "ipv4",
  };
  const targetGroups = [...ctx.targetGroups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, tg]) => tg);
  return {
    kind: "alb",
    alb: { loadBalancer, loadBalancerTags: toTags(lbTags), listeners, targetGroups, members: members.map((m) => key(m.metadata)) },
  };
}

/** Annotations whose behaviour this model does not implement: refused rather than ignored. */
function rejectUnmodelled(ing: Ingress): void {
  for (const k of Object.keys(annotationsOf(ing.metadata))) {
    if (k.startsWith(annotation("conditions."))) {
      throw new ModelError(`ingress: ${key(ing.metadata)}: annotation ${k} is not modelled by the load-balancer double`);
    }
  }
  const auth = annotationsOf(ing.metadata)[annotation("auth-type")];
  if (auth !== undefined && auth !== "none") {
    throw new ModelError(`ingress: ${key(ing.metadata)}: auth-type ${auth} is not modelled by the load-balancer double`);
  }
}

/** One value of a group-wide annotation; two different values fail the group ("conflicting ..."). */
function single(members: readonly Ingress[], suffix: string, what: string): string | undefined {
  const values = new Set<string>();
  for (const m of members) {
    const v = annotationsOf(m.metadata)[annotation(suffix)];
    if (v !== undefined) {
      values.add(v);
    }
  }
  if (values.size > 1) {
    throw new ModelError(`conflicting ${what}: [${[...values].sort().join(" ")}]`);
  }
  return values.values().next().value;
}

/** pkg/ingress/model_build_load_balancer.go buildLoadBalancerScheme. */
function loadBalancerScheme(members: readonly Ingress[], defaultScheme: string): "internal" | "internet-facing" {
  const raw = single(members, "scheme", "scheme") ?? defaultScheme;
  if (raw !== "internal" && raw !== "internet-facing") {
    throw new ModelError(`unknown scheme: ${raw}`);
  }
  return raw;
}

/** pkg/ingress/model_build_load_balancer.go buildLoadBalancerName: `load-balancer-name`, at most 32 characters. */
function explicitLoadBalancerName(members: readonly Ingress[]): string | undefined {
  const names = new Set<string>();
  for (const m of members) {
    const v = annotationsOf(m.metadata)[annotation("load-balancer-name")];
    if (v !== undefined) {
      names.add(v);
    }
  }
  if (names.size > 1) {
    throw new ModelError(`conflicting load balancer name: [${[...names].sort().join(" ")}]`);
  }
  const name = names.values().next().value;
  if (name !== undefined && name.length > 32) {
    throw new ModelError("load balancer name cannot be longer than 32 characters");
  }
  return name;
}

/**
 * pkg/ingress/model_build_listener.go computeIngressListenPorts / computeIngressListenPortConfigByPort:
 * `listen-ports` is a JSON list of `{"HTTP": 80}` / `{"HTTPS": 443}` objects; without it, HTTPS:443
 * when the Ingress names a certificate, else HTTP:80.
 */
function listenPortConfigs(ing: Ingress): Map<number, ListenPortConfig> {
  const a = annotationsOf(ing.metadata);
  const certs = splitCommaSeparated(a[annotation("certificate-arn")] ?? "");
  const sslPolicy = a[annotation("ssl-policy")];
  const raw = a[annotation("listen-ports")];
  const ports = new Map<number, "HTTP" | "HTTPS">();
  if (raw === undefined) {
    ports.set(certs.length > 0 ? 443 : 80, certs.length > 0 ? "HTTPS" : "HTTP");
  } else {
    let entries: JsonValue;
    try {
      entries = JSON.parse(raw) as JsonValue;
    } catch {
      throw new ModelError(`failed to parse listen-ports configuration: \`${raw}\``);
    }
    if (!Array.isArray(entries)) {
      throw new ModelError(`failed to parse listen-ports configuration: \`${raw}\``);
    }
    if (entries.length === 0) {
      throw new ModelError(`empty listen-ports configuration: \`${raw}\``);
    }
    for (const e of entries) {
      if (!isObject(e)) {
        throw new ModelError(`failed to parse listen-ports configuration: \`${raw}\``);
      }
      for (const [protocol, port] of Object.entries(e)) {
        if (typeof port !== "number" || !Number.isInteger(port)) {
          throw new ModelError(`failed to parse listen-ports configuration: \`${raw}\``);
        }
        if (port < 1 || port > 65535) {
          throw new ModelError(`listen port must be within [1, 65535]: ${port}`);
        }
        if (protocol !== "HTTP" && protocol !== "HTTPS") {
          throw new ModelError(`listen protocol must be within [HTTP, HTTPS]: ${protocol}`);
        }
        ports.set(port, protocol);
      }
    }
  }
  const out = new Map<number, ListenPortConfig>();
  for (const [port, protocol] of ports) {
    if (protocol === "HTTPS" && certs.length === 0) {
      // The controller would discover certificates in ACM by the rules' hosts (cert_discovery.go);
      // the double has no ACM.
      throw new ModelError(`HTTPS listener on port ${port} needs ${annotation("certificate-arn")} (certificate discovery is not modelled)`);
    }
    out.set(port, { protocol, certificates: protocol === "HTTPS" ? certs : [], sslPolicy: protocol === "HTTPS" ? sslPolicy : undefined });
  }
  return out;
}

/** pkg/ingress/model_builder.go mergeListenPortConfigs: protocol and ssl-policy must agree; certificates are unioned in order. */
function mergeListenPortConfigs(port: number, cfgs: ReadonlyArray<{ ing: string; cfg: ListenPortConfig }>, defaultSslPolicy: string): ListenPortConfig {
  const first = cfgs[0];
  const certificates: string[] = [];
  let sslPolicy: { ing: string; value: string } | undefined;
  for (const { ing, cfg } of cfgs) {
    if (cfg.protocol !== first.cfg.protocol) {
      throw new ModelError(`failed to merge listenPort config for port: ${port}: conflicting protocol, ${first.ing}: ${first.cfg.protocol} | ${ing}: ${cfg.protocol}`);
    }
    if (cfg.sslPolicy !== undefined) {
      if (sslPolicy !== undefined && sslPolicy.value !== cfg.sslPolicy) {
        throw new ModelError(`failed to merge listenPort config for port: ${port}: conflicting sslPolicy, ${sslPolicy.ing}: ${sslPolicy.value} | ${ing}: ${cfg.sslPolicy}`);
      }
      sslPolicy = { ing, value: cfg.sslPolicy };
    }
    for (const c of cfg.certificates) {
      if (!certificates.includes(c)) {
        certificates.push(c);
      }
    }
  }
  return {
    protocol: first.cfg.protocol,
    certificates,
    sslPolicy: first.cfg.protocol === "HTTPS" ? (sslPolicy?.value ?? defaultSslPolicy) : undefined,
  };
}

/** pkg/ingress/model_builder.go buildSSLRedirectConfig: one port, which must be an HTTPS listener. */
function sslRedirect(members: readonly Ingress[], ports: ReadonlyMap<number, ListenPortConfig>): number | undefined {
  const values = new Set<number>();
  for (const m of members) {
    let v: number | undefined;
    try {
      v = parseInt32Annotation(annotationsOf(m.metadata), "ssl-redirect");
    } catch (err) {
      throw new ModelError(`ingress: ${key(m.metadata)}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (v !== undefined) {
      values.add(v);
    }
  }
  if (values.size === 0) {
    return undefined;
  }
  if (values.size > 1) {
    throw new ModelError(`conflicting sslRedirect port: [${[...values].sort((a, b) => a - b).join(" ")}]`);
  }
  const port = values.values().next().value as number;
  const cfg = ports.get(port);
  if (cfg === undefined) {
    throw new ModelError(`listener does not exist for SSLRedirect port: ${port}`);
  }
  if (cfg.protocol !== "HTTPS") {
    throw new ModelError(`listener protocol non-SSL for SSLRedirect port: ${port}`);
  }
  return port;
}

/** pkg/ingress/model_build_tags.go buildIngressGroupResourceTags: the members' `tags` annotations must not disagree. */
function groupResourceTags(ingList: readonly Ingress[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const ing of ingList) {
    const tags = parseStringMapAnnotation(annotationsOf(ing.metadata), "tags") ?? {};
    for (const [k, v] of Object.entries(tags)) {
      if (k in out && out[k] !== v) {
        throw new ModelError(`conflicting tag ${k}: ${out[k]} | ${v}`);
      }
      out[k] = v;
    }
  }
  return out;
}

/** pkg/ingress/model_build_listener.go buildListenerDefaultActions. */
function listenerDefaultActions(ctx: BuildContext, protocol: "HTTP" | "HTTPS", ingList: readonly Ingress[], sslRedirectPort: number | undefined): Action[] {
  if (sslRedirectPort !== undefined && protocol === "HTTP") {
    // pkg/ingress/model_build_actions.go buildSSLRedirectAction; ELBv2 fills the omitted parts with
    // their `#{...}` defaults (pkg/equality/elbv2/compare_option_for_actions.go normalises the same way).
    return [
      {
        Type: "redirect",
        Order: 1,
        RedirectConfig: { Protocol: "HTTPS", Port: String(sslRedirectPort), Host: "#{host}", Path: "/#{path}", Query: "#{query}", StatusCode: "HTTP_301" },
      },
    ];
  }
  const withDefault = ingList.filter((i) => i.spec?.defaultBackend !== undefined);
  if (withDefault.length === 0) {
    // pkg/ingress/model_build_actions.go build404Action.
    return [{ Type: "fixed-response", Order: 1, FixedResponseConfig: { ContentType: "text/plain", StatusCode: "404" } }];
  }
  if (withDefault.length > 1) {
    throw new ModelError(`multiple ingress defined default backend: [${withDefault.map((i) => key(i.metadata)).join(" ")}]`);
  }
  const ing = withDefault[0];
  return [backendAction(ctx, ing, ing.spec?.defaultBackend as IngressBackend).action];
}

interface BuiltRule {
  readonly conditions: RuleCondition[];
  readonly actions: Action[];
  readonly tags: Record<string, string>;
}

/** pkg/ingress/model_build_listener_rules.go buildListenerRules (before the optimizer and priorities). */
function listenerRules(ctx: BuildContext, _port: number, _protocol: "HTTP" | "HTTPS", ingList: readonly Ingress[]): BuiltRule[] {
  const rules: BuiltRule[] = [];
  for (const ing of ingList) {
    for (const rule of ing.spec?.rules ?? []) {
      if (rule.http === undefined) {
        continue;
      }
      let paths: HTTPIngressPath[];
      try {
        paths = sortIngressPaths(rule.http.paths);
      } catch (err) {
        throw err instanceof ModelError ? new ModelError(`ingress: ${key(ing.metadata)}: ${err.message}`) : err;
      }
      for (const p of paths) {
        const conditions: RuleCondition[] = [];
        try {
          const action = backendAction(ctx, ing, p.backend).action;
          const hosts = rule.host !== undefined && rule.host !== "" ? [rule.host] : [];
          const patterns = p.path !== undefined && p.path !== "" ? pathPatterns(p.path, p.pathType) : [];
          if (hosts.length > 0) {
            conditions.push(hostCondition(hosts));
          }
          if (patterns.length > 0) {
            conditions.push(pathCondition(patterns));
          }
          if (conditions.length === 0) {
            conditions.push(pathCondition(["/*"]));
          }
          // buildListenerRuleTags: default tags win over the Ingress's `tags` annotation.
          const tags = mergeStringMap(ctx.defaultTags, parseStringMapAnnotation(annotationsOf(ing.metadata), "tags") ?? {});
          rules.push({ conditions, actions: [action], tags });
        } catch (err) {
          throw err instanceof ModelError && !err.message.startsWith("ingress: ") ? new ModelError(`ingress: ${key(ing.metadata)}: ${err.message}`) : err;
        }
      }
    }
  }
  return rules;
}

/**
 * pkg/ingress/rule_optimizer.go: drops redirect rules that would redirect to themselves, and any
 * rule after a redirect rule whose host/path conditions are a superset of it.
 */
function optimizeRules(port: number, protocol: string, rules: readonly BuiltRule[]): BuiltRule[] {
  const redirectOf = (r: BuiltRule): Action["RedirectConfig"] | undefined => r.actions.find((a) => a.Type === "redirect")?.RedirectConfig;
  const sets = (r: BuiltRule): { hosts: Set<string>; paths: Set<string>; other: boolean } => {
    const hosts = new Set<string>();
    const paths = new Set<string>();
    let other = false;
    for (const c of r.conditions) {
      if (c.Field === "host-header") {
        (c.HostHeaderConfig?.Values ?? []).forEach((v) => hosts.add(v));
      } else if (c.Field === "path-pattern") {
        (c.PathPatternConfig?.Values ?? []).forEach((v) => paths.add(v));
      } else {
        other = true;
      }
    }
    return { hosts, paths, other };
  };
  const infinite = (r: BuiltRule): boolean => {
    const cfg = redirectOf(r);
    if (cfg === undefined) {
      return false;
    }
    const { hosts, paths } = sets(r);
    const keeps = (value: string | undefined, placeholder: string, same: boolean): boolean => value === undefined || value === placeholder || same;
    return (
      keeps(cfg.Host, "#{host}", cfg.Host !== undefined && hosts.has(cfg.Host)) &&
      keeps(cfg.Path, "/#{path}", cfg.Path !== undefined && paths.has(cfg.Path)) &&
      keeps(cfg.Port, "#{port}", cfg.Port === String(port)) &&
      keeps(cfg.Protocol, "#{protocol}", cfg.Protocol === protocol) &&
      keeps(cfg.Query, "#{query}", false)
    );
  };
  const superset = (lhs: BuiltRule, rhs: BuiltRule): boolean => {
    const l = sets(lhs);
    if (l.other) {
      return false;
    }
    const r = sets(rhs);
    const subset = (a: Set<string>, b: Set<string>): boolean => [...a].every((x) => b.has(x));
    const hostOk = l.hosts.size === 0 || (r.hosts.size !== 0 && subset(r.hosts, l.hosts));
    const pathOk = l.paths.size === 0 || l.paths.has("/*") || (r.paths.size !== 0 && subset(r.paths, l.paths));
    return hostOk && pathOk;
  };
  const kept: BuiltRule[] = [];
  for (const r of rules.filter((x) => !infinite(x))) {
    if (!kept.some((k) => redirectOf(k) !== undefined && superset(k, r))) {
      kept.push(r);
    }
  }
  return kept;
}

/**
 * pkg/ingress/enhanced_backend_builder.go Build + pkg/ingress/model_build_actions.go
 * buildBackendAction: `port.name: use-annotation` takes the action from `actions.<service.name>`
 * (a missing annotation is a fixed 503 "Backend action does not exist" under the default
 * `--tolerate-non-existent-backend-action=true`); otherwise a forward to the Service's port by
 * name or number. A forward to a single Service that does not exist is a fixed 503 "Backend
 * service does not exist" (`--tolerate-non-existent-backend-service=true`, pkg/config/
 * ingress_config.go); a missing Service in a multi-target-group forward fails the group.
 */
function backendAction(ctx: BuildContext, ing: Ingress, backend: IngressBackend): BuiltAction {
  const svc = backend.service;
  if (svc === undefined) {
    throw new ModelError('missing required "service" field');
  }
  const a = annotationsOf(ing.metadata);
  let action: AnnotationAction;
  if (svc.port?.name === "use-annotation") {
    const annotationKey = annotation(`actions.${svc.name}`);
    const raw = a[annotationKey];
    if (raw === undefined) {
      return { action: fixed503("Backend action does not exist") };
    }
    action = parseActionAnnotation(raw, annotationKey);
  } else if (svc.port?.name !== undefined && svc.port.name !== "") {
    action = { type: "forward", targetGroups: [{ serviceName: svc.name, servicePort: { kind: "string", value: svc.port.name } }] };
  } else {
    action = { type: "forward", targetGroups: [{ serviceName: svc.name, servicePort: { kind: "int", value: svc.port?.number ?? 0 } }] };
  }
  const ns = ing.metadata.namespace ?? "";
  switch (action.type) {
    case "fixed-response":
      return { action: { Type: "fixed-response", Order: 1, FixedResponseConfig: { StatusCode: action.statusCode, ContentType: action.contentType, MessageBody: action.messageBody } } };
    case "redirect":
      return {
        action: {
          Type: "redirect",
          Order: 1,
          RedirectConfig: {
            Host: action.host ?? "#{host}",
            Path: action.path ?? "/#{path}",
            Port: action.port ?? "#{port}",
            Protocol: action.protocol ?? "#{protocol}",
            Query: action.query ?? "#{query}",
            StatusCode: action.statusCode === "HTTP_302" ? "HTTP_302" : "HTTP_301",
          },
        },
      };
    case "forward": {
      const serviceNames = new Set(action.targetGroups.flatMap((t) => (t.serviceName !== undefined ? [t.serviceName] : [])));
      const singleService = action.targetGroups.length === 1 && serviceNames.size === 1;
      for (const name of serviceNames) {
        const backend = ctx.services.get(`${ns}/${name}`);
        if (backend === undefined) {
          if (singleService) {
            return { action: fixed503("Backend service does not exist") };
          }
          throw new ModelError(`services "${name}" not found`);
        }
        // buildAuthConfig merges a single backend Service's annotations in: refused like the Ingress's.
        const auth = singleService ? annotationsOf(backend.metadata)[annotation("auth-type")] : undefined;
        if (auth !== undefined && auth !== "none") {
          throw new ModelError(`service ${ns}/${name}: auth-type ${auth} is not modelled by the load-balancer double`);
        }
      }
      // ELBv2 limits (API reference TargetGroupTuple / Elastic Load Balancing quotas): weights 0-999,
      // at most 5 target groups per forward action. The controller passes them through, so ELBv2
      // rejects the ModifyRule and the reconcile fails (FailedDeployModel) with the same effect.
      if (action.targetGroups.length > 5) {
        throw new ModelError(`ValidationError: a forward action supports at most 5 target groups, got ${action.targetGroups.length}`);
      }
      const tuples = action.targetGroups.map((t) => {
        if (t.weight !== undefined && (t.weight < 0 || t.weight > 999)) {
          throw new ModelError(`ValidationError: target group weight must be between 0 and 999, got ${t.weight}`);
        }
        const arn = t.targetGroupARN ?? targetGroup(ctx, ing, ctx.services.get(`${ns}/${t.serviceName ?? ""}`) as Service, t.servicePort as IntOrString).description.TargetGroupArn;
        return { TargetGroupArn: arn, Weight: t.weight };
      });
      return {
        action: {
          Type: "forward",
          Order: 1,
          // ELBv2 reports a one-group forward with its ARN at the top as well, a single group's
          // weight as 1 when none was sent, and a stickiness config even when none was sent: the
          // controller's own comparison ignores exactly these (pkg/equality/elbv2/
          // compare_option_for_actions.go: TargetGroupArn ignored, single-group weights
          // normalised, TargetGroupStickinessConfig IgnoreLeftHandUnset).
          TargetGroupArn: tuples.length === 1 ? tuples[0].TargetGroupArn : undefined,
          ForwardConfig: {
            TargetGroups: tuples.map((t) => ({ TargetGroupArn: t.TargetGroupArn, Weight: t.Weight ?? 1 })),
            TargetGroupStickinessConfig: {
              Enabled: action.stickiness?.enabled ?? false,
              DurationSeconds: action.stickiness?.enabled === true ? action.stickiness.durationSeconds : undefined,
            },
          },
        },
      };
    }
  }
}

function fixed503(messageBody: string): Action {
  return { Type: "fixed-response", Order: 1, FixedResponseConfig: { ContentType: "text/plain", StatusCode: "503", MessageBody: messageBody } };
}

/** pkg/k8s/service_utils.go LookupServicePort: by name for a string port, by `port` for a number. */
function lookupServicePort(svc: Service, port: IntOrString): ServicePort {
  const ports = svc.spec?.ports ?? [];
  const found = port.kind === "string" ? ports.find((p) => p.name === port.value) : ports.find((p) => p.port === port.value);
  if (found === undefined) {
    throw new ModelError(`unable to find port ${intOrStringText(port)} on service ${key(svc.metadata)}`);
  }
  return found;
}

/**
 * pkg/ingress/model_build_target_group.go buildTargetGroup: one target group per (Ingress,
 * Service, port) - so the live action and the preview backend of the same Ingress share the
 * color's group - with resource id `<ingress ns>/<ingress name>-<service name>:<port>` and
 * name `k8s-<ns:8>-<svc:8>-<sha256(...):10>`. Target-group settings come from the Service's
 * annotations first, then the Ingress's (MergeStringMap(svc, ing)).
 */
function targetGroup(ctx: BuildContext, ing: Ingress, svc: Service, port: IntOrString): ModelTargetGroup {
  const ns = ing.metadata.namespace ?? "";
  const resId = `${ns}/${ing.metadata.name}-${svc.metadata.name}:${intOrStringText(port)}`;
  const existing = ctx.targetGroups.get(resId);
  if (existing !== undefined) {
    return existing;
  }
  const servicePort = lookupServicePort(svc, port);
  const merged = mergeStringMap(annotationsOf(svc.metadata), annotationsOf(ing.metadata));
  const targetType = merged[annotation("target-type")] ?? ctx.input.defaultTargetType ?? "instance";
  if (targetType !== "instance" && targetType !== "ip") {
    throw new ModelError(`unknown targetType: ${targetType}`);
  }
  const protocol = merged[annotation("backend-protocol")] ?? "HTTP";
  if (protocol !== "HTTP" && protocol !== "HTTPS") {
    throw new ModelError(`backend protocol must be within [HTTP, HTTPS]: ${protocol}`);
  }
  const protocolVersion = merged[annotation("backend-protocol-version")] ?? "HTTP1";
  if (protocolVersion !== "HTTP1" && protocolVersion !== "HTTP2" && protocolVersion !== "GRPC") {
    throw new ModelError(`backend protocol version must be within [HTTP1, HTTP2, GRPC]: ${protocolVersion}`);
  }
  // buildTargetGroupPort: the node port for instance targets; for ip targets the numeric
  // targetPort, or 1 for a named one (not in the data path: targets register with their own port).
  // The API server defaults an omitted targetPort to `port`.
  const targetPort = servicePort.targetPort ?? servicePort.port;
  const tgPort = targetType === "instance" ? (servicePort.nodePort ?? 0) : typeof targetPort === "number" ? targetPort : 1;
  // buildTargetGroupHealthCheckConfig with the model builder's defaults (pkg/ingress/model_builder.go):
  // path "/", matcher "200", interval 15 s, timeout 5 s, thresholds 2/2, port traffic-port.
  const int = (suffix: string, fallback: number): number => parseInt32Annotation(merged, suffix) ?? fallback;
  const healthCheckProtocol = merged[annotation("healthcheck-protocol")] ?? protocol;
  if (healthCheckProtocol !== "HTTP" && healthCheckProtocol !== "HTTPS") {
    throw new ModelError("healthCheckProtocol must be within [HTTP, HTTPS]");
  }
  const name = targetGroupName(ctx, ing, svc, port, tgPort, targetType, protocol, protocolVersion);
  const arn = `${arnPrefix(ctx.arns)}:targetgroup/${name}/${id16(ctx.input.clusterName, resId)}`;
  // buildTargetGroupTags (default tags first, then Service's and Ingress's `tags`), then tracking
  // ResourceTags: cluster, stack and `ingress.k8s.aws/resource` = the resource id.
  const specTags = mergeStringMap(
    ctx.defaultTags,
    mergeStringMap(parseStringMapAnnotation(annotationsOf(svc.metadata), "tags") ?? {}, parseStringMapAnnotation(annotationsOf(ing.metadata), "tags") ?? {}),
  );
  const tags = mergeStringMap(ctx.stackTags, { [RESOURCE_TAG]: resId }, specTags);
  const tg: ModelTargetGroup = {
    description: {
      TargetGroupArn: arn,
      TargetGroupName: name,
      Protocol: protocol,
      ProtocolVersion: protocolVersion,
      Port: tgPort,
      HealthCheckProtocol: healthCheckProtocol,
      HealthCheckPort: merged[annotation("healthcheck-port")] ?? "traffic-port",
      HealthCheckEnabled: true,
      HealthCheckIntervalSeconds: int("healthcheck-interval-seconds", 15),
      HealthCheckTimeoutSeconds: int("healthcheck-timeout-seconds", 5),
      HealthyThresholdCount: int("healthy-threshold-count", 2),
      UnhealthyThresholdCount: int("unhealthy-threshold-count", 2),
      HealthCheckPath: merged[annotation("healthcheck-path")] ?? "/",
      Matcher: { HttpCode: merged[annotation("success-codes")] ?? "200" },
      LoadBalancerArns: [ctx.lbArn],
      TargetType: targetType,
      IpAddressType: "ipv4",
    },
    tags: toTags(tags),
    backend: { namespace: ns, ingress: ing.metadata.name, service: svc.metadata.name, servicePort },
  };
  ctx.targetGroups.set(resId, tg);
  return tg;
}

/** pkg/ingress/model_build_target_group.go buildTargetGroupName. */
function targetGroupName(
  ctx: BuildContext,
  ing: Ingress,
  svc: Service,
  port: IntOrString,
  tgPort: number,
  targetType: string,
  protocol: string,
  protocolVersion: string,
): string {
  const uuid = sha256Hex([
    ctx.input.clusterName,
    ctx.groupName,
    ing.metadata.namespace ?? "",
    ing.metadata.name,
    svc.metadata.uid ?? "",
    intOrStringText(port),
    String(tgPort),
    targetType,
    protocol,
    protocolVersion,
  ]);
  const ns = (svc.metadata.namespace ?? "").replace(INVALID_NAME_CHARS, "").slice(0, 8);
  const name = svc.metadata.name.replace(INVALID_NAME_CHARS, "").slice(0, 8);
  return `k8s-${ns}-${name}-${uuid.slice(0, 10)}`;
}

// --- request routing (what the ALB does with a request) ----------------------------------------

/** ELBv2 pattern matching: `*` any run of characters, `?` exactly one. */
function wildcard(pattern: string, flags: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${body}$`, flags);
}

/** Host-header conditions compare case-insensitively, against the host without its port. */
export function hostMatches(patterns: readonly string[], hostHeader: string): boolean {
  const host = hostHeader.replace(/:\d+$/, "");
  return patterns.some((p) => wildcard(p, "i").test(host));
}

/** Path-pattern conditions are case-sensitive and see the path only (no query string). */
export function pathMatches(patterns: readonly string[], path: string): boolean {
  const onlyPath = path.split("?")[0];
  return patterns.some((p) => wildcard(p, "").test(onlyPath));
}

function conditionValues(c: RuleCondition): string[] {
  if (c.Field === "host-header") {
    return c.HostHeaderConfig?.Values ?? c.Values ?? [];
  }
  if (c.Field === "path-pattern") {
    return c.PathPatternConfig?.Values ?? c.Values ?? [];
  }
  return c.Values ?? [];
}

/** The rule a request matches: rules in priority order (all conditions must hold), the default rule last. */
export function matchRule(listener: ModelListener, hostHeader: string, path: string): ModelRule {
  for (const rule of listener.rules) {
    if (rule.description.IsDefault === true) {
      continue;
    }
    const ok = (rule.description.Conditions ?? []).every((c) => {
      if (c.Field === "host-header") {
        return hostMatches(conditionValues(c), hostHeader);
      }
      if (c.Field === "path-pattern") {
        return pathMatches(conditionValues(c), path);
      }
      return false;
    });
    if (ok) {
      return rule;
    }
  }
  const fallback = listener.rules.find((r) => r.description.IsDefault === true);
  if (fallback === undefined) {
    throw new Error(`listener ${listener.description.ListenerArn ?? "?"} has no default rule`);
  }
  return fallback;
}

/**
 * The weighted choice among a forward action's target groups: `random` in [0, 1) picks a group
 * with probability weight/total. Returns undefined when every weight is 0.
 */
export function chooseTargetGroup(action: Action, random: number): string | undefined {
  const groups = (action.ForwardConfig?.TargetGroups ?? []).filter((g) => (g.Weight ?? 1) > 0);
  const total = groups.reduce((s, g) => s + (g.Weight ?? 1), 0);
  if (total === 0) {
    return undefined;
  }
  let point = random * total;
  for (const g of groups) {
    point -= g.Weight ?? 1;
    if (point < 0) {
      return g.TargetGroupArn;
    }
  }
  return groups[groups.length - 1].TargetGroupArn;
}
