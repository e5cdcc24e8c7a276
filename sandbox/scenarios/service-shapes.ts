// Milvus Services as clusters really hold them. A cutover must be one a real apiserver accepts for each shape:
// here the older way to restrict a load balancer's sources, the service.beta.kubernetes.io/load-balancer-source-ranges
// annotation, which the apiserver refuses on a ClusterIP Service just like the field.
import { loadMilvusDemoService } from "../kube";
import { DEMO_TARGET, type Scenario, demoSecret, observedRun } from "./scenario";

const SOURCE_RANGES_ANNOTATION = "service.beta.kubernetes.io/load-balancer-source-ranges";
const OFFICE_RANGES = "10.0.0.0/8,192.168.0.0/16";

export const sourceRangesAnnotation: Scenario = {
  name: "source-ranges-annotation",
  summary:
    "a Milvus Service restricted by the load-balancer-source-ranges annotation instead of the field: the cutover clears it too (the apiserver refuses it on a ClusterIP Service) and warns that the ALB does not inherit the restriction",
  async run(sandbox, ctx) {
    const chart = loadMilvusDemoService() as unknown as { metadata: { annotations?: Record<string, string> }; spec: Record<string, unknown> };
    const { loadBalancerSourceRanges: _field, ...spec } = chart.spec;
    sandbox.kube.put({ ...chart, metadata: { ...chart.metadata, annotations: { ...chart.metadata.annotations, [SOURCE_RANGES_ANNOTATION]: OFFICE_RANGES } }, spec });
    ctx.say(`Service ${DEMO_TARGET.namespace}/${DEMO_TARGET.service} admits only ${OFFICE_RANGES}, by the annotation ${SOURCE_RANGES_ANNOTATION}`);
    const { secretArn } = await demoSecret(sandbox);
    const deployed = await observedRun(sandbox, ctx, "deployment", sandbox.request(secretArn), async () => {
      const service = sandbox.kube.get<{ metadata?: { annotations?: Record<string, string> } }>("Service", DEMO_TARGET.namespace, DEMO_TARGET.service);
      return { sourceRangesAnnotationAfter: service?.metadata?.annotations?.[SOURCE_RANGES_ANNOTATION] ?? null };
    });
    return [deployed];
  },
};
