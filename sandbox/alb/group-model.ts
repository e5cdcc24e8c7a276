// The model of one IngressGroup: every member's listen ports merged per port, the load balancer's group-wide
// settings (where members must agree, or the whole group fails to build), then every member's rules in group order.
// After kubernetes-sigs/aws-load-balancer-controller v3.5.0 (paths in that repository):
// - pkg/ingress/model_builder.go run (member listen-port configs wrapped `ingress: ns/name`, then
//   `failed to merge listenPort config for port: N`) and mergeListenPortConfigs (conflicting protocol,
//   inbound-cidrs, sslPolicy; certificates merged with the first member's first certificate as the default);
// - pkg/ingress/model_build_load_balancer.go (buildLoadBalancerScheme, buildLoadBalancerIPAddressType,
//   buildLoadBalancerSubnetMappings' conflicts, buildLoadBalancerName), model_build_load_balancer_attributes.go
//   (attributes merged, IngressClassParams resolving conflicts), model_build_tags.go (conflicting tags).
// IngressClassParams values win over each member's annotations throughout.
import { createHash } from "node:crypto";
import type { V1Service } from "@kubernetes/client-node";
import { stringMap } from "./annotation-grammar";
import { BuildError, errorText } from "./errors";
import type { Group } from "./groups";
import { objectKey } from "./kube";
import {
  buildListenPortConfig,
  buildRules,
  DEFAULT_SSL_POLICY,
  type ListenPortConfig,
  type Model,
  type ModelSources,
  type Route,
  type Scheme,
  type TargetGroupSpec,
} from "./model";

/** Cluster name that feeds the load balancer name hash (buildLoadBalancerName). */
const CLUSTER_NAME = "milvus-l7-sandbox";

const nameOf = (m: { ing: { metadata?: { namespace?: string; name?: string } } }) =>
  objectKey(m.ing.metadata?.namespace ?? "default", m.ing.metadata?.name ?? "");

/** Go's fmt of a sets.String (a map[string]Empty): `map[a:{} b:{}]`, keys sorted. */
const goSet = (values: Set<string>) => `map[${[...values].sort().map((v) => `${v}:{}`).join(" ")}]`;
/** Go's fmt of a []string: `[a b]`. */
const goList = (values: string[]) => `[${[...values].sort().join(" ")}]`;
const sameSet = (x: string[], y: string[]) => goList(x) === goList(y);

/** mergeListenPortConfigs for one port. */
function mergePort(cfgs: { key: string; cfg: ListenPortConfig }[]): ListenPortConfig {
  let protocol: { key: string; value: ListenPortConfig["protocol"] } | undefined;
  let cidrs: { key: string; v4: string[]; v6: string[] } | undefined;
  let ssl: { key: string; value: string } | undefined;
  const certs: string[] = [];
  const defaultIdx = cfgs.findIndex((c) => c.cfg.tlsCerts.length > 0);
  if (defaultIdx >= 0) certs.push(cfgs[defaultIdx]?.cfg.tlsCerts[0] as string);
  const seen = new Set<string>();
  cfgs.forEach(({ key, cfg }, i) => {
    if (!protocol) protocol = { key, value: cfg.protocol };
    else if (protocol.value !== cfg.protocol) {
      throw new BuildError(`conflicting protocol, ${protocol.key}: ${protocol.value} | ${key}: ${cfg.protocol}`);
    }
    if (cfg.inboundCIDRv4s.length > 0 || cfg.inboundCIDRv6s.length > 0) {
      if (!cidrs) cidrs = { key, v4: cfg.inboundCIDRv4s, v6: cfg.inboundCIDRv6s };
      else if (!sameSet(cidrs.v4, cfg.inboundCIDRv4s) || !sameSet(cidrs.v6, cfg.inboundCIDRv6s)) {
        throw new BuildError(
          `conflicting inbound-cidrs, ${cidrs.key}: ${goList(cidrs.v4)}, ${goList(cidrs.v6)} | ${key}: ${goList(cfg.inboundCIDRv4s)}, ${goList(cfg.inboundCIDRv6s)}`,
        );
      }
    }
    if (cfg.sslPolicy !== undefined) {
      if (!ssl) ssl = { key, value: cfg.sslPolicy };
      else if (ssl.value !== cfg.sslPolicy) {
        throw new BuildError(`conflicting sslPolicy, ${ssl.key}: ${ssl.value} | ${key}: ${cfg.sslPolicy}`);
      }
    }
    cfg.tlsCerts.forEach((arn, j) => {
      if (i === defaultIdx && j === 0) return;
      if (seen.has(arn)) return;
      seen.add(arn);
      certs.push(arn);
    });
  });
  const proto = protocol?.value ?? "HTTP";
  return {
    protocol: proto,
    inboundCIDRv4s: cidrs ? cidrs.v4 : ["0.0.0.0/0"],
    inboundCIDRv6s: cidrs ? cidrs.v6 : ["::/0"],
    sslPolicy: proto === "HTTPS" ? (ssl?.value ?? DEFAULT_SSL_POLICY) : undefined,
    tlsCerts: certs,
  };
}

/** A group-wide string setting: IngressClassParams, else the annotation; more than one distinct value conflicts. */
function explicitValues(group: Group, fromParams: (m: Group["members"][number]) => string | undefined, annotation: string) {
  const values = new Set<string>();
  for (const m of group.members) {
    const p = fromParams(m);
    if (p !== undefined) {
      values.add(p);
      continue;
    }
    const a = m.ing.metadata?.annotations?.[`alb.ingress.kubernetes.io/${annotation}`];
    if (a !== undefined) values.add(a);
  }
  return values;
}

function buildScheme(group: Group): Scheme {
  const values = explicitValues(group, (m) => m.config.params?.scheme, "scheme");
  if (values.size === 0) return "internal";
  if (values.size > 1) throw new BuildError(`conflicting scheme: ${goSet(values)}`);
  const [raw] = values;
  if (raw !== "internet-facing" && raw !== "internal") throw new BuildError(`unknown scheme: ${raw}`);
  return raw;
}

function buildIpAddressType(group: Group): string {
  const values = explicitValues(group, (m) => m.config.params?.ipAddressType, "ip-address-type");
  if (values.size === 0) return "ipv4";
  if (values.size > 1) throw new BuildError(`conflicting IPAddressType: ${goList([...values])}`);
  const [raw = ""] = values;
  if (!["ipv4", "dualstack", "dualstack-without-public-ipv4"].includes(raw)) {
    throw new BuildError(`unknown IPAddressType: ${raw}`);
  }
  return raw;
}

/** buildLoadBalancerSubnetMappings' conflicts (subnet discovery itself is not modelled). */
function checkSubnets(group: Group): void {
  const selectors: string[] = [];
  let annotated = false;
  for (const m of group.members) {
    if (m.config.params?.subnets !== undefined) selectors.push(JSON.stringify(m.config.params.subnets));
    else if (m.ing.metadata?.annotations?.["alb.ingress.kubernetes.io/subnets"] !== undefined) annotated = true;
  }
  if (selectors.length === 0) return;
  if (annotated) throw new BuildError("conflicting subnet specifications: IngressClassParams versus annotation");
  if (selectors.some((s) => s !== selectors[0])) throw new BuildError("conflicting IngressClassParams subnet specifications");
}

/** buildIngressGroupLoadBalancerAttributes: members must agree unless the class settles the key; the class wins. */
function buildAttributes(group: Group): Record<string, string> {
  const classAttrs = group.members[0]?.config.params?.loadBalancerAttributes ?? {};
  const merged: Record<string, string> = {};
  for (const m of group.members) {
    const attrs = stringMap("load-balancer-attributes", m.ing.metadata?.annotations?.["alb.ingress.kubernetes.io/load-balancer-attributes"]);
    for (const [k, v] of Object.entries(attrs)) {
      const existing = merged[k];
      if (existing !== undefined && existing !== v && !(k in classAttrs)) {
        throw new BuildError(`conflicting load balancer attributes ${k}: ${existing} | ${v}`);
      }
      merged[k] = v;
    }
  }
  return { ...merged, ...classAttrs };
}

/** buildIngressGroupResourceTags: class tags win per member; members must agree. */
function buildTags(group: Group): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of group.members) {
    const tags = { ...stringMap("tags", m.ing.metadata?.annotations?.["alb.ingress.kubernetes.io/tags"]), ...(m.config.params?.tags ?? {}) };
    for (const [k, v] of Object.entries(tags)) {
      if (out[k] !== undefined && out[k] !== v) throw new BuildError(`conflicting tag ${k}: ${out[k]} | ${v}`);
      out[k] = v;
    }
  }
  return out;
}

/** buildLoadBalancerName. */
function buildName(group: Group, scheme: Scheme): string {
  const explicit = explicitValues(group, (m) => m.config.params?.loadBalancerName, "load-balancer-name");
  if (explicit.size === 1) {
    const [name = ""] = explicit;
    if (name.length > 32) throw new BuildError("load balancer name cannot be longer than 32 characters");
    return name;
  }
  if (explicit.size > 1) throw new BuildError(`conflicting load balancer name: ${goSet(explicit)}`);
  const hash = createHash("sha256").update(CLUSTER_NAME).update(group.id.key).update(scheme).digest("hex");
  const clean = (s: string) => s.replace(/[^A-Za-z0-9]/g, "");
  if (group.id.explicit) return `k8s-${clean(group.id.key).slice(0, 17)}-${hash.slice(0, 10)}`;
  const [ns = "", name = ""] = group.id.key.split("/");
  return `k8s-${clean(ns).slice(0, 8)}-${clean(name).slice(0, 8)}-${hash.slice(0, 10)}`;
}

/** The controller's model build for one group; a BuildError becomes FailedBuildModel on every member. */
export async function buildGroupModel(group: Group, sources: ModelSources): Promise<Model> {
  // 1. every member's listen ports, certificates, inbound CIDRs and SSL policy; then merged per port.
  const byPort = new Map<number, { key: string; cfg: ListenPortConfig }[]>();
  for (const m of group.members) {
    let cfgs: Map<number, ListenPortConfig>;
    try {
      cfgs = await buildListenPortConfig(m, sources.acm);
    } catch (e) {
      throw new BuildError(`ingress: ${nameOf(m)}: ${errorText(e)}`);
    }
    for (const [port, cfg] of cfgs) byPort.set(port, [...(byPort.get(port) ?? []), { key: nameOf(m), cfg }]);
  }
  const ports = new Map<number, ListenPortConfig>();
  for (const port of [...byPort.keys()].sort((x, y) => x - y)) {
    try {
      ports.set(port, mergePort(byPort.get(port) ?? []));
    } catch (e) {
      throw new BuildError(`failed to merge listenPort config for port: ${port}: ${errorText(e)}`);
    }
  }

  // 2. the load balancer.
  const scheme = buildScheme(group);
  const ipAddressType = buildIpAddressType(group);
  checkSubnets(group);
  const lbAttributes = buildAttributes(group);
  const tags = buildTags(group);
  const loadBalancerName = buildName(group, scheme);

  // 3. listener rules and their target groups, member by member in group order.
  const rules: { routes: Route[]; defaultTg?: string; targetGroups: Map<string, TargetGroupSpec>; services: Map<string, V1Service> } = {
    routes: [],
    targetGroups: new Map(),
    services: new Map(),
  };
  for (const m of group.members) {
    try {
      await buildRules(m, sources, rules);
    } catch (e) {
      if (e instanceof BuildError) throw new BuildError(`ingress: ${nameOf(m)}: ${e.message}`);
      throw e;
    }
  }

  const https = [...ports.values()].find((c) => c.protocol === "HTTPS");
  const first = group.members[0]?.ing;
  return {
    loadBalancerName,
    dnsSeed: group.id.explicit ? `group/${group.id.key}` : (first?.metadata?.uid ?? group.id.key),
    scheme,
    ipAddressType,
    lbAttributes,
    tags,
    inboundCIDRs: [...(https?.inboundCIDRv4s ?? []), ...(https?.inboundCIDRv6s ?? [])],
    listenPorts: new Map([...ports].map(([port, c]) => [port, c.protocol])),
    certificateArns: https?.tlsCerts ?? [],
    sslPolicy: https?.sslPolicy ?? DEFAULT_SSL_POLICY,
    routes: rules.routes,
    defaultTg: rules.defaultTg,
    targetGroups: rules.targetGroups,
  };
}
