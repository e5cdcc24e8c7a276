// The IngressClass the Ingress names, and its IngressClassParams: refused before any write when the class is not
// served by the AWS Load Balancer Controller (self-managed or EKS Auto Mode), or when its parameters override what
// milvus-l7 guarantees or what the request asks for. Sources, kubernetes-sigs/aws-load-balancer-controller v2.17.1:
//   - pkg/ingress/class_loader.go: the controller name, spec.parameters (apiGroup elbv2.k8s.aws, kind
//     IngressClassParams, else "references unknown parameters"), a missing IngressClassParams, namespaceSelector;
//   - pkg/ingress/group_loader.go loadGroupID: IngressClassParams group wins over the group.name annotation;
//   - pkg/ingress/model_build_load_balancer.go (scheme, ipAddressType, loadBalancerName, subnets),
//     model_build_load_balancer_attributes.go (class attributes win), model_build_load_balancer_addons.go (WAFv2),
//     model_build_listener.go (certificateArn, sslPolicy, inboundCIDRs, prefix lists), model_builder.go
//     (sslRedirectPort), model_build_target_group.go (targetType): for each, IngressClassParams wins over the
//     Ingress's annotation.
// EKS Auto Mode: Amazon EKS User Guide, "Create an IngressClass to configure an Application Load Balancer"
// (IngressClassParams eks.amazonaws.com/v1 with certificateARNs; group.name, shield-advanced-protection,
// waf-acl-id and web-acl-id annotations not supported). Auto Mode's precedence of IngressClassParams over
// annotations is taken to be the self-managed controller's (its guide describes the fields, not the precedence).
import { ALB_ANNOTATION_PREFIX, parseStringMap } from "./alb-annotations";
import { ClusterRefused } from "./errors";
import {
  AUTO_MODE_CONTROLLER,
  type AlbController,
  type IngressClass,
  type IngressClassParams,
  type IngressClassParamsSpec,
  PARAMS_API,
  SELF_MANAGED_CONTROLLER,
  selectorMatches,
} from "./preflight-objects";

const A = ALB_ANNOTATION_PREFIX;

/** The controller serving an IngressClass milvus-l7 can use, or undefined for any other. */
export function albControllerOf(cls: IngressClass): AlbController | undefined {
  const controller = cls.spec?.controller;
  if (controller === SELF_MANAGED_CONTROLLER) return "self-managed";
  if (controller === AUTO_MODE_CONTROLLER) return "auto-mode";
  return undefined;
}

const HOW_TO_CREATE = `The AWS Load Balancer Controller's Helm chart creates IngressClass alb (createIngressClassResource: true, ingressClass: alb); on EKS Auto Mode, create an IngressClass with spec.controller ${AUTO_MODE_CONTROLLER} as the EKS User Guide's "Create an IngressClass to configure an Application Load Balancer" shows.`;

function describeClasses(classes: readonly IngressClass[]): string {
  return classes.map((c) => `${c.metadata?.name ?? "?"} (${c.spec?.controller ?? "no controller"})`).join(", ");
}

/** The class the request names does not exist: which ones do (when listable), and how to get one. */
export function missingIngressClass(className: string, listed: readonly IngressClass[] | undefined): ClusterRefused {
  const usable = (listed ?? []).filter((c) => albControllerOf(c) !== undefined).map((c) => c.metadata?.name ?? "?");
  const inventory =
    listed === undefined
      ? "milvus-l7 could not list the cluster's IngressClasses (forbidden) to say which exist."
      : listed.length === 0
        ? "The cluster has no IngressClass at all: is the AWS Load Balancer Controller installed?"
        : `The cluster has: ${describeClasses(listed)}.${usable.length ? ` Of those, the AWS Load Balancer Controller serves ${usable.join(", ")}: set ingress.className to one of them.` : ""}`;
  return new ClusterRefused(
    `IngressClass ${className} (ingress.className) does not exist, so no controller would build an ALB for the Ingress. ${inventory} ${HOW_TO_CREATE}`,
  );
}

/** Refuses a class another controller serves (e.g. ingress-nginx): it would never build an ALB. */
export function requireAlbController(cls: IngressClass, className: string): AlbController {
  const controller = albControllerOf(cls);
  if (controller) return controller;
  throw new ClusterRefused(
    `IngressClass ${className} (ingress.className) has spec.controller ${cls.spec?.controller ?? "(none)"}, not the AWS Load Balancer Controller (${SELF_MANAGED_CONTROLLER}, or ${AUTO_MODE_CONTROLLER} on EKS Auto Mode): that controller would not build an ALB for milvus-l7's Ingress. Set ingress.className to an IngressClass of the AWS Load Balancer Controller. ${HOW_TO_CREATE}`,
  );
}

/**
 * The IngressClassParams the class references, or undefined without spec.parameters. A reference to anything but
 * the controller's own IngressClassParams is refused: class_loader.go fails every Ingress of such a class
 * ("references unknown parameters").
 */
export function paramsNameOf(cls: IngressClass, className: string, controller: AlbController): string | undefined {
  const ref = cls.spec?.parameters;
  if (!ref) return undefined;
  const want = PARAMS_API[controller].group;
  if (ref.apiGroup !== want || ref.kind !== "IngressClassParams") {
    throw new ClusterRefused(
      `IngressClass ${className} has spec.parameters ${ref.apiGroup ?? "(core)"}/${ref.kind} ${ref.name}, but its controller only takes IngressClassParams of apiGroup ${want}, and refuses every Ingress of a class that references anything else. Point spec.parameters at an IngressClassParams (apiGroup ${want}), or remove it.`,
    );
  }
  return ref.name;
}

/** The controller refuses a class whose IngressClassParams does not exist (class_loader.go: ErrInvalidIngressClass). */
export function missingParams(className: string, paramsName: string, controller: AlbController): ClusterRefused {
  const api = PARAMS_API[controller];
  return new ClusterRefused(
    `IngressClass ${className} references IngressClassParams ${paramsName} (${api.group}/${api.version}), which does not exist, so the controller refuses every Ingress of that class. Create it, remove spec.parameters from the IngressClass, or set ingress.className to another class.`,
  );
}

/** The namespace's labels do not match the params' namespaceSelector: the controller would not take the Ingress. */
export function checkNamespaceSelector(params: IngressClassParams, className: string, namespace: string, labels: Readonly<Record<string, string>>): void {
  const selector = params.spec?.namespaceSelector;
  if (!selector || selectorMatches(selector, labels)) return;
  throw new ClusterRefused(
    `IngressClassParams ${params.metadata?.name} (of IngressClass ${className}) has a spec.namespaceSelector that namespace ${namespace} does not match (${JSON.stringify(selector)}), so the controller refuses Ingresses of that class there. Label the namespace to match, or set ingress.className to a class allowed in ${namespace}.`,
  );
}

/** What ApplyIngress is about to apply and must keep. */
export interface IngressIntent {
  /** The Ingress's annotations as applied: the plan's plus milvus-l7's own (scheme, certificate-arn, ...). */
  annotations: Readonly<Record<string, string>>;
  certificateArn: string;
}

const sorted = (values: readonly string[]) => [...values].sort().join(",");
const splitList = (raw: string) =>
  raw
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * IngressClassParams fields that replace one annotation of the Ingress: [field, annotation suffix, how to compare].
 * `list`: compared as sets; `opaque`: the params' value cannot be compared to an annotation's, so any request value
 * would be ignored.
 */
const OVERRIDES: [keyof IngressClassParamsSpec, string, "scalar" | "list" | "opaque"][] = [
  ["loadBalancerName", "load-balancer-name", "scalar"],
  ["ipAddressType", "ip-address-type", "scalar"],
  ["inboundCIDRs", "inbound-cidrs", "list"],
  ["prefixListsIDs", "security-group-prefix-lists", "list"],
  ["PrefixListsIDs", "security-group-prefix-lists", "list"],
  ["subnets", "subnets", "opaque"],
  ["wafv2AclArn", "wafv2-acl-arn", "scalar"],
  ["wafv2AclName", "wafv2-acl-name", "scalar"],
  ["sslRedirectPort", "ssl-redirect", "scalar"],
  ["minimumLoadBalancerCapacity", "minimum-load-balancer-capacity", "opaque"],
  ["ipamConfiguration", "ipam-ipv4-pool-id", "opaque"],
];

function present(value: unknown): boolean {
  if (value === undefined || value === null || value === "") return false;
  if (Array.isArray(value)) return value.length > 0;
  return true;
}

/**
 * Refuses IngressClassParams that override what milvus-l7 guarantees (scheme, certificate, TLS policy, ip targets,
 * the idle timeout), put the Ingress in an IngressGroup the request did not ask for, or silently replace an
 * annotation the request set. Parameters that agree, or that set what the request leaves open, pass.
 */
export function checkIngressClassParams(params: IngressClassParams, className: string, controller: AlbController, intent: IngressIntent): void {
  const spec = params.spec ?? {};
  const ref = `IngressClassParams ${params.metadata?.name} (of IngressClass ${className})`;
  const change = `change ${ref}, or set ingress.className to a class without it`;
  const ann = intent.annotations;

  if (present(spec.scheme) && spec.scheme !== ann[`${A}scheme`]) {
    throw new ClusterRefused(
      `${ref} sets spec.scheme: ${spec.scheme}, which wins over the Ingress's ${A}scheme, but the request asks for ingress.scheme ${ann[`${A}scheme`]}. Set ingress.scheme to ${spec.scheme} if that is what you want, or ${change}.`,
    );
  }

  const certField = PARAMS_API[controller].certificatesField;
  const certs = spec[certField] ?? [];
  if (certs.length > 0 && !(certs.length === 1 && certs[0] === intent.certificateArn)) {
    throw new ClusterRefused(
      `${ref} sets spec.${certField} (${certs.join(", ")}), which replaces the Ingress's ${A}certificate-arn: the ALB would serve those certificates, not the one milvus-l7 imports (${intent.certificateArn}), and the renewal would change nothing the clients see. Remove spec.${certField} from it, or set ingress.className to a class without certificates.`,
    );
  }

  const policy = ann[`${A}ssl-policy`];
  if (present(spec.sslPolicy) && spec.sslPolicy !== policy) {
    throw new ClusterRefused(
      `${ref} sets spec.sslPolicy: ${spec.sslPolicy}, which wins over the Ingress's ${A}ssl-policy (${policy}, the request's or milvus-l7's TLS 1.2+ default). Set ${A}ssl-policy in ingress.annotations to ${spec.sslPolicy} if it allows only TLS 1.2 or later, or ${change}.`,
    );
  }

  if (present(spec.targetType) && spec.targetType !== ann[`${A}target-type`]) {
    throw new ClusterRefused(
      `${ref} sets spec.targetType: ${spec.targetType}, which wins over the Ingress's ${A}target-type: ip. milvus-l7 needs ip targets: instance targets go through a NodePort, and the cutover makes the Milvus Service ClusterIP, which has none, so the ALB would lose every target. Remove spec.targetType from it (or set it to ip), or set ingress.className to a class without it.`,
    );
  }

  const groupName = spec.group?.name;
  const asked = ann[`${A}group.name`];
  if (present(groupName) && groupName !== asked) {
    throw new ClusterRefused(
      `${ref} sets spec.group.name: ${groupName}, which puts every Ingress of the class in IngressGroup ${groupName} (one ALB shared with the group's other Ingresses) whatever the Ingress's ${A}group.name says, and the request ${asked ? `asks for group ${asked}` : "asks for no group"}. To share that ALB, set ${A}group.name: ${groupName} in ingress.annotations; otherwise set ingress.className to a class without a group.`,
    );
  }

  // The idle timeout milvus-l7 sets (and any attribute the request sets) must not be replaced by the class's.
  const requested = ann[`${A}load-balancer-attributes`];
  const parsed = requested === undefined ? undefined : parseStringMap(requested);
  const ours = parsed?.ok ? parsed.map : {};
  for (const { key, value } of spec.loadBalancerAttributes ?? []) {
    if (Object.hasOwn(ours, key) && ours[key] !== value) {
      throw new ClusterRefused(
        `${ref} sets spec.loadBalancerAttributes ${key}=${value}, which wins over the Ingress's ${A}load-balancer-attributes ${key}=${ours[key]}${key === "idle_timeout.timeout_seconds" ? " (milvus-l7's idle timeout for long Milvus calls: with a shorter one the ALB cuts searches, flushes and index builds that send nothing meanwhile)" : ""}. Make them agree (set ${key} in ingress.annotations' load-balancer-attributes to ${value}, or change the IngressClassParams), or set ingress.className to a class without it.`,
      );
    }
  }

  for (const [field, suffix, kind] of OVERRIDES) {
    const value = spec[field];
    const mine = ann[`${A}${suffix}`];
    if (!present(value) || mine === undefined) continue;
    const agree =
      kind === "scalar"
        ? String(value) === mine
        : kind === "list"
          ? sorted(value as string[]) === sorted(splitList(mine))
          : false;
    if (agree) continue;
    const shown = kind === "opaque" ? JSON.stringify(value) : Array.isArray(value) ? value.join(", ") : String(value);
    throw new ClusterRefused(
      `${ref} sets spec.${field} (${shown}), which the controller uses instead of the Ingress's ${A}${suffix} (${mine}, from ingress.annotations), so the request's value would be ignored. Remove ${A}${suffix} from ingress.annotations to accept the class's, or ${change}.`,
    );
  }
}

/**
 * Annotations EKS Auto Mode does not support (EKS User Guide, "Create ingress class", Ingress annotations table):
 * refused with Auto Mode, whose controller would ignore them.
 */
const AUTO_MODE_UNSUPPORTED: Record<string, string> = {
  "group.name": "specify the group in the IngressClassParams (spec.group.name) of the class instead",
  "waf-acl-id": "use wafv2-acl-arn (WAF v2) instead",
  "web-acl-id": "use wafv2-acl-arn (WAF v2) instead",
  "shield-advanced-protection": "EKS Auto Mode has no Shield Advanced integration",
};

export function checkAutoModeAnnotations(className: string, annotations: Readonly<Record<string, string>>): void {
  for (const [suffix, instead] of Object.entries(AUTO_MODE_UNSUPPORTED)) {
    if (annotations[`${A}${suffix}`] === undefined) continue;
    throw new ClusterRefused(
      `IngressClass ${className} is served by EKS Auto Mode (${AUTO_MODE_CONTROLLER}), which does not support the annotation ${A}${suffix} that ingress.annotations sets: it would be ignored. Remove it from ingress.annotations; ${instead}.`,
    );
  }
}
