// Finds every `import` / `require` in a JavaScript or TypeScript text, two ways: a regex over the code with its
// comments and string contents blanked (so a JSDoc example or an error message naming a module is not an import),
// and esbuild's own parser, which sees each import record a bundler would follow.
import { build } from 'esbuild'

/** Each `import` statement, `import type`, `import()`, `export … from` and `require()`, matched in `codeOnly`. */
const IMPORT_PATTERNS = [/\bimport\b(?!\s*\.\s*meta\b)/g, /\brequire\s*\(/g, /\bfrom\s*['"]/g]

/** Words after which a `/` starts a regex literal rather than a division. */
const BEFORE_REGEX_WORDS = new Set([
  'return',
  'typeof',
  'case',
  'do',
  'else',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'instanceof',
  'yield',
  'await',
])
const BEFORE_REGEX_PUNCTUATION = '(,=:[!&|?{};+-*%<>~^'

/** Keeps the newlines (so line numbers survive) and blanks everything else. */
const blank = (text) => text.replace(/[^\n]/g, ' ')

/**
 * The text with comments, string and template contents and regex literals blanked; quotes stay, so
 * `import x from './x.js'` still reads `import x from '      '`. `${…}` inside a template stays code.
 * @example
 * codeOnly("const a = 'import(x)' // require('y')") // "const a = '         '               "
 */
export function codeOnly(text) {
  let out = ''
  let at = 0
  let last = '' // the last significant token: decides whether a `/` starts a regex literal
  let depth = 0 // brace depth in code
  const templateDepths = [] // the brace depth at which each open `${` returns to its template

  /** Scans template text from `at` (just after a backtick or a closing `}`) to its end or to the next `${`. */
  function template() {
    let i = at
    const opensExpression = (index) => text[index] === '$' && text[index + 1] === '{'
    while (i < text.length && text[i] !== '`' && !opensExpression(i)) i += text[i] === '\\' ? 2 : 1
    out += blank(text.slice(at, i))
    if (text[i] === '`') {
      out += '`'
      at = i + 1
      last = 'operand'
    } else {
      out += '${'
      at = i + 2
      templateDepths.push(depth)
      depth++
      last = '{'
    }
  }

  while (at < text.length) {
    const char = text[at]
    const next = text[at + 1]
    if (char === '/' && next === '/') {
      const end = text.indexOf('\n', at)
      const stop = end < 0 ? text.length : end
      out += blank(text.slice(at, stop))
      at = stop
    } else if (char === '/' && next === '*') {
      const end = text.indexOf('*/', at + 2)
      const stop = end < 0 ? text.length : end + 2
      out += blank(text.slice(at, stop))
      at = stop
    } else if (char === "'" || char === '"') {
      let i = at + 1
      while (i < text.length && text[i] !== char && text[i] !== '\n') i += text[i] === '\\' ? 2 : 1
      out += char + blank(text.slice(at + 1, i)) + (text[i] === char ? char : '')
      at = text[i] === char ? i + 1 : i
      last = 'operand'
    } else if (char === '`') {
      out += '`'
      at++
      template()
    } else if (char === '}' && templateDepths.length && depth - 1 === templateDepths.at(-1)) {
      templateDepths.pop()
      depth--
      out += '}'
      at++
      template()
    } else if (char === '/' && (!last || BEFORE_REGEX_PUNCTUATION.includes(last) || BEFORE_REGEX_WORDS.has(last))) {
      let i = at + 1
      let inClass = false
      while (i < text.length && text[i] !== '\n' && (inClass || text[i] !== '/')) {
        if (text[i] === '\\') i++
        else if (text[i] === '[') inClass = true
        else if (text[i] === ']') inClass = false
        i++
      }
      out += '/' + blank(text.slice(at + 1, i)) + (text[i] === '/' ? '/' : '')
      at = text[i] === '/' ? i + 1 : i
      last = 'operand'
    } else if (/[\w$]/.test(char)) {
      const word = /^[\w$]+/.exec(text.slice(at, at + 200))[0]
      out += word
      at += word.length
      last = word
    } else {
      if (char === '{') depth++
      if (char === '}') depth--
      if (!/\s/.test(char)) last = char
      out += char
      at++
    }
  }
  return out
}

/**
 * Every import found by the regex over `codeOnly(text)`, as `line N: <the line>`.
 * @example
 * importsByRegex("import { x } from './x.js'\n") // ["line 1: import { x } from './x.js'"]
 */
export function importsByRegex(text) {
  const code = codeOnly(text)
  const lines = text.split('\n')
  const found = new Set()
  for (const pattern of IMPORT_PATTERNS) {
    for (const match of code.matchAll(pattern)) {
      const line = code.slice(0, match.index).split('\n').length
      found.add(`line ${line}: ${lines[line - 1].trim().slice(0, 100)}`)
    }
  }
  return [...found].sort((a, b) => parseInt(a.slice(5)) - parseInt(b.slice(5)))
}

/**
 * Every module specifier esbuild would resolve while bundling the text (static, dynamic, `require`), as
 * `<kind> <path>`; none is followed. TypeScript's `import type` is erased before this, hence the regex as well.
 * @example
 * await importsByEsbuild("export * from 'node:fs'", 'js') // ['import-statement node:fs']
 */
export async function importsByEsbuild(text, loader) {
  const found = []
  const recordEveryImport = {
    name: 'record-every-import',
    setup(b) {
      b.onResolve({ filter: /.*/ }, ({ path, kind }) => {
        if (kind === 'entry-point') return undefined
        found.push(`${kind} ${path}`)
        return { path, external: true }
      })
    },
  }
  const stdin = { contents: text, loader }
  const plugins = [recordEveryImport]
  await build({ stdin, plugins, bundle: true, format: 'esm', platform: 'neutral', write: false, logLevel: 'silent' })
  return found
}
