import {
  CST,
  type DocumentOptions,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type ParseOptions,
  Parser,
  parseDocument,
  type SchemaOptions,
  type ToJSOptions,
} from 'yaml'

/** Thrown by {@link parseBoundedYaml} when collections nest deeper than allowed. */
export class YamlTooDeepError extends Error {
  constructor(readonly maxDepth: number) {
    super(`nested deeper than ${maxDepth} levels`)
    this.name = 'YamlTooDeepError'
  }
}

/** Options passed through to `yaml`'s `parse`. */
export type BoundedYamlOptions = ParseOptions & DocumentOptions & SchemaOptions & ToJSOptions

/** Walks the syntax tree without recursion: true when a collection sits deeper than `maxDepth`. */
function nestsDeeper(tokens: readonly CST.Token[], maxDepth: number): boolean {
  const stack: Array<[unknown, number]> = tokens.map((t) => [t, 0])
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!
    if (Array.isArray(node)) {
      for (const child of node) stack.push([child, depth])
      continue
    }
    const d = CST.isCollection(node as CST.Token) ? depth + 1 : depth
    if (d > maxDepth) return true
    // Every object below a token (items, keys, values, props) is part of the tree.
    for (const child of Object.values(node as object))
      if (child !== null && typeof child === 'object') stack.push([child, d])
  }
  return false
}

/**
 * `yaml`'s `parse`, after checking on its syntax tree that no collection (flow or block) nests
 * deeper than `maxDepth`.
 *
 * Why not parse first and measure the value: `yaml` composes nodes by recursion, and YAML nested
 * ~1,500-1,900 levels deep (`[[[[…`, under 2 KB) brings the JS stack to its limit there. When the
 * regexp `yaml` folds the innermost scalar with (`/(.*?)\r?\n/sy`) is compiled at that point (V8
 * compiles it again whenever a garbage collection dropped its code), V8's regexp compiler finds
 * the stack exhausted and aborts the whole process ("RegExpCompiler Allocation failed - process
 * out of memory") instead of throwing a RangeError. `yaml`'s lexer and parser (2.x) use no regexp
 * and no recursion for flow collections; where they recurse (closing deeply nested blocks) they
 * can only throw RangeError, which is reported as the same nesting error.
 * @throws YamlTooDeepError when nested deeper than `maxDepth`
 * @throws what `yaml`'s `parse` throws for invalid YAML
 * @example
 * parseBoundedYaml('a: [1, 2]', 64) // { a: [1, 2] }
 */
export function parseBoundedYaml(text: string, maxDepth: number, options: BoundedYamlOptions = {}): unknown {
  let tokens: CST.Token[]
  try {
    tokens = Array.from(new Parser().parse(text))
  } catch (err) {
    if (err instanceof RangeError) throw new YamlTooDeepError(maxDepth)
    throw err
  }
  if (nestsDeeper(tokens, maxDepth)) throw new YamlTooDeepError(maxDepth)
  // yaml's own duplicate-key check compares every pair of keys of a map: a 264 KB body of 25,000
  // keys held the event loop for 14 s. This one is linear: a Set per map.
  const doc = parseDocument(text, { ...options, uniqueKeys: false })
  if (doc.errors.length > 0) throw doc.errors[0]
  const duplicate = firstDuplicateKey(doc.contents)
  if (duplicate !== undefined)
    throw new Error(`map keys must be unique; '${duplicate.slice(0, 64)}' is repeated`)
  return doc.toJS(options)
}

/** Walks the composed document without recursion; the first key repeated within one map. */
function firstDuplicateKey(root: unknown): string | undefined {
  const stack: unknown[] = [root]
  while (stack.length > 0) {
    const node = stack.pop()
    if (isMap(node)) {
      const seen = new Set<string>()
      for (const item of node.items) {
        if (!isPair(item)) continue
        const key = isScalar(item.key) ? String(item.key.value) : JSON.stringify(item.key)
        if (seen.has(key)) return key
        seen.add(key)
        stack.push(item.value)
      }
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push(item)
    }
  }
  return undefined
}
