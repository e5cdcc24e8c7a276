// Service `spec.type` changes, table-driven: the cutover milvus-l7 sends (cutoverPatch, a JSON merge patch to
// ClusterIP) against the Service shapes the Milvus Helm chart, the Milvus Operator and hand-made manifests produce,
// and the type changes of upstream's own tables, each through the stand-in's registry (defaults, the type-change
// wipes, validation). Upstream cases are named after kubernetes/kubernetes v1.32
// pkg/registry/core/service/strategy_test.go TestDropTypeDependentFields and
// pkg/apis/core/validation/validation_test.go TestValidateServiceUpdate (the case name quoted where one exists).
import { CoreV1Api, type V1Service } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cutoverPatch } from "../../functions/patch-service/core";
import { type KubeApiServer, loadMilvusDemoService, startKubeApiServer } from "../../sandbox/kube";
import { kubeConfig, mergePatch, rejection } from "../kube-api";

let server: KubeApiServer;
let core: CoreV1Api;

beforeAll(async () => {
  server = await startKubeApiServer();
  core = kubeConfig(server).makeApiClient(CoreV1Api);
});

afterAll(async () => {
  await server.close();
});

type Spec = Record<string, unknown>;
const SOURCE_RANGES = "service.beta.kubernetes.io/load-balancer-source-ranges";
const ports = (nodePorts: boolean) => [
  { name: "grpc", port: 19530, protocol: "TCP", targetPort: 19530, ...(nodePorts ? { nodePort: 31530 } : {}) },
  { name: "metrics", port: 9091, protocol: "TCP", targetPort: 9091, ...(nodePorts ? { nodePort: 30091 } : {}) },
];
const base: Spec = {
  clusterIP: "172.20.0.10",
  clusterIPs: ["172.20.0.10"],
  ipFamilies: ["IPv4"],
  ipFamilyPolicy: "SingleStack",
  sessionAffinity: "None",
  internalTrafficPolicy: "Cluster",
  selector: { "app.kubernetes.io/instance": "m", component: "proxy" },
};
/** A Service as the apiserver stores it (defaults and allocations in place). */
const loadBalancer = (extra: Spec = {}): Spec => ({ ...base, type: "LoadBalancer", ports: ports(true), externalTrafficPolicy: "Cluster", allocateLoadBalancerNodePorts: true, ...extra });
const nodePort = (extra: Spec = {}): Spec => ({ ...base, type: "NodePort", ports: ports(true), externalTrafficPolicy: "Cluster", ...extra });
const clusterIP = (extra: Spec = {}): Spec => ({ ...base, type: "ClusterIP", ports: ports(false), ...extra });

interface Case {
  name: string;
  /** Where the case comes from. */
  source: string;
  spec: Spec;
  annotations?: Record<string, string>;
  /** The merge patch; "cutover" is the one milvus-l7 sends (with the resourceVersion it read). */
  patch: "cutover" | Spec;
  /** Accepted: fields the stored spec has, and fields it no longer has. */
  accepted?: { has: Spec; dropped: string[]; unchanged?: boolean };
  /** Rejected: the status code and message. */
  rejected?: [number, string];
}

const invalid = (detail: string): [number, string] => [422, `Service "svc" is invalid: ${detail}`];

const cases: Case[] = [
  // The cutover milvus-l7 sends, against the shapes it meets.
  {
    name: "Milvus Helm chart: LoadBalancer behind the AWS Load Balancer Controller's NLB, with source ranges",
    source: "sandbox/fixtures/milvus-demo-service-loadbalancer.json (milvus-helm with service.type=LoadBalancer)",
    spec: loadMilvusDemoService().spec as Spec,
    patch: "cutover",
    accepted: { has: { type: "ClusterIP", clusterIP: "172.20.114.87", internalTrafficPolicy: "Cluster" }, dropped: ["externalTrafficPolicy", "loadBalancerClass", "loadBalancerSourceRanges", "allocateLoadBalancerNodePorts", "ports.nodePort"] },
  },
  {
    name: "LoadBalancer with healthCheckNodePort and externalTrafficPolicy Local",
    source: 'TestDropTypeDependentFields "clear healthCheckNodePort"',
    spec: loadBalancer({ externalTrafficPolicy: "Local", healthCheckNodePort: 32000 }),
    patch: "cutover",
    accepted: { has: { type: "ClusterIP" }, dropped: ["healthCheckNodePort", "externalTrafficPolicy", "ports.nodePort"] },
  },
  {
    name: "LoadBalancer with a loadBalancerClass",
    source: 'TestDropTypeDependentFields "clear loadBalancerClass when set Service type LoadBalancer -> non LoadBalancer"',
    spec: loadBalancer({ loadBalancerClass: "service.k8s.aws/nlb" }),
    patch: "cutover",
    accepted: { has: { type: "ClusterIP" }, dropped: ["loadBalancerClass", "allocateLoadBalancerNodePorts"] },
  },
  {
    name: "Milvus Operator: LoadBalancer without class (the in-tree or controller default) and node ports",
    source: 'zilliztech/milvus-operator v1.3.8 pkg/controllers/services.go; TestDropTypeDependentFields "clear nodePorts"',
    spec: loadBalancer(),
    patch: "cutover",
    accepted: { has: { type: "ClusterIP", ports: ports(false) }, dropped: ["ports.nodePort", "allocateLoadBalancerNodePorts"] },
  },
  {
    name: "NodePort",
    source: "hand-made; TestDropTypeDependentFields nodePort cases",
    spec: nodePort(),
    patch: "cutover",
    accepted: { has: { type: "ClusterIP" }, dropped: ["ports.nodePort", "externalTrafficPolicy"] },
  },
  {
    name: "LoadBalancer with externalIPs: still externally accessible as ClusterIP, so externalTrafficPolicy comes back by default",
    source: "hand-made; pkg/apis/core/v1/defaults.go SetDefaults_Service (ClusterIP with externalIPs)",
    spec: loadBalancer({ externalIPs: ["203.0.113.10"] }),
    patch: "cutover",
    accepted: { has: { type: "ClusterIP", externalIPs: ["203.0.113.10"], externalTrafficPolicy: "Cluster" }, dropped: ["ports.nodePort"] },
  },
  {
    name: "LoadBalancer restricted by the source-ranges annotation",
    source: "hand-made; ValidateService's annotation rule (v1.31.0)",
    spec: loadBalancer(),
    annotations: { [SOURCE_RANGES]: "10.0.0.0/8, 192.168.0.0/16" },
    patch: "cutover",
    accepted: { has: { type: "ClusterIP" }, dropped: ["metadata.annotations", "ports.nodePort"] },
  },
  {
    name: "LoadBalancer with loadBalancerIP and ClientIP session affinity",
    source: "hand-made; SetDefaults_Service (sessionAffinityConfig)",
    spec: loadBalancer({ loadBalancerIP: "203.0.113.7", sessionAffinity: "ClientIP", sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } } }),
    patch: "cutover",
    accepted: { has: { type: "ClusterIP", sessionAffinity: "ClientIP", sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } } }, dropped: ["loadBalancerIP"] },
  },
  {
    name: "already ClusterIP: the cutover changes nothing (no new resourceVersion)",
    source: 'TestDropTypeDependentFields "don\'t clear clusterIP et al"',
    spec: clusterIP(),
    patch: "cutover",
    accepted: { has: { type: "ClusterIP" }, dropped: [], unchanged: true },
  },
  {
    name: "ClusterIP with externalIPs: the nulled externalTrafficPolicy is defaulted back, nothing changes",
    source: "hand-made; SetDefaults_Service",
    spec: clusterIP({ externalIPs: ["203.0.113.10"], externalTrafficPolicy: "Cluster" }),
    patch: "cutover",
    accepted: { has: { externalTrafficPolicy: "Cluster" }, dropped: [], unchanged: true },
  },
  // Other writers' type changes, as upstream's tables have them.
  {
    name: "a type-only patch while loadBalancerSourceRanges remain",
    source: "TestValidateServiceUpdate (LoadBalancer to ClusterIP keeps the field, which ValidateService forbids)",
    spec: loadBalancer({ loadBalancerSourceRanges: ["10.0.0.0/8"] }),
    patch: { spec: { type: "ClusterIP" } },
    rejected: invalid("spec.LoadBalancerSourceRanges: Forbidden: may only be used when `type` is 'LoadBalancer'"),
  },
  {
    name: "a type-only patch (the Operator's full update with only the type changed) with the annotation",
    source: "ValidateService's annotation rule (v1.31.0)",
    spec: loadBalancer(),
    annotations: { [SOURCE_RANGES]: "10.0.0.0/8" },
    patch: { spec: { type: "ClusterIP" } },
    rejected: invalid(`metadata.annotations[${SOURCE_RANGES}]: Forbidden: may only be used when \`type\` is 'LoadBalancer'`),
  },
  {
    name: "changed nodePorts are kept, and refused",
    source: 'TestDropTypeDependentFields "don\'t clear changed nodePorts"',
    spec: loadBalancer(),
    patch: { spec: { type: "ClusterIP", ports: ports(false).map((p, i) => ({ ...p, nodePort: 31630 + i })) } },
    rejected: invalid(
      "[spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP', spec.ports[1].nodePort: Forbidden: may not be used when `type` is 'ClusterIP']",
    ),
  },
  {
    name: "a changed healthCheckNodePort is kept, and refused",
    source: 'TestDropTypeDependentFields "don\'t clear changed healthCheckNodePort"',
    spec: loadBalancer({ externalTrafficPolicy: "Local", healthCheckNodePort: 32000 }),
    patch: { spec: { type: "ClusterIP", healthCheckNodePort: 32100 } },
    rejected: invalid("spec.healthCheckNodePort: Invalid value: 32100: may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"),
  },
  {
    name: "a changed loadBalancerClass is kept, and refused",
    source: 'TestDropTypeDependentFields "change service type and load balancer class"',
    spec: loadBalancer({ loadBalancerClass: "service.k8s.aws/nlb" }),
    patch: { spec: { type: "ClusterIP", loadBalancerClass: "eks.amazonaws.com/nlb" } },
    rejected: invalid("spec.loadBalancerClass: Forbidden: may only be used when `type` is 'LoadBalancer'"),
  },
  {
    name: "removing externalIPs from a ClusterIP Service drops externalTrafficPolicy",
    source: 'TestDropTypeDependentFields "clear externalTrafficPolicy when removing externalIPs for Type=ClusterIP"',
    spec: clusterIP({ externalIPs: ["203.0.113.10"], externalTrafficPolicy: "Cluster" }),
    patch: { spec: { externalIPs: null } },
    accepted: { has: { type: "ClusterIP" }, dropped: ["externalTrafficPolicy", "externalIPs"] },
  },
  {
    name: "LoadBalancer to NodePort drops an unchanged allocateLoadBalancerNodePorts and keeps the node ports",
    source: 'TestDropTypeDependentFields "clear allocatedLoadBalancerNodePorts true -> true"',
    spec: loadBalancer(),
    patch: { spec: { type: "NodePort" } },
    accepted: { has: { type: "NodePort", ports: ports(true), externalTrafficPolicy: "Cluster" }, dropped: ["allocateLoadBalancerNodePorts"] },
  },
  {
    name: "LoadBalancer to NodePort with allocateLoadBalancerNodePorts changed to false is refused",
    source: 'TestDropTypeDependentFields "set allocatedLoadBalancerNodePorts true -> false"',
    spec: loadBalancer(),
    patch: { spec: { type: "NodePort", allocateLoadBalancerNodePorts: false } },
    rejected: invalid("spec.allocateLoadBalancerNodePorts: Forbidden: may only be used when `type` is 'LoadBalancer'"),
  },
  {
    name: "to ExternalName: the unchanged cluster IPs, ipFamilies and ipFamilyPolicy are wiped",
    source: 'TestDropTypeDependentFields "clear clusterIP et al"',
    spec: clusterIP(),
    patch: { spec: { type: "ExternalName", externalName: "milvus.example.com" } },
    accepted: { has: { type: "ExternalName", externalName: "milvus.example.com" }, dropped: ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"] },
  },
  {
    name: "a changed clusterIP is refused",
    source: "TestValidateServiceUpdate (validateUpgradeDowngradeClusterIPs: may not change once set)",
    spec: clusterIP(),
    patch: { spec: { clusterIP: "172.20.0.99" } },
    rejected: invalid('spec.clusterIPs[0]: Invalid value: []string{"172.20.0.99"}: may not change once set'),
  },
];

function without(spec: Spec, path: string): boolean {
  if (path === "ports.nodePort") return (spec.ports as { nodePort?: number }[]).every((p) => p.nodePort === undefined);
  return spec[path] === undefined;
}

describe("Service type changes", () => {
  for (const c of cases) {
    it(`${c.name} [${c.source}]`, async () => {
      const stored = server.put({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "svc", namespace: "milvus", ...(c.annotations ? { annotations: c.annotations } : {}) },
        spec: c.spec,
        status: { loadBalancer: c.spec.type === "LoadBalancer" ? { ingress: [{ hostname: "nlb.example.com" }] } : {} },
      });
      const body = c.patch === "cutover" ? cutoverPatch(stored.metadata.resourceVersion) : c.patch;
      if (c.rejected) {
        const { code, status } = await rejection(core.patchNamespacedService({ name: "svc", namespace: "milvus", body }, mergePatch));
        expect([code, status.message]).toEqual(c.rejected);
        return;
      }
      const result: V1Service = await core.patchNamespacedService({ name: "svc", namespace: "milvus", fieldManager: "milvus-l7", body }, mergePatch);
      const spec = result.spec as unknown as Spec;
      expect(spec).toMatchObject(c.accepted?.has ?? {});
      for (const path of c.accepted?.dropped ?? []) {
        if (path === "metadata.annotations") expect(result.metadata?.annotations?.[SOURCE_RANGES]).toBeUndefined();
        else expect(without(spec, path), path).toBe(true);
      }
      if (c.accepted?.unchanged) expect(result.metadata?.resourceVersion).toBe(stored.metadata.resourceVersion);
      if (spec.type !== "LoadBalancer") expect(result.status?.loadBalancer).toEqual({});
    });
  }

  it("refuses the cutover when the Service changed after milvus-l7 read it (its resourceVersion is a precondition)", async () => {
    server.put({ apiVersion: "v1", kind: "Service", metadata: { name: "svc", namespace: "milvus" }, spec: loadBalancer() });
    const { code, status } = await rejection(core.patchNamespacedService({ name: "svc", namespace: "milvus", body: cutoverPatch("1") }, mergePatch));
    expect([code, status.reason]).toEqual([409, "Conflict"]);
  });
});
