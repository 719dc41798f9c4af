/** The GitHub emulator's public surface: the emulator, its types and JSON shapes, and the helpers tests use beside it. */
export { GitHubEmulator } from "./emulator.js";
export type { IdTokenRequest, WorkflowDispatch, WorkflowDispatchListener, WorkflowRunConclusion, WorkflowRunStatus, WorkflowRunSummary } from "./actions.js";
export type { ActionsIdTokenClaims, ActionsOidcIssuer, IssuedIdToken, MintOptions } from "./oidc.js";
export { loopbackFetch } from "./loopback-fetch.js";
export { manifestProblems } from "./manifest.js";
export type { UserState as EmulatorUser } from "./store.js";
export type * from "./types.js";
export type * from "./json.js";
export { probotReceiver } from "./webhooks.js";
export type { DeliveryAction, DeliveryEvent, DeliveryInputs, SigningWebhooks, StatusDeliveryInput, WebhookDelivery, WebhookReceiver } from "./webhooks.js";
