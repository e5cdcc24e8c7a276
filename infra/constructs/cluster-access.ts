// Kubernetes access for the Kubernetes-facing Lambdas' role: IAM to find the cluster (eks:DescribeCluster on
// that one cluster) and, inside the cluster, an EKS access entry with AmazonEKSEditPolicy scoped to the Milvus
// namespace(s). Clusters still on the aws-auth ConfigMap get the equivalent command as a stack output.
//
// What AmazonEKSEditPolicy grants in a namespace (EKS User Guide, "Review access policy permissions"), against
// what the steps call:
//   apply-ingress       networking.k8s.io ingresses get + patch (server-side apply; create when new) — granted
//                       core services get                                                         — granted
//   get-ingress-status  networking.k8s.io ingresses get/list/watch                                — granted
//                       core events list                                                          — granted
//   patch-service       core services get + patch                                                 — granted
//   remove-ingress      networking.k8s.io ingresses get + delete (with a uid precondition)        — granted
//   apply-ingress's     core pods list (the readiness-gate advisory)                              — granted
//   preflight           networking.k8s.io ingressclasses get/list, IngressClassParams get, and
//                       ingresses list in all namespaces (IngressGroup peers): cluster-scoped     — not granted;
//                       each unreadable check is a warning in the run's summary, never a failure
//   diagnose-targets    elbv2.k8s.aws targetgroupbindings list (a CRD `edit` does not aggregate)  — not granted;
//                       it finds the target groups through ELB instead; core events list          — granted
// The Kubernetes `edit` ClusterRole used in the aws-auth alternative grants the same (it aggregates `view`).
//
// With kubernetesAccess=rbac the entry carries a Kubernetes group and no access policy at all: the Role that
// `milvus-l7 rbac` prints (functions/lib/kubernetes-access.ts, every verb tied to the step that sends it, the
// Operator's `milvuses` included) is then all the role may do in the cluster. EKS evaluates RBAC bound to an access
// entry's groups like any other subject (EKS User Guide, "Create access entries": kubernetesGroups).
import { Aws, CfnOutput, Fn, Stack } from "aws-cdk-lib";
import * as eks from "aws-cdk-lib/aws-eks";
import * as iam from "aws-cdk-lib/aws-iam";
import { Construct } from "constructs";
import { certificateReaderGroup } from "../../functions/lib/kubernetes-access";
import type { KubernetesAccess } from "../config";

/** The Kubernetes user name the aws-auth mapping gives the role (access entries use the role's session ARN). */
export const KUBERNETES_USERNAME = "milvus-l7";

export interface ClusterAccessProps {
  role: iam.Role;
  clusterName: string;
  namespaces: string[];
  /** False for clusters whose authentication mode is CONFIG_MAP (access entries need API or API_AND_CONFIG_MAP). */
  createAccessEntry: boolean;
  /** `edit-policy` (AmazonEKSEditPolicy in the namespaces) or `rbac` (the group only; default edit-policy). */
  kubernetesAccess?: KubernetesAccess;
  /** The Kubernetes group the rbac mode's access entry and aws-auth mapping give the role. */
  kubernetesGroup?: string;
  /**
   * import-certificate's own role, which reads a cert-manager Secret when a request names one: its access entry has
   * only the certificate readers' group and no access policy, so it reads nothing until a Secret Role is bound to
   * that group (`milvus-l7 rbac --secret NS/NAME`), and the Kubernetes-facing role never reads Secrets through it.
   */
  certificateReaderRole?: iam.Role;
}

export class ClusterAccess extends Construct {
  readonly clusterArn: string;
  readonly accessEntry?: eks.CfnAccessEntry;
  /** The shell command that grants the same access on a cluster using the aws-auth ConfigMap. */
  readonly awsAuthCommand: string;

  constructor(scope: Construct, id: string, props: ClusterAccessProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.clusterArn = stack.formatArn({ service: "eks", resource: "cluster", resourceName: props.clusterName });
    props.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: "DescribeMilvusCluster",
        actions: ["eks:DescribeCluster"],
        resources: [this.clusterArn],
      }),
    );

    const rbac = props.kubernetesAccess === "rbac";
    const group = props.kubernetesGroup ?? KUBERNETES_USERNAME;
    // What the cluster's owner runs once in rbac mode: the least-privilege Role, bound to the entry's group.
    const rbacCommand = `npx milvus-l7 rbac ${props.namespaces.map((ns) => `--namespace ${ns}`).join(" ")} --group ${group} | kubectl apply -f -`;
    if (props.createAccessEntry) {
      this.accessEntry = new eks.CfnAccessEntry(this, "AccessEntry", {
        clusterName: props.clusterName,
        principalArn: props.role.roleArn,
        type: "STANDARD",
        ...(rbac
          ? { kubernetesGroups: [group] }
          : {
              accessPolicies: [
                {
                  policyArn: `arn:${Aws.PARTITION}:eks::aws:cluster-access-policy/AmazonEKSEditPolicy`,
                  accessScope: { type: "namespace", namespaces: props.namespaces },
                },
              ],
            }),
      });
    }

    const readers = certificateReaderGroup(group);
    if (props.createAccessEntry && props.certificateReaderRole) {
      new eks.CfnAccessEntry(this, "CertificateReaderAccessEntry", {
        clusterName: props.clusterName,
        principalArn: props.certificateReaderRole.roleArn,
        type: "STANDARD",
        kubernetesGroups: [readers],
      });
    }

    // eksctl maps the role to a user in aws-auth; a RoleBinding per namespace then gives that user the
    // built-in `edit` ClusterRole there — the ConfigMap equivalent of the namespace-scoped access entry. In rbac
    // mode the mapping adds the group instead, and the printed Role is bound to it.
    const bindings = rbac
      ? [rbacCommand]
      : props.namespaces.map((ns) => `kubectl create rolebinding milvus-l7-edit --clusterrole=edit --user=${KUBERNETES_USERNAME} --namespace=${ns}`);
    this.awsAuthCommand = Fn.join("", [
      `eksctl create iamidentitymapping --cluster ${props.clusterName} --region `,
      Aws.REGION,
      " --arn ",
      props.role.roleArn,
      ` --username ${KUBERNETES_USERNAME}${rbac ? ` --group ${group}` : ""} && `,
      bindings.join(" && "),
      ...(props.certificateReaderRole
        ? [` && eksctl create iamidentitymapping --cluster ${props.clusterName} --region `, Aws.REGION, " --arn ", props.certificateReaderRole.roleArn, ` --username ${readers} --group ${readers}`]
        : []),
    ]);
    if (rbac) {
      new CfnOutput(stack, "KubernetesRbacCommand", {
        description: `Run this once (kubectl pointed at the cluster): applies the least-privilege Role and RoleBinding for the Kubernetes group ${group} in the Milvus namespace(s)`,
        value: rbacCommand,
      });
    }

    new CfnOutput(stack, "KubernetesRoleArn", {
      description:
        "IAM role of the Kubernetes-facing Lambdas (apply-ingress, get-ingress-status, patch-service, remove-ingress, diagnose-targets): the principal to grant cluster access",
      value: props.role.roleArn,
    });
    new CfnOutput(stack, "AwsAuthCommand", {
      description: props.createAccessEntry
        ? `Only for clusters on the aws-auth ConfigMap (this stack also created an EKS access entry): grants the same ${rbac ? "group-based" : "namespace-scoped"} access`
        : rbac
          ? "Run this once (kubectl pointed at the cluster): maps the Lambdas' role in aws-auth to the Kubernetes group and applies the least-privilege Role for it"
          : "Run this once (kubectl pointed at the cluster): maps the Lambdas' role in aws-auth and binds it to the edit ClusterRole in the Milvus namespace(s)",
      value: this.awsAuthCommand,
    });
  }
}
