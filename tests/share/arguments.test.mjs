// apivideo-auth/share: its arguments.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { shareTokens } from '../../dist/share.js'
import { clock } from '../helpers/index.mjs'
import { context, memoryStore } from '../helpers/share.mjs'

const args = suite('share: arguments')

args('a bad store, key or option: a TypeError naming it, and the store is not called', () => {
  const log = []
  const store = memoryStore(clock(), log)
  const bad = [
    [[null], /^store must/],
    [[{}], /^store must/],
    [['redis://localhost'], /^store must/],
    [[{ get: store.get }], /^store must/],
    [[{ get: store.get, set: 1 }], /^store must/],
    [[{ ...store, claim: true }], /^store\.claim must/],
    [[store, { key: '' }], /^key must/],
    [[store, { key: 42 }], /^key must/],
    [[store, { key: 'ns', namespace: 'x', storeKey: 'y' }], /^unknown option namespace$/],
    // Options that are not an object, such as a namespace passed by mistake in their place.
    [[store, 'my-app'], /^options must be an object$/],
    [[store, 42], /^options must be an object$/],
    [[store, () => {}], /^options must be an object$/],
  ]
  for (const [call, message] of bad) {
    try {
      shareTokens(...call)
      assert.unreachable(`accepted ${call.length}`)
    } catch (error) {
      assert.instance(error, TypeError)
      assert.match(error.message, message)
    }
  }
  assert.equal(log, [])
})

args(
  'no options, undefined options and an undefined key are all the default; a hook makes nothing happen by itself',
  async () => {
    const log = []
    const store = memoryStore(clock(), log)
    for (const hook of [shareTokens(store), shareTokens(store, undefined), shareTokens(store, { key: undefined })]) {
      const share = hook(context())
      assert.type(share.renew, 'function')
      assert.type(share.settled, 'function')
      await share.settled()
    }
    assert.equal(log, [])
  },
)

args.run()
