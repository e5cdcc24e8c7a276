// The cluster as its platform team configured it, read by ApplyIngress before the Ingress is written: an
// IngressClass that does not exist, EKS Auto Mode's load balancing instead of the self-managed controller,
// IngressClassParams that override what the request asks for, and a Milvus Service whose own ALB annotations would
// replace the gRPC target group's settings. A refusal ends before any write: the Service stays LoadBalancer and no
// Ingress exists.
import type { Sandbox } from "../index";
import { DEMO_TARGET, type Scenario, demoSecret, observedRun } from "./scenario";

const A = "alb.ingress.kubernetes.io/";

interface IngressClassObject {
  metadata: { name: string };
  spec?: { controller?: string; parameters?: { apiGroup?: string; kind?: string; name?: string } };
}

/** The cluster's IngressClasses as `kubectl get ingressclass` would list them: name and controller. */
function ingressClasses(sandbox: Sandbox): string[] {
  return sandbox.kube
    .list<IngressClassObject>("IngressClass")
    .map((c) => `${c.metadata.name} (${c.spec?.controller ?? "no controller"})`)
    .sort();
}

/** The controller's validating webhooks registered with the apiserver, with their failure policy. */
function albWebhooks(sandbox: Sandbox): string[] {
  return sandbox.kube
    .list<{ webhooks?: { name: string; failurePolicy?: string }[] }>("ValidatingWebhookConfiguration")
    .flatMap((c) => c.webhooks ?? [])
    .filter((w) => w.name === "vingress.elbv2.k8s.aws")
    .map((w) => `${w.name} (failurePolicy ${w.failurePolicy ?? "Fail"})`);
}

/** The class a request names when it was copied from another cluster, where the class had another name. */
export const MISSING_CLASS = "alb-public";

export const ingressClassMissing: Scenario = {
  name: "ingress-class-missing",
  summary: `the request names ingress.className ${MISSING_CLASS}, which this cluster does not have: refused before any write, listing the classes that exist; without read access to IngressClasses the controller's webhook denies the Ingress instead`,
  async run(sandbox, ctx) {
    // A second controller's class, as clusters that also run ingress-nginx have it.
    sandbox.kube.put({
      apiVersion: "networking.k8s.io/v1",
      kind: "IngressClass",
      metadata: { name: "nginx", labels: { "app.kubernetes.io/name": "ingress-nginx" } },
      spec: { controller: "k8s.io/ingress-nginx" },
    });
    const { secretArn } = await demoSecret(sandbox);
    const request = sandbox.request(secretArn) as { ingress: Record<string, unknown> };
    request.ingress.className = MISSING_CLASS;
    ctx.say(`The cluster has the IngressClasses ${ingressClasses(sandbox).join(", ")}; the request, written for another cluster, names ingress.className ${MISSING_CLASS}`);
    const refused = await observedRun(sandbox, ctx, "deployment naming a class that does not exist", request, async () => ({
      ingressClassesInCluster: ingressClasses(sandbox),
    }));

    ctx.say(
      "Now the Lambdas' EKS access entry is scoped to namespace milvus only (no ClusterRole for IngressClasses): the preflight cannot read the class, so the Ingress goes to the apiserver, where the AWS Load Balancer Controller's webhook checks it",
    );
    sandbox.kube.setAccessScope({ namespaces: [DEMO_TARGET.namespace] });
    try {
      const denied = await observedRun(sandbox, ctx, "the same deployment, without read access to IngressClasses", request, async () => ({
        lambdaAccess: `namespace ${DEMO_TARGET.namespace} only`,
        admissionWebhooks: albWebhooks(sandbox),
      }));
      return [refused, denied];
    } finally {
      sandbox.kube.setAccessScope("cluster");
    }
  },
};

export const autoMode: Scenario = {
  name: "auto-mode",
  summary:
    "a first deployment on EKS Auto Mode: IngressClass alb is served by eks.amazonaws.com/alb, the ALB serves the imported certificate, then the Service is cut over to ClusterIP",
  sandbox: { albMode: "auto" },
  async run(sandbox, ctx) {
    const cls = sandbox.kube.get<IngressClassObject>("IngressClass", undefined, "alb");
    const { secretArn, subject } = await demoSecret(sandbox);
    ctx.say(
      `The cluster runs EKS Auto Mode: IngressClass alb has spec.controller ${cls?.spec?.controller ?? "(none)"} and IngressClassParams ${cls?.spec?.parameters?.name ?? "(none)"} (${cls?.spec?.parameters?.apiGroup ?? "-"}), as the EKS User Guide has users create them; no AWS Load Balancer Controller is installed`,
    );
    ctx.say(`Certificate for ${subject} is in ${secretArn}`);
    const deployed = await observedRun(sandbox, ctx, "deployment on EKS Auto Mode", sandbox.request(secretArn), async (run) => {
      const output = run.output as { certificate?: { arn?: string } } | undefined;
      const listener = sandbox.alb.listeners().find((l) => l.namespace === DEMO_TARGET.namespace && l.name === DEMO_TARGET.ingress);
      return {
        ingressClassController: cls?.spec?.controller,
        ingressClassParams: cls?.spec?.parameters ? `${cls.spec.parameters.apiGroup}/${cls.spec.parameters.kind} ${cls.spec.parameters.name}` : "none",
        // The listener's certificate is the one ACM holds at the ARN ImportCertificate returned.
        albListenerCertificateIsImported: listener?.certificateArn !== undefined && listener.certificateArn === output?.certificate?.arn,
      };
    });
    return [deployed];
  },
};

/** What the platform team put into class alb's IngressClassParams, and what the request asks for. */
export const PARAMS_SCHEME = { params: "internal", request: "internet-facing" } as const;

export const ingressClassParamsOverride: Scenario = {
  name: "ingress-class-params-override",
  summary: `class alb's IngressClassParams set scheme ${PARAMS_SCHEME.params}, which wins over the Ingress's annotation, while the request asks for ${PARAMS_SCHEME.request}: refused before any write, naming the IngressClassParams, the field and both values`,
  async run(sandbox, ctx) {
    // The chart's IngressClassParams `alb` with the platform team's values (chart value ingressClassParams.spec),
    // and the IngressClass referencing it, as the chart renders it once the params have a spec.
    const params = sandbox.kube.get<{ metadata: Record<string, unknown> }>("IngressClassParams.elbv2.k8s.aws", undefined, "alb");
    sandbox.kube.put({
      apiVersion: "elbv2.k8s.aws/v1beta1",
      kind: "IngressClassParams",
      metadata: { ...(params?.metadata ?? {}), name: "alb" },
      spec: { scheme: PARAMS_SCHEME.params },
    });
    const cls = sandbox.kube.get<IngressClassObject & { metadata: Record<string, unknown> }>("IngressClass", undefined, "alb");
    sandbox.kube.put({
      apiVersion: "networking.k8s.io/v1",
      kind: "IngressClass",
      metadata: { ...(cls?.metadata ?? {}), name: "alb" },
      spec: { controller: cls?.spec?.controller ?? "ingress.k8s.aws/alb", parameters: { apiGroup: "elbv2.k8s.aws", kind: "IngressClassParams", name: "alb" } },
    });
    const { secretArn } = await demoSecret(sandbox);
    const request = sandbox.request(secretArn) as { ingress: Record<string, unknown> };
    request.ingress.scheme = PARAMS_SCHEME.request;
    ctx.say(
      `The platform team set spec.scheme: ${PARAMS_SCHEME.params} in IngressClassParams alb, which IngressClass alb references: the controller makes every ALB of the class ${PARAMS_SCHEME.params}, whatever an Ingress's ${A}scheme says`,
    );
    ctx.say(`The request asks for ingress.scheme ${PARAMS_SCHEME.request}: Milvus clients outside the VPC would never reach an ${PARAMS_SCHEME.params} ALB`);
    return [
      await observedRun(sandbox, ctx, "deployment against the class's parameters", request, async () => ({
        ingressClassParams: sandbox.kube.get<{ spec?: unknown }>("IngressClassParams.elbv2.k8s.aws", undefined, "alb")?.spec,
        albsBuilt: sandbox.alb.listeners().length,
      })),
    ];
  },
};

/** The annotation the Milvus Service carries, as a chart value copied from an HTTP service's might put it there. */
export const SERVICE_ANNOTATION = { key: `${A}backend-protocol-version`, value: "HTTP1" } as const;

export const serviceAnnotationOverride: Scenario = {
  name: "service-annotation-override",
  summary: `the Milvus Service carries ${SERVICE_ANNOTATION.key}: ${SERVICE_ANNOTATION.value}, which the controller applies over the Ingress's GRPC: refused before any write, naming the annotation, why it breaks gRPC, and how to remove it`,
  async run(sandbox, ctx) {
    const service = sandbox.kube.get<{ metadata: { annotations?: Record<string, string> } }>("Service", DEMO_TARGET.namespace, DEMO_TARGET.service);
    if (!service) throw new Error(`Service ${DEMO_TARGET.namespace}/${DEMO_TARGET.service} is not seeded`);
    sandbox.kube.put({
      ...service,
      metadata: { ...service.metadata, annotations: { ...service.metadata.annotations, [SERVICE_ANNOTATION.key]: SERVICE_ANNOTATION.value } },
    });
    const { secretArn } = await demoSecret(sandbox);
    ctx.say(
      `Service ${DEMO_TARGET.namespace}/${DEMO_TARGET.service} carries ${SERVICE_ANNOTATION.key}: ${SERVICE_ANNOTATION.value} (service.annotations in the Helm values); the controller builds the target group from the Service's annotations over the Ingress's`,
    );
    return [
      await observedRun(sandbox, ctx, "deployment of an annotated Service", sandbox.request(secretArn), async () => ({
        serviceAnnotation: `${SERVICE_ANNOTATION.key}: ${
          sandbox.kube.get<{ metadata: { annotations?: Record<string, string> } }>("Service", DEMO_TARGET.namespace, DEMO_TARGET.service)?.metadata.annotations?.[
            SERVICE_ANNOTATION.key
          ]
        }`,
        albsBuilt: sandbox.alb.listeners().length,
      })),
    ];
  },
};
