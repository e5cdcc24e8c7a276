// The Service registry's strategy: defaults, the values it allocates (cluster IP, node ports), and what it
// keeps or wipes when a Service changes type. Ported from kubernetes/kubernetes (versions: README.md):
//   pkg/apis/core/v1/defaults.go                 (SetDefaults_Service)
//   pkg/registry/core/service/strategy.go        (dropTypeDependentFields)
//   pkg/registry/core/service/storage/storage.go (patchAllocatedValues)
//   pkg/registry/core/service/storage/alloc.go   (what the IP and node-port allocators hand out; simplified)
import { randomInt } from "node:crypto";
import { clone, dig, isObject, type JsonObject, str } from "./json";

export const portsOf = (spec: JsonObject): JsonObject[] => (Array.isArray(spec.ports) ? spec.ports.filter(isObject) : []);
const needsNodePort = (type: string | undefined): boolean => type === "NodePort" || type === "LoadBalancer";

/** SetDefaults_Service (pkg/apis/core/v1/defaults.go): runs on every decode, so on updates too. */
export function defaultService(spec: JsonObject): void {
  spec.type ??= "ClusterIP";
  spec.sessionAffinity ??= "None";
  for (const port of portsOf(spec)) {
    port.protocol ??= "TCP";
    if (port.targetPort === undefined && port.port !== undefined) port.targetPort = port.port;
  }

  const type = str(spec.type);
  const externalIPs = Array.isArray(spec.externalIPs) && spec.externalIPs.length > 0;
  if (needsNodePort(type) || (type === "ClusterIP" && externalIPs)) spec.externalTrafficPolicy ??= "Cluster";
  if (type !== "ExternalName") spec.internalTrafficPolicy ??= "Cluster";
  if (type === "LoadBalancer") spec.allocateLoadBalancerNodePorts ??= true;
  // DefaultClientIPServiceAffinitySeconds: three hours.
  if (spec.sessionAffinity === "ClientIP" && dig(spec, "sessionAffinityConfig.clientIP.timeoutSeconds") === undefined) {
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10800 } };
  }
}

export function nodePortSet(spec: JsonObject): Set<number> {
  return new Set(portsOf(spec).flatMap((p) => (typeof p.nodePort === "number" && p.nodePort !== 0 ? [p.nodePort] : [])));
}

/**
 * patchAllocatedValues (pkg/registry/core/service/storage/storage.go) + dropTypeDependentFields
 * (pkg/registry/core/service/strategy.go). Upstream also wipes the cluster IPs when the type becomes
 * ExternalName; this does not (see README.md).
 */
export function prepareServiceUpdate(spec: JsonObject, oldSpec: JsonObject): void {
  const oldType = str(oldSpec.type);
  const newType = str(spec.type);
  // A client that resubmits a manifest without the allocated values keeps them.
  if (oldType !== "ExternalName" && newType !== "ExternalName") {
    if (!spec.clusterIP && oldSpec.clusterIP) spec.clusterIP = oldSpec.clusterIP;
    if (!Array.isArray(spec.clusterIPs) && Array.isArray(oldSpec.clusterIPs)) spec.clusterIPs = clone(oldSpec.clusterIPs);
    // normalizeClusterIPs (storage.go): a changed clusterIP with untouched clusterIPs becomes the only clusterIPs
    // entry, which validation then refuses as a change.
    const sameList = JSON.stringify(spec.clusterIPs ?? null) === JSON.stringify(oldSpec.clusterIPs ?? null);
    if (spec.clusterIP && spec.clusterIP !== oldSpec.clusterIP && sameList) spec.clusterIPs = [spec.clusterIP];
  }

  // Switching to ExternalName (which needs no cluster IP) wipes unchanged clusterIP(s), ipFamilies, ipFamilyPolicy.
  if (oldType !== "ExternalName" && newType === "ExternalName") {
    const same = (key: string) => JSON.stringify(spec[key] ?? null) === JSON.stringify(oldSpec[key] ?? null);
    if (same("clusterIP") && same("clusterIPs")) {
      delete spec.clusterIP;
      delete spec.clusterIPs;
    }
    if (same("ipFamilies")) delete spec.ipFamilies;
    if (same("ipFamilyPolicy")) delete spec.ipFamilyPolicy;
  }

  if (needsNodePort(oldType) && needsNodePort(newType)) {
    const byName = new Map(portsOf(oldSpec).map((p) => [String(p.name ?? ""), p.nodePort]));
    for (const port of portsOf(spec)) {
      const previous = byName.get(String(port.name ?? ""));
      if (!port.nodePort && typeof previous === "number") port.nodePort = previous;
    }
  }

  // Wipe what the new type does not use, but only when the write did not also change it (then validation
  // reports it): the user may not have known the apiserver had filled it in.
  const newPorts = nodePortSet(spec);
  const oldPorts = nodePortSet(oldSpec);
  if (needsNodePort(oldType) && !needsNodePort(newType) && [...newPorts].every((p) => oldPorts.has(p))) {
    for (const port of portsOf(spec)) delete port.nodePort;
  }

  const needsHc = (s: JsonObject): boolean => s.type === "LoadBalancer" && s.externalTrafficPolicy === "Local";
  if (needsHc(oldSpec) && !needsHc(spec) && spec.healthCheckNodePort === oldSpec.healthCheckNodePort) {
    delete spec.healthCheckNodePort;
  }

  if (oldType === "LoadBalancer" && newType !== "LoadBalancer") {
    if (
      typeof spec.allocateLoadBalancerNodePorts === "boolean" &&
      spec.allocateLoadBalancerNodePorts === oldSpec.allocateLoadBalancerNodePorts
    ) {
      delete spec.allocateLoadBalancerNodePorts;
    }
    if (spec.loadBalancerClass === oldSpec.loadBalancerClass) delete spec.loadBalancerClass;
  }

  // serviceapi.ExternallyAccessible(old) && !ExternallyAccessible(new) && sameExternalTrafficPolicy: a full update
  // that only changes the type (as the Milvus Operator sends) passes; loadBalancerSourceRanges is not wiped.
  const externallyAccessible = (s: JsonObject): boolean =>
    needsNodePort(str(s.type)) || (s.type === "ClusterIP" && Array.isArray(s.externalIPs) && s.externalIPs.length > 0);
  if (externallyAccessible(oldSpec) && !externallyAccessible(spec) && spec.externalTrafficPolicy === oldSpec.externalTrafficPolicy) {
    delete spec.externalTrafficPolicy;
  }
}

/**
 * What the IP allocator and the node-port allocator would hand out (pkg/registry/core/service/ipallocator,
 * portallocator): an address in 172.20.0.0/16, one of the two service CIDRs EKS picks by default, and a port in
 * the default --service-node-port-range 30000-32767.
 */
export function allocateServiceAddresses(spec: JsonObject, taken: Set<number>): void {
  if (spec.type !== "ExternalName") {
    if (!spec.clusterIP) spec.clusterIP = `172.20.${randomInt(0, 256)}.${randomInt(1, 255)}`;
    if (!Array.isArray(spec.clusterIPs)) spec.clusterIPs = [spec.clusterIP];
    spec.ipFamilies ??= ["IPv4"];
    spec.ipFamilyPolicy ??= "SingleStack";
  }

  // allocHealthCheckNodePort (alloc.go): a LoadBalancer with externalTrafficPolicy Local gets one when it has none.
  if (spec.type === "LoadBalancer" && spec.externalTrafficPolicy === "Local" && !spec.healthCheckNodePort) {
    spec.healthCheckNodePort = freeNodePort(taken);
  }

  const wantsNodePorts =
    spec.type === "NodePort" || (spec.type === "LoadBalancer" && spec.allocateLoadBalancerNodePorts !== false);
  if (!wantsNodePorts) return;
  for (const port of portsOf(spec)) {
    if (!port.nodePort) port.nodePort = freeNodePort(taken);
  }
}

function freeNodePort(taken: Set<number>): number {
  let candidate = randomInt(30000, 32768);
  while (taken.has(candidate)) candidate = candidate === 32767 ? 30000 : candidate + 1;
  taken.add(candidate);
  return candidate;
}
