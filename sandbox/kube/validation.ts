// Validation of what the product writes, with upstream's messages and field paths (clients and the product
// read them). Ported from kubernetes/kubernetes (the version each file was read at: README.md):
//   staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go  (IsDNS1123Label, IsDNS1035Label,
//                                                                      IsDNS1123Subdomain)
//   pkg/apis/core/validation/validation.go        (ValidateObjectMeta's name checks, ValidateService,
//                                                  ValidateServiceUpdate, validateLoadBalancerClassField)
//   pkg/apis/networking/validation/validation.go  (ValidateIngressCreate/Update: rules, paths, backends)
import { isIP } from "node:net";
import { type FieldError, forbidden, invalidValue, notSupported, required } from "./errors";
import { dig, isObject, type JsonObject, str } from "./json";
import { RESOURCE_INGRESS, RESOURCE_SERVICE, type ResourceInfo } from "./resources";

// Names (staging/src/k8s.io/apimachinery/pkg/util/validation)

// IsDNS1123Label, IsDNS1035Label and IsDNS1123Subdomain: the regexes and messages upstream's, verbatim.
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function dns1123LabelErrors(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push("must be no more than 63 characters");
  if (!DNS1123_LABEL.test(value)) {
    errs.push(
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    );
  }

  return errs;
}

function dns1035LabelErrors(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push("must be no more than 63 characters");
  if (!DNS1035_LABEL.test(value)) {
    errs.push(
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    );
  }

  return errs;
}

function dns1123SubdomainErrors(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 253) errs.push("must be no more than 253 characters");
  if (!DNS1123_SUBDOMAIN.test(value)) {
    errs.push(
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    );
  }

  return errs;
}

/**
 * ValidateObjectMeta's name check: Services are DNS-1035 labels (ValidateServiceName), namespaces DNS-1123 labels
 * (ValidateNamespaceName), the rest DNS-1123 subdomains (NameIsDNSSubdomain).
 */
export function nameErrors(info: ResourceInfo, name: string): FieldError[] {
  const check =
    info.kind === "Service" ? dns1035LabelErrors : info.kind === "Namespace" ? dns1123LabelErrors : dns1123SubdomainErrors;
  return check(name).map((msg) => invalidValue("metadata.name", name, msg));
}

// Services (pkg/apis/core/validation/validation.go)

/** validateLoadBalancerClassField: called with the old object on update and again without it. */
function loadBalancerClassErrors(spec: JsonObject, oldSpec: JsonObject | undefined): FieldError[] {
  const errs: FieldError[] = [];
  if (oldSpec?.type === "LoadBalancer" && oldSpec.loadBalancerClass !== undefined && spec.type === "LoadBalancer") {
    if (spec.loadBalancerClass !== oldSpec.loadBalancerClass) {
      errs.push(invalidValue("spec.loadBalancerClass", spec.loadBalancerClass, "may not change once set"));
    }
  }

  if (spec.type !== "LoadBalancer" && spec.loadBalancerClass !== undefined) {
    errs.push(forbidden("spec.loadBalancerClass", "may only be used when `type` is 'LoadBalancer'"));
  }

  return errs;
}

/**
 * ValidateService / ValidateServiceUpdate with validateServicePort, validateServiceExternalTrafficPolicy and
 * validateServiceInternalTrafficFieldsValue: the parts that apply to single-stack Services. Not checked: CIDRs,
 * IPs, selectors, duplicate ports, sessionAffinityConfig, trafficDistribution.
 */
/** core.AnnotationLoadBalancerSourceRangesKey: the older way to restrict a LoadBalancer Service's sources. */
const SOURCE_RANGES_ANNOTATION = "service.beta.kubernetes.io/load-balancer-source-ranges";

/** apimachinery pkg/util/validation IsValidCIDR (netutils.ParseCIDRSloppy): an IP address and a prefix length. */
function isCidr(value: string): boolean {
  const [address = "", prefix, ...rest] = value.split("/");
  const family = isIP(address);
  if (!family || prefix === undefined || rest.length > 0 || !/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * validateUpgradeDowngradeClusterIPs (ValidateServiceUpdate): a set primary or secondary cluster IP may not change,
 * except to or from ExternalName; the single-stack cases only.
 */
function clusterIPsUpdateErrors(spec: JsonObject, oldSpec: JsonObject): FieldError[] {
  if (spec.type === "ExternalName" || oldSpec.type === "ExternalName") return [];
  if (spec.clusterIP === "None" && oldSpec.clusterIP === "None") return [];
  const now = Array.isArray(spec.clusterIPs) ? spec.clusterIPs.map(String) : [];
  const before = Array.isArray(oldSpec.clusterIPs) ? oldSpec.clusterIPs.map(String) : [];
  if (before.length > now.length && now.length === 0) return [invalidValue("spec.clusterIPs[0]", now, "primary clusterIP can not be unset")];
  if (before.length !== now.length) return [];
  return before.flatMap((ip, i) => (ip !== now[i] ? [invalidValue(`spec.clusterIPs[${i}]`, now, "may not change once set")] : []));
}

export function validateService(svc: JsonObject, old: JsonObject | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const spec = isObject(svc.spec) ? svc.spec : {};
  const type = str(spec.type);
  const annotations = dig(svc, "metadata.annotations");
  const sourceRangesAnnotation = isObject(annotations) ? str(annotations[SOURCE_RANGES_ANNOTATION]) : undefined;
  if (old) errs.push(...loadBalancerClassErrors(spec, isObject(old.spec) ? old.spec : {}), ...clusterIPsUpdateErrors(spec, isObject(old.spec) ? old.spec : {}));
  else errs.push(...nameErrors(RESOURCE_SERVICE, String(dig(svc, "metadata.name") ?? "")));

  const ports = Array.isArray(spec.ports) ? spec.ports : [];
  const headless = spec.clusterIP === "None";
  if (ports.length === 0 && !headless && type !== "ExternalName") errs.push(required("spec.ports"));
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const at = `spec.ports[${i}]`;
    const port = isObject(p) ? p : {};
    const name = str(port.name) ?? "";
    if (ports.length > 1 && name === "") errs.push(required(`${at}.name`));
    else if (name !== "") {
      for (const msg of dns1123LabelErrors(name)) errs.push(invalidValue(`${at}.name`, name, msg));
      if (names.has(name)) errs.push({ type: "FieldValueDuplicate", field: `${at}.name`, value: name, detail: "" });
      names.add(name);
    }
    if (typeof port.port !== "number" || port.port < 1 || port.port > 65535) {
      errs.push(invalidValue(`${at}.port`, port.port, "must be between 1 and 65535, inclusive"));
    }
    if (!["TCP", "UDP", "SCTP"].includes(String(port.protocol))) {
      errs.push(notSupported(`${at}.protocol`, port.protocol, ["SCTP", "TCP", "UDP"]));
    }
  });

  if (!["None", "ClientIP"].includes(String(spec.sessionAffinity))) {
    errs.push(notSupported("spec.sessionAffinity", spec.sessionAffinity, ["ClientIP", "None"]));
  }

  if (!type) errs.push(required("spec.type"));
  else if (!["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"].includes(type)) {
    errs.push(notSupported("spec.type", type, ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]));
  }

  if (type === "ClusterIP") {
    ports.forEach((p, i) => {
      if (isObject(p) && p.nodePort) {
        errs.push(forbidden(`spec.ports[${i}].nodePort`, "may not be used when `type` is 'ClusterIP'"));
      }
    });
  }

  // Upstream's field path really is capitalised here ("LoadBalancerSourceRanges"). The annotation form is checked
  // only when the field is empty, and then whatever the type: merely having the key on a non-LoadBalancer Service
  // is refused (kubernetes v1.31.0 pkg/apis/core/validation/validation.go, ValidateService).
  if (Array.isArray(spec.loadBalancerSourceRanges) && spec.loadBalancerSourceRanges.length > 0) {
    if (type !== "LoadBalancer") {
      errs.push(forbidden("spec.LoadBalancerSourceRanges", "may only be used when `type` is 'LoadBalancer'"));
    }
  } else if (sourceRangesAnnotation !== undefined) {
    const fieldPath = `metadata.annotations[${SOURCE_RANGES_ANNOTATION}]`;
    if (type !== "LoadBalancer") errs.push(forbidden(fieldPath, "may only be used when `type` is 'LoadBalancer'"));
    const value = sourceRangesAnnotation.trim();
    for (const cidr of value === "" ? [] : value.split(",")) {
      if (!isCidr(cidr.trim())) errs.push(invalidValue(fieldPath, sourceRangesAnnotation, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"));
    }
  }

  if (spec.allocateLoadBalancerNodePorts !== undefined && type !== "LoadBalancer") {
    errs.push(forbidden("spec.allocateLoadBalancerNodePorts", "may only be used when `type` is 'LoadBalancer'"));
  }

  errs.push(...loadBalancerClassErrors(spec, undefined));

  const externallyAccessible =
    type === "LoadBalancer" ||
    type === "NodePort" ||
    (type === "ClusterIP" && Array.isArray(spec.externalIPs) && spec.externalIPs.length > 0);
  const etp = str(spec.externalTrafficPolicy) ?? "";
  if (!externallyAccessible) {
    if (etp !== "") {
      errs.push(invalidValue("spec.externalTrafficPolicy", etp, "may only be set for externally-accessible services"));
    }
  } else if (etp === "") errs.push(required("spec.externalTrafficPolicy"));
  else if (!["Cluster", "Local"].includes(etp)) errs.push(notSupported("spec.externalTrafficPolicy", etp, ["Cluster", "Local"]));
  const needsHealthCheck = type === "LoadBalancer" && etp === "Local";
  if (needsHealthCheck && !(typeof spec.healthCheckNodePort === "number" && spec.healthCheckNodePort > 0)) {
    errs.push(required("spec.healthCheckNodePort", "must be set when externalTrafficPolicy is 'Local'"));
  }
  if (!needsHealthCheck && spec.healthCheckNodePort) {
    errs.push(
      invalidValue(
        "spec.healthCheckNodePort",
        spec.healthCheckNodePort,
        "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
      ),
    );
  }

  const itp = spec.internalTrafficPolicy;
  if (itp === undefined && type !== "ExternalName") errs.push(required("spec.internalTrafficPolicy"));
  else if (itp !== undefined && !["Cluster", "Local"].includes(String(itp))) {
    errs.push(notSupported("spec.internalTrafficPolicy", itp, ["Cluster", "Local"]));
  }

  return errs;
}

// Ingresses (pkg/apis/networking/validation/validation.go), the checks an Ingress built by code can trip

/**
 * ValidateIngressCreate / ValidateIngressUpdate → ValidateIngressSpec, validateIngressRules,
 * validateHTTPIngressPath, validateIngressBackend. Simplified: a wildcard host is checked as a subdomain after
 * its "*.", and the backend errors name different field paths and messages than upstream (see README.md).
 */
export function validateIngress(ing: JsonObject, old: JsonObject | undefined): FieldError[] {
  const errs: FieldError[] = [];
  if (!old) errs.push(...nameErrors(RESOURCE_INGRESS, String(dig(ing, "metadata.name") ?? "")));
  const spec = isObject(ing.spec) ? ing.spec : {};
  const rules = Array.isArray(spec.rules) ? spec.rules : [];
  if (rules.length === 0 && spec.defaultBackend === undefined) {
    errs.push(invalidValue("spec", null, "either `defaultBackend` or `rules` must be specified"));
  }

  rules.forEach((r, i) => {
    const rule = isObject(r) ? r : {};
    const host = str(rule.host);
    if (host) {
      const bare = host.startsWith("*.") ? host.slice(2) : host;
      for (const msg of dns1123SubdomainErrors(bare)) errs.push(invalidValue(`spec.rules[${i}].host`, host, msg));
    }
    const paths = dig(rule, "http.paths");
    (Array.isArray(paths) ? paths : []).forEach((p, j) => {
      const at = `spec.rules[${i}].http.paths[${j}]`;
      const path = isObject(p) ? p : {};
      const pathType = str(path.pathType);
      if (!pathType) errs.push(required(`${at}.pathType`, "pathType must be specified"));
      else if (!["Exact", "ImplementationSpecific", "Prefix"].includes(pathType)) {
        errs.push(notSupported(`${at}.pathType`, pathType, ["Exact", "ImplementationSpecific", "Prefix"]));
      } else if (pathType !== "ImplementationSpecific" && !String(path.path ?? "").startsWith("/")) {
        errs.push(invalidValue(`${at}.path`, path.path, "must be an absolute path"));
      }
      const service = dig(path, "backend.service");
      if (isObject(service)) {
        if (!str(service.name)) errs.push(required(`${at}.backend.service.name`));
        const port = isObject(service.port) ? service.port : {};
        if (port.name !== undefined && port.number !== undefined) {
          errs.push(invalidValue(`${at}.backend.service.port`, port, "cannot set both port name & port number"));
        } else if (port.name === undefined && port.number === undefined) {
          errs.push(required(`${at}.backend.service.port`, "port name or number is required"));
        }
      } else if (dig(path, "backend.resource") === undefined) {
        errs.push(invalidValue(`${at}.backend`, null, "one backend (`service` or `resource`) must be specified"));
      }
    });
  });
  return errs;
}

// IngressClasses (pkg/apis/networking/validation/validation.go: ValidateIngressClass, ValidateIngressClassUpdate,
// validateIngressClassSpec, validateIngressClassParametersReference, validateIngressTypedLocalObjectReference;
// staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go IsDomainPrefixedPath;
// staging/src/k8s.io/apimachinery/pkg/api/validation/path/name.go IsValidPathSegmentName)

const HTTP_PATH = /^[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/;

function domainPrefixedPathErrors(field: string, value: string): FieldError[] {
  if (value === "") return [required(field)];
  const slash = value.indexOf("/");
  const host = slash < 0 ? value : value.slice(0, slash);
  const path = slash < 0 ? "" : value.slice(slash + 1);
  if (slash < 0 || host === "" || path === "") {
    return [invalidValue(field, value, 'must be a domain-prefixed path (such as "acme.io/foo")')];
  }
  const errs = dns1123SubdomainErrors(host).map((msg) => invalidValue(field, host, msg));
  if (!HTTP_PATH.test(path)) {
    errs.push(invalidValue(field, path, "Invalid path (regex used for validation is '[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+')"));
  }
  return errs;
}

function pathSegmentErrors(value: string): string[] {
  if (value === "." || value === "..") return [`may not be '${value}'`];
  return ["/", "%"].filter((c) => value.includes(c)).map((c) => `may not contain '${c}'`);
}

/** SetDefaults_IngressClass (pkg/apis/networking/v1/defaults.go): parameters without a scope are Cluster-scoped. */
export function defaultIngressClass(obj: JsonObject): void {
  const parameters = dig(obj, "spec.parameters");
  if (isObject(parameters) && parameters.scope === undefined) parameters.scope = "Cluster";
}

export function validateIngressClass(obj: JsonObject, old: JsonObject | undefined): FieldError[] {
  const errs: FieldError[] = [];
  if (!old) errs.push(...nameErrors({ kind: "IngressClass" } as ResourceInfo, String(dig(obj, "metadata.name") ?? "")));
  const controller = str(dig(obj, "spec.controller")) ?? "";
  if (old) {
    const before = str(dig(old, "spec.controller")) ?? "";
    if (controller !== before) errs.push(invalidValue("spec.controller", controller, "field is immutable"));
  }
  errs.push(...domainPrefixedPathErrors("spec.controller", controller));
  const params = dig(obj, "spec.parameters");
  if (!isObject(params)) return errs;
  const at = "spec.parameters";
  const apiGroup = str(params.apiGroup);
  if (apiGroup !== undefined) for (const msg of dns1123SubdomainErrors(apiGroup)) errs.push(invalidValue(`${at}.apiGroup`, apiGroup, msg));
  for (const key of ["kind", "name"] as const) {
    const value = str(params[key]) ?? "";
    if (value === "") errs.push(required(`${at}.${key}`, `${key} is required`));
    else for (const msg of pathSegmentErrors(value)) errs.push(invalidValue(`${at}.${key}`, value, msg));
  }
  const scope = str(params.scope);
  if (scope === undefined) {
    errs.push(required(`${at}.scope`));
    return errs;
  }
  if (scope !== "Cluster" && scope !== "Namespace") {
    errs.push(notSupported(`${at}.scope`, scope, ["Cluster", "Namespace"]));
    return errs;
  }
  const namespace = str(params.namespace);
  if (scope === "Namespace") {
    if (namespace === undefined) errs.push(required(`${at}.namespace`, "`parameters.scope` is set to 'Namespace'"));
    else for (const msg of dns1123LabelErrors(namespace)) errs.push(invalidValue(`${at}.namespace`, namespace, msg));
  }
  if (scope === "Cluster" && params.namespace !== undefined) {
    errs.push(forbidden(`${at}.namespace`, "`parameters.scope` is set to 'Cluster'"));
  }
  return errs;
}

// Secrets (pkg/apis/core/validation/validation.go ValidateSecret, ValidateSecretUpdate; pkg/apis/core/v1/defaults.go
// SetDefaults_Secret), kubernetes/kubernetes v1.32. Only what a Secret of cert-manager's (kubernetes.io/tls) or an
// Opaque one meets; the other types' rules (dockercfg, basic-auth, ssh-auth, service-account-token) are not modelled.

/** core.MaxSecretSize: the sum of the decoded values. */
const MAX_SECRET_SIZE = 1024 * 1024;
/** IsConfigMapKey's characters (staging/src/k8s.io/apimachinery/pkg/util/validation). */
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const CONFIG_KEY_MSG =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";
const STANDARD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** SetDefaults_Secret: a Secret without a type is Opaque. */
export function defaultSecret(obj: JsonObject): void {
  if (obj.type === undefined || obj.type === "") obj.type = "Opaque";
}

export function validateSecret(obj: JsonObject, old: JsonObject | undefined): FieldError[] {
  const errs: FieldError[] = [];
  if (!old) errs.push(...nameErrors({ kind: "Secret" } as ResourceInfo, String(dig(obj, "metadata.name") ?? "")));
  const data = isObject(obj.data) ? obj.data : {};
  let size = 0;
  for (const [key, value] of Object.entries(data)) {
    if (key.length > 253) errs.push(invalidValue(`data[${key}]`, key, "must be no more than 253 characters"));
    if (!CONFIG_KEY.test(key)) errs.push(invalidValue(`data[${key}]`, key, CONFIG_KEY_MSG));
    // Simplification: the real apiserver fails to decode a []byte that is not standard base64 before validation
    // (a 400 from the JSON decoder); here it is a field error on the key, the value redacted as upstream redacts it.
    if (typeof value !== "string" || !STANDARD_BASE64.test(value)) {
      errs.push(invalidValue(`data[${key}]`, "<secret contents redacted>", "must be base64-encoded"));
      continue;
    }
    size += Buffer.from(value, "base64").length;
  }
  if (size > MAX_SECRET_SIZE) errs.push(invalidValue("data", "<secret contents redacted>", `Too long: must have at most ${MAX_SECRET_SIZE} bytes`));
  const type = str(obj.type) ?? "Opaque";
  // case core.SecretTypeTLS: both keys must exist (their values may be empty; the key/cert match is a TODO upstream).
  if (type === "kubernetes.io/tls") {
    for (const key of ["tls.crt", "tls.key"]) if (!(key in data)) errs.push(required(`data[${key}]`));
  }
  if (old) {
    const before = str(old.type) ?? "Opaque";
    if (type !== before) errs.push(invalidValue("type", type, "field is immutable"));
  }
  return errs;
}
