// An IngressGroup (alb.ingress.kubernetes.io/group.name, or IngressClassParams spec.group) is one ALB built from
// every member Ingress. Settings of the load balancer and of each shared listener must agree across members: where
// two members set different values the controller refuses to build the group at all, so joining with a disagreeing
// value would stop the shared ALB from updating for every member, not only ours. Refused before any write, naming
// the peer, the setting and both values. Sources, kubernetes-sigs/aws-load-balancer-controller v2.17.1:
//   - pkg/ingress/group_loader.go: membership (not being deleted, the class's controller, the group name with
//     IngressClassParams spec.group winning over the annotation; the kubernetes.io/ingress.class annotation winning
//     over spec.ingressClassName; the default IngressClass for an Ingress without a class, class_loader.go);
//   - pkg/ingress/model_build_load_balancer.go: "conflicting scheme", "conflicting IPAddressType", "conflicting load
//     balancer name", "conflicting subnets", "conflicting securityGroups", "conflicting CustomerOwnedIPv4Pool";
//     model_build_load_balancer_attributes.go: "conflicting load balancer attributes" (unless the class sets the
//     attribute); model_build_load_balancer_addons.go: WAFv2 ARN/name, WAF Classic, Shield;
//   - pkg/ingress/model_builder.go mergeListenPortConfigs (per listen port: protocol, inbound-cidrs,
//     inbound-prefix-lists, sslPolicy), buildSSLRedirectConfig, buildManageSecurityGroupRulesFlag;
//   - pkg/ingress/model_build_listener.go computeIngressListenPorts (HTTPS:443 with explicit certificates, else
//     HTTP:80) and, for each setting, IngressClassParams winning over the annotation.
import { parseListenPorts } from "./alb-annotation-grammar";
import { ALB_ANNOTATION_PREFIX, parseStringMap } from "./alb-annotations";
import { ClusterRefused } from "./errors";
import type { IngressClassParamsSpec } from "./preflight-objects";

const A = ALB_ANNOTATION_PREFIX;

/** One Ingress of the group, with what its class's IngressClassParams sets. */
export interface GroupMember {
  /** `namespace/name` */
  key: string;
  annotations: Readonly<Record<string, string>>;
  params?: IngressClassParamsSpec;
  paramsName?: string;
}

/** The group an Ingress belongs to (group_loader.go loadGroupID), undefined for an implicit (one-Ingress) group. */
export function groupNameOf(annotations: Readonly<Record<string, string>>, params: IngressClassParamsSpec | undefined): string | undefined {
  return params?.group?.name || annotations[`${A}group.name`] || undefined;
}

interface Setting {
  /** Annotation suffix, as operators know the setting. */
  suffix: string;
  /** The IngressClassParams field that wins over it, if any. */
  param?: keyof IngressClassParamsSpec;
  kind: "scalar" | "list" | "bool";
}

/** Load-balancer-wide settings: explicit values must be equal across members. */
const LOAD_BALANCER_SETTINGS: Setting[] = [
  { suffix: "scheme", param: "scheme", kind: "scalar" },
  { suffix: "ip-address-type", param: "ipAddressType", kind: "scalar" },
  { suffix: "load-balancer-name", param: "loadBalancerName", kind: "scalar" },
  { suffix: "subnets", param: "subnets", kind: "list" },
  { suffix: "security-groups", kind: "list" },
  { suffix: "customer-owned-ipv4-pool", kind: "scalar" },
  { suffix: "wafv2-acl-arn", param: "wafv2AclArn", kind: "scalar" },
  { suffix: "wafv2-acl-name", param: "wafv2AclName", kind: "scalar" },
  { suffix: "waf-acl-id", kind: "scalar" },
  { suffix: "shield-advanced-protection", kind: "bool" },
  { suffix: "manage-backend-security-group-rules", kind: "bool" },
  { suffix: "ssl-redirect", param: "sslRedirectPort", kind: "scalar" },
];

interface Value {
  shown: string;
  comparable: string;
  /** Where it comes from, for the message. */
  from: string;
}

const listOf = (raw: string) =>
  raw
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

function settingOf(member: GroupMember, setting: Setting): Value | undefined {
  const fromParams = setting.param === undefined ? undefined : member.params?.[setting.param];
  if (fromParams !== undefined && fromParams !== "" && !(Array.isArray(fromParams) && fromParams.length === 0)) {
    const shown = Array.isArray(fromParams) ? fromParams.join(",") : typeof fromParams === "object" ? JSON.stringify(fromParams) : String(fromParams);
    const comparable = Array.isArray(fromParams) ? [...fromParams].sort().join(",") : shown;
    return { shown, comparable, from: `IngressClassParams ${member.paramsName} spec.${setting.param}` };
  }
  let raw = member.annotations[`${A}${setting.suffix}`];
  // buildWAFRegionalWebACLAssociation: waf-acl-id, else the older web-acl-id.
  if (raw === undefined && setting.suffix === "waf-acl-id") raw = member.annotations[`${A}web-acl-id`];
  if (raw === undefined) return undefined;
  const comparable = setting.kind === "list" ? listOf(raw).sort().join(",") : setting.kind === "bool" ? raw.trim().toLowerCase() : raw;
  return { shown: raw, comparable, from: `${A}${setting.suffix}` };
}

/** The member's listen ports: the annotation, else HTTPS:443 with explicit certificates, else HTTP:80. */
function listenPortsOf(member: GroupMember): Map<number, "HTTP" | "HTTPS"> {
  const raw = member.annotations[`${A}listen-ports`];
  const parsed = raw === undefined ? undefined : parseListenPorts(raw);
  if (parsed instanceof Map) return parsed;
  const explicitCerts =
    (member.params?.certificateArn?.length ?? 0) > 0 ||
    (member.params?.certificateARNs?.length ?? 0) > 0 ||
    listOf(member.annotations[`${A}certificate-arn`] ?? "").length > 0;
  return new Map([explicitCerts ? [443, "HTTPS"] : [80, "HTTP"]]);
}

function listenerValue(member: GroupMember, what: "ssl-policy" | "inbound-cidrs" | "security-group-prefix-lists"): Value | undefined {
  const p = member.params;
  const fromParams =
    what === "ssl-policy"
      ? p?.sslPolicy || undefined
      : what === "inbound-cidrs"
        ? p?.inboundCIDRs?.length
          ? p.inboundCIDRs
          : undefined
        : p?.prefixListsIDs?.length
          ? p.prefixListsIDs
          : p?.PrefixListsIDs?.length
            ? p.PrefixListsIDs
            : undefined;
  const field = what === "ssl-policy" ? "sslPolicy" : what === "inbound-cidrs" ? "inboundCIDRs" : "prefixListsIDs";
  if (fromParams !== undefined) {
    const shown = Array.isArray(fromParams) ? fromParams.join(",") : fromParams;
    const comparable = Array.isArray(fromParams) ? [...fromParams].sort().join(",") : fromParams;
    return { shown, comparable, from: `IngressClassParams ${member.paramsName} spec.${field}` };
  }
  const raw = member.annotations[`${A}${what}`];
  if (raw === undefined || listOf(raw).length === 0) return undefined;
  return { shown: raw, comparable: what === "ssl-policy" ? raw : listOf(raw).sort().join(","), from: `${A}${what}` };
}

function refuse(groupName: string, peer: GroupMember, setting: string, theirs: Value, ours: Value, where = ""): ClusterRefused {
  return new ClusterRefused(
    `Ingress ${peer.key} is in IngressGroup ${groupName} too and gets ${setting}${where} ${theirs.shown} (from ${theirs.from}), where milvus-l7's Ingress gets ${ours.shown} (from ${ours.from}). The controller builds one ALB per group and refuses the whole group when members disagree on it, so joining would stop the shared ALB from updating for every member. Make them agree (set the same value in ingress.annotations, or change ${peer.key}), or use another ${A}group.name.`,
  );
}

/** Refuses the first setting on which a peer of the group disagrees with the Ingress milvus-l7 is about to apply. */
export function checkGroupPeers(groupName: string, ours: GroupMember, peers: readonly GroupMember[]): void {
  const ourPorts = listenPortsOf(ours);
  const ourAttributes = attributesOf(ours);
  const classAttributes = new Set((ours.params?.loadBalancerAttributes ?? []).map((a) => a.key));
  for (const peer of peers) {
    for (const setting of LOAD_BALANCER_SETTINGS) {
      const mine = settingOf(ours, setting);
      const theirs = settingOf(peer, setting);
      if (mine && theirs && mine.comparable !== theirs.comparable) throw refuse(groupName, peer, setting.suffix, theirs, mine);
    }
    const theirAttributes = attributesOf(peer);
    for (const [key, value] of Object.entries(ourAttributes)) {
      const other = theirAttributes[key];
      // A conflict the class's own attributes settle is only logged by the controller.
      if (other === undefined || other === value || classAttributes.has(key)) continue;
      throw refuse(
        groupName,
        peer,
        `load-balancer-attributes ${key}`,
        { shown: other, comparable: other, from: `${A}load-balancer-attributes` },
        { shown: value, comparable: value, from: `${A}load-balancer-attributes` },
      );
    }
    for (const [port, protocol] of listenPortsOf(peer)) {
      const mine = ourPorts.get(port);
      if (mine === undefined) continue;
      const where = ` on listener port ${port}`;
      if (mine !== protocol) {
        throw refuse(groupName, peer, "the listener protocol", { shown: protocol, comparable: protocol, from: `${A}listen-ports` }, { shown: mine, comparable: mine, from: `${A}listen-ports` }, where);
      }
      for (const what of ["inbound-cidrs", "security-group-prefix-lists", ...(protocol === "HTTPS" ? (["ssl-policy"] as const) : [])] as const) {
        const a = listenerValue(ours, what);
        const b = listenerValue(peer, what);
        if (a && b && a.comparable !== b.comparable) throw refuse(groupName, peer, what, b, a, where);
      }
    }
  }
}

function attributesOf(member: GroupMember): Record<string, string> {
  const raw = member.annotations[`${A}load-balancer-attributes`];
  if (raw === undefined) return {};
  const parsed = parseStringMap(raw);
  return parsed.ok ? parsed.map : {};
}
