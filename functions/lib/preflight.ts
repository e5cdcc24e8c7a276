// ApplyIngress's preflight: the cluster as it is, read before the first write, so that what the controller would do
// with the Ingress is refused here (ClusterRefused, naming the object, the field and the fix) instead of surfacing
// as a Warning event after the Ingress exists. The rules are pure functions in the preflight-*.ts modules; this one
// only reads the objects they need. A read the Lambdas' access does not cover (cluster-scoped objects, Ingresses in
// other namespaces) is a warning naming what went unchecked, never a failure.
import { ALB_ANNOTATION_PREFIX } from "./alb-annotations";
import { KubernetesNotFound } from "./errors";
import { DEFAULT_INGRESS_CLASS } from "./ingress";
import type { Ingress, KubeClient, Service } from "./kube-client";
import { type GroupMember, checkGroupPeers, groupNameOf } from "./preflight-group";
import { checkAutoModeAnnotations, checkIngressClassParams, checkNamespaceSelector, missingIngressClass, missingParams, paramsNameOf, requireAlbController } from "./preflight-ingress-class";
import {
  type AlbController,
  type IngressClass,
  type IngressClassParams,
  type Namespace,
  PARAMS_API,
  type Pod,
  type Readable,
  allIngressesPath,
  cannotCheck,
  ingressClassParamsPath,
  ingressClassPath,
  ingressClassesPath,
  labelSelectorQuery,
  namespacePath,
  podsPath,
  readable,
} from "./preflight-objects";
import { readinessGateAdvice } from "./preflight-readiness";
import { checkServiceAnnotations } from "./preflight-service";

export interface PreflightInput {
  namespace: string;
  service: Service;
  /** The Ingress exactly as ApplyIngress is about to apply it. */
  ingress: Ingress;
  certificateArn: string;
}

/** An IngressClass of the AWS Load Balancer Controller with its IngressClassParams, as the controller loads it. */
interface ClassConfig {
  controller: AlbController;
  paramsName?: string;
  params?: IngressClassParams;
}

const CLASS_GRANT = { verbs: "get and list", resource: "ingressclasses", apiGroup: "networking.k8s.io" };
const paramsGrant = (c: AlbController) => ({ verbs: "get", resource: "ingressclassparams", apiGroup: PARAMS_API[c].group });
/** The controller's --ingress-class default: an Ingress with `kubernetes.io/ingress.class: alb` is its (class_annotation_matcher.go). */
const LEGACY_CLASS_ANNOTATION = "kubernetes.io/ingress.class";

/** Reads one cluster's IngressClasses and their params once per invocation, warning once per unreadable object. */
class ClusterReads {
  private readonly classes = new Map<string, Promise<Readable<IngressClass | undefined>>>();
  private readonly params = new Map<string, Promise<Readable<IngressClassParams | undefined>>>();
  private classList: Promise<Readable<IngressClass[]>> | undefined;
  private namespaces = new Map<string, Promise<Readable<Namespace>>>();

  constructor(private readonly kube: KubeClient) {}

  ingressClass(name: string) {
    let read = this.classes.get(name);
    if (!read) {
      read = readable(() => this.kube.getIfExists<IngressClass>(`read IngressClass ${name}`, ingressClassPath(name)));
      this.classes.set(name, read);
    }
    return read;
  }

  ingressClasses() {
    this.classList ??= readable(async () => (await this.kube.list<IngressClass>("list IngressClasses", ingressClassesPath)).items);
    return this.classList;
  }

  ingressClassParams(controller: AlbController, name: string) {
    const key = `${controller}/${name}`;
    let read = this.params.get(key);
    if (!read) {
      read = readable(() => this.kube.getIfExists<IngressClassParams>(`read IngressClassParams ${name}`, ingressClassParamsPath(controller, name)));
      this.params.set(key, read);
    }
    return read;
  }

  namespace(name: string) {
    let read = this.namespaces.get(name);
    if (!read) {
      read = readable(() => this.kube.get<Namespace>(`read Namespace ${name}`, namespacePath(name)));
      this.namespaces.set(name, read);
    }
    return read;
  }
}

/** The class the Ingress names, checked; undefined when it could not be read (a warning says so). */
async function ourClass(reads: ClusterReads, input: PreflightInput, warnings: string[]): Promise<ClassConfig | undefined> {
  const className = input.ingress.spec?.ingressClassName ?? DEFAULT_INGRESS_CLASS;
  const annotations = input.ingress.metadata?.annotations ?? {};
  const cls = await reads.ingressClass(className);
  if (!cls.ok) {
    warnings.push(cannotCheck(`IngressClass ${className}`, "that the AWS Load Balancer Controller serves it, nor its IngressClassParams", CLASS_GRANT));
    return undefined;
  }
  if (!cls.value) {
    const listed = await reads.ingressClasses().catch((e) => {
      // Only to say which classes exist: a failed list must not hide the missing class.
      if (e instanceof KubernetesNotFound) return { ok: false as const, forbidden: true as const };
      throw e;
    });
    throw missingIngressClass(className, listed.ok ? listed.value : undefined);
  }
  const controller = requireAlbController(cls.value, className);
  if (controller === "auto-mode") checkAutoModeAnnotations(className, annotations);
  const paramsName = paramsNameOf(cls.value, className, controller);
  if (paramsName === undefined) return { controller };
  const params = await reads.ingressClassParams(controller, paramsName);
  if (!params.ok) {
    warnings.push(
      cannotCheck(
        `IngressClassParams ${paramsName} (of IngressClass ${className})`,
        "whether its scheme, certificates, TLS policy, target type, group or attributes override the Ingress's",
        paramsGrant(controller),
      ),
    );
    return { controller, paramsName };
  }
  if (!params.value) throw missingParams(className, paramsName, controller);
  checkIngressClassParams(params.value, className, controller, { annotations, certificateArn: input.certificateArn });
  if (params.value.spec?.namespaceSelector) {
    const ns = await reads.namespace(input.namespace);
    if (ns.ok) checkNamespaceSelector(params.value, className, input.namespace, ns.value.metadata?.labels ?? {});
    else {
      warnings.push(
        cannotCheck(`Namespace ${input.namespace}`, `that its labels match the namespaceSelector of IngressClassParams ${paramsName}`, {
          verbs: "get",
          resource: "namespaces",
          apiGroup: "",
        }),
      );
    }
  }
  return { controller, paramsName, params: params.value };
}

/**
 * The class config of another Ingress, as group_loader.go classifies it: undefined when it is not an Ingress of the
 * same controller, `unreadable` when its class (or default class, or params) could not be read.
 */
async function classOfPeer(reads: ClusterReads, ing: Ingress, ours: ClassConfig): Promise<ClassConfig | undefined | "unreadable"> {
  const legacy = ing.metadata?.annotations?.[LEGACY_CLASS_ANNOTATION];
  if (legacy !== undefined) return legacy === DEFAULT_INGRESS_CLASS && ours.controller === "self-managed" ? { controller: "self-managed" } : undefined;
  let className = ing.spec?.ingressClassName ?? undefined;
  if (className === undefined) {
    const listed = await reads.ingressClasses();
    if (!listed.ok) return "unreadable";
    className = listed.value.find((c) => c.metadata?.annotations?.["ingressclass.kubernetes.io/is-default-class"] === "true")?.metadata?.name;
    if (className === undefined) return undefined;
  }
  const cls = await reads.ingressClass(className);
  if (!cls.ok) return "unreadable";
  if (!cls.value) return undefined;
  let controller: AlbController;
  try {
    controller = requireAlbController(cls.value, className);
  } catch {
    return undefined;
  }
  if (controller !== ours.controller) return undefined;
  let paramsName: string | undefined;
  try {
    paramsName = paramsNameOf(cls.value, className, controller);
  } catch {
    // The controller fails such an Ingress before it joins any group.
    return undefined;
  }
  if (paramsName === undefined) return { controller };
  const params = await reads.ingressClassParams(controller, paramsName);
  if (!params.ok) return "unreadable";
  return params.value ? { controller, paramsName, params: params.value } : undefined;
}

async function checkGroup(reads: ClusterReads, kube: KubeClient, input: PreflightInput, ours: ClassConfig | undefined, warnings: string[]): Promise<void> {
  const annotations = input.ingress.metadata?.annotations ?? {};
  const groupName = groupNameOf(annotations, ours?.params?.spec);
  if (groupName === undefined) return;
  if (ours === undefined) {
    // Without our class, which Ingresses share the controller (and so the group) cannot be told.
    warnings.push(`milvus-l7 did not check the other Ingresses of IngressGroup ${groupName}, because it could not read the IngressClass (see above).`);
    return;
  }
  const listed = await readable(() => kube.list<Ingress>("list Ingresses in all namespaces", allIngressesPath));
  if (!listed.ok) {
    warnings.push(
      cannotCheck("the Ingresses of all namespaces", `that the other members of IngressGroup ${groupName} agree with this Ingress on the group's shared settings (scheme, TLS policy, inbound CIDRs, attributes, WAF, ...)`, {
        verbs: "list",
        resource: "ingresses",
        apiGroup: "networking.k8s.io",
      }),
    );
    return;
  }
  const me = `${input.namespace}/${input.ingress.metadata?.name}`;
  const peers: GroupMember[] = [];
  const unchecked: string[] = [];
  for (const ing of listed.value.items) {
    const key = `${ing.metadata?.namespace}/${ing.metadata?.name}`;
    // group_loader.go: an Ingress being deleted no longer belongs to any group.
    if (key === me || ing.metadata?.deletionTimestamp) continue;
    const peerAnnotations = ing.metadata?.annotations ?? {};
    const cls = await classOfPeer(reads, ing, ours);
    if (cls === "unreadable") {
      // Only one naming the group itself is known to be a member; one its class's params put there cannot be told.
      if (peerAnnotations[`${ALB_ANNOTATION_PREFIX}group.name`] === groupName) unchecked.push(key);
      continue;
    }
    if (cls === undefined || groupNameOf(peerAnnotations, cls.params?.spec) !== groupName) continue;
    peers.push({ key, annotations: peerAnnotations, params: cls.params?.spec, paramsName: cls.paramsName });
  }
  if (unchecked.length > 0) {
    warnings.push(
      cannotCheck(
        `the IngressClass (or its IngressClassParams) of ${unchecked.join(", ")}`,
        `whether those Ingresses of IngressGroup ${groupName} agree with this one on the group's shared settings`,
        CLASS_GRANT,
      ),
    );
  }
  checkGroupPeers(groupName, { key: me, annotations, params: ours.params?.spec, paramsName: ours.paramsName }, peers);
}

async function readinessAdvice(reads: ClusterReads, kube: KubeClient, input: PreflightInput, ours: ClassConfig | undefined, warnings: string[]): Promise<void> {
  const selector = input.service.spec?.selector;
  if (!selector || Object.keys(selector).length === 0) return;
  const serviceName = input.service.metadata?.name ?? "";
  const pods = await readable(() =>
    kube.list<Pod>(`list pods of Service ${input.namespace}/${serviceName}`, podsPath(input.namespace), { labelSelector: labelSelectorQuery(selector) }),
  );
  if (!pods.ok) {
    warnings.push(
      cannotCheck(`the pods of Service ${input.namespace}/${serviceName}`, "whether they carry the AWS Load Balancer Controller's readiness gate", {
        verbs: "list",
        resource: "pods",
        apiGroup: "",
      }),
    );
    return;
  }
  // Only the wording depends on the label, so an unreadable namespace is no warning of its own.
  const ns = ours?.controller === "auto-mode" ? undefined : await reads.namespace(input.namespace);
  const advice = readinessGateAdvice(pods.value.items, {
    namespace: input.namespace,
    serviceName,
    controller: ours?.controller,
    namespaceLabels: ns?.ok ? (ns.value.metadata?.labels ?? {}) : undefined,
  });
  if (advice) warnings.push(advice);
}

export interface PreflightResult {
  /** Everything to tell the user: what could not be checked, then what works but should be fixed. */
  warnings: string[];
  /**
   * What could not be checked of what the controller and its webhook decide on the Ingress itself (its class,
   * parameters and group): if the apply then fails, these may be why.
   */
  uncheckedIngress: string[];
}

/**
 * Everything the cluster can say against the Ingress before it is applied. Throws ClusterRefused for a refusal;
 * returns the warnings (what works but should be fixed, what could not be checked).
 */
export async function clusterPreflight(kube: KubeClient, input: PreflightInput): Promise<PreflightResult> {
  const uncheckedIngress: string[] = [];
  const reads = new ClusterReads(kube);
  const ours = await ourClass(reads, input, uncheckedIngress);
  checkServiceAnnotations(input.service, input.ingress.metadata?.annotations ?? {});
  await checkGroup(reads, kube, input, ours, uncheckedIngress);
  const advice: string[] = [];
  await readinessAdvice(reads, kube, input, ours, advice);
  return { warnings: [...uncheckedIngress, ...advice], uncheckedIngress };
}
