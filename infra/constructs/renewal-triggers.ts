// Renewal triggers: EventBridge rules on the default event bus that start the workflow with
// the event itself as the execution input; resolve-request recognises the event and plans the renewal from the
// deployments registry. The patterns are functions/lib/event-patterns.ts's, the ones resolve-request and the
// tests use:
//   - acmExpiringPattern(): ACM "Certificate Approaching Expiration", daily from 45 days out, for every
//     certificate of the account and region (resolve-request ends cleanly for ones no deployment uses);
//   - s3CertificateObjectPatterns(certificateBuckets): S3 "Object Created" under the configured prefixes, one
//     pattern — and so one rule — per bucket. S3 sends these only from buckets with "Send notifications to
//     Amazon EventBridge" turned on.
// One role for all the rules' targets: EventBridge assumes it to call states:StartExecution on this state
// machine, and it may do nothing else.
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as sfn from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import {
  type CertificatePrefix,
  type EventPattern,
  acmExpiringPattern,
  s3CertificateObjectPatterns,
  toCdkEventPattern,
} from "../../functions/lib/event-patterns";

export interface RenewalTriggersProps {
  stateMachine: sfn.IStateMachine;
  certificateBuckets: readonly CertificatePrefix[];
}

export interface RenewalRule {
  rule: events.Rule;
  /** The shared pattern the rule was made from (EventBridge JSON form). */
  pattern: EventPattern;
}

export class RenewalTriggers extends Construct {
  readonly role: iam.Role;
  readonly acmRule: RenewalRule;
  readonly s3Rules: RenewalRule[];

  constructor(scope: Construct, id: string, props: RenewalTriggersProps) {
    super(scope, id);

    this.role = new iam.Role(this, "StartExecutionRole", {
      assumedBy: new iam.ServicePrincipal("events.amazonaws.com"),
      description: "milvus-l7 renewal rules: start the workflow (states:StartExecution on its state machine only)",
    });
    // The target adds states:StartExecution on the state machine's ARN to this role, and nothing else.
    const target = new targets.SfnStateMachine(props.stateMachine, { role: this.role });

    const rule = (ruleId: string, description: string, pattern: EventPattern): RenewalRule => {
      const r = new events.Rule(this, ruleId, { description, eventPattern: toCdkEventPattern(pattern) });
      // No `input`: the whole event is the execution input, which is what resolve-request classifies.
      r.addTarget(target);
      return { rule: r, pattern };
    };

    this.acmRule = rule(
      "AcmApproachingExpiration",
      "milvus-l7: an ACM certificate approaches expiration; renew the deployments that use it",
      acmExpiringPattern(),
    );
    this.s3Rules = s3CertificateObjectPatterns(props.certificateBuckets).map((pattern) => {
      const bucket = String((pattern.detail as { bucket: { name: string[] } }).bucket.name[0]);
      return rule(`S3CertificateObjects-${bucket}`, `milvus-l7: a PEM was written under a certificate location in s3://${bucket}`, pattern);
    });
  }
}
