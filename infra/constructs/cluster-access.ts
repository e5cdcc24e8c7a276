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
import { Aws, CfnOutput, Fn, Stack } from "aws-cdk-lib";
import * as eks from "aws-cdk-lib/aws-eks";
import * as iam from "aws-cdk-lib/aws-iam";
import { Construct } from "constructs";

/** The Kubernetes user name the aws-auth mapping gives the role (access entries use the role's session ARN). */
export const KUBERNETES_USERNAME = "milvus-l7";

export interface ClusterAccessProps {
  role: iam.Role;
  clusterName: string;
  namespaces: string[];
  /** False for clusters whose authentication mode is CONFIG_MAP (access entries need API or API_AND_CONFIG_MAP). */
  createAccessEntry: boolean;
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

    if (props.createAccessEntry) {
      this.accessEntry = new eks.CfnAccessEntry(this, "AccessEntry", {
        clusterName: props.clusterName,
        principalArn: props.role.roleArn,
        type: "STANDARD",
        accessPolicies: [
          {
            policyArn: `arn:${Aws.PARTITION}:eks::aws:cluster-access-policy/AmazonEKSEditPolicy`,
            accessScope: { type: "namespace", namespaces: props.namespaces },
          },
        ],
      });
    }

    // eksctl maps the role to a user in aws-auth; a RoleBinding per namespace then gives that user the
    // built-in `edit` ClusterRole there — the ConfigMap equivalent of the namespace-scoped access entry.
    const bindings = props.namespaces.map(
      (ns) => `kubectl create rolebinding milvus-l7-edit --clusterrole=edit --user=${KUBERNETES_USERNAME} --namespace=${ns}`,
    );
    this.awsAuthCommand = Fn.join("", [
      `eksctl create iamidentitymapping --cluster ${props.clusterName} --region `,
      Aws.REGION,
      " --arn ",
      props.role.roleArn,
      ` --username ${KUBERNETES_USERNAME} && `,
      bindings.join(" && "),
    ]);

    new CfnOutput(stack, "KubernetesRoleArn", {
      description:
        "IAM role of the Kubernetes-facing Lambdas (apply-ingress, get-ingress-status, patch-service, remove-ingress, diagnose-targets): the principal to grant cluster access",
      value: props.role.roleArn,
    });
    new CfnOutput(stack, "AwsAuthCommand", {
      description: props.createAccessEntry
        ? "Only for clusters on the aws-auth ConfigMap (this stack also created an EKS access entry): grants the same namespace-scoped access"
        : "Run this once (kubectl pointed at the cluster): maps the Lambdas' role in aws-auth and binds it to the edit ClusterRole in the Milvus namespace(s)",
      value: this.awsAuthCommand,
    });
  }
}
