// asl-validator ships no type declarations.
declare module "asl-validator" {
  export default function aslValidator(definition: unknown): { isValid: boolean; errors: { message?: string }[] };
}
