// The stand-in: apivideo-auth/testing exports everything 1.0 exported, and none of the parts it is built from.
import { createRequire } from 'node:module'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { publicDeclarations } from '../../scripts/api-report.mjs'

const exports = suite('stand-in: the exports of apivideo-auth/testing')

/** What 1.0 exported at run time, and its types. */
const VALUES = ['WEBHOOK_EVENTS', 'createStandIn', 'deliverWebhook', 'signWebhook']
const TYPES = [
  'Credential',
  'DeliverOptions',
  'DeliverWebhookOptions',
  'Fault',
  'StandIn',
  'StandInCounts',
  'StandInOptions',
  'StandInRequest',
  'StandInWebhook',
  'WebhookDelivery',
  'WebhookEventInit',
]

exports('every 1.0 export is still exported, by ESM and CJS, and declared in its .d.ts', async () => {
  for (const name of VALUES) {
    assert.ok(name in (await import('apivideo-auth/testing')), `ESM: ${name}`)
    assert.ok(name in createRequire(import.meta.url)('apivideo-auth/testing'), `CJS: ${name}`)
  }
  const declarations = publicDeclarations(new URL('../../dist/testing.d.ts', import.meta.url).pathname)
  for (const name of [...VALUES, ...TYPES]) {
    const declared = new RegExp(`^export (?:declare )?(?:function|const|interface|type) ${name}\\b`, 'm')
    assert.match(declarations, declared, name)
  }
})

exports("the stand-in's parts and the add-ons' shared helpers are not importable from the package", async () => {
  for (const path of ['apivideo-auth/testing/stand-in.js', 'apivideo-auth/internal/errors.js']) {
    const error = await import(path).then(
      () => undefined,
      (thrown) => thrown,
    )
    assert.is(error?.code, 'ERR_PACKAGE_PATH_NOT_EXPORTED', path)
  }
})

exports.run()
