/**
 * The internet edge: load balancers declared with the AWS provider (the test host's ALB) and the
 * ALBs the AWS Load Balancer Controller builds from Kubernetes Ingresses (staging, prod), their
 * TLS and redirects, and the WAF WebACLs in front of them.
 */
import { opennessOfTexts, parseBlock } from "../cidr";
import type { Finding, PolicyResource, ResourceRule, StackRule } from "../engine";
import { at, bool, list, obj, objs, str, strs } from "../values";
import { annotationsOf, known, k8sName, ofTypes, references, refersTo } from "./common";

const LOAD_BALANCERS = ["aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"];
const LISTENERS = ["aws:lb/listener:Listener", "aws:alb/listener:Listener"];
const LISTENER_RULES = ["aws:lb/listenerRule:ListenerRule", "aws:alb/listenerRule:ListenerRule"];
const WEB_ACL = "aws:wafv2/webAcl:WebAcl";
const WEB_ACL_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation";
const WEB_ACL_RULE_GROUP_ASSOCIATION = "aws:wafv2/webAclRuleGroupAssociation:WebAclRuleGroupAssociation";
const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";
const INGRESS_CLASS = "kubernetes:networking.k8s.io/v1:IngressClass";
const INGRESS_CLASS_PARAMS = "kubernetes:elbv2.k8s.aws/v1beta1:IngressClassParams";

const ALB_ANNOTATION = "alb.ingress.kubernetes.io/";

/**
 * ELB security policies that negotiate TLS 1.2 or newer only: the TLS13-1-2/1-3 families, the
 * TLS-1-2 and FS-1-2 families (and their FIPS/PQ variants). TLS13-1-0/1-1 and the 2016-08 default
 * still accept TLS 1.0/1.1.
 */
const TLS12_POLICY = /^ELBSecurityPolicy-(TLS13-1-[23]|TLS-1-2|FS-1-2)(-|$)/;

export function isTls12Policy(name: string | undefined): boolean {
  return name !== undefined && TLS12_POLICY.test(name);
}

function where(r: PolicyResource): Pick<PolicyResource, "type" | "name" | "urn"> {
  return { type: r.type, name: r.name, urn: r.urn };
}

/** Whether every action of a list redirects to HTTPS. */
function onlyRedirectsToHttps(actions: unknown): boolean {
  const list = objs(actions);
  return list.length > 0 && list.every((a) => str(a["type"]) === "redirect" && str(at(a["redirect"], "protocol")) === "HTTPS");
}

export const albListenerTls: ResourceRule = {
  kind: "resource",
  name: "alb-listener-https",
  description: "Load balancer listeners serve HTTPS/TLS with a TLS 1.2+ policy; plain HTTP listeners only redirect to HTTPS.",
  docs: "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html",
  scannerIds: ["CKV_AWS_2", "CKV_AWS_103"],
  enforcementLevel: "mandatory",
  severity: "high",
  resourceTypes: LISTENERS,
  check: (r) => {
    const protocol = str(r.props["protocol"]) ?? "HTTP";
    if (protocol === "HTTP") {
      return onlyRedirectsToHttps(r.props["defaultActions"])
        ? []
        : [
            {
              problem: "the HTTP listener's default action does not redirect to HTTPS, so requests and cookies travel in clear text",
              fix: 'set defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }]',
            },
          ];
    }
    if (protocol === "HTTPS" || protocol === "TLS") {
      const policy = str(r.props["sslPolicy"]);
      return isTls12Policy(policy)
        ? []
        : [
            {
              problem:
                policy === undefined
                  ? "sslPolicy is unset, so the listener gets ELBSecurityPolicy-2016-08, which accepts TLS 1.0 and 1.1"
                  : `sslPolicy "${policy}" accepts protocols older than TLS 1.2`,
              fix: 'set sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06"',
            },
          ];
    }
    return [];
  },
};

export const albHttpRulesRedirectOnly: StackRule = {
  kind: "stack",
  name: "alb-http-rules-redirect-only",
  description: "Listener rules on plain HTTP listeners only redirect to HTTPS (a forward there would serve the app over HTTP).",
  docs: "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-update-rules.html",
  scannerIds: ["CKV_AWS_2"],
  enforcementLevel: "mandatory",
  severity: "high",
  check: (resources) => {
    const httpListeners = ofTypes(resources, ...LISTENERS).filter((l) => (str(l.props["protocol"]) ?? "HTTP") === "HTTP");
    return ofTypes(resources, ...LISTENER_RULES)
      .filter((rule) => httpListeners.some((l) => references(rule, "listenerArn", l)))
      .filter((rule) => !onlyRedirectsToHttps(rule.props["actions"]))
      .map((rule) => ({
        resource: where(rule),
        problem: "the rule belongs to a plain HTTP listener and does not redirect to HTTPS",
        fix: "attach the rule to the HTTPS listener (listenerArn) and leave the HTTP listener with only its redirect",
      }));
  },
};

export const albDropInvalidHeaders: ResourceRule = {
  kind: "resource",
  name: "alb-drop-invalid-headers",
  description: "Application load balancers drop requests with invalid HTTP header names (request smuggling hardening).",
  docs: "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#load-balancer-attributes",
  scannerIds: ["CKV_AWS_131"],
  enforcementLevel: "mandatory",
  severity: "medium",
  resourceTypes: LOAD_BALANCERS,
  check: (r) =>
    (str(r.props["loadBalancerType"]) ?? "application") !== "application" || bool(r.props["dropInvalidHeaderFields"]) === true
      ? []
      : [{ problem: "dropInvalidHeaderFields is not true", fix: "set dropInvalidHeaderFields: true" }],
};

// ---------------------------------------------------------------------------------------------
// ALBs built by the AWS Load Balancer Controller from Ingresses.

/** Settings the controller applies per IngressGroup; any member (or the IngressClassParams) may carry them. */
interface AlbIngress {
  readonly ingress: PolicyResource;
  readonly group: string | undefined;
  readonly scheme: string;
  readonly listenPorts: Array<{ protocol: string; port: number }>;
  readonly sslRedirect?: string;
  readonly sslPolicy?: string;
  readonly certificateArn?: string;
  readonly wafAclArn?: string;
}

function classParamsOf(resources: readonly PolicyResource[], className: string | undefined): Record<string, unknown> {
  if (className === undefined) {
    return {};
  }
  const ingressClass = ofTypes(resources, INGRESS_CLASS).find((c) => k8sName(c) === className);
  const ref = obj(at(ingressClass?.props, "spec.parameters"));
  if (str(ref["kind"]) !== "IngressClassParams") {
    return {};
  }
  const params = ofTypes(resources, INGRESS_CLASS_PARAMS).find((p) => k8sName(p) === str(ref["name"]));
  return { ...obj(params?.props["spec"]) };
}

function ingressClassOf(r: PolicyResource): string | undefined {
  return str(at(r.props, "spec.ingressClassName")) ?? annotationsOf(r)["kubernetes.io/ingress.class"];
}

function isAlbIngress(resources: readonly PolicyResource[], r: PolicyResource): boolean {
  const className = ingressClassOf(r);
  if (className === "alb") {
    return true;
  }
  const ingressClass = ofTypes(resources, INGRESS_CLASS).find((c) => k8sName(c) === className);
  return str(at(ingressClass?.props, "spec.controller")) === "ingress.k8s.aws/alb";
}

function parseListenPorts(value: string | undefined, hasCertificate: boolean): Array<{ protocol: string; port: number }> {
  if (value === undefined) {
    // The controller's default: HTTP 80, or HTTPS 443 once a certificate is configured.
    return hasCertificate ? [{ protocol: "HTTPS", port: 443 }] : [{ protocol: "HTTP", port: 80 }];
  }
  return objs(value).flatMap((entry) =>
    Object.entries(entry).map(([protocol, port]) => ({ protocol: protocol.toUpperCase(), port: Number(port) })),
  );
}

/** Every ALB Ingress with the settings the controller would apply to its listeners. */
export function albIngresses(resources: readonly PolicyResource[]): AlbIngress[] {
  const ingresses = ofTypes(resources, INGRESS).filter((r) => isAlbIngress(resources, r));
  const groupOf = (r: PolicyResource): string | undefined => annotationsOf(r)[`${ALB_ANNOTATION}group.name`];
  return ingresses.map((ingress) => {
    const params = classParamsOf(resources, ingressClassOf(ingress));
    const group = str(at(params, "group.name")) ?? groupOf(ingress);
    const members = group === undefined ? [ingress] : ingresses.filter((i) => (str(at(classParamsOf(resources, ingressClassOf(i)), "group.name")) ?? groupOf(i)) === group);
    // Own annotation first, then any member of the group (the controller merges group settings).
    const setting = (key: string): string | undefined =>
      annotationsOf(ingress)[`${ALB_ANNOTATION}${key}`] ?? members.map((m) => annotationsOf(m)[`${ALB_ANNOTATION}${key}`]).find((v) => v !== undefined);
    const certificateArn = strs(params["certificateArn"])[0] ?? setting("certificate-arn");
    return {
      ingress,
      group,
      scheme: str(params["scheme"]) ?? setting("scheme") ?? "internal",
      listenPorts: parseListenPorts(setting("listen-ports"), certificateArn !== undefined),
      sslRedirect: setting("ssl-redirect"),
      sslPolicy: str(params["sslPolicy"]) ?? setting("ssl-policy"),
      certificateArn,
      wafAclArn: str(params["wafv2AclArn"]) ?? setting("wafv2-acl-arn"),
    };
  });
}

export const albIngressTls: StackRule = {
  kind: "stack",
  name: "alb-ingress-https",
  description: "ALB Ingresses listen on HTTPS with a TLS 1.2+ policy and redirect HTTP to HTTPS.",
  docs: "https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/annotations/#ssl",
  scannerIds: ["CKV_AWS_2", "CKV_AWS_103"],
  enforcementLevel: "mandatory",
  severity: "high",
  check: (resources) => {
    const findings: Finding[] = [];
    for (const alb of albIngresses(resources)) {
      const resource = where(alb.ingress);
      const https = alb.listenPorts.some((p) => p.protocol === "HTTPS");
      const http = alb.listenPorts.some((p) => p.protocol === "HTTP");
      if (!https) {
        findings.push({
          resource,
          problem: `listens on ${list(alb.listenPorts.map((p) => `${p.protocol}:${p.port}`))} only`,
          fix: `add HTTPS to ${ALB_ANNOTATION}listen-ports ('[{"HTTP": 80}, {"HTTPS": 443}]') with ${ALB_ANNOTATION}certificate-arn`,
        });
      }
      if (http && alb.sslRedirect === undefined) {
        findings.push({
          resource,
          problem: "listens on plain HTTP without a redirect, so the app is served over HTTP",
          fix: `set ${ALB_ANNOTATION}ssl-redirect: "443"`,
        });
      }
      if (https && !isTls12Policy(alb.sslPolicy)) {
        findings.push({
          resource,
          problem: alb.sslPolicy === undefined ? "sets no ssl-policy, so the controller uses ELBSecurityPolicy-2016-08 (TLS 1.0+)" : `ssl-policy "${alb.sslPolicy}" accepts protocols older than TLS 1.2`,
          fix: `set ${ALB_ANNOTATION}ssl-policy: "ELBSecurityPolicy-TLS13-1-2-2021-06" on every Ingress of the group`,
        });
      }
    }
    return findings;
  },
};

/** The source-ip values of an Ingress's `conditions.<backend>` annotation, or undefined when it has none. */
function sourceIpValues(annotation: string | undefined): string[] | undefined {
  if (annotation === undefined) {
    return undefined;
  }
  const conditions = objs(annotation).filter((c) => str(c["field"]) === "source-ip");
  if (conditions.length === 0) {
    return undefined;
  }
  return conditions.flatMap((c) => strs(at(c, "sourceIpConfig.values") ?? at(c, "SourceIpConfig.Values")));
}

/** The backends (Service or action names) an Ingress's rules route to. */
function backendsOf(ingress: PolicyResource): string[] {
  const names = objs(at(ingress.props, "spec.rules")).flatMap((rule) =>
    objs(at(rule, "http.paths")).map((p) => str(at(p, "backend.service.name"))),
  );
  const fallback = str(at(ingress.props, "spec.defaultBackend.service.name"));
  return [...new Set([...names, fallback].filter((n): n is string => n !== undefined))];
}

export const albSourceIpRestricted: StackRule = {
  kind: "stack",
  name: "alb-source-ip-restricted",
  description:
    "ALB Ingresses outside the public app namespaces admit only listed sources (a source-ip condition on every backend), and no source-ip list adds up to half of the internet or more.",
  docs: "https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/annotations/#conditions",
  scannerIds: [],
  enforcementLevel: "mandatory",
  severity: "high",
  settings: {
    publicNamespaces: {
      type: "array",
      description: "Namespaces whose Ingresses serve the public (the blue/green services); every other ALB Ingress must restrict its sources.",
      default: ["apps"],
      items: { type: "string", minLength: 1 },
    },
  },
  check: (resources, ctx) => {
    const publicNamespaces = strs(ctx.settings["publicNamespaces"]);
    const findings: Finding[] = [];
    for (const alb of albIngresses(resources)) {
      const ingress = alb.ingress;
      const resource = where(ingress);
      const annotations = annotationsOf(ingress);
      const namespace = str(at(ingress.props, "metadata.namespace")) ?? "default";
      for (const [key, value] of Object.entries(annotations).filter(([k]) => k.startsWith(`${ALB_ANNOTATION}conditions.`))) {
        const values = sourceIpValues(value) ?? [];
        const bad = values.map(parseBlock).filter((b): b is string => typeof b === "string");
        for (const problem of bad) {
          findings.push({ resource, problem: `${key}: ${problem}`, fix: "write each source as a network in CIDR notation (e.g. 203.0.113.0/24); ELBv2 rejects the rule otherwise and the whole IngressGroup stops reconciling" });
        }
        const open = opennessOfTexts(values);
        if (open.level !== "restricted") {
          findings.push({
            resource,
            problem: `${key} admits ${list(values)}, ${open.level === "world" ? "the whole internet" : "half of the internet or more"} (${open.detail ?? ""}), so the condition restricts nothing`,
            fix: "list only the office/VPN egress ranges (platform:observability.*Cidrs, platform:argocd.allowedCidrs), or do not expose the tool",
          });
        }
      }
      if (publicNamespaces.includes(namespace)) {
        continue;
      }
      for (const backend of backendsOf(ingress)) {
        if (sourceIpValues(annotations[`${ALB_ANNOTATION}conditions.${backend}`]) === undefined) {
          findings.push({
            resource,
            problem: `routes to ${backend} in namespace "${namespace}" with no source-ip condition, so anyone on the internet reaches it through the ${alb.scheme} ALB`,
            fix: `add ${ALB_ANNOTATION}conditions.${backend} with a source-ip condition listing the allowed ranges, or list "${namespace}" under publicNamespaces of alb-source-ip-restricted if it serves the public`,
          });
        }
      }
    }
    return findings;
  },
};

// ---------------------------------------------------------------------------------------------
// WAF.

/** The managed rule groups every internet-facing ALB must run (anonymous-IP and IP-reputation lists included). */
export const REQUIRED_MANAGED_RULE_GROUPS = ["AWSManagedRulesAnonymousIpList", "AWSManagedRulesAmazonIpReputationList"] as const;

/**
 * The rule of each required group that must keep its block action: counting it (a
 * `ruleActionOverrides` entry) turns the group into a monitor. Other rules may be counted, e.g.
 * `HostingProviderIPList` of the anonymous IP list, which would otherwise block CI runners on
 * cloud addresses (rule names from the AWS WAF developer guide, "IP reputation rule groups").
 */
export const RULES_THAT_MUST_BLOCK: Readonly<Record<(typeof REQUIRED_MANAGED_RULE_GROUPS)[number], readonly string[]>> = {
  AWSManagedRulesAnonymousIpList: ["AnonymousIPList"],
  AWSManagedRulesAmazonIpReputationList: ["AWSManagedIPReputationList"],
};

/** Rules of `group` an inline managed-rule-group statement overrides to count. */
function countedRules(statement: Readonly<Record<string, unknown>>): string[] {
  return objs(statement["ruleActionOverrides"])
    .filter((o) => obj(o["actionToUse"])["count"] !== undefined)
    .map((o) => str(o["name"]) ?? "");
}

function keepsBlocking(group: string, counted: readonly string[]): boolean {
  const core = (RULES_THAT_MUST_BLOCK as Readonly<Record<string, readonly string[]>>)[group] ?? [];
  return core.every((rule) => !counted.includes(rule));
}

/** Managed rule groups a WebACL enforces (not in count mode), from inline rules, ruleJson and rule-group associations. */
export function enforcedManagedGroups(acl: PolicyResource, resources: readonly PolicyResource[]): Set<string> {
  const enforced = new Set<string>();
  for (const rule of objs(acl.props["rules"])) {
    const group = obj(at(rule, "statement.managedRuleGroupStatement"));
    const counting = obj(rule["overrideAction"])["count"] !== undefined;
    const name = str(group["name"]) ?? "";
    if (str(group["vendorName"]) === "AWS" && !counting && keepsBlocking(name, countedRules(group))) {
      enforced.add(name);
    }
  }
  for (const rule of objs(acl.props["ruleJson"])) {
    const group = obj(at(rule, "Statement.ManagedRuleGroupStatement"));
    if (str(group["VendorName"]) === "AWS" && obj(rule["OverrideAction"])["Count"] === undefined) {
      enforced.add(str(group["Name"]) ?? "");
    }
  }
  for (const association of ofTypes(resources, WEB_ACL_RULE_GROUP_ASSOCIATION).filter((a) => references(a, "webAclArn", acl))) {
    const group = obj(association.props["managedRuleGroup"]);
    if (str(group["vendorName"]) === "AWS" && (str(association.props["overrideAction"]) ?? "none") !== "count") {
      enforced.add(str(group["name"]) ?? "");
    }
  }
  return enforced;
}

function missingGroups(acl: PolicyResource, resources: readonly PolicyResource[]): Array<(typeof REQUIRED_MANAGED_RULE_GROUPS)[number]> {
  const enforced = enforcedManagedGroups(acl, resources);
  return REQUIRED_MANAGED_RULE_GROUPS.filter((g) => !enforced.has(g));
}

export const wafManagedRules: StackRule = {
  kind: "stack",
  name: "waf-required-managed-rules",
  description: `WAF WebACLs enforce the AWS managed rule groups ${REQUIRED_MANAGED_RULE_GROUPS.join(" and ")} (not in count mode).`,
  docs: "https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-ip-rep.html",
  scannerIds: ["CKV2_AWS_28"],
  enforcementLevel: "mandatory",
  severity: "high",
  check: (resources) =>
    ofTypes(resources, WEB_ACL).flatMap((acl) => {
      const missing = missingGroups(acl, resources);
      return missing.length > 0
        ? [
            {
              resource: where(acl),
              problem: `does not enforce ${list(missing)} (absent, overridden to count, or its core rule counted: ${missing.map((g) => RULES_THAT_MUST_BLOCK[g].join(", ")).join("; ")})`,
              fix: 'add a rule per group with statement.managedRuleGroupStatement { vendorName: "AWS", name } and overrideAction { none: {} }',
            },
          ]
        : [];
    }),
};

export const wafAlbAssociation: StackRule = {
  kind: "stack",
  name: "waf-alb-association",
  description: "Every internet-facing ALB in prod is behind a WebACL that enforces the required managed rule groups.",
  docs: "https://docs.aws.amazon.com/waf/latest/developerguide/web-acl-associating-aws-resource.html",
  scannerIds: ["CKV2_AWS_28"],
  enforcementLevel: "mandatory",
  severity: "high",
  environments: ["prod"],
  check: (resources) => {
    const acls = ofTypes(resources, WEB_ACL);
    const findings: Finding[] = [];
    /** One WebACL reference: how to print it, and whether it is a given declared WebACL. */
    interface AclRef {
      readonly label: string;
      readonly is: (acl: PolicyResource) => boolean;
    }
    const verify = (resource: Pick<PolicyResource, "type" | "name" | "urn">, refs: readonly AclRef[], how: string): void => {
      if (refs.length === 0) {
        findings.push({
          resource,
          problem: `is internet-facing with no WAF WebACL (${how})`,
          fix: `associate a REGIONAL WebACL enforcing ${list([...REQUIRED_MANAGED_RULE_GROUPS])}`,
        });
        return;
      }
      for (const ref of refs) {
        const acl = acls.find(ref.is);
        if (acl === undefined) {
          findings.push({
            resource,
            problem: `is associated with WebACL "${ref.label}", which this stack does not declare, so its rules cannot be verified`,
            fix: "declare the WebACL in this stack, or document an exception with the ACL's owner in infra/policy/config/prod.json",
          });
          continue;
        }
        const missing = missingGroups(acl, resources);
        if (missing.length > 0) {
          findings.push({
            resource,
            problem: `its WebACL ${acl.type} "${acl.name}" does not enforce ${list(missing)}`,
            fix: `add ${list(missing)} to that WebACL`,
          });
        }
      }
    };
    const associations = ofTypes(resources, WEB_ACL_ASSOCIATION);
    for (const lb of ofTypes(resources, ...LOAD_BALANCERS)) {
      if ((str(lb.props["loadBalancerType"]) ?? "application") !== "application" || bool(lb.props["internal"]) === true) {
        continue;
      }
      const refs = associations
        .filter((a) => references(a, "resourceArn", lb))
        .map((a) => ({ label: str(known(() => a.props["webAclArn"])) ?? a.name, is: (acl: PolicyResource) => references(a, "webAclArn", acl) }));
      verify(where(lb), refs, "no aws.wafv2.WebAclAssociation has it as resourceArn");
    }
    for (const alb of albIngresses(resources).filter((i) => i.scheme === "internet-facing")) {
      const arn = alb.wafAclArn;
      // "none" is the controller's sentinel for "disassociate any WebACL".
      // The annotation may still be unknown in a preview; the Ingress's metadata then depends on the ACL.
      const refs =
        arn === undefined || arn === "none"
          ? []
          : [{ label: arn, is: (acl: PolicyResource) => refersTo(arn, acl) || (acl.urn !== undefined && (alb.ingress.propertyDependencies?.["metadata"] ?? []).includes(acl.urn)) }];
      verify(where(alb.ingress), refs, arn === "none" ? `${ALB_ANNOTATION}wafv2-acl-arn is "none"` : `no ${ALB_ANNOTATION}wafv2-acl-arn on the Ingress${alb.group === undefined ? "" : ` or its group ${alb.group}`}`);
    }
    return findings;
  },
};

export const edgeRules = [albListenerTls, albHttpRulesRedirectOnly, albDropInvalidHeaders, albIngressTls, albSourceIpRestricted, wafManagedRules, wafAlbAssociation];
