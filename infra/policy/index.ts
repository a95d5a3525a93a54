/**
 * The platform's CrossGuard policy pack:
 *
 *   pulumi preview -s prod --policy-pack infra/policy --policy-pack-config infra/policy/config/prod.json
 *
 * Every rule lives once in ./rules; ./pack.ts adapts them to CrossGuard and ./offline.ts runs the
 * same objects without the engine (the driver's offline `plan`, the tests). The per-stack files in
 * ./config set each rule's enforcement level and its documented exceptions.
 */
import { PolicyPack } from "@pulumi/policy";
import { buildPolicies } from "./pack";

new PolicyPack("platform", {
  description: "Security and operability rules of the platform's AWS and Kubernetes resources, enforced per environment.",
  // Each rule carries its own default (mandatory, except the advisory Prometheus-on-EFS report);
  // the per-stack config files set the levels actually used (test: advisory).
  enforcementLevel: "mandatory",
  policies: buildPolicies(),
});
