// The preflight's pure rules where the orchestration tests (apply-ingress-preflight.test.ts) do not reach every
// branch: label selectors as apimachinery evaluates them, listeners as the controller defaults them, and the
// readiness advisory's edge cases.
import { describe, expect, it } from "vitest";
import { checkGroupPeers } from "../../functions/lib/preflight-group";
import { selectorMatches } from "../../functions/lib/preflight-objects";
import { readinessGateAdvice } from "../../functions/lib/preflight-readiness";

const A = "alb.ingress.kubernetes.io/";

describe("selectorMatches (metav1.LabelSelectorAsSelector)", () => {
  const labels = { team: "search", env: "prod" };
  it.each([
    [{}, true],
    [{ matchLabels: { team: "search" } }, true],
    [{ matchLabels: { team: "ads" } }, false],
    [{ matchExpressions: [{ key: "env", operator: "In", values: ["prod", "staging"] }] }, true],
    [{ matchExpressions: [{ key: "env", operator: "NotIn", values: ["prod"] }] }, false],
    [{ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["x"] }] }, true],
    [{ matchExpressions: [{ key: "team", operator: "Exists" }] }, true],
    [{ matchExpressions: [{ key: "team", operator: "DoesNotExist" }] }, false],
    [{ matchExpressions: [{ key: "team", operator: "Gt", values: ["1"] }] }, false],
  ])("%j → %s", (selector, expected) => {
    expect(selectorMatches(selector, labels)).toBe(expected);
  });
});

describe("checkGroupPeers", () => {
  const ours = { key: "milvus/milvus-demo", annotations: { [`${A}listen-ports`]: '[{"HTTPS":443}]', [`${A}ssl-policy`]: "ELBSecurityPolicy-TLS13-1-2-2021-06" } };

  it("puts a peer with a certificate and no listen-ports on HTTPS:443, where the TLS policies must agree", () => {
    const peer = { key: "web/site", annotations: { [`${A}certificate-arn`]: "arn:aws:acm:us-east-2:1:certificate/x", [`${A}ssl-policy`]: "ELBSecurityPolicy-TLS-1-2-2017-01" } };
    expect(() => checkGroupPeers("shared", ours, [peer])).toThrow(/web\/site .* ssl-policy on listener port 443/);
  });

  it("takes a peer's inbound CIDRs from its IngressClassParams over its annotation", () => {
    const mine = { ...ours, annotations: { ...ours.annotations, [`${A}inbound-cidrs`]: "10.0.0.0/8" } };
    const peer = {
      key: "web/site",
      annotations: { [`${A}listen-ports`]: '[{"HTTPS":443}]', [`${A}inbound-cidrs`]: "10.0.0.0/8" },
      params: { inboundCIDRs: ["192.168.0.0/16"] },
      paramsName: "team",
    };
    expect(() => checkGroupPeers("shared", mine, [peer])).toThrow("inbound-cidrs on listener port 443 192.168.0.0/16 (from IngressClassParams team spec.inboundCIDRs)");
    expect(() => checkGroupPeers("shared", mine, [{ ...peer, params: { inboundCIDRs: ["10.0.0.0/8"] } }])).not.toThrow();
  });

  it("refuses a peer that listens on the same port with the other protocol", () => {
    const peer = { key: "web/site", annotations: { [`${A}listen-ports`]: '[{"HTTP":443}]' } };
    expect(() => checkGroupPeers("shared", ours, [peer])).toThrow("the listener protocol on listener port 443 HTTP");
  });

  it("lets the class's own attributes settle an attribute conflict, as the controller does", () => {
    const mine = { ...ours, annotations: { ...ours.annotations, [`${A}load-balancer-attributes`]: "idle_timeout.timeout_seconds=300" } };
    const peer = { key: "web/site", annotations: { [`${A}load-balancer-attributes`]: "idle_timeout.timeout_seconds=60" } };
    expect(() => checkGroupPeers("shared", mine, [peer])).toThrow("load-balancer-attributes idle_timeout.timeout_seconds");
    const settled = { ...mine, params: { loadBalancerAttributes: [{ key: "idle_timeout.timeout_seconds", value: "300" }] }, paramsName: "p" };
    expect(() => checkGroupPeers("shared", settled, [peer])).not.toThrow();
  });
});

describe("readinessGateAdvice", () => {
  const ctx = { namespace: "milvus", serviceName: "milvus-demo", controller: "self-managed" as const, namespaceLabels: {} };
  it("says nothing without pods, or when only finished or deleted pods lack the gate", () => {
    expect(readinessGateAdvice([], ctx)).toBeUndefined();
    expect(
      readinessGateAdvice(
        [
          { status: { phase: "Succeeded" } },
          { metadata: { deletionTimestamp: "2026-01-01T00:00:00Z" }, status: { phase: "Running" } },
          { spec: { readinessGates: [{ conditionType: "target-health.elbv2.k8s.aws/tgb" }] }, status: { phase: "Running" } },
        ],
        ctx,
      ),
    ).toBeUndefined();
  });
  it("does not count the old ALB Ingress Controller's gate", () => {
    const advice = readinessGateAdvice([{ spec: { readinessGates: [{ conditionType: "target-health.alb.ingress.k8s.aws/x" }] }, status: { phase: "Running" } }], ctx);
    expect(advice).toContain("1 of the 1 pods");
  });
});
