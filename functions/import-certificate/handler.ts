import { ACMClient } from "@aws-sdk/client-acm";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { type StepEvent, builtOnFirstCall, createHandler } from "../lib/handler";
import { type ImportCertificateDeps, type ImportCertificateInput, importCertificate } from "./core";

export const makeHandler = (deps: ImportCertificateDeps) =>
  createHandler("import-certificate", (event: ImportCertificateInput & StepEvent) => importCertificate(event, deps));

// Region and credentials come from the Lambda environment.
export const handler = builtOnFirstCall(() =>
  makeHandler({ acm: new ACMClient({}), secretsManager: new SecretsManagerClient({}), s3: new S3Client({}) }),
);
