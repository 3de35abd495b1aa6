// `apivideo-auth/testing`: the stand-in, an offline api.video, and webhook signing and delivery. A thin entry: its
// parts live in src/testing/, one concern a file (CONTRIBUTING.md's layout says which), and what it shares with
// the other add-ons in src/internal/.
export type { Fault } from './testing/faults.js'
export type { Credential } from './testing/credentials.js'
export type { StandInRequest, StandInCounts } from './testing/request-log.js'
export type { StandInOptions } from './testing/options.js'
export type { RateLimits } from './testing/rate-limits.js'
export type { StandIn } from './testing/stand-in.js'
export { createStandIn } from './testing/stand-in.js'
export { WEBHOOK_EVENTS } from './internal/webhook-events.js'
export type { StandInWebhook } from './testing/routes/webhooks.js'
export type { WebhookEventInit, DeliverOptions, DeliverWebhookOptions, WebhookDelivery } from './testing/delivery.js'
export { signWebhook, deliverWebhook } from './testing/delivery.js'
