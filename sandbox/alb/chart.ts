// What `helm install aws-load-balancer-controller` puts into the cluster besides the controller, created through
// the Kubernetes API: LBC v3.5.0 helm/aws-load-balancer-controller/templates/ingressclass.yaml (an
// IngressClassParams named like the class, with the chart's empty spec, then the IngressClass `alb` with controller
// `ingress.k8s.aws/alb` and no parameters, because the spec is empty) and templates/webhook.yaml (webhook.ts). An
// object that already exists is left as it is (a re-install), and a resource the apiserver does not serve is
// skipped with a log line (a stand-in without that API).
import { AdmissionregistrationV1Api, ApiException, type CustomObjectsApi, type KubeConfig, type NetworkingV1Api } from "@kubernetes/client-node";
import { PARAMS_APIS } from "./classes";
import { errorText } from "./errors";
import { type WebhookServer, webhookConfiguration } from "./webhook";

/** The chart's common labels (templates/_helpers.tpl labels and selectorLabels, release name as in the EKS docs). */
export const CHART_LABELS = {
  "app.kubernetes.io/name": "aws-load-balancer-controller",
  "app.kubernetes.io/instance": "aws-load-balancer-controller",
  "app.kubernetes.io/managed-by": "Helm",
  "app.kubernetes.io/version": "v3.5.0",
  "helm.sh/chart": "aws-load-balancer-controller-3.5.0",
};

async function createIgnoringExisting(what: string, create: () => Promise<unknown>, log: (m: string) => void): Promise<void> {
  try {
    await create();
  } catch (e) {
    if (e instanceof ApiException && e.code === 409) return;
    if (e instanceof ApiException && e.code === 404) {
      log(`chart: ${what} not served: ${errorText(e)}`);
      return;
    }
    throw e;
  }
}

export async function installIngressClass(
  networking: NetworkingV1Api,
  custom: CustomObjectsApi,
  log: (m: string) => void,
): Promise<void> {
  const { group, version, plural } = PARAMS_APIS.selfManaged;
  await createIgnoringExisting(
    "IngressClassParams",
    () =>
      custom.createClusterCustomObject({
        group,
        version,
        plural,
        body: { apiVersion: `${group}/${version}`, kind: "IngressClassParams", metadata: { name: "alb", labels: CHART_LABELS } },
      }),
    log,
  );
  await createIgnoringExisting(
    "IngressClass",
    () =>
      networking.createIngressClass({
        body: {
          apiVersion: "networking.k8s.io/v1",
          kind: "IngressClass",
          metadata: { name: "alb", labels: CHART_LABELS },
          spec: { controller: "ingress.k8s.aws/alb" },
        },
      }),
    log,
  );
}

/** Registers (or, on a restart, replaces) the ValidatingWebhookConfiguration pointing at `server`. */
export async function registerWebhook(kc: KubeConfig, server: WebhookServer, log: (m: string) => void): Promise<void> {
  const api = kc.makeApiClient(AdmissionregistrationV1Api);
  const body = webhookConfiguration(server, CHART_LABELS);
  const name = (body.metadata as { name: string }).name;
  try {
    await api.createValidatingWebhookConfiguration({ body });
  } catch (e) {
    if (e instanceof ApiException && e.code === 409) {
      const current = await api.readValidatingWebhookConfiguration({ name });
      await api.replaceValidatingWebhookConfiguration({
        name,
        body: { ...body, metadata: { ...(body.metadata as object), resourceVersion: current.metadata?.resourceVersion } },
      });
      return;
    }
    if (e instanceof ApiException && e.code === 404) {
      log(`chart: ValidatingWebhookConfiguration not served: ${errorText(e)}`);
      return;
    }
    throw e;
  }
}
