// The Ingress milvus-l7 owns: the Milvus doc's manifest ("Set up a Layer-7 Load Balancer for Milvus on AWS")
// plus our defaults and the request's validated extra annotations.
import type { V1Ingress } from "@kubernetes/client-node";
import type { Target } from "./plan";

export const FIELD_MANAGER = "milvus-l7";
/** Marks objects milvus-l7 created, so a rollback or a re-run only ever touches its own. */
export const MANAGED_BY_LABEL = { "app.kubernetes.io/managed-by": "milvus-l7" } as const;

const A = "alb.ingress.kubernetes.io";

// TLS 1.2/1.3 only; the controller's default (ELBSecurityPolicy-2016-08) still allows TLS 1.0 (DESIGN §5).
const DEFAULT_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";
// ALB closes idle connections after 60 s by default and ignores HTTP/2 PINGs, so a Milvus client between
// calls (or a long search) sees its channel reset. 300 s keeps typical idle clients connected.
const DEFAULT_IDLE_TIMEOUT = "idle_timeout.timeout_seconds=300";

export function ingressManifest(target: Target, certificateArn: string): V1Ingress {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: {
      name: target.ingress.name,
      namespace: target.namespace,
      labels: { ...MANAGED_BY_LABEL },
      annotations: {
        [`${A}/ssl-policy`]: DEFAULT_SSL_POLICY,
        [`${A}/load-balancer-attributes`]: DEFAULT_IDLE_TIMEOUT,
        ...target.ingress.annotations,
        // Set last: these define the product and are not overridable (the request schema rejects them too).
        [`${A}/scheme`]: target.ingress.scheme,
        [`${A}/backend-protocol-version`]: "GRPC",
        [`${A}/target-type`]: "ip",
        [`${A}/listen-ports`]: '[{"HTTPS":443}]',
        [`${A}/certificate-arn`]: certificateArn,
      },
    },
    spec: {
      ingressClassName: "alb",
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
