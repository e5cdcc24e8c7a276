// Which Ingresses are the controller's, and the IngressClass configuration each one builds with. After
// kubernetes-sigs/aws-load-balancer-controller v3.5.0 (paths in that repository):
// - pkg/ingress/group_loader.go classifyIngress: the `kubernetes.io/ingress.class` annotation takes priority over
//   `spec.ingressClassName`; then the IngressClass (or the default one); without either, the Ingress is not managed
//   (the Helm chart passes `--ingress-class=alb`, so manageIngressesWithoutIngressClass is false);
// - pkg/ingress/class_annotation_matcher.go: the annotation must equal the controller's ingress class (`alb`);
// - pkg/ingress/class_loader.go: the default class (`ingressclass.kubernetes.io/is-default-class: "true"`), a
//   missing class or parameters object is `invalid ingress class: ...`, parameters of another API group or kind are
//   `IngressClass <name> references unknown parameters`, and an Ingress in a namespace the parameters' namespaceSelector
//   does not select is `namespaceSelector of IngressClassParams <name> mismatch`.
// The classes and parameters are read from list+watch caches, as the controller reads them from its informers.
import {
  ApiException,
  type CoreV1Api,
  type CustomObjectsApi,
  type NetworkingV1Api,
  type V1Ingress,
  type V1IngressClass,
  type V1LabelSelector,
  type Watch,
} from "@kubernetes/client-node";
import { errorText } from "./errors";
import { ListWatch } from "./list-watch";

/** pkg/ingress/class_loader.go IngressClassControllerALB; EKS Auto Mode's controller name is `eks.amazonaws.com/alb`. */
export const SELF_MANAGED_CONTROLLER = "ingress.k8s.aws/alb";
export const AUTO_MODE_CONTROLLER = "eks.amazonaws.com/alb";
const DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class";
export const INGRESS_CLASS_ANNOTATION = "kubernetes.io/ingress.class";

/** The two IngressClassParams APIs: the controller's CRD, and EKS Auto Mode's. */
export const PARAMS_APIS = {
  selfManaged: { group: "elbv2.k8s.aws", version: "v1beta1", plural: "ingressclassparams" },
  autoMode: { group: "eks.amazonaws.com", version: "v1", plural: "ingressclassparams" },
} as const;

/** IngressClassParams, normalised from either API (apis/elbv2/v1beta1/ingressclassparams_types.go; EKS docs for v1). */
export interface ClassParams {
  name: string;
  namespaceSelector?: V1LabelSelector;
  group?: string;
  scheme?: string;
  ipAddressType?: string;
  sslPolicy?: string;
  certificateArns: string[];
  inboundCIDRs: string[];
  /** Kept as given: two selectors are compared for equality only. */
  subnets?: unknown;
  loadBalancerName?: string;
  targetType?: string;
  tags: Record<string, string>;
  loadBalancerAttributes: Record<string, string>;
}

export interface ClassConfig {
  ingClass?: V1IngressClass;
  params?: ClassParams;
}

/** ErrInvalidIngressClass: the group loader tolerates it for Ingresses that are not yet group members. */
export class InvalidIngressClassError extends Error {
  constructor(detail: string) {
    super(`invalid ingress class: ${detail}`);
  }
}

export interface Classified {
  ours: boolean;
  config: ClassConfig;
}

interface RawParams {
  metadata?: { name?: string; resourceVersion?: string };
  spec?: Record<string, unknown>;
}

const pairs = (v: unknown): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const e of Array.isArray(v) ? v : []) {
    const { key, value } = (e ?? {}) as { key?: unknown; value?: unknown };
    if (typeof key === "string") out[key] = String(value ?? "");
  }
  return out;
};
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === "string") : []);
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** The spec of either IngressClassParams API in one shape. */
export function normaliseParams(raw: RawParams, autoMode: boolean): ClassParams {
  const spec = raw.spec ?? {};
  const group = spec.group as { name?: unknown } | undefined;
  return {
    name: raw.metadata?.name ?? "",
    namespaceSelector: (spec.namespaceSelector as V1LabelSelector | undefined) ?? undefined,
    group: group && typeof group.name === "string" ? group.name : undefined,
    scheme: str(spec.scheme),
    ipAddressType: str(spec.ipAddressType),
    sslPolicy: str(spec.sslPolicy),
    // eks.amazonaws.com/v1 renamed certificateArn to certificateARNs ("Create an IngressClass to configure an ALB").
    certificateArns: strings(autoMode ? spec.certificateARNs : spec.certificateArn),
    inboundCIDRs: strings(spec.inboundCIDRs),
    subnets: spec.subnets,
    loadBalancerName: str(spec.loadBalancerName),
    targetType: str(spec.targetType),
    tags: pairs(spec.tags),
    loadBalancerAttributes: pairs(spec.loadBalancerAttributes),
  };
}

/** metav1.LabelSelectorAsSelector + Matches: matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist). */
export function selectorMatches(selector: V1LabelSelector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const req of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, req.key);
    const value = labels[req.key];
    const values = req.values ?? [];
    switch (req.operator) {
      case "In":
        if (!has || !values.includes(value as string)) return false;
        break;
      case "NotIn":
        if (has && values.includes(value as string)) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

export interface ClassLoaderDeps {
  watch: Watch;
  core: CoreV1Api;
  networking: NetworkingV1Api;
  custom: CustomObjectsApi;
  /** `ingress.k8s.aws/alb`, or `eks.amazonaws.com/alb` in Auto Mode. */
  controllerName: string;
  /** The annotation class the controller matches (`alb`); Auto Mode does not support the annotation. */
  annotationClass?: string;
  /** An IngressClass or IngressClassParams changed: re-reconcile the Ingresses of these classes. */
  onClassChange: (classNames: string[]) => void;
  log: (m: string) => void;
}

/** The IngressClass and IngressClassParams caches and the classification of an Ingress. */
export class ClassLoader {
  readonly classes = new Map<string, V1IngressClass>();
  readonly params = new Map<string, ClassParams>();
  /** Whether the apiserver serves networking.k8s.io/v1 IngressClass (group_controller.go SetupWithManager checks). */
  classApiServed = false;
  private readonly watches: ListWatch<{ metadata?: { name?: string } }>[] = [];
  private readonly paramsApi: (typeof PARAMS_APIS)[keyof typeof PARAMS_APIS];
  private readonly autoMode: boolean;

  constructor(private readonly deps: ClassLoaderDeps) {
    this.autoMode = deps.controllerName === AUTO_MODE_CONTROLLER;
    this.paramsApi = this.autoMode ? PARAMS_APIS.autoMode : PARAMS_APIS.selfManaged;
  }

  /** Discovery, then the first list of each served resource. */
  async start(): Promise<void> {
    const { networking, custom, watch, log } = this.deps;
    const served = async (list: () => Promise<{ resources?: { name: string }[] }>, plural: string) => {
      try {
        return ((await list()).resources ?? []).some((r) => r.name === plural);
      } catch (e) {
        if (e instanceof ApiException && e.code === 404) return false;
        throw e;
      }
    };
    this.classApiServed = await served(() => networking.getAPIResources(), "ingressclasses");
    const { group, version, plural } = this.paramsApi;
    const paramsServed = await served(() => custom.getAPIResources({ group, version }), plural);
    if (this.classApiServed) {
      this.watches.push(
        new ListWatch<V1IngressClass>(
          watch,
          "/apis/networking.k8s.io/v1/ingressclasses",
          () => networking.listIngressClass(),
          (items) => this.syncClasses(items),
          (type, c) => this.onClass(type, c),
          log,
        ) as ListWatch<{ metadata?: { name?: string } }>,
      );
    }
    if (this.classApiServed && paramsServed) {
      this.watches.push(
        new ListWatch<RawParams>(
          watch,
          `/apis/${group}/${version}/${plural}`,
          async () => (await custom.listClusterCustomObject({ group, version, plural })) as { items: RawParams[] },
          (items) => this.syncParams(items),
          (type, p) => this.onParams(type, p),
          log,
        ),
      );
    }
    for (const w of this.watches) await w.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.watches.map((w) => w.stop()));
  }

  /**
   * classifyIngress: whether the Ingress is this controller's and with which class configuration. Throws
   * InvalidIngressClassError for a class (or parameters) that cannot be loaded.
   */
  async classify(ing: V1Ingress, opts: { loadParams?: boolean; namespace?: string } = {}): Promise<Classified> {
    const loadParams = opts.loadParams ?? true;
    const annotation = ing.metadata?.annotations?.[INGRESS_CLASS_ANNOTATION];
    if (annotation !== undefined && this.deps.annotationClass !== undefined) {
      return { ours: annotation === this.deps.annotationClass, config: {} };
    }
    const config = await this.load(ing, loadParams, opts.namespace);
    if (config.ingClass) return { ours: config.ingClass.spec?.controller === this.deps.controllerName, config };
    return { ours: false, config };
  }

  /** class_loader.go Load. */
  private async load(ing: V1Ingress, loadParams: boolean, namespaceOverride?: string): Promise<ClassConfig> {
    let className = ing.spec?.ingressClassName ?? undefined;
    if (className === undefined) {
      className = this.defaultClass();
      if (className === undefined) return {};
    }
    if (!this.classApiServed) {
      // controller-runtime's RESTMapper has no IngressClass kind on such a server.
      throw new Error('no matches for kind "IngressClass" in version "networking.k8s.io/v1"');
    }
    const ingClass = this.classes.get(className);
    if (!ingClass) {
      throw new InvalidIngressClassError(`ingressclasses.networking.k8s.io "${className}" not found`);
    }
    const ref = ingClass.spec?.parameters;
    if (ingClass.spec?.controller !== this.deps.controllerName || !ref || !loadParams) return { ingClass };
    if (ref.apiGroup !== this.paramsApi.group || ref.kind !== "IngressClassParams") {
      throw new InvalidIngressClassError(`IngressClass ${className} references unknown parameters`);
    }
    const params = this.params.get(ref.name);
    if (!params) {
      throw new InvalidIngressClassError(`ingressclassparams.${this.paramsApi.group} "${ref.name}" not found`);
    }
    if (params.namespaceSelector) {
      const nsName = namespaceOverride ?? ing.metadata?.namespace ?? "default";
      let labels: Record<string, string>;
      try {
        labels = (await this.deps.core.readNamespace({ name: nsName })).metadata?.labels ?? {};
      } catch (e) {
        throw new InvalidIngressClassError(errorText(e));
      }
      if (!selectorMatches(params.namespaceSelector, labels)) {
        throw new InvalidIngressClassError(`namespaceSelector of IngressClassParams ${params.name} mismatch`);
      }
    }
    return { ingClass, params };
  }

  /** GetDefaultIngressClass; more than one default is an error (not an invalid class). */
  private defaultClass(): string | undefined {
    const defaults = [...this.classes.values()].filter(
      (c) => c.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] === "true",
    );
    if (defaults.length > 1) throw new Error("multiple default IngressClasses found");
    return defaults[0]?.metadata?.name;
  }

  private syncClasses(items: V1IngressClass[]): void {
    const present = new Set(items.map((c) => c.metadata?.name ?? ""));
    for (const c of items) this.onClass("ADDED", c);
    for (const name of [...this.classes.keys()]) {
      if (!present.has(name)) this.onClass("DELETED", this.classes.get(name) as V1IngressClass);
    }
  }

  /** ingress_class_events.go: create, delete, or a change of spec re-reconciles the class's Ingresses. */
  private onClass(type: string, c: V1IngressClass): void {
    const name = c.metadata?.name ?? "";
    const prev = this.classes.get(name);
    if (type === "DELETED") this.classes.delete(name);
    else this.classes.set(name, c);
    const changed =
      type === "DELETED" ||
      !prev ||
      JSON.stringify(prev.spec ?? {}) !== JSON.stringify(c.spec ?? {}) ||
      !prev.metadata?.deletionTimestamp !== !c.metadata?.deletionTimestamp ||
      // The default-class annotation decides which class an Ingress without ingressClassName has.
      prev.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] !== c.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION];
    if (changed) this.deps.onClassChange([name]);
  }

  private syncParams(items: RawParams[]): void {
    const present = new Set(items.map((p) => p.metadata?.name ?? ""));
    for (const p of items) this.onParams("ADDED", p);
    for (const name of [...this.params.keys()]) if (!present.has(name)) this.onParams("DELETED", { metadata: { name } });
  }

  /** ingress_class_params_events.go: a change re-reconciles the Ingresses of every class that references it. */
  private onParams(type: string, raw: RawParams): void {
    const name = raw.metadata?.name ?? "";
    const prev = this.params.get(name);
    const next = type === "DELETED" ? undefined : normaliseParams(raw, this.autoMode);
    if (next) this.params.set(name, next);
    else this.params.delete(name);
    if (prev && next && JSON.stringify(prev) === JSON.stringify(next)) return;
    const affected = [...this.classes.values()]
      .filter((c) => c.spec?.parameters?.name === name && c.spec.parameters.apiGroup === this.paramsApi.group)
      .map((c) => c.metadata?.name ?? "");
    if (affected.length > 0) this.deps.onClassChange(affected);
  }
}
