// The apiserver stand-in's Service validation held to upstream's own cases: kubernetes v1.31.0
// pkg/apis/core/validation/validation_test.go, TestValidateServiceCreate (the source-range cases, with the number
// of errors upstream expects), run against the stand-in's port of ValidateService. The stand-in must refuse what a
// real apiserver refuses, or the product's cutover could pass here and fail on EKS.
import { describe, expect, it } from "vitest";
import type { JsonObject } from "../../sandbox/kube/json";
import { validateService } from "../../sandbox/kube/validation";

const ANNOTATION = "service.beta.kubernetes.io/load-balancer-source-ranges";

/** makeValidService(): a ClusterIP Service with one TCP port (validation_test.go). */
function service(type: "ClusterIP" | "LoadBalancer", spec: JsonObject = {}, annotations?: Record<string, string>): JsonObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "valid", namespace: "default", ...(annotations ? { annotations } : {}) },
    spec: {
      type,
      selector: { key: "val" },
      sessionAffinity: "None",
      ports: [{ name: "p", protocol: "TCP", port: 8675, targetPort: 8675 }],
      internalTrafficPolicy: "Cluster",
      ...(type === "LoadBalancer" ? { externalTrafficPolicy: "Cluster", allocateLoadBalancerNodePorts: true } : {}),
      ...spec,
    },
  };
}

const CASES: { name: string; svc: JsonObject; numErrs: number }[] = [
  {
    name: "invalid LoadBalancer source range annotation for non LoadBalancer type service",
    svc: service("ClusterIP", {}, { [ANNOTATION]: "1.2.3.0/24" }),
    numErrs: 1,
  },
  { name: "invalid empty-but-set LoadBalancer source range annotation for non LoadBalancer type service", svc: service("ClusterIP", {}, { [ANNOTATION]: "" }), numErrs: 1 },
  { name: "invalid source range for non LoadBalancer type service", svc: service("ClusterIP", { loadBalancerSourceRanges: ["1.2.3.0/24"] }), numErrs: 1 },
  {
    name: "invalid source range annotation ignored with valid source range field",
    svc: service("LoadBalancer", { loadBalancerSourceRanges: ["1.2.3.0/24"] }, { [ANNOTATION]: "foo.bar" }),
    numErrs: 0,
  },
  { name: "valid empty LoadBalancer source range annotation", svc: service("LoadBalancer", {}, { [ANNOTATION]: "" }), numErrs: 0 },
  { name: "valid whitespace-only LoadBalancer source range annotation", svc: service("LoadBalancer", {}, { [ANNOTATION]: "    " }), numErrs: 0 },
  { name: "valid LoadBalancer source range annotation", svc: service("LoadBalancer", {}, { [ANNOTATION]: "1.2.3.4/8,  5.6.7.8/16" }), numErrs: 0 },
  { name: "invalid LoadBalancer source range annotation (hostname)", svc: service("LoadBalancer", {}, { [ANNOTATION]: "foo.bar" }), numErrs: 1 },
  { name: "invalid LoadBalancer source range annotation (invalid CIDR)", svc: service("LoadBalancer", {}, { [ANNOTATION]: "1.2.3.4/33" }), numErrs: 1 },
  { name: "valid type - cluster", svc: service("ClusterIP"), numErrs: 0 },
];

describe("Service validation (the stand-in against upstream's TestValidateServiceCreate cases)", () => {
  it.each(CASES)("$name: $numErrs error(s)", ({ svc, numErrs }) => {
    expect(validateService(svc, undefined)).toHaveLength(numErrs);
  });

  it("names the annotation's path and upstream's message", () => {
    const [error] = validateService(service("ClusterIP", {}, { [ANNOTATION]: "10.0.0.0/8" }), undefined);
    expect(error).toMatchObject({ type: "FieldValueForbidden", field: `metadata.annotations[${ANNOTATION}]`, detail: "may only be used when `type` is 'LoadBalancer'" });
  });
});
