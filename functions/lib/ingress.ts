// The Ingress milvus-l7 owns: the Milvus doc's manifest ("Set up a Layer-7 Load Balancer for Milvus on AWS")
// plus the plan's annotations (the request's, validated, over our defaults).
import { ALB_ANNOTATION_PREFIX } from "./alb-annotations";
import type { Ingress } from "./kube-client";
import type { Target } from "./state";

export const FIELD_MANAGER = "milvus-l7";
/** Marks objects milvus-l7 created, so a rollback or a re-run only ever touches its own. */
export const MANAGED_BY_LABEL = { "app.kubernetes.io/managed-by": "milvus-l7" } as const;

const A = ALB_ANNOTATION_PREFIX;

/**
 * The IngressClass milvus-l7 names when the request does not: the one the AWS Load Balancer Controller's Helm chart
 * creates (helm/aws-load-balancer-controller values.yaml, ingressClass: alb).
 */
export const DEFAULT_INGRESS_CLASS = "alb";

/** The target's IngressClass; targets recorded before `ingress.className` existed mean the default. */
export const ingressClassOf = (target: Target): string => target.ingress.className ?? DEFAULT_INGRESS_CLASS;

export function ingressManifest(target: Target, certificateArn: string): Ingress {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: {
      name: target.ingress.name,
      namespace: target.namespace,
      labels: { ...MANAGED_BY_LABEL },
      annotations: {
        // The plan's annotations already hold our defaults (TLS 1.2/1.3 policy, gRPC idle timeout, HTTPS:443).
        ...target.ingress.annotations,
        // Set last: these carry the product's guarantees (the request schema refuses them too).
        [`${A}scheme`]: target.ingress.scheme,
        [`${A}backend-protocol-version`]: "GRPC",
        [`${A}target-type`]: "ip",
        [`${A}certificate-arn`]: certificateArn,
      },
    },
    spec: {
      ingressClassName: ingressClassOf(target),
      rules: [
        {
          host: target.ingress.host,
          http: {
            paths: [
              {
                path: "/",
                pathType: "Prefix",
                backend: { service: { name: target.service.name, port: { number: target.service.port } } },
              },
            ],
          },
        },
      ],
    },
  };
}
