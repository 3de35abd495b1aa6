// docs/testing.md documents every field of the stand-in's types: each interface the built dist/testing.d.ts
// exports (declared there or in the parts it re-exports from, as the API report reads them) has a list in the doc,
// after a `<!-- fields: Name -->` marker, that names exactly its members.
import { readFileSync } from 'node:fs'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { publicDeclarations } from '../../scripts/api-report.mjs'

const read = (path) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')

/** Each exported interface of a .d.ts and its own members' names, in order (not those it extends). */
export function interfaces(dts) {
  const found = new Map()
  for (const [, name, body] of dts.matchAll(/^export interface (\w+)(?: extends [\w, ]+)? \{\n([\s\S]*?)^\}/gm)) {
    const members = [...body.matchAll(/^ {4}(?:readonly )?(\w+)\??[(:]/gm)].map((m) => m[1])
    found.set(name, members)
  }
  return found
}

/**
 * Each `<!-- fields: Name -->` list of a Markdown text: the names in the first column of the table, or at the head of
 * the list items, that follow the marker (`standIn.fetch(input)` names `fetch`).
 */
export function documented(markdown) {
  const found = new Map()
  for (const [, name, block] of markdown.matchAll(/<!-- fields: (\w+) -->\n((?: *[|-].*\n)+)/g)) {
    const names = block
      .split('\n')
      .map((line) => /^(?:\| |- )`(?:standIn\.)?(\w+)/.exec(line)?.[1])
      .filter(Boolean)
    found.set(name, names)
  }
  return found
}

const fields = suite('docs/testing.md documents the stand-in types')

fields('every exported interface has a field list, naming exactly its members', () => {
  const types = interfaces(publicDeclarations(new URL('../../dist/testing.d.ts', import.meta.url).pathname))
  const docs = documented(read('docs/testing.md'))
  assert.ok(types.size >= 4, `interfaces found: ${[...types.keys()]}`)
  for (const [name, members] of types) {
    assert.ok(docs.has(name), `docs/testing.md has no "<!-- fields: ${name} -->" list`)
    assert.equal([...docs.get(name)].sort(), [...members].sort(), `the fields of ${name}`)
  }
  assert.equal(
    [...docs.keys()].filter((name) => !types.has(name)),
    [],
    'lists of types that do not exist',
  )
})

fields('the check reads both sides: a member missing from a list, or one too many, is caught', () => {
  const dts =
    'export interface A {\n    /** x */\n    one: string;\n    readonly two?: number;\n    three(): void;\n}\n'
  assert.equal([...interfaces(dts)], [['A', ['one', 'two', 'three']]])
  const markdown =
    '<!-- fields: A -->\n| field | what |\n|---|---|\n| `one` | x |\n| `two` | y |\n\n- `standIn.three()`'
  assert.equal([...documented(markdown)], [['A', ['one', 'two']]])
  const list = '<!-- fields: B -->\n- `standIn.fetch(input)`: a fetch\n- `standIn.requests`: the log\n\nprose'
  assert.equal([...documented(list)], [['B', ['fetch', 'requests']]])
})

fields("the doc's servers of the stand-in listen on 127.0.0.1, never on every interface", () => {
  const text = read('docs/testing.md')
  const servers = [...text.matchAll(/(?:Deno\.serve|Bun\.serve)\([^`\n]*/g)].map((m) => m[0])
  assert.ok(servers.length >= 2, 'the doc shows how to serve the stand-in with Deno and Bun')
  for (const server of servers) assert.match(server, /hostname: '127\.0\.0\.1'/, server)
})

fields.run()
