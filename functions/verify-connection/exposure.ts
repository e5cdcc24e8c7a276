// What verify-connection warns about once the path works: a Milvus that answered without credentials behind an ALB
// anyone on the internet can reach. Milvus without `common.security.authorizationEnabled` lets any caller read,
// write and drop collections, so publishing it on an internet-facing listener is worth saying on every run.
import { ALB_ANNOTATION_PREFIX } from "../lib/alb-annotations";
import type { MilvusAuth, Target } from "../lib/state";

const INBOUND_CIDRS = `${ALB_ANNOTATION_PREFIX}inbound-cidrs`;
/** The AWS Load Balancer Controller's default inbound rule for an internet-facing ALB opens the listener to these. */
const ANYWHERE = new Set(["0.0.0.0/0", "::/0"]);

export function exposureWarnings(target: Target, milvusAuth: MilvusAuth): string[] {
  if (milvusAuth !== "none" || target.ingress.scheme !== "internet-facing") return [];
  const cidrs = target.ingress.annotations[INBOUND_CIDRS];
  // An explicit list without "anywhere" is the operator's own limit on who reaches the listener.
  if (cidrs !== undefined && !cidrs.split(",").some((c) => ANYWHERE.has(c.trim()))) return [];
  return [
    `Milvus answered without credentials behind the internet-facing ALB for ${target.ingress.host}: anyone who can ` +
      "resolve the host can read and write its collections. Close it by turning on Milvus authentication " +
      "(common.security.authorizationEnabled: true) and setting milvus.credentials in the request, by making the " +
      `ALB internal (ingress.scheme: internal), or by limiting who reaches the listener with the ${INBOUND_CIDRS} ` +
      "annotation.",
  ];
}
