// aws-local-stepfunctions uses Promise.withResolvers (Node 22+). On Node 20 every Task state would fail with a
// TypeError that a Catch then hides, so polyfill it for the test process (the CLI does the same).
import "../statemachine/polyfills";
