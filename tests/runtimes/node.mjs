// Node entry, ESM: `node tests/runtimes/node.mjs <dist dir>` imports the built package
// and runs the suite over node:http.
import { pathToFileURL } from 'node:url'
import { serve } from '../helpers/index.mjs'
import { run } from './suite.mjs'

const dist = pathToFileURL(`${process.argv[2]}/`)
const lib = await import(new URL('index.js', dist))
const testing = await import(new URL('testing.js', dist))
const webhooks = await import(new URL('webhooks.js', dist))
process.exitCode = (await run({ lib, testing, webhooks, serve })) ? 1 : 0
