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
import { type ACMClient, DescribeCertificateCommand, ListCertificatesCommand } from "@aws-sdk/client-acm";
import { ApiException, type CoreV1Api, type V1Ingress, type V1IngressBackend, type V1Service } from "@kubernetes/client-node";
import { bool, int32, type ListenProtocol, PREFIX, parseListenPorts, stringMap, stringSlice } from "./annotation-grammar";
import { BuildError, errorText } from "./errors";

export type Scheme = "internet-facing" | "internal";
export type ProtocolVersion = "HTTP1" | "HTTP2" | "GRPC";

export interface TargetGroupSpec {
  key: string;
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
const DEFAULT_SSL_POLICY = "ELBSecurityPolicy-2016-08";
/** pkg/ingress/model_builder.go defaults: GRPC health check path and matcher, HTTP matcher. */
const DEFAULT_GRPC_HC_PATH = "/AWS.ALB/healthcheck";
const DEFAULT_HTTP_HC_PATH = "/";
const DEFAULT_GRPC_SUCCESS = "12";
const DEFAULT_HTTP_SUCCESS = "200";

/** Whether the controller owns this Ingress. */
export function isAlbIngress(ing: V1Ingress): boolean {
  const cls = ing.spec?.ingressClassName;
  if (cls !== undefined && cls !== null) return cls === "alb";
  // The legacy annotation, which the controller still honours when no ingressClassName is set.
  return ing.metadata?.annotations?.["kubernetes.io/ingress.class"] === "alb";
}

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

/** computeIngressListenPortConfigByPort: listen ports, then explicit or discovered certificates. */
async function buildListenPortConfig(
  ing: V1Ingress,
  a: (suffix: string) => string | undefined,
  acm: ACMClient,
): Promise<{ listenPorts: Map<number, ListenProtocol>; certificateArns: string[] }> {
  const explicit = stringSlice(a("certificate-arn"));
  const rawPorts = a("listen-ports");
  const listenPorts =
    rawPorts === undefined
      ? new Map([explicit.length > 0 ? [443, "HTTPS" as const] : [80, "HTTP" as const]])
      : parseListenPorts(rawPorts);
  let certificateArns = explicit;
  if ([...listenPorts.values()].includes("HTTPS") && explicit.length === 0) {
    const hosts = new Set<string>();
    for (const r of ing.spec?.rules ?? []) if (r.host) hosts.add(r.host);
    for (const t of ing.spec?.tls ?? []) for (const h of t.hosts ?? []) hosts.add(h);
    certificateArns = await discoverCertificates(acm, [...hosts].sort());
  }
  return { listenPorts, certificateArns };
}

/**
 * One target group per (Service, port) a backend names. Target-group annotations may sit on the Service too, and
 * the Service's win (MergeStringMap order). Returns the target group's key in `targetGroups`.
 */
async function buildTargetGroup(
  backend: V1IngressBackend,
  ing: V1Ingress,
  core: CoreV1Api,
  services: Map<string, V1Service>,
  targetGroups: Map<string, TargetGroupSpec>,
): Promise<string> {
  const ns = ing.metadata?.namespace ?? "default";
  const ann = ing.metadata?.annotations ?? {};
  const svcName = backend.service?.name;
  if (!svcName) throw new BuildError("missing service backend");
  let svc = services.get(svcName);
  if (!svc) {
    svc = await readService(core, ns, svcName);
    services.set(svcName, svc);
  }
  const portRef = backend.service?.port;
  const port = (svc.spec?.ports ?? []).find((p) => (portRef?.name ? p.name === portRef.name : p.port === portRef?.number));
  if (!port) {
    throw new BuildError(`unable to find port ${portRef?.name ?? portRef?.number} on service ${ns}/${svcName}`);
  }
  const merged: Record<string, string> = { ...ann, ...(svc.metadata?.annotations ?? {}) };
  const t = (suffix: string): string | undefined => merged[PREFIX + suffix];
  const targetType = t("target-type") ?? "instance";
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
  const key = `${svcName}:${port.port}`;
  targetGroups.set(key, {
    key,
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

/** Listener rules and their target groups, in rule order. */
async function buildRules(
  ing: V1Ingress,
  core: CoreV1Api,
): Promise<{ routes: Route[]; defaultTg?: string; targetGroups: Map<string, TargetGroupSpec> }> {
  const targetGroups = new Map<string, TargetGroupSpec>();
  const services = new Map<string, V1Service>();
  const routes: Route[] = [];
  let defaultTg: string | undefined;
  if (ing.spec?.defaultBackend) {
    defaultTg = await buildTargetGroup(ing.spec.defaultBackend, ing, core, services, targetGroups);
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
      const tg = await buildTargetGroup(p.backend, ing, core, services, targetGroups);
      routes.push({ host: rule.host?.toLowerCase(), pathType, path, tg });
    }
  }
  return { routes, defaultTg, targetGroups };
}

/** The controller's model build for one Ingress; a BuildError becomes a FailedBuildModel event. */
export async function buildModel(ing: V1Ingress, { core, acm }: ModelSources): Promise<Model> {
  const ingName = `${ing.metadata?.namespace ?? "default"}/${ing.metadata?.name ?? ""}`;
  const ann = ing.metadata?.annotations ?? {};
  const a = (suffix: string): string | undefined => ann[PREFIX + suffix];

  // 1. listen ports, certificates, ssl policy (computeIngressListenPortConfigByPort, wrapped "ingress: ns/name").
  let listenPortConfig: Awaited<ReturnType<typeof buildListenPortConfig>>;
  try {
    listenPortConfig = await buildListenPortConfig(ing, a, acm);
  } catch (e) {
    throw new BuildError(`ingress: ${ingName}: ${errorText(e)}`);
  }
  const sslPolicy = a("ssl-policy") ?? DEFAULT_SSL_POLICY;

  // 2. the load balancer: scheme, IP address type, attributes.
  const scheme = a("scheme") ?? "internal";
  if (scheme !== "internet-facing" && scheme !== "internal") throw new BuildError(`unknown scheme: ${scheme}`);
  const ipType = a("ip-address-type") ?? "ipv4";
  if (!["ipv4", "dualstack", "dualstack-without-public-ipv4"].includes(ipType)) {
    throw new BuildError(`unknown IPAddressType: ${ipType}`);
  }
  const lbAttributes = stringMap("load-balancer-attributes", a("load-balancer-attributes"));

  // 3. listener rules and their target groups.
  try {
    const rules = await buildRules(ing, core);
    return { scheme, lbAttributes, sslPolicy, ...listenPortConfig, ...rules };
  } catch (e) {
    if (e instanceof BuildError) throw new BuildError(`ingress: ${ingName}: ${e.message}`);
    throw e;
  }
}
