// The model the controller builds from one Ingress, its backend Services and ACM: listen ports and certificates,
// the load balancer, listener rules and their target groups. The steps and their messages follow
// kubernetes-sigs/aws-load-balancer-controller v3.5.0 (paths in that repository):
// - pkg/ingress/model_builder.go: the order (listen-port config, wrapped "ingress: ns/name: ...", then the load
//   balancer, then listeners and rules) and the target-group defaults (GRPC health check path and matcher);
// - pkg/ingress/model_build_listener.go computeIngressListenPortConfigByPort, pkg/certs/cert_discovery.go;
// - pkg/ingress/model_build_load_balancer.go (scheme, IP address type), model_build_load_balancer_attributes.go;
// - pkg/ingress/model_build_listener_rules.go (sortIngressPaths, path wildcard checks);
// - pkg/ingress/enhanced_backend_builder.go, pkg/k8s/service_utils.go, pkg/ingress/model_build_target_group.go.
// Annotation values are read with this simulator's own grammar (annotation-grammar.ts), never the product's.
// Group-wide settings (merged across the members of an IngressGroup) are built in group-model.ts.
import { type ACMClient, DescribeCertificateCommand, ListCertificatesCommand } from "@aws-sdk/client-acm";
import { ApiException, type CoreV1Api, type V1Ingress, type V1IngressBackend, type V1Service } from "@kubernetes/client-node";
import { isIPv4, isIPv6 } from "node:net";
import { bool, int32, type ListenProtocol, PREFIX, parseListenPorts, stringMap, stringSlice } from "./annotation-grammar";
import { BuildError } from "./errors";
import type { Member } from "./groups";
import { objectKey } from "./kube";

export type Scheme = "internet-facing" | "internal";
export type ProtocolVersion = "HTTP1" | "HTTP2" | "GRPC";

export interface TargetGroupSpec {
  key: string;
  /** The Service's namespace (a group's members may sit in several). */
  namespace: string;
  service: string;
  /** The Service port number targetFor() is asked about. */
  servicePort: number;
  targetType: "ip" | "instance";
  protocol: "HTTP" | "HTTPS";
  protocolVersion: ProtocolVersion;
  successCodes: string;
  healthCheckPath: string;
}

export interface Route {
  /** Lower-case host or glob (`*.example.com`); undefined matches every host. */
  host?: string;
  pathType: "Exact" | "Prefix" | "ImplementationSpecific";
  path: string;
  tg: string;
}

export interface Model {
  /** buildLoadBalancerName: explicit, or `k8s-…` from the cluster, the group ID and the scheme. */
  loadBalancerName: string;
  /** What makes the ALB's DNS digits: the group (an implicit group's Ingress UID, an explicit group's name). */
  dnsSeed: string;
  ipAddressType: string;
  tags: Record<string, string>;
  inboundCIDRs: string[];
  scheme: Scheme;
  lbAttributes: Record<string, string>;
  listenPorts: Map<number, ListenProtocol>;
  certificateArns: string[];
  sslPolicy: string;
  routes: Route[];
  defaultTg?: string;
  targetGroups: Map<string, TargetGroupSpec>;
}

/** pkg/config/controller_config.go defaultSSLPolicy. */
export const DEFAULT_SSL_POLICY = "ELBSecurityPolicy-2016-08";
/** pkg/ingress/model_builder.go defaults: GRPC health check path and matcher, HTTP matcher. */
const DEFAULT_GRPC_HC_PATH = "/AWS.ALB/healthcheck";
const DEFAULT_HTTP_HC_PATH = "/";
const DEFAULT_GRPC_SUCCESS = "12";
const DEFAULT_HTTP_SUCCESS = "200";

/** The default backend and every rule's backends, in rule order. */
export function backendServices(ing: V1Ingress): V1IngressBackend[] {
  const out: V1IngressBackend[] = [];
  if (ing.spec?.defaultBackend) out.push(ing.spec.defaultBackend);
  for (const rule of ing.spec?.rules ?? []) for (const p of rule.http?.paths ?? []) out.push(p.backend);
  return out;
}

export interface ModelSources {
  core: CoreV1Api;
  acm: ACMClient;
  /** `instance` for the self-managed controller (pkg/config), `ip` in EKS Auto Mode (EKS docs, load balancing). */
  defaultTargetType: "ip" | "instance";
}

async function readService(core: CoreV1Api, ns: string, name: string): Promise<V1Service> {
  try {
    return await core.readNamespacedService({ name, namespace: ns });
  } catch (e) {
    if (e instanceof ApiException && e.code === 404) {
      // apierrors.NewNotFound's text, which enhanced_backend_builder passes up unchanged.
      throw new BuildError(`services "${name}" not found`);
    }
    throw e;
  }
}

/** pkg/certs/cert_discovery.go: ISSUED ACM certificates whose domain names cover each host. */
async function discoverCertificates(acm: ACMClient, hosts: string[]): Promise<string[]> {
  const found = new Set<string>();
  const domainsByArn = new Map<string, string[]>();
  let next: string | undefined;
  do {
    const page = await acm.send(new ListCertificatesCommand({ CertificateStatuses: ["ISSUED"], NextToken: next }));
    for (const s of page.CertificateSummaryList ?? []) {
      if (!s.CertificateArn) continue;
      const d = await acm.send(new DescribeCertificateCommand({ CertificateArn: s.CertificateArn }));
      const c = d.Certificate;
      domainsByArn.set(s.CertificateArn, [c?.DomainName ?? "", ...(c?.SubjectAlternativeNames ?? [])]);
    }
    next = page.NextToken;
  } while (next);
  for (const host of hosts) {
    const matches = [...domainsByArn].filter(([, domains]) =>
      domains.some((d) => d === host || (d.startsWith("*.") && host.split(".").slice(1).join(".") === d.slice(2))),
    );
    if (matches.length === 0) throw new BuildError(`no certificate found for host: ${host}`);
    for (const [arn] of matches) found.add(arn);
  }
  return [...found];
}

/** One listen port of one member (listenPortConfig). */
export interface ListenPortConfig {
  protocol: ListenProtocol;
  inboundCIDRv4s: string[];
  inboundCIDRv6s: string[];
  /** Only for HTTPS, and only when set explicitly (the default policy is applied after merging). */
  sslPolicy?: string;
  tlsCerts: string[];
}

/** Go's net.ParseCIDR, for the forms people write: a.b.c.d/n and IPv6/n. */
function parseCidr(cidr: string): boolean {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(cidr);
  if (!m) return false;
  const [, ip = "", bits = ""] = m;
  if (isIPv4(ip)) return Number(bits) <= 32;
  return isIPv6(ip) && Number(bits) <= 128;
}

/**
 * computeIngressListenPortConfigByPort for one member: listen ports; certificates from IngressClassParams, else the
 * annotation, else discovery; inbound CIDRs and the SSL policy from IngressClassParams, else the annotations.
 */
export async function buildListenPortConfig(member: Member, acm: ACMClient): Promise<Map<number, ListenPortConfig>> {
  const { ing, config } = member;
  const ann = ing.metadata?.annotations ?? {};
  const a = (suffix: string): string | undefined => ann[PREFIX + suffix];
  const params = config.params;
  const explicit = params && params.certificateArns.length > 0 ? params.certificateArns : stringSlice(a("certificate-arn"));
  const rawPorts = a("listen-ports");
  const listenPorts =
    rawPorts === undefined
      ? new Map([explicit.length > 0 ? [443, "HTTPS" as const] : [80, "HTTP" as const]])
      : parseListenPorts(rawPorts);

  // computeIngressExplicitInboundCIDRs
  const fromParams = !!params && params.inboundCIDRs.length > 0;
  const rawCidrs = fromParams ? (params?.inboundCIDRs ?? []) : stringSlice(a("inbound-cidrs"));
  const v4: string[] = [];
  const v6: string[] = [];
  for (const cidr of rawCidrs) {
    if (!parseCidr(cidr)) {
      const goErr = `invalid CIDR address: ${cidr}`;
      throw new BuildError(
        fromParams
          ? `invalid CIDR in IngressClassParams InboundCIDR ${cidr}: ${goErr}`
          : `invalid inbound-cidrs settings on Ingress: ${objectKey(ing.metadata?.namespace ?? "default", ing.metadata?.name ?? "")}: ${goErr}`,
      );
    }
    (cidr.includes(":") ? v6 : v4).push(cidr);
  }
  const sslPolicy = params?.sslPolicy ?? a("ssl-policy");

  let tlsCerts = explicit;
  if ([...listenPorts.values()].includes("HTTPS") && explicit.length === 0) {
    const hosts = new Set<string>();
    for (const r of ing.spec?.rules ?? []) if (r.host) hosts.add(r.host);
    for (const t of ing.spec?.tls ?? []) for (const h of t.hosts ?? []) hosts.add(h);
    tlsCerts = await discoverCertificates(acm, [...hosts].sort());
  }
  const out = new Map<number, ListenPortConfig>();
  for (const [port, protocol] of listenPorts) {
    out.set(port, {
      protocol,
      inboundCIDRv4s: v4,
      inboundCIDRv6s: v6,
      sslPolicy: protocol === "HTTPS" ? sslPolicy : undefined,
      tlsCerts: protocol === "HTTPS" ? tlsCerts : [],
    });
  }
  return out;
}

/**
 * One target group per (Service, port) a backend names. Target-group annotations may sit on the Service too, and
 * the Service's win (MergeStringMap(svc.Annotations, ing.Annotations)); IngressClassParams targetType wins over
 * both. Returns the target group's key in `targetGroups`.
 */
async function buildTargetGroup(
  backend: V1IngressBackend,
  member: Member,
  sources: ModelSources,
  services: Map<string, V1Service>,
  targetGroups: Map<string, TargetGroupSpec>,
): Promise<string> {
  const { ing, config } = member;
  const ns = ing.metadata?.namespace ?? "default";
  const ann = ing.metadata?.annotations ?? {};
  const svcName = backend.service?.name;
  if (!svcName) throw new BuildError("missing service backend");
  const svcKey = objectKey(ns, svcName);
  let svc = services.get(svcKey);
  if (!svc) {
    svc = await readService(sources.core, ns, svcName);
    services.set(svcKey, svc);
  }
  const portRef = backend.service?.port;
  const port = (svc.spec?.ports ?? []).find((p) => (portRef?.name ? p.name === portRef.name : p.port === portRef?.number));
  if (!port) {
    throw new BuildError(`unable to find port ${portRef?.name ?? portRef?.number} on service ${ns}/${svcName}`);
  }
  const merged: Record<string, string> = { ...ann, ...(svc.metadata?.annotations ?? {}) };
  const t = (suffix: string): string | undefined => merged[PREFIX + suffix];
  const targetType = config.params?.targetType ?? t("target-type") ?? sources.defaultTargetType;
  if (targetType !== "ip" && targetType !== "instance") throw new BuildError(`unknown targetType: ${targetType}`);
  const protocol = t("backend-protocol") ?? "HTTP";
  if (protocol !== "HTTP" && protocol !== "HTTPS") {
    throw new BuildError(`backend protocol must be within [HTTP, HTTPS]: ${protocol}`);
  }
  const version = t("backend-protocol-version") ?? "HTTP1";
  if (version !== "HTTP1" && version !== "HTTP2" && version !== "GRPC") {
    throw new BuildError(`backend protocol version must be within [HTTP1, HTTP2, GRPC]: ${version}`);
  }
  const hcProtocol = t("healthcheck-protocol") ?? protocol;
  if (hcProtocol !== "HTTP" && hcProtocol !== "HTTPS") {
    throw new BuildError("healthCheckProtocol must be within [HTTP, HTTPS]");
  }
  for (const suffix of [
    "healthcheck-interval-seconds",
    "healthcheck-timeout-seconds",
    "healthy-threshold-count",
    "unhealthy-threshold-count",
  ]) {
    int32(suffix, t(suffix));
  }
  stringMap("target-group-attributes", t("target-group-attributes"));
  // buildTargetGroupBindingMultiClusterFlag: the Ingress's value, then (unless true) the Service's, each on its own.
  if (!bool("multi-cluster-target-group", ann[`${PREFIX}multi-cluster-target-group`])) {
    bool("multi-cluster-target-group", svc.metadata?.annotations?.[`${PREFIX}multi-cluster-target-group`]);
  }
  // buildTargetGroupPort: instance targets need a NodePort; ip targets use the targetPort (or 1 if named).
  const tgPort = targetType === "instance" ? (port.nodePort ?? 0) : 1;
  if (tgPort === 0) {
    throw new BuildError(
      "TargetGroup port is empty. When using Instance targets, your service be must of type 'NodePort' or 'LoadBalancer'",
    );
  }
  const key = `${ns}/${svcName}:${port.port}`;
  targetGroups.set(key, {
    key,
    namespace: ns,
    service: svcName,
    servicePort: port.port,
    targetType,
    protocol,
    protocolVersion: version,
    successCodes: t("success-codes") ?? (version === "GRPC" ? DEFAULT_GRPC_SUCCESS : DEFAULT_HTTP_SUCCESS),
    healthCheckPath: t("healthcheck-path") ?? (version === "GRPC" ? DEFAULT_GRPC_HC_PATH : DEFAULT_HTTP_HC_PATH),
  });
  return key;
}

/** sortIngressPaths: Exact first, then Prefix (longest first), then the rest, each group in spec order. */
function sortedPaths<P extends { pathType?: string; path?: string }>(paths: P[]): P[] {
  const rank = (t: string | undefined) => (t === "Exact" ? 0 : t === "Prefix" ? 1 : 2);
  return [...paths].sort((x, y) => {
    const d = rank(x.pathType) - rank(y.pathType);
    if (d !== 0) return d;
    return x.pathType === "Prefix" ? (y.path ?? "").length - (x.path ?? "").length : 0;
  });
}

/** Listener rules of one member and their target groups, in rule order, added to the group's. */
export async function buildRules(
  member: Member,
  sources: ModelSources,
  into: { routes: Route[]; defaultTg?: string; targetGroups: Map<string, TargetGroupSpec>; services: Map<string, V1Service> },
): Promise<void> {
  const { ing } = member;
  if (ing.spec?.defaultBackend) {
    const tg = await buildTargetGroup(ing.spec.defaultBackend, member, sources, into.services, into.targetGroups);
    // guess: in a group the first member (by group order) with a default backend provides the default action.
    into.defaultTg ??= tg;
  }
  for (const rule of ing.spec?.rules ?? []) {
    if (!rule.http) continue;
    for (const p of sortedPaths(rule.http.paths)) {
      const pathType = (p.pathType ?? "ImplementationSpecific") as Route["pathType"];
      if (!["Exact", "Prefix", "ImplementationSpecific"].includes(pathType)) {
        throw new BuildError(`unknown pathType for path ${p.path}`);
      }
      const path = p.path ?? "/";
      if (pathType !== "ImplementationSpecific" && /[*?]/.test(path)) {
        throw new BuildError(`${pathType === "Exact" ? "exact" : "prefix"} path shouldn't contain wildcards: ${path}`);
      }
      const tg = await buildTargetGroup(p.backend, member, sources, into.services, into.targetGroups);
      into.routes.push({ host: rule.host?.toLowerCase(), pathType, path, tg });
    }
  }
}
