// The two controllers the simulator can be: the self-managed AWS Load Balancer Controller installed by its Helm
// chart, or EKS Auto Mode's load balancing capability. What differs, and where each difference comes from:
// - controller name: `ingress.k8s.aws/alb` (LBC v3.5.0 pkg/ingress/class_loader.go) or `eks.amazonaws.com/alb`
//   and IngressClassParams in `eks.amazonaws.com/v1` (EKS User Guide, "Create an IngressClass to configure an
//   Application Load Balancer", awsdocs/amazon-eks-user-guide latest/ug/automode/auto-configure-alb.adoc);
// - the `kubernetes.io/ingress.class` annotation and the `group.name` annotation: honoured by LBC (chart value
//   ingressClass: alb), "Not supported" in Auto Mode (same page; guess: ignored rather than refused);
// - default target type: `instance` for LBC (pkg/config/ingress_config.go default), IP mode in Auto Mode (EKS
//   User Guide, "Learn about VPC Networking and Load Balancing in EKS Auto Mode", load balancing considerations);
// - what is installed: the chart's IngressClass `alb` (createIngressClassResource: true) and webhooks (LBC
//   helm/aws-load-balancer-controller templates/ingressclass.yaml, webhook.yaml); Auto Mode installs neither, users
//   create their IngressClass and IngressClassParams.
import type { AlbControllerOptions } from "./api";
import { AUTO_MODE_CONTROLLER, SELF_MANAGED_CONTROLLER } from "./classes";

export interface ControllerProfile {
  controllerName: string;
  /** The `kubernetes.io/ingress.class` value the controller matches; undefined when the annotation is ignored. */
  annotationClass?: string;
  /** Whether the `alb.ingress.kubernetes.io/group.name` annotation makes groups. */
  groupAnnotation: boolean;
  defaultTargetType: "ip" | "instance";
  /** Install the chart's IngressClassParams and IngressClass `alb`. */
  installIngressClass: boolean;
  /** Run the validating webhook and register its ValidatingWebhookConfiguration. */
  webhook: boolean;
}

export function profileOf(opts: Pick<AlbControllerOptions, "mode" | "webhook">): ControllerProfile {
  if (opts.mode === "auto") {
    return {
      controllerName: AUTO_MODE_CONTROLLER,
      annotationClass: undefined,
      groupAnnotation: false,
      defaultTargetType: "ip",
      installIngressClass: false,
      webhook: false,
    };
  }
  return {
    controllerName: SELF_MANAGED_CONTROLLER,
    annotationClass: "alb",
    groupAnnotation: true,
    defaultTargetType: "instance",
    installIngressClass: true,
    webhook: opts.webhook ?? true,
  };
}
